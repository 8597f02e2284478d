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
			r := newChunkReader(context.Background(), f, es)
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
	r := newChunkReader(context.Background(), f, es)
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
	r := newChunkReader(context.Background(), f, es)
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
	r := newChunkReader(ctx, f, es)
	defer r.Close()
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("read with a cancelled context: got %v, want context.Canceled", err)
	}
}
