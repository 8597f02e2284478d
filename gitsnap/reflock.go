package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lockFile is a held "<path>.lock": git's lock protocol. Whoever creates the
// lock file with O_CREATE|O_EXCL owns path until it renames the lock over
// path (commit) or removes it (rollback). The git binary and other git-snap
// processes honour the same file, unlike go-git's flock (go-git#2399).
type lockFile struct {
	path string // the file being updated
	f    *os.File
}

// errLockHeld is wrapped, with ErrRefChanged, when someone else holds a lock.
var errLockHeld = errors.New("lock is held by another process")

// acquireLock creates path+".lock", making parent directories as needed. A
// lock that already exists yields an error wrapping ErrRefChanged.
func acquireLock(path string) (*lockFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path+".lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("lock %s.lock: %w: %w", path, ErrRefChanged, errLockHeld)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &lockFile{path: path, f: f}, nil
}

// acquireLockWait retries acquireLock for up to timeout while the lock is
// held, like git's core.packedRefsTimeout (default 1s) for packed-refs.
func acquireLockWait(ctx context.Context, path string, timeout time.Duration) (*lockFile, error) {
	deadline := time.Now().Add(timeout)
	for {
		l, err := acquireLock(path)
		if err == nil || !errors.Is(err, errLockHeld) || time.Now().After(deadline) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// commit writes content to the lock file, syncs it and renames it over the
// locked path. On failure the lock is removed.
func (l *lockFile) commit(content []byte) error {
	if l.f == nil {
		return fmt.Errorf("commit %s: lock already released", l.path)
	}
	_, err := l.f.Write(content)
	if err == nil {
		err = l.f.Sync()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err == nil {
		err = os.Rename(l.path+".lock", l.path)
	}
	if err != nil {
		_ = os.Remove(l.path + ".lock")
		return fmt.Errorf("commit %s: %w", l.path, err)
	}
	return nil
}

// rollback removes the lock if it is still held; safe to call after commit.
func (l *lockFile) rollback() {
	if l.f == nil {
		return
	}
	_ = l.f.Close()
	l.f = nil
	_ = os.Remove(l.path + ".lock")
}
