package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Try outcomes, as reported in TryResult.Outcome and TryFailedError.
const (
	OutcomeSucceeded        = "succeeded"         // command and validation passed; a new known-good snapshot
	OutcomeCommandFailed    = "command_failed"    // the command exited non-zero or could not start
	OutcomeTimedOut         = "timed_out"         // the command ran past --timeout
	OutcomeValidationFailed = "validation_failed" // the command passed, the checks did not
	OutcomeInterrupted      = "interrupted"       // Ctrl-C or SIGTERM while the change ran
)

// Tags try and deploy put on their snapshots.
const (
	TagPreTry    = "pre-try"
	TagPreDeploy = "pre-deploy"
	TagDeploy    = "deploy"
)

// TryOptions control Try.
type TryOptions struct {
	// Command is the change: one element runs with sh -c, several are an
	// argv run directly.
	Command []string
	Timeout time.Duration // 0: no limit
	Message string        // recorded on the post-change snapshot
	Scopes  []string      // empty: the configured [snapshot] scopes
	Level   string        // validation depth before and after ("" = configured)
	// Deploy switches the defaults: full validation, a pre-deploy tag on the
	// pre-change snapshot and a deploy tag on the post-change one.
	Deploy bool
	Tags   []string // extra tags for the post-change snapshot
	// AllowUnvalidated starts even when the current state fails
	// validation; the pre-change snapshot is then unvalidated.
	AllowUnvalidated bool
	// The command's standard streams (nil: no input, output discarded).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// TryResult is what Try did.
type TryResult struct {
	Outcome    string
	Before     *SnapshotInfo // the pre-change snapshot
	After      *SnapshotInfo // the post-change snapshot (success only)
	ExitCode   int           // the command's exit status (-1: killed or not started)
	Validation *Validation   // the post-change validation, when it ran
	RolledBack bool
	Rollback   time.Duration    // how long the rollback took
	ScopeMS    map[string]int64 // rollback time per scope
	Duration   time.Duration
	Warnings   []string
}

// TryFailedError is returned when the change failed (Outcome) and the
// pre-change snapshot was restored, or could not be (RollbackErr).
type TryFailedError struct {
	Outcome     string
	Cause       error
	Before      string // id of the pre-change snapshot
	RolledBack  bool
	RollbackErr error
	Result      *TryResult
}

func (e *TryFailedError) Error() string {
	what := strings.ReplaceAll(e.Outcome, "_", " ")
	if e.RolledBack {
		return fmt.Sprintf("change %s (%v); rolled back to %s", what, e.Cause, e.Before)
	}
	return fmt.Sprintf("change %s (%v) and the rollback to %s failed too: %v", what, e.Cause, e.Before, e.RollbackErr)
}

func (e *TryFailedError) Unwrap() error { return e.Cause }

// Try runs a change with automatic rollback: validate the current state
// (refusing when it fails, unless AllowUnvalidated), take a pre-change
// snapshot, run the command, validate, and on a failed command, failed
// validation, timeout or interruption restore the pre-change snapshot
// (every scope, databases included). A passing change becomes a new
// known-good snapshot.
func (s *Snap) Try(ctx context.Context, o TryOptions) (*TryResult, error) {
	if len(o.Command) == 0 || o.Command[0] == "" {
		return nil, WithHint(fmt.Errorf("%w: no command given", ErrUsage), "git snap try -- <command> [args...]")
	}
	start := time.Now()
	level := o.Level
	if level == "" && o.Deploy {
		level = "full"
	}
	res := &TryResult{ExitCode: -1}
	before, err := s.preChange(ctx, o, level, res)
	if err != nil {
		return nil, err
	}
	res.Before = before
	s.progress.Event(ProgressEvent{Kind: "step", Name: "run", Message: strings.Join(o.Command, " ")})
	run := runChange(ctx, o, s.repo.Root(), []string{"GITSNAP_PRE_SNAPSHOT=" + before.ID})
	res.ExitCode = run.ExitCode
	var cause error
	switch {
	case run.Err != nil && errors.Is(run.Err, context.Canceled):
		res.Outcome, cause = OutcomeInterrupted, run.Err
	case run.TimedOut:
		res.Outcome, cause = OutcomeTimedOut, run.Err
	case run.Err != nil:
		res.Outcome, cause = OutcomeCommandFailed, run.Err
	case len(s.cfg.Check) > 0:
		s.progress.Event(ProgressEvent{Kind: "step", Name: "validate", Message: "validating the changed state"})
		v, err := s.ValidateLevel(ctx, level)
		switch {
		case err != nil && ctx.Err() != nil:
			res.Outcome, cause = OutcomeInterrupted, ctx.Err()
		case err != nil:
			res.Outcome, cause = OutcomeValidationFailed, fmt.Errorf("run checks: %w", err)
		case v.Status != StatusPassed:
			res.Validation = v
			res.Outcome, cause = OutcomeValidationFailed, &ValidationError{Failed: v.Failures(), Total: len(v.Checks)}
		default:
			res.Validation = v
		}
	}
	if cause != nil {
		res.Duration = time.Since(start)
		return res, s.undoChange(ctx, before, res, cause)
	}
	if ctx.Err() != nil {
		res.Outcome = OutcomeInterrupted
		return res, s.undoChange(ctx, before, res, ctx.Err())
	}
	after, err := s.Create(ctx, CreateOptions{
		Message: s.changeMessage(o), Scopes: o.Scopes, Tags: s.postTags(o),
		NoValidate: res.Validation == nil, Validation: res.Validation,
	})
	if err != nil {
		return res, fmt.Errorf("the change passed but its snapshot was not written (the change is kept; run git snap create): %w", err)
	}
	res.After, res.Outcome, res.Duration = after.Snapshot, OutcomeSucceeded, time.Since(start)
	res.Warnings = append(res.Warnings, after.Warnings...)
	return res, nil
}

// preChange validates the current state and writes the pre-change snapshot.
func (s *Snap) preChange(ctx context.Context, o TryOptions, level string, res *TryResult) (*SnapshotInfo, error) {
	tag := TagPreTry
	if o.Deploy {
		tag = TagPreDeploy
	}
	co := CreateOptions{Message: "before: " + oneLine(strings.Join(o.Command, " ")), Scopes: o.Scopes, Tags: []string{tag}}
	if len(s.cfg.Check) == 0 {
		co.NoValidate = true
		res.Warnings = append(res.Warnings, "no [[check]] is configured: only the command's exit status decides; add checks to "+ConfigFile)
	} else {
		s.progress.Event(ProgressEvent{Kind: "step", Name: "validate", Message: "validating the current state"})
		v, err := s.ValidateLevel(ctx, level)
		if err != nil {
			return nil, fmt.Errorf("validate the current state: %w", err)
		}
		if v.Status == StatusPassed {
			co.Validation = v
		} else if !o.AllowUnvalidated {
			return nil, WithHint(&ValidationError{Failed: v.Failures(), Total: len(v.Checks)},
				"the current state fails validation, so there is no good state to return to; fix it first, or pass --allow-unvalidated")
		} else {
			co.NoValidate = true
			res.Warnings = append(res.Warnings, "the current state fails validation; the pre-change snapshot is unvalidated")
		}
	}
	s.progress.Event(ProgressEvent{Kind: "step", Name: "snapshot", Message: "taking the pre-change snapshot"})
	cr, err := s.Create(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("take the pre-change snapshot: %w", err)
	}
	return cr.Snapshot, nil
}

// undoChange restores the pre-change snapshot after a failed change. Like
// restore's rollback it finishes even after Ctrl-C, and records a
// restored event on the pre-change snapshot.
func (s *Snap) undoChange(ctx context.Context, before *SnapshotInfo, res *TryResult, cause error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
	defer cancel()
	s.progress.Event(ProgressEvent{Kind: "step", Name: "rollback", Message: "change failed; restoring " + before.ID})
	t0 := time.Now()
	fe := &TryFailedError{Outcome: res.Outcome, Cause: cause, Before: before.ID, Result: res}
	scopes := before.Manifest.Scopes
	m, tree, err := readManifest(rctx, s.repo, before.Commit)
	if err == nil {
		res.ScopeMS, err = s.apply(rctx, m, tree, scopes)
	}
	res.Rollback = time.Since(t0)
	ev := newEvent(s.now(), EventRestored)
	ev.By, ev.Scopes, ev.DurationMS, ev.ScopeMS = s.identity().Email, scopes, res.Rollback.Milliseconds(), res.ScopeMS
	ev.Message = "automatic rollback: change " + strings.ReplaceAll(res.Outcome, "_", " ")
	if err != nil {
		fe.RollbackErr = err
		ev.Result, ev.Error = "failed", oneLine(err.Error())
	} else {
		fe.RolledBack, res.RolledBack = true, true
		ev.Result = "ok"
	}
	_ = appendEvents(rctx, s.repo, NotesRef, s.signature(), map[Hash][]Event{before.Commit: {ev}})
	if fe.RolledBack {
		return WithHint(fe, "the pre-change state is back; inspect the failure and try again")
	}
	return WithHint(fe, "restore the pre-change snapshot by hand: git snap restore %s --yes", before.ID)
}

func (s *Snap) changeMessage(o TryOptions) string {
	if o.Message != "" {
		return o.Message
	}
	verb := "try"
	if o.Deploy {
		verb = "deploy"
	}
	return verb + ": " + oneLine(strings.Join(o.Command, " "))
}

func (s *Snap) postTags(o TryOptions) []string {
	tags := append([]string(nil), o.Tags...)
	if o.Deploy && !contains(tags, TagDeploy) {
		tags = append(tags, TagDeploy)
	}
	return tags
}
