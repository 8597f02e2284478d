package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// procResult is what one git-snap process did.
type procResult struct {
	args           []string
	stdout, stderr string
	code           int
}

// runParallel starts every command at once (released together) and waits.
func (r *e2eRig) runParallel(dir string, cmds [][]string) []procResult {
	r.t.Helper()
	res := make([]procResult, len(cmds))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, args := range cmds {
		ready.Add(1)
		done.Add(1)
		go func(i int, args []string) {
			defer done.Done()
			ready.Done()
			<-start
			cmd := r.command(dir, args...)
			var o, e strings.Builder
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			res[i] = procResult{args: args, stdout: o.String(), stderr: e.String()}
			if err != nil {
				res[i].code = -1
				if cmd.ProcessState != nil {
					res[i].code = cmd.ProcessState.ExitCode()
				}
			}
		}(i, args)
	}
	ready.Wait()
	close(start)
	done.Wait()
	return res
}

// noteEvents reads a snapshot's note with git and decodes its JSON lines.
func (r *e2eRig) noteEvents(dir, commit string) []map[string]any {
	r.t.Helper()
	out, errOut, code := r.run(dir, "notes", "--ref=snap", "show", commit)
	if code != 0 {
		r.t.Errorf("git notes show %s: exit %d: %s", commit, code, errOut)
		return nil
	}
	var evs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			r.t.Errorf("note of %s: line %q is not JSON: %v", commit, l, err)
			continue
		}
		evs = append(evs, ev)
	}
	return evs
}

// tagsIn returns the tags of every event of type typ.
func tagsIn(evs []map[string]any, typ string) map[string]int {
	tags := map[string]int{}
	for _, ev := range evs {
		if ev["type"] != typ {
			continue
		}
		list, _ := ev["tags"].([]any)
		for _, t := range list {
			s, _ := t.(string)
			tags[s]++
		}
	}
	return tags
}

func countType(evs []map[string]any, typ string) int {
	n := 0
	for _, ev := range evs {
		if ev["type"] == typ {
			n++
		}
	}
	return n
}

const concurrencyConfig = `[snapshot]
scopes = ["code", "config"]

[config]
paths = ["config/**"]

[[check]]
name = "ok"
run = "true"
`

// TestConcurrentCreate runs several real `git snap create` processes at
// once in one repository, round after round. Each must succeed or lose a
// race with exit 11; afterwards every snapshot ref is a valid commit with a
// complete note (created, validated, tagged), no event is lost, and git
// fsck is clean.
func TestConcurrentCreate(t *testing.T) {
	r := newE2ERig(t)
	for _, tc := range []struct {
		procs     int
		packLimit string // gc.autoPackLimit: "1" rolls the packs up after every create, while others write and read
	}{{2, ""}, {4, ""}, {4, "1"}} {
		procs := tc.procs
		t.Run(fmt.Sprintf("procs=%d,gc.autoPackLimit=%s", procs, tc.packLimit), func(t *testing.T) {
			r := &e2eRig{t: t, bin: r.bin, home: t.TempDir()}
			dir := r.repo(map[string]string{".gitsnap.toml": concurrencyConfig, "config/app.toml": "port = 8080\n"})
			if tc.packLimit != "" {
				r.git(dir, "config", "gc.autoPackLimit", tc.packLimit)
			}
			const rounds = 3
			created := map[string]string{} // id → process tag
			lost := 0
			for round := 0; round < rounds; round++ {
				var cmds [][]string
				for p := 0; p < procs; p++ {
					tag := fmt.Sprintf("r%d-p%d", round, p)
					cmds = append(cmds, []string{"snap", "create", "-m", "create " + tag, "--tag", tag})
				}
				for _, res := range r.runParallel(dir, cmds) {
					switch res.code {
					case 0:
						m := createdRe.FindStringSubmatch(res.stdout)
						if m == nil {
							t.Errorf("%v: exit 0 but no id in stdout:\n%s", res.args, res.stdout)
							continue
						}
						created[m[1]] = res.args[len(res.args)-1]
					case exitConcurrent:
						lost++
						if !strings.HasPrefix(res.stderr, "error: ") || !strings.Contains(res.stderr, "\nhint: ") {
							t.Errorf("%v: exit 11 without error and hint lines:\n%s", res.args, res.stderr)
						}
					default:
						t.Errorf("%v: exit %d, want 0 or 11\nstdout:\n%s\nstderr:\n%s", res.args, res.code, res.stdout, res.stderr)
					}
				}
			}
			t.Logf("%d processes x %d rounds: %d created, %d lost a race (exit 11)", procs, rounds, len(created), lost)
			if len(created) == 0 {
				t.Fatal("no create succeeded")
			}
			checkSnapshotsComplete(t, r, dir, created)
		})
	}
}

// checkSnapshotsComplete: exactly the created snapshots exist, each with
// its created, validated and tagged events, and git is happy.
func checkSnapshotsComplete(t *testing.T, r *e2eRig, dir string, created map[string]string) {
	t.Helper()
	refs := r.snapshotRefs(dir)
	idRe := regexp.MustCompile(`^snap_\d{8}_\d{6}_[0-9a-f]{8}$`)
	for id, commit := range refs {
		if !idRe.MatchString(id) {
			t.Errorf("ref refs/snapshots/%s: not a snapshot id", id)
		}
		if !idRe.MatchString(id) || id[len(id)-8:] != commit[:8] {
			t.Errorf("ref %s points at %s: id and commit disagree", id, commit)
		}
		if _, ok := created[id]; !ok {
			t.Errorf("ref %s exists but no process reported creating it (a create that failed left its ref)", id)
		}
	}
	for id, tag := range created {
		commit, ok := refs[id]
		if !ok {
			t.Errorf("%s was reported created but refs/snapshots/%s is missing", id, id)
			continue
		}
		evs := r.noteEvents(dir, commit)
		for _, typ := range []string{"created", "validated"} {
			if n := countType(evs, typ); n != 1 {
				t.Errorf("%s: %d %q events in its note, want 1 (lost or duplicated note)", id, n, typ)
			}
		}
		tags := tagsIn(evs, "tagged")
		if tags["known-good"] != 1 || tags[tag] != 1 || len(tags) != 2 {
			t.Errorf("%s: tagged events carry %v, want known-good and %s once each", id, tags, tag)
		}
	}
	// One notes commit per append, in one linear history: a lost
	// compare-and-swap would leave an append unreachable.
	checkNotesHistory(t, r, dir, len(created))
	// git-snap itself sees the same set.
	out := r.git(dir, "snap", "list", "--json")
	var list []struct {
		ID   string   `json:"id"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	var got, want []string
	for _, s := range list {
		got = append(got, s.ID)
	}
	for id := range created {
		want = append(want, id)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("git snap list ids = %v, want %v", got, want)
	}
	r.fsck(dir)
}

// TestConcurrentTag runs several `git snap tag` processes on the same
// snapshot at once: every process that exits 0 has its tag in the note, so
// no tag event is lost to a notes race; the others exit 11.
func TestConcurrentTag(t *testing.T) {
	r := newE2ERig(t)
	dir := r.repo(map[string]string{".gitsnap.toml": concurrencyConfig, "config/app.toml": "port = 8080\n"})
	out := r.git(dir, "snap", "create", "-m", "base")
	m := createdRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create: no id in\n%s", out)
	}
	id := m[1]
	const procs, rounds = 4, 3
	applied := map[string]bool{}
	for round := 0; round < rounds; round++ {
		var cmds [][]string
		for p := 0; p < procs; p++ {
			cmds = append(cmds, []string{"snap", "tag", id, fmt.Sprintf("r%d-p%d", round, p)})
		}
		// A concurrent untag of an earlier tag, so tagged and untagged events race too.
		if round > 0 {
			cmds = append(cmds, []string{"snap", "tag", "--remove", id, fmt.Sprintf("r%d-p0", round-1)})
		}
		for _, res := range r.runParallel(dir, cmds) {
			switch res.code {
			case 0:
				applied[strings.Join(res.args, " ")] = true
			case exitConcurrent:
				t.Logf("%v lost a race: %s", res.args, strings.TrimSpace(res.stderr))
			default:
				t.Errorf("%v: exit %d, want 0 or 11\n%s", res.args, res.code, res.stderr)
			}
		}
	}
	commit := r.snapshotRefs(dir)[id]
	evs := r.noteEvents(dir, commit)
	tagged, untagged := tagsIn(evs, "tagged"), tagsIn(evs, "untagged")
	want := map[string]bool{"known-good": true}
	for args := range applied {
		f := strings.Fields(args)
		tag := f[len(f)-1]
		if strings.Contains(args, "--remove") {
			if untagged[tag] != 1 {
				t.Errorf("%s exited 0 but its untagged event is missing (untagged: %v)", args, untagged)
			}
			continue
		}
		if tagged[tag] != 1 {
			t.Errorf("%s exited 0 but its tagged event is missing or duplicated (tagged: %v)", args, tagged)
		}
	}
	// The folded state: every applied tag, minus the applied removals.
	for args := range applied {
		f := strings.Fields(args)
		want[f[len(f)-1]] = true
	}
	for args := range applied {
		if strings.Contains(args, "--remove") {
			f := strings.Fields(args)
			delete(want, f[len(f)-1])
		}
	}
	if countType(evs, "created") != 1 || countType(evs, "validated") != 1 {
		t.Errorf("created/validated events lost or duplicated: %v", evs)
	}
	checkNotesHistory(t, r, dir, 1+len(applied))
	out = r.git(dir, "snap", "show", "--json", id)
	var shown struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	var wantTags []string
	for tag := range want {
		wantTags = append(wantTags, tag)
	}
	sort.Strings(wantTags)
	if strings.Join(shown.Tags, " ") != strings.Join(wantTags, " ") {
		t.Errorf("tags after the races = %v, want %v", shown.Tags, wantTags)
	}
	r.fsck(dir)
}

// checkNotesHistory: refs/notes/snap has exactly appends commits, each
// with at most one parent (git-snap never merges its own writes).
func checkNotesHistory(t *testing.T, r *e2eRig, dir string, appends int) {
	t.Helper()
	if n := strings.TrimSpace(r.git(dir, "rev-list", "--count", "refs/notes/snap")); n != fmt.Sprint(appends) {
		t.Errorf("refs/notes/snap has %s commits, want one per successful append (%d)", n, appends)
	}
	if m := strings.TrimSpace(r.git(dir, "rev-list", "--merges", "refs/notes/snap")); m != "" {
		t.Errorf("refs/notes/snap has merge commits:\n%s", m)
	}
}
