package database

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// Command is the "command" driver, for engines git-snap does not ship: the
// entry's dump command writes the dump to stdout, its restore command reads
// it from stdin. Both run with `sh -c` in the repository root, in their own
// process group, with the connection string in the environment variable
// named by url_env (default DATABASE_URL) and GIT_SNAP_DATABASE set to the
// entry's name; nothing secret is ever put in argv.
//
// A configured schema_version is a shell command too: its first line of
// output is the version.
//
// Atomicity is the restore command's own: git-snap streams the verified
// dump into it, and if the dump turns out damaged (its digest is checked at
// the end) or ctx is cancelled, the whole process group is killed with
// SIGKILL before its stdin is closed, so a command that commits only on a
// clean end of input (`cat > db.tmp && mv db.tmp db`, a psql script in one
// transaction) never installs partial data. A command that writes in place
// as it reads is not all-or-nothing; write it to load aside and swap.
type Command struct {
	run Runner
}

// NewCommand returns the command driver running `sh` through r.
func NewCommand(r Runner) Driver { return &Command{run: r} }

var (
	_ Driver   = (*Command)(nil)
	_ Digester = (*Command)(nil)
)

// Name implements Driver.
func (c *Command) Name() string { return "command" }

// shell builds `sh -c script` for t in its own process group.
func (c *Command) shell(ctx context.Context, t Target, script string) *exec.Cmd {
	cmd := c.run.Command(ctx, "sh", "-c", script)
	cmd.Dir = t.Root
	envName := t.Config.URLEnv
	if envName == "" {
		envName = DefaultURLEnv
	}
	kv := []string{"GIT_SNAP_DATABASE=" + t.Config.Name}
	if t.URL != "" {
		kv = append(kv, envName+"="+t.URL)
	}
	SetEnv(cmd, kv...)
	ownProcessGroup(cmd)
	return cmd
}

// Inspect implements Driver. Only the schema version is known (from the
// schema_version command, if configured); size and tables are not.
func (c *Command) Inspect(ctx context.Context, t Target) (Info, error) {
	info := Info{Meta: map[string]string{}}
	if t.Config.SchemaVersion == "" {
		return info, nil
	}
	var out strings.Builder
	var tail TailBuffer
	cmd := c.shell(ctx, t, t.Config.SchemaVersion)
	cmd.Stdout = &limitWriter{w: &out, n: 4096}
	cmd.Stderr = &tail
	if err := cmd.Run(); err != nil {
		return Info{}, ToolError(ctx, t.Config.Name, "schema_version command", err, &tail,
			fmt.Sprintf("check schema_version of database %q in .gitsnap.toml: it is run with sh -c and prints the version", t.Config.Name))
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
	info.SchemaVersion = strings.TrimSpace(line)
	return info, nil
}

// Dump implements Driver: the dump command's stdout goes straight to w.
func (c *Command) Dump(ctx context.Context, t Target, w io.Writer) (Info, error) {
	info, err := c.Inspect(ctx, t)
	if err != nil {
		return Info{}, err
	}
	var tail TailBuffer
	cw := &countWriter{w: w}
	cmd := c.shell(ctx, t, t.Config.Dump)
	cmd.Stdout = cw
	cmd.Stderr = &tail
	if err := cmd.Run(); err != nil {
		return Info{}, ToolError(ctx, t.Config.Name, "dump command", err, &tail,
			fmt.Sprintf("run the dump command of database %q from the repository root by hand; it must write the dump to stdout and exit 0", t.Config.Name))
	}
	info.Size = cw.n
	info.Meta[MetaDumpFormat] = "dump command output"
	return info, nil
}

// Digest implements Digester by running the dump command (which must be
// read-only) into a hash.
func (c *Command) Digest(ctx context.Context, t Target) (int64, string, error) {
	h := sha256.New()
	info, err := c.Dump(ctx, t, h)
	if err != nil {
		return 0, "", err
	}
	return info.Size, hex.EncodeToString(h.Sum(nil)), nil
}

// Restore implements Driver: the dump goes to the restore command's stdin.
// On a damaged dump or cancellation the process group is killed before
// stdin is closed (see Command).
func (c *Command) Restore(ctx context.Context, t Target, r io.Reader, _ Info) error {
	name := t.Config.Name
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("database %s: restore: %w", name, err)
	}
	var tail TailBuffer
	cmd := c.shell(ctx, t, t.Config.RestoreCmd)
	cmd.Stdout = &tail
	cmd.Stderr = &tail
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("database %s: restore command: %w", name, err)
	}
	hint := fmt.Sprintf("run the restore command of database %q by hand with a dump on stdin to see why", name)
	if err := cmd.Start(); err != nil {
		return ToolError(ctx, name, "restore command", err, &tail, hint)
	}
	src := &errReader{r: ctxReader{ctx: ctx, r: r}}
	_, copyErr := io.Copy(stdin, src)
	readErr := src.err
	if readErr == nil && copyErr != nil {
		// The command stopped reading (it exited or closed stdin). Drain the
		// rest so that a damaged dump is still reported.
		_, readErr = io.Copy(io.Discard, src)
	}
	if readErr != nil {
		killProcessGroup(cmd)
		_ = stdin.Close()
		_ = cmd.Wait()
		if ctx.Err() != nil {
			return fmt.Errorf("database %s: restore: %w", name, ctx.Err())
		}
		return gitsnap.WithHint(fmt.Errorf("database %s: read dump: %w (the restore command was killed before the end of its input)", name, readErr),
			"run git snap check to find damaged snapshot objects")
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		return ToolError(ctx, name, "restore command", err, &tail, hint)
	}
	return nil
}

// errReader remembers the first read error other than io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// countWriter counts bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// limitWriter keeps the first n bytes and drops the rest.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
