// Package hooks holds all of git-snap's Git hook logic.
//
// Installing: Install writes thin shims (`exec git snap hook pre-push "$@"`)
// into the directory git runs hooks from — core.hooksPath when set, else the
// common dir's hooks/, which linked worktrees share — as reported by
// `git rev-parse --git-path hooks`. It upgrades only shims it recognises
// (every version git-snap ever wrote), never overwrites a hook it did not
// write unless forced (the old hook is kept as <name>.git-snap-backup), and
// Uninstall removes only its own shims.
//
// Checking: PrePush applies the [hooks.pre_push] policy of .gitsnap.toml to
// the ref lines git gives a pre-push hook on stdin: a pushed branch or tag
// is refused unless its commit has a snapshot that passed validation (or is
// known-good). It runs on every push, so it finds snapshots by source commit
// without reading every manifest (gitsnap.Snap.SnapshotsOf).
//
// hooks imports gitsnap; it must not import cmd/git-snap or the scopes. Only
// cmd/git-snap imports hooks.
package hooks
