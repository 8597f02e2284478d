package gitsnap

import (
	"bytes"
	"io"
	"math/rand"
	"os/exec"
	"testing"

	"github.com/ulikunitz/xz"
)

// An archive mixing compressed and stored streams reads back as one byte
// stream, with ulikunitz/xz and with the xz tool.
func TestXZArchiveStoredAndCompressed(t *testing.T) {
	rnd := make([]byte, 3*storedChunk+123)
	rand.New(rand.NewSource(3)).Read(rnd)
	text := bytes.Repeat([]byte("compressible line\n"), 10000)
	tests := []struct {
		name  string
		parts []struct {
			stored bool
			data   []byte
		}
	}{
		{"compressed only", nil},
		{"stored then compressed", []struct {
			stored bool
			data   []byte
		}{{true, rnd}, {false, text}}},
		{"compressed, stored, compressed, stored empty", []struct {
			stored bool
			data   []byte
		}{{false, text}, {true, rnd}, {false, []byte("tail")}, {true, nil}}},
		{"exactly one chunk", []struct {
			stored bool
			data   []byte
		}{{true, rnd[:storedChunk]}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, want bytes.Buffer
			a := &xzArchive{w: &out}
			for _, p := range tc.parts {
				if err := a.store(p.stored); err != nil {
					t.Fatal(err)
				}
				if _, err := a.Write(p.data); err != nil {
					t.Fatal(err)
				}
				want.Write(p.data)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := xz.NewReader(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("ulikunitz/xz: %v", err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("ulikunitz/xz read %d bytes, want %d", len(got), want.Len())
			}
			if _, err := exec.LookPath("xz"); err != nil {
				return
			}
			cmd := exec.Command("xz", "-dc")
			cmd.Stdin = bytes.NewReader(out.Bytes())
			got, err = cmd.Output()
			if err != nil || !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("xz -dc: %v, %d bytes, want %d", err, len(got), want.Len())
			}
		})
	}
}

func TestIncompressible(t *testing.T) {
	rnd := make([]byte, storedChunk)
	rand.New(rand.NewSource(4)).Read(rnd)
	if !incompressible(rnd) {
		t.Error("random data looks compressible")
	}
	if incompressible(bytes.Repeat([]byte("abc "), storedChunk/4)) {
		t.Error("text looks incompressible")
	}
	if incompressible(rnd[:100]) {
		t.Error("a tiny sample is never judged")
	}
}
