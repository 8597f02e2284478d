package dbtest

import (
	"context"
	"os/exec"
	"strings"
	"sync"
)

// FakeRunner is a Runner (scopes/database.Runner) that runs a shell script
// in place of each named tool: Command(ctx, "pg_dump", args...) runs
// `sh -c Scripts["pg_dump"] pg_dump args...`, so the script sees the
// arguments as $1... and can read stdin, write stdout and exit non-zero.
// A tool without a script fails to start with exec.ErrNotFound, like a
// missing binary. Calls are recorded. Safe for concurrent use.
type FakeRunner struct {
	Scripts map[string]string

	mu    sync.Mutex
	calls []string
}

// Command implements scopes/database.Runner.
func (f *FakeRunner) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	f.mu.Lock()
	f.calls = append(f.calls, strings.TrimSpace(name+" "+strings.Join(args, " ")))
	f.mu.Unlock()
	script, ok := f.Scripts[name]
	if !ok {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Path = name
		cmd.Err = &exec.Error{Name: name, Err: exec.ErrNotFound}
		return cmd
	}
	return exec.CommandContext(ctx, "sh", append([]string{"-c", script, name}, args...)...)
}

// Calls returns "tool arg1 arg2" for every Command call so far.
func (f *FakeRunner) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}
