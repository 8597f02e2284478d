package scopes

import (
	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/code"
	"github.com/git-snap/git-snap/scopes/config"
	"github.com/git-snap/git-snap/scopes/database"
	"github.com/git-snap/git-snap/scopes/deps"
	"github.com/git-snap/git-snap/scopes/files"
)

// Default returns a registry of the built-in scopes in capture order.
func Default() *gitsnap.Registry {
	return gitsnap.NewRegistry(builtin()...)
}

// builtin lists the built-in scopes in capture order. To add a scope
// (database), append its constructor here.
func builtin() []gitsnap.Scope {
	return []gitsnap.Scope{
		code.New(),
		config.New(),
		deps.New(),
		files.New(),
		database.New(),
	}
}
