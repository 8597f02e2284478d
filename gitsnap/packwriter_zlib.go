package gitsnap

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Compression levels of pack entries. Git inflates every one of them, so
// the level changes the pack's size, never an object id.
const (
	levelStored  = 0                 // deflate stored blocks: no compression, no CPU beyond Adler-32
	levelHuffman = flate.HuffmanOnly // Huffman codes without matches: ~4× faster than levelFast
	levelFast    = 2                 // klauspost level 2: faster and smaller than its level 1 on dump text
	// levelRepetitive is for very repetitive data (busyLevel): on pgbench's
	// blank-padded rows klauspost's level 1 runs at 1.57 GB/s against
	// level 2's 0.79 GB/s, for 34.4× compression instead of 35.3×.
	levelRepetitive = 1
)

// zlibHeader is CMF (deflate, 32 KiB window) and FLG ("fastest", check
// bits). FLEVEL is informational; readers ignore it.
var zlibHeader = [2]byte{0x78, 0x01}

// zlibWriter writes one zlib stream (RFC 1950): the header, raw deflate
// data at its level and the Adler-32 of the input. It replaces
// compress/zlib's writer to use adler32Update and to write stored blocks
// straight from the caller's slice.
type zlibWriter struct {
	dst    io.Writer
	level  int
	fw     *flate.Writer // nil for levelStored
	adler  uint32
	header bool // the zlib header is written
	err    error
}

// zlibWriters pools one set of writers per level: a flate.Writer holds
// its level's tables (hundreds of KiB), worth reusing across entries.
type zlibWriters struct {
	pools sync.Map // level → *sync.Pool of *zlibWriter
}

// get returns a writer at level (levelStored, levelHuffman or 1–9) for a
// new stream to dst.
func (zs *zlibWriters) get(dst io.Writer, level int) *zlibWriter {
	p, _ := zs.pools.LoadOrStore(level, new(sync.Pool))
	zw, _ := p.(*sync.Pool).Get().(*zlibWriter)
	if zw == nil {
		zw = &zlibWriter{level: level}
		if level != levelStored {
			// NewWriter only fails on an invalid level; ours are valid.
			zw.fw, _ = flate.NewWriter(dst, level)
		}
	}
	zw.reset(dst)
	return zw
}

// put returns zw for reuse once its stream is closed.
func (zs *zlibWriters) put(zw *zlibWriter) {
	zw.dst = nil
	if zw.fw != nil {
		zw.fw.Reset(io.Discard) // drop the reference to the last destination
	}
	if p, ok := zs.pools.Load(zw.level); ok {
		p.(*sync.Pool).Put(zw)
	}
}

func (z *zlibWriter) reset(dst io.Writer) {
	z.dst, z.adler, z.header, z.err = dst, 1, false, nil
	if z.fw != nil {
		z.fw.Reset(dst)
	}
}

func (z *zlibWriter) writeHeader() error {
	if z.header {
		return nil
	}
	z.header = true
	_, z.err = z.dst.Write(zlibHeader[:])
	return z.err
}

// Write compresses p (stored: copies it in blocks of at most 65,535 bytes).
func (z *zlibWriter) Write(p []byte) (int, error) {
	if err := z.writeHeader(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	z.adler = adler32Update(z.adler, p)
	if z.fw != nil {
		n, err := z.fw.Write(p)
		z.err = err
		return n, err
	}
	for q := p; len(q) > 0; {
		n := min(len(q), 0xffff)
		if z.err = z.storedBlock(q[:n], false); z.err != nil {
			return 0, z.err
		}
		q = q[n:]
	}
	return len(p), nil
}

// storedBlock writes one stored deflate block: BFINAL and BTYPE 00 in a
// byte of its own, LEN and NLEN little-endian, then the bytes.
func (z *zlibWriter) storedBlock(b []byte, final bool) error {
	var h [5]byte
	if final {
		h[0] = 1
	}
	binary.LittleEndian.PutUint16(h[1:], uint16(len(b)))
	binary.LittleEndian.PutUint16(h[3:], ^uint16(len(b)))
	if _, err := z.dst.Write(h[:]); err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	_, err := z.dst.Write(b)
	return err
}

// Close ends the deflate data (stored: an empty final block) and writes
// the Adler-32. It does not close dst.
func (z *zlibWriter) Close() error {
	if err := z.writeHeader(); err != nil {
		return err
	}
	if z.err != nil {
		return z.err
	}
	if z.fw != nil {
		z.err = z.fw.Close()
	} else {
		z.err = z.storedBlock(nil, true)
	}
	if z.err != nil {
		return z.err
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], z.adler)
	_, z.err = z.dst.Write(sum[:])
	return z.err
}
