package gitsnap

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func cmdCheck(name, kind, run string) CheckConfig {
	return CheckConfig{Name: name, Kind: kind, Run: run, Timeout: Duration{10 * time.Second}}
}

func TestRunChecksOrderFailuresAndMetrics(t *testing.T) {
	dir := t.TempDir()
	checks := []CheckConfig{
		cmdCheck("perf", "perf", `echo '{"p95_ms": 42, "db": {"qps": 7}}'`),
		cmdCheck("full-fails", "full", "echo boom; echo last line >&2; exit 3"),
		cmdCheck("smoke", "smoke", "echo ok"),
		cmdCheck("health", "health", "true"),
		cmdCheck("lines", "perf", "printf 'x=1\\nnot a metric\\ny = -2.5\\n'"),
	}
	v, err := runChecks(context.Background(), checks, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range v.Checks {
		order = append(order, c.Name)
	}
	if strings.Join(order, ",") != "health,smoke,full-fails,perf,lines" {
		t.Errorf("order %v", order)
	}
	if v.Status != StatusFailed {
		t.Fatalf("status %s", v.Status)
	}
	f := v.Failures()
	if len(f) != 1 || f[0].Name != "full-fails" || f[0].ExitCode != 3 || !strings.Contains(f[0].Tail, "boom") || !strings.Contains(f[0].Tail, "last line") {
		t.Errorf("failures %+v", f)
	}
	want := map[string]float64{"p95_ms": 42, "db.qps": 7, "x": 1, "y": -2.5}
	for k, x := range want {
		if v.Metrics[k] != x {
			t.Errorf("metric %s = %v, want %v (all: %v)", k, v.Metrics[k], x, v.Metrics)
		}
	}
	if v.Checks[0].OutputSHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("digest of empty output: %s", v.Checks[0].OutputSHA256)
	}
}

func TestFailedHealthCheckStopsTheRun(t *testing.T) {
	v, err := runChecks(context.Background(), []CheckConfig{cmdCheck("h", "health", "exit 1"), cmdCheck("s", "smoke", "true")}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Checks) != 1 || v.Status != StatusFailed {
		t.Errorf("smoke ran after a failed health check: %+v", v.Checks)
	}
}

func TestCheckTimeoutKillsTheProcessGroup(t *testing.T) {
	c := cmdCheck("slow", "smoke", "sleep 30 & sleep 30; echo never")
	c.Timeout = Duration{300 * time.Millisecond}
	start := time.Now()
	v, err := runChecks(context.Background(), []CheckConfig{c}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("timeout not enforced: %s", time.Since(start))
	}
	if v.Checks[0].Status != StatusFailed || !strings.Contains(v.Checks[0].Error, "timed out") {
		t.Errorf("%+v", v.Checks[0])
	}
}

// A real HTTP server that only starts answering after a delay, then
// returns 503 once before 200: the check retries with backoff and passes.
func TestHTTPCheckRetriesUntilTheServiceIsUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens yet: connection refused at first
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	})}
	go func() {
		time.Sleep(700 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		srv.Serve(l)
	}()
	t.Cleanup(func() { srv.Close() })
	c := CheckConfig{Name: "api", Kind: "health", URL: "http://" + addr + "/health", ExpectBody: `"ok"`, RetryFor: Duration{10 * time.Second}, Timeout: Duration{2 * time.Second}}
	v, err := runChecks(context.Background(), []CheckConfig{c}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := v.Checks[0]
	if r.Status != StatusPassed || r.HTTPStatus != 200 || r.Attempts < 3 {
		t.Errorf("want a pass after several attempts, got %+v", r)
	}
	// Without retry_for a down service fails at once.
	c.URL, c.RetryFor = "http://127.0.0.1:1/", Duration{}
	v, _ = runChecks(context.Background(), []CheckConfig{c}, t.TempDir(), nil)
	if v.Checks[0].Status != StatusFailed || v.Checks[0].Attempts != 1 {
		t.Errorf("down service: %+v", v.Checks[0])
	}
}

func TestHTTPCheckWrongStatusFailsAfterDeadline(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c := CheckConfig{Name: "api", Kind: "health", URL: "http://" + ln.Addr().String(), RetryFor: Duration{800 * time.Millisecond}}
	v, _ := runChecks(context.Background(), []CheckConfig{c}, t.TempDir(), nil)
	if r := v.Checks[0]; r.Status != StatusFailed || r.HTTPStatus != 500 || !strings.Contains(r.Error, "status 500") || r.Attempts < 2 {
		t.Errorf("%+v", r)
	}
}
