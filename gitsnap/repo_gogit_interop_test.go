package gitsnap_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// TestSnapshotObjectsInteropWithGit writes a snapshot-shaped commit through
// the public Repo API and checks that stock git reads, verifies and
// repacks it, and that our reader follows git's gc.
func TestSnapshotObjectsInteropWithGit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := gitsnaptest.NewGitRepo(t)
	r := gitsnaptest.OpenGitRepo(t, dir)
	w, err := r.NewObjectWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 20<<20) // above the streaming threshold
	rand.New(rand.NewSource(7)).Read(chunk)
	small := []byte(`{"format":1}` + "\n")

	chunkHash, err := w.WriteBlobFrom(ctx, bytes.NewReader(chunk), int64(len(chunk)))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := w.WriteBlob(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	env, err := w.WriteBlob(ctx, []byte("SECRET=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := w.WriteTree(ctx, []gitsnap.TreeEntry{{Name: "00000000", Mode: gitsnap.ModeFile, Hash: chunkHash}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := w.WriteTree(ctx, []gitsnap.TreeEntry{{Name: ".env", Mode: gitsnap.ModeFile, Hash: env}})
	if err != nil {
		t.Fatal(err)
	}
	root, err := w.WriteTree(ctx, []gitsnap.TreeEntry{
		{Name: "snap.json", Mode: gitsnap.ModeFile, Hash: manifest},
		{Name: "files", Mode: gitsnap.ModeDir, Hash: files},
		{Name: "chunks", Mode: gitsnap.ModeDir, Hash: chunks},
	})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("", 2*3600))
	commit, err := w.WriteCommit(ctx, &gitsnap.Commit{
		Tree:      root,
		Author:    gitsnap.Signature{Name: "Snap", Email: "snap@example.com", When: when},
		Committer: gitsnap.Signature{Name: "Snap", Email: "snap@example.com", When: when},
		Message:   "snapshot\n\nSnap-Format: 1\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	const ref = "refs/snapshots/snap_20240501_100000_abcdef12"
	if err := r.UpdateRef(ctx, ref, gitsnap.ZeroHash, commit); err != nil {
		t.Fatal(err)
	}

	if got := gitsnaptest.RunGit(t, dir, "for-each-ref", "--format=%(objectname) %(refname)", "refs/snapshots/"); got != commit.String()+" "+ref {
		t.Errorf("git for-each-ref = %q", got)
	}
	gitsnaptest.RunGit(t, dir, "fsck", "--strict", "--no-dangling")
	if got := gitsnaptest.RunGit(t, dir, "show", ref+":files/.env"); got != "SECRET=1" {
		t.Errorf("git show files/.env = %q", got)
	}
	if got := gitsnaptest.RunGit(t, dir, "rev-parse", ref+"^{tree}"); got != root.String() {
		t.Errorf("git rev-parse tree = %s, want %s", got, root)
	}
	if got := gitsnaptest.RunGitStdin(t, dir, chunk, "hash-object", "--stdin"); got != chunkHash.String() {
		t.Errorf("chunk hash %s, git hash-object says %s", chunkHash, got)
	}
	if got := gitsnaptest.RunGit(t, dir, "cat-file", "-s", chunkHash.String()); got != "20971520" {
		t.Errorf("git cat-file -s chunk = %s", got)
	}

	gitsnaptest.RunGit(t, dir, "gc", "-q", "--prune=now")
	got, err := r.ReadCommit(ctx, commit)
	if err != nil || got.Tree != root {
		t.Fatalf("ReadCommit after gc = %+v, %v", got, err)
	}
	rc, size, err := r.OpenBlob(ctx, chunkHash)
	if err != nil {
		t.Fatal(err)
	}
	var back bytes.Buffer
	_, err = back.ReadFrom(rc)
	rc.Close()
	if err != nil || size != int64(len(chunk)) || !bytes.Equal(back.Bytes(), chunk) {
		t.Errorf("chunk after gc: size %d, read %d bytes, err %v", size, back.Len(), err)
	}
	if h, err := r.Ref(ctx, ref); err != nil || h != commit {
		t.Errorf("Ref after gc (packed) = %s, %v", h, err)
	}
}

func TestUpdateRefWhileGitHoldsLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := gitsnaptest.NewGitRepo(t)
	r := gitsnaptest.OpenGitRepo(t, dir)
	lock := filepath.Join(dir, ".git", "refs", "notes", "snap.lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := gitsnap.HashObject(gitsnap.ObjectBlob, nil)
	err := r.UpdateRef(ctx, "refs/notes/snap", gitsnap.ZeroHash, h)
	if !errors.Is(err, gitsnap.ErrRefChanged) {
		t.Fatalf("UpdateRef with git's lock held = %v, want ErrRefChanged", err)
	}
	if !strings.Contains(err.Error(), "snap.lock") {
		t.Errorf("error %q does not name the lock file", err)
	}
}

func TestOpenRepoOutsideRepository(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() // under os.TempDir, which is not inside a repository
	if _, err := gitsnap.OpenRepo(dir); !errors.Is(err, gitsnap.ErrNotARepo) {
		t.Errorf("OpenRepo(%s) = %v, want ErrNotARepo", dir, err)
	}
}
