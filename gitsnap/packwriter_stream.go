package gitsnap

import (
	"bufio"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// WriteBlobFrom stores exactly size bytes from r as one blob. Blobs up to
// streamThreshold are read into memory and written like WriteBlob; larger
// ones are hashed while they are compressed straight into the pack, under
// the pack lock, so memory stays bounded. If the blob turns out to exist
// already, the pack is truncated back to where its entry started.
func (w *packWriter) WriteBlobFrom(ctx context.Context, r io.Reader, size int64) (Hash, error) {
	if err := ctx.Err(); err != nil {
		return ZeroHash, err
	}
	if size < 0 {
		return ZeroHash, fmt.Errorf("write blob: negative size %d", size)
	}
	if size <= w.streamAbove {
		data := make([]byte, size)
		if err := readExactly(r, data); err != nil {
			return ZeroHash, fmt.Errorf("write blob: %w", err)
		}
		return w.WriteBlob(ctx, data)
	}
	w.flushMu.RLock()
	defer w.flushMu.RUnlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return ZeroHash, w.err
	}
	if err := w.openLocked(); err != nil {
		return ZeroHash, err
	}
	start := w.offset
	h, n, crc, err := w.streamEntryLocked(ctx, r, size)
	if err == nil {
		dup := w.reserve(h)
		if !dup {
			if dup, err = w.target.hasObject(ctx, h); err != nil {
				w.unreserve(h)
			}
		}
		if err == nil && !dup {
			w.entries = append(w.entries, packEntry{hash: h, offset: start, crc: crc})
			w.offset += n
			w.writebackLocked()
			return h, nil
		}
		if err == nil {
			return h, w.truncateLocked(start)
		}
	}
	if terr := w.truncateLocked(start); terr != nil {
		return ZeroHash, terr
	}
	return ZeroHash, fmt.Errorf("write blob: %w", err)
}

// streamEntryLocked writes one blob entry from r at the end of the pack and
// returns the blob's hash, the entry length and its CRC32.
func (w *packWriter) streamEntryLocked(ctx context.Context, r io.Reader, size int64) (Hash, int64, uint32, error) {
	out := &entryWriter{w: bufio.NewWriterSize(w.f, 1<<20), crc: crc32.NewIEEE()}
	if _, err := out.Write(appendPackHeader(nil, packBlob, size)); err != nil {
		return ZeroHash, 0, 0, err
	}
	d := sha1.New()
	d.Write(objectHeader(ObjectBlob, size))
	in := bufio.NewReaderSize(&ctxReader{ctx: ctx, r: io.LimitReader(r, size)}, 256<<10)
	level := w.startCompress(size)
	defer w.compressing.Add(-1)
	if level == levelHuffman {
		// The sample is the head of the blob (a read error shows below).
		head, _ := in.Peek(huffmanSample)
		level = busyLevel(head)
	}
	zw := w.zw.get(out, level)
	defer w.zw.put(zw)
	n, err := in.WriteTo(io.MultiWriter(d, zw))
	if err != nil {
		return ZeroHash, 0, 0, err
	}
	if n != size {
		return ZeroHash, 0, 0, fmt.Errorf("reader gave %d bytes, want %d", n, size)
	}
	if m, _ := r.Read(make([]byte, 1)); m > 0 {
		return ZeroHash, 0, 0, fmt.Errorf("reader gave more than %d bytes", size)
	}
	if err := zw.Close(); err != nil {
		return ZeroHash, 0, 0, err
	}
	if err := out.w.Flush(); err != nil {
		return ZeroHash, 0, 0, err
	}
	var h Hash
	d.Sum(h[:0])
	return h, out.n, out.crc.Sum32(), nil
}

// truncateLocked cuts the pack back to off, dropping a partial entry.
func (w *packWriter) truncateLocked(off int64) error {
	err := w.f.Truncate(off)
	if err == nil {
		_, err = w.f.Seek(off, io.SeekStart)
	}
	if err != nil {
		w.err = fmt.Errorf("truncate pack %s: %w", w.f.Name(), err)
		return w.err
	}
	return nil
}

// entryWriter counts and checksums the bytes of one pack entry.
type entryWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	n   int64
}

func (e *entryWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	e.crc.Write(p[:n])
	e.n += int64(n)
	return n, err
}

// ctxReader stops a copy once ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readExactly fills data from r and checks that r has nothing more.
func readExactly(r io.Reader, data []byte) error {
	if n, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("reader gave %d bytes, want %d", n, len(data))
		}
		return err
	}
	var one [1]byte
	if m, _ := r.Read(one[:]); m > 0 {
		return fmt.Errorf("reader gave more than %d bytes", len(data))
	}
	return nil
}
