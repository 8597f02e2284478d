// Package config is the "config" scope: the files that [config] paths in
// .gitsnap.toml select ("config/**", ".env"), tracked or not, ignored or
// not, with their modes. It is a paths.Scope; it must not import other
// scopes, hooks or cmd.
package config

import (
	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/paths"
)

// Name is the scope's name in .gitsnap.toml and manifests.
const Name = "config"

// New returns the config scope.
func New() *paths.Scope {
	return paths.New(Name, func(cfg *gitsnap.Config) []string { return cfg.Config.Paths })
}
