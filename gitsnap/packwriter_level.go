package gitsnap

import (
	"math"
	"runtime"
)

// Compression of pack entries (docs/format.md, "Compression of the
// objects"). Compressing a dump with deflate's matches (klauspost level 1
// or 2) costs 4.5-5.5 ms of CPU per MiB, more than all the rest of a
// capture (chunking, hashing, writing) together; Huffman coding alone
// costs about 1.2 ms and gets most of the gain on dump text (317 MB
// pg_dump: 142 MB at level 1, 179 MB Huffman-only, 303 MB stored). When
// the database server runs on the same machine it needs about a core to
// serve the dump, so on 2 cores even one writer at level 1 made create
// 1.26-1.32x pg_dump against 1.08-1.14x Huffman-only. Each entry's level
// is chosen when its compression starts, from how many entries are being
// compressed at that moment (that one included) against GOMAXPROCS:
//
//   - at most a quarter of the cores: levelFast;
//   - at most all of them: Huffman coding only (levelHuffman), unless a
//     sample of the entry shows Huffman codes cannot shrink it
//     (worthHuffman: random or already compressed data): stored then;
//   - more (the writers are backing up): stored (levelStored), which
//     only costs the Adler-32.
//
// Entries smaller than a chunk can be (trees, commits, snap.json, small
// files, a stream's last chunk) always get levelFast: they take little
// time each, and lose the most without matches (the snap.json of a files
// snapshot of 1,250 files, paths and hex digests, is 61 KB at level 1 and
// 168 KB Huffman-coded); levelFast also skips incompressible data faster
// than Huffman coding does.
//
// On 2 cores big entries are Huffman-coded, or stored when more than two
// are in flight; from 4 cores on, levelFast is used while a quarter of
// the cores suffice. Object ids do not depend on the level, and git reads
// every level (git gc keeps the entries as they are unless told to
// recompress, e.g. git repack -a -d -F).
type compressionPolicy struct {
	procs int // GOMAXPROCS when the writer was made
}

func defaultCompressionPolicy() compressionPolicy {
	return compressionPolicy{procs: runtime.GOMAXPROCS(0)}
}

// smallEntry: entries below this size (the smallest chunk a stream is
// cut into but the last) are always compressed at levelFast.
const smallEntry = chunkMin

// level returns the level of an entry of size bytes whose compression
// starts while busy entries (this one included) are being compressed.
func (p compressionPolicy) level(size int64, busy int) int {
	switch {
	case size < smallEntry, busy <= p.procs/4:
		return levelFast
	case busy <= max(1, p.procs):
		return levelHuffman
	default:
		return levelStored
	}
}

// Huffman-only coding can shrink data by at most (8 − H)/8, H being the
// entropy of its bytes in bits. worthHuffman estimates H from a sample of
// huffmanSample bytes (the middle of each quarter) and says whether the gain
// would reach 1/32 (~3%); below that, storing is cheaper than coding (on
// random data klauspost's Huffman-only runs at 2.5 GB/s, storing at memory speed).
const (
	huffmanSample  = 16 << 10
	huffmanMinGain = 8.0 / 32 // bits per byte
)

// busyLevel refines levelHuffman from a sample of the entry: stored when
// Huffman codes cannot gain (worthHuffman), levelRepetitive when the bytes
// are so repetitive (entropy under repetitiveBits bits per byte, like the
// blank-padded rows of pgbench_accounts) that deflate's matches run
// faster than Huffman coding alone and shrink the entry several times more
// (pgbench -s 20 dump: 41.6 MB Huffman-only; level 1 is ~34x smaller, and
// runs at 1.57 GB/s where Huffman-only codes 0.57 GB/s).
func busyLevel(sample []byte) int {
	h, ok := sampleEntropy(sample)
	switch {
	case !ok || 8-h < huffmanMinGain:
		return levelStored
	case h < repetitiveBits:
		return levelRepetitive
	default:
		return levelHuffman
	}
}

const repetitiveBits = 2.5

func worthHuffman(data []byte) bool {
	h, ok := sampleEntropy(data)
	return ok && 8-h >= huffmanMinGain
}

// sampleEntropy estimates the entropy of data's bytes in bits per byte
// from huffmanSample bytes (the middle of each quarter); false when empty.
func sampleEntropy(data []byte) (float64, bool) {
	var hist [256]int
	n := 0
	const pieces = 4
	piece := huffmanSample / pieces
	if len(data) <= huffmanSample {
		for _, c := range data {
			hist[c]++
		}
		n = len(data)
	} else {
		for i := range pieces { // the middle of each quarter
			off := (2*i+1)*len(data)/(2*pieces) - piece/2
			for _, c := range data[off : off+piece] {
				hist[c]++
			}
		}
		n = pieces * piece
	}
	if n == 0 {
		return 0, false
	}
	var h float64 // entropy, bits per byte
	for _, k := range hist {
		if k > 0 {
			p := float64(k) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	return h, true
}
