package gitsnap

import (
	"errors"
	"io"

	"github.com/restic/chunker"
)

// The chunk boundaries of format 1 are restic's (github.com/restic/chunker):
// a Rabin fingerprint of a sliding 64-byte window, a cut where its low
// chunkAvgBits bits are zero, no cut before chunkMin bytes and always one at
// chunkMax. That chunker reads into its own buffer, appends every byte to
// the caller's, and hashes one byte at a time in a single chain of
// dependent table lookups: on a database dump it was the largest cost of a
// create. cdcStream cuts at exactly the same offsets (cdc_test.go checks it
// against the library), with fewer copies and several independent lanes.
//
// Once a chunk is chunkMin bytes long, restic's window holds only the
// chunk's own last 64 bytes, so the fingerprint at a position depends on
// those bytes alone. That lets a lane start anywhere after a 64-byte
// warm-up, and lets the scan of a block run as cdcLanes independent chains.
const (
	cdcWindow = 64
	cdcLanes  = 4
	// cdcBlock is what one pass of the lanes scans; the first cut in a
	// block is found only after the whole block was scanned.
	cdcBlock = 64 << 10
	// cdcRead is the most read from the source at once.
	cdcRead = 256 << 10
)

// cutter finds restic's cut points for one polynomial and size range.
type cutter struct {
	out, mod [256]uint64
	shift    uint
	mask     uint64
	min, max int
}

func newCutter(pol chunker.Pol, minSize, maxSize, avgBits int) *cutter {
	k := pol.Deg()
	c := &cutter{shift: uint(k - 8), mask: 1<<avgBits - 1, min: minSize, max: maxSize}
	for b := range 256 {
		// out[b] is the fingerprint of b followed by 63 zero bytes: adding
		// it removes b from the front of the window. mod[b] reduces the
		// eight bits shifted above the polynomial's degree in one XOR.
		h := chunker.Pol(b)
		for range cdcWindow - 1 {
			h = (h << 8).Mod(pol)
		}
		c.out[b] = uint64(h)
		c.mod[b] = uint64(chunker.Pol(uint64(b)<<k).Mod(pol) | chunker.Pol(b)<<k)
	}
	return c
}

// find returns the first position p >= from (from >= cdcWindow) whose
// window data[p-63:p+1] has a fingerprint with the low bits zero, or -1.
func (c *cutter) find(data []byte, from int) int {
	for from < len(data) {
		end := min(from+cdcBlock, len(data))
		if p := c.findBlock(data, from, end); p >= 0 {
			return p
		}
		from = end
	}
	return -1
}

// findBlock scans positions [from, end) in cdcLanes interleaved lanes of
// equal length, each warmed up on the 64 bytes before it, and the rest
// one byte at a time.
func (c *cutter) findBlock(data []byte, from, end int) int {
	n := (end - from) / cdcLanes
	var hits [cdcLanes]int
	for l := range hits {
		hits[l] = -1
	}
	if n >= cdcWindow {
		c.lanes(data, from, n, &hits)
		for _, h := range hits {
			if h >= 0 {
				return h
			}
		}
		from += cdcLanes * n
	}
	return c.scan(data, from, end)
}

// lanes scans [from+i*n, from+(i+1)*n) for i < cdcLanes, recording each
// lane's first cut in hits.
func (c *cutter) lanes(data []byte, from, n int, hits *[cdcLanes]int) {
	out, mod, shift, mask := &c.out, &c.mod, c.shift, c.mask
	// Lane i reads w_i (the bytes leaving its window) and d_i (the bytes
	// entering), both n+64 long, starting 64 bytes before its first
	// position; the warm-up adds the first 64 bytes with nothing leaving.
	s0 := from - cdcWindow
	w0, w1, w2, w3 := data[s0:s0+n], data[s0+n:s0+2*n], data[s0+2*n:s0+3*n], data[s0+3*n:s0+4*n]
	d0, d1, d2, d3 := data[from:from+n], data[from+n:from+2*n], data[from+2*n:from+3*n], data[from+3*n:from+4*n]
	var h0, h1, h2, h3 uint64
	for i := range cdcWindow {
		h0 = (h0<<8 | uint64(w0[i])) ^ mod[byte(h0>>shift)]
		h1 = (h1<<8 | uint64(w1[i])) ^ mod[byte(h1>>shift)]
		h2 = (h2<<8 | uint64(w2[i])) ^ mod[byte(h2>>shift)]
		h3 = (h3<<8 | uint64(w3[i])) ^ mod[byte(h3>>shift)]
	}
	for i := range n {
		h0 ^= out[w0[i]]
		h1 ^= out[w1[i]]
		h2 ^= out[w2[i]]
		h3 ^= out[w3[i]]
		h0 = (h0<<8 | uint64(d0[i])) ^ mod[byte(h0>>shift)]
		h1 = (h1<<8 | uint64(d1[i])) ^ mod[byte(h1>>shift)]
		h2 = (h2<<8 | uint64(d2[i])) ^ mod[byte(h2>>shift)]
		h3 = (h3<<8 | uint64(d3[i])) ^ mod[byte(h3>>shift)]
		if (h0&mask == 0 || h1&mask == 0 || h2&mask == 0 || h3&mask == 0) && c.hit(hits, from, n, i, h0, h1, h2, h3) {
			return
		}
	}
}

// hit records the lanes that cut at step i and says whether the scan can
// stop: lane 0 cut, so no later lane matters.
func (c *cutter) hit(hits *[cdcLanes]int, from, n, i int, h0, h1, h2, h3 uint64) bool {
	for l, h := range [cdcLanes]uint64{h0, h1, h2, h3} {
		if h&c.mask == 0 && hits[l] < 0 {
			hits[l] = from + l*n + i
		}
	}
	return hits[0] >= 0
}

// scan is the one-lane version of lanes over [from, end).
func (c *cutter) scan(data []byte, from, end int) int {
	var h uint64
	for _, b := range data[from-cdcWindow : from] {
		h = (h<<8 | uint64(b)) ^ c.mod[byte(h>>c.shift)]
	}
	for p := from; p < end; p++ {
		h ^= c.out[data[p-cdcWindow]]
		h = (h<<8 | uint64(data[p])) ^ c.mod[byte(h>>c.shift)]
		if h&c.mask == 0 {
			return p
		}
	}
	return -1
}

var formatCutter = newCutter(chunkPolynomial, chunkMin, chunkMax, chunkAvgBits)

// cdcStream cuts a stream into chunks. Each chunk is a slice of its
// buffer, valid until the next call of next.
type cdcStream struct {
	c       *cutter
	r       io.Reader
	buf     []byte
	lo, hi  int // buf[lo:hi]: read, not yet returned
	scanned int // positions below lo+scanned hold no cut
	eof     bool
}

func newCDCStream(r io.Reader, c *cutter) *cdcStream {
	return &cdcStream{c: c, r: r, buf: make([]byte, c.max+cdcRead)}
}

// next returns the next chunk, or io.EOF after the last.
func (s *cdcStream) next() ([]byte, error) {
	for {
		avail := s.hi - s.lo
		if avail >= s.c.min {
			limit := min(avail, s.c.max)
			if p := s.c.find(s.buf[s.lo:s.lo+limit], max(s.c.min-1, s.scanned)); p >= 0 {
				return s.take(p + 1), nil
			}
			s.scanned = limit
			if limit == s.c.max {
				return s.take(limit), nil
			}
		}
		if s.eof {
			if avail == 0 {
				return nil, io.EOF
			}
			return s.take(avail), nil
		}
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
}

func (s *cdcStream) take(n int) []byte {
	chunk := s.buf[s.lo : s.lo+n : s.lo+n]
	s.lo += n
	s.scanned = 0
	return chunk
}

// fill reads up to cdcRead bytes, first moving what is left to the front
// of the buffer when there is no room for that.
func (s *cdcStream) fill() error {
	if len(s.buf)-s.hi < cdcRead {
		s.hi = copy(s.buf, s.buf[s.lo:s.hi])
		s.lo = 0
	}
	for empty := 0; ; empty++ {
		n, err := s.r.Read(s.buf[s.hi : s.hi+cdcRead])
		s.hi += n
		switch {
		case errors.Is(err, io.EOF):
			s.eof = true
			return nil
		case err != nil:
			return err
		case n > 0:
			return nil
		case empty == 100:
			// Nothing and no error, again and again: like bufio.Reader.
			return io.ErrNoProgress
		}
	}
}
