package hooks

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

func readHook(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

func results(acts []Action) []string {
	var out []string
	for _, a := range acts {
		out = append(out, a.Hook+" "+a.Result)
	}
	return out
}

func TestInstallUpgradeForceUninstall(t *testing.T) {
	ctx := context.Background()
	dir := gitsnaptest.NewGitRepo(t)
	hook := filepath.Join(dir, ".git", "hooks", "pre-push")
	steps := []struct {
		name    string
		before  string // hook content to put in place first ("" = leave)
		run     func() ([]Action, error)
		want    string // result
		content string // hook content after
		err     bool
	}{
		{"fresh install", "", func() ([]Action, error) { return Install(ctx, dir, InstallOptions{}) }, "installed", Shim("pre-push"), false},
		{"again", "", func() ([]Action, error) { return Install(ctx, dir, InstallOptions{}) }, "unchanged", Shim("pre-push"), false},
		{"old shim upgraded", "#!/bin/sh\nexec git snap hook pre-push \"$@\"\n", func() ([]Action, error) { return Install(ctx, dir, InstallOptions{}) }, "upgraded", Shim("pre-push"), false},
		{"foreign hook refused", "#!/bin/sh\necho mine\n", func() ([]Action, error) { return Install(ctx, dir, InstallOptions{}) }, "", "#!/bin/sh\necho mine\n", true},
		{"manual leaves it alone", "", func() ([]Action, error) { return Install(ctx, dir, InstallOptions{Manual: true}) }, "manual", "#!/bin/sh\necho mine\n", false},
		{"force replaces it", "", func() ([]Action, error) { return Install(ctx, dir, InstallOptions{Force: true}) }, "replaced", Shim("pre-push"), false},
		{"uninstall puts it back", "", func() ([]Action, error) { return Uninstall(ctx, dir) }, "removed", "#!/bin/sh\necho mine\n", false},
		{"uninstall keeps foreign hooks", "", func() ([]Action, error) { return Uninstall(ctx, dir) }, "kept", "#!/bin/sh\necho mine\n", false},
	}
	for _, st := range steps {
		if st.before != "" {
			if err := os.WriteFile(hook, []byte(st.before), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		acts, err := st.run()
		var ee *ExistsError
		if st.err {
			if !errors.As(err, &ee) || ee.Path != hook || !strings.Contains(ee.Hint(), "--force") {
				t.Fatalf("%s: err = %v, want ExistsError", st.name, err)
			}
		} else if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		} else if diff := cmp.Diff([]string{"pre-push " + st.want}, results(acts)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", st.name, diff)
		}
		if got := readHook(t, hook); got != st.content {
			t.Errorf("%s: hook is\n%s\nwant\n%s", st.name, got, st.content)
		}
		if st.want == "manual" && !strings.Contains(acts[0].Manual, "git snap hook pre-push \"$@\"") {
			t.Errorf("manual snippet: %q", acts[0].Manual)
		}
	}
	if fi, err := os.Stat(hook); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("hook not executable: %v %v", fi, err)
	}
	if _, err := os.Stat(hook + BackupSuffix); !os.IsNotExist(err) {
		t.Errorf("backup left behind: %v", err)
	}
	// Uninstall with nothing there.
	os.Remove(hook)
	acts, err := Uninstall(ctx, dir)
	if err != nil || acts[0].Result != "absent" {
		t.Errorf("uninstall of nothing: %v %v", acts, err)
	}
}

func TestInstallHonoursHooksPathAndWorktrees(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (runIn, wantDir string)
	}{
		{"relative core.hooksPath", func(t *testing.T, dir string) (string, string) {
			gitsnaptest.RunGit(t, dir, "config", "core.hooksPath", "githooks")
			return filepath.Join(dir, "sub"), filepath.Join(dir, "githooks")
		}},
		{"absolute core.hooksPath", func(t *testing.T, dir string) (string, string) {
			abs := filepath.Join(t.TempDir(), "shared-hooks")
			gitsnaptest.RunGit(t, dir, "config", "core.hooksPath", abs)
			return dir, abs
		}},
		{"linked worktree uses the common dir", func(t *testing.T, dir string) (string, string) {
			commitFile(t, dir, "a.txt", "1")
			wt := filepath.Join(filepath.Dir(dir), "wt")
			gitsnaptest.RunGit(t, dir, "worktree", "add", "-q", wt)
			return wt, filepath.Join(dir, ".git", "hooks")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := gitsnaptest.NewGitRepo(t)
			if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			runIn, want := tc.setup(t, dir)
			acts, err := Install(ctx, runIn, InstallOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if acts[0].Path != filepath.Join(want, "pre-push") {
				t.Errorf("installed at %s, want %s", acts[0].Path, filepath.Join(want, "pre-push"))
			}
			if got := readHook(t, filepath.Join(want, "pre-push")); got != Shim("pre-push") {
				t.Errorf("hook content: %s", got)
			}
			// git itself runs it from there.
			if got := gitsnaptest.RunGit(t, runIn, "rev-parse", "--path-format=absolute", "--git-path", "hooks/pre-push"); got != acts[0].Path {
				t.Errorf("git looks for the hook at %s", got)
			}
		})
	}
}

// The shim runs git snap; without git-snap on PATH it fails with a clear
// message instead of letting the push through silently.
func TestShimWithoutGitSnap(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pre-push")
	if err := os.WriteFile(p, []byte(Shim("pre-push")), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p, "origin", "url")
	cmd.Env = []string{"PATH=/nonexistent"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("the shim succeeded without git-snap")
	}
	if !strings.Contains(string(out), "error: this repository's pre-push hook runs git-snap, which is not on PATH") || !strings.Contains(string(out), "--no-verify") {
		t.Errorf("output:\n%s", out)
	}
}
