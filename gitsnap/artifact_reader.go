package gitsnap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
)

// snapshotTree reads paths out of one snapshot's tree, caching the trees
// it has walked, each with a name index: a restore looks up every file,
// and a directory may hold tens of thousands of them.
type snapshotTree struct {
	repo ObjectReader
	root Hash

	mu    sync.Mutex
	trees map[string]*treeDir // dir path ("" = root) → entries
}

type treeDir struct {
	entries []TreeEntry
	byName  map[string]int // name → index in entries
}

func newSnapshotTree(repo ObjectReader, root Hash) *snapshotTree {
	return &snapshotTree{repo: repo, root: root, trees: map[string]*treeDir{}}
}

// dir returns the entries of the directory at p ("" for the root).
func (t *snapshotTree) dir(ctx context.Context, p string) ([]TreeEntry, error) {
	d, err := t.loadDir(ctx, p)
	if err != nil {
		return nil, err
	}
	return d.entries, nil
}

func (t *snapshotTree) loadDir(ctx context.Context, p string) (*treeDir, error) {
	t.mu.Lock()
	if d, ok := t.trees[p]; ok {
		t.mu.Unlock()
		return d, nil
	}
	t.mu.Unlock()
	var h Hash
	if p == "" {
		h = t.root
	} else {
		e, err := t.lookup(ctx, p)
		if err != nil {
			return nil, err
		}
		if e.Mode != ModeDir {
			return nil, fmt.Errorf("%w: %s is not a directory", ErrIntegrity, p)
		}
		h = e.Hash
	}
	es, err := t.repo.ReadTree(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s of snapshot: %w", p, err)
	}
	d := &treeDir{entries: es, byName: make(map[string]int, len(es))}
	for i, e := range es {
		if _, dup := d.byName[e.Name]; !dup { // a crafted tree may repeat a name: keep the first
			d.byName[e.Name] = i
		}
	}
	t.mu.Lock()
	t.trees[p] = d
	t.mu.Unlock()
	return d, nil
}

// lookup finds the entry at slash path p.
func (t *snapshotTree) lookup(ctx context.Context, p string) (TreeEntry, error) {
	parent, name := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		parent, name = p[:i], p[i+1:]
	}
	d, err := t.loadDir(ctx, parent)
	if err != nil {
		return TreeEntry{}, err
	}
	if i, ok := d.byName[name]; ok {
		return d.entries[i], nil
	}
	return TreeEntry{}, fmt.Errorf("%w: %s missing from snapshot tree", ErrIntegrity, p)
}

// snapshotReader implements ArtifactReader for one scope of a snapshot.
type snapshotReader struct {
	tree      *snapshotTree
	manifest  *Manifest
	scope     string
	artifacts []Artifact
}

func newScopeReader(t *snapshotTree, m *Manifest, scope string) *snapshotReader {
	r := &snapshotReader{tree: t, manifest: m, scope: scope}
	for _, a := range m.Artifacts {
		if a.Scope == scope {
			r.artifacts = append(r.artifacts, a)
		}
	}
	return r
}

func (r *snapshotReader) Artifacts() []Artifact { return append([]Artifact(nil), r.artifacts...) }

func (r *snapshotReader) Code() (CodeState, bool) {
	c := r.manifest.Code
	if c == nil {
		return CodeState{}, false
	}
	cs := CodeState{Branch: c.Branch, Dirty: c.Dirty}
	cs.Tree, _ = ParseHash(c.Tree)
	if c.Commit != "" {
		cs.Commit, _ = ParseHash(c.Commit)
	}
	return cs, true
}

func (r *snapshotReader) Open(ctx context.Context, a Artifact) (io.ReadCloser, error) {
	if err := checkArtifact(a); err != nil {
		return nil, err
	}
	var rc io.ReadCloser
	switch a.Kind {
	case KindBlob, KindSymlink:
		e, err := r.tree.lookup(ctx, "files/"+a.Path)
		if err != nil {
			return nil, err
		}
		if (a.Kind == KindSymlink) != (e.Mode == ModeSymlink) {
			return nil, fmt.Errorf("%w: %s: manifest kind %s does not match the tree", ErrIntegrity, a.Path, a.Kind)
		}
		b, _, err := r.tree.repo.OpenBlob(ctx, e.Hash)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", a.Path, err)
		}
		rc = b
	case KindChunked:
		cl, err := listChunks(ctx, r.tree, a)
		if err != nil {
			return nil, err
		}
		rc = newChunkReader(ctx, r.tree.repo, cl)
	}
	return &verifyingReader{rc: rc, want: a, sum: sha256.New()}, nil
}

// chunkReader concatenates chunks, opening one at a time: a full chunk is
// streamed from its blob, a delta chunk is rebuilt in memory from its
// bases (kept in a small cache, since neighbouring deltas share them).
// (Reading the next chunk ahead on a goroutine was measured: no gain on 2
// cores, +25 MB RSS; see docs/benchmarks.md.)
type chunkReader struct {
	ctx    context.Context
	repo   blobOpener
	chunks []chunkRef
	bases  map[Hash]bool
	cache  *baseCache
	cur    io.ReadCloser

	// git cat-file --batch for whole chunks (catfile.go), started on the
	// first chunk when the repository can; batchErr stops retrying.
	batch    *catFile
	batchErr error
	buf      []byte // the last chunk read through batch, reused
}

// blobOpener is the part of an ObjectReader that chunkReader uses.
type blobOpener interface {
	OpenBlob(ctx context.Context, h Hash) (io.ReadCloser, int64, error)
}

func newChunkReader(ctx context.Context, repo blobOpener, cl chunkList) *chunkReader {
	return &chunkReader{ctx: ctx, repo: repo, chunks: cl.chunks, bases: cl.bases}
}

// open returns a reader of chunk c.
func (c *chunkReader) open(ch chunkRef) (io.ReadCloser, error) {
	if !ch.Delta {
		if data, ok := c.readBatch(ch.Hash); ok {
			return io.NopCloser(bytes.NewReader(data)), nil
		}
		rc, _, err := c.repo.OpenBlob(c.ctx, ch.Hash)
		return rc, err
	}
	d, err := readDeltaBlob(c.ctx, c.repo, ch.Hash)
	if err != nil {
		return nil, err
	}
	if c.cache == nil {
		c.cache = newBaseCache(c.repo, deltaWindowBack+deltaWindowFwd+2)
	}
	data, err := c.cache.rebuild(c.ctx, d, c.bases)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// readBatch reads a whole chunk through git cat-file --batch, reusing
// c.buf (the previous chunk is done with by then). It reports false when
// git cannot give it (no batch process, or git lacks the object): the
// caller then reads it through go-git, which also words any error.
func (c *chunkReader) readBatch(h Hash) ([]byte, bool) {
	if c.batchErr != nil {
		return nil, false
	}
	if c.batch == nil {
		bo, ok := c.repo.(batchOpener)
		if !ok {
			c.batchErr = errors.New("no batch reader")
			return nil, false
		}
		if c.batch, c.batchErr = bo.openCatFile(c.ctx); c.batchErr != nil {
			return nil, false
		}
	}
	data, err := c.batch.readBlob(h, chunkMax, c.buf)
	if err != nil {
		return nil, false
	}
	c.buf = data
	return data, true
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for {
		if c.cur == nil {
			if len(c.chunks) == 0 {
				return 0, io.EOF
			}
			if err := c.ctx.Err(); err != nil {
				return 0, err
			}
			rc, err := c.open(c.chunks[0])
			if err != nil {
				return 0, fmt.Errorf("open chunk %s: %w", c.chunks[0].Name, err)
			}
			c.cur, c.chunks = rc, c.chunks[1:]
		}
		n, err := c.cur.Read(p)
		if err == io.EOF {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (c *chunkReader) Close() error {
	if c.batch != nil {
		_ = c.batch.Close()
		c.batch, c.batchErr = nil, errors.New("closed")
	}
	if c.cur != nil {
		err := c.cur.Close()
		c.cur = nil
		return err
	}
	return nil
}

// verifyingReader checks size and sha256 while streaming; a mismatch is
// returned instead of io.EOF.
type verifyingReader struct {
	rc   io.ReadCloser
	want Artifact
	sum  hash.Hash
	n    int64
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.n += int64(n)
	v.sum.Write(p[:n])
	if v.n > v.want.Size {
		return 0, fmt.Errorf("%w: %s is larger than the recorded %d bytes", ErrIntegrity, v.want.Path, v.want.Size)
	}
	if err == io.EOF {
		if v.n != v.want.Size {
			return n, fmt.Errorf("%w: %s has %d bytes, manifest says %d", ErrIntegrity, v.want.Path, v.n, v.want.Size)
		}
		if got := hexSum(v.sum); got != v.want.SHA256 {
			return n, fmt.Errorf("%w: %s sha256 %s, manifest says %s", ErrIntegrity, v.want.Path, got[:12], v.want.SHA256[:12])
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// readManifest loads and checks snap.json from a snapshot commit.
func readManifest(ctx context.Context, repo Repo, commit Hash) (*Manifest, *snapshotTree, error) {
	c, err := repo.ReadCommit(ctx, commit)
	if err != nil {
		return nil, nil, fmt.Errorf("read snapshot commit %s: %w", commit.String()[:12], err)
	}
	t := newSnapshotTree(repo, c.Tree)
	e, err := t.lookup(ctx, "snap.json")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: snapshot %s has no snap.json", ErrInvalidFormat, commit.String()[:12])
	}
	rc, _, err := repo.OpenBlob(ctx, e.Hash)
	if err != nil {
		return nil, nil, fmt.Errorf("read snap.json: %w", err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, 64<<20)); err != nil {
		return nil, nil, fmt.Errorf("read snap.json: %w", err)
	}
	m, err := decodeManifest(buf.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", commit.String()[:12], err)
	}
	return m, t, nil
}
