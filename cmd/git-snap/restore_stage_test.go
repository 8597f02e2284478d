package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

// A restore loads a PostgreSQL snapshot into a temporary database while it
// takes the safety snapshot (staging). These tests stop such restores
// before the swap, with the real binary and a real server, and check that
// the live database is as it was and no temporary database is left.
//
// pg_dump and pg_restore are wrapped by shell scripts first on PATH: the
// pg_restore wrapper touches $GITSNAP_TEST_MARKS/staging (the temporary
// database exists by then) and, when $GITSNAP_TEST_MARKS/slow exists,
// sleeps before it runs; the pg_dump wrapper, when
// $GITSNAP_TEST_MARKS/faildump exists, waits for staging (10 s at most)
// and fails.

const pgWrapRestore = `#!/bin/sh
touch "$GITSNAP_TEST_MARKS/staging"
if [ -f "$GITSNAP_TEST_MARKS/slow" ]; then
  trap 'kill $! 2>/dev/null; exit 143' TERM INT
  sleep 20 &
  wait $!
fi
exec %q "$@"
`

const pgWrapDump = `#!/bin/sh
if [ -f "$GITSNAP_TEST_MARKS/faildump" ]; then
  i=0
  while [ ! -f "$GITSNAP_TEST_MARKS/staging" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done
  echo "pg_dump: error: connection to server lost" >&2
  exit 1
fi
exec %q "$@"
`

// pgDumpSafety makes a restore dump the live database into its safety
// snapshot first (the staged tests of that path) instead of holding it.
const pgDumpSafety = "\n[restore]\ndatabase_safety = \"dump\"\n"

// pgStage is a repository whose database scope is one fresh PostgreSQL
// database, with a snapshot of it (id) taken before its rows changed.
type pgStage struct {
	r     *e2eRig
	dir   string
	admin string
	name  string
	url   string
	marks string // directory of the wrappers' marker files
	bin   string // directory of the wrappers
	id    string
	live  string   // the live data's fingerprint after the change
	env   []string // added to git-snap's environment
}

// newPGStage makes the repository; extra is appended to its .gitsnap.toml.
func newPGStage(t *testing.T, extra string) *pgStage {
	t.Helper()
	admin, err := url.Parse(dbtest.Env("GITSNAP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
	if err != nil {
		t.Fatalf("GITSNAP_TEST_POSTGRES_URL: %v", err)
	}
	addr := admin.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "5432")
	}
	dbtest.RequireService(t, "PostgreSQL", addr)
	tools := map[string]string{}
	for _, tool := range []string{"psql", "pg_dump", "pg_restore"} {
		tools[tool] = dbtest.RequireTool(t, tool)
	}
	r := newE2ERig(t)
	p := &pgStage{r: r, admin: admin.String(), name: dbtest.UniqueName(t, "stage"), marks: t.TempDir(), bin: t.TempDir()}
	p.url = pgDBURL(admin, p.name)
	for tool, script := range map[string]string{"pg_restore": pgWrapRestore, "pg_dump": pgWrapDump} {
		if err := os.WriteFile(filepath.Join(p.bin, tool), []byte(fmt.Sprintf(script, tools[tool])), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.psql(t, p.admin, "CREATE DATABASE "+p.name)
	t.Cleanup(func() {
		for _, db := range append(p.leftovers(t), p.name) {
			p.psql(t, p.admin, fmt.Sprintf("DROP DATABASE IF EXISTS %q WITH (FORCE)", db))
		}
	})
	p.psql(t, p.url, "CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 20000) g")
	p.dir = r.repo(map[string]string{".gitsnap.toml": "[snapshot]\nscopes = [\"database\"]\n\n[[database]]\nname = \"main\"\ndriver = \"postgres\"\n" + extra})
	out, errOut, code := p.snap(t, "create", "-m", "good", "--no-validate")
	m := createdRe.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create: exit %d\n%s%s", code, out, errOut)
	}
	p.id = m[1]
	p.psql(t, p.url, "UPDATE t SET h = 'changed' WHERE g % 10 = 0")
	p.live = p.fingerprint(t)
	return p
}

func (p *pgStage) psql(t *testing.T, u, sql string) string {
	t.Helper()
	out, err := exec.Command("psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", u, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (p *pgStage) fingerprint(t *testing.T) string {
	t.Helper()
	return p.psql(t, p.url, "SELECT count(*) || ' ' || md5(string_agg(g || ':' || h, ',' ORDER BY g)) FROM t")
}

// leftovers lists the temporary or old copies of the database.
func (p *pgStage) leftovers(t *testing.T) []string {
	t.Helper()
	return strings.Fields(p.psql(t, p.admin, fmt.Sprintf("SELECT datname FROM pg_database WHERE starts_with(datname, '%s__gitsnap_')", p.name)))
}

// command is the git-snap binary itself (not through git, whose signal
// handling would hide git-snap's exit code) in its own process group, with
// the wrappers first on PATH.
func (p *pgStage) command(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.r.bin, "git-snap"), args...)
	cmd.Dir = p.dir
	cmd.Env = append(append(p.r.env(), "DATABASE_URL="+p.url, "GITSNAP_TEST_MARKS="+p.marks), p.env...)
	for i, kv := range cmd.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			cmd.Env[i] = "PATH=" + p.bin + string(os.PathListSeparator) + v
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func (p *pgStage) snap(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := p.command(args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("git-snap %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

func (p *pgStage) mark(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.marks, name), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// unchanged checks that the live database is as before the restore, that
// no temporary database is left, and that no restore was recorded on id.
func (p *pgStage) unchanged(t *testing.T, id string) {
	t.Helper()
	if got := p.fingerprint(t); got != p.live {
		t.Errorf("live data changed: %s, want %s", got, p.live)
	}
	if left := p.leftovers(t); len(left) > 0 {
		t.Errorf("databases left behind: %v", left)
	}
	if note, _, code := p.r.run(p.dir, "notes", "--ref=snap", "show", "refs/snapshots/"+id); code == 0 && strings.Contains(note, `"type":"restored"`) {
		t.Errorf("a restore that changed nothing was recorded:\n%s", note)
	}
	noLocks(t, p.dir)
	p.r.fsck(p.dir)
}

// TestRestoreStagedRoundTrip: the restore through staging puts the
// snapshot back and leaves nothing behind.
func TestRestoreStagedRoundTrip(t *testing.T) {
	p := newPGStage(t, pgDumpSafety)
	want := p.psql(t, p.url, "SELECT 20000 || ' ' || md5(string_agg(g || ':' || md5(g::text), ',' ORDER BY g)) FROM generate_series(1, 20000) g")
	out, errOut, code := p.snap(t, "restore", p.id, "--yes", "--json")
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	if got := p.fingerprint(t); got != want {
		t.Errorf("restored data %s, want %s", got, want)
	}
	if left := p.leftovers(t); len(left) > 0 {
		t.Errorf("databases left behind: %v", left)
	}
	// The progress names the staging step before the safety snapshot.
	stage, safety := strings.Index(errOut, `"name":"stage"`), strings.Index(errOut, `"name":"safety"`)
	if stage < 0 || safety < stage {
		t.Errorf("progress lacks the stage step before the safety step:\n%s", errOut)
	}
	var sum struct {
		ScopeMS map[string]int64 `json:"scope_ms"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.ScopeMS["database"] <= 0 {
		t.Errorf("summary %q: scope_ms.database missing (%v)", out, err)
	}
}

// TestRestoreInterruptedWhileStaging: Ctrl-C while the snapshot is being
// loaded aside exits 130; nothing was changed and nothing is left.
func TestRestoreInterruptedWhileStaging(t *testing.T) {
	p := newPGStage(t, "")
	p.mark(t, "slow")
	cmd := p.command("restore", p.id, "--yes")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(p.marks, "staging"), 30*time.Second)
	if left := p.leftovers(t); len(left) != 1 {
		t.Errorf("while staging: databases %v, want the temporary one", left)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, 20*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "error: interrupted\nhint: ") && !strings.Contains(stderr.String(), "\nerror: interrupted\nhint: ") {
		t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
	}
	p.unchanged(t, p.id)
}

// TestRestoreSafetySnapshotFailsWhileStaging: the safety snapshot fails
// while the snapshot is being loaded aside: the restore stops with nothing
// changed and drops the temporary database.
func TestRestoreSafetySnapshotFailsWhileStaging(t *testing.T) {
	p := newPGStage(t, pgDumpSafety)
	p.mark(t, "faildump")
	p.mark(t, "slow")
	out, errOut, code := p.snap(t, "restore", p.id, "--yes")
	if code != exitFailed {
		t.Errorf("exit %d, want %d\n%s%s", code, exitFailed, out, errOut)
	}
	if !strings.Contains(errOut, "error: take safety snapshot: capture database:") || !strings.Contains(errOut, "connection to server lost") ||
		!strings.Contains(errOut, "\nhint: nothing was changed") {
		t.Errorf("stderr does not name the failed safety snapshot and say nothing changed:\n%s", errOut)
	}
	p.unchanged(t, p.id)
}

// TestRestoreDamagedDumpWhileStaging: a dump whose digest does not match
// is found while it is loaded aside: exit 6, nothing changed; with the
// default held safety copy, no copy is made and no safety snapshot stays.
func TestRestoreDamagedDumpWhileStaging(t *testing.T) {
	p := newPGStage(t, "")
	bad := p.corruptDigest(t)
	out, errOut, code := p.snap(t, "restore", bad, "--yes")
	if code != exitDamaged {
		t.Errorf("exit %d, want %d\n%s%s", code, exitDamaged, out, errOut)
	}
	if !strings.Contains(errOut, "integrity") || !strings.Contains(errOut, "hint: the snapshot is damaged; nothing was changed") {
		t.Errorf("stderr does not report a damaged snapshot with nothing changed:\n%s", errOut)
	}
	p.unchanged(t, bad)
	if ids := p.snapshots(t); len(ids) != 2 {
		t.Errorf("snapshots: %v, want the original and the damaged copy only", ids)
	}
}

// corruptDigest stores a copy of snapshot id whose manifest gives the
// dump another sha256, as refs/snapshots/snap_bad_digest.
func (p *pgStage) corruptDigest(t *testing.T) string {
	t.Helper()
	git := func(stdin string, args ...string) string {
		t.Helper()
		cmd := p.r.command(p.dir, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	ref := "refs/snapshots/" + p.id
	var m map[string]any
	if err := json.Unmarshal([]byte(git("", "show", ref+":snap.json")), &m); err != nil {
		t.Fatal(err)
	}
	arts, _ := m["artifacts"].([]any)
	if len(arts) != 1 {
		t.Fatalf("snapshot has %d artifacts, want the dump only", len(arts))
	}
	arts[0].(map[string]any)["sha256"] = strings.Repeat("b", 64)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	blob := git(string(data), "hash-object", "-w", "--stdin")
	var lines []string
	for _, l := range strings.Split(git("", "ls-tree", ref), "\n") {
		if strings.HasSuffix(l, "\tsnap.json") {
			l = "100644 blob " + blob + "\tsnap.json"
		}
		lines = append(lines, l)
	}
	tree := git(strings.Join(lines, "\n")+"\n", "mktree")
	commit := git("crafted\n", "commit-tree", tree)
	git("", "update-ref", "refs/snapshots/snap_bad_digest", commit)
	return "snap_bad_digest"
}
