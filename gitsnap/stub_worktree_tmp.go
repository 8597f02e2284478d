package gitsnap

// TEMPORARY stubs, owned by the worktree helper: delete each as it is implemented.

import "context"

func (r *goGitRepo) RestoreWorktree(ctx context.Context, opts WorktreeRestore) error { return errTODO }
