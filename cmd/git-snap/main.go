package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless
// GOMEMLIMIT is set: the collector works harder as the heap nears it, so a
// capture that turns many large chunks over (delta chunks against 8 MiB
// keyframes) stays well under the 150 MB RSS budget instead of letting the
// heap double between collections. It is soft: a larger live heap is
// still allowed, at the cost of more collection.
const defaultMemoryLimit = 96 << 20

// defaultGCPercent is the collector's GOGC unless GOGC is set. With the
// memory limit above bounding the heap, GOGC's 100 only made the collector
// run each time a small live heap doubled, which a capture turning chunk
// buffers over does constantly: at 400 a pgbench create used 0.075 CPU s
// less of its 1.2 s (docs/benchmarks.md), at the same peak RSS.
const defaultGCPercent = 400

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
		if os.Getenv("GOGC") == "" { // only under our limit: it is what bounds the heap
			debug.SetGCPercent(defaultGCPercent)
		}
	}
	stopProfile := startCPUProfile(os.Getenv("GITSNAP_CPUPROFILE"))
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// startCPUProfile writes a CPU profile of the whole run to path when it is
// set (GITSNAP_CPUPROFILE; docs/benchmarks.md). It is a measuring aid: a
// failure to start it is reported and the command runs anyway.
func startCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "warning: GITSNAP_CPUPROFILE: %v\n", err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
