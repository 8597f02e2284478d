// Package code is the "code" scope: the HEAD commit and the worktree as
// "git add -A" would record it (tracked plus untracked-not-ignored files),
// captured through gitsnap.Worktree and restored by checking the commit
// out and writing the captured tree. Ignored files are left to the path
// scopes (config, files).
//
// code imports only gitsnap; it must not import other scopes, hooks or cmd.
package code
