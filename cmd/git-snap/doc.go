// Command git-snap is the `git snap` extension: known-good snapshots of a
// whole working system (code, config such as an untracked .env, dependency
// lockfiles, uploaded files) stored as ordinary Git objects under
// refs/snapshots/*, with validation results and history in refs/notes/snap.
// Installed on PATH as git-snap, it runs as `git snap <command>`.
//
// This package is the command layer and nothing else: it parses flags into
// gitsnap option structs, calls one gitsnap operation, renders the result
// (text, or JSON with --json: jsonout.go, docs/json.md) and maps errors to
// the documented exit codes (exit.go, docs/exit-codes.md). One file per
// command (init.go, create.go, list.go, show.go, tag.go, restore.go); each
// command's Description ends with its EXIT STATUS block, and
// docs/git-snap-<command>.md is its reference page.
//
// main only calls run, which never calls os.Exit, so tests and the
// testscript suite (testdata/script) drive the real command line in
// process. Progress goes to stderr only when it is a terminal.
//
// cmd/git-snap may import gitsnap, scopes and hooks; nothing imports it.
package main
