package gitsnap_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// liveState is what a drill must never change.
type liveState struct {
	dump, config, status, head, worktrees string
}

func captureLive(t *testing.T, dir string) liveState {
	t.Helper()
	return liveState{
		dump:      sqlite(t, dir, ".dump"),
		config:    read(t, dir, "config/app.toml"),
		status:    gitsnaptest.RunGit(t, dir, "status", "--porcelain"),
		head:      gitsnaptest.RunGit(t, dir, "rev-parse", "HEAD"),
		worktrees: gitsnaptest.RunGit(t, dir, "worktree", "list", "--porcelain"),
	}
}

func (l liveState) assertSame(t *testing.T, dir string) {
	t.Helper()
	if now := captureLive(t, dir); now != l {
		t.Errorf("live state changed by the drill:\n got %+v\nwant %+v", now, l)
	}
	if es, _ := os.ReadDir(filepath.Join(dir, ".git", "worktrees")); len(es) != 0 {
		t.Errorf("sandbox worktrees left behind: %v", es)
	}
}

func TestVerifyDrillOfAGoodSnapshotPasses(t *testing.T) {
	dir, s := newDBFixture(t)
	ctx := context.Background()
	cr, err := s.Create(ctx, gitsnap.CreateOptions{Message: "good"})
	if err != nil {
		t.Fatal(err)
	}
	// The live state drifts and now fails the check; the drill must run
	// the checks against the sandbox, not here.
	sqlite(t, dir, "INSERT INTO users VALUES (9, 'live'); ALTER TABLE users RENAME COLUMN name TO nick;")
	write(t, dir, "config/app.toml", "port = 9\n", 0o644)
	write(t, dir, "scratch.txt", "untracked\n", 0o644)
	live := captureLive(t, dir)

	res, err := s.Verify(ctx, "", gitsnap.VerifyOptions{})
	if err != nil {
		t.Fatalf("drill failed: %v", err)
	}
	if res.Status != gitsnap.StatusPassed || res.Snapshot.ID != cr.Snapshot.ID || res.Validation == nil || res.Validation.Status != gitsnap.StatusPassed {
		t.Fatalf("drill result %+v", res)
	}
	for _, scope := range []string{"code", "config", "database"} {
		if _, ok := res.ScopeMS[scope]; !ok {
			t.Errorf("no time recorded for scope %s: %v", scope, res.ScopeMS)
		}
	}
	live.assertSame(t, dir)
	shown, err := s.Show(ctx, cr.Snapshot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(shown.Drills) != 1 || shown.Drills[0].Status != gitsnap.StatusPassed || len(shown.Drills[0].Checks) != 1 || shown.Drills[0].ScopeMS == nil {
		t.Errorf("drill event: %+v", shown.Drills)
	}
}

// snapGit runs git in dir with the test environment and its own index.
func snapGit(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(gitsnaptest.GitEnv(t, filepath.Join(filepath.Dir(dir), "home")), "GIT_INDEX_FILE="+filepath.Join(dir, ".git", "test-index"))
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// rewriteSnapshot points entries of a snapshot's tree at other blobs
// (which need not exist) and moves the snapshot's ref to the new commit.
func rewriteSnapshot(t *testing.T, dir, id string, blobs map[string]string) {
	t.Helper()
	old := snapGit(t, dir, "", "rev-parse", "refs/snapshots/"+id)
	snapGit(t, dir, "", "read-tree", old)
	for path, blob := range blobs {
		snapGit(t, dir, "", "update-index", "--add", "--cacheinfo", "100644,"+blob+","+path)
	}
	tree := snapGit(t, dir, "", "write-tree", "--missing-ok")
	commit := snapGit(t, dir, "", "commit-tree", tree, "-m", "tampered")
	snapGit(t, dir, "", "update-ref", "refs/snapshots/"+id, commit, old)
}

// tamper replaces one blob of a snapshot's tree with other content.
func tamper(t *testing.T, dir, id, path, content string) {
	t.Helper()
	rewriteSnapshot(t, dir, id, map[string]string{path: snapGit(t, dir, content, "hash-object", "-w", "--stdin")})
}

func TestVerifyDrillOfATamperedDumpFails(t *testing.T) {
	dir, s := newDBFixture(t)
	ctx := context.Background()
	cr, err := s.Create(ctx, gitsnap.CreateOptions{Message: "good"})
	if err != nil {
		t.Fatal(err)
	}
	tamper(t, dir, cr.Snapshot.ID, "chunks/database/app/00000000", "not a sqlite database")
	live := captureLive(t, dir)

	res, err := s.Verify(ctx, cr.Snapshot.ID, gitsnap.VerifyOptions{})
	var de *gitsnap.DrillFailedError
	if !errors.As(err, &de) || !errors.Is(err, gitsnap.ErrIntegrity) {
		t.Fatalf("want a DrillFailedError wrapping ErrIntegrity, got %v", err)
	}
	if !strings.Contains(err.Error(), "app") || res.Status != gitsnap.StatusFailed {
		t.Errorf("the error does not name the artifact: %v (status %s)", err, res.Status)
	}
	live.assertSame(t, dir)
	shown, err := s.Show(ctx, cr.Snapshot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(shown.Drills) != 1 || shown.Drills[0].Status != gitsnap.StatusFailed || !strings.Contains(shown.Drills[0].Error, "app") {
		t.Errorf("drill event: %+v", shown.Drills)
	}
}

func TestVerifyInterruptedCleansUp(t *testing.T) {
	dir, s := newDBFixture(t)
	marker := filepath.Join(t.TempDir(), "check-started")
	s.Config().Check = append(s.Config().Check, gitsnap.CheckConfig{
		Name: "slow", Kind: "smoke",
		// Passes live; in the drill it signals and hangs until killed.
		Run: `test -z "$GITSNAP_DRILL" || { touch '` + marker + `'; sleep 30; }`,
	})
	ctx := context.Background()
	cr, err := s.Create(ctx, gitsnap.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live := captureLive(t, dir)
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			if _, err := os.Stat(marker); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	_, err = s.Verify(cctx, "", gitsnap.VerifyOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	live.assertSame(t, dir)
	shown, err := s.Show(ctx, cr.Snapshot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(shown.Drills) != 0 {
		t.Errorf("an interrupted drill was recorded: %+v", shown.Drills)
	}
}
