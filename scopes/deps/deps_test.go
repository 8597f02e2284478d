package deps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

func newEnv(root string, dc gitsnap.DependenciesConfig) *gitsnap.ScopeEnv {
	return &gitsnap.ScopeEnv{Root: root, Config: &gitsnap.Config{Dependencies: dc}, Progress: gitsnap.NoProgress{}}
}

func TestConformanceAutoDetect(t *testing.T) {
	scopetest.RunPaths(t, func(t *testing.T, root string) *scopetest.PathCase {
		return &scopetest.PathCase{
			Scope:   New(),
			Env:     newEnv(root, gitsnap.DependenciesConfig{}),
			Inside:  []string{"go.sum", "web/package-lock.json", "yarn.lock", "Cargo.lock", "api/requirements-dev.txt"},
			Stray:   []string{"poetry.lock", "svc/Gemfile.lock"},
			Outside: []string{"web/node_modules/x/package-lock.json", "deep/a/go.sum", "main.go"},
		}
	})
}

func TestConformanceConfigured(t *testing.T) {
	scopetest.RunPaths(t, func(t *testing.T, root string) *scopetest.PathCase {
		return &scopetest.PathCase{
			Scope:   New(),
			Env:     newEnv(root, gitsnap.DependenciesConfig{Lockfiles: []string{"locks/*.lock"}, Vendor: []string{"vendor"}}),
			Inside:  []string{"locks/a.lock", "vendor/tool/run.sh", "vendor/link", "vendor/modules.txt", "locks/empty.lock"},
			Stray:   []string{"vendor/new/pkg/x.go", "locks/b.lock"},
			Outside: []string{"go.sum", "locks/sub/c.lock", "package-lock.json"},
		}
	})
}

func TestAutoDetect(t *testing.T) {
	root := t.TempDir()
	files := []string{
		"go.sum", "go.mod", "main.go", "web/package-lock.json", "web/node_modules/x/package-lock.json",
		"requirements.txt", "requirements-dev.txt", "py/requirements.in", "a/b/Cargo.lock",
		"ios/Podfile.lock", "android/gradle.lockfile", "bun.lockb", "NOTES.lock",
	}
	for _, f := range files {
		scopetest.WriteFile(t, root, f, f+"\n", 0o644)
	}
	st := scopetest.NewStore(Name)
	if err := New().Capture(context.Background(), newEnv(root, gitsnap.DependenciesConfig{}), st); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range st.Artifacts() {
		got = append(got, a.Path)
	}
	want := []string{
		"android/gradle.lockfile", "bun.lockb", "go.mod", "go.sum", "ios/Podfile.lock",
		"requirements-dev.txt", "requirements.txt", "web/package-lock.json",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("auto-detected (-want +got):\n%s", diff)
	}
}

func TestConfiguredLockfilesReplaceAutoDetection(t *testing.T) {
	got := Patterns(&gitsnap.Config{Dependencies: gitsnap.DependenciesConfig{Lockfiles: []string{"deps.lock"}, Vendor: []string{"vendor/**"}}})
	if diff := cmp.Diff([]string{"deps.lock", "vendor/**"}, got); diff != "" {
		t.Errorf("patterns (-want +got):\n%s", diff)
	}
}

func countRuns(t *testing.T, root string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "install.log"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "ran\n")
}

func TestInstallRunsOnlyWhenChanged(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	env := newEnv(root, gitsnap.DependenciesConfig{Install: `echo ran >> install.log && test -f go.sum`})
	scopetest.WriteFile(t, root, "go.sum", "v1\n", 0o644)
	s := New()
	st := scopetest.NewStore(Name)
	if err := s.Capture(ctx, env, st); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, env, st); err != nil {
		t.Fatal(err)
	}
	if n := countRuns(t, root); n != 0 {
		t.Fatalf("install ran %d times for a restore that changed nothing", n)
	}
	p, err := s.Plan(ctx, env, st)
	if err != nil || len(p.Warnings) != 0 {
		t.Errorf("plan with nothing to do: warnings %q, err %v", p.Warnings, err)
	}

	scopetest.WriteFile(t, root, "go.sum", "v2\n", 0o644)
	p, err = s.Plan(ctx, env, st)
	if err != nil || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "echo ran") {
		t.Errorf("plan with a change: warnings %q, err %v; want the install command", p.Warnings, err)
	}
	if err := s.Restore(ctx, env, st); err != nil {
		t.Fatal(err)
	}
	if n := countRuns(t, root); n != 1 {
		t.Fatalf("install ran %d times, want 1", n)
	}
	if err := s.Restore(ctx, env, st); err != nil {
		t.Fatal(err)
	}
	if n := countRuns(t, root); n != 1 {
		t.Fatalf("install ran %d times after an idempotent restore, want 1", n)
	}
}

func TestInstallFailureCarriesOutputTail(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	env := newEnv(root, gitsnap.DependenciesConfig{Install: `for i in $(seq 1 50); do echo line$i; done; echo boom >&2; exit 3`})
	st := scopetest.NewStore(Name)
	st.Add(gitsnap.Artifact{Path: "go.sum", Kind: gitsnap.KindBlob, Mode: 0o644}, []byte("v1\n"))
	err := New().Restore(ctx, env, st)
	if err == nil {
		t.Fatal("failing install command: no error")
	}
	msg := err.Error()
	for _, want := range []string{"exit status 3", "boom", "line50"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "line10\n") {
		t.Errorf("error %q holds more than the tail", msg)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "go.sum")); string(b) != "v1\n" {
		t.Errorf("go.sum = %q, want it restored before the install ran", b)
	}
}

func TestInstallHonoursContext(t *testing.T) {
	root := t.TempDir()
	env := newEnv(root, gitsnap.DependenciesConfig{Install: "sleep 30"})
	st := scopetest.NewStore(Name)
	st.Add(gitsnap.Artifact{Path: "go.sum", Kind: gitsnap.KindBlob, Mode: 0o644}, []byte("v1\n"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := New().Restore(ctx, env, st)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancelled install took %v", d)
	}
}
