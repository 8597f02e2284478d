package gitsnap

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// Hash is a Git object name (SHA-1). The zero value means "no object".
type Hash [20]byte

// ZeroHash is the all-zero hash: "does not exist" in ref updates.
var ZeroHash Hash

// String returns the 40-character hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is ZeroHash.
func (h Hash) IsZero() bool { return h == ZeroHash }

// ParseHash parses a full 40-character hex object name.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 40 {
		return h, fmt.Errorf("parse object name %q: want 40 hex digits", s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("parse object name %q: %w", s, err)
	}
	return h, nil
}

// Git tree entry modes.
const (
	ModeFile       uint32 = 0o100644
	ModeExecutable uint32 = 0o100755
	ModeSymlink    uint32 = 0o120000
	ModeDir        uint32 = 0o040000
	ModeSubmodule  uint32 = 0o160000
)

// TreeEntry is one entry of a Git tree.
type TreeEntry struct {
	Name string // one path element, no slash
	Mode uint32 // one of the Mode* constants
	Hash Hash
}

// Signature is a commit author or committer.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Commit is a Git commit object.
type Commit struct {
	Tree      Hash
	Parents   []Hash
	Author    Signature
	Committer Signature
	Message   string
}

// Ref is a reference name and the object it points at.
type Ref struct {
	Name string
	Hash Hash
}

// ObjectReader reads objects. Implementations are safe for concurrent use.
type ObjectReader interface {
	// HasObject reports whether the object exists (loose or packed).
	HasObject(ctx context.Context, h Hash) (bool, error)
	// OpenBlob streams a blob and returns its size. Returns ErrObjectNotFound
	// if it is missing. The caller closes the reader.
	OpenBlob(ctx context.Context, h Hash) (io.ReadCloser, int64, error)
	// ReadTree returns a tree's entries in Git order. ErrObjectNotFound if missing.
	ReadTree(ctx context.Context, h Hash) ([]TreeEntry, error)
	// ReadCommit returns a commit. ErrObjectNotFound if missing.
	ReadCommit(ctx context.Context, h Hash) (*Commit, error)
}

// ObjectWriter writes a batch of objects. Objects become visible to readers
// and to git only after Flush; a process killed before then leaves at most
// unreachable data. An ObjectWriter is safe for concurrent use, so callers
// may write blobs from several goroutines (create uses every core).
type ObjectWriter interface {
	// WriteBlob stores data as a blob and returns its hash. An object that
	// already exists is not written again.
	WriteBlob(ctx context.Context, data []byte) (Hash, error)
	// WriteBlobFrom stores exactly size bytes from r as one blob without
	// holding them in memory. It fails if r yields a different length.
	WriteBlobFrom(ctx context.Context, r io.Reader, size int64) (Hash, error)
	// WriteTree stores a tree; entries are sorted into Git order here.
	WriteTree(ctx context.Context, entries []TreeEntry) (Hash, error)
	// WriteCommit stores a commit.
	WriteCommit(ctx context.Context, c *Commit) (Hash, error)
	// Flush makes every object written so far durable and readable. Call it
	// before any ref points at the objects. The writer stays usable.
	Flush(ctx context.Context) error
	// Abort discards objects not yet flushed. Safe to call after Flush.
	Abort() error
}

// ObjectStore reads objects and opens writers.
type ObjectStore interface {
	ObjectReader
	// NewObjectWriter opens a batch writer (a packfile for on-disk repos).
	NewObjectWriter(ctx context.Context) (ObjectWriter, error)
}

// RefStore reads and updates references. Updates follow git's own lock
// protocol (<ref>.lock created with O_EXCL, compare, write, rename), so they
// are atomic against both git and other git-snap processes.
type RefStore interface {
	// Ref resolves a full ref name (loose or packed). Returns ErrRefNotFound.
	Ref(ctx context.Context, name string) (Hash, error)
	// Refs lists refs whose names start with prefix, sorted by name.
	Refs(ctx context.Context, prefix string) ([]Ref, error)
	// UpdateRef sets name to newHash if it currently points at oldHash
	// (ZeroHash: the ref must not exist yet). Returns ErrRefChanged when the
	// ref moved or its lock is held.
	UpdateRef(ctx context.Context, name string, oldHash, newHash Hash) error
	// DeleteRef removes name if it points at oldHash (ErrRefChanged
	// otherwise). Deleting a missing ref with ZeroHash is a no-op.
	DeleteRef(ctx context.Context, name string, oldHash Hash) error
}

// Head describes what HEAD points at.
type Head struct {
	Commit Hash   // ZeroHash on an unborn branch
	Branch string // "refs/heads/main", or "" when detached
}

// ConfigReader reads git configuration (repository, global, system).
type ConfigReader interface {
	// ConfigValue returns the last value of a "section.key" or
	// "section.subsection.key" variable and whether it is set.
	ConfigValue(key string) (string, bool)
}

// Worktree is the checked-out working tree; only the code scope and restore
// use it.
type Worktree interface {
	// Root is the absolute path of the working tree.
	Root() string
	// Head reads HEAD.
	Head(ctx context.Context) (Head, error)
	// CaptureWorktree writes the worktree as Git would with "add -A":
	// tracked files plus untracked files that are not ignored. The index is
	// used as a stat cache. Submodules are recorded as gitlinks.
	CaptureWorktree(ctx context.Context, w ObjectWriter) (tree Hash, err error)
	// RestoreWorktree makes the tracked + untracked-not-ignored part of the
	// worktree equal to tree: files are written atomically, files the tree
	// lacks are removed, ignored files are left alone. Then the index is
	// reset to commit's tree (like "git reset --mixed") and, if moveHead,
	// HEAD is detached at commit (or, with branch != "", that branch is
	// moved to commit and checked out).
	RestoreWorktree(ctx context.Context, opts WorktreeRestore) error
	// IsIgnored reports whether a slash-separated path relative to Root is
	// ignored by .gitignore, .git/info/exclude or core.excludesFile.
	IsIgnored(path string, isDir bool) bool
}

// WorktreeRestore says what RestoreWorktree should produce.
type WorktreeRestore struct {
	Tree     Hash // the worktree content wanted
	Commit   Hash // the commit the index (and HEAD) should match
	MoveHead bool // move HEAD to Commit
	Branch   string
}

// Repo is the one seam between git-snap and Git. repo_gogit.go implements it
// with go-git; gitsnaptest has an in-memory one.
type Repo interface {
	ObjectStore
	RefStore
	ConfigReader
	Worktree
	// GitDir is the repository's git dir (per worktree); CommonDir holds
	// objects and refs shared by linked worktrees. Empty for memory repos.
	GitDir() string
	CommonDir() string
}
