package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// CreateOptions control Create.
type CreateOptions struct {
	Message    string
	Scopes     []string // empty: the configured [snapshot] scopes
	Tags       []string // extra tags
	NoValidate bool     // skip the checks; the snapshot is "unvalidated"
	Level      string   // validation depth: health, smoke, full, perf ("" = configured)
	// Validation, when set, is used instead of running the checks (try and
	// deploy validate before they snapshot).
	Validation *Validation
	// safety marks the pre-restore safety snapshot: unvalidated, tagged pre-restore.
	safety bool
	// hold is the restore's hold token (ScopeEnv.Hold) for the safety snapshot.
	hold string
}

// CreateResult is what Create did.
type CreateResult struct {
	Snapshot   *SnapshotInfo
	Validation *Validation // nil with NoValidate
	Duration   time.Duration
	Warnings   []string
}

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$`)

// checkTag rejects tag names that would clash with snapshot names.
func checkTag(t string) error {
	if !tagPattern.MatchString(t) || t == "latest" || strings.HasPrefix(t, "snap_") || strings.Contains(t, "~") {
		return WithHint(fmt.Errorf("%w: invalid tag %q", ErrUsage, t), "tags are letters, digits and . _ / -, and not \"latest\" or snap_…")
	}
	return nil
}

// Create validates the live state, captures the scopes and writes the
// snapshot: objects first, then the ref, then the note events. When a check
// fails it returns a *ValidationError and writes nothing.
func (s *Snap) Create(ctx context.Context, o CreateOptions) (*CreateResult, error) {
	start := s.now()
	scopes, err := s.selectScopes(o.Scopes, nil)
	if err != nil {
		return nil, err
	}
	for _, t := range o.Tags {
		if err := checkTag(t); err != nil {
			return nil, err
		}
		if t == TagKnownGood && (o.NoValidate || o.safety) {
			return nil, WithHint(fmt.Errorf("%w: an unvalidated snapshot cannot be tagged known-good", ErrUsage), "drop --no-validate so the checks run")
		}
	}
	v := o.Validation
	var warnings []string
	if v == nil && !o.NoValidate && !o.safety && len(s.cfg.Check) == 0 {
		// Nothing proves this state works: never call it known-good.
		o.NoValidate = true
		warnings = append(warnings, "no [[check]] is configured, so the snapshot is unvalidated and not known-good; add checks to "+ConfigFile)
	}
	if v == nil && !o.NoValidate && !o.safety {
		s.progress.Event(ProgressEvent{Kind: "step", Name: "validate", Message: fmt.Sprintf("running %d check(s)", len(s.cfg.Check))})
		if v, err = s.ValidateLevel(ctx, o.Level); err != nil {
			return nil, fmt.Errorf("run checks: %w", err)
		}
	}
	if v != nil && v.Status == StatusPassed && len(v.Checks) == 0 {
		// A level that selects no check proves nothing either.
		v = nil
		warnings = append(warnings, "no check runs at this validation level, so the snapshot is unvalidated and not known-good")
	}
	if v == nil && contains(o.Tags, TagKnownGood) {
		return nil, WithHint(fmt.Errorf("%w: a snapshot no check validated cannot be tagged known-good", ErrUsage),
			"add [[check]]s to %s (or pick a --level that runs some)", ConfigFile)
	}
	if v != nil && v.Status != StatusPassed {
		return nil, WithHint(&ValidationError{Failed: v.Failures(), Total: len(v.Checks)},
			"fix the failing checks, or snapshot anyway with --no-validate (never known-good)")
	}
	info, err := s.capture(ctx, scopes, o.Message, o.hold)
	if err != nil {
		return nil, err
	}
	// Events: created, validated|unvalidated, tagged.
	id := s.identity()
	at := s.now()
	ev := func(typ string) Event {
		e := newEvent(at, typ)
		at = at.Add(time.Microsecond)
		e.By = id.Email
		return e
	}
	created := ev(EventCreated)
	created.Host, created.Scopes, created.Message = info.Manifest.Host, scopes, o.Message
	events := []Event{created}
	tags := append([]string(nil), o.Tags...)
	if v != nil {
		ve := ev(EventValidated)
		ve.Status, ve.Level, ve.Checks, ve.Metrics = v.Status, v.Level, v.Checks, v.Metrics
		events = append(events, ve)
		if s.cfg.TagKnownGood() && !contains(tags, TagKnownGood) {
			tags = append([]string{TagKnownGood}, tags...)
		}
	} else {
		events = append(events, ev(EventUnvalidated))
	}
	if o.safety {
		tags = append(tags, TagPreRestore)
	}
	if len(tags) > 0 {
		te := ev(EventTagged)
		te.Tags = tags
		events = append(events, te)
	}
	if err := appendEvents(ctx, s.repo, NotesRef, s.signature(), map[Hash][]Event{info.Commit: events}); err != nil {
		return nil, fmt.Errorf("snapshot %s written but its note was not: %w", info.ID, err)
	}
	info.Events = events
	info.fold()
	return &CreateResult{Snapshot: info, Validation: v, Duration: s.now().Sub(start), Warnings: warnings}, nil
}

// selectScopes checks requested scope names against the registry and
// config; allowed limits them further (restore: the snapshot's scopes).
func (s *Snap) selectScopes(requested, allowed []string) ([]string, error) {
	want := requested
	if len(want) == 0 {
		want = s.cfg.Snapshot.Scopes
		if allowed != nil {
			want = allowed
		}
	}
	var out []string
	for _, name := range AllScopes {
		if !contains(want, name) {
			continue
		}
		if allowed != nil && !contains(allowed, name) {
			return nil, WithHint(fmt.Errorf("%w: the snapshot has no %s scope", ErrUsage, name), "git snap show lists the scopes it has")
		}
		if _, ok := s.scopes.Get(name); !ok {
			return nil, WithHint(fmt.Errorf("%w: scope %q is not available in this build", ErrUsage, name), "choose from: %s", strings.Join(s.scopes.Names(), ", "))
		}
		out = append(out, name)
	}
	for _, name := range want {
		if name == "full" {
			return s.selectScopes(nil, allowed)
		}
		if !contains(AllScopes, name) {
			return nil, WithHint(fmt.Errorf("%w: unknown scope %q", ErrUsage, name), "scopes are: %s, full", strings.Join(AllScopes, ", "))
		}
	}
	if len(out) == 0 {
		return nil, WithHint(fmt.Errorf("%w: no scope to capture", ErrUsage), "set [snapshot] scopes in %s or pass --scope", ConfigFile)
	}
	return out, nil
}

// capture writes the scopes' artifacts, the manifest, the commit and the ref.
func (s *Snap) capture(ctx context.Context, scopes []string, message, hold string) (*SnapshotInfo, error) {
	ow, err := s.repo.NewObjectWriter(ctx)
	if err != nil {
		return nil, fmt.Errorf("open object writer: %w", err)
	}
	defer func() { _ = ow.Abort() }() // no-op after Flush
	head, err := s.repo.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("read HEAD: %w", err)
	}
	id := s.identity()
	host, _ := os.Hostname()
	m := &Manifest{
		Format: FormatVersion, CreatedAt: s.now().UTC(), Host: host, CreatedBy: s.createdBy(id),
		Tool: "git-snap " + s.version, Message: message, Branch: head.Branch,
		ConfigHash: hashConfigFile(s.cfg), Scopes: scopes, Chunker: defaultChunkerParams(),
	}
	if !head.Commit.IsZero() {
		m.SourceCommit = head.Commit.String()
	}
	sw := newSnapshotWriter(ow, s.progress)
	sw.repo, sw.prev = s.repo, s.prevFinder()
	env := s.scopeEnv()
	env.Hold = hold
	for _, name := range scopes {
		sc, _ := s.scopes.Get(name)
		s.progress.Event(ProgressEvent{Kind: "scope_start", Scope: name})
		if err := sc.Capture(ctx, env, sw.forScope(name)); err != nil {
			_ = sw.wait() // the scope error is the one to report
			return nil, scopeErr("capture", name, err)
		}
		s.progress.Event(ProgressEvent{Kind: "scope_done", Scope: name})
	}
	tree, err := sw.finish(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("write snapshot tree: %w", err)
	}
	sig := s.signature()
	sig.When = m.CreatedAt
	commit, err := ow.WriteCommit(ctx, &Commit{Tree: tree, Author: sig, Committer: sig, Message: commitMessage(m)})
	if err != nil {
		return nil, fmt.Errorf("write snapshot commit: %w", err)
	}
	if err := ow.Flush(ctx); err != nil {
		return nil, fmt.Errorf("write snapshot objects: %w", err)
	}
	snapID := SnapshotID(m.CreatedAt, commit)
	if err := s.repo.UpdateRef(ctx, SnapshotRefPrefix+snapID, ZeroHash, commit); err != nil {
		if errors.Is(err, ErrRefChanged) {
			return nil, WithHint(fmt.Errorf("create ref for %s: %w", snapID, err), "another process wrote the same snapshot; run git snap list")
		}
		return nil, fmt.Errorf("create ref for %s: %w", snapID, err)
	}
	return &SnapshotInfo{ID: snapID, Commit: commit, Manifest: m, Status: StatusUnknown}, nil
}

func (s *Snap) scopeEnv() *ScopeEnv {
	return &ScopeEnv{Root: s.repo.Root(), Config: s.cfg, Worktree: s.repo, Progress: s.progress, Unheld: s.unheld}
}

// identity is the user: git's GIT_COMMITTER_* env, then user.name/email.
func (s *Snap) identity() Signature {
	name, email := s.getenv("GIT_COMMITTER_NAME"), s.getenv("GIT_COMMITTER_EMAIL")
	if name == "" {
		name, _ = s.repo.ConfigValue("user.name")
	}
	if email == "" {
		email, _ = s.repo.ConfigValue("user.email")
	}
	if name == "" {
		name = "git-snap"
	}
	if email == "" {
		host, _ := os.Hostname()
		email = s.getenv("USER") + "@" + host
	}
	return Signature{Name: name, Email: email}
}

func (s *Snap) signature() Signature {
	sig := s.identity()
	sig.When = s.now()
	return sig
}

// createdBy: GITSNAP_CREATED_BY (agents set it), then "ci" under CI, then the user.
func (s *Snap) createdBy(id Signature) string {
	if v := s.getenv("GITSNAP_CREATED_BY"); v != "" {
		return v
	}
	if s.getenv("CI") == "true" {
		return "ci:" + id.Email
	}
	return id.Email
}
