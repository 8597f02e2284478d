package gitsnap

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"sort"
	"strings"
)

// wtEntry is one non-directory path of a worktree or tree, flattened.
type wtEntry struct {
	Path string // slash-separated, relative to the root
	Mode uint32 // ModeFile, ModeExecutable, ModeSymlink or ModeSubmodule
	Hash Hash
}

// wtBuildTree writes the trees for flat entries bottom-up and returns the
// root tree. Directories without entries produce nothing.
func wtBuildTree(ctx context.Context, w ObjectWriter, entries []wtEntry) (Hash, error) {
	sorted := append([]wtEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	return wtBuildDir(ctx, w, "", sorted)
}

// wtBuildDir writes the tree of the directory prefix ("" or "dir/"); every
// entry of es starts with prefix, and es is sorted, so each subdirectory's
// entries are contiguous.
func wtBuildDir(ctx context.Context, w ObjectWriter, prefix string, es []wtEntry) (Hash, error) {
	if err := ctx.Err(); err != nil {
		return ZeroHash, err
	}
	var tree []TreeEntry
	for i := 0; i < len(es); {
		rest := es[i].Path[len(prefix):]
		name, _, isDir := strings.Cut(rest, "/")
		if !isDir {
			tree = append(tree, TreeEntry{Name: name, Mode: es[i].Mode, Hash: es[i].Hash})
			i++
			continue
		}
		sub := prefix + name + "/"
		j := i
		for j < len(es) && strings.HasPrefix(es[j].Path, sub) {
			j++
		}
		h, err := wtBuildDir(ctx, w, sub, es[i:j])
		if err != nil {
			return ZeroHash, err
		}
		tree = append(tree, TreeEntry{Name: name, Mode: ModeDir, Hash: h})
		i = j
	}
	h, err := w.WriteTree(ctx, tree)
	if err != nil {
		return ZeroHash, fmt.Errorf("write tree %q: %w", strings.TrimSuffix(prefix, "/"), err)
	}
	return h, nil
}

// wtCanonicalMode maps the modes old gits wrote (100664, …) to the ones
// git uses today.
func wtCanonicalMode(m uint32) uint32 {
	switch m & 0o170000 {
	case 0o100000:
		if m&0o111 != 0 {
			return ModeExecutable
		}
		return ModeFile
	case 0o040000:
		return ModeDir
	}
	return m
}

// wtFlatten lists every non-directory entry below tree. Each path is checked
// with CleanRelPath, so a hostile tree cannot name ".." or ".git".
func (r *goGitRepo) wtFlatten(ctx context.Context, tree Hash) ([]wtEntry, error) {
	var out []wtEntry
	var walk func(h Hash, prefix string) error
	walk = func(h Hash, prefix string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		es, err := r.ReadTree(ctx, h)
		if err != nil {
			return err
		}
		for _, e := range es {
			p := prefix + e.Name
			if strings.Contains(e.Name, "/") {
				return fmt.Errorf("%w: tree %s entry %q", ErrUnsafePath, h, e.Name)
			}
			if _, err := CleanRelPath(p); err != nil {
				return fmt.Errorf("tree %s: %w", h, err)
			}
			mode := wtCanonicalMode(e.Mode)
			switch mode {
			case ModeDir:
				if err := walk(e.Hash, p+"/"); err != nil {
					return err
				}
			case ModeFile, ModeExecutable, ModeSymlink, ModeSubmodule:
				out = append(out, wtEntry{Path: p, Mode: mode, Hash: e.Hash})
			default:
				return fmt.Errorf("%w: tree %s entry %q has mode %o", ErrInvalidFormat, h, p, e.Mode)
			}
		}
		return nil
	}
	if err := walk(tree, ""); err != nil {
		return nil, fmt.Errorf("read tree %s: %w", tree, err)
	}
	return out, nil
}

// wtHashWriter is an ObjectWriter that only computes object names. Restore
// runs the capture walk with it to learn what the worktree holds.
type wtHashWriter struct{}

var _ ObjectWriter = wtHashWriter{}

func (wtHashWriter) WriteBlob(_ context.Context, data []byte) (Hash, error) {
	return HashObject(ObjectBlob, data), nil
}

func (wtHashWriter) WriteBlobFrom(ctx context.Context, r io.Reader, size int64) (Hash, error) {
	h := wtObjectHasher(ObjectBlob, size)
	n, err := io.Copy(h, io.LimitReader(&wtCtxReader{ctx: ctx, r: r}, size))
	if err != nil {
		return ZeroHash, fmt.Errorf("hash blob: %w", err)
	}
	if n != size {
		return ZeroHash, fmt.Errorf("hash blob: read %d bytes, want %d", n, size)
	}
	var one [1]byte
	if k, _ := r.Read(one[:]); k != 0 {
		return ZeroHash, fmt.Errorf("hash blob: more than %d bytes", size)
	}
	return wtSum(h), nil
}

func (wtHashWriter) WriteTree(_ context.Context, entries []TreeEntry) (Hash, error) {
	data, err := EncodeTree(entries)
	if err != nil {
		return ZeroHash, err
	}
	return HashObject(ObjectTree, data), nil
}

func (wtHashWriter) WriteCommit(context.Context, *Commit) (Hash, error) {
	return ZeroHash, errors.New("hash-only writer does not write commits")
}

func (wtHashWriter) Flush(context.Context) error { return nil }
func (wtHashWriter) Abort() error                { return nil }

func wtObjectHasher(kind string, size int64) hash.Hash {
	h := sha1.New()
	h.Write(objectHeader(kind, size))
	return h
}

func wtSum(h hash.Hash) Hash {
	var out Hash
	copy(out[:], h.Sum(nil))
	return out
}

// wtCtxReader stops a copy when ctx is done.
type wtCtxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *wtCtxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// wtParents lists the parent directories of p, deepest first.
func wtParents(p string) []string {
	var out []string
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		out = append(out, d)
	}
	return out
}
