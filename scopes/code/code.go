package code

import (
	"context"
	"errors"
	"fmt"

	"github.com/git-snap/git-snap/gitsnap"
)

// Name is the scope's name in .gitsnap.toml and manifests.
const Name = "code"

// Scope is the code scope. It keeps no state.
type Scope struct{}

var _ gitsnap.Scope = (*Scope)(nil)

// New returns the code scope.
func New() *Scope { return &Scope{} }

// Name implements gitsnap.Scope.
func (*Scope) Name() string { return Name }

// commitReader is what the code scope needs to tell a dirty worktree from
// a clean one. gitsnap.Worktree does not include it, but the go-git
// repository (which implements both) does.
type commitReader interface {
	ReadCommit(ctx context.Context, h gitsnap.Hash) (*gitsnap.Commit, error)
}

// refReader lets the code scope check where a branch points; the go-git
// repository implements it.
type refReader interface {
	Ref(ctx context.Context, name string) (gitsnap.Hash, error)
}

// emptyTree is the Git object name of the empty tree.
func emptyTree() gitsnap.Hash { return gitsnap.HashObject(gitsnap.ObjectTree, nil) }

func worktree(env *gitsnap.ScopeEnv) (gitsnap.Worktree, error) {
	if env.Worktree == nil {
		return nil, errors.New("no git worktree to capture or restore")
	}
	return env.Worktree, nil
}

// Capture implements gitsnap.Scope: it writes the worktree tree through
// w.Objects() and records HEAD, the branch and whether the worktree
// differed from HEAD's tree.
func (s *Scope) Capture(ctx context.Context, env *gitsnap.ScopeEnv, w gitsnap.ArtifactWriter) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("capture code: %w", err)
	}
	wt, err := worktree(env)
	if err != nil {
		return fmt.Errorf("capture code: %w", err)
	}
	head, err := wt.Head(ctx)
	if err != nil {
		return fmt.Errorf("capture code: read HEAD: %w", err)
	}
	tree, err := wt.CaptureWorktree(ctx, w.Objects())
	if err != nil {
		return fmt.Errorf("capture code: %w", err)
	}
	dirty, err := isDirty(ctx, wt, head.Commit, tree)
	if err != nil {
		return fmt.Errorf("capture code: %w", err)
	}
	cs := gitsnap.CodeState{Commit: head.Commit, Tree: tree, Branch: head.Branch, Dirty: dirty}
	if err := w.PutCode(ctx, cs); err != nil {
		return fmt.Errorf("capture code: %w", err)
	}
	return nil
}

// isDirty reports whether tree differs from commit's tree. On an unborn
// branch anything but the empty tree is dirty. When the worktree cannot
// read commits the answer is "dirty", the safe side: a clean worktree
// reported dirty costs a warning, the reverse could lose work.
func isDirty(ctx context.Context, wt gitsnap.Worktree, commit, tree gitsnap.Hash) (bool, error) {
	if commit.IsZero() {
		return tree != emptyTree(), nil
	}
	cr, ok := wt.(commitReader)
	if !ok {
		return true, nil
	}
	c, err := cr.ReadCommit(ctx, commit)
	if err != nil {
		return false, fmt.Errorf("read HEAD commit %s: %w", commit, err)
	}
	return c.Tree != tree, nil
}

// snapshotCode returns the recorded code state or an error saying there is none.
func snapshotCode(r gitsnap.ArtifactReader) (gitsnap.CodeState, error) {
	cs, ok := r.Code()
	if !ok {
		return cs, fmt.Errorf("%w: the snapshot has no code state", gitsnap.ErrInvalidFormat)
	}
	if cs.Tree.IsZero() {
		return cs, fmt.Errorf("%w: the snapshot's code state has no tree", gitsnap.ErrInvalidFormat)
	}
	return cs, nil
}

// Restore implements gitsnap.Scope: the worktree is made equal to the
// captured tree and the index to the captured commit; HEAD moves (and is
// detached) only when the captured commit differs from the current one.
// Ignored files are not touched.
func (s *Scope) Restore(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restore code: %w", err)
	}
	cs, err := snapshotCode(r)
	if err != nil {
		return fmt.Errorf("restore code: %w", err)
	}
	wt, err := worktree(env)
	if err != nil {
		return fmt.Errorf("restore code: %w", err)
	}
	head, err := wt.Head(ctx)
	if err != nil {
		return fmt.Errorf("restore code: read HEAD: %w", err)
	}
	opts := gitsnap.WorktreeRestore{
		Tree:     cs.Tree,
		Commit:   cs.Commit,
		MoveHead: !cs.Commit.IsZero() && cs.Commit != head.Commit,
	}
	// Put HEAD back on the recorded branch when that branch still points at
	// the recorded commit (undoing a restore re-attaches HEAD); otherwise
	// detach, never moving a branch the user has since advanced.
	if rr, ok := wt.(refReader); ok && cs.Branch != "" && !cs.Commit.IsZero() && head.Branch != cs.Branch {
		if h, err := rr.Ref(ctx, cs.Branch); err == nil && h == cs.Commit {
			opts.MoveHead, opts.Branch = true, cs.Branch
		}
	}
	if err := wt.RestoreWorktree(ctx, opts); err != nil {
		return fmt.Errorf("restore code: %w", err)
	}
	return nil
}
