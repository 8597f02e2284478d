// Package hooks will hold all of git-snap's Git hook logic: installing and
// uninstalling the thin hook shims (`exec git snap hook pre-push "$@"`),
// honouring core.hooksPath, never overwriting a hook git-snap did not
// write, and the pre-push policy that refuses to push a commit without a
// validated snapshot ([hooks.pre_push] in .gitsnap.toml).
//
// This is a placeholder: the hook logic lands with the hooks issue. Until
// then the package is empty and `git snap hooks` / `git snap hook` do not
// exist.
//
// hooks may import gitsnap; it must not import cmd/git-snap or the scopes.
// Only cmd/git-snap imports hooks.
package hooks
