package gitsnap

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
)

// packsOf writes n packs of one new blob each into repo and returns the
// blobs; none is referenced by any ref.
func packsOf(t *testing.T, repo Repo, n int, tag string) []Hash {
	t.Helper()
	ctx := context.Background()
	var blobs []Hash
	for i := range n {
		w, err := repo.NewObjectWriter(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h, err := w.WriteBlob(ctx, fmt.Appendf(nil, "%s blob %d", tag, i))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, h)
	}
	return blobs
}

// packLimitRepo is a new repository with gc.autoPackLimit set to limit.
func packLimitRepo(t *testing.T, limit string) (string, *goGitRepo) {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	git(t, dir, "config", "gc.autoPackLimit", limit)
	repo, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, repo.(*goGitRepo)
}

func TestMaintainPacksRollsUpAndKeepsEveryObject(t *testing.T) {
	ctx := context.Background()
	dir, r := packLimitRepo(t, "8")
	repo := Repo(r)

	// Up to the limit nothing happens.
	blobs := packsOf(t, repo, 8, "a")
	if did, err := r.MaintainPacks(ctx); err != nil || did || r.packCount() != 8 {
		t.Fatalf("at the limit: rolled up %v (%v), %d packs, want 8 left alone", did, err, r.packCount())
	}
	// Past it, the packs are rolled up and no object is lost, though
	// no ref reaches any of them.
	blobs = append(blobs, packsOf(t, repo, 4, "b")...)
	did, err := r.MaintainPacks(ctx)
	if err != nil || !did {
		t.Fatalf("past the limit: rolled up %v (%v)", did, err)
	}
	if n := r.packCount(); n > 2 {
		t.Errorf("after the roll-up: %d packs, want at most 2", n)
	}
	for _, h := range blobs {
		if ok, err := repo.HasObject(ctx, h); err != nil || !ok {
			t.Errorf("blob %s after the roll-up: present %v (%v)", h, ok, err)
		}
		if out, err := exec.Command("git", "-C", dir, "cat-file", "-e", h.String()).CombinedOutput(); err != nil {
			t.Errorf("git cat-file -e %s: %v %s", h, err, out)
		}
	}
	if out, err := exec.Command("git", "-C", dir, "fsck", "--no-dangling").CombinedOutput(); err != nil {
		t.Errorf("git fsck after the roll-up: %v\n%s", err, out)
	}
}

func TestMaintainPacksRespectsGitAndWhatItWrote(t *testing.T) {
	ctx := context.Background()
	dir, repo := packLimitRepo(t, "3")
	packsOf(t, repo, 5, "c")

	// A process that wrote no pack leaves the packs alone.
	reader, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if did, err := reader.(*goGitRepo).MaintainPacks(ctx); err != nil || did {
		t.Errorf("a process that wrote nothing rolled up: %v (%v)", did, err)
	}
	// gc.auto=0 (and gc.autoPackLimit=0) turn it off, as for git gc --auto.
	for _, kv := range [][2]string{{"gc.auto", "0"}, {"gc.autoPackLimit", "0"}} {
		git(t, dir, "config", kv[0], kv[1])
		if did, err := repo.MaintainPacks(ctx); err != nil || did || repo.packCount() != 5 {
			t.Errorf("with %s=%s: rolled up %v (%v), %d packs", kv[0], kv[1], did, err, repo.packCount())
		}
		git(t, dir, "config", "--unset", kv[0])
	}
	git(t, dir, "config", "gc.autoPackLimit", "3")
	if did, err := repo.MaintainPacks(ctx); err != nil || !did {
		t.Errorf("with the settings back: rolled up %v (%v)", did, err)
	}
}
