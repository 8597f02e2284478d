package gitsnap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// tailBytes is how much of a check's output is kept in events.
const tailBytes = 2048

// Validation is the outcome of running the configured checks.
type Validation struct {
	Status  string // passed | failed
	Level   string
	Checks  []CheckResult
	Metrics map[string]float64
}

// Failures lists the failed checks for a ValidationError.
func (v *Validation) Failures() []CheckFailure {
	var out []CheckFailure
	for _, c := range v.Checks {
		if c.Status != StatusPassed {
			out = append(out, CheckFailure{Name: c.Name, ExitCode: c.ExitCode, Tail: c.Tail, Err: c.Error})
		}
	}
	return out
}

// Validate runs the configured checks up to the configured level
// ([snapshot] level, default all) in the worktree root.
func (s *Snap) Validate(ctx context.Context) (*Validation, error) {
	return s.ValidateLevel(ctx, "")
}

// ValidateLevel runs the checks whose kind is at or below level (health <
// smoke < full < perf; "" = the configured level) in kind order. A failed
// health check stops the run; other failures are collected so every
// failed check can be listed.
func (s *Snap) ValidateLevel(ctx context.Context, level string) (*Validation, error) {
	if level == "" {
		level = s.cfg.Snapshot.Level
	}
	if level == "" {
		level = checkKinds[len(checkKinds)-1]
	}
	if !contains(checkKinds, level) {
		return nil, WithHint(fmt.Errorf("%w: unknown validation level %q", ErrUsage, level), "use health, smoke, full or perf")
	}
	var checks []CheckConfig
	for _, c := range s.cfg.Check {
		if kindRank(c.Kind) <= kindRank(level) {
			checks = append(checks, c)
		}
	}
	v, err := runChecks(ctx, checks, s.repo.Root(), s.progress)
	if v != nil {
		v.Level = level
	}
	return v, err
}

func runChecks(ctx context.Context, checks []CheckConfig, dir string, p Progress) (*Validation, error) {
	return runChecksEnv(ctx, checks, dir, nil, p)
}

// runChecksEnv is runChecks where command checks get env (KEY=VALUE) on
// top of the process environment (verify points them at its sandbox).
func runChecksEnv(ctx context.Context, checks []CheckConfig, dir string, env []string, p Progress) (*Validation, error) {
	p = progressOrNoop(p)
	ordered := append([]CheckConfig(nil), checks...)
	sort.SliceStable(ordered, func(i, j int) bool { return kindRank(ordered[i].Kind) < kindRank(ordered[j].Kind) })
	v := &Validation{Status: StatusPassed}
	for _, c := range ordered {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.Event(ProgressEvent{Kind: "check_start", Name: c.Name})
		var r CheckResult
		if c.URL != "" {
			r = runHTTPCheck(ctx, c)
		} else {
			r = runCommandCheck(ctx, c, dir, env)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.Event(ProgressEvent{Kind: "check_done", Name: c.Name, Message: r.Status})
		v.Checks = append(v.Checks, r)
		for k, val := range r.Metrics {
			if v.Metrics == nil {
				v.Metrics = map[string]float64{}
			}
			v.Metrics[k] = val
		}
		if r.Status != StatusPassed {
			v.Status = StatusFailed
			if c.Kind == "health" {
				break
			}
		}
	}
	return v, nil
}

func kindRank(k string) int {
	for i, x := range checkKinds {
		if x == k {
			return i
		}
	}
	return len(checkKinds)
}

func checkTimeout(c CheckConfig) time.Duration {
	if c.Timeout.Duration > 0 {
		return c.Timeout.Duration
	}
	return DefaultCheckTimeout
}

// runCommandCheck runs `sh -c run` in its own process group so that a
// timeout kills everything it started.
func runCommandCheck(ctx context.Context, c CheckConfig, dir string, env []string) CheckResult {
	r := CheckResult{Name: c.Name, Kind: c.Kind, Attempts: 1}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout(c))
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "sh", "-c", c.Run)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), "GITSNAP_CHECK="+c.Name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out := &outputSink{sum: sha256.New()}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	r.DurationMS = time.Since(start).Milliseconds()
	r.OutputSHA256 = hex.EncodeToString(out.sum.Sum(nil))
	r.Tail = out.tail()
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.Status = StatusPassed
	case ctx.Err() == context.DeadlineExceeded:
		r.Status, r.ExitCode, r.Error = StatusFailed, -1, fmt.Sprintf("timed out after %s", checkTimeout(c))
	case errors.As(err, &ee):
		r.Status, r.ExitCode = StatusFailed, ee.ExitCode()
	default:
		r.Status, r.ExitCode, r.Error = StatusFailed, -1, err.Error()
	}
	if c.Kind == "perf" {
		r.Metrics = parseMetrics(out.all.Bytes())
	}
	return r
}

// outputSink hashes all output and keeps the tail (and, for perf, all of
// it up to a limit).
type outputSink struct {
	sum hash.Hash
	buf []byte
	all bytes.Buffer
}

func (o *outputSink) Write(p []byte) (int, error) {
	o.sum.Write(p)
	if o.all.Len() < 1<<20 {
		o.all.Write(p)
	}
	o.buf = append(o.buf, p...)
	if len(o.buf) > 4*tailBytes {
		o.buf = append([]byte(nil), o.buf[len(o.buf)-tailBytes:]...)
	}
	return len(p), nil
}

func (o *outputSink) tail() string {
	b := o.buf
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
	}
	return strings.ToValidUTF8(string(b), "?")
}

var metricLine = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(-?[0-9.eE+-]+)\s*$`)

// parseMetrics reads a perf check's output: one JSON object of numbers
// (nested objects flatten to "a.b"), or `name=value` lines.
func parseMetrics(out []byte) map[string]float64 {
	m := map[string]float64{}
	if trimmed := bytes.TrimSpace(out); len(trimmed) > 0 && trimmed[0] == '{' {
		var obj map[string]any
		if json.Unmarshal(trimmed, &obj) == nil {
			flattenMetrics("", obj, m)
			if len(m) > 0 {
				return m
			}
		}
	}
	for _, l := range strings.Split(string(out), "\n") {
		if g := metricLine.FindStringSubmatch(l); g != nil {
			var f float64
			if _, err := fmt.Sscan(g[2], &f); err == nil {
				m[g[1]] = f
			}
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func flattenMetrics(prefix string, obj map[string]any, out map[string]float64) {
	for k, v := range obj {
		switch x := v.(type) {
		case float64:
			out[prefix+k] = x
		case map[string]any:
			flattenMetrics(prefix+k+".", x, out)
		}
	}
}

// runHTTPCheck probes a URL, retrying with exponential backoff until
// retry_for elapses: a service that is still starting is not a failure.
func runHTTPCheck(ctx context.Context, c CheckConfig) CheckResult {
	r := CheckResult{Name: c.Name, Kind: c.Kind}
	want := c.ExpectStatus
	if want == 0 {
		want = http.StatusOK
	}
	var bodyRE *regexp.Regexp
	if c.ExpectBody != "" {
		bodyRE, _ = regexp.Compile(c.ExpectBody)
	}
	start := time.Now()
	client := &http.Client{Timeout: checkTimeout(c)}
	var last string
	op := func() error {
		r.Attempts++
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
		if err != nil {
			return backoff.Permanent(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		r.HTTPStatus = resp.StatusCode
		sum := sha256.Sum256(body)
		r.OutputSHA256 = hex.EncodeToString(sum[:])
		r.Tail = strings.ToValidUTF8(string(body[max(0, len(body)-tailBytes):]), "?")
		if resp.StatusCode != want {
			last = fmt.Sprintf("status %d, want %d", resp.StatusCode, want)
			return errors.New(last)
		}
		if bodyRE != nil && !bodyRE.Match(body) {
			last = fmt.Sprintf("body does not match %q", c.ExpectBody)
			return errors.New(last)
		}
		return nil
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 200 * time.Millisecond
	b.MaxElapsedTime = c.RetryFor.Duration
	var policy backoff.BackOff = b
	if c.RetryFor.Duration <= 0 {
		policy = &backoff.StopBackOff{}
	}
	err := backoff.Retry(op, backoff.WithContext(policy, ctx))
	r.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		r.Status, r.ExitCode, r.Error = StatusFailed, 1, last
		if last == "" {
			r.Error = err.Error()
		}
		return r
	}
	r.Status = StatusPassed
	return r
}
