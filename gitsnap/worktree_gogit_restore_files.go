package gitsnap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// wtTempPrefix starts the names of restore's temporary files.
const wtTempPrefix = ".gitsnap-tmp-"

// wtApply carries out a checked plan: removals first, then directories the
// removals emptied, then atomic writes and mode changes. It returns the
// Lstat of every path it wrote or chmodded. Each file is replaced
// atomically; a cancelled restore stops between files and leaves no
// temporary files.
func (r *goGitRepo) wtApply(ctx context.Context, p *wtRestorePlan) (map[string]os.FileInfo, error) {
	stats := map[string]os.FileInfo{}
	emptied := map[string]bool{}
	sort.Strings(p.remove)
	for _, rel := range p.remove {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		abs, err := r.wtAbs(rel)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Lstat(abs); err == nil && fi.IsDir() {
			continue // became a directory since the scan: not ours
		}
		if err := os.Remove(abs); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("remove %s: %w", rel, err)
		}
		for _, d := range wtParents(rel) {
			emptied[d] = true
		}
	}
	r.wtRemoveEmptyDirs(emptied, p.keepDir)

	// Regular files first (in parallel), symlinks after them, one by one:
	// on a case-insensitive file system a symlink "A" created while a
	// worker checks the parents of "a/f" could otherwise be followed.
	var files, links []wtEntry
	for _, e := range p.write {
		if e.Mode == ModeSymlink {
			links = append(links, e)
		} else {
			files = append(files, e)
		}
	}
	if err := r.wtWriteAll(ctx, files, stats); err != nil {
		return nil, err
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Path < links[j].Path })
	for _, e := range links {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fi, err := r.wtWriteEntry(ctx, e)
		if err != nil {
			return nil, err
		}
		stats[e.Path] = fi
	}
	for _, e := range p.chmod {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		abs, err := SafeJoin(r.root, e.Path)
		if err != nil {
			return nil, err
		}
		fi, err := os.Lstat(abs)
		if err != nil {
			return nil, fmt.Errorf("chmod %s: %w", e.Path, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("chmod %s: no longer a regular file", e.Path)
		}
		if err := os.Chmod(abs, wtPerm(fi, e.Mode)); err != nil {
			return nil, fmt.Errorf("chmod %s: %w", e.Path, err)
		}
		if fi, err = os.Lstat(abs); err != nil {
			return nil, fmt.Errorf("chmod %s: %w", e.Path, err)
		}
		stats[e.Path] = fi
	}
	for _, rel := range p.mkdir {
		abs, err := SafeJoin(r.root, rel)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0o777); err != nil {
			return nil, fmt.Errorf("create submodule directory %s: %w", rel, err)
		}
	}
	return stats, nil
}

// wtWriteAll writes entries with a few workers: creating files is mostly
// waiting on the file system, and the object store reads are safe for
// concurrent use. The first error stops the rest.
func (r *goGitRepo) wtWriteAll(ctx context.Context, entries []wtEntry, stats map[string]os.FileInfo) error {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	var (
		mu       sync.Mutex
		firstErr error
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	jobs := make(chan wtEntry)
	for range min(max(2, runtime.GOMAXPROCS(0)), 8) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				if failed.Load() {
					continue
				}
				err := ctx.Err()
				var fi os.FileInfo
				if err == nil {
					fi, err = r.wtWriteEntry(ctx, e)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					failed.Store(true)
				} else if err == nil {
					stats[e.Path] = fi
				}
				mu.Unlock()
			}
		}()
	}
	for _, e := range entries {
		if failed.Load() {
			break
		}
		jobs <- e
	}
	close(jobs)
	wg.Wait()
	return firstErr
}

// wtAbs joins a path found by the scan to the root, refusing one whose
// parent directories turned into symlinks since.
func (r *goGitRepo) wtAbs(rel string) (string, error) {
	cur := r.root
	parts := strings.Split(rel, "/")
	for _, el := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, el)
		if fi, err := os.Lstat(cur); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("%w: %q goes through symlink %s", ErrUnsafePath, rel, cur)
		}
	}
	return filepath.Join(r.root, filepath.FromSlash(rel)), nil
}

// wtRemoveEmptyDirs removes the directories in dirs that are now empty,
// deepest first, keeping those the wanted tree needs anyway.
func (r *goGitRepo) wtRemoveEmptyDirs(dirs, keep map[string]bool) {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		if !keep[d] {
			list = append(list, d)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		di, dj := strings.Count(list[i], "/"), strings.Count(list[j], "/")
		if di != dj {
			return di > dj
		}
		return list[i] < list[j]
	})
	for _, d := range list {
		abs, err := r.wtAbs(d)
		if err != nil {
			continue
		}
		if fi, err := os.Lstat(abs); err == nil && fi.IsDir() {
			_ = os.Remove(abs) // fails, as it should, unless empty
		}
	}
}

// wtWriteEntry replaces the file at e.Path with e's content: a temporary
// file (or symlink) in the same directory renamed over it. A directory in
// the way holds nothing but empty directories by now (wtCheckWay).
func (r *goGitRepo) wtWriteEntry(ctx context.Context, e wtEntry) (os.FileInfo, error) {
	abs, err := SafeJoin(r.root, e.Path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", e.Path, err)
	}
	old, err := os.Lstat(abs)
	if err == nil && old.IsDir() {
		if err := wtRemoveEmptyTree(abs); err != nil {
			return nil, fmt.Errorf("replace directory %s: %w", e.Path, err)
		}
		old = nil
	} else if err != nil {
		old = nil
	}
	var tmp string
	if e.Mode == ModeSymlink {
		tmp, err = r.wtTempSymlink(ctx, dir, e.Hash)
	} else {
		tmp, err = r.wtTempFile(ctx, dir, e, old)
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", e.Path, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", e.Path, err)
	}
	fi, err := os.Lstat(abs)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", e.Path, err)
	}
	return fi, nil
}

// wtTempFile writes a blob to a new temporary file in dir and returns its
// name. New files get 0666 or 0777 less the umask, as git checkout does;
// a replaced file keeps its permissions apart from the executable bits.
func (r *goGitRepo) wtTempFile(ctx context.Context, dir string, e wtEntry, old os.FileInfo) (_ string, err error) {
	rc, size, err := r.OpenBlob(ctx, e.Hash)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	perm := os.FileMode(0o666)
	if e.Mode == ModeExecutable {
		perm = 0o777
	}
	var f *os.File
	var name string
	for range 10 {
		name = filepath.Join(dir, wtTempPrefix+wtRandomName())
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !os.IsExist(err) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(name)
		}
	}()
	n, err := io.Copy(f, rc)
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("blob %s: read %d bytes, want %d: %w", e.Hash, n, size, ErrIntegrity)
	}
	if old != nil && old.Mode().IsRegular() {
		if err = f.Chmod(wtPerm(old, e.Mode)); err != nil {
			return "", err
		}
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return name, nil
}

// wtTempSymlink creates a symlink to the blob's content under a temporary
// name in dir.
func (r *goGitRepo) wtTempSymlink(ctx context.Context, dir string, h Hash) (string, error) {
	target, err := r.wtReadBlob(ctx, h, 64<<10)
	if err != nil {
		return "", err
	}
	if len(target) == 0 || strings.IndexByte(string(target), 0) >= 0 {
		return "", fmt.Errorf("%w: symlink blob %s is empty or holds NUL", ErrInvalidFormat, h)
	}
	for range 10 {
		name := filepath.Join(dir, wtTempPrefix+wtRandomName())
		err = os.Symlink(string(target), name)
		if err == nil {
			return name, nil
		}
		if !os.IsExist(err) {
			break
		}
	}
	return "", fmt.Errorf("create temporary symlink: %w", err)
}

// wtPerm derives the new permissions of a regular file from its current
// ones: the executable bits follow mode, set wherever it is readable.
func wtPerm(fi os.FileInfo, mode uint32) os.FileMode {
	perm := fi.Mode().Perm()
	if mode == ModeExecutable {
		return perm | (perm&0o444)>>2
	}
	return perm &^ 0o111
}

// wtRemoveEmptyTree removes a directory that holds only empty directories.
func wtRemoveEmptyTree(abs string) error {
	des, err := os.ReadDir(abs)
	if err != nil {
		return err
	}
	for _, de := range des {
		if !de.IsDir() {
			return fmt.Errorf("%s is not empty", filepath.Join(abs, de.Name()))
		}
		if err := wtRemoveEmptyTree(filepath.Join(abs, de.Name())); err != nil {
			return err
		}
	}
	if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func wtRandomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
