package deps

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

const (
	tailBytes = 8 << 10 // output kept from the install command
	tailLines = 20      // lines of it shown in an error
	// waitDelay bounds how long we wait for the output pipes after the
	// shell exits or is killed (a background child may hold them open).
	waitDelay = 5 * time.Second
)

// runInstall runs command with "sh -c" in dir. Its combined output is
// captured; on failure the error carries the last lines of it.
func runInstall(ctx context.Context, dir, command string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	out := &tailBuffer{max: tailBytes}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = waitDelay
	killGroup(cmd)
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("install command %q: %w", command, ctx.Err())
	}
	if err != nil {
		if tail := out.tail(tailLines); tail != "" {
			return fmt.Errorf("install command %q: %w; output:\n%s", command, err, tail)
		}
		return fmt.Errorf("install command %q: %w", command, err)
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// tail returns up to n last lines, trimmed.
func (t *tailBuffer) tail(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(t.b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
