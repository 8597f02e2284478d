package database

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

// commandCase is a "database" kept in data.txt, dumped with cat and
// restored with a temp file + mv, as a user would write it.
func commandEnv(root string) *gitsnap.ScopeEnv {
	return &gitsnap.ScopeEnv{Root: root, Progress: gitsnap.NoProgress{}, Config: &gitsnap.Config{Database: []gitsnap.DatabaseConfig{{
		Name: "kv", Driver: "command",
		Dump:          `test "$DATABASE_URL" = "kv://u:s3cret@h/db" && cat data.txt`,
		RestoreCmd:    `cat > data.txt.tmp && mv data.txt.tmp data.txt`,
		SchemaVersion: `head -n1 data.txt | cut -d' ' -f2`,
	}}}}
}

func commandScope() *Scope {
	return New(WithDrivers(NewDrivers(NewCommand(ExecRunner{}))), WithGetenv(func(k string) string {
		if k == "DATABASE_URL" {
			return "kv://u:s3cret@h/db"
		}
		return ""
	}))
}

func readState(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return "missing"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCommandConformance(t *testing.T) {
	scopetest.Run(t, func(t *testing.T) *scopetest.Case {
		root := t.TempDir()
		data := filepath.Join(root, "data.txt")
		return &scopetest.Case{
			Scope: commandScope(),
			Env:   commandEnv(root),
			Setup: func(t *testing.T) {
				if err := os.WriteFile(data, []byte("schema 7\n"+strings.Repeat("key=value\n", 1000)), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			Mutate: func(t *testing.T) {
				if err := os.WriteFile(data, []byte("schema 8\nchanged\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			State: func(t *testing.T) string { return readState(t, data) },
		}
	})
}

func TestCommandRoundTripAndPlan(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data.txt")
	if err := os.WriteFile(data, []byte("schema 7\nhello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, env := commandScope(), commandEnv(root)
	st := capture(t, s, env)
	a := st.Artifacts()[0]
	if a.Meta["schema_version"] != "7" || a.Meta["driver"] != "command" || a.Meta["size"] != "15" || a.Meta["tables"] != "" {
		t.Errorf("meta = %q", a.Meta)
	}
	for k, v := range a.Meta {
		if strings.Contains(v, "s3cret") {
			t.Errorf("meta %s leaks the password: %q", k, v)
		}
	}
	if err := os.WriteFile(data, []byte("schema 12\nnewer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(context.Background(), env, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Op != gitsnap.OpReplace || p.Changes[0].Detail != "size ? → 15 B, schema 12 → 7" {
		t.Errorf("plan changes = %+v", p.Changes)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "BACKWARDS from 12 to 7") {
		t.Errorf("plan warnings = %q, want a schema downgrade warning", p.Warnings)
	}
	if err := s.Restore(context.Background(), env, st); err != nil {
		t.Fatal(err)
	}
	if got := readState(t, data); got != "schema 7\nhello\n" {
		t.Errorf("restored %q", got)
	}
}

func TestCommandRestoreKilledOnDamagedDump(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data.txt")
	if err := os.WriteFile(data, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := NewCommand(ExecRunner{})
	tg := Target{Root: root, Config: gitsnap.DatabaseConfig{Name: "kv", Driver: "command",
		// A pipeline: killing only sh would leave cat running to the mv.
		RestoreCmd: `cat | cat > data.txt.tmp && mv data.txt.tmp data.txt`}}
	bad := &failingReader{data: bytes.Repeat([]byte("x"), 1<<20), err: gitsnap.ErrIntegrity}
	err := d.Restore(context.Background(), tg, bad, Info{})
	if !errors.Is(err, gitsnap.ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
	time.Sleep(50 * time.Millisecond) // a surviving mv would have run by now
	if got := readState(t, data); got != "old" {
		t.Errorf("damaged dump was installed: %q...", got[:min(len(got), 20)])
	}
}

func TestCommandErrors(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name, dump, want string
	}{
		{"failing dump", `echo "cannot reach kv://u:s3cret@h/db" >&2; exit 2`, "dump command failed: exit status 2: cannot reach kv://u:xxxxx@h/db"},
		{"dump fails after output", `echo partial; exit 1`, "exit status 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &gitsnap.ScopeEnv{Root: root, Config: &gitsnap.Config{Database: []gitsnap.DatabaseConfig{{
				Name: "kv", Driver: "command", Dump: tc.dump, RestoreCmd: "cat >/dev/null"}}}}
			err := commandScope().Capture(context.Background(), env, scopetest.NewStore("database"))
			if err == nil {
				t.Fatal("capture succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, "database kv") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "s3cret") {
				t.Errorf("error %q: want it to name database kv and contain %q, without the password", msg, tc.want)
			}
			if gitsnap.HintOf(err) == "" {
				t.Errorf("no hint on %q", msg)
			}
		})
	}
}

func TestCommandCancelKillsGroup(t *testing.T) {
	root := t.TempDir()
	d := NewCommand(ExecRunner{WaitDelay: time.Second})
	tg := Target{Root: root, Config: gitsnap.DatabaseConfig{Name: "kv", Dump: `sleep 30 | cat`}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.Dump(ctx, tg, &bytes.Buffer{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancelled dump took %v", el)
	}
}

// failingReader yields data, then err instead of io.EOF.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}
