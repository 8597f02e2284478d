package gitsnap

// TEMPORARY stubs, owned by the worktree helper: delete each as it is implemented.

import "context"

func (r *goGitRepo) Root() string                           { return r.root }
func (r *goGitRepo) Head(ctx context.Context) (Head, error) { return Head{}, errTODO }
func (r *goGitRepo) CaptureWorktree(ctx context.Context, w ObjectWriter) (Hash, error) {
	return ZeroHash, errTODO
}
func (r *goGitRepo) RestoreWorktree(ctx context.Context, opts WorktreeRestore) error { return errTODO }
func (r *goGitRepo) IsIgnored(path string, isDir bool) bool                          { return false }
