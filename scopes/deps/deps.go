package deps

import (
	"context"
	"fmt"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/paths"
)

// Name is the scope's name in .gitsnap.toml and manifests.
const Name = "dependencies"

// knownLockfiles returns the file names (globs) auto-detection looks for.
func knownLockfiles() []string {
	return []string{
		"go.sum", "go.mod",
		"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
		"poetry.lock", "Pipfile.lock", "requirements*.txt", "uv.lock",
		"Cargo.lock", "Gemfile.lock", "composer.lock", "mix.lock", "pubspec.lock",
		"Podfile.lock", "packages.lock.json", "gradle.lockfile",
	}
}

// Scope is the dependencies scope.
type Scope struct {
	files *paths.Scope
}

var _ gitsnap.Scope = (*Scope)(nil)

// New returns the dependencies scope.
func New() *Scope {
	return &Scope{files: paths.New(Name, Patterns)}
}

// Patterns returns the scope's glob patterns: the configured lockfiles, or
// when there are none the known lockfile names at the root and one
// directory down, followed by the vendor globs.
func Patterns(cfg *gitsnap.Config) []string {
	out := append([]string(nil), cfg.Dependencies.Lockfiles...)
	if len(out) == 0 {
		for _, n := range knownLockfiles() {
			out = append(out, n, "*/"+n)
		}
	}
	return append(out, cfg.Dependencies.Vendor...)
}

// Name implements gitsnap.Scope.
func (s *Scope) Name() string { return Name }

// Capture implements gitsnap.Scope.
func (s *Scope) Capture(ctx context.Context, env *gitsnap.ScopeEnv, w gitsnap.ArtifactWriter) error {
	return s.files.Capture(ctx, env, w)
}

// Plan implements gitsnap.Scope. When files change and an install command
// is configured, the plan warns that it will run.
func (s *Scope) Plan(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (*gitsnap.ScopePlan, error) {
	p, err := s.files.Plan(ctx, env, r)
	if err != nil {
		return nil, err
	}
	if cmd := installCommand(env); cmd != "" && !p.Empty() {
		p.Warnings = append(p.Warnings, fmt.Sprintf("install command will run: %s", cmd))
	}
	return p, nil
}

// Restore implements gitsnap.Scope: it restores the files, then runs the
// install command if one is configured and the restore changed anything.
func (s *Scope) Restore(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) error {
	st, err := s.files.RestoreStats(ctx, env, r)
	if err != nil {
		return err
	}
	cmd := installCommand(env)
	if cmd == "" || !st.Changed() {
		return nil
	}
	if env.Progress != nil {
		env.Progress.Event(gitsnap.ProgressEvent{Kind: "step", Scope: Name, Name: "install", Message: cmd})
	}
	if err := runInstall(ctx, env.Root, cmd); err != nil {
		return fmt.Errorf("restore %s: %w", Name, err)
	}
	return nil
}

func installCommand(env *gitsnap.ScopeEnv) string {
	if env.Config == nil {
		return ""
	}
	return env.Config.Dependencies.Install
}
