package database

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

// TestPostgresStageCommitAndDiscard: Stage loads into a temporary
// database and leaves the live one alone; Commit swaps it in; Discard
// drops it, is idempotent, and a discarded copy cannot be committed.
func TestPostgresStageCommitAndDiscard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgAdminURL(t)
	role := pgRole(t, admin)
	admin, url, name := pgTestDB(t)
	pgFixture(t, url, name, role)
	want := pgFingerprint(t, url)
	d := NewPostgres(ExecRunner{}).(*Postgres)
	tgt := pgTestTarget(url)
	var dump bytes.Buffer
	info, err := d.Dump(ctx, tgt, &dump)
	if err != nil {
		t.Fatal(err)
	}
	pgSQL(t, url, "DELETE FROM orders WHERE id % 2 = 0; DROP VIEW big_orders; INSERT INTO app.schema_migrations VALUES (20250101);")
	changed := pgFingerprint(t, url)

	// Discard: nothing live changes, nothing is left.
	st, err := d.Stage(ctx, tgt, bytes.NewReader(dump.Bytes()), info)
	if err != nil {
		t.Fatal(err)
	}
	if left := pgLeftovers(t, admin, name); len(left) != 1 || !strings.Contains(left[0], "__gitsnap_tmp_") {
		t.Errorf("while staged: databases %v, want one temporary copy", left)
	}
	if diff := cmp.Diff(changed, pgFingerprint(t, url)); diff != "" {
		t.Errorf("Stage changed the live database (-want +got):\n%s", diff)
	}
	for range 2 {
		if err := st.Discard(ctx); err != nil {
			t.Fatalf("discard: %v", err)
		}
	}
	if left := pgLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("after Discard: databases left behind: %v", left)
	}
	if err := st.Commit(ctx); err == nil {
		t.Error("Commit after Discard succeeded")
	}
	if diff := cmp.Diff(changed, pgFingerprint(t, url)); diff != "" {
		t.Errorf("Discard changed the live database (-want +got):\n%s", diff)
	}

	// Commit: the snapshot is live, with a session open on the old one.
	st, err = d.Stage(ctx, tgt, bytes.NewReader(dump.Bytes()), info)
	if err != nil {
		t.Fatal(err)
	}
	sess := osexec.Command("psql", "-X", "-q", "-d", url, "-c", "SELECT pg_sleep(30)")
	if err := sess.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSession(t, admin, name)
	if err := st.Commit(ctx); err != nil {
		_ = sess.Process.Kill()
		t.Fatal(err)
	}
	_ = sess.Wait() // terminated by the swap
	if diff := cmp.Diff(want, pgFingerprint(t, url)); diff != "" {
		t.Errorf("committed database differs (-want +got):\n%s", diff)
	}
	if left := pgLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("after Commit: databases left behind: %v", left)
	}
	if err := st.Discard(ctx); err != nil {
		t.Errorf("Discard after Commit: %v", err)
	}
	if diff := cmp.Diff(want, pgFingerprint(t, url)); diff != "" {
		t.Errorf("Discard after Commit changed the database (-want +got):\n%s", diff)
	}
}

// TestPostgresStageFailures: a damaged or cancelled load fails in Stage,
// before anything live changed, and leaves no temporary database.
func TestPostgresStageFailures(t *testing.T) {
	t.Parallel()
	admin, url, name := pgTestDB(t)
	pgSQL(t, url, "CREATE SCHEMA app; CREATE TABLE app.schema_migrations (version int); CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 50000) g;")
	d := NewPostgres(ExecRunner{}).(*Postgres)
	var dump bytes.Buffer
	info, err := d.Dump(context.Background(), pgTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	pgSQL(t, url, "DELETE FROM t WHERE g > 10;")
	want := pgFingerprint(t, url)
	full := dump.Bytes()
	for _, tc := range []struct {
		name   string
		reader func(ctx context.Context, cancel context.CancelFunc) io.Reader
		want   error
	}{
		{"digest mismatch at EOF", func(context.Context, context.CancelFunc) io.Reader {
			return &failAfter{r: bytes.NewReader(full), err: fmt.Errorf("chunk 3: %w", gitsnap.ErrIntegrity)}
		}, gitsnap.ErrIntegrity},
		{"cancelled midway", func(ctx context.Context, cancel context.CancelFunc) io.Reader {
			return &blockAfter{r: bytes.NewReader(full), n: len(full) / 2, ctx: ctx, cancel: cancel}
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			st, err := d.Stage(ctx, pgTestTarget(url), tc.reader(ctx, cancel), info)
			if err == nil || st != nil {
				t.Fatalf("Stage = %v, %v; want an error", st, err)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			if left := pgLeftovers(t, admin, name); len(left) > 0 {
				t.Errorf("temporary databases left behind: %v", left)
			}
			if diff := cmp.Diff(want, pgFingerprint(t, url)); diff != "" {
				t.Errorf("live database changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMySQLStageCommitAndDiscard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, url, name := myTestDB(t)
	myFixture(t, url)
	want := myFingerprint(t, url)
	d := NewMySQL(ExecRunner{}).(*MySQL)
	tgt := myTestTarget(url)
	var dump bytes.Buffer
	info, err := d.Dump(ctx, tgt, &dump)
	if err != nil {
		t.Fatal(err)
	}
	mySQL(t, url, "SET FOREIGN_KEY_CHECKS = 0; DELETE FROM orders WHERE id % 3 = 0; DROP VIEW big_orders; DROP TRIGGER orders_mark2;")
	changed := myFingerprint(t, url)

	st, err := d.Stage(ctx, tgt, bytes.NewReader(dump.Bytes()), info)
	if err != nil {
		t.Fatal(err)
	}
	if left := myLeftovers(t, admin, name); len(left) != 1 || !strings.Contains(left[0], "__gitsnap_tmp_") {
		t.Errorf("while staged: schemas %v, want one temporary copy", left)
	}
	if diff := cmp.Diff(changed, myFingerprint(t, url)); diff != "" {
		t.Errorf("Stage changed the live schema (-want +got):\n%s", diff)
	}
	for range 2 {
		if err := st.Discard(ctx); err != nil {
			t.Fatalf("discard: %v", err)
		}
	}
	if left := myLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("after Discard: schemas left behind: %v", left)
	}
	if diff := cmp.Diff(changed, myFingerprint(t, url)); diff != "" {
		t.Errorf("Discard changed the live schema (-want +got):\n%s", diff)
	}

	st, err = d.Stage(ctx, tgt, bytes.NewReader(dump.Bytes()), info)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, myFingerprint(t, url)); diff != "" {
		t.Errorf("committed schema differs (-want +got):\n%s", diff)
	}
	if left := myLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("after Commit: schemas left behind: %v", left)
	}
	if err := st.Discard(ctx); err != nil {
		t.Errorf("Discard after Commit: %v", err)
	}
}

func TestMySQLStageDamagedDump(t *testing.T) {
	t.Parallel()
	admin, url, name := myTestDB(t)
	myFixture(t, url)
	d := NewMySQL(ExecRunner{}).(*MySQL)
	var dump bytes.Buffer
	info, err := d.Dump(context.Background(), myTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	mySQL(t, url, "DELETE FROM orders WHERE id % 3 = 0;")
	want := myFingerprint(t, url)
	r := &failAfter{r: bytes.NewReader(dump.Bytes()), err: fmt.Errorf("chunk 1: %w", gitsnap.ErrIntegrity)}
	if st, err := d.Stage(context.Background(), myTestTarget(url), r, info); !errors.Is(err, gitsnap.ErrIntegrity) || st != nil {
		t.Errorf("Stage = %v, %v; want an integrity error", st, err)
	}
	if left := myLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("schemas left behind: %v", left)
	}
	if diff := cmp.Diff(want, myFingerprint(t, url)); diff != "" {
		t.Errorf("live schema changed (-want +got):\n%s", diff)
	}
}

// TestSQLiteStage: the staged copy lives in TempDir, never next to the
// database (the worktree), until Commit; Discard and failures remove it.
func TestSQLiteStage(t *testing.T) {
	root, tmp := t.TempDir(), t.TempDir()
	app := filepath.Join(root, "var/app.db")
	seedDB(t, app, true)
	drv := &SQLite{TempDir: tmp}
	s := New(WithDrivers(NewDrivers(drv)), WithGetenv(noEnv))
	env := sqliteEnv(root, gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "var/app.db"})
	good := capture(t, s, env)
	want := dbState(t, app)
	execSQL(t, app, "DELETE FROM users WHERE id > 40", "DROP VIEW user_posts")
	changed := dbState(t, app)
	ctx := context.Background()
	stagedFiles := func() int {
		ents, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}

	st, err := s.Stage(ctx, env, good)
	if err != nil {
		t.Fatal(err)
	}
	if n := stagedFiles(); n != 1 {
		t.Errorf("%d files in TempDir while staged, want 1", n)
	}
	noTempFiles(t, filepath.Dir(app), "app.db", "app.db-wal", "app.db-shm")
	if got := dbState(t, app); got != changed {
		t.Error("Stage changed the live database")
	}
	if err := st.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stagedFiles(); n != 0 {
		t.Errorf("%d files left in TempDir after Discard", n)
	}
	if got := dbState(t, app); got != changed {
		t.Error("Discard changed the live database")
	}

	st, err = s.Stage(ctx, env, good)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, dbState(t, app)); diff != "" {
		t.Errorf("committed database differs (-want +got):\n%s", diff)
	}
	if n := stagedFiles(); n != 0 {
		t.Errorf("%d files left in TempDir after Commit", n)
	}
	noTempFiles(t, filepath.Dir(app), "app.db", "app.db-wal", "app.db-shm")

	// A damaged dump fails in Stage and leaves nothing anywhere.
	execSQL(t, app, "DELETE FROM users WHERE id > 40")
	changed = dbState(t, app)
	data, _ := good.Data("local")
	bad := scopetest.NewStore("database")
	bad.Add(gitsnap.Artifact{Path: "local", Kind: gitsnap.KindChunked, Meta: map[string]string{"driver": "sqlite"}}, data)
	bad.Corrupt("local")
	if st, err := s.Stage(ctx, env, bad); !errors.Is(err, gitsnap.ErrIntegrity) || st != nil {
		t.Errorf("Stage of a damaged dump = %v, %v; want an integrity error", st, err)
	}
	if n := stagedFiles(); n != 0 {
		t.Errorf("%d files left in TempDir after a failed Stage", n)
	}
	if got := dbState(t, app); got != changed {
		t.Error("a failed Stage changed the live database")
	}
}

// TestSQLiteStageTempDirInWorktree: with TempDir inside the worktree the
// driver does not stage (the copy would be seen by the other scopes), and
// the scope restores the database in Commit instead.
func TestSQLiteStageTempDirInWorktree(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "var/app.db")
	seedDB(t, app, false)
	drv := &SQLite{TempDir: filepath.Join(root, ".tmp")}
	if err := os.MkdirAll(drv.TempDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := New(WithDrivers(NewDrivers(drv)), WithGetenv(noEnv))
	env := sqliteEnv(root, gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "var/app.db"})
	good := capture(t, s, env)
	want := dbState(t, app)
	execSQL(t, app, "DELETE FROM users WHERE id > 40")
	data, _ := good.Data("local")
	if st, err := drv.Stage(context.Background(), Target{Config: env.Config.Database[0], Root: root}, bytes.NewReader(data), Info{}); st != nil || err != nil {
		t.Fatalf("driver Stage = %v, %v; want nil, nil", st, err)
	}
	st, err := s.Stage(context.Background(), env, good)
	if err != nil {
		t.Fatal(err)
	}
	noTempFiles(t, drv.TempDir)
	if err := st.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, dbState(t, app)); diff != "" {
		t.Errorf("restored database differs (-want +got):\n%s", diff)
	}
}

// stageFake is a driver that stages, recording what happens per database
// in a shared log.
type stageFake struct {
	fakeDriver
	name string
	log  *fakeLog
	fail map[string]error // "stage main", "commit main", "restore cache" …
}

type fakeLog struct {
	mu  sync.Mutex
	got []string
}

func (l *fakeLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, s)
}

func (f *stageFake) Name() string { return f.name }

func (f *stageFake) step(what string, t Target) error {
	f.log.add(what + " " + t.Config.Name)
	return f.fail[what+" "+t.Config.Name]
}

func (f *stageFake) Restore(_ context.Context, t Target, r io.Reader, _ Info) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return f.step("restore", t)
}

// stagingFake adds Stage to stageFake.
type stagingFake struct{ *stageFake }

func (f stagingFake) Stage(_ context.Context, t Target, r io.Reader, _ Info) (StagedDB, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, err
	}
	if err := f.step("stage", t); err != nil {
		return nil, err
	}
	return &fakeStaged{f: f.stageFake, t: t}, nil
}

type fakeStaged struct {
	f    *stageFake
	t    Target
	done bool
}

func (s *fakeStaged) Commit(context.Context) error {
	s.done = true
	return s.f.step("commit", s.t)
}

func (s *fakeStaged) Discard(context.Context) error {
	if !s.done {
		s.done = true
		s.f.log.add("discard " + s.t.Config.Name)
	}
	return nil
}

// TestScopeStage: the scope stages the databases whose driver can, in
// config order, restores the others in Commit, and discards what is left
// when something fails.
func TestScopeStage(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		fail       map[string]error
		discard    bool // Discard instead of Commit
		wantStage  error
		wantCommit error
		want       []string
	}{
		{name: "commit", want: []string{"stage a", "stage c", "commit a", "restore b", "commit c"}},
		{name: "discard", discard: true, want: []string{"stage a", "stage c", "discard a", "discard c"}},
		{name: "stage fails", fail: map[string]error{"stage c": boom}, wantStage: boom,
			want: []string{"stage a", "stage c", "discard a"}},
		{name: "first commit fails", fail: map[string]error{"commit a": boom}, wantCommit: boom,
			want: []string{"stage a", "stage c", "commit a", "discard c"}},
		{name: "unstaged restore fails", fail: map[string]error{"restore b": boom}, wantCommit: boom,
			want: []string{"stage a", "stage c", "commit a", "restore b", "discard c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &fakeLog{}
			pg := &stageFake{name: "pg", log: log, fail: tc.fail}
			cmd := &stageFake{name: "cmd", log: log, fail: tc.fail}
			s := New(WithDrivers(NewDrivers(stagingFake{pg}, cmd)), WithGetenv(noEnv))
			env := &gitsnap.ScopeEnv{Root: t.TempDir(), Config: &gitsnap.Config{Database: []gitsnap.DatabaseConfig{
				{Name: "a", Driver: "pg"}, {Name: "b", Driver: "cmd"}, {Name: "c", Driver: "pg"},
			}}}
			store := scopetest.NewStore("database")
			for _, n := range []string{"a", "b", "c"} {
				store.Add(gitsnap.Artifact{Path: n, Kind: gitsnap.KindChunked}, []byte("dump of "+n))
			}
			ctx := context.Background()
			st, err := s.Stage(ctx, env, store)
			if !errors.Is(err, tc.wantStage) || (err == nil) != (tc.wantStage == nil) {
				t.Fatalf("Stage: %v, want %v", err, tc.wantStage)
			}
			if err == nil {
				if tc.discard {
					err = st.Discard(ctx)
				} else {
					err = st.Commit(ctx)
				}
				if !errors.Is(err, tc.wantCommit) || (err == nil) != (tc.wantCommit == nil) {
					t.Errorf("Commit: %v, want %v", err, tc.wantCommit)
				}
				if derr := st.Discard(ctx); derr != nil {
					t.Errorf("Discard afterwards: %v", derr)
				}
			}
			if !slices.Equal(log.got, tc.want) {
				t.Errorf("calls = %q, want %q", log.got, tc.want)
			}
		})
	}
}
