package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes"
)

// The performance targets of issue 2 are measured here, as Go benchmarks
// (docs/benchmarks.md records the figures; `make bench` runs them):
//
//   - a files scope holding N bytes in many ~210 KiB files plus one N-byte
//     file (N = 1 GiB by default; GITSNAP_BENCH_SIZE=64MiB for a quick run);
//   - git-snap create and restore run as a subprocess (the built binary),
//     so that peak RSS is the process's own (rusage maxrss);
//   - the floor: git hash-object -w (and git add / checkout-index) over the
//     same files, timed in the same benchmark.
//
// MB/s and peak-rss-MB use MB = 10^6 bytes.

const (
	benchSmallFiles = 5000 // small files per GiB of small-file data
	benchSizeEnv    = "GITSNAP_BENCH_SIZE"
)

// benchData is the generated input: dir/data/small/NN/fileNNNN.bin and
// dir/data/big.bin.
type benchData struct {
	root       string // a directory holding data/
	paths      []string
	smallBytes int64
	bigBytes   int64
}

func (d *benchData) total() int64 { return d.smallBytes + d.bigBytes }

// parseBenchSize reads sizes like 1GiB, 256MiB, 64M, 1G or plain bytes.
func parseBenchSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 1 << 30, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: want a size like 1GiB or 64MiB, got %q", benchSizeEnv, s)
	}
	return n * mult, nil
}

// makeBenchData writes incompressible files from a fixed-seed ChaCha8
// stream (the same bytes on every run):
// small files totalling about size bytes (5,000 per GiB, sizes spread
// between 1/2 and 3/2 of the mean) and one file of exactly size bytes.
func makeBenchData(b *testing.B, root string, size int64) *benchData {
	b.Helper()
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 'i', 'z', 'e'}))
	src := rand.NewChaCha8([32]byte{'d', 'a', 't', 'a'})
	d := &benchData{root: root}
	n := int(int64(benchSmallFiles) * size / (1 << 30))
	if n < 10 {
		n = 10
	}
	mean := size / int64(n)
	buf := make([]byte, 4<<20)
	write := func(rel string, size int64) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		for left := size; left > 0; {
			chunk := buf[:min(left, int64(len(buf)))]
			_, _ = src.Read(chunk) // ChaCha8.Read never fails
			if _, err := f.Write(chunk); err != nil {
				b.Fatal(err)
			}
			left -= int64(len(chunk))
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		d.paths = append(d.paths, p)
	}
	for i := range n {
		sz := mean/2 + rng.Int64N(mean+1)
		write(fmt.Sprintf("data/small/%02d/file%04d.bin", i%50, i), sz)
		d.smallBytes += sz
	}
	write("data/big.bin", size)
	d.bigBytes = size
	return d
}

// benchEnv is the environment of every subprocess: no system or user git
// config, a fixed identity, the built git-snap first on PATH.
func benchEnv(home, binDir string) []string {
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Bench", "GIT_AUTHOR_EMAIL=bench@example.com",
		"GIT_COMMITTER_NAME=Bench", "GIT_COMMITTER_EMAIL=bench@example.com",
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	for _, k := range []string{"TMPDIR", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// usage is what one subprocess used.
type usage struct {
	rss int64         // peak resident set, bytes
	cpu time.Duration // user + system time
}

// add keeps the peak RSS and sums CPU time over the iterations.
func (u *usage) add(v usage) {
	u.rss = max(u.rss, v.rss)
	u.cpu += v.cpu
}

// report adds peak-rss-MB and cpu-s/op (CPU seconds per iteration: less
// sensitive than wall time to other load on the machine).
func (u *usage) report(b *testing.B) {
	b.ReportMetric(float64(u.rss)/1e6, "peak-rss-MB")
	b.ReportMetric(u.cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// runRusage runs a command and returns its peak RSS and CPU time.
func runRusage(b *testing.B, cmd *exec.Cmd) usage {
	b.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}
	}
	return usage{
		rss: ru.Maxrss * 1024, // kilobytes on Linux
		cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
	}
}

// dirBytes sums the sizes of the regular files under dir.
func dirBytes(b *testing.B, dir string) int64 {
	b.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.Type().IsRegular() {
			fi, err := de.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// benchRig holds the data, the binary and helpers shared by sub-benchmarks.
type benchRig struct {
	b    *testing.B
	data *benchData
	bin  string // the built git-snap
	env  []string
}

func (r *benchRig) cmd(dir, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir, c.Env = dir, r.env
	return c
}

func (r *benchRig) git(dir string, args ...string) {
	r.b.Helper()
	runRusage(r.b, r.cmd(dir, "git", args...))
}

// freshRepo turns the data directory into a repository with an empty .git
// and a files-scope config.
func (r *benchRig) freshRepo() string {
	r.b.Helper()
	dir := r.data.root
	if err := os.RemoveAll(filepath.Join(dir, ".git")); err != nil {
		r.b.Fatal(err)
	}
	r.git(dir, "init", "-q", "-b", "main")
	cfg := "[snapshot]\nscopes = [\"files\"]\n\n[[files]]\nname = \"data\"\npaths = [\"data/**\"]\n"
	if err := os.WriteFile(filepath.Join(dir, ".gitsnap.toml"), []byte(cfg), 0o644); err != nil {
		r.b.Fatal(err)
	}
	return dir
}

func (r *benchRig) snap(args ...string) usage {
	r.b.Helper()
	return runRusage(r.b, r.cmd(r.data.root, r.bin, args...))
}

// BenchmarkSnapshot measures issue 2's targets with the git-snap binary:
//
//	create        first snapshot into an empty repository (MB/s, peak RSS, pack size)
//	create-again  a second snapshot with nothing changed (bytes-added-2nd)
//	restore       restore into a worktree whose data/ was deleted
//	floor-git-hash-object  git hash-object -w --stdin-paths on the same files
//	floor-git-add, floor-git-checkout-index  git's own add and checkout of them
func BenchmarkSnapshot(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	size, err := parseBenchSize(os.Getenv(benchSizeEnv))
	if err != nil {
		b.Fatal(err)
	}
	tmp := b.TempDir()
	binDir := filepath.Join(tmp, "bin")
	bin := filepath.Join(binDir, "git-snap")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	data := makeBenchData(b, filepath.Join(tmp, "work"), size)
	b.Logf("input: %d small files, %d bytes; 1 large file, %d bytes (generated in %s)",
		len(data.paths)-1, data.smallBytes, data.bigBytes, time.Since(t0).Round(time.Millisecond))
	r := &benchRig{b: b, data: data, bin: bin, env: benchEnv(home, binDir)}

	b.Run("create", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		var u usage
		for range b.N {
			b.StopTimer()
			dir := r.freshRepo()
			b.StartTimer()
			u.add(r.snap("create", "--no-validate", "-m", "bench"))
			b.StopTimer()
			b.ReportMetric(float64(dirBytes(b, filepath.Join(dir, ".git")))/1e6, "git-MB")
		}
		u.report(b)
	})
	b.Run("create-again", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		var u usage
		var added int64
		for range b.N {
			b.StopTimer()
			dir := r.freshRepo()
			r.snap("create", "--no-validate", "-m", "first")
			before := dirBytes(b, filepath.Join(dir, ".git"))
			b.StartTimer()
			u.add(r.snap("create", "--no-validate", "-m", "again"))
			b.StopTimer()
			added = max(added, dirBytes(b, filepath.Join(dir, ".git"))-before)
		}
		u.report(b)
		b.ReportMetric(float64(added), "bytes-added-2nd")
	})
	b.Run("restore", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		b.StopTimer()
		r.freshRepo()
		r.snap("create", "--no-validate", "-m", "to restore", "--tag", "bench-target")
		b.StartTimer()
		var u usage
		for range b.N {
			b.StopTimer()
			if err := os.RemoveAll(filepath.Join(data.root, "data")); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			// By tag: "latest" would be the previous iteration's safety snapshot.
			u.add(r.snap("restore", "--yes", "bench-target"))
		}
		b.StopTimer()
		if got := dirBytes(b, filepath.Join(data.root, "data")); got != data.total() {
			b.Fatalf("restored %d bytes, want %d", got, data.total())
		}
		u.report(b)
	})
	b.Run("floor-git-hash-object", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		var u usage
		for range b.N {
			b.StopTimer()
			dir := r.freshRepo()
			c := r.cmd(dir, "git", "hash-object", "-w", "--stdin-paths")
			c.Stdin = strings.NewReader(strings.Join(data.paths, "\n") + "\n")
			b.StartTimer()
			u.add(runRusage(b, c))
		}
		u.report(b)
	})
	b.Run("floor-git-add", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		var u usage
		for range b.N {
			b.StopTimer()
			dir := r.freshRepo()
			b.StartTimer()
			u.add(runRusage(b, r.cmd(dir, "git", "add", "data")))
		}
		u.report(b)
	})
	b.Run("floor-git-checkout-index", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		b.StopTimer()
		dir := r.freshRepo()
		r.git(dir, "add", "data")
		b.StartTimer()
		var u usage
		for range b.N {
			b.StopTimer()
			if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			u.add(runRusage(b, r.cmd(dir, "git", "checkout-index", "-a", "-f")))
		}
		b.StopTimer()
		if got := dirBytes(b, filepath.Join(dir, "data")); got != data.total() {
			b.Fatalf("checked out %d bytes, want %d", got, data.total())
		}
		u.report(b)
	})
}

// BenchmarkSnapshotInProcess runs create and restore of the same data
// through the gitsnap API in the test process, for profiling:
//
//	go test -run '^$' -bench SnapshotInProcess -benchtime 1x \
//	    -cpuprofile cpu.out -memprofile mem.out ./cmd/git-snap
//
// Its MB/s is comparable with BenchmarkSnapshot's; its memory is not (the
// test process holds more than the binary does).
func BenchmarkSnapshotInProcess(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	size, err := parseBenchSize(os.Getenv(benchSizeEnv))
	if err != nil {
		b.Fatal(err)
	}
	tmp := b.TempDir()
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		b.Fatal(err)
	}
	data := makeBenchData(b, filepath.Join(tmp, "work"), size)
	r := &benchRig{b: b, data: data, env: benchEnv(home, filepath.Join(tmp, "bin"))}
	envMap := map[string]string{}
	for _, kv := range r.env {
		k, v, _ := strings.Cut(kv, "=")
		envMap[k] = v
	}
	ctx := context.Background()
	open := func(b *testing.B) *gitsnap.Snap {
		b.Helper()
		repo, err := gitsnap.OpenRepo(data.root)
		if err != nil {
			b.Fatal(err)
		}
		s, err := gitsnap.New(gitsnap.Options{Repo: repo, Scopes: scopes.Default(), Version: "bench",
			Getenv: func(k string) string { return envMap[k] }})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("create", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		for range b.N {
			b.StopTimer()
			r.freshRepo()
			s := open(b)
			b.StartTimer()
			if _, err := s.Create(ctx, gitsnap.CreateOptions{NoValidate: true, Message: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("restore", func(b *testing.B) {
		r.b = b
		b.SetBytes(data.total())
		b.StopTimer()
		r.freshRepo()
		if _, err := open(b).Create(ctx, gitsnap.CreateOptions{NoValidate: true, Message: "to restore", Tags: []string{"bench-target"}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for range b.N {
			b.StopTimer()
			if err := os.RemoveAll(filepath.Join(data.root, "data")); err != nil {
				b.Fatal(err)
			}
			s := open(b)
			b.StartTimer()
			if _, err := s.Restore(ctx, "bench-target", gitsnap.RestoreOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
