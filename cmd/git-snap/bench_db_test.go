package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes"
)

// The database targets of issue 3 are measured here with the built binary
// (docs/benchmarks.md, section Databases, records the figures):
//
//   - BenchmarkDatabaseStream: a command database whose dump is a
//     deterministic SQL-dump-like generator of N bytes (N = 2 GiB by
//     default; GITSNAP_BENCH_DB_SIZE=256MiB for a quick run). Create,
//     second create, restore; floors: the generator into /dev/null and
//     into git hash-object -w --stdin.
//   - BenchmarkPostgresCreateRestore (bench_pg_test.go): PostgreSQL with
//     two datasets, pgbench -i and random text and JSON, next to bare
//     pg_dump -Fc -Z0 and pg_restore.
//
// peak-rss-MB is wait4's maxrss: the largest of the git-snap process and
// every descendant it waited for (sh, the dump tool, git), not their sum.
// self-hwm-MB is git-snap's own high-water mark (VmHWM, sampled every
// 20 ms from /proc). MB = 10^6 bytes.

const (
	benchDBSizeEnv  = "GITSNAP_BENCH_DB_SIZE"
	benchGenName    = "gitsnap-bench-gen"
	benchVariantEnv = "GITSNAP_BENCH_DB_VARIANT"
	benchRSSLimit   = 150e6 // issue 3: peak RSS ≤ 150 MB for a 2 GB dump
	benchAgainLimit = 1e6   // issue 3: an unchanged second dump adds < 1 MB
)

// benchGenSource is the dump generator, built once per run. Rows look like
// the COPY section of a pg_dump: numbers, a timestamp, words from a small
// dictionary, a JSON document and a 32-digit hex digest, all derived from
// the row id, so the stream is the same on every run and compresses about
// as well as a real dump (zlib: ~2.5x).
const benchGenSource = `// Command gitsnap-bench-gen writes a deterministic SQL-dump-like stream of
// exactly -n bytes to stdout. With -variant v (not 0) the rows of the last
// 1% of the stream differ: a live database whose newest rows changed.
package main

import (
	"bufio"
	"flag"
	"os"
	"strconv"
)

var words = [...]string{
	"account", "balance", "invoice", "customer", "order", "shipped", "pending", "refund",
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"north", "south", "east", "west", "red", "green", "blue", "amber",
	"paris", "berlin", "madrid", "lisbon", "oslo", "vienna", "prague", "dublin",
	"the", "a", "of", "and", "to", "in", "for", "with",
	"quick", "lazy", "brown", "fox", "dog", "jumps", "over", "under",
	"monday", "tuesday", "friday", "weekend", "morning", "evening", "daily", "weekly",
	"small", "large", "medium", "premium", "basic", "gold", "silver", "bronze",
}

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func two(b []byte, v uint64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func text(b []byte, r uint64, n int) []byte {
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		r = mix(r)
		b = append(b, words[r%uint64(len(words))]...)
	}
	return b
}

func main() {
	n := flag.Int64("n", 1<<30, "bytes to write")
	variant := flag.Uint64("variant", 0, "0: the reference data; other values change the last 1% of rows")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	left := *n
	put := func(p []byte) bool {
		if int64(len(p)) >= left {
			w.Write(p[:left])
			left = 0
			return false
		}
		w.Write(p)
		left -= int64(len(p))
		return true
	}
	tail := *n / 100
	const hex = "0123456789abcdef"
	ok := put([]byte("--\n-- PostgreSQL database dump (benchmark data)\n--\n\nCOPY public.accounts (aid, bid, abalance, created, name, note, doc, digest) FROM stdin;\n"))
	row := make([]byte, 0, 512)
	for id := uint64(1); ok; id++ {
		seed := id
		if *variant != 0 && left <= tail {
			seed = id ^ *variant<<40
		}
		r := mix(seed)
		row = strconv.AppendUint(row[:0], id, 10)
		row = append(row, '\t')
		row = strconv.AppendUint(row, r%1000, 10)
		row = append(row, '\t')
		row = strconv.AppendInt(row, int64(mix(r)%2000001)-1000000, 10)
		row = append(row, "\t2024-"...)
		row = two(row, 1+r>>8%12)
		row = append(row, '-')
		row = two(row, 1+r>>12%28)
		row = append(row, ' ')
		row = two(row, r>>17%24)
		row = append(row, ':')
		row = two(row, r>>22%60)
		row = append(row, ':')
		row = two(row, r>>28%60)
		row = append(row, "+00\t"...)
		row = text(row, r^1, 2+int(r>>34%2))
		row = append(row, '\t')
		row = text(row, r^2, 4+int(r>>36%9))
		row = append(row, "\t{\"tag\": \""...)
		row = text(row, r^3, 1)
		row = append(row, "\", \"score\": "...)
		row = strconv.AppendUint(row, r>>40%10000, 10)
		row = append(row, ", \"active\": "...)
		row = strconv.AppendBool(row, r>>54&1 == 1)
		row = append(row, "}\t"...)
		for _, v := range [2]uint64{mix(r ^ 4), mix(r ^ 5)} {
			for i := 0; i < 16; i++ {
				row = append(row, hex[v>>(4*i)&15])
			}
		}
		row = append(row, '\n')
		ok = put(row)
	}
	if err := w.Flush(); err != nil {
		os.Exit(1)
	}
}
`

// benchDBSize reads GITSNAP_BENCH_DB_SIZE (default 2 GiB).
func benchDBSize(b *testing.B) int64 {
	b.Helper()
	v := strings.TrimSpace(os.Getenv(benchDBSizeEnv))
	if v == "" {
		return 2 << 30
	}
	n, err := parseBenchSize(v)
	if err != nil {
		b.Fatalf("%s=%q: want a size like 2GiB or 256MiB", benchDBSizeEnv, v)
	}
	return n
}

// dbBench is what the database benchmarks share: the built binaries, the
// environment and one repository.
type dbBench struct {
	b    *testing.B
	tmp  string
	bin  string // the built git-snap
	env  []string
	repo string
}

// newDBBench builds git-snap and the dump generator into a temporary bin
// directory that comes first on the subprocesses' PATH.
func newDBBench(b *testing.B) *dbBench {
	b.Helper()
	if testing.Short() {
		b.Skip("database benchmarks: skipped in -short mode")
	}
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	tmp := b.TempDir()
	binDir := filepath.Join(tmp, "bin")
	r := &dbBench{b: b, tmp: tmp, bin: filepath.Join(binDir, "git-snap"), repo: filepath.Join(tmp, "repo")}
	if out, err := exec.Command("go", "build", "-o", r.bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	genDir := filepath.Join(tmp, "gen")
	if err := os.MkdirAll(genDir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(genDir, "main.go"), []byte(benchGenSource), 0o644); err != nil {
		b.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, benchGenName), "main.go")
	build.Dir = genDir
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build generator: %v\n%s", err, out)
	}
	home := filepath.Join(tmp, "home")
	for _, d := range []string{home, r.repo} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	r.env = benchEnv(home, binDir)
	return r
}

// freshRepo makes r.repo an empty repository with the given config.
func (r *dbBench) freshRepo(config string) {
	r.b.Helper()
	if err := os.RemoveAll(r.repo); err != nil {
		r.b.Fatal(err)
	}
	if err := os.MkdirAll(r.repo, 0o755); err != nil {
		r.b.Fatal(err)
	}
	r.run(r.cmd(r.repo, "git", "init", "-q", "-b", "main"))
	if err := os.WriteFile(filepath.Join(r.repo, ".gitsnap.toml"), []byte(config), 0o644); err != nil {
		r.b.Fatal(err)
	}
}

func (r *dbBench) cmd(dir, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir, c.Env = dir, r.env
	return c
}

// sh runs script with sh -c in the repository; args are $1, $2, ….
func (r *dbBench) sh(script string, args ...string) dbRun {
	r.b.Helper()
	return r.run(r.cmd(r.repo, "sh", append([]string{"-c", script, "sh"}, args...)...))
}

// snap runs git-snap in the repository with extra environment variables.
func (r *dbBench) snap(extraEnv []string, args ...string) dbRun {
	r.b.Helper()
	c := r.cmd(r.repo, r.bin, args...)
	c.Env = append(c.Env[:len(c.Env):len(c.Env)], extraEnv...)
	return r.run(c)
}

func (r *dbBench) gitBytes() int64 {
	r.b.Helper()
	return dirBytes(r.b, filepath.Join(r.repo, ".git"))
}

// dbRun is one subprocess's result.
type dbRun struct {
	usage
	hwm    int64 // the process's own VmHWM, bytes (0 when /proc is missing)
	wall   time.Duration
	stdout []byte
}

// run runs c, sampling its VmHWM until it exits, and fails on an error.
func (r *dbBench) run(c *exec.Cmd) dbRun {
	r.b.Helper()
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	t0 := time.Now()
	if err := c.Start(); err != nil {
		r.b.Fatalf("%s: %v", strings.Join(c.Args, " "), err)
	}
	var hwm atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := readHWM(c.Process.Pid); v > hwm.Load() {
				hwm.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	err := c.Wait()
	wall := time.Since(t0)
	close(stop)
	<-done
	if err != nil {
		r.b.Fatalf("%s: %v\n%s%s", strings.Join(c.Args, " "), err, out.String(), errb.String())
	}
	res := dbRun{wall: wall, hwm: hwm.Load(), stdout: out.Bytes()}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.rss = ru.Maxrss * 1024 // kilobytes on Linux
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return res
}

// readHWM returns VmHWM of pid in bytes, or 0.
func readHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// dbUsage accumulates dbRuns over a sub-benchmark's iterations.
type dbUsage struct {
	usage
	hwm int64
}

func (u *dbUsage) add(v dbRun) {
	u.usage.add(v.usage)
	u.hwm = max(u.hwm, v.hwm)
}

func (u *dbUsage) report(b *testing.B) {
	u.usage.report(b)
	if u.hwm > 0 {
		b.ReportMetric(float64(u.hwm)/1e6, "self-hwm-MB")
	}
}

// checkRSS fails b when the git-snap process went over issue 3's limit.
func (u *dbUsage) checkRSS(b *testing.B, what string) {
	b.Helper()
	own := u.hwm
	if own == 0 {
		own = u.rss
	}
	// A failed benchmark prints no metrics: log the key ones.
	b.Logf("%s: git-snap peak RSS %.1f MB (with children %.1f MB), %.1f CPU s", what, float64(own)/1e6, float64(u.rss)/1e6, u.cpu.Seconds())
	if own > benchRSSLimit {
		b.Errorf("%s: git-snap peak RSS %.1f MB, want ≤ %.0f MB (issue 3)", what, float64(own)/1e6, benchRSSLimit/1e6)
	}
}

// createSummary and restoreSummary are the --json summary lines we read.
type createSummary struct {
	DurationMS int64 `json:"duration_ms"`
	Snapshot   struct {
		ID string `json:"id"`
	} `json:"snapshot"`
}

type restoreSummary struct {
	Safety     string           `json:"safety_snapshot"`
	DurationMS int64            `json:"duration_ms"`
	ScopeMS    map[string]int64 `json:"scope_ms"`
}

// summary decodes the last JSON line of out into v.
func summary(b *testing.B, out []byte, v any) {
	b.Helper()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		b.Fatalf("decode summary %q: %v", lines[len(lines)-1], err)
	}
}

// BenchmarkDatabaseStream measures issue 3's streaming target with a
// command database whose dump is gitsnap-bench-gen (N bytes):
//
//	create        first snapshot of the database scope (MB/s, peak RSS, .git growth)
//	create-again  the same dump again (bytes-added-2nd, must be < 1 MB)
//	restore       restore of that snapshot while the live data differs in
//	              its last 1% (the safety snapshot stores that 1%); the
//	              restore command is wc -c, which checks the length
//	floor-generator        the generator into /dev/null
//	floor-git-hash-object  the generator into git hash-object -w --stdin
//
// It fails when git-snap's own peak RSS exceeds 150 MB or the second
// snapshot adds 1 MB or more.
func BenchmarkDatabaseStream(b *testing.B) {
	size := benchDBSize(b)
	r := newDBBench(b)
	gen := fmt.Sprintf("%s -n %d", benchGenName, size)
	config := fmt.Sprintf(`[snapshot]
scopes = ["database"]

[[database]]
name = "bench"
driver = "command"
dump = "%s -variant ${%s:-0}"
restore = "wc -c > restored.size"
`, gen, benchVariantEnv)
	b.Logf("input: a %d-byte dump from %s", size, gen)
	var snapID string
	first := func(b *testing.B) {
		b.Helper()
		r.b = b
		r.freshRepo(config)
		var s createSummary
		summary(b, r.snap(nil, "create", "--scope", "database", "--no-validate", "-m", "bench", "--json").stdout, &s)
		snapID = s.Snapshot.ID
	}

	b.Run("create", func(b *testing.B) {
		r.b = b
		b.SetBytes(size)
		var u dbUsage
		for range b.N {
			b.StopTimer()
			r.freshRepo(config)
			b.StartTimer()
			run := r.snap(nil, "create", "--scope", "database", "--no-validate", "-m", "bench", "--json")
			b.StopTimer()
			u.add(run)
			var s createSummary
			summary(b, run.stdout, &s)
			snapID = s.Snapshot.ID
			b.ReportMetric(float64(r.gitBytes())/1e6, "git-MB")
		}
		u.report(b)
		u.checkRSS(b, "create")
	})
	b.Run("create-again", func(b *testing.B) {
		r.b = b
		b.SetBytes(size)
		var u dbUsage
		var added int64
		for range b.N {
			b.StopTimer()
			if snapID == "" {
				first(b)
			}
			before := r.gitBytes()
			b.StartTimer()
			u.add(r.snap(nil, "create", "--scope", "database", "--no-validate", "-m", "again"))
			b.StopTimer()
			added = max(added, r.gitBytes()-before)
		}
		u.report(b)
		u.checkRSS(b, "create-again")
		b.ReportMetric(float64(added), "bytes-added-2nd")
		if added >= benchAgainLimit {
			b.Errorf("a second snapshot of the same dump added %d bytes to .git, want < 1 MB (issue 3)", added)
		}
	})
	b.Run("restore", func(b *testing.B) {
		r.b = b
		b.SetBytes(size)
		b.StopTimer()
		if snapID == "" {
			first(b)
		}
		var u dbUsage
		var s restoreSummary
		var added int64
		for i := range b.N {
			sizeFile := filepath.Join(r.repo, "restored.size")
			if err := os.Remove(sizeFile); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
			before := r.gitBytes()
			variant := benchVariantEnv + "=" + strconv.Itoa(i+1) // the live data has changed
			b.StartTimer()
			run := r.snap([]string{variant}, "restore", snapID, "--scope", "database", "--yes", "--no-validate", "--json")
			b.StopTimer()
			u.add(run)
			summary(b, run.stdout, &s)
			added = max(added, r.gitBytes()-before)
			got, err := os.ReadFile(sizeFile)
			if err != nil {
				b.Fatalf("the restore command left no output: %v", err)
			}
			if n, _ := strconv.ParseInt(strings.TrimSpace(string(got)), 10, 64); n != size {
				b.Fatalf("restored %s bytes, want %d", strings.TrimSpace(string(got)), size)
			}
		}
		u.report(b)
		b.ReportMetric(float64(s.ScopeMS["database"])/1e3, "scope-s")
		b.ReportMetric(float64(added)/1e6, "safety-git-MB")
		b.Logf("restore: %.1f s wall (database scope %.1f s), the safety snapshot added %.1f MB", float64(s.DurationMS)/1e3, float64(s.ScopeMS["database"])/1e3, float64(added)/1e6)
		u.checkRSS(b, "restore")
	})
	b.Run("floor-generator", func(b *testing.B) {
		r.b = b
		b.SetBytes(size)
		var u dbUsage
		for range b.N {
			u.add(r.sh(gen + " > /dev/null"))
		}
		u.report(b)
	})
	b.Run("floor-git-hash-object", func(b *testing.B) {
		r.b = b
		b.SetBytes(size)
		var u dbUsage
		for range b.N {
			b.StopTimer()
			r.freshRepo(config)
			b.StartTimer()
			u.add(r.sh(gen + " | git hash-object -w --stdin > /dev/null"))
			b.StopTimer()
			b.ReportMetric(float64(r.gitBytes())/1e6, "git-MB")
		}
		u.report(b)
	})
}

// phaseProgress names the phase a restore or create is in, from its
// progress events: "verify+plan", "safety:<scope>" (the safety
// snapshot), "apply:<scope>"; "capture:<scope>" for a create.
type phaseProgress struct {
	mu    sync.Mutex
	phase string
}

func (p *phaseProgress) Event(e gitsnap.ProgressEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case "step":
		p.phase = e.Name
	case "scope_start":
		if strings.HasPrefix(p.phase, "safety:") {
			p.phase = "apply" // the safety snapshot is done: restoring
		}
		p.phase += ":" + e.Scope
	}
}

func (p *phaseProgress) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.phase
}

// heapPeak samples HeapInuse every 10 ms and keeps the heap profile (the
// live objects as of the last GC) taken at the highest sample, with the
// phase it was taken in.
type heapPeak struct {
	stop, done chan struct{}
	peak       uint64
	phase      string
	profile    bytes.Buffer
}

func startHeapPeak(ph *phaseProgress) *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var profiled uint64
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > h.peak {
				h.peak = ms.HeapInuse
				if h.peak > profiled+profiled/20 { // 5% above the last profile
					profiled = h.peak
					h.phase = ph.get()
					h.profile.Reset()
					_ = pprof.Lookup("heap").WriteTo(&h.profile, 0)
				}
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// finish stops sampling, reports the peak and writes the profile to
// path, when path is not empty.
func (h *heapPeak) finish(b *testing.B, path string) {
	b.Helper()
	close(h.stop)
	<-h.done
	b.ReportMetric(float64(h.peak)/1e6, "peak-heap-MB")
	b.Logf("peak HeapInuse %.1f MB in phase %q", float64(h.peak)/1e6, h.phase)
	if path != "" {
		if err := os.WriteFile(path, h.profile.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("heap profile at the peak: go tool pprof -sample_index=inuse_space %s", path)
	}
}

// BenchmarkDatabaseStreamInProcess runs BenchmarkDatabaseStream's create
// and restore through the gitsnap API in the test process, to find what
// holds memory: with GITSNAP_MEMPROFILE=path it writes the heap profile
// taken at the peak of HeapInuse to path-create.pprof and
// path-restore.pprof (go tool pprof -sample_index=inuse_space -top …).
// Its peak-heap-MB is the Go heap only; RSS is about that plus the
// collector's headroom.
func BenchmarkDatabaseStreamInProcess(b *testing.B) {
	size := benchDBSize(b)
	r := newDBBench(b)
	prof := os.Getenv("GITSNAP_MEMPROFILE")
	gen := filepath.Join(filepath.Dir(r.bin), benchGenName)
	config := func(variant int) string {
		return fmt.Sprintf("[snapshot]\nscopes = [\"database\"]\n\n[[database]]\nname = \"bench\"\ndriver = \"command\"\n"+
			"dump = \"%s -n %d -variant %d\"\nrestore = \"wc -c > restored.size\"\n", gen, size, variant)
	}
	envMap := map[string]string{}
	for _, kv := range r.env {
		k, v, _ := strings.Cut(kv, "=")
		envMap[k] = v
	}
	ctx := context.Background()
	open := func(b *testing.B, ph gitsnap.Progress) *gitsnap.Snap {
		b.Helper()
		repo, err := gitsnap.OpenRepo(r.repo)
		if err != nil {
			b.Fatal(err)
		}
		s, err := gitsnap.New(gitsnap.Options{Repo: repo, Scopes: scopes.Default(), Version: "bench", Progress: ph,
			Getenv: func(k string) string { return envMap[k] }})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	profPath := func(what string) string {
		if prof == "" {
			return ""
		}
		return prof + "-" + what + ".pprof"
	}
	var snapID string
	b.Run("create", func(b *testing.B) {
		r.b = b
		b.SetBytes(size)
		for range b.N {
			b.StopTimer()
			r.freshRepo(config(0))
			ph := &phaseProgress{phase: "capture"}
			s := open(b, ph)
			runtime.GC()
			peak := startHeapPeak(ph)
			b.StartTimer()
			res, err := s.Create(ctx, gitsnap.CreateOptions{NoValidate: true, Scopes: []string{"database"}, Message: "bench"})
			b.StopTimer()
			peak.finish(b, profPath("create"))
			if err != nil {
				b.Fatal(err)
			}
			snapID = res.Snapshot.ID
		}
	})
	b.Run("restore", func(b *testing.B) {
		r.b = b
		b.SetBytes(size)
		b.StopTimer()
		if snapID == "" {
			r.freshRepo(config(0))
			res, err := open(b, nil).Create(ctx, gitsnap.CreateOptions{NoValidate: true, Scopes: []string{"database"}, Message: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			snapID = res.Snapshot.ID
		}
		no := false
		for i := range b.N {
			if err := os.WriteFile(filepath.Join(r.repo, ".gitsnap.toml"), []byte(config(i+1)), 0o644); err != nil {
				b.Fatal(err)
			}
			ph := &phaseProgress{phase: "verify+plan"}
			s := open(b, ph)
			runtime.GC()
			peak := startHeapPeak(ph)
			b.StartTimer()
			_, err := s.Restore(ctx, snapID, gitsnap.RestoreOptions{Scopes: []string{"database"}, Validate: &no})
			b.StopTimer()
			peak.finish(b, profPath("restore"))
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
