package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// staging is what prepare hands to apply: the scopes loaded aside
// (Stager), how long each took to stage, and the safety snapshot.
type staging struct {
	staged map[string]Staged
	ms     map[string]int64
	safety *SnapshotInfo
}

// get returns the staged scope name, or nil.
func (st *staging) get(name string) Staged {
	if st == nil {
		return nil
	}
	return st.staged[name]
}

// stagedMS is how long staging name took (0 when it was not staged).
func (st *staging) stagedMS(name string) int64 {
	if st == nil {
		return 0
	}
	return st.ms[name]
}

// discard drops every staged scope that was not committed (Discard is a
// no-op after Commit). It runs even after Ctrl-C.
func (st *staging) discard(ctx context.Context) {
	if st == nil {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	for _, sg := range st.staged {
		_ = sg.Discard(dctx)
	}
}

// prepare takes the safety snapshot and, at the same time, stages every
// scope that can (Stager): staging changes nothing live, so it may overlap
// the snapshot, and both are done before the first destructive step. If
// either fails, or ctx is cancelled, the other is cancelled, everything
// staged is discarded and the error says that nothing was changed: a
// failed safety snapshot as "take safety snapshot: …", a damaged dump
// found while staging as ErrIntegrity (exit 6), any other staging failure
// as a restore that stopped before changing anything.
func (s *Snap) prepare(ctx context.Context, target *SnapshotInfo, m *Manifest, tree *snapshotTree, scopes []string, hold string) (*staging, error) {
	var stagers []string
	for _, name := range scopes {
		if sc, _ := s.scopes.Get(name); isStager(sc) {
			stagers = append(stagers, name)
		}
	}
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &staging{staged: map[string]Staged{}, ms: map[string]int64{}}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	// The first failure is the one to report: it cancels the other side,
	// whose error is then only that cancellation.
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			cancel()
		}
	}
	if len(stagers) > 0 {
		s.progress.Event(ProgressEvent{Kind: "step", Name: "stage",
			Message: "loading " + strings.Join(stagers, ", ") + " aside while the safety snapshot is taken (nothing live changes yet)"})
		env := s.scopeEnv()
		env.Hold = hold
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, name := range stagers {
				sc, _ := s.scopes.Get(name)
				t0 := time.Now()
				sg, err := sc.(Stager).Stage(gctx, env, newScopeReader(tree, m, name))
				if err != nil {
					fail(stageErr(ctx, target, scopeErr("stage", name, err)))
					return
				}
				mu.Lock()
				st.staged[name], st.ms[name] = sg, time.Since(t0).Milliseconds()
				mu.Unlock()
			}
		}()
	}
	s.progress.Event(ProgressEvent{Kind: "step", Name: "safety", Message: "taking a pre-restore safety snapshot"})
	safety, err := s.Create(gctx, CreateOptions{safety: true, Scopes: scopes, Message: "pre-restore safety snapshot before " + target.ID, hold: hold})
	switch {
	case err != nil && ctx.Err() != nil:
		// Interrupted: one report, whichever side saw it first.
		fail(stageErr(ctx, target, err))
	case err != nil:
		fail(WithHint(fmt.Errorf("take safety snapshot: %w", err), "nothing was changed"))
	}
	wg.Wait()
	if first != nil {
		st.discard(ctx)
		if safety != nil {
			s.discardHeld(ctx, safety.Snapshot) // its copies were never made
		}
		return nil, first
	}
	st.safety = safety.Snapshot
	return st, nil
}

// stageErr words a staging failure: nothing live was changed yet.
func stageErr(ctx context.Context, target *SnapshotInfo, err error) error {
	switch {
	case ctx.Err() != nil:
		return WithHint(fmt.Errorf("restore of %s stopped before changing anything: %w", target.ID, ctx.Err()),
			"nothing was changed; run the restore again")
	case errors.Is(err, ErrIntegrity):
		return WithHint(fmt.Errorf("snapshot %s: %w", target.ID, err), "the snapshot is damaged; nothing was changed; pick another with git snap list")
	}
	err = fmt.Errorf("restore of %s stopped before changing anything: %w", target.ID, err)
	if h := HintOf(err); h != "" {
		return WithHint(err, "nothing was changed; %s", h)
	}
	return WithHint(err, "nothing was changed; fix the cause and run the restore again")
}

func isStager(sc Scope) bool {
	_, ok := sc.(Stager)
	return ok
}
