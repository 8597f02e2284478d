package database

import (
	"context"
	"errors"
	"fmt"

	"github.com/git-snap/git-snap/gitsnap"
)

var _ gitsnap.Stager = (*Scope)(nil)

// Stage implements gitsnap.Stager: every database of the snapshot whose
// driver is a Stager is loaded aside, in config order; the others are
// restored in Commit. Every database must be configured (checked first).
// A failure discards what was staged before it.
func (s *Scope) Stage(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (gitsnap.Staged, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stage databases: %w", err)
	}
	pairs, _, err := match(env, r)
	if err != nil {
		return nil, err
	}
	st := &stagedScope{s: s, env: env, r: r, pairs: pairs, dbs: make([]StagedDB, len(pairs))}
	for i, p := range pairs {
		db, err := s.stageOne(ctx, env, r, p)
		if err != nil {
			_ = st.Discard(ctx)
			return nil, err
		}
		st.dbs[i] = db
	}
	return st, nil
}

// stageOne loads one database aside, or returns nil when its driver
// cannot (it is restored in Commit).
func (s *Scope) stageOne(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader, p pair) (StagedDB, error) {
	t, drv, err := s.target(env, p.cfg)
	if err != nil {
		return nil, err
	}
	sd, ok := drv.(Stager)
	if !ok {
		return nil, nil
	}
	rc, err := r.Open(ctx, p.art)
	if err != nil {
		return nil, fmt.Errorf("database %s: open dump: %w", p.cfg.Name, err)
	}
	defer rc.Close()
	db, err := sd.Stage(ctx, t, rc, recordedInfo(p.art))
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return nil, fmt.Errorf("database %s: restore: %w (%v)", p.cfg.Name, ctx.Err(), err)
		}
		return nil, err
	}
	return db, nil
}

// stagedScope is the database scope's gitsnap.Staged: per database of the
// snapshot (config order), its loaded copy or nil (restored in Commit).
type stagedScope struct {
	s     *Scope
	env   *gitsnap.ScopeEnv
	r     gitsnap.ArtifactReader
	pairs []pair
	dbs   []StagedDB
	done  bool
}

// Commit implements gitsnap.Staged: in config order, each loaded copy is
// swapped in, and each database that could not be staged is restored by
// its driver, as Restore does. A failure stops there (the databases before
// it stay restored, the core rolls back) and discards the copies after it.
func (st *stagedScope) Commit(ctx context.Context) error {
	if st.done {
		return errors.New("restore databases: already committed or discarded")
	}
	st.done = true
	for i, p := range st.pairs {
		var err error
		if db := st.dbs[i]; db != nil {
			st.dbs[i] = nil // Commit removes its copy on failure
			if err = db.Commit(ctx); err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("database %s: restore: %w (%v)", p.cfg.Name, ctx.Err(), err)
			}
		} else {
			err = st.s.restoreOne(ctx, st.env, st.r, p)
		}
		if err != nil {
			if derr := st.discardFrom(ctx, i+1); derr != nil {
				return fmt.Errorf("%w (and removing the other staged copies failed: %v)", err, derr)
			}
			return err
		}
	}
	return nil
}

// Discard implements gitsnap.Staged.
func (st *stagedScope) Discard(ctx context.Context) error {
	st.done = true
	return st.discardFrom(ctx, 0)
}

// discardFrom discards the loaded copies from index i on and returns the
// first error.
func (st *stagedScope) discardFrom(ctx context.Context, i int) error {
	var first error
	for ; i < len(st.dbs); i++ {
		if db := st.dbs[i]; db != nil {
			st.dbs[i] = nil
			if err := db.Discard(ctx); err != nil && first == nil {
				first = fmt.Errorf("database %s: discard the loaded copy: %w", st.pairs[i].cfg.Name, err)
			}
		}
	}
	return first
}
