package gitsnap

import (
	"math/bits"
	"sync"
)

// chunkBufs recycles the buffers chunks are copied into on their way to the
// object writer. A dump streams hundreds of ~1 MiB chunks; allocating each
// afresh made the runtime fault in (and, under the soft memory limit,
// return) a new page range per chunk, which cost more CPU than hashing
// them. Buffers come in power-of-two classes from chunkMin to chunkMax, so
// a queued chunk pins at most twice its size.
var chunkBufs chunkBufPool

type chunkBufPool struct {
	classes [chunkClasses]sync.Pool
}

const (
	chunkMinShift = 19 // chunkMin = 512 KiB
	chunkClasses  = 5  // 512 KiB … 8 MiB
)

// class returns the pool index for n bytes, or -1 when n is outside the
// pooled range.
func (p *chunkBufPool) class(n int) int {
	if n <= 1<<chunkMinShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - chunkMinShift
	if c >= chunkClasses {
		return -1
	}
	return c
}

// get returns a buffer holding a copy of data. Release it with put once
// nothing refers to it.
func (p *chunkBufPool) get(data []byte) []byte {
	c := p.class(len(data))
	if c < 0 {
		return append([]byte(nil), data...)
	}
	var b []byte
	if v, ok := p.classes[c].Get().(*[]byte); ok {
		b = *v
	} else {
		b = make([]byte, 0, 1<<(chunkMinShift+c))
	}
	return append(b[:0], data...)
}

// put returns b, from get, to its pool.
func (p *chunkBufPool) put(b []byte) {
	c := p.class(cap(b))
	if c < 0 || cap(b) != 1<<(chunkMinShift+c) {
		return
	}
	b = b[:0]
	p.classes[c].Put(&b)
}
