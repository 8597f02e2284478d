package gitsnaptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// errNoWorktree is returned by the worktree methods of the memory repo.
var errNoWorktree = errors.New("the in-memory test repository has no worktree")

// MemRepo is an in-memory gitsnap.Repo backed by go-git's memory storage.
// It follows the same contracts as the on-disk repository: objects written
// through an ObjectWriter become visible on Flush, ref updates are
// compare-and-swap (under a mutex instead of lock files). Its worktree
// methods cannot capture or restore anything.
type MemRepo struct {
	mu      sync.Mutex // guards storage (go-git is not safe for concurrent use) and config
	storage *memory.Storage
	config  map[string]string
	root    string
}

var _ gitsnap.Repo = (*MemRepo)(nil)

// NewRepo returns an empty in-memory repository whose HEAD is the unborn
// branch refs/heads/main.
func NewRepo(t testing.TB) gitsnap.Repo {
	t.Helper()
	return NewMemRepo(t)
}

// NewMemRepo is NewRepo with the concrete type, for SetConfig.
func NewMemRepo(t testing.TB) *MemRepo {
	t.Helper()
	s := memory.NewStorage()
	head := plumbing.NewSymbolicReference(plumbing.HEAD, "refs/heads/main")
	if err := s.SetReference(head); err != nil {
		t.Fatalf("memory repo: set HEAD: %v", err)
	}
	return &MemRepo{storage: s, config: map[string]string{}, root: t.TempDir()}
}

// SetConfig sets a configuration value ("section.key" or
// "section.subsection.key") that ConfigValue returns.
func (m *MemRepo) SetConfig(key, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.config[normalizeConfigKey(key)] = value
}

// ConfigValue returns a value set with SetConfig.
func (m *MemRepo) ConfigValue(key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.config[normalizeConfigKey(key)]
	return v, ok
}

// normalizeConfigKey lower-cases the section and key, keeping the
// subsection's case, as git does.
func normalizeConfigKey(key string) string {
	first, last := strings.IndexByte(key, '.'), strings.LastIndexByte(key, '.')
	if first < 0 {
		return strings.ToLower(key)
	}
	return strings.ToLower(key[:first]) + key[first:last] + strings.ToLower(key[last:])
}

// GitDir is empty: the memory repo has no directory.
func (m *MemRepo) GitDir() string { return "" }

// CommonDir is empty: the memory repo has no directory.
func (m *MemRepo) CommonDir() string { return "" }

// HasObject reports whether a flushed object exists.
func (m *MemRepo) HasObject(ctx context.Context, h gitsnap.Hash) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.storage.HasEncodedObject(plumbing.Hash(h)) == nil, nil
}

// readObject returns an object's content, checking its type.
func (m *MemRepo) readObject(ctx context.Context, h gitsnap.Hash, typ plumbing.ObjectType) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	obj, err := m.storage.EncodedObject(plumbing.AnyObject, plumbing.Hash(h))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("read %s %s: %w", typ, h, gitsnap.ErrObjectNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	if obj.Type() != typ {
		return nil, fmt.Errorf("read object %s: is a %s, not a %s", h, obj.Type(), typ)
	}
	rc, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", typ, h, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// OpenBlob returns a blob's content.
func (m *MemRepo) OpenBlob(ctx context.Context, h gitsnap.Hash) (io.ReadCloser, int64, error) {
	data, err := m.readObject(ctx, h, plumbing.BlobObject)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
}

// ReadTree returns a tree's entries in Git order.
func (m *MemRepo) ReadTree(ctx context.Context, h gitsnap.Hash) ([]gitsnap.TreeEntry, error) {
	data, err := m.readObject(ctx, h, plumbing.TreeObject)
	if err != nil {
		return nil, err
	}
	return gitsnap.DecodeTree(data)
}

// ReadCommit returns a commit.
func (m *MemRepo) ReadCommit(ctx context.Context, h gitsnap.Hash) (*gitsnap.Commit, error) {
	data, err := m.readObject(ctx, h, plumbing.CommitObject)
	if err != nil {
		return nil, err
	}
	return gitsnap.DecodeCommit(data)
}

// Ref resolves a ref, following symbolic refs. ErrRefNotFound if missing.
func (m *MemRepo) Ref(ctx context.Context, name string) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ref, err := m.storage.Reference(plumbing.ReferenceName(name))
	for i := 0; err == nil && ref.Type() == plumbing.SymbolicReference && i < 5; i++ {
		ref, err = m.storage.Reference(ref.Target())
	}
	if err != nil || ref.Type() != plumbing.HashReference {
		return gitsnap.ZeroHash, fmt.Errorf("read ref %s: %w", name, gitsnap.ErrRefNotFound)
	}
	return gitsnap.Hash(ref.Hash()), nil
}

// Refs lists hash refs whose names start with prefix, sorted by name.
func (m *MemRepo) Refs(ctx context.Context, prefix string) ([]gitsnap.Ref, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	iter, err := m.storage.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("list refs %s: %w", prefix, err)
	}
	var refs []gitsnap.Ref
	err = iter.ForEach(func(r *plumbing.Reference) error {
		if r.Type() == plumbing.HashReference && strings.HasPrefix(r.Name().String(), prefix) {
			refs = append(refs, gitsnap.Ref{Name: r.Name().String(), Hash: gitsnap.Hash(r.Hash())})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list refs %s: %w", prefix, err)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
	return refs, nil
}

// current returns a ref's value, ZeroHash when missing. m.mu must be held.
func (m *MemRepo) current(name string) gitsnap.Hash {
	ref, err := m.storage.Reference(plumbing.ReferenceName(name))
	if err != nil || ref.Type() != plumbing.HashReference {
		return gitsnap.ZeroHash
	}
	return gitsnap.Hash(ref.Hash())
}

// UpdateRef is a compare-and-swap under the repository mutex.
func (m *MemRepo) UpdateRef(ctx context.Context, name string, oldHash, newHash gitsnap.Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := gitsnap.CheckRefName(name); err != nil {
		return fmt.Errorf("update ref: %w", err)
	}
	if newHash.IsZero() {
		return fmt.Errorf("update ref %s: zero new value (use DeleteRef)", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.current(name); cur != oldHash {
		return fmt.Errorf("update ref %s: %w: it is at %s, expected %s", name, gitsnap.ErrRefChanged, cur, oldHash)
	}
	if err := m.checkDirConflict(name); err != nil {
		return err
	}
	ref := plumbing.NewHashReference(plumbing.ReferenceName(name), plumbing.Hash(newHash))
	if err := m.storage.SetReference(ref); err != nil {
		return fmt.Errorf("update ref %s: %w", name, err)
	}
	return nil
}

// checkDirConflict rejects refs/a when refs/a/b exists and the reverse, as
// the files backend must. m.mu must be held.
func (m *MemRepo) checkDirConflict(name string) error {
	iter, err := m.storage.IterReferences()
	if err != nil {
		return fmt.Errorf("update ref %s: %w", name, err)
	}
	return iter.ForEach(func(r *plumbing.Reference) error {
		other := r.Name().String()
		if strings.HasPrefix(other, name+"/") || strings.HasPrefix(name, other+"/") {
			return fmt.Errorf("update ref %s: conflicts with existing ref %s", name, other)
		}
		return nil
	})
}

// DeleteRef removes name if it points at oldHash; a missing ref with
// ZeroHash is a no-op.
func (m *MemRepo) DeleteRef(ctx context.Context, name string, oldHash gitsnap.Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := gitsnap.CheckRefName(name); err != nil {
		return fmt.Errorf("delete ref: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.current(name)
	if cur != oldHash {
		return fmt.Errorf("delete ref %s: %w: it is at %s, expected %s", name, gitsnap.ErrRefChanged, cur, oldHash)
	}
	if cur.IsZero() {
		return nil
	}
	if err := m.storage.RemoveReference(plumbing.ReferenceName(name)); err != nil {
		return fmt.Errorf("delete ref %s: %w", name, err)
	}
	return nil
}

// Root is a per-test temporary directory (empty: nothing is checked out).
func (m *MemRepo) Root() string { return m.root }

// Head reads HEAD: the branch it names and that branch's commit (ZeroHash
// while unborn), or the detached commit.
func (m *MemRepo) Head(ctx context.Context) (gitsnap.Head, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.Head{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ref, err := m.storage.Reference(plumbing.HEAD)
	if err != nil {
		return gitsnap.Head{}, fmt.Errorf("read HEAD: %w", err)
	}
	if ref.Type() == plumbing.HashReference {
		return gitsnap.Head{Commit: gitsnap.Hash(ref.Hash())}, nil
	}
	branch := ref.Target().String()
	return gitsnap.Head{Commit: m.current(branch), Branch: branch}, nil
}

// SetHead points HEAD at a branch ("refs/heads/x") or, with branch == "",
// detaches it at commit.
func (m *MemRepo) SetHead(branch string, commit gitsnap.Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ref := plumbing.NewHashReference(plumbing.HEAD, plumbing.Hash(commit))
	if branch != "" {
		ref = plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.ReferenceName(branch))
	}
	return m.storage.SetReference(ref)
}

// CaptureWorktree fails: the memory repo has no worktree.
func (m *MemRepo) CaptureWorktree(context.Context, gitsnap.ObjectWriter) (gitsnap.Hash, error) {
	return gitsnap.ZeroHash, fmt.Errorf("capture worktree: %w", errNoWorktree)
}

// RestoreWorktree fails: the memory repo has no worktree.
func (m *MemRepo) RestoreWorktree(context.Context, gitsnap.WorktreeRestore) error {
	return fmt.Errorf("restore worktree: %w", errNoWorktree)
}

// IsIgnored is always false.
func (m *MemRepo) IsIgnored(string, bool) bool { return false }
