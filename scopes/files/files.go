// Package files is the "files" scope: the union of the paths of every
// [[files]] entry in .gitsnap.toml (uploads, generated assets), captured
// and restored like config files. Entry names only label the config; the
// artifacts do not record them, so renaming an entry changes nothing in a
// snapshot. It must not import other scopes, hooks or cmd.
package files

import (
	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/paths"
)

// Name is the scope's name in .gitsnap.toml and manifests.
const Name = "files"

// New returns the files scope.
func New() *paths.Scope {
	return paths.New(Name, Patterns)
}

// Patterns returns the paths of every [[files]] entry, in config order.
func Patterns(cfg *gitsnap.Config) []string {
	var out []string
	for _, f := range cfg.Files {
		out = append(out, f.Paths...)
	}
	return out
}
