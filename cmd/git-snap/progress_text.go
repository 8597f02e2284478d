package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
)

// newProgress picks the renderer: JSON lines with --json, text on a
// terminal, nothing otherwise.
func newProgress(e *env) gitsnap.Progress {
	switch {
	case e.quiet:
		return nil
	case e.json:
		return &jsonProgress{w: e.stderr}
	case isTerminal(e.stderr):
		return &textProgress{w: e.stderr}
	}
	return nil
}

// textProgress prints steps and a throttled byte counter (≤10 updates/s).
type textProgress struct {
	mu    sync.Mutex
	w     io.Writer
	bytes int64
	last  time.Time
	scope string
}

func (p *textProgress) Event(ev gitsnap.ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case "bytes":
		p.bytes += ev.Bytes
		if time.Since(p.last) > 100*time.Millisecond {
			p.last = time.Now()
			fmt.Fprintf(p.w, "\r  %s: %s", p.scope, humanBytes(p.bytes))
		}
	case "scope_start":
		p.scope, p.bytes = ev.Scope, 0
	case "scope_done":
		fmt.Fprintf(p.w, "\r\033[K  ✓ %s %s\n", ev.Scope, humanBytes(p.bytes))
	case "check_start":
		fmt.Fprintf(p.w, "  check %s …", ev.Name)
	case "check_done":
		fmt.Fprintf(p.w, " %s\n", ev.Message)
	case "step", "warning":
		fmt.Fprintf(p.w, "%s\n", ev.Message)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// jsonProgress writes status lines for steps and scopes (not bytes).
type jsonProgress struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *jsonProgress) Event(ev gitsnap.ProgressEvent) {
	if ev.Kind == "bytes" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	typ := "status"
	if ev.Kind == "scope_done" {
		typ = "scope_done"
	}
	b, _ := json.Marshal(map[string]any{"message_type": typ, "kind": ev.Kind, "scope": ev.Scope, "name": ev.Name, "message": ev.Message})
	fmt.Fprintln(p.w, string(b))
}
