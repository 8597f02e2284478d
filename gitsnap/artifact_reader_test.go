package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
)

// fakeBlobs serves blobs from memory and tracks open readers.
type fakeBlobs struct {
	mu    sync.Mutex
	blobs map[Hash][]byte
	open  int
	calls int
}

func (f *fakeBlobs) add(data []byte) TreeEntry {
	h := HashObject(ObjectBlob, data)
	f.mu.Lock()
	f.blobs[h] = data
	f.mu.Unlock()
	return TreeEntry{Name: fmt.Sprintf("%08d", len(f.blobs)-1), Mode: ModeFile, Hash: h}
}

func (f *fakeBlobs) OpenBlob(ctx context.Context, h Hash) (io.ReadCloser, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	data, ok := f.blobs[h]
	if !ok {
		return nil, 0, ErrObjectNotFound
	}
	f.open++
	return &trackedReader{Reader: bytes.NewReader(data), f: f}, int64(len(data)), nil
}

func (f *fakeBlobs) openReaders() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open
}

type trackedReader struct {
	io.Reader
	f    *fakeBlobs
	once sync.Once
}

func (t *trackedReader) Close() error {
	t.once.Do(func() {
		t.f.mu.Lock()
		t.f.open--
		t.f.mu.Unlock()
	})
	return nil
}

func TestChunkReaderConcatenates(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
	}{
		{"no chunks", nil},
		{"one chunk", []int{100}},
		{"several chunks", []int{1, 4096, 70000, 3, 5000}},
		{"empty chunk in the middle", []int{10, 0, 10}},
		{"chunk larger than chunkMax", []int{10, chunkMax + 1, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBlobs{blobs: map[Hash][]byte{}}
			var want []byte
			var es []TreeEntry
			for i, n := range tt.sizes {
				data := bytes.Repeat([]byte{byte('a' + i)}, n)
				want = append(want, data...)
				es = append(es, f.add(data))
			}
			r := newChunkReader(context.Background(), f, chunksOf(es))
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("read %d bytes, want %d (content differs: %v)", len(got), len(want), len(got) == len(want))
			}
			if n := f.openReaders(); n != 0 {
				t.Errorf("%d blob readers left open", n)
			}
		})
	}
}

func TestChunkReaderMissingChunk(t *testing.T) {
	f := &fakeBlobs{blobs: map[Hash][]byte{}}
	es := []TreeEntry{f.add([]byte("first")), {Name: "00000001", Mode: ModeFile, Hash: Hash{1}}, f.add([]byte("third"))}
	r := newChunkReader(context.Background(), f, chunksOf(es))
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("read: got %v, want ErrObjectNotFound", err)
	}
	if string(got) != "first" {
		t.Errorf("read %q before the error, want %q", got, "first")
	}
	r.Close()
	if n := f.openReaders(); n != 0 {
		t.Errorf("%d blob readers left open", n)
	}
}

func TestChunkReaderCloseMidway(t *testing.T) {
	f := &fakeBlobs{blobs: map[Hash][]byte{}}
	var es []TreeEntry
	for i := range 10 {
		es = append(es, f.add(bytes.Repeat([]byte{byte(i)}, 1000)))
	}
	r := newChunkReader(context.Background(), f, chunksOf(es))
	if _, err := io.ReadFull(r, make([]byte, 1500)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Close leaves nothing open, and chunks are opened only as needed
	// (one more, were the next chunk ever read ahead).
	if n := f.openReaders(); n != 0 {
		t.Errorf("%d blob readers left open after Close", n)
	}
	f.mu.Lock()
	calls := f.calls
	f.mu.Unlock()
	if calls > 3 {
		t.Errorf("%d chunks opened for 1.5 chunks read, want at most 3", calls)
	}
}

func TestChunkReaderCancelled(t *testing.T) {
	f := &fakeBlobs{blobs: map[Hash][]byte{}}
	es := []TreeEntry{f.add([]byte("a")), f.add([]byte("b"))}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newChunkReader(ctx, f, chunksOf(es))
	defer r.Close()
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("read with a cancelled context: got %v, want context.Canceled", err)
	}
}

// fakeTrees is an ObjectReader holding trees only.
type fakeTrees struct {
	trees map[Hash][]TreeEntry
	reads int
}

func (f *fakeTrees) add(es []TreeEntry) Hash {
	data, err := EncodeTree(es)
	if err != nil {
		panic(err)
	}
	h := HashObject(ObjectTree, data)
	f.trees[h] = es
	return h
}

func (f *fakeTrees) HasObject(ctx context.Context, h Hash) (bool, error) {
	_, ok := f.trees[h]
	return ok, nil
}

func (f *fakeTrees) OpenBlob(ctx context.Context, h Hash) (io.ReadCloser, int64, error) {
	return nil, 0, ErrObjectNotFound
}

func (f *fakeTrees) ReadTree(ctx context.Context, h Hash) ([]TreeEntry, error) {
	f.reads++
	es, ok := f.trees[h]
	if !ok {
		return nil, ErrObjectNotFound
	}
	return es, nil
}

func (f *fakeTrees) ReadCommit(ctx context.Context, h Hash) (*Commit, error) {
	return nil, ErrObjectNotFound
}

// wideTree is a root with files/ holding n files and one subdirectory.
func wideTree(n int) (*fakeTrees, Hash) {
	f := &fakeTrees{trees: map[Hash][]TreeEntry{}}
	blob := HashObject(ObjectBlob, []byte("x"))
	sub := f.add([]TreeEntry{{Name: "deep.txt", Mode: ModeFile, Hash: blob}})
	es := []TreeEntry{{Name: "sub", Mode: ModeDir, Hash: sub}}
	for i := range n {
		es = append(es, TreeEntry{Name: fmt.Sprintf("f%06d", i), Mode: ModeFile, Hash: HashObject(ObjectBlob, []byte(fmt.Sprint(i)))})
	}
	files := f.add(es)
	return f, f.add([]TreeEntry{{Name: "files", Mode: ModeDir, Hash: files}})
}

func TestSnapshotTreeLookup(t *testing.T) {
	f, root := wideTree(1000)
	tr := newSnapshotTree(f, root)
	ctx := context.Background()
	tests := []struct {
		path    string
		want    Hash
		wantErr error
	}{
		{"files/f000000", HashObject(ObjectBlob, []byte("0")), nil},
		{"files/f000999", HashObject(ObjectBlob, []byte("999")), nil},
		{"files/sub/deep.txt", HashObject(ObjectBlob, []byte("x")), nil},
		{"files/f001000", ZeroHash, ErrIntegrity},
		{"files/f000001/below", ZeroHash, ErrIntegrity}, // a file used as a directory
		{"nothing/here", ZeroHash, ErrIntegrity},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e, err := tr.lookup(ctx, tt.path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("lookup: got error %v, want %v", err, tt.wantErr)
			}
			if err == nil && e.Hash != tt.want {
				t.Errorf("lookup: got %s, want %s", e.Hash, tt.want)
			}
		})
	}
	// Every tree was read once: root, files, files/sub.
	if f.reads != 3 {
		t.Errorf("%d tree reads, want 3 (trees are cached)", f.reads)
	}
}

// BenchmarkSnapshotTreeLookup looks up every file of a 20,000-file
// directory, as restoring an uploads directory does.
func BenchmarkSnapshotTreeLookup(b *testing.B) {
	const n = 20000
	f, root := wideTree(n)
	ctx := context.Background()
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("files/f%06d", i)
	}
	b.ResetTimer()
	for range b.N {
		tr := newSnapshotTree(f, root)
		for _, p := range paths {
			if _, err := tr.lookup(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// chunksOf lists full chunks for a chunkReader.
func chunksOf(es []TreeEntry) chunkList {
	var cl chunkList
	for _, e := range es {
		cl.chunks = append(cl.chunks, chunkRef{Name: e.Name, Hash: e.Hash})
	}
	return cl
}
