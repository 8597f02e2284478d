package gitsnap

import (
	"math/bits"
	"sync"
)

// chunkBufs recycles the buffers chunks are copied into on their way to the
// object writer. A dump streams hundreds of ~1 MiB chunks; allocating each
// afresh made the runtime fault in and zero (and, under the soft memory
// limit, return) a new page range per chunk, which cost more CPU than
// hashing them. A sync.Pool does not help there: the collector empties it
// every cycle, and under the memory limit cycles are frequent. So buffers
// come from a free list in power-of-two classes from chunkMin to chunkMax
// (a queued chunk pins at most twice its size) that keeps at most
// chunkBufBudget bytes of idle buffers.
var chunkBufs = chunkBufPool{budget: chunkBufBudget}

const (
	chunkMinShift  = 19 // chunkMin = 512 KiB
	chunkClasses   = 5  // 512 KiB … 8 MiB
	chunkBufBudget = 16 << 20
)

type chunkBufPool struct {
	mu     sync.Mutex
	free   [chunkClasses][][]byte
	idle   int // bytes in free
	budget int
}

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
	p.mu.Lock()
	if l := p.free[c]; len(l) > 0 {
		b, p.free[c] = l[len(l)-1], l[:len(l)-1]
		p.idle -= cap(b)
	}
	p.mu.Unlock()
	if b == nil {
		b = make([]byte, 0, 1<<(chunkMinShift+c))
	}
	return append(b[:0], data...)
}

// put returns b, from get, to the free list, unless that would keep more
// than the budget idle.
func (p *chunkBufPool) put(b []byte) {
	c := p.class(cap(b))
	if c < 0 || cap(b) != 1<<(chunkMinShift+c) {
		return
	}
	p.mu.Lock()
	if p.idle+cap(b) <= p.budget {
		p.free[c] = append(p.free[c], b[:0])
		p.idle += cap(b)
	}
	p.mu.Unlock()
}
