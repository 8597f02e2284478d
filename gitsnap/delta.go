package gitsnap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// This file encodes and applies Git's delta format (gitformat-pack(5),
// "Deltified representation"): a header of two varints (source size,
// target size) and a list of instructions, each either "copy <offset>
// <size> from the source" or "insert the next 1..127 literal bytes".
// git-snap stores a changed chunk as such a delta against chunks of an
// earlier snapshot (delta_chunk.go); the source is the concatenation of
// those base chunks.
//
// go-git has an encoder (packfile.DiffDelta), but it indexes the whole
// source for every target and ran at about 29 MB/s on 1.5 MiB database
// chunks against three bases; this one indexes each base once (a base
// serves several consecutive targets) and skips over matched runs, so
// the encoding costs little more than comparing the bytes.

// deltaBlock is the length of the windows the index hashes: a base is
// indexed every deltaBlock bytes, and a target window matches when its
// deltaBlock bytes equal an indexed one.
const deltaBlock = 16

// maxDeltaCopy is the largest size a copy instruction carries (3 bytes).
const maxDeltaCopy = 1<<24 - 1

// deltaIndex is one base chunk with a direct-mapped table from the hash of
// each aligned deltaBlock-byte window to its offset. A collision keeps the
// later window; a lost entry only means the match is found at the next
// aligned window.
type deltaIndex struct {
	data  []byte
	tab   []int32 // hash → offset+1, 0 = empty
	shift uint
}

func newDeltaIndex(data []byte) *deltaIndex {
	n := len(data) / deltaBlock
	size := 1 << 10
	for size < 2*n {
		size <<= 1
	}
	d := &deltaIndex{data: data, tab: make([]int32, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for p := 0; p+deltaBlock <= len(data); p += deltaBlock {
		d.tab[blockHash(data[p:])>>d.shift] = int32(p + 1)
	}
	return d
}

// find returns the offset of an indexed window equal to w[:deltaBlock],
// whose blockHash is h.
func (d *deltaIndex) find(h uint64, w []byte) (int, bool) {
	e := d.tab[h>>d.shift]
	if e == 0 {
		return 0, false
	}
	p := int(e - 1)
	if string(d.data[p:p+deltaBlock]) != string(w[:deltaBlock]) {
		return 0, false
	}
	return p, true
}

// blockHash mixes the first deltaBlock (16) bytes of b.
func blockHash(b []byte) uint64 {
	x := binary.LittleEndian.Uint64(b) * 0x9E3779B185EBCA87
	y := binary.LittleEndian.Uint64(b[8:]) * 0xC2B2AE3D27D4EB4F
	return (x ^ bits.RotateLeft64(y, 31)) * 0x165667B19E3779F9
}

// commonPrefix is the length of the common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// deltaOp is one instruction before the source offsets are final: a copy
// from base (index into the bases given to encodeDelta) or, with base < 0,
// an insert of target[start:end].
type deltaOp struct {
	base       int
	off, n     int // copy: offset in the base and length
	start, end int // insert: range of the target
}

// deltaResult is an encoded delta and what it used.
type deltaResult struct {
	ops     []deltaOp
	used    []bool // bases referenced by a copy
	literal int    // bytes inserted
	// last is where the final copy ended: base index and offset (-1 if
	// there was no copy); the next target most likely continues there.
	lastBase, lastEnd int
}

// encodeDelta finds target's runs in the bases, greedily: at each target
// position it looks the next deltaBlock bytes up in every base (starting
// with the base of the previous copy), extends a hit backwards over
// pending literals and forwards as far as the bytes agree, and emits it.
// Where a copy ends, it first tries to pick the base up again close by
// (resync). The longest match found wins.
//
// The encoder gives up as soon as it would insert maxLiteral bytes: the
// result then has literal >= maxLiteral and incomplete ops, and is only
// good for deciding not to store a delta (and for its last copy).
func encodeDelta(bases []*deltaIndex, target []byte, maxLiteral int) deltaResult {
	r := deltaResult{used: make([]bool, len(bases)), lastBase: -1}
	lit, i, prefer := 0, 0, 0
	for i+deltaBlock <= len(target) {
		var m match
		ok := false
		if i == lit && r.lastBase >= 0 {
			m, ok = resync(bases, target, i, r.lastBase, r.lastEnd)
		}
		if c, found := findMatch(bases, target, i, lit, prefer, len(bases)); found && (!ok || c.n > m.n) {
			m, ok = c, true
		}
		if !ok {
			i++
			if r.literal+i-lit >= maxLiteral {
				r.literal += i - lit
				return r
			}
			continue
		}
		if m.at > lit {
			r.ops = append(r.ops, deltaOp{base: -1, start: lit, end: m.at})
			r.literal += m.at - lit
		}
		for rest := m.n; rest > 0; {
			c := min(rest, maxDeltaCopy)
			r.ops = append(r.ops, deltaOp{base: m.base, off: m.off + m.n - rest, n: c})
			rest -= c
		}
		r.used[m.base], r.lastBase, r.lastEnd, prefer = true, m.base, m.off+m.n, m.base
		i = m.at + m.n
		lit = i
	}
	if lit < len(target) {
		r.ops = append(r.ops, deltaOp{base: -1, start: lit, end: len(target)})
		r.literal += len(target) - lit
	}
	return r
}

// deltaNear is how far past the end of a copy resync looks for the
// target's next bytes: a removed row of up to about this size.
const deltaNear = 256

// resync looks for where target[i:] continues in the bases when a copy
// from bases[b] has just ended at offset e, because the bytes differ there
// (or the base ended).
//
// Without it, repetitive data loses its place: pgbench_accounts rows are
// mostly 84 blanks of filler, so the windows after a removed row are found
// in every row, and the index keeps one of their many places; a hit there
// copies a few bytes from an unrelated row, and the encoder stayed off the
// right place, one short copy per row (the pgbench 1% update: 300,000
// copies instead of 20,000, 1.0 MB packed instead of 0.19). So resync
// tries two things, and findMatch's ordinary lookup at i competes with
// them:
//
//   - the next deltaBlock target bytes within deltaNear bytes after e (in
//     the next base if the copy ran to the end of its own): a removed or
//     shortened row leaves the rest of the base right there;
//   - the deltaBlock-1 windows that straddle i, looked up in base b: they
//     hold the bytes just copied and the first differing ones, for a row
//     its key, so they lead back to the right place when the copy itself
//     came from the wrong one. One of them has the index's alignment at
//     that place; a match through such a window starts at i.
func resync(bases []*deltaIndex, target []byte, i, b, e int) (match, bool) {
	var m match
	ok := false
	nb, ne := b, e
	if ne == len(bases[nb].data) && nb+1 < len(bases) {
		nb, ne = nb+1, 0
	}
	src := bases[nb].data
	if k := bytes.Index(src[ne:min(ne+deltaNear, len(src))], target[i:i+deltaBlock]); k >= 0 {
		m, ok = match{base: nb, off: ne + k, at: i, n: commonPrefix(src[ne+k:], target[i:])}, true
	}
	for j := max(i-deltaBlock+1, 0); j < i; j++ {
		if c, found := findMatch(bases, target, j, i, b, 1); found && (!ok || c.n > m.n) {
			m, ok = c, true
		}
	}
	return m, ok
}

// match is a run of target[at:at+n] found at off in bases[base].
type match struct {
	base, off, at, n int
}

// findMatch looks the window target[i:i+deltaBlock] up in nb bases,
// starting with base prefer, and extends the first hit as far as the bytes
// agree: forwards, and backwards over pending literals but not before lit.
// A window that starts before lit gives a match that starts at lit.
func findMatch(bases []*deltaIndex, target []byte, i, lit, prefer, nb int) (match, bool) {
	h := blockHash(target[i:])
	for k := range nb {
		b := (prefer + k) % len(bases)
		off, ok := bases[b].find(h, target[i:])
		if !ok {
			continue
		}
		src, at := bases[b].data, i
		if at < lit {
			off += lit - at
			at = lit
		}
		for at > lit && off > 0 && target[at-1] == src[off-1] {
			at--
			off--
		}
		return match{base: b, off: off, at: at, n: commonPrefix(src[off:], target[at:])}, true
	}
	return match{}, false
}

// serialize writes the delta in Git's format with the source being the
// concatenation of the used bases, in order; it returns the delta and the
// indexes of the bases it refers to.
func (r deltaResult) serialize(bases []*deltaIndex, target []byte) ([]byte, []int) {
	start := make([]int, len(bases))
	var used []int
	src := 0
	for i, b := range bases {
		if r.used[i] {
			start[i] = src
			src += len(b.data)
			used = append(used, i)
		}
	}
	out := make([]byte, 0, r.literal+r.literal/127+8*len(r.ops)+20)
	out = binary.AppendUvarint(out, uint64(src))
	out = binary.AppendUvarint(out, uint64(len(target)))
	for _, op := range r.ops {
		if op.base < 0 {
			for s := op.start; s < op.end; s += 127 {
				e := min(s+127, op.end)
				out = append(out, byte(e-s))
				out = append(out, target[s:e]...)
			}
			continue
		}
		out = appendCopy(out, uint32(start[op.base]+op.off), uint32(op.n))
	}
	return out, used
}

// appendCopy appends a copy instruction: a command byte whose bits 0–3 say
// which offset bytes follow and bits 4–6 which size bytes follow.
func appendCopy(out []byte, off, n uint32) []byte {
	at := len(out)
	cmd := byte(0x80)
	out = append(out, 0)
	for k := range 4 {
		if b := byte(off >> (8 * k)); b != 0 {
			cmd |= 1 << k
			out = append(out, b)
		}
	}
	for k := range 3 {
		if b := byte(n >> (8 * k)); b != 0 {
			cmd |= 1 << (4 + k)
			out = append(out, b)
		}
	}
	out[at] = cmd
	return out
}

var errBadDelta = errors.New("malformed delta")

// applyDelta rebuilds a target from a delta whose source is the
// concatenation of bases. The target may not exceed maxSize bytes. Any
// inconsistency (sizes, a copy outside the source, a truncated
// instruction) is an error wrapping ErrIntegrity; it never panics on
// crafted input.
func applyDelta(bases [][]byte, delta []byte, maxSize int) ([]byte, error) {
	fail := func(format string, a ...any) ([]byte, error) {
		return nil, fmt.Errorf("%w: %w: %s", ErrIntegrity, errBadDelta, fmt.Sprintf(format, a...))
	}
	srcSize := 0
	for _, b := range bases {
		srcSize += len(b)
	}
	hs, n := binary.Uvarint(delta)
	if n <= 0 {
		return fail("no source size")
	}
	delta = delta[n:]
	ts, n := binary.Uvarint(delta)
	if n <= 0 {
		return fail("no target size")
	}
	delta = delta[n:]
	if hs != uint64(srcSize) {
		return fail("source is %d bytes, the bases are %d", hs, srcSize)
	}
	if ts > uint64(maxSize) {
		return fail("target of %d bytes exceeds %d", ts, maxSize)
	}
	out := make([]byte, 0, int(ts))
	for len(delta) > 0 {
		cmd := delta[0]
		delta = delta[1:]
		switch {
		case cmd == 0:
			return fail("reserved instruction 0")
		case cmd&0x80 == 0:
			k := int(cmd)
			if k > len(delta) || len(out)+k > int(ts) {
				return fail("insert past the end")
			}
			out = append(out, delta[:k]...)
			delta = delta[k:]
		default:
			var off, size uint32
			for k := range 7 {
				if cmd&(1<<k) == 0 {
					continue
				}
				if len(delta) == 0 {
					return fail("truncated copy")
				}
				if k < 4 {
					off |= uint32(delta[0]) << (8 * k)
				} else {
					size |= uint32(delta[0]) << (8 * (k - 4))
				}
				delta = delta[1:]
			}
			if size == 0 {
				size = 0x10000
			}
			if uint64(off)+uint64(size) > uint64(srcSize) || len(out)+int(size) > int(ts) {
				return fail("copy of %d bytes at %d is outside the source or target", size, off)
			}
			out = copyFromBases(out, bases, int(off), int(size))
		}
	}
	if len(out) != int(ts) {
		return fail("rebuilt %d bytes, header says %d", len(out), ts)
	}
	return out, nil
}

// copyFromBases appends n bytes at offset off of the bases' concatenation.
func copyFromBases(out []byte, bases [][]byte, off, n int) []byte {
	for _, b := range bases {
		if n == 0 {
			break
		}
		if off >= len(b) {
			off -= len(b)
			continue
		}
		k := min(n, len(b)-off)
		out = append(out, b[off:off+k]...)
		n -= k
		off = 0
	}
	return out
}
