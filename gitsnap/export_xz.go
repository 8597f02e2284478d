package gitsnap

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz"
)

// xzArchive writes an export archive as a sequence of xz streams, which
// every xz reader (xz -d, ulikunitz/xz) reads as one: data that compresses
// goes through ulikunitz/xz, data that does not (photos, video, packed
// files) goes into "stored" streams of uncompressed LZMA2 chunks. Pure-Go
// LZMA crawls over incompressible data at about 1 MB/s; stored it moves at
// disk speed and loses nothing (compression would not have shrunk it).
type xzArchive struct {
	w      io.Writer
	comp   *xz.Writer
	stored *storedXZ
}

// Write sends p to the stream open now, opening a compressed one if none is.
func (a *xzArchive) Write(p []byte) (int, error) {
	if a.stored != nil {
		return a.stored.Write(p)
	}
	if a.comp == nil {
		w, err := xz.NewWriter(a.w)
		if err != nil {
			return 0, fmt.Errorf("start xz stream: %w", err)
		}
		a.comp = w
	}
	return a.comp.Write(p)
}

// store switches between compressed (false) and stored (true) streams.
func (a *xzArchive) store(on bool) error {
	switch {
	case on && a.stored == nil:
		if err := a.closeComp(); err != nil {
			return err
		}
		a.stored = newStoredXZ(a.w)
	case !on && a.stored != nil:
		err := a.stored.Close()
		a.stored = nil
		return err
	}
	return nil
}

func (a *xzArchive) closeComp() error {
	if a.comp == nil {
		return nil
	}
	err := a.comp.Close()
	a.comp = nil
	return err
}

// Close ends the open stream. An archive always holds at least one stream.
func (a *xzArchive) Close() error {
	if a.stored != nil {
		return a.store(false)
	}
	if a.comp == nil {
		if _, err := a.Write(nil); err != nil {
			return err
		}
	}
	return a.closeComp()
}

// incompressible guesses from a sample whether data is worth compressing:
// fast deflate saves less than 5 %.
func incompressible(sample []byte) bool {
	if len(sample) < 4096 {
		return false
	}
	var out countWriter
	fw, _ := flate.NewWriter(&out, flate.BestSpeed)
	_, _ = fw.Write(sample)
	_ = fw.Close()
	return out.n*100 > int64(len(sample))*95
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// storedXZ writes one xz stream (xz file format 1.0.4) with a single block
// of uncompressed LZMA2 chunks and a CRC32 check.
type storedXZ struct {
	w       io.Writer
	buf     []byte // pending chunk data, at most 64 KiB
	crc     hash.Hash32
	size    int64 // uncompressed bytes
	chunks  int64
	started bool
	err     error
}

const storedChunk = 1 << 16

// xzBlockHeader: size byte, flags (one filter, no sizes), LZMA2 filter id
// 0x21 with one property byte (dictionary 4 KiB: unused by stored chunks),
// padding to 8 bytes, then its CRC32.
var xzBlockHeader = []byte{0x02, 0x00, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00}

func newStoredXZ(w io.Writer) *storedXZ {
	return &storedXZ{w: w, crc: crc32.NewIEEE(), buf: make([]byte, 0, storedChunk)}
}

func (s *storedXZ) put(p []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
}

func (s *storedXZ) start() {
	s.started = true
	flags := []byte{0x00, 0x01} // check: CRC32
	s.put([]byte{0xFD, '7', 'z', 'X', 'Z', 0x00})
	s.put(flags)
	s.put(le32(crc32.ChecksumIEEE(flags)))
	s.put(xzBlockHeader)
	s.put(le32(crc32.ChecksumIEEE(xzBlockHeader)))
}

func (s *storedXZ) Write(p []byte) (int, error) {
	if !s.started {
		s.start()
	}
	n := len(p)
	for len(p) > 0 && s.err == nil {
		k := min(storedChunk-len(s.buf), len(p))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		if len(s.buf) == storedChunk {
			s.flushChunk()
		}
	}
	if s.err != nil {
		return 0, s.err
	}
	return n, nil
}

// flushChunk writes an uncompressed LZMA2 chunk: control 1 (dictionary
// reset) first, 2 after, then the size minus one, big-endian.
func (s *storedXZ) flushChunk() {
	if len(s.buf) == 0 {
		return
	}
	ctl := byte(0x02)
	if s.chunks == 0 {
		ctl = 0x01
	}
	s.put([]byte{ctl, byte((len(s.buf) - 1) >> 8), byte(len(s.buf) - 1)})
	s.put(s.buf)
	s.crc.Write(s.buf)
	s.size += int64(len(s.buf))
	s.chunks++
	s.buf = s.buf[:0]
}

// Close ends the block (end marker, padding, check) and writes the index
// and the stream footer.
func (s *storedXZ) Close() error {
	if !s.started {
		s.start()
	}
	s.flushChunk()
	s.put([]byte{0x00}) // LZMA2 end marker
	compressed := 3*s.chunks + s.size + 1
	if pad := (4 - compressed%4) % 4; pad > 0 {
		s.put(make([]byte, pad))
	}
	s.put(le32(s.crc.Sum32()))
	unpadded := int64(len(xzBlockHeader)+4) + compressed + 4
	var idx bytes.Buffer
	idx.WriteByte(0x00)
	idx.Write(uvarint(1))
	idx.Write(uvarint(uint64(unpadded)))
	idx.Write(uvarint(uint64(s.size)))
	for idx.Len()%4 != 0 {
		idx.WriteByte(0)
	}
	idx.Write(le32(crc32.ChecksumIEEE(idx.Bytes())))
	s.put(idx.Bytes())
	footer := append(le32(uint32(idx.Len()/4-1)), 0x00, 0x01)
	s.put(le32(crc32.ChecksumIEEE(footer)))
	s.put(footer)
	s.put([]byte{'Y', 'Z'})
	return s.err
}

func le32(v uint32) []byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return b[:]
}

func uvarint(v uint64) []byte {
	var b [binary.MaxVarintLen64]byte
	return b[:binary.PutUvarint(b[:], v)]
}
