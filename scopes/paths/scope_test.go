package paths

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

var testPatterns = []string{"config/**", ".env", "uploads/**", "*.pem"}

func newTestScope() *Scope {
	return New("test", func(cfg *gitsnap.Config) []string { return cfg.Config.Paths })
}

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
			Scope:   newTestScope(),
			Env:     newEnv(root, testPatterns...),
			Inside:  []string{".env", "config/run.sh", "config/current", "config/app/settings.toml", "uploads/empty.bin", "key.pem"},
			Stray:   []string{"config/new/deeper/stray.toml", "uploads/stray.png"},
			Outside: []string{"src/main.go", "README.md", "certs/other.pem"},
		}
	})
}

func TestCaptureDirectorySymlinkNotFollowed(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	scopetest.WriteFile(t, outside, "secret.txt", "not ours\n", 0o644)
	scopetest.Symlink(t, root, "config/ext", outside)
	scopetest.Symlink(t, root, "config/passwd", "/etc/passwd")
	st := scopetest.NewStore("test")
	if err := newTestScope().Capture(context.Background(), newEnv(root, "config/**"), st); err != nil {
		t.Fatal(err)
	}
	type got struct{ Path, Kind, Data string }
	var arts []got
	for _, a := range st.Artifacts() {
		d, _ := st.Data(a.Path)
		arts = append(arts, got{a.Path, a.Kind, string(d)})
	}
	want := []got{
		{"config/ext", gitsnap.KindSymlink, outside},
		{"config/passwd", gitsnap.KindSymlink, "/etc/passwd"},
	}
	if diff := cmp.Diff(want, arts); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
}

func TestRestoreReplacesTypes(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, root string) // snapshot state
		after  func(t *testing.T, root string) // live state at restore time
	}{
		{"directory where a file was", func(t *testing.T, root string) {
			scopetest.WriteFile(t, root, "config/a", "file\n", 0o644)
		}, func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "config/a"))
			scopetest.WriteFile(t, root, "config/a/b/c", "nested\n", 0o644)
		}},
		{"file where a directory was", func(t *testing.T, root string) {
			scopetest.WriteFile(t, root, "config/a/b", "nested\n", 0o644)
		}, func(t *testing.T, root string) {
			os.RemoveAll(filepath.Join(root, "config/a"))
			scopetest.WriteFile(t, root, "config/a", "file\n", 0o644)
		}},
		{"symlink where a directory was", func(t *testing.T, root string) {
			scopetest.WriteFile(t, root, "config/app.toml", "x = 1\n", 0o644)
		}, func(t *testing.T, root string) {
			// A link that does not lead out of the worktree is stale state
			// and is replaced; one leading outside is refused
			// (TestRestoreRefusesEscapingSymlinkParent).
			os.RemoveAll(filepath.Join(root, "config"))
			scopetest.Symlink(t, root, "config", "config.old")
		}},
		{"stale symlink to a directory", func(t *testing.T, root string) {
			scopetest.WriteFile(t, root, "config/app.toml", "x = 1\n", 0o644)
		}, func(t *testing.T, root string) {
			dir := t.TempDir()
			scopetest.WriteFile(t, dir, "keep.txt", "keep\n", 0o644)
			scopetest.Symlink(t, root, "config/dir", dir)
		}},
		{"file where a symlink was", func(t *testing.T, root string) {
			scopetest.Symlink(t, root, "config/l", "target")
		}, func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "config/l"))
			scopetest.WriteFile(t, root, "config/l", "file\n", 0o644)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			env := newEnv(root, "config/**")
			s := newTestScope()
			tc.before(t, root)
			want := scopetest.Listing(t, root)
			st := scopetest.NewStore("test")
			if err := s.Capture(context.Background(), env, st); err != nil {
				t.Fatal(err)
			}
			tc.after(t, root)
			p, err := s.Plan(context.Background(), env, st)
			if err != nil {
				t.Fatal(err)
			}
			if p.Empty() {
				t.Error("plan is empty")
			}
			stats, err := s.RestoreStats(context.Background(), env, st)
			if err != nil {
				t.Fatal(err)
			}
			if !stats.Changed() {
				t.Error("stats report no change")
			}
			if diff := cmp.Diff(want, scopetest.Listing(t, root)); diff != "" {
				t.Errorf("restored tree (-want +got):\n%s", diff)
			}
			if stats, err := s.RestoreStats(context.Background(), env, st); err != nil || stats.Changed() {
				t.Errorf("second restore: stats %+v, err %v; want no change", stats, err)
			}
		})
	}
}

func TestRestoreKeepsNonEmptyDirectoryOutsidePatterns(t *testing.T) {
	root := t.TempDir()
	st := scopetest.NewStore("test")
	st.Add(gitsnap.Artifact{Path: "data/x", Kind: gitsnap.KindBlob, Mode: 0o644}, []byte("x"))
	scopetest.WriteFile(t, root, "data/x/keep.txt", "keep\n", 0o644)
	err := newTestScope().Restore(context.Background(), newEnv(root, "config/**"), st)
	if err == nil {
		t.Fatal("restore replaced a non-empty directory outside the patterns")
	}
	if b, err := os.ReadFile(filepath.Join(root, "data/x/keep.txt")); err != nil || string(b) != "keep\n" {
		t.Errorf("data/x/keep.txt: %q, %v", b, err)
	}
}

func TestBadPatternIsConfigError(t *testing.T) {
	s := newTestScope()
	env := newEnv(t.TempDir(), "../outside/**")
	if err := s.Capture(context.Background(), env, scopetest.NewStore("test")); !errors.Is(err, gitsnap.ErrConfig) {
		t.Errorf("capture: got %v, want ErrConfig", err)
	}
	if _, err := s.Plan(context.Background(), env, scopetest.NewStore("test")); !errors.Is(err, gitsnap.ErrConfig) {
		t.Errorf("plan: got %v, want ErrConfig", err)
	}
}

func TestNoConfigCapturesNothing(t *testing.T) {
	root := t.TempDir()
	scopetest.WriteFile(t, root, ".env", "A=1\n", 0o600)
	st := scopetest.NewStore("test")
	if err := newTestScope().Capture(context.Background(), &gitsnap.ScopeEnv{Root: root}, st); err != nil {
		t.Fatal(err)
	}
	if n := len(st.Artifacts()); n != 0 {
		t.Errorf("captured %d artifacts without patterns", n)
	}
}

func TestUnknownKindRefused(t *testing.T) {
	st := scopetest.NewStore("test")
	st.Add(gitsnap.Artifact{Path: "config/x", Kind: "tarball"}, []byte("x"))
	err := newTestScope().Restore(context.Background(), newEnv(t.TempDir(), "config/**"), st)
	if !errors.Is(err, gitsnap.ErrInvalidFormat) {
		t.Errorf("got %v, want ErrInvalidFormat", err)
	}
}

func TestRestoreRefusesEscapingSymlinkParent(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	scopetest.WriteFile(t, root, "config/app.toml", "x = 1\n", 0o644)
	sc := New("config", func(*gitsnap.Config) []string { return []string{"config/**"} })
	env := &gitsnap.ScopeEnv{Root: root, Progress: gitsnap.NoProgress{}}
	store := scopetest.NewStore("config")
	if err := sc.Capture(context.Background(), env, store); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "config")); err != nil {
		t.Fatal(err)
	}
	scopetest.Symlink(t, root, "config", outside)
	if _, err := sc.Plan(context.Background(), env, store); !errors.Is(err, gitsnap.ErrUnsafePath) {
		t.Errorf("plan: want ErrUnsafePath, got %v", err)
	}
	if err := sc.Restore(context.Background(), env, store); !errors.Is(err, gitsnap.ErrUnsafePath) {
		t.Errorf("restore: want ErrUnsafePath, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "app.toml")); !os.IsNotExist(err) {
		t.Error("restore wrote through the symlink")
	}
	if fi, err := os.Lstat(filepath.Join(root, "config")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the live symlink was replaced")
	}
}
