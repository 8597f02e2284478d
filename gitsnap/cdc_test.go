package gitsnap

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/restic/chunker"
)

// resticCuts returns the chunk lengths restic's chunker cuts data into
// with the format's parameters (or c's sizes and bits).
func resticCuts(t testing.TB, data []byte, c *cutter, bits int) []int {
	t.Helper()
	ch := chunker.NewWithBoundaries(bytes.NewReader(data), chunkPolynomial, uint(c.min), uint(c.max))
	ch.SetAverageBits(bits)
	buf := make([]byte, c.max)
	var cuts []int
	for {
		chunk, err := ch.Next(buf)
		if err == io.EOF {
			return cuts
		}
		if err != nil {
			t.Fatal(err)
		}
		cuts = append(cuts, int(chunk.Length))
	}
}

// ourCuts returns the chunk lengths cdcStream cuts r into, checking that
// the chunks put back together are data.
func ourCuts(t testing.TB, r io.Reader, data []byte, c *cutter) []int {
	t.Helper()
	s := newCDCStream(r, c)
	var cuts []int
	off := 0
	for {
		chunk, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(chunk, data[off:off+len(chunk)]) {
			t.Fatalf("chunk %d at %d holds other bytes than the input", len(cuts), off)
		}
		off += len(chunk)
		cuts = append(cuts, len(chunk))
	}
	if off != len(data) {
		t.Fatalf("chunks hold %d bytes, input %d", off, len(data))
	}
	return cuts
}

func sameCuts(t *testing.T, what string, data []byte, c *cutter, bits int) {
	t.Helper()
	want := resticCuts(t, data, c, bits)
	readers := map[string]io.Reader{
		"whole":         bytes.NewReader(data),
		"half reads":    iotest.HalfReader(bytes.NewReader(data)),
		"data with EOF": iotest.DataErrReader(bytes.NewReader(data)),
	}
	for name, r := range readers {
		if got := ourCuts(t, r, data, c); !equalInts(got, want) {
			t.Errorf("%s, %s: cuts %v, restic %v", what, name, got, want)
		}
	}
	// One byte per read is slow: only the first few chunks.
	prefix := data[:min(len(data), 3<<20)]
	want = resticCuts(t, prefix, c, bits)
	if got := ourCuts(t, iotest.OneByteReader(bytes.NewReader(prefix)), prefix, c); !equalInts(got, want) {
		t.Errorf("%s, one byte per read: cuts %v, restic %v", what, got, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCDCMatchesRestic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 40<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	// Rows like a database dump's: mostly the same filler, a counter.
	var rows bytes.Buffer
	for i := 0; rows.Len() < 24<<20; i++ {
		rows.WriteString("1\t")
		rows.WriteString(string(rune('0' + i%10)))
		rows.WriteString("\t0\t                                                                                    \n")
	}
	zeros := make([]byte, 20<<20)
	fmt := formatCutter
	sameCuts(t, "random", random, fmt, chunkAvgBits)
	sameCuts(t, "rows", rows.Bytes(), fmt, chunkAvgBits)
	sameCuts(t, "zeros (always the largest chunk)", zeros, fmt, chunkAvgBits)
	sameCuts(t, "shorter than the smallest chunk", random[:chunkMin-1], fmt, chunkAvgBits)
	sameCuts(t, "exactly the smallest chunk", random[:chunkMin], fmt, chunkAvgBits)
	sameCuts(t, "empty", nil, fmt, chunkAvgBits)
	// Small sizes and a small mask: many cuts, many of them inside a block,
	// in every lane and in the one-lane tail.
	small := newCutter(chunkPolynomial, 4096, 64<<10, 12)
	for _, n := range []int{len(random), 1 << 20, 4096 + 63, 100_003} {
		sameCuts(t, "small sizes", random[:n], small, 12)
	}
	tiny := newCutter(chunkPolynomial, 128, 1024, 6)
	sameCuts(t, "tiny sizes", random[:1<<20], tiny, 6)
}

func TestCDCReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(make([]byte, chunkMin/2)), iotest.ErrReader(boom))
	s := newCDCStream(r, formatCutter)
	if _, err := s.next(); !errors.Is(err, boom) {
		t.Fatalf("next = %v, want the reader's error", err)
	}
}

// stuckReader returns nothing and no error, forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestCDCReaderWithoutProgress(t *testing.T) {
	s := newCDCStream(stuckReader{}, formatCutter)
	if _, err := s.next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("next = %v, want io.ErrNoProgress", err)
	}
}

func BenchmarkCDC(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	b.Run("restic", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, chunkMax)
		for range b.N {
			ch := chunker.NewWithBoundaries(bytes.NewReader(data), chunkPolynomial, chunkMin, chunkMax)
			ch.SetAverageBits(chunkAvgBits)
			for {
				if _, err := ch.Next(buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("cdcStream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			s := newCDCStream(bytes.NewReader(data), formatCutter)
			for {
				if _, err := s.next(); err != nil {
					break
				}
			}
		}
	})
}
