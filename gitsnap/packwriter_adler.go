package gitsnap

import "encoding/binary"

// Adler-32 (RFC 1950) for the zlib streams of pack entries. hash/adler32
// adds one byte at a time (~1.6 GB/s here: as much CPU as storing a chunk
// uncompressed costs otherwise); adler32Update adds 8 bytes per step in
// 16-bit lanes of a uint64, several times faster, with the same result.
//
// For a block of N bytes b_0 … b_{N-1} and a state (s1, s2):
//
//	s1' = s1 + Σ b_p
//	s2' = s2 + N·s1 + Σ (N−p)·b_p
//
// With N = 8K and p = 8k + j (word k, byte j of the word), the weight
// N−p = 8(K−k) − j, so Σ (N−p)·b_p = 8·Σ_j B_j − Σ_j j·L_j, where L_j is the
// sum of byte j over all words and B_j the sum over k of byte j's running
// sum up to word k. The loop keeps L in 16-bit lanes (even bytes in one
// uint64, odd bytes in another) and B in 32-bit lanes.

const (
	adlerMod = 65521
	// adlerGroup words are summed in 16-bit lanes (≤ 255·16·17/2 = 34,680
	// for B) before they are widened to 32-bit lanes.
	adlerGroup = 16
	// adlerBlock words (2 KiB) at most between two reductions mod 65521:
	// the running lane sums L reach 255·256 = 65,280 < 2^16.
	adlerBlock = 256

	lanes16 = 0x00ff00ff00ff00ff
	lanes32 = 0x0000ffff0000ffff
)

// adler32Update returns the Adler-32 of the data hashed into adler so far
// followed by p (adler32Update(1, p) is the checksum of p).
func adler32Update(adler uint32, p []byte) uint32 {
	s1, s2 := uint64(adler&0xffff), uint64(adler>>16)
	for len(p) >= 8*adlerGroup {
		words := min(len(p)/8/adlerGroup*adlerGroup, adlerBlock)
		n := 8 * words
		var le, lo uint64         // L: 16-bit lanes, bytes 0,2,4,6 / 1,3,5,7
		var b0, b1, b2, b3 uint64 // B: 32-bit lanes, bytes 0,4 / 2,6 / 1,5 / 3,7
		for g := 0; g < n; g += 8 * adlerGroup {
			ge, gO, be, bo := adlerGroupSums((*[8 * adlerGroup]byte)(p[g : g+8*adlerGroup]))
			// The group's running sums are le (before it) plus its own:
			// adlerGroup·le + be over its steps.
			b0 += adlerGroup*(le&lanes32) + be&lanes32
			b1 += adlerGroup*(le>>16&lanes32) + be>>16&lanes32
			b2 += adlerGroup*(lo&lanes32) + bo&lanes32
			b3 += adlerGroup*(lo>>16&lanes32) + bo>>16&lanes32
			le += ge
			lo += gO
		}
		var sum, weighted, runs uint64
		for k := range 4 {
			e, o := le>>(16*k)&0xffff, lo>>(16*k)&0xffff
			sum += e + o
			weighted += uint64(2*k)*e + uint64(2*k+1)*o
		}
		for _, b := range [4]uint64{b0, b1, b2, b3} {
			runs += b&0xffffffff + b>>32
		}
		s2 = (s2 + uint64(n)*s1 + 8*runs - weighted) % adlerMod
		s1 = (s1 + sum) % adlerMod
		p = p[n:]
	}
	for _, c := range p { // fewer than 8·adlerGroup bytes
		s1 += uint64(c)
		s2 += s1
	}
	return uint32(s2%adlerMod)<<16 | uint32(s1%adlerMod)
}

// adlerGroupSums returns the lane sums L (ge: even bytes, gO: odd bytes)
// and B (be, bo) of one group of words, in 16-bit lanes. It is a function
// of its own so that its accumulators stay in registers.
//
//go:noinline
func adlerGroupSums(q *[8 * adlerGroup]byte) (ge, gO, be, bo uint64) {
	for i := 0; i < len(q); i += 8 {
		w := binary.LittleEndian.Uint64(q[i:])
		ge += w & lanes16
		gO += (w >> 8) & lanes16
		be += ge
		bo += gO
	}
	return ge, gO, be, bo
}
