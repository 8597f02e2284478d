package gitsnap

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// synthSnap is a snapshot made up for catalog tests: only a manifest, with
// the events given (their timestamps default to the creation time).
type synthSnap struct {
	At     time.Time
	Status string   // validated status; "" = unvalidated
	Tags   []string // tagged event
	Events []Event  // extra events (restored, drill…)
}

// synthRepo writes snapshots into a fresh git repository and returns a
// Snap whose clock reads now, plus the snapshot ids in input order.
func synthRepo(t *testing.T, now time.Time, snaps []synthSnap) (*Snap, []string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command("git", "init", "-q", "-b", "main", dir)
	cmd.Env = pruneGitEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	repo, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ow, err := repo.NewObjectWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sig := Signature{Name: "t", Email: "t@example.com"}
	ids := make([]string, len(snaps))
	commits := make([]Hash, len(snaps))
	for i, sn := range snaps {
		m := &Manifest{Format: FormatVersion, CreatedAt: sn.At.UTC(), Host: "h", CreatedBy: "t@example.com", Tool: "test",
			Branch: "refs/heads/main", Scopes: []string{ScopeConfig}, Artifacts: []Artifact{}, Chunker: defaultChunkerParams()}
		data, _ := encodeManifest(m)
		blob, err := ow.WriteBlob(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := ow.WriteTree(ctx, []TreeEntry{{Name: "snap.json", Mode: ModeFile, Hash: blob}})
		if err != nil {
			t.Fatal(err)
		}
		sig.When = sn.At
		c, err := ow.WriteCommit(ctx, &Commit{Tree: tree, Author: sig, Committer: sig, Message: commitMessage(m)})
		if err != nil {
			t.Fatal(err)
		}
		commits[i], ids[i] = c, SnapshotID(sn.At, c)
	}
	if err := ow.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	events := map[Hash][]Event{}
	for i, sn := range snaps {
		if err := repo.UpdateRef(ctx, SnapshotRefPrefix+ids[i], ZeroHash, commits[i]); err != nil {
			t.Fatal(err)
		}
		at := sn.At
		next := func(typ string) Event {
			at = at.Add(time.Microsecond)
			return newEvent(at, typ)
		}
		es := []Event{next(EventCreated)}
		if sn.Status != "" {
			v := next(EventValidated)
			v.Status = sn.Status
			es = append(es, v)
		}
		if len(sn.Tags) > 0 {
			tg := next(EventTagged)
			tg.Tags = sn.Tags
			es = append(es, tg)
		}
		for _, e := range sn.Events {
			if e.TS == "" {
				e.TS = next(e.Type).TS
			}
			if e.ID == "" {
				e.ID = newEvent(at, e.Type).ID
			}
			es = append(es, e)
		}
		events[commits[i]] = es
	}
	if err := appendEvents(ctx, repo, NotesRef, sig, events); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Repo: repo, Config: &Config{}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s, ids
}

// pruneGitEnv isolates git from the user's configuration: no system
// config, a temporary HOME, a fixed identity.
func pruneGitEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com", "LC_ALL=C"}
}

// ev builds an event of type typ at time at (zero: right after creation).
func ev(typ string, at time.Time, f func(*Event)) Event {
	e := Event{Type: typ}
	if !at.IsZero() {
		e = newEvent(at, typ)
	}
	if f != nil {
		f(&e)
	}
	return e
}
