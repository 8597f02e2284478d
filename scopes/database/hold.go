package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

var _ gitsnap.Settler = (*Scope)(nil)

// captureHeld records, in a restore's safety snapshot, that the live
// database c will be kept as a held copy instead of dumping it. It
// reports false (and nothing written) when there is no live database to
// hold: the caller then dumps as usual.
func (s *Scope) captureHeld(ctx context.Context, w gitsnap.ArtifactWriter, c gitsnap.DatabaseConfig, t Target, h Holder) (bool, error) {
	info, held, err := h.Hold(ctx, t, t.Hold)
	if errors.Is(err, ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	meta := map[string]string{}
	fillMeta(meta, h.Name(), info)
	meta[MetaHeld] = held
	note := "git-snap held copy: the database as it was is kept on its server as " + held +
		" until git snap settle dumps it here\n"
	if _, err := w.PutStream(ctx, c.Name, strings.NewReader(note), meta); err != nil {
		return false, fmt.Errorf("database %s: record the held copy: %w", c.Name, err)
	}
	return true, nil
}

// Held implements gitsnap.Settler.
func (s *Scope) Held(a gitsnap.Artifact) bool { return a.Meta[MetaHeld] != "" }

// holder resolves a held artifact's database for its Holder driver.
func (s *Scope) holder(env *gitsnap.ScopeEnv, a gitsnap.Artifact) (Target, Holder, error) {
	for _, c := range configured(env) {
		if c.Name != a.Path {
			continue
		}
		t, drv, err := s.target(env, c)
		if err != nil {
			return Target{}, nil, err
		}
		t.Hold = ""
		h, ok := drv.(Holder)
		if !ok {
			return Target{}, nil, fmt.Errorf("%w: database %s: driver %s cannot hold copies", gitsnap.ErrConfig, a.Path, c.Driver)
		}
		return t, h, nil
	}
	return Target{}, nil, gitsnap.WithHint(fmt.Errorf("%w: database %s is held but no longer configured", gitsnap.ErrConfig, a.Path),
		"add its [[database]] entry back to .gitsnap.toml to settle it")
}

// Settle implements gitsnap.Settler: it dumps the held copy of a into w
// under a's name, as a capture would. A copy that is gone wraps
// gitsnap.ErrHeldGone.
func (s *Scope) Settle(ctx context.Context, env *gitsnap.ScopeEnv, a gitsnap.Artifact, w gitsnap.ArtifactWriter) error {
	t, h, err := s.holder(env, a)
	if err != nil {
		return err
	}
	held := a.Meta[MetaHeld]
	err = storeDump(ctx, w, a.Path, h.Name(), func(out io.Writer) (Info, error) { return h.DumpHeld(ctx, t, held, out) })
	if errors.Is(err, ErrNotExist) {
		return fmt.Errorf("%w: %w", gitsnap.ErrHeldGone, err)
	}
	return err
}

// Release implements gitsnap.Settler: it drops the held copy of a.
func (s *Scope) Release(ctx context.Context, env *gitsnap.ScopeEnv, a gitsnap.Artifact) error {
	t, h, err := s.holder(env, a)
	if err != nil {
		return err
	}
	if err := h.Release(ctx, t, a.Meta[MetaHeld]); err != nil {
		return fmt.Errorf("database %s: drop the held copy %s: %w", a.Path, a.Meta[MetaHeld], err)
	}
	return nil
}
