package paths

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/scopes/scopetest"
)

// BenchmarkCaptureRestore captures 2,000 small files (plus 20,000 files
// outside the patterns that the walk must skip cheaply), modifies a tenth
// of them and restores.
func BenchmarkCaptureRestore(b *testing.B) {
	root := b.TempDir()
	content := strings.Repeat("line of configuration\n", 50)
	write := func(rel string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content+rel), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 2000 {
		write(fmt.Sprintf("uploads/%02d/file%04d.txt", i%50, i))
	}
	for i := range 20000 {
		write(fmt.Sprintf("node_modules/pkg%03d/f%05d.js", i%200, i))
	}
	s := newTestScope()
	env := newEnv(root, "uploads/**", ".env")
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		st := scopetest.NewStore("test")
		if err := s.Capture(ctx, env, st); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 2000; i += 10 {
			p := filepath.Join(root, fmt.Sprintf("uploads/%02d/file%04d.txt", i%50, i))
			if err := os.WriteFile(p, []byte("changed"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Restore(ctx, env, st); err != nil {
			b.Fatal(err)
		}
	}
}
