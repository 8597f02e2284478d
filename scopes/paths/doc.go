// Package paths is the shared implementation of path-pattern scopes
// (config, dependencies, files): a list of doublestar glob patterns
// relative to the worktree root selects files, untracked and git-ignored
// ones included, that are captured with their modes, planned against the
// live tree and restored atomically.
//
// Pattern semantics: patterns use github.com/bmatcuk/doublestar/v4 syntax
// with "/" as separator and are anchored at the root ("*.pem" matches
// "key.pem" but not "certs/key.pem"; write "**/*.pem" for that). A pattern
// that matches a directory covers everything below it, so "uploads" and
// "uploads/**" are the same. A trailing slash is allowed ("uploads/").
// ".git" is never captured, restored or removed.
//
// paths imports only gitsnap and doublestar; it must not import other
// scopes, hooks or cmd.
package paths
