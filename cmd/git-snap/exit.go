package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// Exit codes: a stable, documented contract (docs/exit-codes.md).
const (
	exitOK          = 0
	exitFailed      = 1   // operation failed
	exitUsage       = 2   // bad flags, arguments or .gitsnap.toml
	exitPartial     = 3   // snapshot written but some scopes failed
	exitValidation  = 4   // checks failed: nothing was written
	exitRolledBack  = 5   // restore failed and was rolled back (or the rollback failed)
	exitDamaged     = 6   // snapshot damaged: missing objects, digest mismatch, unsafe paths, unknown format
	exitNotFound    = 10  // snapshot not found or ambiguous
	exitConcurrent  = 11  // concurrent update lost a race; retry
	exitNotARepo    = 128 // not a git repository (as git)
	exitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM)
)

// exitCode maps an error to its exit code; the order matters: the most
// specific outcome wins.
func exitCode(err error) int {
	var rf *gitsnap.RestoreFailedError
	var ve *gitsnap.ValidationError
	var amb *gitsnap.AmbiguousIDError
	var pe *gitsnap.PartialError
	var tf *gitsnap.TryFailedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &tf):
		return tryExitCode(tf) // try.go: 7, 8, or 5/130 as for restore
	case errors.Is(err, context.Canceled):
		return exitInterrupted // a cancelled restore has been rolled back
	case errors.As(err, &rf):
		return exitRolledBack
	case errors.Is(err, gitsnap.ErrNotARepo):
		return exitNotARepo
	case errors.As(err, &ve):
		return exitValidation
	case errors.As(err, &pe):
		return exitPartial
	case errors.As(err, &amb), errors.Is(err, gitsnap.ErrSnapshotNotFound):
		return exitNotFound
	case errors.Is(err, gitsnap.ErrRefChanged), errors.Is(err, gitsnap.ErrLocked):
		return exitConcurrent
	case errors.Is(err, gitsnap.ErrIntegrity), errors.Is(err, gitsnap.ErrInvalidFormat), errors.Is(err, gitsnap.ErrUnsafePath):
		return exitDamaged
	case errors.Is(err, gitsnap.ErrUsage), errors.Is(err, gitsnap.ErrConfig), errors.Is(err, gitsnap.ErrNeedsConfirmation), errors.Is(err, errUsage):
		return exitUsage
	}
	return exitFailed
}

var errUsage = errors.New("usage")

// usageError is a flag or argument problem found by the command layer.
func usageError(hint, format string, args ...any) error {
	return gitsnap.WithHint(fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...)), "%s", hint)
}

// printError writes git-style "error:" and "hint:" lines, or one JSON
// exit_error object with --json.
func printError(w io.Writer, err error, asJSON bool) int {
	code := exitCode(err)
	msg := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
	msg = strings.TrimPrefix(msg, gitsnap.ErrUsage.Error()+": ")
	hint := gitsnap.HintOf(err)
	if errors.Is(err, context.Canceled) {
		msg, hint = "interrupted", "nothing was left half-written; run the command again"
	}
	if hint == "" {
		hint = defaultHint(err)
	}
	if asJSON {
		b, _ := json.Marshal(map[string]any{"message_type": "exit_error", "code": code, "message": msg, "hint": hint})
		fmt.Fprintln(w, string(b))
		return code
	}
	fmt.Fprintf(w, "error: %s\n", strings.ReplaceAll(msg, "\n", " "))
	if hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
	return code
}

func defaultHint(err error) string {
	var ve *gitsnap.ValidationError
	switch {
	case errors.Is(err, gitsnap.ErrNotARepo):
		return "run git snap inside a git repository (git init creates one)"
	case errors.As(err, &ve):
		return "fix the failing checks, or snapshot anyway with --no-validate"
	case errors.Is(err, gitsnap.ErrRefChanged):
		return "another git-snap or git process changed it at the same time; run the command again"
	case errors.Is(err, gitsnap.ErrUnsafePath):
		return "restore never writes outside the worktree, into .git or through a symlink; nothing was changed"
	case errors.Is(err, gitsnap.ErrIntegrity), errors.Is(err, gitsnap.ErrInvalidFormat):
		return "the snapshot is damaged; pick another with git snap list"
	}
	return "see git snap help for usage"
}
