package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSnap starts the git-snap binary itself (not through git, whose own
// signal handling would hide git-snap's exit code) in its own process
// group, as a terminal runs a foreground job.
func (r *e2eRig) startSnap(dir string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	r.t.Helper()
	cmd := exec.Command(filepath.Join(r.bin, "git-snap"), args...)
	cmd.Dir = dir
	cmd.Env = r.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	return cmd, &o, &e
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %s", path, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitExit waits for cmd and returns its exit code (-1 when killed by a signal).
func waitExit(t *testing.T, cmd *exec.Cmd, limit time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(limit):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("git-snap did not exit within %s of the signal", limit)
		return -1
	}
}

// noLocks fails if a *.lock file was left anywhere under .git.
func noLocks(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(filepath.Join(dir, ".git"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".lock") {
			t.Errorf("lock file left behind: %s", p)
		}
		return nil
	})
}

const slowCheckConfig = `[snapshot]
scopes = ["config"]

[config]
paths = ["config/**"]

[[check]]
name = "slow"
run = "if [ -f slow ]; then touch started; sleep 30; fi"
`

// TestInterruptCreate: Ctrl-C (SIGINT) or SIGTERM while the checks run ends
// create promptly with exit 130, and nothing is written.
func TestInterruptCreate(t *testing.T) {
	r := newE2ERig(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r := &e2eRig{t: t, bin: r.bin, home: t.TempDir()}
			dir := r.repo(map[string]string{".gitsnap.toml": slowCheckConfig, ".gitignore": "slow\nstarted\n", "config/app.toml": "v = 1\n"})
			if err := os.WriteFile(filepath.Join(dir, "slow"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd, _, stderr := r.startSnap(dir, "create", "-m", "interrupted")
			waitFile(t, filepath.Join(dir, "started"), 20*time.Second)
			t0 := time.Now()
			if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			code := waitExit(t, cmd, 10*time.Second)
			if code != exitInterrupted {
				t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr)
			}
			if d := time.Since(t0); d > 5*time.Second {
				t.Errorf("took %s to stop after the signal", d)
			}
			if !strings.HasPrefix(stderr.String(), "error: interrupted\nhint: ") {
				t.Errorf("stderr = %q, want error: interrupted and a hint", stderr)
			}
			if refs := r.git(dir, "for-each-ref", "refs/snapshots/", "refs/notes/"); refs != "" {
				t.Errorf("refs written by an interrupted create:\n%s", refs)
			}
			noLocks(t, dir)
			r.fsck(dir)
		})
	}
}

// TestInterruptRestore: Ctrl-C while the restored state is being validated
// rolls back to the safety snapshot, exits 130, and records the rollback.
func TestInterruptRestore(t *testing.T) {
	r := newE2ERig(t)
	cfg := slowCheckConfig + "\n[restore]\nvalidate = true\n"
	dir := r.repo(map[string]string{".gitsnap.toml": cfg, ".gitignore": "slow\nstarted\n", "config/app.toml": "v = 1\n"})
	out := r.git(dir, "snap", "create", "-m", "good")
	id := createdRe.FindStringSubmatch(out)[1]
	live := filepath.Join(dir, "config", "app.toml")
	if err := os.WriteFile(live, []byte("v = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(live, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "new.toml"), []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "slow"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, _, stderr := r.startSnap(dir, "restore", id, "--yes")
	waitFile(t, filepath.Join(dir, "started"), 20*time.Second)
	if b, _ := os.ReadFile(live); string(b) != "v = 1\n" {
		t.Fatalf("during validation config/app.toml = %q, want the restored v = 1", b)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr)
	}
	if !strings.Contains(stderr.String(), "rolled back") && !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say what happened:\n%s", stderr)
	}
	// The pre-restore state is back, mode included.
	if b, _ := os.ReadFile(live); string(b) != "v = 2\n" {
		t.Errorf("after the rollback config/app.toml = %q, want v = 2", b)
	}
	if fi, err := os.Stat(live); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("after the rollback config/app.toml mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config", "new.toml")); err != nil || string(b) != "new\n" {
		t.Errorf("after the rollback config/new.toml = %q (%v), want it back", b, err)
	}
	evs := r.noteEvents(dir, r.snapshotRefs(dir)[id])
	found := false
	for _, ev := range evs {
		if ev["type"] == "restored" {
			found = true
			if ev["result"] != "rolled_back" {
				t.Errorf("restored event result = %v, want rolled_back", ev["result"])
			}
		}
	}
	if !found {
		t.Error("no restored event recorded for the interrupted restore")
	}
	if out, _, _ := r.run(dir, "snap", "list", "--tag", "pre-restore"); !strings.Contains(out, "pre-restore") {
		t.Errorf("no pre-restore safety snapshot listed:\n%s", out)
	}
	noLocks(t, dir)
	r.fsck(dir)
}

// TestKilledCreate kills `git snap create` with SIGKILL at random moments
// while it writes a few MB: git must stay consistent (fsck clean), and
// every snapshot ref that exists must be a readable snapshot. Stale
// <ref>.lock files are removed between attempts, as a user would after
// reading the hint.
func TestKilledCreate(t *testing.T) {
	r := newE2ERig(t)
	files := map[string]string{
		".gitsnap.toml": "[snapshot]\nscopes = [\"config\", \"files\"]\n[config]\npaths = [\"config/**\"]\n[[files]]\nname = \"data\"\npaths = [\"data/**\"]\n",
		".gitignore":    "data/\n",
	}
	dir := r.repo(files)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 120; i++ {
		p := filepath.Join(dir, "data", fmt.Sprintf("%02d", i%10), fmt.Sprintf("f%03d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 64<<10)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// How long an uninterrupted create takes, to spread the kills over it.
	t0 := time.Now()
	r.git(dir, "snap", "create", "--no-validate", "-m", "timing")
	full := time.Since(t0)
	t.Logf("an uninterrupted create takes %s", full)
	for i := 0; i < 8; i++ {
		// Change one file so each attempt writes new objects.
		p := filepath.Join(dir, "data", "00", "f000.bin")
		if err := os.WriteFile(p, []byte(fmt.Sprintf("attempt %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd, _, _ := r.startSnap(dir, "create", "--no-validate", "-m", fmt.Sprintf("killed %d", i))
		time.Sleep(time.Duration(rng.Int64N(int64(full))))
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		// Whatever happened, git is consistent and git-snap can read everything.
		r.fsck(dir)
		_ = filepath.WalkDir(filepath.Join(dir, ".git"), func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".lock") {
				t.Logf("attempt %d left %s (removed)", i, p)
				_ = os.Remove(p)
			}
			return nil
		})
		out, errOut, code := r.run(dir, "snap", "list", "--json")
		if code != 0 {
			t.Fatalf("attempt %d: list after a killed create: exit %d\n%s", i, code, errOut)
		}
		for id, commit := range r.snapshotRefs(dir) {
			if !strings.Contains(out, `"id": "`+id+`"`) {
				t.Errorf("attempt %d: ref %s is not listed", i, id)
			}
			r.git(dir, "cat-file", "-e", commit+":snap.json")
		}
	}
	// And afterwards create still works.
	r.git(dir, "snap", "create", "--no-validate", "-m", "after")
	r.fsck(dir)
}
