package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

func packFiles(t *testing.T, r *goGitRepo) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(r.commonDir, "objects", "pack", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func newTestWriter(t *testing.T, r *goGitRepo) *packWriter {
	t.Helper()
	w, err := r.NewObjectWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pw := w.(*packWriter)
	pw.streamAbove = 64 << 10 // exercise the streaming path with small blobs
	return pw
}

func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// TestPackWriterInteropWithGit writes every kind of object at each
// compression level and has git read, check and repack them.
func TestPackWriterInteropWithGit(t *testing.T) {
	t.Parallel()
	for _, level := range []int{levelFast, levelRepetitive, levelHuffman, levelStored} {
		t.Run(fmt.Sprintf("level=%d", level), func(t *testing.T) {
			t.Parallel()
			testPackWriterInterop(t, level)
		})
	}
}

func testPackWriterInterop(t *testing.T, level int) {
	ctx := context.Background()
	f := newGitFixture(t)
	r := f.open(f.dir)
	w := newTestWriter(t, r)
	w.levelFor = func(int64, int) int { return level }

	blobs := map[string][]byte{
		"empty":    {},
		"small":    []byte("hello\n"),
		"text":     bytes.Repeat([]byte("some text that compresses\n"), 1000),
		"random":   randomBytes(1, 50_000),
		"streamed": randomBytes(2, 300_000), // above streamAbove
		// Stored deflate blocks hold at most 65,535 bytes.
		"blocks": bytes.Repeat([]byte("0123456789abcdef"), 70_000/16),
	}
	hashes := map[string]Hash{}
	for name, data := range blobs {
		var h Hash
		var err error
		if name == "streamed" {
			h, err = w.WriteBlobFrom(ctx, bytes.NewReader(data), int64(len(data)))
		} else {
			h, err = w.WriteBlob(ctx, data)
		}
		if err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		if want := f.gitIn(data, "hash-object", "--stdin"); h.String() != want {
			t.Errorf("%s: hash %s, git hash-object says %s", name, h, want)
		}
		hashes[name] = h
	}
	sub, err := w.WriteTree(ctx, []TreeEntry{{Name: "x", Mode: ModeFile, Hash: hashes["small"]}})
	if err != nil {
		t.Fatal(err)
	}
	// Unsorted on purpose: "a-b" < "a" + "/" < "a0" in Git order.
	entries := []TreeEntry{
		{Name: "a0", Mode: ModeFile, Hash: hashes["text"]},
		{Name: "a", Mode: ModeDir, Hash: sub},
		{Name: "a-b", Mode: ModeExecutable, Hash: hashes["random"]},
		{Name: "link", Mode: ModeSymlink, Hash: hashes["small"]},
		{Name: "empty", Mode: ModeFile, Hash: hashes["empty"]},
		{Name: "big", Mode: ModeFile, Hash: hashes["streamed"]},
	}
	tree, err := w.WriteTree(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	var mktree strings.Builder
	for _, e := range entries {
		typ := "blob"
		if e.Mode == ModeDir {
			typ = "tree"
		}
		fmt.Fprintf(&mktree, "%o %s %s\t%s\n", e.Mode, typ, e.Hash, e.Name)
	}
	commit := &Commit{
		Tree:      tree,
		Author:    Signature{"A U Thor", "a@example.com", time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("", -7*3600-30*60))},
		Committer: Signature{"C O Mitter", "c@example.com", time.Date(2024, 5, 2, 8, 0, 0, 0, time.UTC)},
		Message:   "snapshot\n\nSnap-Format: 1\n",
	}
	ch, err := w.WriteCommit(ctx, commit)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.HasObject(ctx, ch); ok {
		t.Error("commit visible before Flush")
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// mktree needs the objects, so it runs after Flush.
	if got := f.gitIn([]byte(mktree.String()), "mktree"); got != tree.String() {
		t.Errorf("tree %s, git mktree says %s", tree, got)
	}
	want := "tree " + tree.String() + "\nauthor A U Thor <a@example.com> 1714591800 -0730\ncommitter C O Mitter <c@example.com> 1714636800 +0000\n\nsnapshot\n\nSnap-Format: 1\n"
	if got := f.gitIn([]byte(want), "hash-object", "-t", "commit", "--stdin"); got != ch.String() {
		t.Errorf("commit %s, git hash-object of the expected text says %s", ch, got)
	}
	for name, data := range blobs {
		if got := f.git("cat-file", "-p", hashes[name].String()); got != strings.TrimSpace(string(data)) {
			t.Errorf("git cat-file %s: content differs (%d bytes)", name, len(got))
		}
	}
	f.git("update-ref", "refs/snapshots/test", ch.String())
	f.git("fsck", "--strict", "--no-dangling")
	packs := packFiles(t, r)
	if len(packs) != 2 || !strings.HasSuffix(packs[0], ".idx") || !strings.HasSuffix(packs[1], ".pack") {
		t.Fatalf("pack dir = %v, want one .idx and one .pack", packs)
	}
	f.git("verify-pack", filepath.Join(r.commonDir, "objects", "pack", packs[0]))

	// Our own reader sees everything right after Flush.
	got, err := r.ReadCommit(ctx, ch)
	if err != nil || got.Tree != tree || got.Message != commit.Message || !got.Author.When.Equal(commit.Author.When) {
		t.Errorf("ReadCommit = %+v, %v", got, err)
	}
	rc, size, err := r.OpenBlob(ctx, hashes["streamed"])
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if size != int64(len(blobs["streamed"])) || !bytes.Equal(data, blobs["streamed"]) {
		t.Error("streamed blob reads back different")
	}

	// After git gc the objects are still found.
	f.git("gc", "-q", "--prune=now")
	if _, err := r.ReadTree(ctx, tree); err != nil {
		t.Errorf("ReadTree after gc: %v", err)
	}
	if ok, err := r.HasObject(ctx, hashes["random"]); !ok || err != nil {
		t.Errorf("HasObject after gc = %v, %v", ok, err)
	}
}

func TestPackWriterDedupeAndEmptyFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	existing := mustHash(t, f.gitIn([]byte("already here\n"), "hash-object", "-w", "--stdin"))
	r := f.open(f.dir)
	w := newTestWriter(t, r)

	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if h, err := w.WriteBlob(ctx, []byte("already here\n")); err != nil || h != existing {
		t.Fatalf("WriteBlob(existing) = %s, %v", h, err)
	}
	big := randomBytes(3, 200_000)
	if _, err := w.WriteBlobFrom(ctx, bytes.NewReader(big), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteBlobFrom(ctx, bytes.NewReader(big), int64(len(big))); err != nil { // truncated away
		t.Fatal(err)
	}
	for range 3 {
		if _, err := w.WriteBlob(ctx, []byte("twice")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(w.entries); n != 2 {
		t.Errorf("batch has %d entries, want 2", n)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.git("count-objects", "-v"); !strings.Contains(got, "in-pack: 2\n") {
		t.Errorf("count-objects:\n%s", got)
	}
	// Everything again: all present, so no new pack.
	before := packFiles(t, r)
	if _, err := w.WriteBlobFrom(ctx, bytes.NewReader(big), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteBlob(ctx, []byte("twice")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if after := packFiles(t, r); len(after) != len(before) {
		t.Errorf("pack dir %v after a flush of known objects, was %v", after, before)
	}
}

func TestPackWriterAbortAndBadLength(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	r := f.open(f.dir)
	w := newTestWriter(t, r)

	h, err := w.WriteBlob(ctx, []byte("discard me"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.HasObject(ctx, h); ok {
		t.Error("aborted blob is visible")
	}
	if files := packFiles(t, r); len(files) != 0 {
		t.Errorf("pack dir after Abort = %v", files)
	}

	good, err := w.WriteBlob(ctx, []byte("kept"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		size int64
	}{
		{"short small", []byte("abc"), 4},
		{"long small", []byte("abcde"), 4},
		{"short streamed", randomBytes(4, 100_000), 100_001},
		{"long streamed", randomBytes(5, 100_001), 100_000},
	} {
		if _, err := w.WriteBlobFrom(ctx, bytes.NewReader(tc.data), tc.size); err == nil {
			t.Errorf("%s: WriteBlobFrom accepted %d bytes for size %d", tc.name, len(tc.data), tc.size)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.HasObject(ctx, good); !ok || err != nil {
		t.Errorf("HasObject(good) = %v, %v", ok, err)
	}
	f.git("fsck", "--strict")
	if err := w.Abort(); err != nil { // after Flush: harmless
		t.Fatal(err)
	}
	if ok, _ := r.HasObject(ctx, good); !ok {
		t.Error("Abort after Flush removed flushed objects")
	}
}

func TestPackWriterConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	r := f.open(f.dir)
	w := newTestWriter(t, r)
	const workers, perWorker = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				// Half the blobs are shared between workers.
				seed := int64(g*perWorker + i)
				if i%2 == 0 {
					seed = int64(i)
				}
				data := randomBytes(seed, 1000+i*100)
				var err error
				if i%5 == 0 {
					_, err = w.WriteBlobFrom(ctx, bytes.NewReader(data), int64(len(data)))
				} else {
					_, err = w.WriteBlob(ctx, data)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	unique := perWorker/2 + workers*perWorker/2
	if got := f.git("count-objects", "-v"); !strings.Contains(got, fmt.Sprintf("in-pack: %d\n", unique)) {
		t.Errorf("count-objects, want %d objects:\n%s", unique, got)
	}
	f.git("fsck", "--strict")
}

func TestEncodeIndexLargeOffsets(t *testing.T) {
	t.Parallel()
	entries := []packEntry{
		{hash: Hash{0x01}, offset: 12, crc: 7},
		{hash: Hash{0x80}, offset: 3 << 30, crc: 8},
		{hash: Hash{0xff}, offset: 5 << 31, crc: 9},
	}
	sum := bytes.Repeat([]byte{0xaa}, 20)
	var buf bytes.Buffer
	if err := encodeIndex(&buf, entries, sum); err != nil {
		t.Fatal(err)
	}
	idx := idxfile.NewMemoryIndex()
	if err := idxfile.NewDecoder(&buf).Decode(idx); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		off, err := idx.FindOffset(plumbing.Hash(e.hash))
		if err != nil || off != e.offset {
			t.Errorf("offset of %x = %d, %v; want %d", e.hash[:1], off, err, e.offset)
		}
		crc, err := idx.FindCRC32(plumbing.Hash(e.hash))
		if err != nil || crc != e.crc {
			t.Errorf("crc of %x = %d, %v; want %d", e.hash[:1], crc, err, e.crc)
		}
	}
	if !bytes.Equal(idx.PackfileChecksum[:], sum) {
		t.Error("pack checksum differs")
	}
}

func TestWriteBlobFromCancelled(t *testing.T) {
	t.Parallel()
	f := newGitFixture(t)
	r := f.open(f.dir)
	w := newTestWriter(t, r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := randomBytes(6, 100_000)
	if _, err := w.WriteBlobFrom(ctx, bytes.NewReader(data), int64(len(data))); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteBlobFrom with cancelled ctx = %v", err)
	}
	if _, err := w.WriteBlob(ctx, data); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteBlob with cancelled ctx = %v", err)
	}
}

// snap.json is written with deflate's matches even when the policy would
// store or Huffman-code an entry of its size (busy writers).
func TestPackWriterCompactBlobIgnoresTheLoad(t *testing.T) {
	ctx := context.Background()
	f := newGitFixture(t)
	w := newTestWriter(t, f.open(f.dir))
	w.levelFor = func(int64, int) int { return levelStored }
	manifest := func(tag string) []byte {
		var b bytes.Buffer
		for i := range 4000 {
			fmt.Fprintf(&b, "    {\n      \"scope\": \"files\",\n      \"path\": \"data/%s/file%04d.bin\",\n      \"sha256\": \"%x\"\n    },\n",
				tag, i, randomBytes(int64(i), 32))
		}
		return b.Bytes()
	}
	grew := func(write func() error) int64 {
		before := w.offset
		if err := write(); err != nil {
			t.Fatal(err)
		}
		return w.offset - before
	}
	raw := manifest("a")
	stored := grew(func() error { _, err := w.WriteBlob(ctx, raw); return err })
	compact := grew(func() error { _, err := w.writeBlobCompact(ctx, manifest("b")); return err })
	if stored < int64(len(raw)) || compact*2 > stored {
		t.Errorf("a %d-byte manifest took %d bytes stored and %d compact, want compact under half", len(raw), stored, compact)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
