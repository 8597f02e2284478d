package scopetest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/git-snap/git-snap/gitsnap"
)

// Objects is an in-memory gitsnap.ObjectWriter and gitsnap.ObjectReader.
// Hashes are real Git object names (SHA-1 over Git's object encoding), so
// the same content gives the same hash as in a real repository. Flush and
// Abort do nothing: objects are readable as soon as they are written.
type Objects struct {
	mu      sync.Mutex
	blobs   map[gitsnap.Hash][]byte
	trees   map[gitsnap.Hash][]gitsnap.TreeEntry
	commits map[gitsnap.Hash]*gitsnap.Commit
}

var (
	_ gitsnap.ObjectWriter = (*Objects)(nil)
	_ gitsnap.ObjectReader = (*Objects)(nil)
)

// NewObjects returns an empty object store.
func NewObjects() *Objects {
	return &Objects{
		blobs:   map[gitsnap.Hash][]byte{},
		trees:   map[gitsnap.Hash][]gitsnap.TreeEntry{},
		commits: map[gitsnap.Hash]*gitsnap.Commit{},
	}
}

func objectHash(kind string, body []byte) gitsnap.Hash {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(body))
	h.Write(body)
	var out gitsnap.Hash
	copy(out[:], h.Sum(nil))
	return out
}

// WriteBlob implements gitsnap.ObjectWriter.
func (o *Objects) WriteBlob(ctx context.Context, data []byte) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	h := objectHash("blob", data)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.blobs[h] = append([]byte(nil), data...)
	return h, nil
}

// WriteBlobFrom implements gitsnap.ObjectWriter.
func (o *Objects) WriteBlobFrom(ctx context.Context, r io.Reader, size int64) (gitsnap.Hash, error) {
	data, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return gitsnap.ZeroHash, fmt.Errorf("read blob: %w", err)
	}
	if int64(len(data)) != size {
		return gitsnap.ZeroHash, fmt.Errorf("read blob: got %d bytes, want %d", len(data), size)
	}
	return o.WriteBlob(ctx, data)
}

// WriteTree implements gitsnap.ObjectWriter; entries are sorted into Git
// order (a directory sorts as if its name ended in "/").
func (o *Objects) WriteTree(ctx context.Context, entries []gitsnap.TreeEntry) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	es := append([]gitsnap.TreeEntry(nil), entries...)
	key := func(e gitsnap.TreeEntry) string {
		if e.Mode == gitsnap.ModeDir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(es, func(i, j int) bool { return key(es[i]) < key(es[j]) })
	var body bytes.Buffer
	for _, e := range es {
		fmt.Fprintf(&body, "%o %s\x00", e.Mode, e.Name)
		body.Write(e.Hash[:])
	}
	h := objectHash("tree", body.Bytes())
	o.mu.Lock()
	defer o.mu.Unlock()
	o.trees[h] = es
	return h, nil
}

// WriteCommit implements gitsnap.ObjectWriter.
func (o *Objects) WriteCommit(ctx context.Context, c *gitsnap.Commit) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	var body bytes.Buffer
	fmt.Fprintf(&body, "tree %s\n", c.Tree)
	for _, p := range c.Parents {
		fmt.Fprintf(&body, "parent %s\n", p)
	}
	sig := func(s gitsnap.Signature) string {
		return fmt.Sprintf("%s <%s> %d %s", s.Name, s.Email, s.When.Unix(), s.When.Format("-0700"))
	}
	fmt.Fprintf(&body, "author %s\ncommitter %s\n\n%s", sig(c.Author), sig(c.Committer), c.Message)
	h := objectHash("commit", body.Bytes())
	cp := *c
	cp.Parents = append([]gitsnap.Hash(nil), c.Parents...)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.commits[h] = &cp
	return h, nil
}

// Flush implements gitsnap.ObjectWriter.
func (o *Objects) Flush(ctx context.Context) error { return ctx.Err() }

// Abort implements gitsnap.ObjectWriter.
func (o *Objects) Abort() error { return nil }

// HasObject implements gitsnap.ObjectReader.
func (o *Objects) HasObject(ctx context.Context, h gitsnap.Hash) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, b := o.blobs[h]
	_, t := o.trees[h]
	_, c := o.commits[h]
	return b || t || c, nil
}

// OpenBlob implements gitsnap.ObjectReader.
func (o *Objects) OpenBlob(ctx context.Context, h gitsnap.Hash) (io.ReadCloser, int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.blobs[h]
	if !ok {
		return nil, 0, fmt.Errorf("open blob %s: %w", h, gitsnap.ErrObjectNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

// ReadTree implements gitsnap.ObjectReader.
func (o *Objects) ReadTree(ctx context.Context, h gitsnap.Hash) ([]gitsnap.TreeEntry, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.trees[h]
	if !ok {
		return nil, fmt.Errorf("read tree %s: %w", h, gitsnap.ErrObjectNotFound)
	}
	return append([]gitsnap.TreeEntry(nil), t...), nil
}

// ReadCommit implements gitsnap.ObjectReader.
func (o *Objects) ReadCommit(ctx context.Context, h gitsnap.Hash) (*gitsnap.Commit, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.commits[h]
	if !ok {
		return nil, fmt.Errorf("read commit %s: %w", h, gitsnap.ErrObjectNotFound)
	}
	cp := *c
	return &cp, nil
}
