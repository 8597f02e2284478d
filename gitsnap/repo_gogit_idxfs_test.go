package gitsnap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// countingFS counts the reads of .idx files opened through it.
type countingFS struct {
	billy.Filesystem
	reads *atomic.Int64
}

func (fs countingFS) Open(name string) (billy.File, error) {
	f, err := fs.Filesystem.Open(name)
	if err != nil || !strings.HasSuffix(name, ".idx") {
		return f, err
	}
	return countingFile{f, fs.reads}, nil
}

func (fs countingFS) Chroot(path string) (billy.Filesystem, error) {
	c, err := fs.Filesystem.Chroot(path)
	if err != nil {
		return nil, err
	}
	return countingFS{c, fs.reads}, nil
}

type countingFile struct {
	billy.File
	reads *atomic.Int64
}

func (f countingFile) Read(p []byte) (int, error) {
	f.reads.Add(1)
	return f.File.Read(p)
}

// go-git reads a pack index one 4-byte field at a time; through
// wholeIdxFS it is one read per index, and the objects are still found.
func TestWholeIdxFSReadsEachIndexOnce(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	var blobs []string
	const packs = 4
	for i := range packs {
		var batch []string
		for j := range 50 {
			name := filepath.Join(dir, "f")
			if err := os.WriteFile(name, []byte(strings.Repeat("x", i*100+j+1)), 0o600); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, git(t, dir, "hash-object", "-w", "f"))
		}
		// One more pack of this batch, which is then no longer loose.
		pack := exec.Command("git", "-C", dir, "pack-objects", "-q", ".git/objects/pack/pack")
		pack.Stdin = strings.NewReader(strings.Join(batch, "\n") + "\n")
		if out, err := pack.CombinedOutput(); err != nil {
			t.Fatalf("git pack-objects: %v\n%s", err, out)
		}
		git(t, dir, "prune-packed")
		blobs = append(blobs, batch...)
	}
	if got := git(t, dir, "count-objects", "-v"); !strings.Contains(got, "count: 0") || !strings.Contains(got, "packs: 4") {
		t.Fatalf("want 4 packs and no loose objects:\n%s", got)
	}
	gitDir := filepath.Join(dir, ".git")
	for _, tc := range []struct {
		name     string
		wrap     func(billy.Filesystem) billy.Filesystem
		maxReads int64
	}{
		{"wholeIdxFS", func(fs billy.Filesystem) billy.Filesystem { return wholeIdxFS{fs} }, 2 * packs},
		{"go-git alone", func(fs billy.Filesystem) billy.Filesystem { return fs }, -1},
	} {
		var reads atomic.Int64
		st := filesystem.NewStorage(tc.wrap(countingFS{osfs.New(gitDir), &reads}), cache.NewObjectLRUDefault())
		for _, b := range blobs {
			if err := st.HasEncodedObject(plumbing.NewHash(b)); err != nil {
				t.Fatalf("%s: blob %s: %v", tc.name, b, err)
			}
		}
		t.Logf("%s: %d reads of %d pack indexes", tc.name, reads.Load(), packs)
		switch {
		case tc.maxReads >= 0 && reads.Load() > tc.maxReads:
			t.Errorf("%s: %d reads of %d pack indexes, want at most %d", tc.name, reads.Load(), packs, tc.maxReads)
		case tc.maxReads < 0 && reads.Load() <= 100*packs:
			// The reason for wholeIdxFS: if go-git reads indexes in
			// a few calls now, it can go.
			t.Logf("%s: %d reads of %d pack indexes: go-git buffers them now", tc.name, reads.Load(), packs)
		}
	}
}
