package hooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// snapSpec describes a snapshot to fabricate.
type snapSpec struct {
	Source string // code commit
	Status string // "passed", "failed" or "" (unvalidated)
	Tags   []string
	Dirty  bool
}

// makeSnapshots writes snapshot commits (a snap.json and a trailer, as
// create does) with their notes in one git fast-import, then names them
// refs/snapshots/<id>. It returns the ids in order.
func makeSnapshots(t testing.TB, dir string, specs []snapSpec) []string {
	t.Helper()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var s bytes.Buffer
	for i, sp := range specs {
		m := gitsnap.Manifest{Format: gitsnap.FormatVersion, CreatedAt: created.Add(time.Duration(i) * time.Second),
			Host: "h", CreatedBy: "t@example.com", Tool: "test", SourceCommit: sp.Source, Branch: "refs/heads/main",
			Dirty: sp.Dirty, Scopes: []string{"code"}, Artifacts: []gitsnap.Artifact{}}
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprintf("git-snap: snapshot %d\n\nSnap-Format: 1\nSnap-Source-Commit: %s\n", i, sp.Source)
		fmt.Fprintf(&s, "blob\nmark :%d\ndata %d\n%s\n", 2*i+1, len(js), js)
		fmt.Fprintf(&s, "commit refs/snaptmp/%d\nmark :%d\ncommitter T <t@example.com> %d +0000\ndata %d\n%sM 100644 :%d snap.json\n\n",
			i, 2*i+2, m.CreatedAt.Unix(), len(msg), msg, 2*i+1)
	}
	s.WriteString("commit refs/notes/snap\ncommitter T <t@example.com> 1767322800 +0000\ndata 6\nnotes\n")
	if gitsnaptest.RunGit(t, dir, "for-each-ref", "refs/notes/snap") != "" {
		s.WriteString("from refs/notes/snap^0\n")
	}
	for i, sp := range specs {
		var note bytes.Buffer
		ts := created.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000000Z")
		add := func(e gitsnap.Event) {
			e.TS = ts
			e.ID = fmt.Sprintf("%08x%08x", i, note.Len())
			b, _ := json.Marshal(e)
			note.Write(b)
			note.WriteByte('\n')
		}
		if sp.Status != "" {
			add(gitsnap.Event{Type: gitsnap.EventValidated, Status: sp.Status})
		} else {
			add(gitsnap.Event{Type: gitsnap.EventUnvalidated})
		}
		if len(sp.Tags) > 0 {
			add(gitsnap.Event{Type: gitsnap.EventTagged, Tags: sp.Tags})
		}
		fmt.Fprintf(&s, "N inline :%d\ndata %d\n%s\n", 2*i+2, note.Len(), note.Bytes())
	}
	s.WriteString("\n")
	gitsnaptest.RunGitStdin(t, dir, s.Bytes(), "fast-import", "--quiet")
	var cmds strings.Builder
	ids := make([]string, len(specs))
	for i := range specs {
		h, err := gitsnap.ParseHash(gitsnaptest.RunGit(t, dir, "rev-parse", fmt.Sprintf("refs/snaptmp/%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = gitsnap.SnapshotID(created.Add(time.Duration(i)*time.Second), h)
		fmt.Fprintf(&cmds, "create refs/snapshots/%s %s\ndelete refs/snaptmp/%d\n", ids[i], h, i)
	}
	gitsnaptest.RunGitStdin(t, dir, []byte(cmds.String()), "update-ref", "--stdin")
	return ids
}

// commitFile commits one file change and returns the new HEAD.
func commitFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	writeFile(t, dir, name, content)
	gitsnaptest.RunGit(t, dir, "add", name)
	gitsnaptest.RunGit(t, dir, "commit", "-q", "-m", "change "+name)
	return gitsnaptest.RunGit(t, dir, "rev-parse", "HEAD")
}

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func openSnap(t testing.TB, dir string, p gitsnap.PrePushConfig) *gitsnap.Snap {
	t.Helper()
	cfg := gitsnap.DefaultConfig()
	cfg.Hooks.PrePush = p
	s, err := gitsnap.New(gitsnap.Options{Repo: gitsnaptest.OpenGitRepo(t, dir), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
