package gitsnap

import "runtime"

// Compression of pack entries (docs/format.md, "Objects"). Compressing a
// dump at zlib level 1 costs about 5.6 ms of CPU per MiB, more than all
// the rest of a capture (chunking, hashing, writing) together. When the
// database server runs on the same machine it needs about one core to
// serve the dump, so on a small machine compression is what makes a
// capture slower than the dump itself. Each entry's level is therefore
// chosen when its compression starts, from how many entries are being
// compressed at that moment (that one included) against GOMAXPROCS:
//
//   - at most a quarter of the cores: level 1 (levelFast);
//   - at most half of the cores (at least one entry): Huffman coding
//     only (levelHuffman), about four times cheaper; ~1.8× smaller than
//     stored on dump text;
//   - more: stored (levelStored), which only costs the Adler-32.
//
// The other cores stay free for what feeds the writers: the dump tool,
// the server behind it, the chunker and the object hashes. On 2 cores the
// first entry in flight is Huffman-coded and the others are stored; from
// 4 cores on, level 1 is used whenever a writer is alone. Object ids do
// not depend on the level, and git reads every level.
type compressionPolicy struct {
	procs int // GOMAXPROCS when the writer was made
}

func defaultCompressionPolicy() compressionPolicy {
	return compressionPolicy{procs: runtime.GOMAXPROCS(0)}
}

// level returns the level of an entry whose compression starts while
// busy entries (this one included) are being compressed.
func (p compressionPolicy) level(busy int) int {
	switch {
	case busy <= p.procs/4:
		return levelFast
	case busy <= max(1, p.procs/2):
		return levelHuffman
	default:
		return levelStored
	}
}
