package gitsnap

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// RemoteError is a failed transport operation (ls-remote, fetch, push).
// Permanent errors (authentication, no such remote or repository) fail at
// once; the others were retried with backoff before being returned.
type RemoteError struct {
	Remote    string
	Op        string // "list", "fetch" or "push"
	Permanent bool
	Attempts  int
	Detail    string // git's own error lines
	Err       error
}

func (e *RemoteError) Error() string {
	if e.Op == "resolve" {
		return fmt.Sprintf("%s: %s", e.Remote, e.Detail)
	}
	msg := fmt.Sprintf("%s %s failed", e.Op, e.Remote)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if !e.Permanent && e.Attempts > 1 {
		msg += fmt.Sprintf(" (%d attempts)", e.Attempts)
	}
	return msg
}

func (e *RemoteError) Unwrap() error { return e.Err }

// Hint says what to do next, depending on what git reported.
func (e *RemoteError) Hint() string {
	d := reportedText(e.Detail)
	switch {
	case e.Op == "resolve":
		return fmt.Sprintf("add it with: git remote add %s <url> (git remote -v lists the remotes)", e.Remote)
	case containsAny(d, authFailures):
		return fmt.Sprintf("check your credentials or SSH key for %s; git ls-remote %s shows git's own messages", e.Remote, e.Remote)
	case containsAny(d, missingRepo):
		return fmt.Sprintf("check the URL of %s (git remote -v); create the repository first, e.g. git init --bare <path>", e.Remote)
	case e.Permanent:
		return fmt.Sprintf("git ls-remote %s shows git's own messages", e.Remote)
	}
	return "the remote did not answer; check the network and run the command again"
}

var (
	authFailures = []string{"authentication failed", "permission denied", "could not read username",
		"could not read password", "access denied", "host key verification failed",
		"returned error: 401", "returned error: 403", "401 unauthorized", "403 forbidden",
		"invalid username or password", "terminal prompts disabled"}
	missingRepo = []string{"does not appear to be a git repository", "repository not found",
		"not found", "no such file or directory", "not a git repository", "does not exist"}
)

// quotedSpan is a URL or path git quotes in its messages.
var quotedSpan = regexp.MustCompile(`'[^']*'`)

// reportedText is git's message in lower case without the URLs and paths
// it quotes, so that a path holding "401" or "not found" cannot decide
// what kind of failure it was.
func reportedText(detail string) string {
	return strings.ToLower(quotedSpan.ReplaceAllString(detail, "''"))
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// classifyTransport turns a failed git transport command into a
// RemoteError, deciding whether retrying could help.
func classifyTransport(remote, op string, err error, stderr string) *RemoteError {
	detail := lastErrorLines(stderr)
	d := reportedText(detail)
	perm := containsAny(d, authFailures) || containsAny(d, missingRepo) ||
		strings.Contains(d, "unsupported") || strings.Contains(d, "invalid refspec") ||
		strings.Contains(d, "hook declined") || strings.Contains(d, "protocol error: bad")
	return &RemoteError{Remote: remote, Op: op, Permanent: perm, Detail: detail, Err: err}
}

// lastErrorLines keeps git's fatal/error/remote lines, without progress.
func lastErrorLines(stderr string) string {
	var keep []string
	for _, l := range splitProgressLines(stderr) {
		l = strings.TrimSpace(l)
		lower := strings.ToLower(l)
		if strings.HasPrefix(lower, "fatal:") || strings.HasPrefix(lower, "error:") || strings.HasPrefix(lower, "remote: error") ||
			strings.HasPrefix(lower, "ssh:") || strings.Contains(lower, "permission denied") || strings.HasPrefix(lower, "remote: fatal") {
			keep = append(keep, strings.TrimPrefix(strings.TrimPrefix(l, "fatal: "), "error: "))
		}
	}
	if len(keep) == 0 {
		return strings.TrimSpace(oneLine(stderr))
	}
	if len(keep) > 3 {
		keep = keep[len(keep)-3:]
	}
	return strings.Join(keep, "; ")
}

var plainRemoteName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Remote is a resolved snapshot remote.
type Remote struct {
	// Name is what git is given: a configured remote name, a path or a URL.
	Name string
	// Key names the remote in refs and git config: the remote name, or
	// "url-<12 hex>" for a URL or path given directly.
	Key string
}

// TrackingNotesRef is where fetched remote notes are kept for merging.
func (r Remote) TrackingNotesRef() string { return "refs/notes/remotes/" + r.Key + "/snap" }

// ResolveRemote picks the snapshot remote: the argument, else [remote]
// name in .gitsnap.toml, else git config snap.remote. A plain name must
// be a configured git remote (or an existing directory).
func (s *Snap) ResolveRemote(arg string) (Remote, error) {
	name := arg
	if name == "" {
		name = s.cfg.Remote.Name
	}
	if name == "" {
		name, _ = s.repo.ConfigValue("snap.remote")
	}
	if name == "" {
		return Remote{}, WithHint(fmt.Errorf("%w: no snapshot remote given or configured", ErrUsage),
			"name one (git snap push snapshots), or set [remote] name in %s, or git config snap.remote <name>", ConfigFile)
	}
	if plainRemoteName.MatchString(name) {
		if _, ok := s.repo.ConfigValue("remote." + name + ".url"); ok {
			return Remote{Name: name, Key: name}, nil
		}
		if !isDir(s.remotePath(name)) {
			re := &RemoteError{Remote: name, Op: "resolve", Permanent: true,
				Detail: "no such remote", Err: fmt.Errorf("no remote %q", name)}
			return Remote{}, WithHint(re, "%s", re.Hint())
		}
	}
	sum := sha1.Sum([]byte(name))
	return Remote{Name: name, Key: "url-" + hex.EncodeToString(sum[:6])}, nil
}

// IsRemote reports whether name is a configured git remote, or looks like
// a URL or path rather than a snapshot name.
func (s *Snap) IsRemote(name string) bool {
	if plainRemoteName.MatchString(name) {
		_, ok := s.repo.ConfigValue("remote." + name + ".url")
		return ok
	}
	return strings.ContainsAny(name, "/:\\") || strings.HasPrefix(name, ".")
}

func (s *Snap) remotePath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(s.repo.Root(), name)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// retryPolicy is the bounded exponential backoff for transient transport
// failures: 0.5 s, 1 s, 2 s, 4 s, 8 s (randomised ±50 %), six attempts.
func retryPolicy(ctx context.Context) backoff.BackOff {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(500*time.Millisecond),
		backoff.WithMaxInterval(8*time.Second),
		backoff.WithMaxElapsedTime(2*time.Minute),
	)
	return backoff.WithContext(backoff.WithMaxRetries(b, 5), ctx)
}

// withRetry runs op, retrying transient RemoteErrors with backoff. It
// returns the number of attempts made.
func withRetry(ctx context.Context, p Progress, op func() error) (int, error) {
	attempts := 0
	err := backoff.RetryNotify(func() error {
		attempts++
		err := op()
		var re *RemoteError
		if err == nil || !errors.As(err, &re) || re.Permanent {
			if err != nil {
				return backoff.Permanent(err)
			}
			return nil
		}
		return err
	}, retryPolicy(ctx), func(err error, d time.Duration) {
		p.Event(ProgressEvent{Kind: "warning", Message: fmt.Sprintf("%v; retrying in %s", err, d.Round(100*time.Millisecond))})
	})
	if ctx.Err() != nil {
		return attempts, ctx.Err()
	}
	var re *RemoteError
	if errors.As(err, &re) {
		re.Attempts = attempts
		if HintOf(err) == "" {
			err = WithHint(err, "%s", re.Hint())
		}
	}
	return attempts, err
}
