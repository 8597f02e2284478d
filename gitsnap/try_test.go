package gitsnap_test

import (
	"bytes"
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
	"github.com/git-snap/git-snap/scopes"
)

const dbFixtureConfig = `[snapshot]
scopes = ["code", "config", "database"]
[config]
paths = ["config/**"]
[[database]]
name = "app"
driver = "sqlite"
path = "var/app.db"
[[check]]
name = "schema"
kind = "smoke"
run = "sqlite3 var/app.db 'SELECT name FROM users' >/dev/null && grep -q 'port = 1' config/app.toml"
`

// newDBFixture is a committed repo with a config file and a SQLite
// database whose schema the check reads.
func newDBFixture(t *testing.T) (string, *gitsnap.Snap) {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 not installed")
	}
	dir := gitsnaptest.NewGitRepo(t)
	write(t, dir, ".gitsnap.toml", dbFixtureConfig, 0o644)
	write(t, dir, ".gitignore", "var/\n", 0o644)
	write(t, dir, "config/app.toml", "port = 1\n", 0o644)
	gitsnaptest.RunGit(t, dir, "add", "-A")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "init")
	sqlite(t, dir, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO users VALUES (1, 'ada'), (2, 'grace');")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := gitsnap.New(gitsnap.Options{Repo: gitsnaptest.OpenGitRepo(t, dir), Scopes: scopes.Default(), Now: func() time.Time {
		now = now.Add(time.Second)
		return now
	}})
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func sqlite(t *testing.T, dir, sql string) string {
	t.Helper()
	cmd := exec.Command("sqlite3", "var/app.db", sql)
	cmd.Dir = dir
	if err := os.MkdirAll(filepath.Join(dir, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v: %s", sql, err, out)
	}
	return string(out)
}

func TestTryRollsBackABrokenMigration(t *testing.T) {
	cases := []struct {
		name    string
		command []string
		timeout time.Duration
		outcome string
		exit    int
	}{
		{"validation fails", []string{"sqlite3 var/app.db 'ALTER TABLE users RENAME COLUMN name TO full_name; INSERT INTO users VALUES (3, \"x\")'"}, 0, gitsnap.OutcomeValidationFailed, 0},
		{"command fails", []string{"sh", "-c", "sqlite3 var/app.db 'DROP TABLE users' && echo 'port = 2' > config/app.toml && exit 3"}, 0, gitsnap.OutcomeCommandFailed, 3},
		{"times out", []string{"sqlite3 var/app.db 'DELETE FROM users' && sleep 30"}, 300 * time.Millisecond, gitsnap.OutcomeTimedOut, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, s := newDBFixture(t)
			dumpBefore := sqlite(t, dir, ".dump")
			var out bytes.Buffer
			res, err := s.Try(context.Background(), gitsnap.TryOptions{Command: tc.command, Timeout: tc.timeout, Stdout: &out, Stderr: &out})
			var fe *gitsnap.TryFailedError
			if !errors.As(err, &fe) || !fe.RolledBack || fe.Outcome != tc.outcome {
				t.Fatalf("want a rolled-back %s, got %v (output %q)", tc.outcome, err, out.String())
			}
			if res.ExitCode != tc.exit || !res.RolledBack || res.After != nil {
				t.Errorf("result: exit %d rolled back %v after %v", res.ExitCode, res.RolledBack, res.After)
			}
			if got := sqlite(t, dir, ".dump"); got != dumpBefore {
				t.Errorf("database differs after rollback:\n%s\nwant:\n%s", got, dumpBefore)
			}
			if got := read(t, dir, "config/app.toml"); got != "port = 1\n" {
				t.Errorf("config after rollback: %q", got)
			}
			before, err := s.Show(context.Background(), res.Before.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !before.KnownGood() || !before.HasTag(gitsnap.TagPreTry) || len(before.Restores) != 1 || before.Restores[0].Result != "ok" {
				t.Errorf("pre-change snapshot: known-good %v tags %v restores %+v", before.KnownGood(), before.Tags, before.Restores)
			}
			if _, ok := before.Restores[0].ScopeMS["database"]; !ok {
				t.Errorf("rollback event has no database time: %+v", before.Restores[0])
			}
		})
	}
}

func TestTrySuccessWritesKnownGood(t *testing.T) {
	for _, deploy := range []bool{false, true} {
		t.Run(map[bool]string{false: "try", true: "deploy"}[deploy], func(t *testing.T) {
			dir, s := newDBFixture(t)
			res, err := s.Try(context.Background(), gitsnap.TryOptions{
				Command: []string{"sqlite3", "var/app.db", "ALTER TABLE users ADD COLUMN email TEXT"}, Deploy: deploy,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != gitsnap.OutcomeSucceeded || res.ExitCode != 0 || res.RolledBack {
				t.Fatalf("result %+v", res)
			}
			if !res.After.KnownGood() || res.After.HasTag(gitsnap.TagDeploy) != deploy {
				t.Errorf("post-change snapshot tags %v status %s", res.After.Tags, res.After.Status)
			}
			wantLevel := "perf"
			if deploy {
				wantLevel = "full"
			}
			if res.Validation.Level != wantLevel {
				t.Errorf("validation level %q, want %q", res.Validation.Level, wantLevel)
			}
			if !strings.Contains(sqlite(t, dir, ".schema users"), "email") {
				t.Error("the change was not kept")
			}
		})
	}
}

func TestTryRefusesAFailingStartState(t *testing.T) {
	dir, s := newDBFixture(t)
	write(t, dir, "config/app.toml", "port = 9\n", 0o644)
	_, err := s.Try(context.Background(), gitsnap.TryOptions{Command: []string{"touch ran"}})
	var ve *gitsnap.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	if read(t, dir, "ran") != "<missing>" {
		t.Error("the command ran although the start state failed validation")
	}
	if refs := gitsnaptest.RunGit(t, dir, "for-each-ref", "refs/snapshots/"); refs != "" {
		t.Errorf("snapshots written: %s", refs)
	}
	// --allow-unvalidated starts anyway; the failing post state rolls back.
	res, err := s.Try(context.Background(), gitsnap.TryOptions{Command: []string{"touch config/ran"}, AllowUnvalidated: true})
	var fe *gitsnap.TryFailedError
	if !errors.As(err, &fe) || !fe.RolledBack || res.Before.Status != gitsnap.StatusUnknown {
		t.Fatalf("want a rollback from an unvalidated snapshot, got %v", err)
	}
	if read(t, dir, "config/ran") != "<missing>" || read(t, dir, "config/app.toml") != "port = 9\n" {
		t.Error("rollback did not restore the unvalidated start state")
	}
}

func TestTryInterrupted(t *testing.T) {
	dir, s := newDBFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { // cancel once the change is running
		for read(t, dir, "var/started") == "<missing>" {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	_, err := s.Try(ctx, gitsnap.TryOptions{Command: []string{"echo 'port = 5' > config/app.toml; touch var/started; sleep 30"}})
	var fe *gitsnap.TryFailedError
	if !errors.As(err, &fe) || !errors.Is(err, context.Canceled) || !fe.RolledBack {
		t.Fatalf("want an interrupted, rolled-back change, got %v", err)
	}
	if got := read(t, dir, "config/app.toml"); got != "port = 1\n" {
		t.Errorf("config after an interrupted change: %q", got)
	}
}
