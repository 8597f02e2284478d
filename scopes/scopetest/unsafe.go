package scopetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
)

// testUnsafePaths restores crafted snapshots whose paths escape the root
// and checks that Plan and Restore refuse them with ErrUnsafePath and that
// nothing outside the root (or in .git) changes.
func testUnsafePaths(t *testing.T, newFixture func(t *testing.T) *pathFixture) {
	type art struct {
		path, kind, data string
	}
	tests := []struct {
		name string
		arts func(f *pathFixture) []art
	}{
		{"dotdot", func(*pathFixture) []art { return []art{{"../x", gitsnap.KindBlob, "pwned"}} }},
		{"dotdot inside", func(*pathFixture) []art { return []art{{"a/../../x", gitsnap.KindBlob, "pwned"}} }},
		{"absolute", func(f *pathFixture) []art {
			return []art{{filepath.ToSlash(filepath.Join(f.outside, "abs")), gitsnap.KindBlob, "pwned"}}
		}},
		{"git dir", func(*pathFixture) []art { return []art{{".git/config", gitsnap.KindBlob, "pwned"}} }},
		{"git dir case", func(*pathFixture) []art { return []art{{".GIT/hooks/pre-commit", gitsnap.KindBlob, "pwned"}} }},
		{"backslash", func(*pathFixture) []art { return []art{{`..\x`, gitsnap.KindBlob, "pwned"}} }},
		{"under symlinked dir", func(f *pathFixture) []art {
			return []art{{f.Outside[0] + "/x", gitsnap.KindBlob, "pwned"}}
		}},
		{"link under symlinked dir", func(f *pathFixture) []art {
			return []art{{f.Outside[0] + "/x", gitsnap.KindSymlink, "/etc/passwd"}}
		}},
		{"link then file through it", func(f *pathFixture) []art {
			return []art{
				{f.Inside[3] + "-dir", gitsnap.KindSymlink, f.outside},
				{f.Inside[3] + "-dir/x", gitsnap.KindBlob, "pwned"},
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			WriteFile(t, f.root, ".git/config", "[core]\n", 0o644)
			WriteFile(t, f.outside, "target.txt", "outside the root\n", 0o644)
			// Outside[0] becomes a symlink to the outside directory.
			Symlink(t, f.root, f.Outside[0], f.outside)
			st := NewStore(f.Scope.Name())
			for _, a := range tc.arts(f) {
				st.Add(gitsnap.Artifact{Path: a.path, Kind: a.kind, Mode: 0o644}, []byte(a.data))
			}
			parent, outside, git := dirNames(t, f.dir), Listing(t, f.outside), Listing(t, filepath.Join(f.root, ".git"))

			if _, err := f.Scope.Plan(context.Background(), f.Env, st); !errors.Is(err, gitsnap.ErrUnsafePath) {
				t.Errorf("plan: got %v, want ErrUnsafePath", err)
			}
			if err := f.Scope.Restore(context.Background(), f.Env, st); !errors.Is(err, gitsnap.ErrUnsafePath) {
				t.Errorf("restore: got %v, want ErrUnsafePath", err)
			}
			if diff := cmp.Diff(parent, dirNames(t, f.dir)); diff != "" {
				t.Errorf("entries next to the root changed:\n%s", diff)
			}
			if diff := cmp.Diff(outside, Listing(t, f.outside)); diff != "" {
				t.Errorf("the outside directory changed:\n%s", diff)
			}
			if diff := cmp.Diff(git, Listing(t, filepath.Join(f.root, ".git"))); diff != "" {
				t.Errorf(".git changed:\n%s", diff)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
