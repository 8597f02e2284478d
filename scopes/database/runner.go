package database

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
)

// Runner starts external tools (pg_dump, mysql, sh). It is the seam that
// lets unit tests fake a tool: drivers never call exec.Command directly.
//
// Command returns a command bound to ctx that has not been started. The
// caller sets Stdin/Stdout/Stderr/Dir/Env and runs it. Secrets never go in
// args: use SetEnv or WriteSecretFile.
type Runner interface {
	Command(ctx context.Context, name string, args ...string) *exec.Cmd
}

// ExecRunner runs real programs found on PATH.
type ExecRunner struct {
	// WaitDelay bounds how long Wait waits for a cancelled tool (and its
	// output pipes) before killing it; 0 means 5 s.
	WaitDelay time.Duration
}

// Command implements Runner. On cancellation the tool gets SIGTERM first
// (pg_restore and mysql then abort their transaction cleanly) and SIGKILL
// after WaitDelay. PostgreSQL's client tools skip Debian's pg_wrapper when
// its choice is certain (resolvePGTool).
func (r ExecRunner) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, resolvePGTool(name), args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}
	return cmd
}

var _ Runner = ExecRunner{}

// RunnerFunc adapts a function to Runner (handy for fakes).
type RunnerFunc func(ctx context.Context, name string, args ...string) *exec.Cmd

// Command implements Runner.
func (f RunnerFunc) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return f(ctx, name, args...)
}

// SetEnv sets environment variables on cmd ("KEY=value" pairs), starting
// from the process environment when cmd.Env is nil and replacing earlier
// values of the same keys. This is how passwords reach child tools
// (PGPASSWORD, MYSQL_PWD, REDISCLI_AUTH, DATABASE_URL): never through argv,
// where any user can read them with ps.
func SetEnv(cmd *exec.Cmd, kv ...string) {
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	for _, pair := range kv {
		key, _, _ := strings.Cut(pair, "=")
		out := env[:0:0]
		for _, e := range env {
			if k, _, _ := strings.Cut(e, "="); k != key {
				out = append(out, e)
			}
		}
		env = append(out, pair)
	}
	cmd.Env = env
}

// WriteSecretFile writes data to a new 0600 file in dir (os.TempDir when
// empty), for tools that read credentials from an option file (mysql
// --defaults-extra-file). The returned remove function deletes it and is
// safe to call more than once.
func WriteSecretFile(dir, pattern string, data []byte) (path string, remove func(), err error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", func() {}, fmt.Errorf("create option file: %w", err)
	}
	path = f.Name()
	var once sync.Once
	remove = func() { once.Do(func() { _ = os.Remove(path) }) }
	// CreateTemp already uses 0600; Chmod guards against an odd umask/FS.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		remove()
		return "", func() {}, fmt.Errorf("chmod option file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		remove()
		return "", func() {}, fmt.Errorf("write option file: %w", err)
	}
	if err := f.Close(); err != nil {
		remove()
		return "", func() {}, fmt.Errorf("close option file: %w", err)
	}
	return path, remove, nil
}

// TailBuffer is an io.Writer for a tool's stderr that keeps only the last
// few KiB, so a chatty tool cannot grow memory. Safe for concurrent use.
type TailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 8 << 10

// Write implements io.Writer.
func (b *TailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > tailMax {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-tailMax:]...)
	}
	return len(p), nil
}

// String returns what was kept.
func (b *TailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// LastLine returns the last non-empty line, redacted (RedactText), or "".
func (b *TailBuffer) LastLine() string {
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return RedactText(l)
		}
	}
	return ""
}

// ToolError turns a failed tool run into a one-line error naming the
// database and the tool, with the last stderr line (redacted) and a hint.
// A missing binary gets an "install it" hint; a cancelled ctx returns an
// error wrapping ctx.Err(). hint may be empty.
func ToolError(ctx context.Context, db, tool string, err error, stderr *TailBuffer, hint string) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil {
		return fmt.Errorf("database %s: %s: %w", db, tool, ctx.Err())
	}
	if errors.Is(err, exec.ErrNotFound) {
		return gitsnap.WithHint(fmt.Errorf("database %s: %s not found on PATH: %w", db, tool, err),
			"install %s (its client package) or put it on PATH", tool)
	}
	detail := ""
	if stderr != nil {
		if l := stderr.LastLine(); l != "" {
			detail = ": " + l
		}
	}
	// err comes from os/exec ("exit status 1", "signal: killed"): it holds
	// no connection string, so it is wrapped as is.
	e := fmt.Errorf("database %s: %s failed: %w%s", db, tool, err, detail)
	if hint == "" {
		return e
	}
	return gitsnap.WithHint(e, "%s", hint)
}

// oneLine collapses whitespace so an error stays on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
