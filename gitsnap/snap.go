package gitsnap

import (
	"context"
	"os"
	"time"
)

// Version is the tool version recorded in manifests; cmd/git-snap sets it
// through Options.Version.
const defaultVersion = "dev"

// Options configure a Snap.
type Options struct {
	Repo     Repo
	Config   *Config   // nil: load ConfigFile from the worktree root
	Scopes   *Registry // the scopes create and restore may use
	Progress Progress  // nil: no progress
	Version  string    // tool version recorded in manifests
	// Now returns the current time; nil means time.Now. Tests fix it.
	Now func() time.Time
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Snap runs git-snap operations on one repository. It is safe for
// sequential use by one command; concurrent git-snap processes coordinate
// through compare-and-swap ref updates.
type Snap struct {
	repo     Repo
	cfg      *Config
	scopes   *Registry
	progress Progress
	version  string
	now      func() time.Time
	getenv   func(string) string
	damaged  []error // from the last catalog read
	unheld   string  // the hold token of a restore being rolled back (ScopeEnv.Unheld)
}

// New returns a Snap. It loads the config when o.Config is nil.
func New(o Options) (*Snap, error) {
	s := &Snap{
		repo:     o.Repo,
		cfg:      o.Config,
		scopes:   o.Scopes,
		progress: progressOrNoop(o.Progress),
		version:  o.Version,
		now:      o.Now,
		getenv:   o.Getenv,
	}
	if s.version == "" {
		s.version = defaultVersion
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.getenv == nil {
		s.getenv = os.Getenv
	}
	if s.scopes == nil {
		s.scopes = NewRegistry()
	}
	if s.cfg == nil {
		cfg, err := LoadConfig(o.Repo.Root())
		if err != nil {
			return nil, err
		}
		s.cfg = cfg
	}
	return s, nil
}

// Config returns the configuration in use.
func (s *Snap) Config() *Config { return s.cfg }

// Repo returns the repository.
func (s *Snap) Repo() Repo { return s.repo }

// packMaintainer is a repository that rolls up its packs (goGitRepo).
type packMaintainer interface {
	MaintainPacks(ctx context.Context) (bool, error)
}

// Maintain runs after a command: once it wrote objects and the repository
// holds more packs than gc.autoPackLimit, it rolls the small ones up
// (repo_gogit_maintain.go). It reports whether it did.
func (s *Snap) Maintain(ctx context.Context) (bool, error) {
	m, ok := s.repo.(packMaintainer)
	if !ok {
		return false, nil
	}
	return m.MaintainPacks(ctx)
}
