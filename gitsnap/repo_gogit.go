package gitsnap

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/storage/filesystem"
)

// goGitRepo implements Repo with go-git's storage layer. We never build a
// *git.Repository: git.Open and PlainOpen refuse repositories that use
// extensions.worktreeConfig or partialClone (go-git v5.17+), which stock git
// handles fine, and we only need the object storer. References and config
// are read and written by this package directly (repo_gogit_refs.go,
// repo_gogit_config.go), following git's file formats and lock protocol.
//
// go-git storage is not safe for concurrent use (its pack index map, open
// packfile cache and delta base cache are unguarded), so every call into it
// takes mu — the same "big fat mutex" git-bug puts around its GoGitRepo.
// Work that does not touch go-git (hashing, compressing, ref files) runs
// outside mu so that concurrent writers use every core.
type goGitRepo struct {
	mu        sync.Mutex
	storage   *filesystem.Storage // objects in the common dir
	root      string              // absolute worktree root ("" for a bare repo)
	gitDir    string              // per-worktree git dir (HEAD, index)
	commonDir string              // objects, refs, config (== gitDir except in linked worktrees)
	env       envFunc             // environment lookups (GIT_CONFIG_*, HOME)

	// hasAlternates: objects/info/alternates exists; go-git's existence
	// check ignores alternates, so HasObject falls back to a full lookup.
	hasAlternates bool
	// packStamp is the objects/pack directory's modification time when
	// go-git's pack index was last (re)loaded; guarded by mu.
	packStamp time.Time
	// packsWritten counts the packs this process installed
	// (repo_gogit_maintain.go).
	packsWritten atomic.Int64
}

var _ Repo = (*goGitRepo)(nil)

// GitDir returns the per-worktree git dir.
func (r *goGitRepo) GitDir() string { return r.gitDir }

// CommonDir returns the dir holding objects, refs and config.
func (r *goGitRepo) CommonDir() string { return r.commonDir }
