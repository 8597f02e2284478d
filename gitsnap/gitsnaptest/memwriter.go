package gitsnaptest

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/go-git/go-git/v5/plumbing"
)

// memWriter buffers objects until Flush stores them in the MemRepo.
type memWriter struct {
	repo    *MemRepo
	mu      sync.Mutex
	pending map[gitsnap.Hash]plumbing.EncodedObject
}

// NewObjectWriter opens a batch writer.
func (m *MemRepo) NewObjectWriter(ctx context.Context) (gitsnap.ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &memWriter{repo: m, pending: map[gitsnap.Hash]plumbing.EncodedObject{}}, nil
}

func (w *memWriter) write(ctx context.Context, typ plumbing.ObjectType, data []byte) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	h := gitsnap.HashObject(typ.String(), data)
	if ok, err := w.repo.HasObject(ctx, h); ok || err != nil {
		return h, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.pending[h]; ok {
		return h, nil
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(typ)
	if _, err := obj.Write(data); err != nil {
		return gitsnap.ZeroHash, fmt.Errorf("write %s: %w", typ, err)
	}
	if gitsnap.Hash(obj.Hash()) != h {
		return gitsnap.ZeroHash, fmt.Errorf("write %s: go-git hashes it as %s, not %s", typ, obj.Hash(), h)
	}
	w.pending[h] = obj
	return h, nil
}

// WriteBlob stores a blob (visible after Flush).
func (w *memWriter) WriteBlob(ctx context.Context, data []byte) (gitsnap.Hash, error) {
	return w.write(ctx, plumbing.BlobObject, data)
}

// WriteBlobFrom reads exactly size bytes from r and stores them as a blob.
func (w *memWriter) WriteBlobFrom(ctx context.Context, r io.Reader, size int64) (gitsnap.Hash, error) {
	data, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return gitsnap.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if int64(len(data)) != size {
		return gitsnap.ZeroHash, fmt.Errorf("write blob: reader gave %d bytes, want %d", len(data), size)
	}
	return w.write(ctx, plumbing.BlobObject, data)
}

// WriteTree stores a tree, sorted into Git order.
func (w *memWriter) WriteTree(ctx context.Context, entries []gitsnap.TreeEntry) (gitsnap.Hash, error) {
	data, err := gitsnap.EncodeTree(entries)
	if err != nil {
		return gitsnap.ZeroHash, err
	}
	return w.write(ctx, plumbing.TreeObject, data)
}

// WriteCommit stores a commit.
func (w *memWriter) WriteCommit(ctx context.Context, c *gitsnap.Commit) (gitsnap.Hash, error) {
	data, err := gitsnap.EncodeCommit(c)
	if err != nil {
		return gitsnap.ZeroHash, err
	}
	return w.write(ctx, plumbing.CommitObject, data)
}

// Flush makes the pending objects visible.
func (w *memWriter) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.repo.mu.Lock()
	defer w.repo.mu.Unlock()
	for h, obj := range w.pending {
		if _, err := w.repo.storage.SetEncodedObject(obj); err != nil {
			return fmt.Errorf("flush %s: %w", h, err)
		}
		delete(w.pending, h)
	}
	return nil
}

// Abort drops the pending objects.
func (w *memWriter) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = map[gitsnap.Hash]plumbing.EncodedObject{}
	return nil
}
