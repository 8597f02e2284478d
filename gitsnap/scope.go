package gitsnap

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// Scope captures and restores one kind of state (code, config,
// dependencies, files, database). A scope knows nothing about Git storage:
// it writes artifacts to an ArtifactWriter and reads them back from an
// ArtifactReader; the core chunks, hashes and stores them. Every scope
// passes scopes/scopetest.Run.
//
// Contract:
//   - Capture is deterministic: the same live state gives the same
//     artifacts (and so the same Git objects).
//   - Plan never changes anything.
//   - Restore makes the live state equal to the snapshot's artifacts. It
//     writes every file atomically (temp file + rename) and removes only
//     what lies inside the scope's own patterns. A failed Restore may leave
//     the scope partly restored; the core then rolls back from the safety
//     snapshot.
//   - All three honour ctx cancellation and return ctx.Err() (wrapped).
type Scope interface {
	Name() string
	Capture(ctx context.Context, env *ScopeEnv, w ArtifactWriter) error
	Plan(ctx context.Context, env *ScopeEnv, r ArtifactReader) (*ScopePlan, error)
	Restore(ctx context.Context, env *ScopeEnv, r ArtifactReader) error
}

// ScopeEnv is what a scope may use.
type ScopeEnv struct {
	Root     string   // absolute worktree root
	Config   *Config  // the repository's .gitsnap.toml (defaults applied)
	Worktree Worktree // Git worktree access, for the code scope only
	Progress Progress // never nil (NoProgress when unset)
	// QuickPlan: the plan is only counted, not shown (restore --yes), so a
	// scope may skip work that only refines it (a database digest that
	// would dump the live database just to say "unchanged").
	QuickPlan bool
	// Hold is set for a restore that keeps replaced data aside instead of
	// copying it into the safety snapshot first ([restore]
	// database_safety = "hold"). A Settler's Capture for the safety
	// snapshot records a held artifact naming where the data will be kept,
	// and its Stage keeps the data it replaces there. Settle later copies
	// it into a snapshot. Empty otherwise.
	Hold string
	// Unheld is set while a restore that held with this token is rolled
	// back: a held copy named for it that does not exist was never made
	// (the restore failed before that swap), so nothing is swapped back.
	Unheld string
}

// CodeState is what the code scope records.
type CodeState struct {
	Commit Hash   // HEAD when captured (ZeroHash on an unborn branch)
	Tree   Hash   // the worktree as captured (== Commit's tree when clean)
	Branch string // "refs/heads/main" or "" when detached
	Dirty  bool   // Tree differs from Commit's tree
}

// ArtifactWriter receives a scope's capture. Safe for concurrent use.
type ArtifactWriter interface {
	// PutFile stores a regular file at a slash-separated path relative to
	// the worktree root. r must yield exactly size bytes. Large files are
	// chunked by the core; small ones become files/<path>.
	PutFile(ctx context.Context, path string, mode fs.FileMode, size int64, r io.Reader) error
	// PutSymlink stores a symbolic link as a link (its target is not followed).
	PutSymlink(ctx context.Context, path, target string) error
	// PutStream stores a stream of unknown length (a database dump) under
	// chunks/<scope>/<name>/ and returns its artifact. meta is recorded in the
	// manifest (driver, dump format, server version...); never put secrets in it.
	// meta is read only after r has returned io.EOF, so a driver may fill
	// the map while it dumps (facts like the size are known at the end).
	PutStream(ctx context.Context, name string, r io.Reader, meta map[string]string) (Artifact, error)
	// PutCode records the code scope's state; Tree must have been written
	// through Objects().
	PutCode(ctx context.Context, c CodeState) error
	// Objects gives the code scope direct access to the object writer.
	Objects() ObjectWriter
}

// ArtifactReader serves one scope's artifacts from a snapshot.
type ArtifactReader interface {
	// Artifacts lists this scope's artifacts sorted by path.
	Artifacts() []Artifact
	// Open streams an artifact's content (a symlink's target for symlinks).
	// The reader checks size and sha256 as it goes: a mismatch is returned
	// as an error wrapping ErrIntegrity instead of io.EOF, so a caller that
	// writes to a temp file and renames only after EOF never installs bad data.
	Open(ctx context.Context, a Artifact) (io.ReadCloser, error)
	// Code returns the recorded code state, if the snapshot has one.
	Code() (CodeState, bool)
}

// Artifact kinds.
const (
	KindBlob    = "blob"    // one blob at files/<path>
	KindChunked = "chunked" // chunks/<scope>/<path>/00000000, 00000001, ...
	// KindSymlink is a blob at files/<path> holding the link target, tree
	// mode 120000; its Size and SHA256 are those of the target string.
	KindSymlink = "symlink"
)

// Artifact is one captured thing, as recorded in snap.json.
type Artifact struct {
	Scope  string            `json:"scope"`
	Path   string            `json:"path"`
	Kind   string            `json:"kind"`
	Mode   FileMode          `json:"mode"`
	Size   int64             `json:"size"`
	SHA256 string            `json:"sha256"`
	Chunks int               `json:"chunks,omitempty"`
	Deltas int               `json:"deltas,omitempty"` // chunks stored as deltas (format 2)
	Meta   map[string]string `json:"meta,omitempty"`
}

// ChangeOp is what a restore would do to one path or object.
type ChangeOp string

// Change operations shown in a restore plan.
const (
	OpAdd     ChangeOp = "add"
	OpModify  ChangeOp = "modify"
	OpRemove  ChangeOp = "remove"
	OpReplace ChangeOp = "replace" // a database, replaced whole
	OpMode    ChangeOp = "mode"    // permission change only
)

// Change is one planned change.
type Change struct {
	Op     ChangeOp `json:"op"`
	Path   string   `json:"path"`
	Detail string   `json:"detail,omitempty"`
}

// ScopePlan is what restoring a scope would change.
type ScopePlan struct {
	Scope    string   `json:"scope"`
	Changes  []Change `json:"changes"`
	Warnings []string `json:"warnings,omitempty"`
}

// Empty reports whether the plan changes nothing.
func (p *ScopePlan) Empty() bool { return len(p.Changes) == 0 }

// Sort orders changes by path.
func (p *ScopePlan) Sort() {
	sort.SliceStable(p.Changes, func(i, j int) bool { return p.Changes[i].Path < p.Changes[j].Path })
}

// Registry maps scope names to implementations, in capture order. It is
// built in code by scopes.Default(); nothing registers itself.
type Registry struct {
	order  []string
	scopes map[string]Scope
}

// NewRegistry builds a registry from scopes in the given order.
func NewRegistry(scopes ...Scope) *Registry {
	r := &Registry{scopes: map[string]Scope{}}
	for _, s := range scopes {
		r.order = append(r.order, s.Name())
		r.scopes[s.Name()] = s
	}
	return r
}

// Get returns the named scope.
func (r *Registry) Get(name string) (Scope, bool) {
	s, ok := r.scopes[name]
	return s, ok
}

// Names lists scope names in registration order.
func (r *Registry) Names() []string { return append([]string(nil), r.order...) }

// VerifiesBeforeApply is an optional Scope capability: a scope whose
// Restore reads each artifact to a verified end (size and sha256) before
// it changes any live state (a database loaded aside, then swapped) says
// so, and restore does not read its artifacts a second time up front.
type VerifiesBeforeApply interface {
	VerifiesBeforeApply() bool
}

func verifiesBeforeApply(sc Scope) bool {
	v, ok := sc.(VerifiesBeforeApply)
	return ok && v.VerifiesBeforeApply()
}

// Stager is an optional Scope capability: a scope whose restore has a slow
// part that changes nothing live (loading a database dump into a temporary
// database) does that part in Stage, and the swap in Staged.Commit.
// Restore stages such scopes while it takes the safety snapshot, and
// commits them in scope order once the safety snapshot is written and the
// stop commands ran, so the restore costs about max(safety snapshot,
// load) instead of their sum.
//
// Contract:
//   - Stage changes nothing live. It runs at the same time as the safety
//     snapshot's Capture of the same scope, so nothing it makes may be
//     seen by any scope's Capture or Plan, or removed by any scope's
//     Restore (a temporary database, not a file in the worktree).
//   - Stage reads every artifact it loads to a verified end (a digest
//     mismatch is an error wrapping ErrIntegrity) before it returns: a
//     Staged value only ever installs verified data.
//   - A failed Stage leaves nothing behind. Stage honours ctx and returns
//     ctx.Err() (wrapped); ctx is cancelled once staging is over, so a
//     Staged value must not keep using it.
//   - Commit makes the live state equal to the snapshot, as Restore would
//     (the swap), with the same failure rules: a failed Commit may leave the
//     scope partly restored, and the core rolls back from the safety
//     snapshot. It is called at most once.
//   - Discard removes everything Stage made that Commit did not install and
//     leaves the live state alone. It is idempotent, safe after a failed
//     Commit and a no-op after a successful one. The core calls it with a
//     context Ctrl-C does not cancel.
type Stager interface {
	Stage(ctx context.Context, env *ScopeEnv, r ArtifactReader) (Staged, error)
}

// Settler is an optional Scope capability: a scope that keeps replaced
// data aside during a restore (ScopeEnv.Hold) instead of copying it into
// the safety snapshot first. The safety snapshot then holds a small held
// artifact per kept item; restoring it swaps the kept data back (the
// scope's Stage does that), and Snap.Settle turns the safety snapshot into
// a complete one by copying the kept data in with Settle, then removes it
// with Release.
type Settler interface {
	// Held reports whether a is a held artifact.
	Held(a Artifact) bool
	// Settle captures the data a held artifact names into w, under the
	// same path, as Capture would. Data that is gone wraps ErrHeldGone.
	Settle(ctx context.Context, env *ScopeEnv, a Artifact, w ArtifactWriter) error
	// Release removes the kept data; data gone already is no error.
	Release(ctx context.Context, env *ScopeEnv, a Artifact) error
}

// Staged is a scope's restore loaded aside by Stager.Stage, waiting to be
// swapped in (see Stager for the contract).
type Staged interface {
	Commit(ctx context.Context) error
	Discard(ctx context.Context) error
}

// scopeErr wraps a scope's error with the operation and scope name, unless
// the scope already said it ("restore code: …"), so messages never stutter.
func scopeErr(op, scope string, err error) error {
	if strings.HasPrefix(err.Error(), op+" "+scope+":") {
		return err
	}
	return fmt.Errorf("%s %s: %w", op, scope, err)
}
