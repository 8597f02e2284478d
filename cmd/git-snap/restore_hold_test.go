package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A restore with [restore] database_safety = "hold" (the default) keeps
// the PostgreSQL database it replaces, renamed, as its safety copy instead
// of dumping it first; git snap settle copies that copy into the safety
// snapshot and drops it. These tests run the real binary on a real server.

var undoRe = regexp.MustCompile(`(?m)^undo with: git snap restore (snap_\S+)$`)

// held lists the held copies of the database.
func (p *pgStage) held(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, db := range p.leftovers(t) {
		if strings.Contains(db, "__gitsnap_held_") {
			out = append(out, db)
		}
	}
	return out
}

// snapshots lists the snapshot refs.
func (p *pgStage) snapshots(t *testing.T) []string {
	t.Helper()
	out, errOut, code := p.r.run(p.dir, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/snapshots/")
	if code != 0 {
		t.Fatalf("for-each-ref: %s", errOut)
	}
	return strings.Fields(out)
}

// restoreHeld restores id and returns the safety snapshot's id.
func (p *pgStage) restoreHeld(t *testing.T, id string) string {
	t.Helper()
	out, errOut, code := p.snap(t, "restore", id, "--yes")
	m := undoRe.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("restore %s: exit %d\n%s%s", id, code, out, errOut)
	}
	return m[1]
}

// TestRestoreHoldUndoSettle: the restore keeps the replaced database as a
// held copy (nothing else left behind, no dump in the safety snapshot);
// undoing it swaps the copy back; settling dumps the copies into Git,
// drops them, and the settled snapshots restore the same data under the
// ids the restores printed.
func TestRestoreHoldUndoSettle(t *testing.T) {
	p := newPGStage(t, "")
	before := p.live
	want := p.psql(t, p.url, "SELECT 20000 || ' ' || md5(string_agg(g || ':' || md5(g::text), ',' ORDER BY g)) FROM generate_series(1, 20000) g")
	p.env = append(p.env, "GITSNAP_SETTLE=manual")

	safety := p.restoreHeld(t, p.id)
	if got := p.fingerprint(t); got != want {
		t.Fatalf("restored data %s, want %s", got, want)
	}
	if h := p.held(t); len(h) != 1 || len(p.leftovers(t)) != 1 {
		t.Fatalf("after restore: held %v, all copies %v; want one held copy only", h, p.leftovers(t))
	}
	// The safety snapshot records the held copy, not a dump.
	man, _, code := p.r.run(p.dir, "show", "refs/snapshots/"+safety+":snap.json")
	if code != 0 || !strings.Contains(man, `"held": "`+p.held(t)[0]+`"`) {
		t.Fatalf("safety snapshot manifest does not name the held copy:\n%s", man)
	}

	// git snap list marks it.
	if out, _, _ := p.snap(t, "list"); !regexp.MustCompile(`(?m)^` + safety + `\s+\S+ \S+\s+unknown \(held\)`).MatchString(out) {
		t.Errorf("list does not mark the held safety snapshot:\n%s", out)
	}
	if out, _, _ := p.snap(t, "show", "--json", safety); !strings.Contains(out, `"held": true`) {
		t.Errorf("show --json does not mark the held safety snapshot:\n%s", out)
	}

	// A push leaves the held snapshot out (its database is on this server
	// only), and naming it is an error.
	remote := filepath.Join(t.TempDir(), "remote.git")
	if _, errOut, code := p.r.run(p.dir, "init", "-q", "--bare", remote); code != 0 {
		t.Fatalf("git init --bare: %s", errOut)
	}
	out, errOut, code := p.snap(t, "push", "--json", remote)
	if code != 0 || !strings.Contains(out, `"held_left_out":["`+safety+`"]`) || strings.Contains(out, `"pushed":["`+safety) ||
		!strings.Contains(errOut, "left out 1 held safety snapshot(s)") {
		t.Errorf("push of every snapshot (exit %d):\n%s%s", code, out, errOut)
	}
	if _, errOut, code := p.snap(t, "push", remote, safety); code != 1 || !strings.Contains(errOut, "git snap settle "+safety) {
		t.Errorf("push of the held snapshot by name: exit %d, want 1 with a hint to settle it:\n%s", code, errOut)
	}
	archive := filepath.Join(t.TempDir(), "held.tar.xz")
	if _, errOut, code := p.snap(t, "export", safety, "-o", archive); code != 1 || !strings.Contains(errOut, "git snap settle "+safety) {
		t.Errorf("export of the held snapshot: exit %d, want 1 with a hint to settle it:\n%s", code, errOut)
	}
	if _, err := os.Stat(archive); !os.IsNotExist(err) {
		t.Errorf("export of the held snapshot left %s behind (%v)", archive, err)
	}

	// A restore drill of the safety snapshot leaves the held copy alone.
	heldCopy := p.held(t)[0]
	out, errOut, code = p.snap(t, "verify", safety)
	if !strings.Contains(out+errOut, "held on its server as "+heldCopy) {
		t.Errorf("verify of the held snapshot (exit %d) does not say the copy was not loaded:\n%s%s", code, out, errOut)
	}
	if h := p.held(t); len(h) != 1 || h[0] != heldCopy {
		t.Fatalf("after verify: held %v, want %s untouched", h, heldCopy)
	}

	// Undo: the held copy is swapped back (and the restored data held in turn).
	undo := p.restoreHeld(t, safety)
	if got := p.fingerprint(t); got != before {
		t.Fatalf("after undo: %s, want the pre-restore data %s", got, before)
	}
	if h := p.held(t); len(h) != 1 {
		t.Fatalf("after undo: held %v, want the restored data's copy", h)
	}
	// The swapped-back database takes connections again.
	if ok := p.psql(t, p.admin, "SELECT datallowconn FROM pg_database WHERE datname = '"+p.name+"'"); ok != "t" {
		t.Errorf("swapped-back database: datallowconn = %s", ok)
	}

	// Settle: the first safety snapshot's copy was swapped back, so it is
	// removed; the undo's copy is dumped into Git and dropped.
	undoCommit, _, _ := p.r.run(p.dir, "rev-parse", "refs/snapshots/"+undo)
	undoCopy := p.held(t)[0]
	out, errOut, code = p.snap(t, "settle")
	if code != 0 {
		t.Fatalf("settle: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "removed "+safety+": its held copy is gone") || !strings.Contains(out, "settled "+undo+" into snap_") {
		t.Errorf("settle output:\n%s", out)
	}
	if left := p.leftovers(t); len(left) > 0 {
		t.Errorf("after settle: databases left %v", left)
	}
	if out, _, _ := p.snap(t, "list"); strings.Contains(out, "(held)") {
		t.Errorf("list still marks a held snapshot after settle:\n%s", out)
	}
	if out, _, _ := p.snap(t, "list", "--json"); strings.Contains(out, `"held": true`) || !strings.Contains(out, `"held": false`) {
		t.Errorf("list --json after settle:\n%s", out)
	}
	if ids := p.snapshots(t); len(ids) != 2 {
		t.Errorf("after settle: snapshots %v, want the original and the settled undo safety", ids)
	}
	// A settle that died after writing the settled snapshot, before it
	// removed the held one and dropped its copy, is finished by the next
	// one without writing a third snapshot.
	p.r.run(p.dir, "update-ref", "refs/snapshots/"+undo, strings.TrimSpace(undoCommit))
	p.psql(t, p.admin, "CREATE DATABASE "+undoCopy)
	out, errOut, code = p.snap(t, "settle")
	if code != 0 || !strings.Contains(out, "settled "+undo+" into snap_") {
		t.Fatalf("settle after a crash: exit %d\n%s%s", code, out, errOut)
	}
	if ids := p.snapshots(t); len(ids) != 2 || slices.Contains(ids, undo) {
		t.Errorf("after the resumed settle: snapshots %v, want the original and the settled one", ids)
	}
	if left := p.leftovers(t); len(left) > 0 {
		t.Errorf("after the resumed settle: databases left %v", left)
	}
	// The undo's safety id now names the settled snapshot, a real dump of
	// the restored data.
	p.restoreHeld(t, undo)
	if got := p.fingerprint(t); got != want {
		t.Errorf("restore of the settled %s: %s, want %s", undo, got, want)
	}
	out, errOut, code = p.snap(t, "settle")
	if code != 0 || len(p.leftovers(t)) != 0 {
		t.Fatalf("second settle: exit %d, left %v\n%s%s", code, p.leftovers(t), out, errOut)
	}
	if out, errOut, code := p.snap(t, "check", "--read-data"); code != 0 {
		t.Errorf("check --read-data: exit %d\n%s%s", code, out, errOut)
	}
	p.r.fsck(p.dir)
}

// TestRestoreHoldBackgroundSettle: by default the restore settles in the
// background; git snap settle waits for it.
func TestRestoreHoldBackgroundSettle(t *testing.T) {
	p := newPGStage(t, "")
	out, errOut, code := p.snap(t, "restore", p.id, "--yes", "--json")
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	var sum struct {
		Safety string `json:"safety_snapshot"`
		Settle string `json:"settle"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Settle != "background" {
		t.Fatalf("summary %q: settle %q, want background (%v)", out, sum.Settle, err)
	}
	fg, errOut, code := p.snap(t, "settle")
	if code != 0 {
		t.Fatalf("settle: exit %d\n%s%s", code, fg, errOut)
	}
	if left := p.leftovers(t); len(left) > 0 {
		t.Errorf("after settle: databases left %v", left)
	}
	// Whichever took the settle lock first settled it: the background
	// settle (its log says so) or, if it had not started yet, ours.
	log, _ := os.ReadFile(filepath.Join(p.dir, ".git", "git-snap", "settle.log"))
	settled := "settled " + sum.Safety + " into snap_"
	if strings.Contains(string(log), settled) == strings.Contains(fg, settled) {
		t.Errorf("want exactly one settle of %s; settle.log:\n%s\ngit snap settle:\n%s", sum.Safety, log, fg)
	}
	if _, err := os.Stat(filepath.Join(p.dir, ".git", "git-snap", "settle.log")); err != nil {
		t.Errorf("the restore started no background settle: %v", err)
	}
	// The printed safety id restores the pre-restore data.
	p.restoreHeld(t, sum.Safety)
	if got := p.fingerprint(t); got != p.live {
		t.Errorf("restore of the safety snapshot: %s, want %s", got, p.live)
	}
	p.r.fsck(p.dir)
}

// TestRestoreHoldRollback: a restore whose validation fails swaps the
// held copy back: the live data is as before, nothing is left behind, and
// the safety snapshot that could no longer restore its database is gone.
func TestRestoreHoldRollback(t *testing.T) {
	p := newPGStage(t, "\n[[check]]\nname = \"never\"\nrun = \"exit 3\"\n")
	out, errOut, code := p.snap(t, "restore", p.id, "--yes")
	if code != exitRolledBack {
		t.Fatalf("restore: exit %d, want %d\n%s%s", code, exitRolledBack, out, errOut)
	}
	p.unchanged(t, "")
	if ok := p.psql(t, p.admin, "SELECT datallowconn FROM pg_database WHERE datname = '"+p.name+"'"); ok != "t" {
		t.Errorf("rolled-back database: datallowconn = %s", ok)
	}
	if ids := p.snapshots(t); len(ids) != 1 || ids[0] != p.id {
		t.Errorf("snapshots after the rollback: %v, want only %s", ids, p.id)
	}
}
