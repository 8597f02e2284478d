package gitsnap_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// Two clones tag, validate and restore different snapshots and the same
// ones, then push from separate processes at the same time, several
// rounds each. The remote must end with every event of both, and our
// notes merge must equal git's own cat_sort_uniq merge.
func TestConcurrentPushesKeepEveryEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	isolateGit(t)
	ctx := context.Background()
	f := newFixture(t)
	base := create(t, f, "base")
	bare := newBareRemote(t, f.dir, "snapshots")
	if _, err := f.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots", Warn: func(string) {}}); err != nil {
		t.Fatal(err)
	}
	clones := map[string]*fixture{}
	for _, name := range []string{"a", "b"} {
		c := cloneFixture(t, f, name)
		gitsnaptest.RunGit(t, c.dir, "remote", "add", "snapshots", bare)
		gitsnaptest.RunGit(t, c.dir, "config", "snap.allowSecrets", "true")
		if _, err := c.snap.Fetch(ctx, gitsnap.FetchOptions{Remote: "snapshots"}); err != nil {
			t.Fatal(err)
		}
		// A snapshot of its own (validated), a tag on the shared one, and
		// restores of both.
		own := create(t, c, "own "+name)
		if _, err := c.snap.Tag(ctx, base.ID, []string{"from-" + name}, gitsnap.TagOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{base.ID, own.ID} {
			if _, err := c.snap.Restore(ctx, id, gitsnap.RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		clones[name] = c
	}

	const rounds = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	merges := 0
	errs := make(chan error, len(clones))
	for name, c := range clones {
		home := t.TempDir()
		wg.Add(1)
		go func(name, dir string) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestPushHelperProcess$", "-test.count=1")
			cmd.Env = append(gitsnaptest.GitEnv(t, home),
				"GITSNAP_PUSH_HELPER="+dir, "GITSNAP_HELPER_NAME="+name,
				"GITSNAP_HELPER_ROUNDS="+strconv.Itoa(rounds), "GITSNAP_HELPER_SNAP="+base.ID)
			out, err := cmd.CombinedOutput()
			if err != nil {
				errs <- fmt.Errorf("pusher %s: %v\n%s", name, err, out)
			}
			for _, m := range regexp.MustCompile(`notes-merges=(\d+)`).FindAllStringSubmatch(string(out), -1) {
				n, _ := strconv.Atoi(m[1])
				mu.Lock()
				merges += n
				mu.Unlock()
			}
		}(name, c.dir)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if merges == 0 {
		t.Error("no push was ever rejected and merged: the test did not race")
	}

	// Every event either clone recorded is on the remote.
	remote := noteEventIDs(t, bare, "snap")
	for name, c := range clones {
		local := noteEventIDs(t, c.dir, "snap")
		for id := range local {
			if !remote[id] {
				t.Errorf("event %s of clone %s is missing on the remote", id, name)
			}
		}
		// base + own + (tag + restored + safety) + rounds*2 tags ≥ a sizable set
		if len(local) < 2*rounds+4 {
			t.Errorf("clone %s has only %d events", name, len(local))
		}
	}

	// One more divergence, then compare our merge with git's.
	a, b := clones["a"], clones["b"]
	if _, err := a.snap.Tag(ctx, base.ID, []string{"final-a"}, gitsnap.TagOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.snap.Tag(ctx, base.ID, []string{"final-b"}, gitsnap.TagOptions{}); err != nil {
		t.Fatal(err)
	}
	gitsnaptest.RunGit(t, b.dir, "fetch", "-q", "snapshots", "+refs/notes/snap:refs/notes/remotes/snapshots/snap")
	gitsnaptest.RunGit(t, b.dir, "update-ref", "refs/notes/gitmerge", gitsnaptest.RunGit(t, b.dir, "rev-parse", "refs/notes/snap"))
	gitsnaptest.RunGit(t, b.dir, "notes", "--ref=gitmerge", "merge", "-q", "-s", "cat_sort_uniq", "refs/notes/remotes/snapshots/snap")
	res, err := b.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	if res.NotesMerges == 0 || res.Notes != "pushed" {
		t.Fatalf("b's push did not merge: %+v", res)
	}
	ours, git := notesByObject(t, b.dir, "snap"), notesByObject(t, b.dir, "gitmerge")
	if diff := cmp.Diff(git, ours); diff != "" {
		t.Errorf("our merge differs from git notes merge -s cat_sort_uniq (-git +ours):\n%s", diff)
	}
	if diff := cmp.Diff(ours, notesByObject(t, bare, "snap")); diff != "" {
		t.Errorf("remote notes differ from b's (-b +remote):\n%s", diff)
	}
	for _, tag := range []string{"final-a", "final-b", "from-a", "from-b", "a-3", "b-3"} {
		if !strings.Contains(ours[base.Commit.String()], `"`+tag+`"`) {
			t.Errorf("tag %s lost from the shared snapshot's note", tag)
		}
	}
	// git reads the merged history: merge commits with both parents.
	if parents := strings.Fields(gitsnaptest.RunGit(t, bare, "log", "-1", "--format=%P", "refs/notes/snap")); len(parents) != 2 {
		t.Errorf("remote notes head has parents %v, want a merge", parents)
	}
	gitsnaptest.RunGit(t, bare, "fsck", "--strict")
}

// TestPushHelperProcess is the body of one concurrent pusher.
func TestPushHelperProcess(t *testing.T) {
	dir := os.Getenv("GITSNAP_PUSH_HELPER")
	if dir == "" {
		t.Skip("helper process of TestConcurrentPushesKeepEveryEvent")
	}
	ctx := context.Background()
	name := os.Getenv("GITSNAP_HELPER_NAME")
	rounds, _ := strconv.Atoi(os.Getenv("GITSNAP_HELPER_ROUNDS"))
	f := &fixture{dir: dir, now: time.Now()}
	f.reopen(t)
	for i := 0; i < rounds; i++ {
		tag := fmt.Sprintf("%s-%d", name, i)
		for _, snap := range []string{os.Getenv("GITSNAP_HELPER_SNAP"), "latest"} {
			if _, err := f.snap.Tag(ctx, snap, []string{tag}, gitsnap.TagOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := f.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots"})
		if err != nil {
			t.Fatalf("round %d: %v (hint: %s)", i, err, gitsnap.HintOf(err))
		}
		fmt.Printf("notes-merges=%d\n", res.NotesMerges)
	}
}

var eventID = regexp.MustCompile(`"id":"([0-9a-f]+)"`)

// noteEventIDs reads every event id of a notes ref with git itself.
func noteEventIDs(t *testing.T, dir, ref string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, note := range notesByObject(t, dir, ref) {
		for _, m := range eventID.FindAllStringSubmatch(note, -1) {
			ids[m[1]] = true
		}
	}
	return ids
}

// notesByObject reads a notes ref with git: annotated object → note.
func notesByObject(t *testing.T, dir, ref string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(gitsnaptest.RunGit(t, dir, "notes", "--ref="+ref, "list"), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		out[f[1]] = gitsnaptest.RunGit(t, dir, "notes", "--ref="+ref, "show", f[1])
	}
	return out
}
