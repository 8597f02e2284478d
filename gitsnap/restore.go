package gitsnap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// RestoreOptions control Restore.
type RestoreOptions struct {
	Scopes   []string // empty: every scope the snapshot has
	DryRun   bool     // plan only
	Validate *bool    // nil: [restore] validate (true when checks exist)
	NoCode   bool     // leave code (HEAD and tracked files) alone
	// AnyBranch lets known-good pick a snapshot from any branch.
	AnyBranch bool
	// Confirm is asked with the plan before anything changes; returning
	// false aborts with ErrAborted. nil means confirmed (--yes).
	Confirm func(*RestorePlan) (bool, error)
}

// RestorePlan is what a restore would do.
type RestorePlan struct {
	Target   *SnapshotInfo
	Scopes   []*ScopePlan
	Validate bool
	Stop     []string
	Start    []string
}

// RestoreResult is what Restore did.
type RestoreResult struct {
	Plan       *RestorePlan
	Safety     *SnapshotInfo // the pre-restore safety snapshot (nil on dry run)
	Validation *Validation
	Duration   time.Duration
	ScopeMS    map[string]int64
	// Held is set when the safety snapshot holds copies (databases kept on
	// their servers, [restore] database_safety = "hold") that still have to
	// be settled into it: the caller starts git snap settle in the
	// background ([restore] settle = "background") or tells the user to
	// run it ("manual"). With settle = "now" Restore settles it itself and
	// Settled says how; a failure there is SettleErr (the restore stands).
	Held      bool
	Settled   []SettleResult
	SettleErr error
}

// RestoreFailedError is returned when the restore failed and the previous state was (or
// could not be) put back from the safety snapshot.
type RestoreFailedError struct {
	Target      string
	Cause       error
	SafetyID    string
	RolledBack  bool
	RollbackErr error
}

func (e *RestoreFailedError) Error() string {
	if e.RolledBack {
		return fmt.Sprintf("restore of %s failed and was rolled back to %s: %v", e.Target, e.SafetyID, e.Cause)
	}
	if e.RollbackErr != nil {
		return fmt.Sprintf("restore of %s failed (%v) and the rollback to %s failed too: %v", e.Target, e.Cause, e.SafetyID, e.RollbackErr)
	}
	return fmt.Sprintf("restore of %s failed: %v", e.Target, e.Cause)
}

func (e *RestoreFailedError) Unwrap() error { return e.Cause }

// Restore puts the live state back to a snapshot (ARCHITECTURE §5): plan,
// confirm, safety snapshot (while scopes that can are staged: loaded aside,
// nothing live changed), stop, restore scopes (a staged one is committed),
// start, validate, roll back on failure, record the event.
func (s *Snap) Restore(ctx context.Context, name string, o RestoreOptions) (*RestoreResult, error) {
	start := time.Now()
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	target, err := s.resolve(ctx, cat, name, ResolveOptions{AnyBranch: o.AnyBranch})
	if err != nil {
		return nil, err
	}
	unlock := func() {}
	defer func() { unlock() }()
	if s.HoldsCopies(target) && !o.DryRun {
		// A held snapshot may be being settled (its copy dumped, then
		// dropped): wait for that, and restore what it became.
		if unlock, err = lockSettle(ctx, s.repo.CommonDir()); err != nil {
			return nil, err
		}
		if target, err = s.afterSettle(ctx, target); err != nil {
			return nil, err
		}
	}
	m, tree, err := readManifest(ctx, s.repo, target.Commit)
	if err != nil {
		return nil, err
	}
	scopes, err := s.selectScopes(o.Scopes, m.Scopes)
	if err != nil {
		return nil, err
	}
	if o.NoCode {
		scopes = without(scopes, ScopeCode)
	}
	if err := verifySnapshot(ctx, s.repo, m, tree, scopes); err != nil {
		if HintOf(err) != "" {
			return nil, fmt.Errorf("snapshot %s: %w", target.ID, err)
		}
		return nil, WithHint(fmt.Errorf("snapshot %s: %w", target.ID, err), "the snapshot is damaged; nothing was changed; pick another with git snap list")
	}
	if contains(scopes, ScopeCode) {
		if err := checkSourceCommit(ctx, s.repo, m); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", target.ID, err)
		}
	}
	if !o.DryRun {
		// Read every artifact once against its recorded size and sha256
		// before touching anything: a snapshot whose manifest does not
		// match its objects is refused, not half-restored and rolled back.
		s.progress.Event(ProgressEvent{Kind: "step", Name: "verify", Message: "verifying the snapshot's data"})
		if err := s.verifySnapshotData(ctx, m, tree, scopes); err != nil {
			return nil, WithHint(fmt.Errorf("snapshot %s: %w", target.ID, err), "the snapshot is damaged; nothing was changed; pick another with git snap list")
		}
	}
	plan := &RestorePlan{Target: target, Validate: s.cfg.ValidateAfterRestore(), Stop: s.cfg.Restore.Stop, Start: s.cfg.Restore.Start}
	if o.Validate != nil {
		plan.Validate = *o.Validate && len(s.cfg.Check) > 0
	}
	env := s.scopeEnv()
	env.QuickPlan = !o.DryRun && o.Confirm == nil
	for _, name := range scopes {
		sc, _ := s.scopes.Get(name)
		p, err := sc.Plan(ctx, env, newScopeReader(tree, m, name))
		if err != nil {
			return nil, scopeErr("plan", name, err)
		}
		p.Scope = name
		p.Sort()
		plan.Scopes = append(plan.Scopes, p)
	}
	res := &RestoreResult{Plan: plan}
	if o.DryRun {
		return res, nil
	}
	if o.Confirm != nil {
		ok, err := o.Confirm(plan)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrAborted
		}
	}
	if contains(scopes, ScopeCode) && s.repo.GitDir() != "" {
		lock := filepath.Join(s.repo.GitDir(), "index.lock")
		if _, err := os.Stat(lock); err == nil {
			return nil, WithHint(fmt.Errorf("%w: %s exists", ErrLocked, lock),
				"another git process seems to be running: nothing was changed; run the restore again once it is done (remove the file only if that process crashed)")
		}
	}
	hold := ""
	if s.cfg.Restore.HoldDatabases() {
		if hold, err = holdToken(); err != nil {
			return nil, err
		}
	}
	st, err := s.prepare(ctx, target, m, tree, scopes, hold)
	if err != nil {
		return nil, err
	}
	defer st.discard(ctx) // what was staged but not committed
	safety := st.safety
	res.Safety = safety

	res.ScopeMS, err = s.applyStaged(ctx, m, tree, scopes, st)
	if err == nil && plan.Validate {
		s.progress.Event(ProgressEvent{Kind: "step", Name: "validate", Message: "validating the restored state"})
		res.Validation, err = s.Validate(ctx)
		if err == nil && res.Validation.Status != StatusPassed {
			err = &ValidationError{Failed: res.Validation.Failures(), Total: len(res.Validation.Checks)}
		}
	}
	res.Duration = time.Since(start)
	var unchanged errUnchanged
	if errors.As(err, &unchanged) {
		s.discardHeld(ctx, safety) // its copies were never made
		return res, WithHint(fmt.Errorf("restore of %s stopped before changing anything: %w", target.ID, unchanged.error),
			"nothing was changed; fix the cause and run the restore again")
	}
	if err != nil {
		return res, s.rollback(ctx, target, safety, scopes, err, res.Duration, hold)
	}
	ev := newEvent(s.now(), EventRestored)
	ev.By, ev.Result, ev.Scopes, ev.Safety = s.identity().Email, "ok", scopes, safety.ID
	ev.DurationMS, ev.ScopeMS = res.Duration.Milliseconds(), res.ScopeMS
	if res.Validation != nil {
		ev.Status, ev.Checks = res.Validation.Status, res.Validation.Checks
	}
	if err := appendEvents(ctx, s.repo, NotesRef, s.signature(), map[Hash][]Event{target.Commit: {ev}}); err != nil {
		return res, fmt.Errorf("restored, but recording the event failed: %w", err)
	}
	if s.HoldsCopies(safety) {
		res.Held = true
		if s.SettleMode() == "now" {
			unlock() // Settle takes the lock itself
			unlock = func() {}
			res.Settled, res.SettleErr = s.Settle(ctx, SettleOptions{Name: safety.ID})
			res.Held = res.SettleErr != nil
		}
	}
	return res, nil
}

// SettleMode is when held copies are settled after a restore: [restore]
// settle, unless GITSNAP_SETTLE (background, now or manual) overrides it.
func (s *Snap) SettleMode() string {
	switch v := s.getenv("GITSNAP_SETTLE"); v {
	case "background", "now", "manual":
		return v
	}
	return s.cfg.Restore.SettleMode()
}

// holdToken names one restore's held copies.
func holdToken() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("hold token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// discardHeld removes a safety snapshot whose held copies were never made
// or were swapped back (a restore that failed before its swap, or was
// rolled back): it could not restore its databases. Its other scopes are
// the live state's anyway. A safety snapshot without held copies stays.
func (s *Snap) discardHeld(ctx context.Context, safety *SnapshotInfo) {
	if safety == nil || !s.HoldsCopies(safety) {
		return
	}
	_ = s.repo.DeleteRef(context.WithoutCancel(ctx), SnapshotRefPrefix+safety.ID, safety.Commit)
}

// errUnchanged marks a restore failure that happened before anything was
// changed (a failing stop command, a lock held by another process): there
// is nothing to roll back.
type errUnchanged struct{ error }

func (e errUnchanged) Unwrap() error { return e.error }

// apply runs the stop commands, restores each scope and runs the start
// commands. It returns the time each scope took.
func (s *Snap) apply(ctx context.Context, m *Manifest, tree *snapshotTree, scopes []string) (map[string]int64, error) {
	return s.applyStaged(ctx, m, tree, scopes, nil)
}

// applyStaged is apply where the scopes in st were staged by prepare:
// those are committed (swapped in) instead of restored, and their time is
// staging plus commit. A staged scope not reached because an earlier one
// failed is discarded before the error is returned (so before a rollback).
func (s *Snap) applyStaged(ctx context.Context, m *Manifest, tree *snapshotTree, scopes []string, st *staging) (map[string]int64, error) {
	times := map[string]int64{}
	if err := ctx.Err(); err != nil {
		return times, errUnchanged{err}
	}
	if err := s.runHooks(ctx, "stop", s.cfg.Restore.Stop); err != nil {
		_ = s.runHooks(context.WithoutCancel(ctx), "start", s.cfg.Restore.Start)
		return times, errUnchanged{err}
	}
	env := s.scopeEnv()
	for i, name := range scopes {
		sc, _ := s.scopes.Get(name)
		t0 := time.Now()
		s.progress.Event(ProgressEvent{Kind: "scope_start", Scope: name})
		var err error
		if sg := st.get(name); sg != nil {
			err = sg.Commit(ctx)
		} else {
			err = sc.Restore(ctx, env, newScopeReader(tree, m, name))
		}
		if err != nil {
			st.discard(ctx)
			_ = s.runHooks(context.WithoutCancel(ctx), "start", s.cfg.Restore.Start)
			err = scopeErr("restore", name, err)
			// A lock the first scope could not take means nothing was written.
			if i == 0 && (errors.Is(err, ErrRefChanged) || errors.Is(err, ErrLocked)) {
				err = errUnchanged{err}
			}
			return times, err
		}
		times[name] = time.Since(t0).Milliseconds() + st.stagedMS(name)
		s.progress.Event(ProgressEvent{Kind: "scope_done", Scope: name})
	}
	return times, s.runHooks(ctx, "start", s.cfg.Restore.Start)
}

// rollback restores the safety snapshot after a failed restore. It runs
// even when ctx was cancelled (Ctrl-C): leaving a half-restored system is
// worse than finishing the undo.
func (s *Snap) rollback(ctx context.Context, target, safety *SnapshotInfo, scopes []string, cause error, took time.Duration, hold string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
	defer cancel()
	s.unheld = hold
	defer func() { s.unheld = "" }()
	s.progress.Event(ProgressEvent{Kind: "step", Name: "rollback", Message: "restore failed; rolling back to " + safety.ID})
	fe := &RestoreFailedError{Target: target.ID, Cause: cause, SafetyID: safety.ID}
	m, tree, err := readManifest(rctx, s.repo, safety.Commit)
	if err == nil {
		_, err = s.apply(rctx, m, tree, scopes)
	}
	if err != nil {
		fe.RollbackErr = err
	} else {
		fe.RolledBack = true
	}
	ev := newEvent(s.now(), EventRestored)
	ev.By, ev.Scopes, ev.Safety, ev.DurationMS = s.identity().Email, scopes, safety.ID, took.Milliseconds()
	ev.Result, ev.Error = "rolled_back", oneLine(cause.Error())
	if !fe.RolledBack {
		ev.Result = "failed"
	}
	var ve *ValidationError
	if errors.As(cause, &ve) {
		ev.Status = StatusFailed
	}
	_ = appendEvents(rctx, s.repo, NotesRef, s.signature(), map[Hash][]Event{target.Commit: {ev}})
	if fe.RolledBack {
		s.discardHeld(rctx, safety) // its held copies are live again
		return WithHint(fe, "the previous state is back; inspect the failure, or restore another snapshot (git snap list)")
	}
	return WithHint(fe, "restore the safety snapshot by hand: git snap restore %s --yes", safety.ID)
}

// runHooks runs [restore] stop/start commands with sh -c in the root.
func (s *Snap) runHooks(ctx context.Context, what string, cmds []string) error {
	for _, c := range cmds {
		s.progress.Event(ProgressEvent{Kind: "step", Name: what, Message: c})
		cmd := exec.CommandContext(ctx, "sh", "-c", c)
		cmd.Dir = s.repo.Root()
		cmd.Env = os.Environ()
		out, err := cmd.CombinedOutput()
		if err != nil {
			tail := strings.TrimSpace(string(out))
			if len(tail) > 300 {
				tail = tail[len(tail)-300:]
			}
			return fmt.Errorf("restore.%s command %q: %w: %s", what, c, err, tail)
		}
	}
	return nil
}

// verifySnapshot checks that the objects a restore needs are present and
// agree with the manifest before anything is touched.
func verifySnapshot(ctx context.Context, repo Repo, m *Manifest, tree *snapshotTree, scopes []string) error {
	for _, a := range m.Artifacts {
		if !contains(scopes, a.Scope) {
			continue
		}
		switch a.Kind {
		case KindBlob, KindSymlink:
			e, err := tree.lookup(ctx, "files/"+a.Path)
			if err != nil {
				return err
			}
			if ok, err := repo.HasObject(ctx, e.Hash); err != nil || !ok {
				return fmt.Errorf("%w: object for %s is missing", ErrIntegrity, a.Path)
			}
		case KindChunked:
			if _, err := listChunks(ctx, tree, a); err != nil {
				return err
			}
		}
	}
	if contains(scopes, ScopeCode) {
		if m.Code == nil {
			return fmt.Errorf("%w: the code scope has no record in snap.json", ErrInvalidFormat)
		}
		e, err := tree.lookup(ctx, "code")
		if err != nil {
			return err
		}
		if e.Hash.String() != m.Code.Tree {
			return fmt.Errorf("%w: code tree %s does not match snap.json (%s)", ErrIntegrity, e.Hash.String()[:12], m.Code.Tree)
		}

	}
	return nil
}

// verifySnapshotData streams every artifact of the given scopes through
// the verifying reader (size and sha256), two at a time. Scopes that
// verify before they apply (VerifiesBeforeApply) are skipped: reading a
// large dump twice would double the restore for nothing.
func (s *Snap) verifySnapshotData(ctx context.Context, m *Manifest, tree *snapshotTree, scopes []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, 2)
	)
	for _, scope := range scopes {
		if sc, _ := s.scopes.Get(scope); verifiesBeforeApply(sc) {
			continue
		}
		r := newScopeReader(tree, m, scope)
		for _, a := range r.Artifacts() {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(a Artifact) {
				defer wg.Done()
				defer func() { <-sem }()
				err := func() error {
					rc, err := r.Open(ctx, a)
					if err != nil {
						return err
					}
					defer rc.Close()
					_, err = io.Copy(io.Discard, rc)
					return err
				}()
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("verify %s %s: %w", a.Scope, a.Path, err)
						cancel()
					}
					mu.Unlock()
				}
			}(a)
		}
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// checkSourceCommit: restoring code moves HEAD and the index to the
// source commit, which lives in the code history, not in the snapshot (an
// imported snapshot in a repository without that history has none).
func checkSourceCommit(ctx context.Context, repo Repo, m *Manifest) error {
	if m.Code == nil || m.Code.Commit == "" {
		return nil
	}
	c, err := ParseHash(m.Code.Commit)
	if err != nil {
		return fmt.Errorf("%w: code commit %q", ErrInvalidFormat, m.Code.Commit)
	}
	if ok, err := repo.HasObject(ctx, c); err != nil || !ok {
		return WithHint(fmt.Errorf("%w: the snapshot's source commit %s is not in this repository", ErrObjectNotFound, m.Code.Commit[:12]),
			"fetch the code history (git fetch) first, or restore everything else with --no-code")
	}
	return nil
}

func without(list []string, drop string) []string {
	var out []string
	for _, x := range list {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}
