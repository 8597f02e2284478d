package database

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

func noEnv(string) string { return "" }

func sqliteScope() *Scope {
	return New(WithDrivers(NewDrivers(NewSQLite())), WithGetenv(noEnv))
}

func sqliteEnv(root string, dbs ...gitsnap.DatabaseConfig) *gitsnap.ScopeEnv {
	if len(dbs) == 0 {
		dbs = []gitsnap.DatabaseConfig{
			{Name: "local", Driver: "sqlite", Path: "var/app.db", SchemaVersion: "SELECT max(version) FROM schema_migrations"},
			{Name: "cache", Driver: "sqlite", Path: "var/cache.db"},
		}
	}
	return &gitsnap.ScopeEnv{Root: root, Config: &gitsnap.Config{Database: dbs}, Progress: gitsnap.NoProgress{}}
}

func TestSQLiteConformance(t *testing.T) {
	scopetest.Run(t, func(t *testing.T) *scopetest.Case {
		root := t.TempDir()
		app, cache := filepath.Join(root, "var/app.db"), filepath.Join(root, "var/cache.db")
		return &scopetest.Case{
			Scope: sqliteScope(),
			Env:   sqliteEnv(root),
			Setup: func(t *testing.T) {
				seedDB(t, app, true)
				seedDB(t, cache, false)
			},
			Mutate: func(t *testing.T) {
				execSQL(t, app, "UPDATE users SET name = 'changed' WHERE id = 7", "DROP TABLE posts")
				execSQL(t, cache, "DELETE FROM users WHERE id > 10")
			},
			State: func(t *testing.T) string {
				return "app:\n" + dbState(t, app) + "cache:\n" + dbState(t, cache)
			},
		}
	})
}

// capture runs the scope's Capture into a new store.
func capture(t *testing.T, s *Scope, env *gitsnap.ScopeEnv) *scopetest.Store {
	t.Helper()
	st := scopetest.NewStore(s.Name())
	if err := s.Capture(context.Background(), env, st); err != nil {
		t.Fatalf("capture: %v", err)
	}
	return st
}

func TestSQLiteRoundTripKeepsWALAndMode(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "var/app.db")
	seedDB(t, app, true)
	s, env := sqliteScope(), sqliteEnv(root, gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "var/app.db"})
	want := dbState(t, app)
	st := capture(t, s, env)
	a := st.Artifacts()[0]
	wantMeta := map[string]string{
		"driver": "sqlite", "dump_format": "sqlite3 database file (VACUUM INTO)", "journal_mode": "wal",
		"schema_version": "3", "tables": "4", "size": a.Meta["size"], "server_version": a.Meta["server_version"],
	}
	if diff := cmp.Diff(wantMeta, a.Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(a.Meta["server_version"], "SQLite 3.") || a.Meta["size"] != "0" && a.Meta["size"] == "" {
		t.Errorf("meta server_version/size: %q", a.Meta)
	}

	os.Remove(app)
	os.Remove(app + "-wal")
	os.Remove(app + "-shm")
	execSQL(t, app, "CREATE TABLE other (x)")
	if err := os.Chmod(app, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(context.Background(), env, st); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, dbState(t, app)); diff != "" {
		t.Fatalf("restored database differs (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(app)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after restore = %v, want 0640", fi.Mode().Perm())
	}
	if mode, err := sqliteJournalMode(context.Background(), app); err != nil || mode != "wal" {
		t.Errorf("journal mode after restore = %q, %v; want wal", mode, err)
	}
	// Read-only connections of a WAL database (dbState) may leave -wal/-shm.
	noTempFiles(t, filepath.Dir(app), "app.db", "app.db-wal", "app.db-shm")
}

func TestSQLiteDumpDeterministic(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app.db")
	seedDB(t, app, true)
	// Fragment the file: free pages and a WAL that is not checkpointed.
	execSQL(t, app, "DELETE FROM posts WHERE id % 3 = 0", "INSERT INTO posts (user_id, body) SELECT user_id, body FROM posts WHERE id % 5 = 0")
	d := NewSQLite()
	tg := Target{Config: gitsnap.DatabaseConfig{Name: "x", Driver: "sqlite", Path: "app.db"}, Root: root}
	var a, b bytes.Buffer
	ia, err := d.Dump(context.Background(), tg, &a)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := d.Dump(context.Background(), tg, &b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two dumps of an unchanged database differ")
	}
	if diff := cmp.Diff(ia, ib); diff != "" {
		t.Errorf("dump facts differ (-first +second):\n%s", diff)
	}
	if ia.Size != int64(a.Len()) {
		t.Errorf("Info.Size = %d, dump has %d bytes", ia.Size, a.Len())
	}
	// A restored copy dumps to the same bytes again (restore is idempotent
	// and a plan right after it is empty).
	if err := d.Restore(context.Background(), tg, bytes.NewReader(a.Bytes()), Info{Meta: map[string]string{"journal_mode": "wal"}}); err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	if _, err := d.Dump(context.Background(), tg, &c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("dump of the restored database differs from the dump it came from")
	}
}

func TestSQLiteCaptureWhileWriting(t *testing.T) {
	for _, wal := range []bool{true, false} {
		name := "rollback"
		if wal {
			name = "wal"
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			app := filepath.Join(root, "app.db")
			seedDB(t, app, wal)
			execSQL(t, app, "CREATE TABLE ledger (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)")
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var writes atomic.Int64
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := sqliteOpen(app, "rw")
				if err != nil {
					t.Error(err)
					return
				}
				defer db.Close()
				for i := 0; ctx.Err() == nil; i++ {
					// Each transaction writes two rows that must appear together.
					tx, err := db.Begin()
					if err != nil {
						t.Error(err)
						return
					}
					_, e1 := tx.Exec("INSERT INTO ledger (a, b) VALUES (?, ?)", i, -i)
					_, e2 := tx.Exec("UPDATE users SET score = score + 1 WHERE id = 1")
					if e1 != nil || e2 != nil {
						tx.Rollback()
						t.Error(e1, e2)
						return
					}
					if err := tx.Commit(); err != nil {
						t.Error(err)
						return
					}
					writes.Add(1)
				}
			}()
			for writes.Load() < 20 {
				time.Sleep(time.Millisecond)
			}
			s := sqliteScope()
			env := sqliteEnv(root, gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "app.db"})
			var stores []*scopetest.Store
			for i := 0; i < 3; i++ {
				stores = append(stores, capture(t, s, env))
			}
			cancel()
			wg.Wait()
			// Each capture is a valid database where the writer's two
			// statements are either both in or both out.
			for i, st := range stores {
				data, _ := st.Data("local")
				p := filepath.Join(t.TempDir(), "copy.db")
				if err := os.WriteFile(p, data, 0o600); err != nil {
					t.Fatal(err)
				}
				if s := dbState(t, p); !strings.Contains(s, "integrity=ok") {
					t.Errorf("capture %d is not a valid database: %s", i, s)
				}
				db, _ := sqliteOpen(p, "ro")
				var n int
				var score float64
				if err := db.QueryRow("SELECT count(*) FROM ledger").Scan(&n); err != nil {
					t.Fatal(err)
				}
				if err := db.QueryRow("SELECT score FROM users WHERE id = 1").Scan(&score); err != nil {
					t.Fatal(err)
				}
				db.Close()
				if n == 0 || float64(n)+1.5 != score {
					t.Errorf("capture %d is not a consistent snapshot: %d ledger rows, score %v", i, n, score)
				}
			}
			t.Logf("%d writes during the captures", writes.Load())
		})
	}
}

func TestSQLiteRestoreFailureLeavesOldDatabase(t *testing.T) {
	tests := []struct {
		name   string
		reader func(good []byte) *scopetest.Store
		want   error
	}{
		{"digest mismatch at the end", func(good []byte) *scopetest.Store {
			st := scopetest.NewStore("database")
			st.Add(gitsnap.Artifact{Path: "local", Kind: gitsnap.KindChunked, Meta: map[string]string{"driver": "sqlite"}}, good)
			st.Corrupt("local")
			return st
		}, gitsnap.ErrIntegrity},
		{"not a database", func([]byte) *scopetest.Store {
			st := scopetest.NewStore("database")
			st.Add(gitsnap.Artifact{Path: "local", Kind: gitsnap.KindChunked}, bytes.Repeat([]byte("garbage!"), 4096))
			return st
		}, nil},
		{"truncated database", func(good []byte) *scopetest.Store {
			st := scopetest.NewStore("database")
			st.Add(gitsnap.Artifact{Path: "local", Kind: gitsnap.KindChunked}, good[:len(good)/2])
			return st
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			app := filepath.Join(root, "var/app.db")
			seedDB(t, app, true)
			s, env := sqliteScope(), sqliteEnv(root, gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "var/app.db"})
			good, _ := capture(t, s, env).Data("local")
			execSQL(t, app, "DELETE FROM users WHERE id > 40")
			// Keep an open writer with data in its WAL: the failed restore
			// must not disturb it.
			live := openTestDB(t, app)
			if _, err := live.Exec("INSERT INTO audit VALUES (999)"); err != nil {
				t.Fatal(err)
			}
			want := dbState(t, app)
			err := s.Restore(context.Background(), env, tc.reader(good))
			if err == nil {
				t.Fatal("restore of a bad dump succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "database local") {
				t.Errorf("error is not one line naming the database: %q", msg)
			}
			if gitsnap.HintOf(err) == "" {
				t.Errorf("no hint on %v", err)
			}
			if diff := cmp.Diff(want, dbState(t, app)); diff != "" {
				t.Errorf("old database changed (-want +got):\n%s", diff)
			}
			live.Close()
			noTempFiles(t, filepath.Dir(app), "app.db", "app.db-wal", "app.db-shm")
		})
	}
}

func TestSQLiteErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "junk.db"), []byte("this is not sqlite"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cfg      gitsnap.DatabaseConfig
		wantIs   error
		wantText string
	}{
		{"missing file", gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "var/nope.db"}, ErrNotExist, "var/nope.db"},
		{"escaping path", gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "../outside.db"}, gitsnap.ErrUnsafePath, "outside.db"},
		{"no path", gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite"}, nil, "no path"},
		{"not a database", gitsnap.DatabaseConfig{Name: "local", Driver: "sqlite", Path: "junk.db"}, nil, "junk.db"},
		{"unknown driver", gitsnap.DatabaseConfig{Name: "local", Driver: "oracle"}, nil, `driver "oracle"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := sqliteScope().Capture(context.Background(), sqliteEnv(root, tc.cfg), scopetest.NewStore("database"))
			if err == nil {
				t.Fatal("capture succeeded")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want %v", err, tc.wantIs)
			}
			msg := err.Error()
			if !strings.Contains(msg, "database local") || !strings.Contains(msg, tc.wantText) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming database local and %q", msg, tc.wantText)
			}
			if gitsnap.HintOf(err) == "" {
				t.Errorf("no hint on %q", msg)
			}
		})
	}
}

func TestSQLiteOddPath(t *testing.T) {
	root := t.TempDir()
	rel := "data/my app #1?x=y%20.db"
	p := filepath.Join(root, filepath.FromSlash(rel))
	seedDB(t, p, false)
	// A file literally named like the unescaped URI must not be used instead.
	if err := os.WriteFile(filepath.Join(root, "data/my app "), []byte("decoy"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, env := sqliteScope(), sqliteEnv(root, gitsnap.DatabaseConfig{Name: "odd", Driver: "sqlite", Path: rel})
	want := dbState(t, p)
	st := capture(t, s, env)
	execSQL(t, p, "DELETE FROM users")
	if err := s.Restore(context.Background(), env, st); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, dbState(t, p)); diff != "" {
		t.Errorf("restored database differs (-want +got):\n%s", diff)
	}
}
