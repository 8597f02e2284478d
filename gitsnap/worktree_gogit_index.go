package gitsnap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// wtIndex is the parts of $GIT_DIR/index that capture and restore need.
type wtIndex struct {
	entries map[string]*index.Entry // by path; stage 0, else the first conflict stage
	dirs    map[string]bool         // every directory that holds a tracked path
	mtime   time.Time               // the index file's mtime, for racy-git checks
}

// tracked reports whether p has an index entry.
func (ix *wtIndex) tracked(p string) bool { return ix.entries[p] != nil }

// wtReadIndex reads gitDir/index. A missing index is empty.
func (r *goGitRepo) wtReadIndex() (*wtIndex, error) {
	ix := &wtIndex{entries: map[string]*index.Entry{}, dirs: map[string]bool{}}
	name := filepath.Join(r.gitDir, "index")
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		return ix, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	ix.mtime = fi.ModTime()
	var idx index.Index
	if err := index.NewDecoder(bufio.NewReader(f)).Decode(&idx); err != nil {
		if errors.Is(err, index.ErrUnknownExtension) {
			// go-git reads neither the split index ("link") nor the
			// sparse index ("sdir") extension.
			return nil, WithHint(fmt.Errorf("read index %s: %w", name, err),
				"run \"git config core.splitIndex false && git update-index --no-split-index\" or disable the sparse index")
		}
		return nil, fmt.Errorf("read index %s: %w", name, err)
	}
	for _, e := range idx.Entries {
		if old := ix.entries[e.Name]; old != nil && old.Stage == 0 {
			continue
		}
		ix.entries[e.Name] = e
		for d := path.Dir(e.Name); d != "."; d = path.Dir(d) {
			if ix.dirs[d] {
				break
			}
			ix.dirs[d] = true
		}
	}
	return ix, nil
}

// statClean reports whether fi still matches the stat data git recorded for
// e, so e.Hash can be reused without reading the file (git's ie_match_stat).
// An entry whose mtime is not older than the index file is "racily clean"
// (https://git-scm.com/docs/racy-git) and must be hashed.
func (ix *wtIndex) statClean(e *index.Entry, fi os.FileInfo) bool {
	if e == nil || e.Stage != 0 || e.IntentToAdd {
		return false
	}
	isLink := fi.Mode()&os.ModeSymlink != 0
	if isLink != (e.Mode == filemode.Symlink) || (!isLink && !e.Mode.IsFile()) {
		return false
	}
	if e.Size != uint32(fi.Size()) {
		return false
	}
	mt := fi.ModTime()
	if e.ModifiedAt.Unix() != mt.Unix() || e.ModifiedAt.Nanosecond() != mt.Nanosecond() {
		return false
	}
	if st := wtStatOf(fi); st.ok {
		if e.Inode != 0 && e.Inode != st.ino {
			return false
		}
		if !e.CreatedAt.IsZero() && !e.CreatedAt.Equal(st.ctime) {
			return false
		}
	}
	if !ix.mtime.IsZero() && !mt.Before(ix.mtime) {
		return false
	}
	return true
}

// wtFillStat copies fi's stat data into e.
func wtFillStat(e *index.Entry, fi os.FileInfo) {
	e.ModifiedAt = fi.ModTime()
	e.Size = uint32(fi.Size())
	if st := wtStatOf(fi); st.ok {
		e.CreatedAt = st.ctime
		e.Dev, e.Inode, e.UID, e.GID = st.dev, st.ino, st.uid, st.gid
	} else {
		e.CreatedAt = fi.ModTime()
	}
}

// wtSameStat reports whether two stats of one path describe the same file
// version (used to detect edits racing with a restore).
func wtSameStat(a, b os.FileInfo) bool {
	if a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) || a.Mode() != b.Mode() {
		return false
	}
	sa, sb := wtStatOf(a), wtStatOf(b)
	return !sa.ok || !sb.ok || (sa.ino == sb.ino && sa.ctime.Equal(sb.ctime))
}

// wtEncodeIndex encodes entries as a version 2 index.
func wtEncodeIndex(entries []*index.Entry) ([]byte, error) {
	var buf bytes.Buffer
	if err := index.NewEncoder(&buf).Encode(&index.Index{Version: 2, Entries: entries}); err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	return buf.Bytes(), nil
}

// wtIndexEntry builds an index entry with no stat data.
func wtIndexEntry(p string, mode uint32, h Hash) *index.Entry {
	return &index.Entry{Name: p, Mode: filemode.FileMode(mode), Hash: plumbing.Hash(h)}
}
