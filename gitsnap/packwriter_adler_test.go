package gitsnap

import (
	"bytes"
	"hash/adler32"
	"math/rand/v2"
	"testing"
)

func TestAdler32UpdateMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 70000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	inputs := map[string][]byte{
		"empty":  nil,
		"ff":     bytes.Repeat([]byte{0xff}, 100000), // largest lane sums
		"zero":   make([]byte, 5000),
		"random": random,
		"ascending": func() []byte {
			b := make([]byte, 9000)
			for i := range b {
				b[i] = byte(i)
			}
			return b
		}(),
	}
	for name, data := range inputs {
		for _, n := range []int{0, 1, 7, 8, 127, 128, 129, 255, 2047, 2048, 2049, 4096 + 130, len(data)} {
			if n > len(data) {
				continue
			}
			if got, want := adler32Update(1, data[:n]), adler32.Checksum(data[:n]); got != want {
				t.Errorf("%s[:%d]: adler32Update = %08x, want %08x", name, n, got, want)
			}
		}
		// Incremental updates from a state other than 1.
		for _, cut := range []int{1, 100, 3000} {
			if cut > len(data) {
				continue
			}
			got := adler32Update(adler32Update(1, data[:cut]), data[cut:])
			if want := adler32.Checksum(data); got != want {
				t.Errorf("%s split at %d: %08x, want %08x", name, cut, got, want)
			}
		}
	}
	for i := 0; i < 200; i++ {
		n := rng.IntN(len(random))
		off := rng.IntN(len(random) - n + 1)
		if got, want := adler32Update(1, random[off:off+n]), adler32.Checksum(random[off:off+n]); got != want {
			t.Fatalf("random[%d:%d]: %08x, want %08x", off, off+n, got, want)
		}
	}
}

func BenchmarkAdler32(b *testing.B) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.Run("gitsnap", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			adler32Update(1, data)
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			adler32.Checksum(data)
		}
	})
}
