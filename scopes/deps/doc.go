// Package deps is the "dependencies" scope: dependency lockfiles
// ([dependencies] lockfiles, or auto-detected at the repository root and
// one directory down), optional vendor directories ([dependencies]
// vendor), and the optional install command ([dependencies] install) run
// with "sh -c" in the root after a restore that changed something.
//
// Files are captured and restored by paths.Scope. deps must not import
// other scopes, hooks or cmd.
package deps
