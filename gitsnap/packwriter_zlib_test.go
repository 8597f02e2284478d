package gitsnap

import (
	"bytes"
	"compress/zlib"
	crand "crypto/rand"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestZlibWriterRoundTrip: the standard library's zlib reader (which
// checks the header and the Adler-32) reads back every level, for inputs
// around the 65,535-byte stored block limit and written in pieces.
func TestZlibWriterRoundTrip(t *testing.T) {
	text := bytes.Repeat([]byte("id\tname\t{\"k\": 1}\t5d41402abc4b2a76b9719d911017c592\n"), 4000)
	inputs := map[string][]byte{
		"empty":  {},
		"one":    {'x'},
		"65535":  text[:65535],
		"65536":  text[:65536],
		"text":   text,
		"random": randomBytes(3, 200_000),
	}
	var zs zlibWriters
	for _, level := range []int{levelFast, levelRepetitive, levelHuffman, levelStored} {
		for name, data := range inputs {
			for _, piece := range []int{len(data) + 1, 1000, 70_000} {
				t.Run(fmt.Sprintf("level=%d/%s/piece=%d", level, name, piece), func(t *testing.T) {
					var out bytes.Buffer
					zw := zs.get(&out, level)
					for p := data; len(p) > 0; {
						n := min(piece, len(p))
						if m, err := zw.Write(p[:n]); m != n || err != nil {
							t.Fatalf("Write = %d, %v", m, err)
						}
						p = p[n:]
					}
					if err := zw.Close(); err != nil {
						t.Fatal(err)
					}
					zs.put(zw)
					zr, err := zlib.NewReader(&out)
					if err != nil {
						t.Fatal(err)
					}
					got, err := io.ReadAll(zr)
					if err != nil {
						t.Fatalf("inflate: %v", err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("inflated %d bytes, want %d", len(got), len(data))
					}
					if level == levelStored && out.Len() > len(data)+len(data)/65535*5+11 {
						t.Errorf("stored stream is %d bytes for %d", out.Len(), len(data))
					}
				})
			}
		}
	}
}

func TestZlibWriterReportsWriteErrors(t *testing.T) {
	var zs zlibWriters
	for _, level := range []int{levelFast, levelRepetitive, levelHuffman, levelStored} {
		zw := zs.get(failingWriter{}, level)
		_, werr := zw.Write(bytes.Repeat([]byte("a"), 300_000))
		cerr := zw.Close()
		if werr == nil && cerr == nil {
			t.Errorf("level %d: no error from a failing destination", level)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) {
	return 0, io.ErrShortWrite
}

func TestCompressionPolicy(t *testing.T) {
	for _, c := range []struct {
		procs int
		want  []int // levels for busy = 1, 2, …
	}{
		{1, []int{levelHuffman, levelStored}},
		{2, []int{levelHuffman, levelHuffman, levelStored}},
		{4, []int{levelFast, levelHuffman, levelHuffman, levelHuffman, levelStored}},
		{8, []int{levelFast, levelFast, levelHuffman, levelHuffman, levelHuffman, levelHuffman, levelHuffman, levelHuffman, levelStored}},
	} {
		p := compressionPolicy{procs: c.procs}
		for i, want := range c.want {
			if got := p.level(1<<20, i+1); got != want {
				t.Errorf("procs %d, busy %d: level %d, want %d", c.procs, i+1, got, want)
			}
			if got := p.level(smallEntry-1, i+1); got != levelFast {
				t.Errorf("procs %d, busy %d, a small entry: level %d, want %d", c.procs, i+1, got, levelFast)
			}
		}
	}
}

func TestWorthHuffman(t *testing.T) {
	text := bytes.Repeat([]byte("4711\t42\tfoxtrot delta\t{\"score\": 17}\t5d41402abc4b2a76b9719d911017c592\n"), 20_000)
	for _, c := range []struct {
		name string
		data []byte
		want bool
	}{
		{"dump text", text, true},
		{"hex digits", []byte(strings.Repeat("0123456789abcdef", 100_000)), true},
		{"random", randomBytes(5, 1<<20), false},
		{"small random", randomBytes(6, 3000), false},
		{"random with a text head", append(append([]byte(nil), text[:4096]...), randomBytes(7, 4<<20)...), false},
	} {
		if got := worthHuffman(c.data); got != c.want {
			t.Errorf("%s: worthHuffman = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestBusyLevel: a busy writer stores random data, Huffman-codes text and
// keeps deflate's matches for very repetitive data.
func TestBusyLevel(t *testing.T) {
	rnd := make([]byte, 64<<10)
	if _, err := crand.Read(rnd); err != nil {
		t.Fatal(err)
	}
	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog 0123456789 ", 1200))
	padded := []byte(strings.Repeat("1\t1\t0\t"+strings.Repeat(" ", 84)+"\n", 1000))
	for _, c := range []struct {
		name string
		data []byte
		want int
	}{
		{"random", rnd, levelStored},
		{"text", text, levelHuffman},
		{"blank-padded rows", padded, levelRepetitive},
		{"empty", nil, levelStored},
	} {
		if got := busyLevel(c.data); got != c.want {
			t.Errorf("%s: busyLevel = %d, want %d", c.name, got, c.want)
		}
	}
}
