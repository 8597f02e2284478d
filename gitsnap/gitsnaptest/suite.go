package gitsnaptest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/google/go-cmp/cmp"
)

// RepoSuite runs the conformance tests every gitsnap.Repo implementation
// must pass: object round trips with Git's hashes, tree order, dedupe,
// Flush/Abort visibility and compare-and-swap refs. newRepo returns a
// fresh, empty repository for each subtest.
func RepoSuite(t *testing.T, newRepo func(t *testing.T) gitsnap.Repo) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, r gitsnap.Repo)
	}{
		{"BlobRoundTrip", testBlobRoundTrip},
		{"KnownHashes", testKnownHashes},
		{"FlushVisibility", testFlushVisibility},
		{"Dedupe", testDedupe},
		{"WriteBlobFromLength", testWriteBlobFromLength},
		{"ConcurrentWriters", testConcurrentWriters},
		{"TreeOrder", testTreeOrder},
		{"TreeRejectsBadEntries", testTreeRejectsBadEntries},
		{"CommitRoundTrip", testCommitRoundTrip},
		{"MissingObjects", testMissingObjects},
		{"RefCAS", testRefCAS},
		{"ConcurrentUpdateRef", testConcurrentUpdateRef},
		{"RefsPrefix", testRefsPrefix},
		{"DeleteRef", testDeleteRef},
		{"InvalidRefNames", testInvalidRefNames},
		{"Cancelled", testCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newRepo(t))
		})
	}
}

func randomData(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func newWriter(t *testing.T, r gitsnap.Repo) gitsnap.ObjectWriter {
	t.Helper()
	w, err := r.NewObjectWriter(context.Background())
	if err != nil {
		t.Fatalf("NewObjectWriter: %v", err)
	}
	return w
}

func flush(t *testing.T, w gitsnap.ObjectWriter) {
	t.Helper()
	if err := w.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func readBlob(t *testing.T, r gitsnap.Repo, h gitsnap.Hash) []byte {
	t.Helper()
	rc, size, err := r.OpenBlob(context.Background(), h)
	if err != nil {
		t.Fatalf("OpenBlob(%s): %v", h, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob %s: %v", h, err)
	}
	if int64(len(data)) != size {
		t.Errorf("blob %s: OpenBlob said %d bytes, read %d", h, size, len(data))
	}
	return data
}

func testBlobRoundTrip(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	blobs := [][]byte{{}, []byte("hello\n"), bytes.Repeat([]byte("abc"), 10_000), randomData(1, 3<<20)}
	hashes := make([]gitsnap.Hash, len(blobs))
	for i, data := range blobs {
		var err error
		if i%2 == 0 {
			hashes[i], err = w.WriteBlob(ctx, data)
		} else {
			hashes[i], err = w.WriteBlobFrom(ctx, bytes.NewReader(data), int64(len(data)))
		}
		if err != nil {
			t.Fatalf("write blob %d: %v", i, err)
		}
		if want := gitsnap.HashObject(gitsnap.ObjectBlob, data); hashes[i] != want {
			t.Errorf("blob %d: hash %s, want %s", i, hashes[i], want)
		}
	}
	flush(t, w)
	for i, data := range blobs {
		if got := readBlob(t, r, hashes[i]); !bytes.Equal(got, data) {
			t.Errorf("blob %d reads back different (%d bytes, want %d)", i, len(got), len(data))
		}
	}
}

func testKnownHashes(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	empty, err := w.WriteBlob(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	hello, err := w.WriteBlob(ctx, []byte("hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	emptyTree, err := w.WriteTree(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Values from `git hash-object` / `git mktree`.
	for _, tc := range []struct {
		got  gitsnap.Hash
		want string
	}{
		{empty, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
		{hello, "ce013625030ba8dba906f756967f9e9ca394464a"},
		{emptyTree, "4b825dc642cb6eb9a060e54bf8d69288fbee4904"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("hash %s, want %s", tc.got, tc.want)
		}
	}
}

func testFlushVisibility(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	h, err := w.WriteBlob(ctx, []byte("visible after flush"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := r.HasObject(ctx, h); ok || err != nil {
		t.Errorf("before Flush: HasObject = %v, %v; want false, nil", ok, err)
	}
	flush(t, w)
	if ok, err := r.HasObject(ctx, h); !ok || err != nil {
		t.Errorf("after Flush: HasObject = %v, %v; want true, nil", ok, err)
	}
	// The writer stays usable; Abort drops what was not flushed.
	gone, err := w.WriteBlob(ctx, []byte("aborted"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	if ok, _ := r.HasObject(ctx, gone); ok {
		t.Error("aborted blob became visible")
	}
	if ok, _ := r.HasObject(ctx, h); !ok {
		t.Error("Abort removed a flushed blob")
	}
	if err := w.Flush(ctx); err != nil { // nothing pending
		t.Errorf("empty Flush: %v", err)
	}
}

func testDedupe(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	data := randomData(2, 100_000)
	h1, err := w.WriteBlob(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := w.WriteBlobFrom(ctx, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	w2 := newWriter(t, r)
	h3, err := w2.WriteBlob(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	flush(t, w2)
	if h1 != h2 || h1 != h3 {
		t.Errorf("same content, different hashes: %s %s %s", h1, h2, h3)
	}
	if got := readBlob(t, r, h1); !bytes.Equal(got, data) {
		t.Error("deduplicated blob reads back different")
	}
}

func testWriteBlobFromLength(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	for _, tc := range []struct {
		n    int
		size int64
	}{{3, 4}, {5, 4}, {0, 1}, {1 << 20, 1<<20 + 1}, {1<<20 + 1, 1 << 20}} {
		if _, err := w.WriteBlobFrom(ctx, bytes.NewReader(randomData(3, tc.n)), tc.size); err == nil {
			t.Errorf("WriteBlobFrom accepted %d bytes for size %d", tc.n, tc.size)
		}
	}
	ok, err := w.WriteBlob(ctx, []byte("still usable"))
	if err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	if got := readBlob(t, r, ok); string(got) != "still usable" {
		t.Errorf("blob after failed writes = %q", got)
	}
}

func testConcurrentWriters(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	const workers, each = 4, 25
	hashes := make([][]gitsnap.Hash, workers)
	errs := make(chan error, workers)
	for g := range workers {
		go func() {
			for i := range each {
				h, err := w.WriteBlob(ctx, randomData(int64(i), 1000+i)) // shared by all workers
				if err != nil {
					errs <- err
					return
				}
				hashes[g] = append(hashes[g], h)
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	flush(t, w)
	for g := 1; g < workers; g++ {
		if diff := cmp.Diff(hashes[0], hashes[g]); diff != "" {
			t.Errorf("worker %d hashes differ:\n%s", g, diff)
		}
	}
	for i, h := range hashes[0] {
		if got := readBlob(t, r, h); !bytes.Equal(got, randomData(int64(i), 1000+i)) {
			t.Errorf("blob %d reads back different", i)
		}
	}
}

func testTreeOrder(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	blob, err := w.WriteBlob(ctx, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := w.WriteTree(ctx, []gitsnap.TreeEntry{{Name: "f", Mode: gitsnap.ModeFile, Hash: blob}})
	if err != nil {
		t.Fatal(err)
	}
	in := []gitsnap.TreeEntry{
		{Name: "b", Mode: gitsnap.ModeFile, Hash: blob},
		{Name: "a0", Mode: gitsnap.ModeExecutable, Hash: blob},
		{Name: "a", Mode: gitsnap.ModeDir, Hash: sub},
		{Name: "a-b", Mode: gitsnap.ModeSymlink, Hash: blob},
		{Name: "A", Mode: gitsnap.ModeFile, Hash: blob},
	}
	h, err := w.WriteTree(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	got, err := r.ReadTree(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	// Git order: byte order, a directory compares as "a/": "a-b" < "a/" < "a0".
	want := []gitsnap.TreeEntry{in[4], in[3], in[2], in[1], in[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadTree (-want +got):\n%s", diff)
	}
	if in[0].Name != "b" {
		t.Error("WriteTree reordered the caller's slice")
	}
}

func testTreeRejectsBadEntries(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	blob := gitsnap.HashObject(gitsnap.ObjectBlob, []byte("x"))
	for _, entries := range [][]gitsnap.TreeEntry{
		{{Name: "", Mode: gitsnap.ModeFile, Hash: blob}},
		{{Name: "a/b", Mode: gitsnap.ModeFile, Hash: blob}},
		{{Name: "..", Mode: gitsnap.ModeDir, Hash: blob}},
		{{Name: ".git", Mode: gitsnap.ModeDir, Hash: blob}},
		{{Name: "a", Mode: 0o100600, Hash: blob}},
		{{Name: "a", Mode: gitsnap.ModeFile}},
		{{Name: "a", Mode: gitsnap.ModeFile, Hash: blob}, {Name: "a", Mode: gitsnap.ModeFile, Hash: blob}},
	} {
		if h, err := w.WriteTree(ctx, entries); err == nil {
			t.Errorf("WriteTree(%+v) = %s, want an error", entries, h)
		}
	}
}

func testCommitRoundTrip(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	w := newWriter(t, r)
	tree, err := w.WriteTree(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := w.WriteCommit(ctx, &gitsnap.Commit{
		Tree:      tree,
		Author:    gitsnap.Signature{Name: "P", Email: "p@example.com", When: time.Unix(1_700_000_000, 0).UTC()},
		Committer: gitsnap.Signature{Name: "P", Email: "p@example.com", When: time.Unix(1_700_000_000, 0).UTC()},
		Message:   "parent\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &gitsnap.Commit{
		Tree:      tree,
		Parents:   []gitsnap.Hash{parent},
		Author:    gitsnap.Signature{Name: "A U Thor", Email: "a@example.com", When: time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("", 5*3600+30*60))},
		Committer: gitsnap.Signature{Name: "C", Email: "c@example.com", When: time.Date(2024, 5, 2, 1, 2, 3, 0, time.FixedZone("", -8*3600))},
		Message:   "snapshot\n\nSnap-Format: 1\nSnap-Source-Commit: " + parent.String() + "\n",
	}
	h, err := w.WriteCommit(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	got, err := r.ReadCommit(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	sameInstant := cmp.Comparer(func(a, b time.Time) bool {
		_, oa := a.Zone()
		_, ob := b.Zone()
		return a.Equal(b) && oa == ob
	})
	if diff := cmp.Diff(want, got, sameInstant); diff != "" {
		t.Errorf("ReadCommit (-want +got):\n%s", diff)
	}
	if _, err := w.WriteCommit(ctx, &gitsnap.Commit{Tree: tree, Author: gitsnap.Signature{Name: "x<y"}}); err == nil {
		t.Error("WriteCommit accepted a name containing '<'")
	}
}

func testMissingObjects(t *testing.T, r gitsnap.Repo) {
	ctx := context.Background()
	missing := gitsnap.HashObject(gitsnap.ObjectBlob, []byte("never written"))
	if ok, err := r.HasObject(ctx, missing); ok || err != nil {
		t.Errorf("HasObject = %v, %v; want false, nil", ok, err)
	}
	if _, _, err := r.OpenBlob(ctx, missing); !errors.Is(err, gitsnap.ErrObjectNotFound) {
		t.Errorf("OpenBlob = %v, want ErrObjectNotFound", err)
	}
	if _, err := r.ReadTree(ctx, missing); !errors.Is(err, gitsnap.ErrObjectNotFound) {
		t.Errorf("ReadTree = %v, want ErrObjectNotFound", err)
	}
	if _, err := r.ReadCommit(ctx, missing); !errors.Is(err, gitsnap.ErrObjectNotFound) {
		t.Errorf("ReadCommit = %v, want ErrObjectNotFound", err)
	}
	// The wrong type is an error too (but not "not found").
	w := newWriter(t, r)
	blob, err := w.WriteBlob(ctx, []byte("a blob"))
	if err != nil {
		t.Fatal(err)
	}
	flush(t, w)
	if _, err := r.ReadTree(ctx, blob); err == nil {
		t.Error("ReadTree of a blob succeeded")
	}
}
