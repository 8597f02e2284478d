package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// maxSymrefDepth bounds symbolic ref chains, as git's resolve_ref does.
const maxSymrefDepth = 5

// packedRefsTimeout is how long a deletion waits for packed-refs.lock,
// git's core.packedRefsTimeout default.
const packedRefsTimeout = time.Second

// refFile is where a ref's loose file lives: per-worktree refs (HEAD and
// other pseudo refs, refs/worktree/, refs/bisect/, refs/rewritten/) in the
// git dir, all others in the common dir.
func (r *goGitRepo) refFile(name string) string {
	dir := r.commonDir
	if !strings.HasPrefix(name, "refs/") || strings.HasPrefix(name, "refs/worktree/") ||
		strings.HasPrefix(name, "refs/bisect/") || strings.HasPrefix(name, "refs/rewritten/") {
		dir = r.gitDir
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}

// looseRef is the content of a loose ref file.
type looseRef struct {
	exists bool
	hash   Hash
	target string // set for a symbolic ref ("ref: refs/heads/main")
}

func readLooseRef(path string) (looseRef, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || isDirErr(path, err) {
		return looseRef{}, nil
	}
	if err != nil {
		return looseRef{}, fmt.Errorf("read ref file %s: %w", path, err)
	}
	line := strings.TrimSpace(string(data))
	if target, ok := strings.CutPrefix(line, "ref:"); ok {
		return looseRef{exists: true, target: strings.TrimSpace(target)}, nil
	}
	h, err := ParseHash(line)
	if err != nil {
		return looseRef{}, fmt.Errorf("broken ref file %s: %w", path, err)
	}
	return looseRef{exists: true, hash: h}, nil
}

// isDirErr reports whether err comes from reading a directory.
func isDirErr(path string, err error) bool {
	if err == nil {
		return false
	}
	fi, serr := os.Stat(path)
	return serr == nil && fi.IsDir()
}

// Ref resolves a full ref name (loose, else packed), following symbolic
// refs. HEAD and other pseudo refs are read from the git dir. Returns an
// error wrapping ErrRefNotFound when the ref does not exist.
func (r *goGitRepo) Ref(ctx context.Context, name string) (Hash, error) {
	if err := ctx.Err(); err != nil {
		return ZeroHash, err
	}
	if err := checkReadRefName(name); err != nil {
		return ZeroHash, fmt.Errorf("read ref: %w", err)
	}
	h, err := r.resolveRef(name, nil)
	if err != nil {
		return ZeroHash, fmt.Errorf("read ref %s: %w", name, err)
	}
	return h, nil
}

// resolveRef follows symbolic refs; packed is read lazily when nil.
func (r *goGitRepo) resolveRef(name string, packed map[string]Hash) (Hash, error) {
	for range maxSymrefDepth {
		lr, err := readLooseRef(r.refFile(name))
		if err != nil {
			return ZeroHash, err
		}
		if lr.exists && lr.target == "" {
			return lr.hash, nil
		}
		if lr.exists {
			name = lr.target
			continue
		}
		if packed == nil {
			if packed, err = readPackedRefs(r.commonDir); err != nil {
				return ZeroHash, err
			}
		}
		if h, ok := packed[name]; ok {
			return h, nil
		}
		return ZeroHash, ErrRefNotFound
	}
	return ZeroHash, fmt.Errorf("symbolic ref chain too long at %s", name)
}

// Refs lists refs whose names start with prefix (loose refs win over
// packed ones), sorted by name. Symbolic refs are resolved; broken ref
// files and leftover .lock files are skipped, as git for-each-ref does.
func (r *goGitRepo) Refs(ctx context.Context, prefix string) ([]Ref, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	packed, err := readPackedRefs(r.commonDir)
	if err != nil {
		return nil, fmt.Errorf("list refs %s: %w", prefix, err)
	}
	found := map[string]Hash{}
	for name, h := range packed {
		if strings.HasPrefix(name, prefix) {
			found[name] = h
		}
	}
	// Walk only the deepest directory the prefix names.
	dir := "refs"
	if strings.HasPrefix(prefix, "refs/") {
		dir = strings.TrimSuffix(prefix[:strings.LastIndexByte(prefix, '/')+1], "/")
	}
	root := filepath.Join(r.commonDir, filepath.FromSlash(dir))
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".lock") {
			return nil
		}
		rel, err := filepath.Rel(r.commonDir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) || CheckRefName(name) != nil {
			return nil
		}
		if h, err := r.resolveRef(name, packed); err == nil {
			found[name] = h
		} else {
			delete(found, name) // broken or dangling: git skips it too
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list refs %s: %w", prefix, err)
	}
	refs := make([]Ref, 0, len(found))
	for name, h := range found {
		refs = append(refs, Ref{Name: name, Hash: h})
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
	return refs, nil
}

// UpdateRef sets name to newHash if it currently points at oldHash
// (ZeroHash: must not exist), with git's lock protocol: create
// "<ref>.lock" exclusively, compare the current value (loose, else packed),
// write and fsync the new value, rename it over the ref. A held lock or a
// different current value yields an error wrapping ErrRefChanged. go-git's
// CheckAndSetReference is not used: git ignores its flock, and a rejected
// update leaves an empty ref file behind (go-git#2399). No reflog is
// written.
func (r *goGitRepo) UpdateRef(ctx context.Context, name string, oldHash, newHash Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckRefName(name); err != nil {
		return fmt.Errorf("update ref: %w", err)
	}
	if newHash.IsZero() {
		return fmt.Errorf("update ref %s: zero new value (use DeleteRef)", name)
	}
	path := r.refFile(name)
	lock, err := acquireLock(path)
	if err != nil {
		return fmt.Errorf("update ref %s: %w", name, err)
	}
	defer lock.rollback()
	cur, packed, err := r.currentRef(name, path)
	if err != nil {
		return fmt.Errorf("update ref %s: %w", name, err)
	}
	if cur != oldHash {
		return fmt.Errorf("update ref %s: %w: it is at %s, expected %s", name, ErrRefChanged, cur, oldHash)
	}
	if cur.IsZero() {
		for other := range packed {
			if strings.HasPrefix(other, name+"/") || strings.HasPrefix(name, other+"/") {
				return fmt.Errorf("update ref %s: conflicts with existing ref %s", name, other)
			}
		}
	}
	if err := lock.commit([]byte(newHash.String() + "\n")); err != nil {
		return fmt.Errorf("update ref %s: %w", name, err)
	}
	return nil
}

// currentRef reads the value a locked ref has now: its loose file, else
// its packed-refs line, else ZeroHash. It also returns the packed refs.
func (r *goGitRepo) currentRef(name, path string) (Hash, map[string]Hash, error) {
	lr, err := readLooseRef(path)
	if err != nil {
		return ZeroHash, nil, err
	}
	if lr.exists && lr.target != "" {
		return ZeroHash, nil, fmt.Errorf("is a symbolic ref to %s", lr.target)
	}
	packed, err := readPackedRefs(r.commonDir)
	if err != nil {
		return ZeroHash, nil, err
	}
	if lr.exists {
		return lr.hash, packed, nil
	}
	return packed[name], packed, nil
}

// DeleteRef removes name if it points at oldHash, from packed-refs (under
// packed-refs.lock) and then its loose file, holding "<ref>.lock"
// throughout. Deleting a missing ref with ZeroHash is a no-op.
func (r *goGitRepo) DeleteRef(ctx context.Context, name string, oldHash Hash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckRefName(name); err != nil {
		return fmt.Errorf("delete ref: %w", err)
	}
	path := r.refFile(name)
	lock, err := acquireLock(path)
	if err != nil {
		return fmt.Errorf("delete ref %s: %w", name, err)
	}
	defer lock.rollback()
	cur, packed, err := r.currentRef(name, path)
	if err != nil {
		return fmt.Errorf("delete ref %s: %w", name, err)
	}
	if cur != oldHash {
		return fmt.Errorf("delete ref %s: %w: it is at %s, expected %s", name, ErrRefChanged, cur, oldHash)
	}
	if cur.IsZero() {
		return nil
	}
	if _, ok := packed[name]; ok {
		if err := removePackedRef(ctx, r.commonDir, name); err != nil {
			return fmt.Errorf("delete ref %s: %w", name, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete ref %s: %w", name, err)
	}
	_ = os.Remove(filepath.Join(r.commonDir, "logs", filepath.FromSlash(name)))
	lock.rollback()
	pruneEmptyRefDirs(r.commonDir, name)
	return nil
}

// pruneEmptyRefDirs removes directories the deleted ref leaves empty, but
// never refs/ or its first level (refs/heads, refs/snapshots...).
func pruneEmptyRefDirs(commonDir, name string) {
	for dir := filepath.Dir(filepath.FromSlash(name)); strings.Count(dir, string(filepath.Separator)) >= 2; dir = filepath.Dir(dir) {
		if os.Remove(filepath.Join(commonDir, dir)) != nil {
			return // not empty (or already gone)
		}
	}
}
