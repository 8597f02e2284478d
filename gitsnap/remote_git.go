package gitsnap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// gitTransport runs the git binary for push, fetch and ls-remote: git's
// transports (file, ssh, https, credential helpers) are the contract.
// Messages are forced to English (LC_ALL=C) so failures can be classified.
type gitTransport struct {
	dir      string
	progress Progress
}

// transferState tracks git's own progress (printed on stderr with
// --progress), which run turns into "transfer" events.
type transferState struct {
	mu    sync.Mutex
	phase string
	bytes int64
}

// run runs git with args; stdin may be nil. It returns stdout, stderr and
// the error (an *exec.ExitError when git exited non-zero).
func (g gitTransport) run(ctx context.Context, stdin io.Reader, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANGUAGE=C", "GIT_FLUSH=1")
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout = &out
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return "", "", fmt.Errorf("git %s: %w", args[0], err)
	}
	if err := cmd.Start(); err != nil {
		return "", "", fmt.Errorf("start git %s: %w", args[0], err)
	}
	var errBuf bytes.Buffer
	st := &transferState{}
	sc := bufio.NewScanner(errPipe)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(scanProgressLines)
	for sc.Scan() {
		line := sc.Text()
		if g.progress != nil {
			g.parseProgress(st, line)
		}
		errBuf.WriteString(line)
		errBuf.WriteByte('\n')
	}
	_, _ = io.Copy(&errBuf, errPipe)
	err = cmd.Wait()
	if ctx.Err() != nil {
		return out.String(), errBuf.String(), ctx.Err()
	}
	return out.String(), errBuf.String(), err
}

// "Writing objects:  45% (9/20), 1.20 MiB | 600.00 KiB/s"
var progressLine = regexp.MustCompile(`^(?:remote: )?([A-Z][a-z]+ objects|Resolving deltas|Compressing objects|Counting objects|Enumerating objects|Unpacking objects):\s+(\d+)%[^,]*(?:,\s+([\d.]+) (bytes|KiB|MiB|GiB))?`)

// parseProgress turns one of git's progress lines into an event.
func (g gitTransport) parseProgress(st *transferState, line string) {
	m := progressLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return
	}
	var total int64
	if m[3] != "" {
		total = parseSize(m[3], m[4])
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.phase != m[1] {
		st.phase, st.bytes = m[1], 0
	}
	inc := total - st.bytes
	if inc < 0 {
		inc = 0
	}
	st.bytes = total
	pct, _ := strconv.Atoi(m[2])
	g.progress.Event(ProgressEvent{Kind: "transfer", Name: m[1], Bytes: inc, Total: total, Message: fmt.Sprintf("%d%%", pct)})
}

// transferStats reads what git reported sending or receiving: the objects
// ("Total N") and the bytes of the last "Writing/Receiving objects" line.
func transferStats(stderr string) (objects int, bytes int64) {
	for _, l := range splitProgressLines(stderr) {
		l = strings.TrimPrefix(strings.TrimSpace(l), "remote: ")
		if rest, ok := strings.CutPrefix(l, "Total "); ok {
			if n, err := strconv.Atoi(strings.Fields(rest + " x")[0]); err == nil {
				objects = n
			}
			continue
		}
		if m := progressLine.FindStringSubmatch(l); m != nil && m[3] != "" && (m[1] == "Writing objects" || m[1] == "Receiving objects" || m[1] == "Unpacking objects") {
			bytes = parseSize(m[3], m[4])
		}
	}
	return objects, bytes
}

func parseSize(num, unit string) int64 {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0
	}
	switch unit {
	case "KiB":
		f *= 1 << 10
	case "MiB":
		f *= 1 << 20
	case "GiB":
		f *= 1 << 30
	}
	return int64(f)
}

// scanProgressLines splits on "\n" and on the "\r" git uses to redraw
// progress lines.
func scanProgressLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func splitProgressLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
}

// exitStatus returns git's exit code, or -1 when it did not run.
func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// lsRemote lists the remote's snapshot refs and its notes ref.
func (g gitTransport) lsRemote(ctx context.Context, remote string) (snaps map[string]Hash, notes Hash, err error) {
	out, stderr, err := g.run(ctx, nil, "ls-remote", "--refs", remote, SnapshotRefPrefix+"*", NotesRef)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ZeroHash, ctx.Err()
		}
		return nil, ZeroHash, classifyTransport(remote, "list", err, stderr)
	}
	snaps = map[string]Hash{}
	for _, line := range strings.Split(out, "\n") {
		hash, ref, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			continue
		}
		h, err := ParseHash(hash)
		if err != nil {
			continue
		}
		switch {
		case ref == NotesRef:
			notes = h
		case strings.HasPrefix(ref, SnapshotRefPrefix) && ValidID(strings.TrimPrefix(ref, SnapshotRefPrefix)):
			snaps[strings.TrimPrefix(ref, SnapshotRefPrefix)] = h
		}
	}
	return snaps, notes, nil
}

// mergeBase returns the best common ancestor of a and b (ZeroHash when
// they share no history).
func (g gitTransport) mergeBase(ctx context.Context, a, b Hash) (Hash, error) {
	out, stderr, err := g.run(ctx, nil, "merge-base", a.String(), b.String())
	if exitStatus(err) == 1 && strings.TrimSpace(out) == "" {
		return ZeroHash, nil
	}
	if err != nil {
		return ZeroHash, fmt.Errorf("git merge-base %s %s: %w: %s", a.String()[:12], b.String()[:12], err, strings.TrimSpace(stderr))
	}
	return ParseHash(strings.TrimSpace(out))
}
