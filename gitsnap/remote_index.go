package gitsnap

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// sourceIndex remembers the source commit of each snapshot commit (its
// Snap-Source-Commit trailer), so the pre-push hook does not read a
// thousand commit objects on every push. Both sides are immutable object
// names, so an entry is never stale; a missing or damaged file is rebuilt
// from the commits. It lives in <common dir>/git-snap/sources.idx:
// "gitsnap-sources 1\n" then 40 bytes per snapshot (snapshot commit,
// source commit; zero when there is none).
type sourceIndex struct {
	path  string
	m     map[Hash]Hash
	dirty bool
}

var sourceIndexMagic = []byte("gitsnap-sources 1\n")

func openSourceIndex(commonDir string) *sourceIndex {
	x := &sourceIndex{m: map[Hash]Hash{}}
	if commonDir == "" {
		return x
	}
	x.path = filepath.Join(commonDir, "git-snap", "sources.idx")
	data, err := os.ReadFile(x.path)
	if err != nil || !bytes.HasPrefix(data, sourceIndexMagic) || (len(data)-len(sourceIndexMagic))%40 != 0 {
		return x
	}
	data = data[len(sourceIndexMagic):]
	for i := 0; i+40 <= len(data); i += 40 {
		var snap, src Hash
		copy(snap[:], data[i:i+20])
		copy(src[:], data[i+20:i+40])
		x.m[snap] = src
	}
	return x
}

func (x *sourceIndex) put(snap, src Hash) {
	x.m[snap] = src
	x.dirty = true
}

// save drops entries of snapshots that are gone and writes the file
// atomically; failing to save only costs speed next time.
func (x *sourceIndex) save(live map[Hash]bool) error {
	for h := range x.m {
		if !live[h] {
			delete(x.m, h)
			x.dirty = true
		}
	}
	if x.path == "" || !x.dirty {
		return nil
	}
	buf := make([]byte, 0, len(sourceIndexMagic)+40*len(x.m))
	buf = append(buf, sourceIndexMagic...)
	for snap, src := range x.m {
		buf = append(buf, snap[:]...)
		buf = append(buf, src[:]...)
	}
	if err := os.MkdirAll(filepath.Dir(x.path), 0o755); err != nil {
		return fmt.Errorf("save source index: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(x.path), "sources.idx.tmp-*")
	if err != nil {
		return fmt.Errorf("save source index: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(buf)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), x.path)
	}
	if err != nil && !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("save source index: %w", err)
	}
	x.dirty = false
	return nil
}
