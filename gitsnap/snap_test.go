package gitsnap_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
	"github.com/git-snap/git-snap/scopes"
)

// fixture is a committed repo with config, an ignored .env and uploads.
type fixture struct {
	dir  string
	snap *gitsnap.Snap
	now  time.Time
}

const fixtureConfig = `[snapshot]
scopes = ["code", "config", "files"]
[config]
paths = ["config/**", ".env"]
[[files]]
name = "uploads"
paths = ["uploads/**"]
[[check]]
name = "flag"
run = "test ! -e FAIL"
`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := gitsnaptest.NewGitRepo(t)
	write(t, dir, ".gitsnap.toml", fixtureConfig, 0o644)
	write(t, dir, ".gitignore", ".env\nuploads/\nFAIL\n", 0o644)
	write(t, dir, "config/app.toml", "port = 1\n", 0o644)
	write(t, dir, ".env", "SECRET=1\n", 0o600)
	write(t, dir, "uploads/a.png", "png-a", 0o644)
	gitsnaptest.RunGit(t, dir, "add", "-A")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "init")
	f := &fixture{dir: dir, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.reopen(t)
	return f
}

// reopen builds a Snap whose clock advances a second per call.
func (f *fixture) reopen(t *testing.T) {
	t.Helper()
	repo := gitsnaptest.OpenGitRepo(t, f.dir)
	s, err := gitsnap.New(gitsnap.Options{Repo: repo, Scopes: scopes.Default(), Now: func() time.Time {
		f.now = f.now.Add(time.Second)
		return f.now
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.snap = s
}

func write(t *testing.T, dir, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

func TestCreateRefusesWhenACheckFails(t *testing.T) {
	f := newFixture(t)
	write(t, f.dir, "FAIL", "x", 0o644)
	_, err := f.snap.Create(context.Background(), gitsnap.CreateOptions{})
	var ve *gitsnap.ValidationError
	if !errors.As(err, &ve) || len(ve.Failed) != 1 || ve.Failed[0].Name != "flag" || ve.Failed[0].ExitCode != 1 {
		t.Fatalf("want a ValidationError naming the check, got %v", err)
	}
	if refs := gitsnaptest.RunGit(t, f.dir, "for-each-ref", "refs/snapshots/", "refs/notes/"); refs != "" {
		t.Errorf("refs written despite failed validation:\n%s", refs)
	}
}

func TestCreateRestoreRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.snap.Create(ctx, gitsnap.CreateOptions{Message: "good"})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Snapshot
	if !s.KnownGood() || s.Status != gitsnap.StatusPassed || len(s.Checks) != 1 {
		t.Fatalf("snapshot not known-good: %+v", s)
	}
	// Break things, inside and outside the scopes.
	write(t, f.dir, "config/app.toml", "port = 2\n", 0o644)
	write(t, f.dir, "config/extra.toml", "stray\n", 0o644)
	os.Remove(filepath.Join(f.dir, ".env"))
	write(t, f.dir, "uploads/a.png", "corrupt", 0o644)
	// An untracked, unignored file belongs to the code scope's worktree: a
	// restore removes it (the safety snapshot keeps it).
	write(t, f.dir, "notes.txt", "new\n", 0o644)

	plan, err := f.snap.Restore(ctx, "known-good", gitsnap.RestoreOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]bool{}
	for _, sp := range plan.Plan.Scopes {
		for _, c := range sp.Changes {
			changes[sp.Scope+" "+string(c.Op)+" "+c.Path] = true
		}
	}
	for _, want := range []string{"config add .env", "config modify config/app.toml", "config remove config/extra.toml", "files modify uploads/a.png"} {
		if !changes[want] {
			t.Errorf("plan lacks %q: %v", want, changes)
		}
	}
	if read(t, f.dir, "config/app.toml") != "port = 2\n" {
		t.Fatal("dry run changed files")
	}

	r, err := f.snap.Restore(ctx, "known-good", gitsnap.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Safety == nil || !r.Safety.HasTag(gitsnap.TagPreRestore) || r.Validation == nil {
		t.Errorf("no safety snapshot or validation: %+v", r)
	}
	for rel, want := range map[string]string{"config/app.toml": "port = 1\n", ".env": "SECRET=1\n", "uploads/a.png": "png-a", "config/extra.toml": "<missing>", "notes.txt": "<missing>"} {
		if got := read(t, f.dir, rel); got != want {
			t.Errorf("%s = %q, want %q", rel, got, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(f.dir, ".env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf(".env mode: %v %v", fi, err)
	}
	// Idempotent: a second restore plans nothing.
	again, err := f.snap.Restore(ctx, s.ID, gitsnap.RestoreOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range again.Plan.Scopes {
		if !sp.Empty() {
			t.Errorf("second restore would change %s: %+v", sp.Scope, sp.Changes)
		}
	}
	shown, err := f.snap.Show(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if shown.RestoreCount != 1 || shown.LastRestored == nil || shown.Restores[0].Result != "ok" {
		t.Errorf("restore not recorded: %+v", shown.Restores)
	}
	gitsnaptest.RunGit(t, f.dir, "fsck", "--strict")
}

func TestRestoreRollsBackWhenValidationFails(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.snap.Create(ctx, gitsnap.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	write(t, f.dir, "config/app.toml", "port = 2\n", 0o644)
	// FAIL is outside every scope, so the restored state fails validation.
	write(t, f.dir, "FAIL", "x", 0o644)
	_, err := f.snap.Restore(ctx, "known-good", gitsnap.RestoreOptions{})
	var rf *gitsnap.RestoreFailedError
	if !errors.As(err, &rf) || !rf.RolledBack || !errors.Is(err, gitsnap.ErrValidationFailed) {
		t.Fatalf("want a rolled-back RestoreFailedError, got %v", err)
	}
	if got := read(t, f.dir, "config/app.toml"); got != "port = 2\n" {
		t.Errorf("rollback did not put the pre-restore state back: %q", got)
	}
	s, err := f.snap.Show(ctx, "known-good")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Restores) != 1 || s.Restores[0].Result != "rolled_back" || s.Restores[0].Safety != rf.SafetyID {
		t.Errorf("rolled-back restore not recorded: %+v", s.Restores)
	}
}

func TestResolveNames(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 3; i++ {
		o := gitsnap.CreateOptions{}
		if i == 1 {
			o.Tags = []string{"pinned"}
		}
		if i == 2 {
			o.NoValidate = true
		}
		res, err := f.snap.Create(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Snapshot.ID)
	}
	commit1, _ := f.snap.Resolve(ctx, ids[1])
	tests := []struct{ name, want string }{
		{"latest", ids[2]},
		{"latest~2", ids[0]},
		{"known-good", ids[1]},
		{"known-good~1", ids[0]},
		{"pinned", ids[1]},
		{ids[0], ids[0]},
		{strings.TrimPrefix(ids[0], "snap_"), ids[0]},
		{commit1.Commit.String()[:10], ids[1]},
	}
	for _, tc := range tests {
		got, err := f.snap.Resolve(ctx, tc.name)
		if err != nil || got.ID != tc.want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	_, err := f.snap.Resolve(ctx, "snap_2026")
	var amb *gitsnap.AmbiguousIDError
	if !errors.As(err, &amb) || len(amb.Matches) != 3 || !strings.Contains(gitsnap.HintOf(err), "candidates") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	for _, bad := range []string{"nope", "known-good~5", "pinned~1"} {
		if _, err := f.snap.Resolve(ctx, bad); !errors.Is(err, gitsnap.ErrSnapshotNotFound) || gitsnap.HintOf(err) == "" {
			t.Errorf("Resolve(%q): want not found with a hint, got %v", bad, err)
		}
	}
}

func TestTagKnownGoodNeedsPassedValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.snap.Create(ctx, gitsnap.CreateOptions{NoValidate: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot.KnownGood() || res.Snapshot.Status != gitsnap.StatusUnknown {
		t.Fatalf("unvalidated snapshot is %s %v", res.Snapshot.Status, res.Snapshot.Tags)
	}
	if _, err := f.snap.Tag(ctx, res.Snapshot.ID, []string{gitsnap.TagKnownGood}, gitsnap.TagOptions{}); !errors.Is(err, gitsnap.ErrUsage) {
		t.Errorf("known-good on an unvalidated snapshot: %v", err)
	}
	s, err := f.snap.Tag(ctx, res.Snapshot.ID, []string{"experimental", "pinned"}, gitsnap.TagOptions{})
	if err != nil || !s.HasTag("pinned") || !s.HasTag("experimental") {
		t.Fatalf("tag: %v %v", s, err)
	}
	s, err = f.snap.Tag(ctx, res.Snapshot.ID, []string{"pinned"}, gitsnap.TagOptions{Remove: true})
	if err != nil || s.HasTag("pinned") || !s.HasTag("experimental") {
		t.Fatalf("untag: %v %v", s, err)
	}
	f.reopen(t)
	again, err := f.snap.Show(ctx, res.Snapshot.ID)
	if err != nil || again.HasTag("pinned") || !again.HasTag("experimental") {
		t.Errorf("tags after reload: %v %v", again.Tags, err)
	}
	for _, bad := range []string{"latest", "snap_x", "a b", "x~1", ""} {
		if _, err := f.snap.Tag(ctx, res.Snapshot.ID, []string{bad}, gitsnap.TagOptions{}); !errors.Is(err, gitsnap.ErrUsage) {
			t.Errorf("tag %q accepted: %v", bad, err)
		}
	}
}

func TestKnownGoodNeedsAtLeastOneCheck(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// The fixture's only check is a smoke check: level health runs none.
	res, err := f.snap.Create(ctx, gitsnap.CreateOptions{Level: "health"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot.KnownGood() || res.Snapshot.Status != gitsnap.StatusUnknown || len(res.Warnings) != 1 {
		t.Errorf("a snapshot no check validated: status %s, tags %v, warnings %v", res.Snapshot.Status, res.Snapshot.Tags, res.Warnings)
	}
	if _, err := f.snap.Create(ctx, gitsnap.CreateOptions{Level: "health", Tags: []string{gitsnap.TagKnownGood}}); !errors.Is(err, gitsnap.ErrUsage) {
		t.Errorf("--tag known-good without a check: %v", err)
	}
}
