package gitsnaptest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/google/go-cmp/cmp"
)

// fakeHash is a distinct, valid-looking object name; refs do not require
// the object to exist.
func fakeHash(i int) gitsnap.Hash {
	return gitsnap.HashObject(gitsnap.ObjectBlob, []byte(fmt.Sprint(i)))
}

func testRefCAS(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	const name = "refs/snapshots/snap_20240501_120000_abcdef12"
	a, b := fakeHash(1), fakeHash(2)
	if _, err := r.Ref(ctx, name); !errors.Is(err, gitsnap.ErrRefNotFound) {
		t.Fatalf("Ref(missing) = %v, want ErrRefNotFound", err)
	}
	if err := r.UpdateRef(ctx, name, a, b); !errors.Is(err, gitsnap.ErrRefChanged) {
		t.Errorf("update of a missing ref from %s = %v, want ErrRefChanged", a, err)
	}
	if err := r.UpdateRef(ctx, name, gitsnap.ZeroHash, a); err != nil {
		t.Fatalf("create: %v", err)
	}
	if got, err := r.Ref(ctx, name); err != nil || got != a {
		t.Errorf("Ref = %s, %v; want %s", got, err, a)
	}
	if err := r.UpdateRef(ctx, name, gitsnap.ZeroHash, b); !errors.Is(err, gitsnap.ErrRefChanged) {
		t.Errorf("create over an existing ref = %v, want ErrRefChanged", err)
	}
	if err := r.UpdateRef(ctx, name, b, b); !errors.Is(err, gitsnap.ErrRefChanged) {
		t.Errorf("update from a wrong old value = %v, want ErrRefChanged", err)
	}
	if err := r.UpdateRef(ctx, name, a, b); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got, _ := r.Ref(ctx, name); got != b {
		t.Errorf("after update Ref = %s, want %s", got, b)
	}
	if err := r.UpdateRef(ctx, name, b, gitsnap.ZeroHash); err == nil {
		t.Error("UpdateRef to ZeroHash succeeded (DeleteRef is the way)")
	}
}

func testConcurrentUpdateRef(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	const name, workers = "refs/notes/snap", 8
	var wg sync.WaitGroup
	results := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.UpdateRef(ctx, name, gitsnap.ZeroHash, fakeHash(i))
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both created the ref", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, gitsnap.ErrRefChanged):
			t.Errorf("worker %d: %v, want ErrRefChanged", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no worker created the ref")
	}
	if got, _ := r.Ref(ctx, name); got != fakeHash(winner) {
		t.Errorf("ref = %s, want the winner's %s", got, fakeHash(winner))
	}

	// Compare-and-swap retry loops lose no update.
	const rounds = 5
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				for {
					cur, err := r.Ref(ctx, name)
					if err != nil {
						t.Error(err)
						return
					}
					next := gitsnap.HashObject(gitsnap.ObjectBlob, append(cur[:], byte(i)))
					err = r.UpdateRef(ctx, name, cur, next)
					if err == nil {
						break
					}
					if !errors.Is(err, gitsnap.ErrRefChanged) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func testRefsPrefix(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	names := []string{
		"refs/snapshots/snap_b",
		"refs/snapshots/snap_a",
		"refs/snapshots/deep/x",
		"refs/snapshotsX/other",
		"refs/notes/snap",
		"refs/heads/main",
	}
	for i, n := range names {
		if err := r.UpdateRef(ctx, n, gitsnap.ZeroHash, fakeHash(i)); err != nil {
			t.Fatalf("create %s: %v", n, err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []gitsnap.Ref
	}{
		{"refs/snapshots/", []gitsnap.Ref{{Name: "refs/snapshots/deep/x", Hash: fakeHash(2)}, {Name: "refs/snapshots/snap_a", Hash: fakeHash(1)}, {Name: "refs/snapshots/snap_b", Hash: fakeHash(0)}}},
		{"refs/snapshots/snap_", []gitsnap.Ref{{Name: "refs/snapshots/snap_a", Hash: fakeHash(1)}, {Name: "refs/snapshots/snap_b", Hash: fakeHash(0)}}},
		{"refs/snapshots", []gitsnap.Ref{{Name: "refs/snapshots/deep/x", Hash: fakeHash(2)}, {Name: "refs/snapshots/snap_a", Hash: fakeHash(1)}, {Name: "refs/snapshots/snap_b", Hash: fakeHash(0)}, {Name: "refs/snapshotsX/other", Hash: fakeHash(3)}}},
		{"refs/notes/", []gitsnap.Ref{{Name: "refs/notes/snap", Hash: fakeHash(4)}}},
		{"refs/tags/", nil},
	} {
		got, err := r.Refs(ctx, tc.prefix)
		if err != nil {
			t.Fatalf("Refs(%q): %v", tc.prefix, err)
		}
		if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b []gitsnap.Ref) bool {
			return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b)
		})); diff != "" {
			t.Errorf("Refs(%q) (-want +got):\n%s", tc.prefix, diff)
		}
	}
	all, err := r.Refs(ctx, "refs/")
	if err != nil || len(all) != len(names) {
		t.Errorf("Refs(refs/) = %d refs, %v; want %d", len(all), err, len(names))
	}
}

func testDeleteRef(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	const name = "refs/snapshots/to-delete"
	if err := r.DeleteRef(ctx, name, gitsnap.ZeroHash); err != nil {
		t.Errorf("deleting a missing ref with ZeroHash = %v, want nil", err)
	}
	if err := r.DeleteRef(ctx, name, fakeHash(1)); !errors.Is(err, gitsnap.ErrRefChanged) {
		t.Errorf("deleting a missing ref with a value = %v, want ErrRefChanged", err)
	}
	if err := r.UpdateRef(ctx, name, gitsnap.ZeroHash, fakeHash(1)); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteRef(ctx, name, fakeHash(2)); !errors.Is(err, gitsnap.ErrRefChanged) {
		t.Errorf("delete with a wrong old value = %v, want ErrRefChanged", err)
	}
	if err := r.DeleteRef(ctx, name, gitsnap.ZeroHash); !errors.Is(err, gitsnap.ErrRefChanged) {
		t.Errorf("delete of an existing ref with ZeroHash = %v, want ErrRefChanged", err)
	}
	if err := r.DeleteRef(ctx, name, fakeHash(1)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := r.Ref(ctx, name); !errors.Is(err, gitsnap.ErrRefNotFound) {
		t.Errorf("Ref after delete = %v, want ErrRefNotFound", err)
	}
	if refs, _ := r.Refs(ctx, "refs/snapshots/"); len(refs) != 0 {
		t.Errorf("Refs after delete = %v", refs)
	}
	// The name is free again.
	if err := r.UpdateRef(ctx, name, gitsnap.ZeroHash, fakeHash(3)); err != nil {
		t.Errorf("re-create after delete: %v", err)
	}
}

func testInvalidRefNames(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	for _, name := range []string{"HEAD", "snapshots/x", "refs/x/../y", "refs/x.lock", "refs/x y", "refs/x/", "refs//x", "refs/x\x00"} {
		err := r.UpdateRef(ctx, name, gitsnap.ZeroHash, fakeHash(1))
		if err == nil || errors.Is(err, gitsnap.ErrRefChanged) {
			t.Errorf("UpdateRef(%q) = %v, want an invalid-name error", name, err)
		}
		if err := r.DeleteRef(ctx, name, fakeHash(1)); err == nil {
			t.Errorf("DeleteRef(%q) succeeded", name)
		}
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/a/b", gitsnap.ZeroHash, fakeHash(1)); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/a", gitsnap.ZeroHash, fakeHash(2)); err == nil {
		t.Error("created refs/snapshots/a while refs/snapshots/a/b exists")
	}
}

func testCancelled(t *testing.T, r gitsnap.Repo) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newWriter(t, r)
	cancel()
	if _, err := w.WriteBlob(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteBlob = %v, want context.Canceled", err)
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/c", gitsnap.ZeroHash, fakeHash(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateRef = %v, want context.Canceled", err)
	}
	if _, err := r.Refs(ctx, "refs/"); !errors.Is(err, context.Canceled) {
		t.Errorf("Refs = %v, want context.Canceled", err)
	}
}
