package code

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"strconv"

	"github.com/git-snap/git-snap/gitsnap"
)

// hashWriter is a gitsnap.ObjectWriter that computes object names and
// stores nothing, so Plan can hash the live worktree without writing to
// the repository.
type hashWriter struct{}

var _ gitsnap.ObjectWriter = hashWriter{}

func (hashWriter) WriteBlob(ctx context.Context, data []byte) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	return gitsnap.HashObject(gitsnap.ObjectBlob, data), nil
}

func (hashWriter) WriteBlobFrom(ctx context.Context, r io.Reader, size int64) (gitsnap.Hash, error) {
	d := sha1.New()
	d.Write([]byte(gitsnap.ObjectBlob + " " + strconv.FormatInt(size, 10) + "\x00"))
	n, err := io.Copy(d, io.LimitReader(ctxReader{ctx, r}, size+1))
	if err != nil {
		return gitsnap.ZeroHash, fmt.Errorf("hash blob: %w", err)
	}
	if n != size {
		return gitsnap.ZeroHash, fmt.Errorf("hash blob: got %d bytes, want %d", n, size)
	}
	var h gitsnap.Hash
	d.Sum(h[:0])
	return h, nil
}

func (hashWriter) WriteTree(ctx context.Context, entries []gitsnap.TreeEntry) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	data, err := gitsnap.EncodeTree(entries)
	if err != nil {
		return gitsnap.ZeroHash, err
	}
	return gitsnap.HashObject(gitsnap.ObjectTree, data), nil
}

func (hashWriter) WriteCommit(ctx context.Context, c *gitsnap.Commit) (gitsnap.Hash, error) {
	data, err := gitsnap.EncodeCommit(c)
	if err != nil {
		return gitsnap.ZeroHash, err
	}
	return gitsnap.HashObject(gitsnap.ObjectCommit, data), nil
}

func (hashWriter) Flush(ctx context.Context) error { return ctx.Err() }

func (hashWriter) Abort() error { return nil }

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
