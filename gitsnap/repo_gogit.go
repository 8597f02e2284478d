package gitsnap

import (
	"sync"

	"github.com/go-git/go-git/v5/storage/filesystem"
)

// goGitRepo implements Repo with go-git's storage layer. We never build a
// *git.Repository: git.Open and PlainOpen refuse repositories that use
// extensions.worktreeConfig or partialClone (go-git v5.17+), which stock git
// handles fine, and we only need the object and reference storers.
//
// go-git storage is not safe for concurrent use (its pack index and object
// cache are unguarded), so every call into it takes mu — the same "big fat
// mutex" git-bug puts around its GoGitRepo.
type goGitRepo struct {
	mu        sync.Mutex
	storage   *filesystem.Storage // objects, refs and config in the common dir
	root      string              // absolute worktree root
	gitDir    string              // per-worktree git dir (HEAD, index)
	commonDir string              // objects, refs, config (== gitDir except in linked worktrees)
}

var _ Repo = (*goGitRepo)(nil)
