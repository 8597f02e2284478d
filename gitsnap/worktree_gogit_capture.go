package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// wtMaxInMemory is the largest file read whole into memory; bigger files
// are streamed with WriteBlobFrom.
const wtMaxInMemory = 8 << 20

// CaptureWorktree implements Worktree. It produces the tree "git add -A &&
// git write-tree" would, without touching the real index: tracked files plus
// untracked files that are not ignored, with the index as a stat cache.
// Like git it records bytes as they are on disk; clean filters and eol
// conversion from .gitattributes are not applied.
func (r *goGitRepo) CaptureWorktree(ctx context.Context, w ObjectWriter) (Hash, error) {
	if r.root == "" {
		return ZeroHash, fmt.Errorf("capture worktree: bare repository has no worktree")
	}
	scan, err := r.wtScan(ctx, w)
	if err != nil {
		return ZeroHash, fmt.Errorf("capture worktree: %w", err)
	}
	h, err := wtBuildTree(ctx, w, scan.entries)
	if err != nil {
		return ZeroHash, fmt.Errorf("capture worktree: %w", err)
	}
	return h, nil
}

// wtScanResult is what the worktree holds, as "git add -A" sees it.
type wtScanResult struct {
	entries []wtEntry
	stats   map[string]os.FileInfo // Lstat of each file, symlink and gitlink dir
	index   *wtIndex               // the index the scan used
}

type wtWalker struct {
	root     string
	w        ObjectWriter
	ix       *wtIndex
	ig       *wtIgnore
	load     wtPatternLoader
	fileMode bool // core.fileMode: trust the executable bit
	symlinks bool // core.symlinks
	seen     map[string]bool
	out      []*wtScanEntry
	jobs     chan *wtScanEntry
}

type wtScanEntry struct {
	wtEntry
	fi   os.FileInfo
	gone bool // vanished before it could be read
}

// wtScan walks the worktree and hashes (through w) every file whose stat
// data does not match the index. Files are read by a small worker pool.
func (r *goGitRepo) wtScan(ctx context.Context, w ObjectWriter) (*wtScanResult, error) {
	ix, err := r.wtReadIndex()
	if err != nil {
		return nil, err
	}
	ig, err := r.wtLoadIgnore()
	if err != nil {
		return nil, err
	}
	wk := &wtWalker{
		root: r.root, w: w, ix: ix, ig: ig, load: r.wtDiskPatterns,
		fileMode: r.wtConfigBool("core.fileMode", true),
		symlinks: r.wtConfigBool("core.symlinks", true),
		seen:     map[string]bool{},
		jobs:     make(chan *wtScanEntry, 256),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range wk.jobs {
				if ctx.Err() != nil {
					continue
				}
				if err := wk.hash(ctx, e); err != nil {
					fail(err)
				}
			}
		}()
	}
	walkErr := wk.walkDir(ctx, "", false)
	close(wk.jobs)
	wg.Wait()
	if walkErr != nil {
		fail(walkErr)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	res := &wtScanResult{stats: map[string]os.FileInfo{}, index: ix}
	for _, e := range wk.out {
		if !e.gone {
			res.entries = append(res.entries, e.wtEntry)
			res.stats[e.Path] = e.fi
		}
	}
	// Sparse checkout: skip-worktree entries are absent on disk on purpose
	// and "git add -A" keeps them.
	for p, e := range ix.entries {
		if !wk.seen[p] && e.SkipWorktree && e.Stage == 0 {
			res.entries = append(res.entries, wtEntry{Path: p, Mode: wtCanonicalMode(uint32(e.Mode)), Hash: Hash(e.Hash)})
		}
	}
	return res, nil
}

// walkDir scans the directory rel ("" for the root). Below an ignored
// directory (ignored) only tracked paths are kept, as in git.
func (wk *wtWalker) walkDir(ctx context.Context, rel string, ignored bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	abs := filepath.Join(wk.root, filepath.FromSlash(rel))
	des, err := os.ReadDir(abs)
	if err != nil {
		if rel != "" && (os.IsNotExist(err) || wtIsNotDir(err)) {
			return nil // removed while we walked
		}
		return fmt.Errorf("read directory %s: %w", abs, err)
	}
	if !ignored {
		if err := wk.ig.push(wk.load, rel); err != nil {
			return err
		}
		defer wk.ig.pop()
	}
	for _, de := range des {
		name := de.Name()
		if strings.EqualFold(name, ".git") {
			continue
		}
		p := path.Join(rel, name)
		fi, err := os.Lstat(filepath.Join(abs, name))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if fi.IsDir() {
			if err := wk.dir(ctx, p, fi, ignored); err != nil {
				return err
			}
			continue
		}
		if !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 {
			continue // fifos, sockets, devices: git skips them too
		}
		e := wk.ix.entries[p]
		if e == nil && (ignored || wk.ig.ignored(p, false)) {
			continue
		}
		wk.seen[p] = true
		se := &wtScanEntry{wtEntry: wtEntry{Path: p, Mode: wk.mode(e, fi)}, fi: fi}
		wk.out = append(wk.out, se)
		if wk.ix.statClean(e, fi) {
			se.Hash = Hash(e.Hash)
			continue
		}
		select {
		case wk.jobs <- se:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// dir handles a directory entry: a gitlink, a nested repository, or a
// directory to descend into.
func (wk *wtWalker) dir(ctx context.Context, p string, fi os.FileInfo, ignored bool) error {
	abs := filepath.Join(wk.root, filepath.FromSlash(p))
	if e := wk.ix.entries[p]; e != nil && e.Mode == filemode.Submodule {
		wk.seen[p] = true
		h, ok := wtSubmoduleHead(abs)
		if !ok {
			h = Hash(e.Hash) // not checked out: git sees it unchanged
		}
		wk.out = append(wk.out, &wtScanEntry{wtEntry: wtEntry{Path: p, Mode: ModeSubmodule, Hash: h}, fi: fi})
		return nil
	}
	if !wk.ix.dirs[p] && wtHasGitEntry(abs) {
		// An untracked nested repository: "git add" records it as a
		// gitlink (and fails if it has no commit; we skip it instead).
		if ignored || wk.ig.ignored(p, true) {
			return nil
		}
		if h, ok := wtSubmoduleHead(abs); ok {
			wk.out = append(wk.out, &wtScanEntry{wtEntry: wtEntry{Path: p, Mode: ModeSubmodule, Hash: h}, fi: fi})
		}
		return nil
	}
	dirIgnored := ignored || wk.ig.ignored(p, true)
	if dirIgnored && !wk.ix.dirs[p] {
		return nil
	}
	return wk.walkDir(ctx, p, dirIgnored)
}

// mode is the tree mode for a file, as git's ce_mode_from_stat: with
// core.fileMode=false the executable bit comes from the index, with
// core.symlinks=false a tracked symlink checked out as a file stays a symlink.
func (wk *wtWalker) mode(e *index.Entry, fi os.FileInfo) uint32 {
	if fi.Mode()&os.ModeSymlink != 0 {
		return ModeSymlink
	}
	if e != nil && e.Mode == filemode.Symlink && !wk.symlinks {
		return ModeSymlink
	}
	if e != nil && !wk.fileMode && e.Mode.IsFile() && e.Mode != filemode.Symlink {
		return wtCanonicalMode(uint32(e.Mode))
	}
	if fi.Mode()&0o100 != 0 {
		return ModeExecutable
	}
	return ModeFile
}

// hash reads one file or symlink and stores it as a blob.
func (wk *wtWalker) hash(ctx context.Context, e *wtScanEntry) error {
	abs := filepath.Join(wk.root, filepath.FromSlash(e.Path))
	if e.fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(abs)
		if err != nil {
			if os.IsNotExist(err) {
				e.gone = true
				return nil
			}
			return fmt.Errorf("read symlink %s: %w", e.Path, err)
		}
		h, err := wk.w.WriteBlob(ctx, []byte(target))
		if err != nil {
			return fmt.Errorf("store symlink %s: %w", e.Path, err)
		}
		e.Hash = h
		return nil
	}
	f, err := wtOpenNoFollow(abs)
	if err != nil {
		if os.IsNotExist(err) {
			e.gone = true
			return nil
		}
		return fmt.Errorf("open %s: %w", e.Path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", e.Path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("read %s: no longer a regular file", e.Path)
	}
	var h Hash
	if fi.Size() <= wtMaxInMemory {
		data, rerr := io.ReadAll(f)
		if rerr != nil {
			return fmt.Errorf("read %s: %w", e.Path, rerr)
		}
		h, err = wk.w.WriteBlob(ctx, data)
	} else {
		h, err = wk.w.WriteBlobFrom(ctx, io.LimitReader(f, fi.Size()), fi.Size())
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("store %s: %w", e.Path, err)
	}
	e.Hash = h
	return nil
}

// wtConfigBool reads a boolean git config variable (see git-config(1),
// "Values": true/yes/on/1 and false/no/off/0; a bare key is true).
func (r *goGitRepo) wtConfigBool(key string, def bool) bool {
	v, ok := r.ConfigValue(key)
	if !ok {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "yes", "on", "1":
		return true
	case "false", "no", "off", "0":
		return false
	}
	return def
}
