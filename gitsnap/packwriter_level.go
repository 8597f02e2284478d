package gitsnap

import "runtime"

// Compression of pack entries (docs/format.md, "Objects"). Compressing a
// dump at zlib level 1 costs about 5.6 ms of CPU per MiB, more than all
// the rest of a capture (chunking, hashing, writing) together; Huffman
// coding alone costs about 1.5 ms and gets most of the gain on dump text
// (317 MB pg_dump: 142 MB at level 1, 179 MB Huffman-only, 303 MB stored).
// When the database server runs on the same machine it needs about a core
// to serve the dump, so on 2 cores even one writer at level 1 made create
// 1.26-1.32x pg_dump against 1.08-1.14x Huffman-only. Each entry's level
// is chosen when its compression starts, from how many entries are being
// compressed at that moment (that one included) against GOMAXPROCS:
//
//   - at most a quarter of the cores: level 1 (levelFast);
//   - at most all of them: Huffman coding only (levelHuffman);
//   - more (the writers are backing up): stored (levelStored), which
//     only costs the Adler-32.
//
// Entries smaller than a chunk can be (trees, commits, snap.json, small
// files, a stream's last chunk) always get level 1: they take little time
// each, and lose the most without matches (the snap.json of a files
// snapshot of 1,250 files, paths and hex digests, is 61 KB at level 1 and
// 168 KB Huffman-coded). Level 1 also skips incompressible data faster
// than Huffman coding does.
//
// On 2 cores entries are Huffman-coded, or stored when more than two are
// in flight; from 4 cores on, level 1 is used while a quarter of the
// cores suffice. Object ids do not depend on the level, and git reads
// every level (git gc keeps the entries as they are unless told to
// recompress, e.g. git repack -a -d -F).
type compressionPolicy struct {
	procs int // GOMAXPROCS when the writer was made
}

func defaultCompressionPolicy() compressionPolicy {
	return compressionPolicy{procs: runtime.GOMAXPROCS(0)}
}

// smallEntry: entries below this size (the smallest chunk a stream is
// cut into but the last) are always compressed at level 1.
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
