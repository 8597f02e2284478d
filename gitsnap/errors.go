package gitsnap

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Callers match them with errors.Is; cmd/git-snap maps them
// to exit codes (docs/exit-codes.md).
var (
	// ErrNotARepo: the working directory is not inside a Git repository.
	ErrNotARepo = errors.New("not a git repository (or any of the parent directories)")
	// ErrSnapshotNotFound: no snapshot matches the name given.
	ErrSnapshotNotFound = errors.New("snapshot not found")
	// ErrRefChanged: a compare-and-swap ref update lost a race.
	ErrRefChanged = errors.New("reference changed concurrently")
	// ErrRefNotFound: the reference does not exist.
	ErrRefNotFound = errors.New("reference not found")
	// ErrObjectNotFound: the object is not in the object database.
	ErrObjectNotFound = errors.New("object not found")
	// ErrInvalidFormat: a snapshot or note is not in a format this version reads.
	ErrInvalidFormat = errors.New("invalid snapshot format")
	// ErrConfig: .gitsnap.toml is missing, malformed or inconsistent.
	ErrConfig = errors.New("invalid configuration")
	// ErrUsage: bad arguments or flags.
	ErrUsage = errors.New("usage error")
	// ErrValidationFailed: a configured check failed.
	ErrValidationFailed = errors.New("validation failed")
	// ErrUnsafePath: a snapshot names a path outside the worktree.
	ErrUnsafePath = errors.New("unsafe path in snapshot")
	// ErrIntegrity: stored data does not match its recorded size or digest.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrNeedsConfirmation: the operation needs --yes when not on a terminal.
	ErrNeedsConfirmation = errors.New("confirmation required")
	// ErrAborted: the user declined a confirmation prompt.
	ErrAborted = errors.New("aborted by user")
	// ErrLocked: another process holds a lock git-snap needs (index.lock).
	ErrLocked = errors.New("repository is locked by another process")
	// ErrHeldGone: a held copy a safety snapshot names no longer exists.
	ErrHeldGone = errors.New("the held copy is gone")
)

// HintError decorates an error with the next thing to run. cmd/git-snap
// prints the hint on its own "hint:" line.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint wraps err with a hint; a nil err stays nil.
func WithHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: fmt.Sprintf(format, args...)}
}

// HintOf returns the outermost hint attached to err, or "".
func HintOf(err error) string {
	var h *HintError
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}

// AmbiguousIDError is returned when a name matches more than one snapshot.
type AmbiguousIDError struct {
	Prefix  string
	Matches []string // "id (date)" descriptions, newest first
}

func (e *AmbiguousIDError) Error() string {
	return fmt.Sprintf("snapshot %q is ambiguous", e.Prefix)
}

// Hint lists the candidates.
func (e *AmbiguousIDError) Hint() string {
	return "candidates: " + strings.Join(e.Matches, ", ")
}

// CheckFailure describes one failed check for a ValidationError.
type CheckFailure struct {
	Name     string
	ExitCode int
	Tail     string // last lines of combined output
	Err      string // timeout or start failure, if any
}

// ValidationError is returned when one or more checks failed; nothing was written.
type ValidationError struct {
	Failed []CheckFailure
	Total  int
}

func (e *ValidationError) Error() string {
	names := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		names[i] = f.Name
	}
	return fmt.Sprintf("validation failed: %d of %d checks failed (%s)", len(e.Failed), e.Total, strings.Join(names, ", "))
}

func (e *ValidationError) Unwrap() error { return ErrValidationFailed }

// PartialError is returned when the snapshot was written but some scopes failed.
type PartialError struct {
	ID     string
	Failed map[string]error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("snapshot %s written but %d scope(s) failed", e.ID, len(e.Failed))
}
