package gitsnap

// TEMPORARY: errTODO is still used by stub_worktree_tmp.go (worktree helper).

import "errors"

var errTODO = errors.New("not implemented yet")
