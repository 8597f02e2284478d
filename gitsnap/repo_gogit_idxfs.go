package gitsnap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-git/go-billy/v5"
)

// wholeIdxFS hands go-git each pack index (.idx) read whole into memory.
// go-git v5 decodes an index straight from the file with one read(2) per
// 4-byte field (its fanout table alone is 256 of them), and reloads every
// index whenever the pack directory changed, which it does after each
// pack git-snap writes. In a repository of 87 small packs that was over a
// second of system time per restore, before and after the database load.
// Reading the file at once makes it one read per index.
type wholeIdxFS struct{ billy.Filesystem }

// Open implements billy.Basic.
func (fs wholeIdxFS) Open(name string) (billy.File, error) {
	f, err := fs.Filesystem.Open(name)
	if err != nil || !strings.HasSuffix(name, ".idx") {
		return f, err
	}
	defer f.Close()
	var info os.FileInfo
	if st, ok := f.(interface{ Stat() (os.FileInfo, error) }); ok {
		info, err = st.Stat()
	} else {
		info, err = fs.Stat(name)
	}
	if err != nil {
		return nil, err
	}
	if info.Size() > maxIdxSize {
		return nil, fmt.Errorf("pack index %s: %d bytes is too large", name, info.Size())
	}
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read pack index %s: %w", name, err)
	}
	return &idxFile{name: f.Name(), Reader: bytes.NewReader(data), info: info}, nil
}

// Chroot implements billy.Chroot, keeping the wrapper.
func (fs wholeIdxFS) Chroot(path string) (billy.Filesystem, error) {
	c, err := fs.Filesystem.Chroot(path)
	if err != nil {
		return nil, err
	}
	return wholeIdxFS{c}, nil
}

// maxIdxSize bounds the index read into memory: 1 GiB is about 37 million
// objects, far more than a snapshot repository holds.
const maxIdxSize = 1 << 30

var errIdxReadOnly = errors.New("pack index opened for reading")

// idxFile is a pack index in memory, opened for reading.
type idxFile struct {
	name string
	*bytes.Reader
	info os.FileInfo
}

func (f *idxFile) Name() string               { return f.name }
func (f *idxFile) Stat() (os.FileInfo, error) { return f.info, nil }
func (f *idxFile) Write([]byte) (int, error)  { return 0, errIdxReadOnly }
func (f *idxFile) Truncate(int64) error       { return errIdxReadOnly }
func (f *idxFile) Close() error               { return nil }
func (f *idxFile) Lock() error                { return nil }
func (f *idxFile) Unlock() error              { return nil }
