package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// toolRun is one run of an external client tool (psql, pg_dump, mariadb…).
// The postgres, mysql and redis drivers share it.
type toolRun struct {
	db     string   // "main (postgres://u:xxxxx@h/db)", for messages
	name   string   // binary
	args   []string // never holds a secret
	env    []string // "KEY=value" pairs added to the environment
	stdin  io.Reader
	stdout io.Writer // nil discards
	// classify maps stderr to a short cause and a hint ("", "" if unknown).
	classify func(stderr string) (cause, hint string)
}

// run runs the tool and turns a failure into a one-line error naming the
// database (redacted) and the tool, with the tool's own error line, a
// cause and a hint. A missing binary says so; a cancelled ctx wraps
// ctx.Err().
func (t toolRun) run(ctx context.Context, r Runner) error {
	cmd := r.Command(ctx, t.name, t.args...)
	SetEnv(cmd, t.env...)
	cmd.Stdin = t.stdin
	cmd.Stdout = t.stdout
	var tail TailBuffer
	cmd.Stderr = &tail
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("database %s: %s: %w", t.db, t.name, ctx.Err())
	}
	if errors.Is(err, exec.ErrNotFound) {
		return gitsnap.WithHint(fmt.Errorf("database %s: %s not found on PATH: %w", t.db, t.name, err),
			"install the %s client tools (%s) or put them first on PATH", toolFamily(t.name), t.name)
	}
	stderr := tail.String()
	line := errorLine(stderr)
	cause, hint := "", ""
	if t.classify != nil {
		cause, hint = t.classify(stderr)
	}
	msg := fmt.Sprintf("database %s: %s failed", t.db, t.name)
	if cause != "" {
		msg = fmt.Sprintf("database %s: %s", t.db, cause)
	}
	if line != "" {
		msg += ": " + line
	}
	e := &toolFailure{msg: fmt.Sprintf("%s (%v)", msg, err), errs: []error{err}}
	if cause == causeNotExist {
		e.errs = append(e.errs, ErrNotExist)
	}
	if hint == "" {
		return e
	}
	return gitsnap.WithHint(e, "%s", hint)
}

// causeNotExist is the cause classifiers give a missing database; the
// error then wraps ErrNotExist, so a restore plan shows it as created.
const causeNotExist = "database does not exist"

// toolFailure is a tool's one-line error; it wraps the exec error and,
// for a missing database, ErrNotExist.
type toolFailure struct {
	msg  string
	errs []error
}

func (e *toolFailure) Error() string   { return e.msg }
func (e *toolFailure) Unwrap() []error { return e.errs }

// output runs the tool and returns its stdout (small outputs only).
func (t toolRun) output(ctx context.Context, r Runner) (string, error) {
	var out strings.Builder
	t.stdout = &out
	err := t.run(ctx, r)
	return out.String(), err
}

func toolFamily(name string) string {
	switch {
	case strings.HasPrefix(name, "pg_"), name == "psql":
		return "PostgreSQL"
	case strings.HasPrefix(name, "mysql"), strings.HasPrefix(name, "mariadb"):
		return "MariaDB/MySQL"
	}
	return name
}

// errorLine picks the line of a tool's stderr that says what went wrong:
// the first one carrying an error marker, else the last one; redacted and
// without the tool's "name: error:" prefix.
func errorLine(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	pick := ""
	for _, l := range lines {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "ERROR") || strings.Contains(l, "error:") ||
			strings.Contains(l, "ERROR:") || strings.Contains(l, "FATAL:") {
			pick = l
			break
		}
	}
	if pick == "" {
		for i := len(lines) - 1; i >= 0 && pick == ""; i-- {
			pick = strings.TrimSpace(lines[i])
		}
	}
	if _, rest, ok := strings.Cut(pick, "error: "); ok {
		pick = rest
	}
	pick = oneLine(RedactText(pick))
	if len(pick) > 300 {
		pick = pick[:300] + "…"
	}
	return pick
}

// pgClassify recognises libpq and pg_dump/pg_restore failures.
func pgClassify(envName string) func(string) (string, string) {
	return func(s string) (string, string) {
		l := strings.ToLower(s)
		switch {
		case strings.Contains(l, "server version mismatch"):
			return "client/server version mismatch", "pg_dump must be at least as new as the server: install the matching PostgreSQL client and put its bin directory first on PATH"
		case strings.Contains(l, "unsupported version") && strings.Contains(l, "file header"):
			return "dump made by a newer pg_dump", "install a pg_restore at least as new as the pg_dump that made the snapshot"
		case strings.Contains(l, "does not exist") && strings.Contains(l, "database \""):
			return causeNotExist, fmt.Sprintf("create it, or fix the database name in $%s", envName)
		case strings.Contains(l, "password authentication failed"), strings.Contains(l, "no pg_hba.conf entry"),
			strings.Contains(l, "no password supplied"):
			return "authentication failed", fmt.Sprintf("check the user and password in $%s", envName)
		case strings.Contains(l, "permission denied"), strings.Contains(l, "must be owner"),
			strings.Contains(l, "must be superuser"), strings.Contains(l, "must be a superuser"),
			strings.Contains(l, "must have create"), strings.Contains(l, "must be member"):
			return "permission denied", "the user needs CREATEDB, ownership of the database and its objects (or superuser) to dump and restore it"
		case strings.Contains(l, "could not connect"), strings.Contains(l, "connection refused"),
			strings.Contains(l, "could not translate host name"), strings.Contains(l, "timeout expired"),
			strings.Contains(l, "no route to host"), strings.Contains(l, "network is unreachable"),
			strings.Contains(l, "connection to server") && strings.Contains(l, "failed"):
			return "server unreachable", fmt.Sprintf("is PostgreSQL running? check the host and port in $%s", envName)
		case strings.Contains(l, "not appear to be a valid archive"), strings.Contains(l, "unexpected end of file"),
			strings.Contains(l, "could not read from input file"), strings.Contains(l, "did not find magic string"):
			return "the dump is truncated or corrupt", "run `git snap check --read-data`; the live database was left untouched"
		}
		return "", ""
	}
}

// targetLabel names a database in messages: its config name and its
// redacted connection string.
func targetLabel(t Target) string {
	if t.URL == "" {
		return t.Config.Name
	}
	return fmt.Sprintf("%s (%s)", t.Config.Name, Redact(t.URL))
}

// targetEnvName is the environment variable the connection string comes from.
func targetEnvName(t Target) string {
	if t.Config.URLEnv != "" {
		return t.Config.URLEnv
	}
	return "DATABASE_URL"
}
