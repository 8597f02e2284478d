package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// HasObject reports whether the object exists, loose or packed (or in an
// alternate object store). A miss re-reads the pack index first when the
// pack directory changed since it was loaded (a `git gc`, or a pack we
// wrote), so the answer is current without reindexing on every miss.
func (r *goGitRepo) HasObject(ctx context.Context, h Hash) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ok, err := r.hasObjectLocked(h)
	for i := 0; i <= packRaceRetries && !ok; i++ {
		if !r.lookAgainLocked(err, i) {
			break
		}
		ok, err = r.hasObjectLocked(h)
	}
	if err != nil {
		return false, fmt.Errorf("check object %s: %w", h, err)
	}
	return ok, nil
}

// lookAgainLocked decides, after attempt (from 0) of a lookup failed with
// err (nil: not found), whether to look again, and reloads the pack index
// for it. A miss is only final once the pack directory held still since
// the index was loaded: a pack written, or a roll-up (git gc, git repack,
// repo_gogit_maintain.go) moving objects from old packs into a new one,
// changes it, and a directory listing taken meanwhile can miss both the
// new pack and the old one. A failed index load is always dropped (go-git
// keeps a partly filled index after an error), and a pack being installed
// or removed is waited for a little. r.mu must be held.
func (r *goGitRepo) lookAgainLocked(err error, attempt int) bool {
	switch {
	case err == nil || errors.Is(err, plumbing.ErrObjectNotFound):
		return r.refreshPacksLocked(false)
	case transientPackError(err):
		if attempt > 0 {
			packRaceWait(attempt)
		}
		r.refreshPacksLocked(true)
		return true
	case attempt == 0:
		r.refreshPacksLocked(true)
		return true
	}
	return false
}

// packRaceRetries bounds the retries for a pack another process is
// installing: it renames pack-X.pack before pack-X.idx (git's order), and
// go-git lists packs by their .pack file, so for a moment it sees a pack
// whose index is not there yet (dotgit.ErrPackfileNotFound).
const packRaceRetries = 6

func transientPackError(err error) bool {
	return errors.Is(err, dotgit.ErrPackfileNotFound) || errors.Is(err, dotgit.ErrIdxNotFound)
}

// packRaceWait sleeps a little longer on each attempt (10, 20, 40 ms…).
func packRaceWait(attempt int) { time.Sleep(time.Duration(5<<attempt) * time.Millisecond) }

func (r *goGitRepo) hasObjectLocked(h Hash) (bool, error) {
	ph := plumbing.Hash(h)
	err := r.storage.HasEncodedObject(ph)
	if errors.Is(err, plumbing.ErrObjectNotFound) && r.hasAlternates {
		_, err = r.storage.EncodedObject(plumbing.AnyObject, ph)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, plumbing.ErrObjectNotFound):
		return false, nil
	default:
		return false, err
	}
}

// refreshPacksLocked makes go-git re-read the pack directory: always when
// force is set, else only when objects/pack changed since the last load.
// It reports whether it reloaded. r.mu must be held.
func (r *goGitRepo) refreshPacksLocked(force bool) bool {
	stamp := r.packDirStamp()
	if !force && stamp.Equal(r.packStamp) {
		return false
	}
	r.storage.Reindex()
	r.packStamp = stamp
	return true
}

// object looks an object up, retrying once after reloading the pack index:
// go-git keeps the pack list it loaded first, so it misses objects that
// `git gc` or our own pack writer moved into new packs, and fails on packs
// that gc deleted.
func (r *goGitRepo) object(ctx context.Context, h Hash) (plumbing.EncodedObject, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	obj, err := r.storage.EncodedObject(plumbing.AnyObject, plumbing.Hash(h))
	for i := 0; err != nil && i <= packRaceRetries; i++ {
		// Not found, a pack that gc deleted (dotgit.ErrPackfileNotFound), or a
		// pack whose .idx is not renamed in yet: reload and look again
		// (lookAgainLocked).
		if i == 0 {
			r.refreshPacksLocked(true) // go-git keeps the pack list it loaded first
		} else if !r.lookAgainLocked(err, i) {
			break
		}
		obj, err = r.storage.EncodedObject(plumbing.AnyObject, plumbing.Hash(h))
	}
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("read object %s: %w", h, ErrObjectNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read object %s: %w", h, err)
	}
	return obj, nil
}

// openObject opens an object's content, checking its type. go-git streams
// objects above largeObjectThreshold from disk; smaller ones are in memory.
func (r *goGitRepo) openObject(ctx context.Context, h Hash, want plumbing.ObjectType) (io.ReadCloser, int64, error) {
	obj, err := r.object(ctx, h)
	if err != nil {
		return nil, 0, err
	}
	if obj.Type() != want {
		return nil, 0, fmt.Errorf("read object %s: is a %s, not a %s", h, obj.Type(), want)
	}
	// Reader touches go-git's shared object cache: take the lock for it. The
	// returned stream has its own file handle and is read without the lock.
	r.mu.Lock()
	rc, err := obj.Reader()
	r.mu.Unlock()
	if err != nil {
		return nil, 0, fmt.Errorf("read object %s: %w", h, err)
	}
	return rc, obj.Size(), nil
}

// OpenBlob streams a blob. Large blobs are not read into memory. Returns
// ErrObjectNotFound when the blob is missing.
func (r *goGitRepo) OpenBlob(ctx context.Context, h Hash) (io.ReadCloser, int64, error) {
	rc, size, err := r.openObject(ctx, h, plumbing.BlobObject)
	if err != nil {
		return nil, 0, err
	}
	return newCtxReadCloser(ctx, rc), size, nil
}

// ReadTree returns a tree's entries in Git order.
func (r *goGitRepo) ReadTree(ctx context.Context, h Hash) ([]TreeEntry, error) {
	data, err := r.readAll(ctx, h, plumbing.TreeObject)
	if err != nil {
		return nil, err
	}
	entries, err := DecodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	return entries, nil
}

// ReadCommit returns a commit.
func (r *goGitRepo) ReadCommit(ctx context.Context, h Hash) (*Commit, error) {
	data, err := r.readAll(ctx, h, plumbing.CommitObject)
	if err != nil {
		return nil, err
	}
	c, err := DecodeCommit(data)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c, nil
}

func (r *goGitRepo) readAll(ctx context.Context, h Hash, typ plumbing.ObjectType) ([]byte, error) {
	rc, _, err := r.openObject(ctx, h, typ)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	return data, nil
}

// ctxReadCloser stops a long blob stream once ctx is cancelled.
type ctxReadCloser struct {
	ctxReader
	c io.Closer
}

func newCtxReadCloser(ctx context.Context, rc io.ReadCloser) *ctxReadCloser {
	return &ctxReadCloser{ctxReader: ctxReader{ctx: ctx, r: rc}, c: rc}
}

func (c *ctxReadCloser) Close() error { return c.c.Close() }
