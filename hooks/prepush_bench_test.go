package hooks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// benchRepo is a repository with n fabricated snapshots of other commits
// (with notes) and a bare remote "origin" that has main.
func benchRepo(b *testing.B, n int) string {
	b.Helper()
	dir := gitsnaptest.NewGitRepo(b)
	writeFile(b, dir, ".gitsnap.toml", "[hooks.pre_push]\nrequire = \"validated\"\nbranches = [\"main\"]\n")
	commitFile(b, dir, "app.txt", "0")
	specs := make([]snapSpec, n)
	for i := range specs {
		specs[i] = snapSpec{Source: fmt.Sprintf("%040x", i+1), Status: "passed", Tags: []string{"known-good"}}
	}
	makeSnapshots(b, dir, specs)
	bare := filepath.Join(filepath.Dir(dir), "origin.git")
	gitsnaptest.RunGit(b, filepath.Dir(dir), "init", "-q", "--bare", bare)
	gitsnaptest.RunGit(b, dir, "remote", "add", "origin", bare)
	gitsnaptest.RunGit(b, dir, "push", "-q", "--no-verify", "origin", "main")
	return dir
}

// BenchmarkPrePushCheck measures the hook's work in process: open the
// repository and config, then check one pushed commit against 1,000
// snapshots — with the source index the hook keeps (every push but the
// first) and without it (the first push, or 1,000 snapshots new since the
// last one: every snapshot commit is read once).
func BenchmarkPrePushCheck(b *testing.B) {
	gitsnaptest.RequireGit(b)
	dir := benchRepo(b, 1000)
	head := commitFile(b, dir, "app.txt", "1")
	makeSnapshots(b, dir, []snapSpec{{Source: head, Status: "passed"}})
	in := fmt.Sprintf("refs/heads/main %s refs/heads/main %s\n", head, strings.Repeat("0", 40))
	ctx := context.Background()
	index := filepath.Join(dir, ".git", "git-snap", "sources.idx")
	for _, mode := range []string{"index", "no-index"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if mode == "no-index" {
					b.StopTimer()
					os.Remove(index)
					b.StartTimer()
				}
				repo, err := gitsnap.OpenRepo(dir)
				if err != nil {
					b.Fatal(err)
				}
				snap, err := gitsnap.New(gitsnap.Options{Repo: repo})
				if err != nil {
					b.Fatal(err)
				}
				ups, err := ParseRefUpdates(strings.NewReader(in))
				if err != nil {
					b.Fatal(err)
				}
				res, err := Check(ctx, snap, ups)
				if err != nil || res.Verdicts[0].Snapshot == nil {
					b.Fatalf("check: %v", err)
				}
			}
		})
	}
}

// BenchmarkPushThroughHook is the user-visible cost: real git pushes of
// new commits to a bare remote, alternating between the installed hook
// (which finds the commit's validated snapshot among 1,000 and allows it)
// and --no-verify, so load on the machine hits both alike. It reports the
// medians: added-ms is what the hook adds to a push.
func BenchmarkPushThroughHook(b *testing.B) {
	gitsnaptest.RequireGit(b)
	bin := b.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "git-snap"), "github.com/git-snap/git-snap/cmd/git-snap")
	if out, err := build.CombinedOutput(); err != nil {
		b.Skipf("build git-snap: %v\n%s", err, out)
	}
	b.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := benchRepo(b, 1000)
	if _, err := Install(context.Background(), dir, InstallOptions{}); err != nil {
		b.Fatal(err)
	}
	home := b.TempDir()
	commits := 0
	push := func(noVerify bool) time.Duration {
		commits++
		head := commitFile(b, dir, "app.txt", fmt.Sprintf("change %d", commits))
		makeSnapshots(b, dir, []snapSpec{{Source: head, Status: "passed"}})
		args := []string{"push", "-q", "origin", "main"}
		if noVerify {
			args = append(args, "--no-verify")
		}
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = gitsnaptest.GitEnv(b, home)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git push: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	var with, without, added []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, wo := push(false), push(true)
		with = append(with, ms(w))
		without = append(without, ms(wo))
		added = append(added, ms(w-wo))
	}
	b.ReportMetric(median(with), "hook-ms")
	b.ReportMetric(median(without), "no-verify-ms")
	b.ReportMetric(median(added), "added-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
