package gitsnap

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const (
	benchChunk  = 1 << 20
	benchChunks = 256 // 256 MiB per operation
)

// benchData returns benchChunks chunks of 1 MiB: random (incompressible,
// like compressed uploads) or text-like (compressible, like SQL dumps).
func benchData(kind string) [][]byte {
	rng := rand.New(rand.NewSource(1))
	words := strings.Fields("INSERT INTO users VALUES id name email created_at 2024-05-01 alice bob NULL ( ) , ;")
	chunks := make([][]byte, benchChunks)
	for i := range chunks {
		c := make([]byte, benchChunk)
		if kind == "random" {
			rng.Read(c)
		} else {
			var b bytes.Buffer
			for b.Len() < benchChunk {
				b.WriteString(words[rng.Intn(len(words))])
				fmt.Fprintf(&b, " %d ", rng.Intn(100000))
			}
			copy(c, b.Bytes())
		}
		chunks[i] = c
	}
	return chunks
}

// benchRepo makes an empty repository layout without the git binary.
func benchRepo(b *testing.B) *goGitRepo {
	b.Helper()
	dir := filepath.Join(b.TempDir(), ".git")
	for _, d := range []string{"objects/pack", "refs/heads"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	r, err := openRepo(dir, func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkWriteBlobs writes 256 MiB as 1 MiB blobs from 2 goroutines into
// one pack and flushes it: the create path's object throughput.
func BenchmarkWriteBlobs(b *testing.B) {
	for _, kind := range []string{"random", "text"} {
		b.Run(kind, func(b *testing.B) {
			chunks := benchData(kind)
			r := benchRepo(b)
			ctx := context.Background()
			b.SetBytes(benchChunk * benchChunks)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// New content every iteration, so nothing is deduplicated.
				for _, c := range chunks {
					binary.LittleEndian.PutUint64(c, uint64(i))
				}
				w, err := r.NewObjectWriter(ctx)
				if err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				for g := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for j := g; j < len(chunks); j += 2 {
							if _, err := w.WriteBlob(ctx, chunks[j]); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				if err := w.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteBlobFromStream streams one 256 MiB blob (one core).
func BenchmarkWriteBlobFromStream(b *testing.B) {
	data := bytes.Join(benchData("random"), nil)
	r := benchRepo(b)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.LittleEndian.PutUint64(data, uint64(i))
		w, err := r.NewObjectWriter(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.WriteBlobFrom(ctx, bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGitHashObject is the reference: `git hash-object -w
// --stdin-paths` storing the same 256 chunks as loose objects.
func BenchmarkGitHashObject(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	for _, kind := range []string{"random", "text"} {
		b.Run(kind, func(b *testing.B) {
			chunks := benchData(kind)
			base := b.TempDir()
			env := envList(testGitEnv(base))
			b.SetBytes(benchChunk * benchChunks)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				repo := filepath.Join(base, fmt.Sprint("repo", i))
				cmd := exec.Command("git", "init", "-q", repo)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("git init: %v\n%s", err, out)
				}
				var paths bytes.Buffer
				for j, c := range chunks {
					p := filepath.Join(base, fmt.Sprintf("chunk%03d", j))
					binary.LittleEndian.PutUint64(c, uint64(i))
					if err := os.WriteFile(p, c, 0o644); err != nil {
						b.Fatal(err)
					}
					paths.WriteString(p + "\n")
				}
				b.StartTimer()
				cmd = exec.Command("git", "hash-object", "-w", "--stdin-paths")
				cmd.Dir, cmd.Env, cmd.Stdin = repo, env, &paths
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("git hash-object: %v\n%s", err, out)
				}
			}
		})
	}
}
