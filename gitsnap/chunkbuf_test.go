package gitsnap

import (
	"bytes"
	"testing"
)

func TestChunkBufPoolClasses(t *testing.T) {
	var p chunkBufPool
	for _, tc := range []struct{ n, class int }{
		{0, 0}, {1, 0}, {chunkMin, 0}, {chunkMin + 1, 1}, {1 << 20, 1},
		{1<<20 + 1, 2}, {chunkMax, 4}, {chunkMax + 1, -1},
	} {
		if got := p.class(tc.n); got != tc.class {
			t.Errorf("class(%d) = %d, want %d", tc.n, got, tc.class)
		}
	}
}

func TestChunkBufPoolCopiesAndRecycles(t *testing.T) {
	p := chunkBufPool{budget: 4 << 20}
	src := bytes.Repeat([]byte("chunk"), 300_000) // 1.5 MB: the 2 MiB class
	b := p.get(src)
	if !bytes.Equal(b, src) {
		t.Fatal("get did not copy the data")
	}
	if cap(b) != 2<<20 {
		t.Fatalf("cap = %d, want the 2 MiB class", cap(b))
	}
	src[0] = 'X'
	if b[0] != 'c' {
		t.Fatal("the copy shares memory with its source")
	}
	p.put(b)
	big := make([]byte, chunkMax+1)
	if c := p.get(big); len(c) != len(big) {
		t.Fatalf("an oversized chunk came back with %d bytes", len(c))
	}
	p.put(make([]byte, 3<<20)) // not a class size: dropped, not pooled
	if c := p.get(src[:1<<20+1]); cap(c) != 2<<20 || !bytes.Equal(c, src[:1<<20+1]) {
		t.Fatalf("a chunk of 1 MiB + 1 got a %d-byte buffer", cap(c))
	}
}

func TestChunkBufPoolKeepsItsBudget(t *testing.T) {
	p := chunkBufPool{budget: 4 << 20}
	var bufs [][]byte
	for range 5 {
		bufs = append(bufs, p.get(make([]byte, 1<<20+1))) // 2 MiB class
	}
	for _, b := range bufs {
		p.put(b)
	}
	if p.idle != 4<<20 || len(p.free[2]) != 2 {
		t.Fatalf("idle %d bytes in %d buffers, want the 4 MiB budget in 2", p.idle, len(p.free[2]))
	}
	b := p.get(make([]byte, 1<<20+1))
	if p.idle != 2<<20 || cap(b) != 2<<20 {
		t.Fatalf("after a get: idle %d, cap %d", p.idle, cap(b))
	}
}
