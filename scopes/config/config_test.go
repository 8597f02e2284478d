package config

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

func newEnv(root string, patterns ...string) *gitsnap.ScopeEnv {
	return &gitsnap.ScopeEnv{
		Root:     root,
		Config:   &gitsnap.Config{Config: gitsnap.PathsConfig{Paths: patterns}},
		Progress: gitsnap.NoProgress{},
	}
}

func TestConformance(t *testing.T) {
	scopetest.RunPaths(t, func(t *testing.T, root string) *scopetest.PathCase {
		return &scopetest.PathCase{
			Scope:   New(),
			Env:     newEnv(root, "config/**", ".env", "*.pem"),
			Inside:  []string{".env", "config/bin/start.sh", "config/current.toml", "config/app.toml", "config/empty", "server.pem"},
			Stray:   []string{"config/new/stray.toml", "other.pem"},
			Outside: []string{"src/app.go", "README.md", "certs/a.pem"},
		}
	})
}

func TestName(t *testing.T) {
	if got := New().Name(); got != "config" {
		t.Errorf("Name() = %q", got)
	}
}

// gitInit makes root a git repository with .env ignored, using the real
// git binary when there is one (the scope itself never asks git).
func gitInit(t *testing.T, root string) {
	t.Helper()
	scopetest.WriteFile(t, root, ".gitignore", ".env\n*.pem\n", 0o644)
	if _, err := exec.LookPath("git"); err != nil {
		return
	}
	cmd := exec.Command("git", "init", "-q")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
}

func TestIgnoredEnvKeepsMode(t *testing.T) {
	root := t.TempDir()
	gitInit(t, root)
	scopetest.WriteFile(t, root, ".env", "DATABASE_URL=postgres://u:p@h/db\n", 0o600)
	scopetest.Symlink(t, root, "config/passwd", "/etc/passwd")
	env := newEnv(root, ".env", "config/**")
	st := scopetest.NewStore(Name)
	if err := New().Capture(context.Background(), env, st); err != nil {
		t.Fatal(err)
	}
	want := scopetest.Listing(t, root)
	if err := os.Remove(filepath.Join(root, ".env")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "config/passwd")); err != nil {
		t.Fatal(err)
	}
	scopetest.WriteFile(t, root, "config/passwd", "not a link\n", 0o644)
	if err := New().Restore(context.Background(), env, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, ".env"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf(".env after restore: %v, %v; want mode 0600", fi, err)
	}
	target, err := os.Readlink(filepath.Join(root, "config/passwd"))
	if err != nil || target != "/etc/passwd" {
		t.Errorf("config/passwd after restore: link to %q, err %v; want link to /etc/passwd", target, err)
	}
	if got := scopetest.Listing(t, root); got != want {
		t.Errorf("tree after restore:\n%s\nwant:\n%s", got, want)
	}
}
