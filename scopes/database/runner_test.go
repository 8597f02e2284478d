package database

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
)

func TestSetEnvReplacesAndKeepsArgvClean(t *testing.T) {
	cmd := ExecRunner{}.Command(context.Background(), "sh", "-c", `printf '%s|%s' "$PGPASSWORD" "$KEEP"`)
	cmd.Env = []string{"PGPASSWORD=old", "KEEP=1"}
	SetEnv(cmd, "PGPASSWORD=s3cret")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "s3cret|1" {
		t.Errorf("child saw %q, want %q", out, "s3cret|1")
	}
	if strings.Contains(strings.Join(cmd.Args, " "), "s3cret") {
		t.Errorf("password in argv: %q", cmd.Args)
	}
	n := 0
	for _, e := range cmd.Env {
		if strings.HasPrefix(e, "PGPASSWORD=") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("PGPASSWORD set %d times in %q", n, cmd.Env)
	}
}

func TestWriteSecretFile(t *testing.T) {
	dir := t.TempDir()
	p, remove, err := WriteSecretFile(dir, "my-*.cnf", []byte("[client]\npassword=x\n"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	remove()
	remove()
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("option file still there after remove: %v", err)
	}
}

func TestToolError(t *testing.T) {
	ctx := context.Background()
	var tail TailBuffer
	cmd := ExecRunner{}.Command(ctx, "sh", "-c", `echo "noise" >&2; echo 'could not connect to postgres://u:s3cret@h/db' >&2; exit 3`)
	cmd.Stderr = &tail
	err := ToolError(ctx, "main", "pg_dump", cmd.Run(), &tail, "is the server running?")
	msg := err.Error()
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") {
		t.Errorf("error leaks a secret or spans lines: %q", msg)
	}
	for _, want := range []string{"database main", "pg_dump failed", "exit status 3", "u:xxxxx@h"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if gitsnap.HintOf(err) == "" {
		t.Error("no hint")
	}

	_, lookErr := exec.LookPath("no-such-tool-gitsnap")
	err = ToolError(ctx, "main", "no-such-tool-gitsnap", lookErr, nil, "")
	if !errors.Is(err, exec.ErrNotFound) || !strings.Contains(gitsnap.HintOf(err), "install") {
		t.Errorf("missing tool: got %v (hint %q)", err, gitsnap.HintOf(err))
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := ToolError(cctx, "main", "pg_dump", errors.New("signal: terminated"), nil, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}
