package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// VerifyOptions control Verify.
type VerifyOptions struct {
	AnyBranch bool   // known-good may come from any branch
	Level     string // check depth ("" = configured)
}

// DrillResult is the outcome of a restore drill.
type DrillResult struct {
	Snapshot   *SnapshotInfo
	Status     string // passed | failed
	Duration   time.Duration
	ScopeMS    map[string]int64
	Validation *Validation // nil when no command check could run
	Skipped    []string    // checks and databases the drill could not exercise, with why
	Error      string      // why it failed
}

// DrillFailedError is returned when a drill failed. Cause says how: it
// wraps ErrIntegrity for a damaged snapshot and *ValidationError for
// failed checks.
type DrillFailedError struct {
	Snapshot string
	Cause    error
	Result   *DrillResult
}

func (e *DrillFailedError) Error() string {
	return fmt.Sprintf("restore drill of %s failed: %v", e.Snapshot, e.Cause)
}

func (e *DrillFailedError) Unwrap() error { return e.Cause }

// Verify runs a restore drill: it restores a snapshot (default the latest
// known-good) into a sandbox — a temporary linked worktree, SQLite
// databases inside it, server databases through scopes that implement
// Sandboxer — runs the configured command checks there, records a drill
// event and removes the sandbox, also on failure or Ctrl-C. The live
// worktree, HEAD, index and databases are never touched, and the [restore]
// stop/start commands do not run.
func (s *Snap) Verify(ctx context.Context, name string, o VerifyOptions) (*DrillResult, error) {
	if name == "" {
		name = TagKnownGood
	}
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	target, err := s.resolve(ctx, cat, name, ResolveOptions{AnyBranch: o.AnyBranch})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res := &DrillResult{Snapshot: target, ScopeMS: map[string]int64{}}
	derr := s.drill(ctx, target, o, res)
	res.Duration = time.Since(start)
	if ctx.Err() != nil {
		// An interrupted drill proves nothing either way: no event.
		return res, fmt.Errorf("restore drill of %s: %w", target.ID, ctx.Err())
	}
	res.Status = StatusPassed
	if derr != nil {
		res.Status, res.Error = StatusFailed, oneLine(derr.Error())
	}
	host, _ := os.Hostname()
	ev := newEvent(s.now(), EventDrill)
	ev.By, ev.Host, ev.Status, ev.DurationMS, ev.ScopeMS = s.identity().Email, host, res.Status, res.Duration.Milliseconds(), res.ScopeMS
	ev.Error = res.Error
	if res.Validation != nil {
		ev.Level, ev.Checks = res.Validation.Level, res.Validation.Checks
	}
	if len(res.Skipped) > 0 {
		ev.Message = "not exercised: " + strings.Join(res.Skipped, "; ")
	}
	if err := appendEvents(ctx, s.repo, NotesRef, s.signature(), map[Hash][]Event{target.Commit: {ev}}); err != nil {
		return res, fmt.Errorf("drill %s, but recording the event failed: %w", res.Status, err)
	}
	target.Events = append(target.Events, ev)
	target.Drills = append(target.Drills, ev)
	if derr != nil {
		hint := "the snapshot did not restore into a working system; pick another (git snap list) and keep this one out of rotation"
		if errors.Is(derr, ErrIntegrity) || errors.Is(derr, ErrInvalidFormat) || errors.Is(derr, ErrUnsafePath) {
			hint = "the snapshot is damaged; git snap check --read-data lists every damaged object; the live state was not touched"
		}
		return res, WithHint(&DrillFailedError{Snapshot: target.ID, Cause: derr, Result: res}, "%s", hint)
	}
	return res, nil
}

// drill restores target into a sandbox and runs the checks there.
func (s *Snap) drill(ctx context.Context, target *SnapshotInfo, o VerifyOptions, res *DrillResult) (err error) {
	m, tree, err := readManifest(ctx, s.repo, target.Commit)
	if err != nil {
		return err
	}
	scopes, err := s.selectScopes(nil, m.Scopes)
	if err != nil {
		return err
	}
	if err := verifySnapshot(ctx, s.repo, m, tree, scopes); err != nil {
		return err
	}
	at, checkout := target.Commit, false
	if !contains(scopes, ScopeCode) && m.SourceCommit != "" {
		// No code in the snapshot: run it against the code it was taken with.
		if h, perr := ParseHash(m.SourceCommit); perr == nil {
			if ok, _ := s.repo.HasObject(ctx, h); ok {
				at, checkout = h, true
			}
		}
	}
	s.progress.Event(ProgressEvent{Kind: "step", Name: "sandbox", Message: "creating the drill sandbox"})
	sb, err := s.newSandbox(ctx, at, checkout)
	if sb != nil {
		defer func() {
			if cerr := sb.close(ctx); cerr != nil && err == nil {
				err = fmt.Errorf("remove the drill sandbox: %w", cerr)
			}
		}()
	}
	if err != nil {
		return err
	}
	env := &ScopeEnv{Root: sb.dir, Config: s.cfg, Worktree: sb.repo, Progress: s.progress}
	checkEnv := []string{"GITSNAP_DRILL=1", "GITSNAP_SANDBOX=" + sb.dir, "GITSNAP_DRILL_SNAPSHOT=" + target.ID}
	for _, name := range scopes {
		sc, _ := s.scopes.Get(name)
		var r ArtifactReader = newScopeReader(tree, m, name)
		t0 := time.Now()
		s.progress.Event(ProgressEvent{Kind: "scope_start", Scope: name})
		if sbx, ok := sc.(Sandboxer); ok {
			box, err := sbx.Sandbox(ctx, env, r)
			if err != nil {
				return fmt.Errorf("sandbox %s: %w", name, err)
			}
			if box.Cleanup != nil {
				sb.cleanups = append(sb.cleanups, box.Cleanup)
			}
			sc, checkEnv = box.Scope, append(checkEnv, box.Env...)
			res.Skipped = append(res.Skipped, box.Notes...)
		} else if name == ScopeDatabase {
			load, only := drillDatabases(s.cfg, r.Artifacts())
			for _, a := range only {
				if err := readThrough(ctx, r, a); err != nil {
					return fmt.Errorf("database %s: %w", a.Path, err)
				}
				res.Skipped = append(res.Skipped, fmt.Sprintf("database %s: dump verified (size, sha256) but not loaded: its driver has no sandbox", a.Path))
			}
			r = &filteredReader{ArtifactReader: r, keep: load}
		}
		if err := sc.Restore(ctx, env, r); err != nil {
			return scopeErr("restore", name, err)
		}
		res.ScopeMS[name] = time.Since(t0).Milliseconds()
		s.progress.Event(ProgressEvent{Kind: "scope_done", Scope: name})
	}
	return s.drillChecks(ctx, o.Level, sb.dir, checkEnv, res)
}

// drillChecks runs the command checks in the sandbox. HTTP checks probe
// the live service, not the sandbox, so they are skipped.
func (s *Snap) drillChecks(ctx context.Context, level, dir string, env []string, res *DrillResult) error {
	if level == "" {
		level = s.cfg.Snapshot.Level
	}
	if level == "" {
		level = checkKinds[len(checkKinds)-1]
	}
	if !contains(checkKinds, level) {
		return WithHint(fmt.Errorf("%w: unknown validation level %q", ErrUsage, level), "use health, smoke, full or perf")
	}
	var checks []CheckConfig
	for _, c := range s.cfg.Check {
		switch {
		case kindRank(c.Kind) > kindRank(level):
		case c.URL != "":
			res.Skipped = append(res.Skipped, fmt.Sprintf("check %s: HTTP checks probe the live service, not the sandbox", c.Name))
		default:
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		res.Skipped = append(res.Skipped, "no command check to run: the drill proves the snapshot restores, not that it works")
		return nil
	}
	sort.SliceStable(checks, func(i, j int) bool { return kindRank(checks[i].Kind) < kindRank(checks[j].Kind) })
	s.progress.Event(ProgressEvent{Kind: "step", Name: "validate", Message: fmt.Sprintf("running %d check(s) in the sandbox", len(checks))})
	v, err := runChecksEnv(ctx, checks, dir, env, s.progress)
	if err != nil {
		return fmt.Errorf("run checks: %w", err)
	}
	v.Level, res.Validation = level, v
	if v.Status != StatusPassed {
		return &ValidationError{Failed: v.Failures(), Total: len(v.Checks)}
	}
	return nil
}
