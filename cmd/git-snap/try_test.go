package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const tryConfig = `[snapshot]
scopes = ["config"]

[config]
paths = ["config/**"]

[[check]]
name = "ok"
run = "true"
`

// TestInterruptTry: Ctrl-C (SIGINT to the foreground process group) while
// the change runs kills the change, restores the pre-change snapshot and
// exits 130.
func TestInterruptTry(t *testing.T) {
	r := newE2ERig(t)
	dir := r.repo(map[string]string{".gitsnap.toml": tryConfig, ".gitignore": "started\n", "config/app.toml": "v = 1\n"})
	cmd, stdout, stderr := r.startSnap(dir, "try", "--", "echo 'v = 2' > config/app.toml; touch started; sleep 30")
	waitFile(t, filepath.Join(dir, "started"), 20*time.Second)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr)
	}
	if !strings.Contains(stdout.String(), "change interrupted; rolled back to snap_") {
		t.Errorf("stdout does not say it rolled back:\n%s", stdout)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config", "app.toml")); string(b) != "v = 1\n" {
		t.Errorf("after Ctrl-C config/app.toml = %q, want v = 1", b)
	}
	noLocks(t, dir)
	r.fsck(dir)
}

// TestInterruptVerify: Ctrl-C during a drill removes the sandbox, records
// nothing and exits 130.
func TestInterruptVerify(t *testing.T) {
	r := newE2ERig(t)
	marker := filepath.Join(t.TempDir(), "started")
	cfg := tryConfig + "\n[[check]]\nname = \"slow\"\nrun = 'test -z \"$GITSNAP_DRILL\" || { touch \"" + marker + "\"; sleep 30; }'\n"
	dir := r.repo(map[string]string{".gitsnap.toml": cfg, "config/app.toml": "v = 1\n"})
	r.git(dir, "snap", "create", "-m", "good")
	cmd, _, stderr := r.startSnap(dir, "verify")
	waitFile(t, marker, 20*time.Second)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr)
	}
	if wt := r.git(dir, "worktree", "list", "--porcelain"); strings.Count(wt, "worktree ") != 1 {
		t.Errorf("sandbox worktree left behind:\n%s", wt)
	}
	if es, _ := os.ReadDir(filepath.Join(dir, ".git", "worktrees")); len(es) != 0 {
		t.Errorf(".git/worktrees not cleaned: %v", es)
	}
	if notes := r.git(dir, "log", "--format=%s", "refs/notes/snap"); strings.Count(strings.TrimSpace(notes), "\n") != 0 {
		t.Errorf("an interrupted drill wrote a note:\n%s", notes)
	}
	noLocks(t, dir)
	r.fsck(dir)
}
