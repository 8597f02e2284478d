package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Sandboxer is an optional Scope capability that verify uses for state
// living outside the worktree (a database server). Sandbox returns a copy
// of the scope whose Restore writes to temporary targets instead of the
// live ones (a temporary database), the environment the checks need to
// reach them (DATABASE_URL=…), and a cleanup that removes them. Scopes
// without it restore into the sandbox worktree through ScopeEnv.Root,
// which is enough for files and SQLite databases; verify never hands the
// live targets of any other scope to a drill.
type Sandboxer interface {
	Sandbox(ctx context.Context, env *ScopeEnv, r ArtifactReader) (*ScopeSandbox, error)
}

// ScopeSandbox is a scope redirected to temporary targets.
type ScopeSandbox struct {
	Scope Scope
	// Env is KEY=VALUE pairs for the checks (and restore commands).
	Env []string
	// Cleanup removes the temporary targets; it runs even after Ctrl-C.
	Cleanup func(ctx context.Context) error
	// Notes say what the sandbox could not cover (reported as skipped).
	Notes []string
}

// sandbox is a temporary linked worktree that a drill restores into.
type sandbox struct {
	dir      string
	repo     Repo
	cleanups []func(ctx context.Context) error
}

// newSandbox adds a detached linked worktree in a fresh temp dir. With a
// checkout commit it is checked out (for snapshots without code), else
// nothing is checked out and the code scope writes the tree.
func (s *Snap) newSandbox(ctx context.Context, at Hash, checkout bool) (*sandbox, error) {
	tmp, err := os.MkdirTemp("", "git-snap-drill-")
	if err != nil {
		return nil, fmt.Errorf("create sandbox: %w", err)
	}
	if tmp, err = filepath.EvalSymlinks(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("create sandbox: %w", err)
	}
	sb := &sandbox{dir: tmp}
	args := []string{"worktree", "add", "--detach", "--quiet"}
	if !checkout {
		args = append(args, "--no-checkout")
	}
	if _, err := runGit(ctx, s.repo.Root(), append(args, tmp, at.String())...); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("create sandbox worktree: %w", err)
	}
	sb.cleanups = append(sb.cleanups, func(ctx context.Context) error {
		_, err := runGit(ctx, s.repo.Root(), "worktree", "remove", "--force", tmp)
		_ = os.RemoveAll(tmp)
		_, _ = runGit(ctx, s.repo.Root(), "worktree", "prune")
		return err
	})
	repo, err := OpenRepo(tmp)
	if err != nil {
		return sb, fmt.Errorf("open sandbox worktree: %w", err)
	}
	// GIT_DIR or GIT_WORK_TREE in the environment would point OpenRepo at
	// the live worktree: never restore a drill there.
	if root, err := filepath.EvalSymlinks(repo.Root()); err != nil || root != tmp {
		return sb, fmt.Errorf("open sandbox worktree: opened %s instead of %s (unset GIT_DIR and GIT_WORK_TREE)", repo.Root(), tmp)
	}
	sb.repo = repo
	return sb, nil
}

// close removes everything the sandbox created, newest first, even when
// ctx is cancelled.
func (sb *sandbox) close(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	var errs []error
	for i := len(sb.cleanups) - 1; i >= 0; i-- {
		if err := sb.cleanups[i](cctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// filteredReader serves only some of a scope's artifacts.
type filteredReader struct {
	ArtifactReader
	keep []Artifact
}

func (f *filteredReader) Artifacts() []Artifact { return append([]Artifact(nil), f.keep...) }

// drillDatabases splits the database artifacts a drill may load into the
// sandbox (SQLite files: their path is relative to the sandbox root) from
// those it can only verify (server databases, command drivers), whose
// restore would reach the live database.
func drillDatabases(cfg *Config, arts []Artifact) (load, verifyOnly []Artifact) {
	drivers := map[string]string{}
	for _, d := range cfg.Database {
		drivers[d.Name] = d.Driver
	}
	for _, a := range arts {
		if drivers[a.Path] == "sqlite" {
			load = append(load, a)
		} else {
			verifyOnly = append(verifyOnly, a)
		}
	}
	return load, verifyOnly
}

// readThrough streams an artifact to its end, so its size and sha256 are
// checked without writing it anywhere.
func readThrough(ctx context.Context, r ArtifactReader, a Artifact) error {
	rc, err := r.Open(ctx, a)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, &ctxReader{ctx: ctx, r: rc}); err != nil {
		return fmt.Errorf("read %s: %w", a.Path, err)
	}
	return nil
}
