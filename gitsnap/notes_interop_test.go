package gitsnap

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gitEnv is a clean environment for running the real git binary.
func gitEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	return append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
}

func gitIn(t *testing.T, dir string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(t)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// gitNotes makes a repo whose refs/notes/snap git itself wrote, with n
// notes on n blobs, using fast-import (which fans out as git does).
func gitNotes(t *testing.T, n int) (dir string, objs []Hash) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	gitIn(t, dir, nil, "init", "-q")
	var s bytes.Buffer
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("object %d\n", i)
		fmt.Fprintf(&s, "commit refs/heads/objs\nmark :%d\ncommitter T <t@example.com> %d +0000\ndata %d\n%s\n", i, 1700000000+i, len(msg), msg)
	}
	fmt.Fprintf(&s, "commit refs/notes/snap\ncommitter T <t@example.com> 1700000000 +0000\ndata 5\nnotes\n")
	for i := 1; i <= n; i++ {
		note := fmt.Sprintf("{\"ts\":\"2026-01-01T00:00:00.000000000Z\",\"id\":\"%016x\",\"type\":\"tagged\",\"tags\":[\"t%d\"]}\n", i, i)
		fmt.Fprintf(&s, "N inline :%d\ndata %d\n%s\n", i, len(note), note)
	}
	s.WriteString("\n")
	gitIn(t, dir, s.Bytes(), "fast-import", "--quiet")
	for _, line := range strings.Fields(gitIn(t, dir, nil, "rev-list", "--reverse", "refs/heads/objs")) {
		h, err := ParseHash(line)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, h)
	}
	if len(objs) != n {
		t.Fatalf("made %d objects, want %d", len(objs), n)
	}
	return dir, objs
}

func TestReadNotesWrittenByGit(t *testing.T) {
	for _, n := range []int{100, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir, objs := gitNotes(t, n)
			top := gitIn(t, dir, nil, "ls-tree", "refs/notes/snap")
			fanned := strings.Contains(top, "\ttree ") || strings.Contains(top, " tree ")
			if n == 5000 && !fanned {
				t.Fatalf("git did not fan out %d notes; the test would prove nothing:\n%.300s", n, top)
			}
			repo, err := OpenRepo(dir)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			nt, err := readNotes(ctx, repo, NotesRef)
			if err != nil {
				t.Fatal(err)
			}
			if len(nt.notes) != n {
				t.Fatalf("read %d notes, want %d", len(nt.notes), n)
			}
			for i, o := range objs {
				es := nt.Events(o)
				if len(es) != 1 || es[0].Tags[0] != fmt.Sprintf("t%d", i+1) {
					t.Fatalf("note %d: %+v", i+1, es)
				}
			}
			// Append an event: git must still read every note, and ours.
			ev := newEvent(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), EventRestored)
			ev.Result = "ok"
			sig := Signature{Name: "T", Email: "t@example.com", When: time.Unix(1700000000, 0)}
			if err := appendEvents(ctx, repo, NotesRef, sig, map[Hash][]Event{objs[0]: {ev}}); err != nil {
				t.Fatal(err)
			}
			out := gitIn(t, dir, nil, "notes", "--ref=snap", "show", objs[0].String())
			if !strings.Contains(out, `"type":"tagged"`) || !strings.Contains(out, `"type":"restored"`) {
				t.Errorf("git notes show after append:\n%s", out)
			}
			last := gitIn(t, dir, nil, "notes", "--ref=snap", "show", objs[n-1].String())
			if !strings.Contains(last, fmt.Sprintf(`"t%d"`, n)) {
				t.Errorf("note of the last object lost after append:\n%s", last)
			}
			if got := strings.Count(gitIn(t, dir, nil, "notes", "--ref=snap", "list"), "\n"); got != n {
				t.Errorf("git notes list: %d notes, want %d", got, n)
			}
			gitIn(t, dir, nil, "fsck", "--strict")
		})
	}
}

func TestNotesMergeMatchesCatSortUniq(t *testing.T) {
	dir, objs := gitNotes(t, 3)
	repo, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base := gitIn(t, dir, nil, "rev-parse", NotesRef)
	// Two writers diverge from the same notes commit.
	sig := Signature{Name: "T", Email: "t@example.com", When: time.Unix(1700000000, 0)}
	a := newEvent(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), EventTagged)
	a.Tags = []string{"a"}
	if err := appendEvents(ctx, repo, NotesRef, sig, map[Hash][]Event{objs[0]: {a}}); err != nil {
		t.Fatal(err)
	}
	ours := strings.TrimSpace(gitIn(t, dir, nil, "rev-parse", NotesRef))
	gitIn(t, dir, nil, "update-ref", "refs/notes/other", strings.TrimSpace(base))
	b := newEvent(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), EventTagged)
	b.Tags = []string{"b"}
	if err := appendEvents(ctx, repo, "refs/notes/other", sig, map[Hash][]Event{objs[0]: {b}, objs[1]: {b}}); err != nil {
		t.Fatal(err)
	}
	// Our merge of the two notes...
	mine, _ := readNotes(ctx, repo, NotesRef)
	theirs, _ := readNotes(ctx, repo, "refs/notes/other")
	// ...and git's cat_sort_uniq merge of the same two.
	gitIn(t, dir, nil, "notes", "--ref=snap", "merge", "-q", "-s", "cat_sort_uniq", "refs/notes/other")
	if got := strings.TrimSpace(gitIn(t, dir, nil, "rev-parse", NotesRef)); got == ours {
		t.Fatal("git did not merge")
	}
	merged, _ := readNotes(ctx, repo, NotesRef)
	for _, o := range objs {
		want := string(mergeNote(mine.notes[o], theirs.notes[o]))
		if got := string(merged.notes[o]); got != want {
			t.Errorf("object %s: git merge\n%s\nours\n%s", o, got, want)
		}
	}
	if len(merged.Events(objs[0])) != 3 {
		t.Errorf("lost events: %+v", merged.Events(objs[0]))
	}
	_ = filepath.Join
}
