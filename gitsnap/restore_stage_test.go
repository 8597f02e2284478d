package gitsnap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// fileScope is a fake scope whose whole state is one file (name.state in
// the worktree root, ignored by git). It records what the core asked of
// it. As "database" it is a gitsnap.Stager (stagingScope); as "files" it
// is a plain scope.
type fileScope struct {
	name string
	path string

	mu       sync.Mutex
	log      []string
	captures int
	started  chan struct{} // closed when the first Capture starts

	// Test hooks, all optional.
	onCapture func(ctx context.Context, n int) error // n: 1 for the first Capture
	onStage   func(ctx context.Context) error        // after the artifact was read
	restore   error                                  // the next Restore fails with it
	commit    error                                  // Commit fails with it
}

func (f *fileScope) Name() string { return f.name }

func (f *fileScope) record(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, what)
}

func (f *fileScope) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fileScope) Capture(ctx context.Context, _ *gitsnap.ScopeEnv, w gitsnap.ArtifactWriter) error {
	f.mu.Lock()
	f.captures++
	n := f.captures
	f.mu.Unlock()
	f.record(fmt.Sprintf("capture %d", n))
	if n == 1 {
		close(f.started)
	}
	if f.onCapture != nil {
		if err := f.onCapture(ctx, n); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	_, err = w.PutStream(ctx, "state", bytes.NewReader(data), nil)
	return err
}

func (f *fileScope) Plan(context.Context, *gitsnap.ScopeEnv, gitsnap.ArtifactReader) (*gitsnap.ScopePlan, error) {
	return &gitsnap.ScopePlan{Changes: []gitsnap.Change{{Op: gitsnap.OpReplace, Path: "state"}}}, nil
}

// read returns the snapshot's state, read to a verified end.
func (f *fileScope) read(ctx context.Context, r gitsnap.ArtifactReader) ([]byte, error) {
	arts := r.Artifacts()
	if len(arts) != 1 {
		return nil, fmt.Errorf("%d artifacts", len(arts))
	}
	rc, err := r.Open(ctx, arts[0])
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (f *fileScope) Restore(ctx context.Context, _ *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) error {
	f.record("restore")
	if err := f.restore; err != nil {
		f.restore = nil
		return err
	}
	data, err := f.read(ctx, r)
	if err != nil {
		return err
	}
	return os.WriteFile(f.path, data, 0o644)
}

// stagingScope is a fileScope that stages: Stage reads the snapshot's
// state into memory, Commit writes it.
type stagingScope struct{ *fileScope }

var _ gitsnap.Stager = stagingScope{}

func (s stagingScope) Stage(ctx context.Context, _ *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (gitsnap.Staged, error) {
	s.record("stage")
	data, err := s.read(ctx, r)
	if err == nil && s.onStage != nil {
		err = s.onStage(ctx)
	}
	if err != nil {
		return nil, err
	}
	return &stagedFile{s: s.fileScope, data: data}, nil
}

type stagedFile struct {
	s    *fileScope
	data []byte
	done bool
}

func (st *stagedFile) Commit(context.Context) error {
	st.s.record("commit")
	st.done = true
	if st.s.commit != nil {
		return st.s.commit
	}
	return os.WriteFile(st.s.path, st.data, 0o644)
}

func (st *stagedFile) Discard(context.Context) error {
	if !st.done {
		st.done = true
		st.s.record("discard")
	}
	return nil
}

// stageRig is a repository with a plain "files" scope and a staging
// "database" scope, both fakes, and one snapshot of state "v1".
type stageRig struct {
	dir    string
	snap   *gitsnap.Snap
	files  *fileScope
	db     *fileScope
	target string
}

func newStageRig(t *testing.T, config string) *stageRig {
	t.Helper()
	dir := gitsnaptest.NewGitRepo(t)
	write(t, dir, ".gitsnap.toml", "[snapshot]\nscopes = [\"files\", \"database\"]\n"+config, 0o644)
	write(t, dir, ".gitignore", "*.state\n", 0o644)
	gitsnaptest.RunGit(t, dir, "add", "-A")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "init")
	r := &stageRig{dir: dir,
		files: &fileScope{name: gitsnap.ScopeFiles, path: filepath.Join(dir, "files.state"), started: make(chan struct{})},
		db:    &fileScope{name: gitsnap.ScopeDatabase, path: filepath.Join(dir, "database.state"), started: make(chan struct{})},
	}
	for _, f := range []*fileScope{r.files, r.db} {
		write(t, dir, filepath.Base(f.path), "v1", 0o644)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := gitsnap.New(gitsnap.Options{Repo: gitsnaptest.OpenGitRepo(t, dir),
		Scopes: gitsnap.NewRegistry(r.files, stagingScope{r.db}),
		Now: func() time.Time {
			now = now.Add(time.Second)
			return now
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.snap = s
	res, err := s.Create(context.Background(), gitsnap.CreateOptions{NoValidate: true, Message: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	r.target = res.Snapshot.ID
	for _, f := range []*fileScope{r.files, r.db} {
		write(t, dir, filepath.Base(f.path), "v2", 0o644)
		f.log, f.captures, f.started = nil, 0, make(chan struct{})
	}
	return r
}

func (r *stageRig) restore(ctx context.Context) (*gitsnap.RestoreResult, error) {
	return r.snap.Restore(ctx, r.target, gitsnap.RestoreOptions{})
}

// wantState checks the live state of both fake scopes.
func (r *stageRig) wantState(t *testing.T, files, db string) {
	t.Helper()
	if got := read(t, r.dir, "files.state"); got != files {
		t.Errorf("files.state = %q, want %q", got, files)
	}
	if got := read(t, r.dir, "database.state"); got != db {
		t.Errorf("database.state = %q, want %q", got, db)
	}
}

// safetySnapshots counts the pre-restore safety snapshots written.
func (r *stageRig) safetySnapshots(t *testing.T) int {
	t.Helper()
	list, err := r.snap.List(context.Background(), gitsnap.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range list {
		if slices.Contains(s.Tags, gitsnap.TagPreRestore) {
			n++
		}
	}
	return n
}

func wantCalls(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s calls = %q, want %q", what, got, want)
	}
}

// The staging scope is loaded while the safety snapshot is taken (its
// Stage waits for the safety Capture to start, which would time out if
// they ran one after the other), committed instead of restored, and its
// time counts staging.
func TestRestoreStagesWhileTakingTheSafetySnapshot(t *testing.T) {
	r := newStageRig(t, "")
	r.db.onStage = func(ctx context.Context) error {
		select {
		case <-r.db.started:
		case <-time.After(10 * time.Second):
			return errors.New("the safety snapshot did not start while staging")
		}
		time.Sleep(50 * time.Millisecond)
		return nil
	}
	res, err := r.restore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.wantState(t, "v1", "v1")
	calls := r.db.calls()
	if !slices.Contains(calls, "capture 1") || calls[len(calls)-1] != "commit" || slices.Contains(calls, "restore") || slices.Contains(calls, "discard") {
		t.Errorf("database calls = %q, want stage and capture 1, then commit", calls)
	}
	wantCalls(t, "files", r.files.calls(), []string{"capture 1", "restore"})
	if res.ScopeMS[gitsnap.ScopeDatabase] < 50 {
		t.Errorf("database scope time %d ms does not count its staging (≥ 50 ms)", res.ScopeMS[gitsnap.ScopeDatabase])
	}
	if res.Safety == nil || r.safetySnapshots(t) != 1 {
		t.Errorf("want one safety snapshot, got %v", res.Safety)
	}
}

// Whatever stops the restore before anything changed discards what was
// staged, changes nothing live and says so.
func TestRestoreStagingFailures(t *testing.T) {
	integrity := fmt.Errorf("chunk 2: %w", gitsnap.ErrIntegrity)
	tests := []struct {
		name      string
		config    string
		setup     func(r *stageRig, cancel context.CancelFunc)
		wantDB    []string
		wantErr   func(error) bool
		wantMsg   string
		wantHint  string
		wantSafes int
	}{
		{
			name: "safety snapshot fails after staging",
			setup: func(r *stageRig, _ context.CancelFunc) {
				staged := make(chan struct{})
				r.db.onStage = func(context.Context) error { close(staged); return nil }
				r.db.onCapture = func(ctx context.Context, _ int) error {
					<-staged
					return errors.New("pg_dump: connection refused")
				}
			},
			wantDB:   []string{"stage", "capture 1", "discard"},
			wantMsg:  "take safety snapshot: capture database: pg_dump: connection refused",
			wantHint: "nothing was changed",
		},
		{
			name: "safety snapshot fails while staging",
			setup: func(r *stageRig, _ context.CancelFunc) {
				r.db.onCapture = func(context.Context, int) error { return errors.New("disk full") }
				r.db.onStage = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
			},
			wantDB:   []string{"stage", "capture 1"},
			wantMsg:  "take safety snapshot: capture database: disk full",
			wantHint: "nothing was changed",
		},
		{
			name: "damaged dump",
			setup: func(r *stageRig, _ context.CancelFunc) {
				r.db.onStage = func(context.Context) error { <-r.db.started; return integrity }
			},
			wantDB:    []string{"stage", "capture 1"},
			wantErr:   func(err error) bool { return errors.Is(err, gitsnap.ErrIntegrity) },
			wantMsg:   "stage database: chunk 2: integrity check failed",
			wantHint:  "the snapshot is damaged; nothing was changed",
			wantSafes: -1, // the safety snapshot may or may not have finished
		},
		{
			name: "staging fails",
			setup: func(r *stageRig, _ context.CancelFunc) {
				r.db.onStage = func(context.Context) error {
					<-r.db.started
					return gitsnap.WithHint(errors.New("no connection string"), "set $DATABASE_URL")
				}
			},
			wantDB:    []string{"stage", "capture 1"},
			wantMsg:   "stopped before changing anything: stage database: no connection string",
			wantHint:  "nothing was changed; set $DATABASE_URL",
			wantSafes: -1,
		},
		{
			name: "interrupted while staging",
			setup: func(r *stageRig, cancel context.CancelFunc) {
				r.db.onStage = func(ctx context.Context) error {
					<-r.db.started
					cancel()
					<-ctx.Done()
					return ctx.Err()
				}
			},
			wantDB:    []string{"stage", "capture 1"},
			wantErr:   func(err error) bool { return errors.Is(err, context.Canceled) },
			wantMsg:   "stopped before changing anything: context canceled",
			wantHint:  "nothing was changed",
			wantSafes: -1,
		},
		{
			name:   "stop command fails",
			config: "[restore]\nstop = [\"exit 3\"]\n",
			wantDB: []string{"stage", "capture 1", "discard"},
			wantErr: func(err error) bool {
				var rf *gitsnap.RestoreFailedError
				return !errors.As(err, &rf)
			},
			wantMsg:   "stopped before changing anything: restore.stop command",
			wantHint:  "nothing was changed",
			wantSafes: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newStageRig(t, tc.config)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.setup != nil {
				tc.setup(r, cancel)
			}
			_, err := r.restore(ctx)
			if err == nil {
				t.Fatal("restore succeeded")
			}
			t.Logf("error: %v (hint: %s)", err, gitsnap.HintOf(err))
			var rf *gitsnap.RestoreFailedError
			if errors.As(err, &rf) {
				t.Errorf("a restore that changed nothing reports a rollback: %v", err)
			}
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Errorf("error %v is not the expected kind", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			if !strings.HasPrefix(gitsnap.HintOf(err), tc.wantHint) {
				t.Errorf("hint %q does not start with %q", gitsnap.HintOf(err), tc.wantHint)
			}
			r.wantState(t, "v2", "v2")
			got := r.db.calls()
			slices.Sort(got) // staging and the safety snapshot run at once
			want := slices.Sorted(slices.Values(tc.wantDB))
			wantCalls(t, "database", got, want)
			wantCalls(t, "files", r.files.calls(), []string{"capture 1"})
			if n := r.safetySnapshots(t); tc.wantSafes >= 0 && n != tc.wantSafes {
				t.Errorf("%d safety snapshots written, want %d", n, tc.wantSafes)
			}
			s, err := r.snap.Show(context.Background(), r.target)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Restores) != 0 {
				t.Errorf("a restore that changed nothing was recorded: %+v", s.Restores)
			}
		})
	}
}

// A scope failing before the staged one is committed: the staged copy is
// discarded before the rollback, which restores (not stages) from the
// safety snapshot.
func TestRestoreFailureBeforeCommitDiscardsStaged(t *testing.T) {
	r := newStageRig(t, "")
	r.files.restore = errors.New("disk full")
	_, err := r.restore(context.Background())
	var rf *gitsnap.RestoreFailedError
	if !errors.As(err, &rf) || !rf.RolledBack {
		t.Fatalf("want a rolled-back RestoreFailedError, got %v", err)
	}
	got := r.db.calls()
	slices.Sort(got[:2]) // stage and capture 1 run at once
	wantCalls(t, "database", got, []string{"capture 1", "stage", "discard", "restore"})
	wantCalls(t, "files", r.files.calls(), []string{"capture 1", "restore", "restore"})
	r.wantState(t, "v2", "v2")
}

// A failing Commit rolls back like a failing Restore.
func TestRestoreCommitFailureRollsBack(t *testing.T) {
	r := newStageRig(t, "")
	r.db.commit = errors.New("rename: database is being accessed by other users")
	_, err := r.restore(context.Background())
	var rf *gitsnap.RestoreFailedError
	if !errors.As(err, &rf) || !rf.RolledBack || !strings.Contains(err.Error(), "restore database: rename") {
		t.Fatalf("want a rolled-back RestoreFailedError naming the commit, got %v", err)
	}
	got := r.db.calls()
	slices.Sort(got[:2])
	wantCalls(t, "database", got, []string{"capture 1", "stage", "commit", "restore"})
	r.wantState(t, "v2", "v2")
}
