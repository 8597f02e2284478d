//go:build unix

package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockSettle takes the repository's settle lock (an flock on
// <common dir>/git-snap/settle.lock, released by the kernel if the process
// dies), waiting for another settle to finish. The returned func releases it.
func lockSettle(ctx context.Context, commonDir string) (func(), error) {
	p := filepath.Join(commonDir, "git-snap", "settle.lock")
	for {
		release, ok, err := tryLock(p)
		if err != nil {
			return nil, fmt.Errorf("settle lock: %w", err)
		}
		if ok {
			return release, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tryLock takes an flock on path (created with its directory if need be)
// without waiting: ok is false when another process holds it. The returned
// func releases it (closing the file releases the flock, as the kernel does
// when the process dies).
func tryLock(path string) (release func(), ok bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { _ = f.Close() }, true, nil
}
