package gitsnap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Pack object type codes (gitformat-pack(5)).
const (
	packCommit = 1
	packTree   = 2
	packBlob   = 3
)

// streamThreshold: WriteBlobFrom reads blobs up to this size into memory
// and compresses them in the caller's goroutine like WriteBlob; bigger ones
// are streamed into the pack under the pack lock.
const streamThreshold = 16 << 20

// packTarget is what a packWriter needs from its repository.
type packTarget interface {
	// hasObject reports whether the repository already has h.
	hasObject(ctx context.Context, h Hash) (bool, error)
	// packsChanged is called once a new pack and its index are in place.
	packsChanged()
}

// packWriter is the ObjectWriter of on-disk repositories: objects are
// appended whole (no deltas) to objects/pack/tmp_pack_<random>; Flush
// writes the trailer and a version 2 index and renames both into place, as
// git index-pack does. Hashing and compression run in the caller's
// goroutine, so concurrent callers use every core; only the append to the
// file is serialised.
type packWriter struct {
	dir    string // objects/pack
	target packTarget
	// streamAbove: WriteBlobFrom streams blobs bigger than this (tests lower it).
	streamAbove int64

	// flushMu is held shared by every write for its whole duration and
	// exclusively by Flush and Abort, so a Flush covers every write that
	// returned before it, including the ones another writer deduplicated.
	flushMu sync.RWMutex

	mu      sync.Mutex // guards the pack file state below
	f       *os.File   // the temp pack, nil until the first object
	offset  int64      // end of the data written so far
	wbDone  int64      // data handed to startWriteback so far
	entries []packEntry
	err     error // sticky: the pack is unusable until Abort

	// seenMu guards seen. It is separate from mu so that writers can
	// deduplicate and compress while a large blob streams into the pack;
	// when both are needed, mu is taken first.
	seenMu sync.Mutex
	seen   map[Hash]struct{} // written, being written or already present

	zw zlibWriters
	// levelFor picks an entry's level from the number being compressed
	// (compressionPolicy.level; tests fix it).
	levelFor func(size int64, busy int) int
	// compressing counts the entries being compressed right now.
	compressing atomic.Int32
	bufPool     sync.Pool // *bytes.Buffer for compressed entries
}

type packEntry struct {
	hash   Hash
	offset int64
	crc    uint32
}

func newPackWriter(dir string, target packTarget) *packWriter {
	return &packWriter{dir: dir, target: target, streamAbove: streamThreshold, seen: map[Hash]struct{}{}, levelFor: defaultCompressionPolicy().level}
}

// NewObjectWriter opens a pack writer on objects/pack.
func (r *goGitRepo) NewObjectWriter(ctx context.Context) (ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return newPackWriter(filepath.Join(r.commonDir, "objects", "pack"), goGitPackTarget{r}), nil
}

// goGitPackTarget adapts goGitRepo for the pack writer.
type goGitPackTarget struct{ r *goGitRepo }

func (t goGitPackTarget) hasObject(ctx context.Context, h Hash) (bool, error) {
	return t.r.HasObject(ctx, h)
}

func (t goGitPackTarget) packsChanged() {
	t.r.packsWritten.Add(1)
	t.r.mu.Lock()
	t.r.refreshPacksLocked(true)
	t.r.mu.Unlock()
}

// WriteBlob stores data as a blob unless it already exists.
func (w *packWriter) WriteBlob(ctx context.Context, data []byte) (Hash, error) {
	h := HashObject(ObjectBlob, data)
	if err := w.writeObject(ctx, packBlob, h, data, byPolicy); err != nil {
		return ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return h, nil
}

// writeBlobCompact implements compactBlobWriter: data is compressed with
// deflate's matches whatever the writers' load.
func (w *packWriter) writeBlobCompact(ctx context.Context, data []byte) (Hash, error) {
	h := HashObject(ObjectBlob, data)
	if err := w.writeObject(ctx, packBlob, h, data, levelFast); err != nil {
		return ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return h, nil
}

// writeBlobHashed implements hashedBlobWriter: data's blob id h was
// computed by the caller.
func (w *packWriter) writeBlobHashed(ctx context.Context, h Hash, data []byte) error {
	if err := w.writeObject(ctx, packBlob, h, data, byPolicy); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	return nil
}

// WriteTree stores a tree, sorted into Git order. Trees and commits are
// metadata written after the data: always with deflate's matches.
func (w *packWriter) WriteTree(ctx context.Context, entries []TreeEntry) (Hash, error) {
	data, err := EncodeTree(entries)
	if err != nil {
		return ZeroHash, err
	}
	h := HashObject(ObjectTree, data)
	if err := w.writeObject(ctx, packTree, h, data, levelFast); err != nil {
		return ZeroHash, fmt.Errorf("write tree: %w", err)
	}
	return h, nil
}

// WriteCommit stores a commit.
func (w *packWriter) WriteCommit(ctx context.Context, c *Commit) (Hash, error) {
	data, err := EncodeCommit(c)
	if err != nil {
		return ZeroHash, err
	}
	h := HashObject(ObjectCommit, data)
	if err := w.writeObject(ctx, packCommit, h, data, levelFast); err != nil {
		return ZeroHash, fmt.Errorf("write commit: %w", err)
	}
	return h, nil
}

// byPolicy lets writeObject pick an entry's level (packwriter_level.go).
const byPolicy = -1

// writeObject appends one object unless this batch or the repository has
// it already, at level, or at the level the compression policy picks for
// byPolicy. A concurrent write of the same object returns at once: the
// first writer's pending append is covered by the next Flush.
func (w *packWriter) writeObject(ctx context.Context, typ int, h Hash, data []byte, level int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.flushMu.RLock()
	defer w.flushMu.RUnlock()
	if w.reserve(h) {
		return nil
	}
	if has, err := w.target.hasObject(ctx, h); has || err != nil {
		if err != nil {
			w.unreserve(h)
		}
		return err
	}
	if level == byPolicy {
		level = w.startCompress(int64(len(data)))
	} else {
		w.compressing.Add(1)
	}
	switch level {
	case levelHuffman:
		level = busyLevel(data)
	case levelStored:
		// Backed-up writers store, except very repetitive data: deflate's
		// matches run through it faster than the stored copy is written,
		// and a stored 8 MiB chunk of pgbench rows costs 35 times its
		// compressed size (the first snapshot's size then depended on
		// how busy the writers happened to be).
		if h, ok := sampleEntropy(data); ok && h < repetitiveBits {
			level = levelRepetitive
		}
	}
	buf := w.compress(typ, data, level)
	w.compressing.Add(-1)
	defer w.bufPool.Put(buf)
	crc := crc32.ChecksumIEEE(buf.Bytes())

	w.mu.Lock()
	err := w.appendLocked(h, buf.Bytes(), crc)
	w.mu.Unlock()
	if err != nil {
		w.unreserve(h)
	}
	return err
}

// reserve marks h as written by this batch and reports whether it already was.
func (w *packWriter) reserve(h Hash) (dup bool) {
	w.seenMu.Lock()
	defer w.seenMu.Unlock()
	if _, ok := w.seen[h]; ok {
		return true
	}
	w.seen[h] = struct{}{}
	return false
}

func (w *packWriter) unreserve(h Hash) {
	w.seenMu.Lock()
	delete(w.seen, h)
	w.seenMu.Unlock()
}

// resetSeen forgets the batch's objects (after Flush or Abort).
func (w *packWriter) resetSeen() {
	w.seenMu.Lock()
	w.seen = map[Hash]struct{}{}
	w.seenMu.Unlock()
}

// compress returns the pack entry (header + zlib data) in a pooled buffer.
func (w *packWriter) compress(typ int, data []byte, level int) *bytes.Buffer {
	buf, _ := w.bufPool.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	// Room for incompressible data: stored deflate blocks add 5 bytes per
	// 64 KiB, zlib 6, the entry header at most 10. Allocating exactly (not
	// letting Grow double a pooled buffer) keeps big entries from pinning
	// ever larger buffers.
	need := len(data) + len(data)/1024 + 64
	if buf.Cap() < need {
		buf = bytes.NewBuffer(make([]byte, 0, need))
	}
	buf.Reset()
	buf.Write(appendPackHeader(nil, typ, int64(len(data))))
	zw := w.zw.get(buf, level)
	// Writes to a bytes.Buffer cannot fail.
	_, _ = zw.Write(data)
	_ = zw.Close()
	w.zw.put(zw)
	return buf
}

// startCompress counts one more entry being compressed and returns the
// level for its size bytes. The caller decrements w.compressing when done.
func (w *packWriter) startCompress(size int64) int {
	return w.levelFor(size, int(w.compressing.Add(1)))
}

// appendPackHeader encodes an entry header: type and size, 4 bits of size
// in the first byte, then 7 bits per byte, high bit = more.
func appendPackHeader(b []byte, typ int, size int64) []byte {
	c := byte(typ<<4) | byte(size&0x0f)
	size >>= 4
	for size > 0 {
		b = append(b, c|0x80)
		c = byte(size & 0x7f)
		size >>= 7
	}
	return append(b, c)
}

// openLocked creates the temp pack with a placeholder header.
func (w *packWriter) openLocked() error {
	if w.f != nil {
		return nil
	}
	if err := os.MkdirAll(w.dir, 0o777); err != nil {
		return fmt.Errorf("create pack dir: %w", err)
	}
	f, err := os.CreateTemp(w.dir, "tmp_pack_*")
	if err != nil {
		return fmt.Errorf("create pack: %w", err)
	}
	if _, err := f.Write(make([]byte, 12)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write pack header: %w", err)
	}
	w.f, w.offset, w.wbDone = f, 12, 0
	return nil
}

// writebackStep: every this many bytes appended, writing them to disk is
// started in the background, so Flush's fsync does not wait for a whole
// pack (2 GiB pack: its fsync took 0.71 s without this, 0.02 s with it).
const writebackStep = 32 << 20

// writebackLocked starts writeback of what was appended since the last call
// once writebackStep bytes have piled up.
func (w *packWriter) writebackLocked() {
	if w.offset-w.wbDone >= writebackStep {
		startWriteback(w.f, w.wbDone, w.offset-w.wbDone)
		w.wbDone = w.offset
	}
}

func (w *packWriter) appendLocked(h Hash, entry []byte, crc uint32) error {
	if w.err != nil {
		return w.err
	}
	if err := w.openLocked(); err != nil {
		return err
	}
	if _, err := w.f.Write(entry); err != nil {
		w.err = fmt.Errorf("write pack %s: %w", w.f.Name(), err)
		return w.err
	}
	w.entries = append(w.entries, packEntry{hash: h, offset: w.offset, crc: crc})
	w.offset += int64(len(entry))
	w.writebackLocked()
	return nil
}

// Abort removes the temp pack and forgets the batch. The writer stays
// usable; calling Abort after Flush (or twice) is harmless.
func (w *packWriter) Abort() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.discardLocked()
	w.err = nil
	return err
}

// discardLocked closes and removes the temp pack and resets the batch.
func (w *packWriter) discardLocked() error {
	var err error
	if w.f != nil {
		name := w.f.Name()
		w.f.Close()
		if rerr := os.Remove(name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("remove temp pack: %w", rerr)
		}
	}
	w.f, w.offset, w.entries = nil, 0, nil
	w.resetSeen()
	return err
}

// packFileHeader is "PACK", version 2, object count.
func packFileHeader(count int) []byte {
	b := make([]byte, 12)
	copy(b, "PACK")
	binary.BigEndian.PutUint32(b[4:], 2)
	binary.BigEndian.PutUint32(b[8:], uint32(count))
	return b
}

// sumFile returns the SHA-1 of f's first n bytes.
func sumFile(f *os.File, n int64) ([]byte, error) {
	d := sha1.New()
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, n), 1<<20)
	if _, err := io.Copy(d, br); err != nil {
		return nil, err
	}
	return d.Sum(nil), nil
}
