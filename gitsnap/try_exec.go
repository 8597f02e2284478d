package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// changeRun is how a try/deploy command ended.
type changeRun struct {
	ExitCode int // -1 when it did not exit normally (killed, not started)
	TimedOut bool
	Err      error // start failure, timeout or interruption; nil on exit 0
	Duration time.Duration
}

// runChange runs the change: one argument with sh -c, several as argv. It
// runs in its own process group in the worktree root, so a timeout or
// Ctrl-C kills everything it started, not only the shell.
func runChange(ctx context.Context, o TryOptions, dir string, extraEnv []string) changeRun {
	start := time.Now()
	cctx := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	var cmd *exec.Cmd
	if len(o.Command) == 1 {
		cmd = exec.CommandContext(cctx, "sh", "-c", o.Command[0])
	} else {
		cmd = exec.CommandContext(cctx, o.Command[0], o.Command[1:]...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, orDiscard(o.Stdout), orDiscard(o.Stderr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	r := changeRun{Duration: time.Since(start), ExitCode: -1}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.Err = ctx.Err()
	case cctx.Err() == context.DeadlineExceeded:
		r.TimedOut = true
		r.Err = fmt.Errorf("command timed out after %s", o.Timeout)
	case err == nil:
		r.ExitCode = 0
	case errors.As(err, &ee):
		r.ExitCode = ee.ExitCode()
		r.Err = fmt.Errorf("command exited with status %d", r.ExitCode)
	default:
		r.Err = fmt.Errorf("run command: %w", err)
	}
	return r
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
