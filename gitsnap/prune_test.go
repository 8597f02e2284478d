package gitsnap

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/prune/*.golden")

// pruneHistory is a made-up history: 64 snapshots over about 18 months at
// irregular intervals, every fourth known-good, every seventh failed, a
// pinned old one and two release tags.
func pruneHistory() []*SnapshotInfo {
	var out []*SnapshotInfo
	at := time.Date(2025, 3, 30, 22, 15, 0, 0, time.UTC)
	steps := []time.Duration{17 * time.Hour, 40 * time.Minute, 3 * 24 * time.Hour, 26 * time.Hour, 11 * 24 * time.Hour, 5 * time.Hour, 45 * 24 * time.Hour}
	for i := 0; i < 64; i++ {
		at = at.Add(steps[i%len(steps)])
		sn := &SnapshotInfo{Commit: Hash{byte(i), 0xab}, Manifest: &Manifest{CreatedAt: at}, Status: StatusUnknown}
		sn.ID = SnapshotID(at, sn.Commit)
		switch {
		case i%7 == 3:
			sn.Status = StatusFailed
		case i%4 == 0:
			sn.Status, sn.Tags = StatusPassed, []string{TagKnownGood}
		case i%2 == 0:
			sn.Status = StatusPassed
		}
		switch i {
		case 2:
			sn.Tags = append(sn.Tags, TagPinned)
		case 21, 45:
			sn.Tags = append(sn.Tags, "release")
		}
		out = append([]*SnapshotInfo{sn}, out...) // newest first
	}
	return out
}

func renderPlan(p RetentionPolicy, ds []PruneDecision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy: %s\n", p)
	kept := 0
	for _, d := range ds {
		what := "remove"
		if d.Keep {
			what = "keep"
			kept++
		}
		sn := d.Snapshot
		line := fmt.Sprintf("%-6s %s %s %-7s %-19s %s", what, sn.ID, sn.CreatedAt().Format("Mon 2006-01-02 15:04"), sn.Status,
			strings.Join(sn.Tags, ","), strings.Join(d.Reasons, ","))
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	fmt.Fprintf(&b, "kept %d, removed %d\n", kept, len(ds)-kept)
	return b.String()
}

func TestPrunePolicyGolden(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name   string
		policy RetentionPolicy
	}{
		{"keep_last", RetentionPolicy{Last: 3}},
		{"keep_hourly", RetentionPolicy{Hourly: 4}},
		{"keep_daily_weekly", RetentionPolicy{Daily: 7, Weekly: 4}},
		{"keep_monthly_yearly", RetentionPolicy{Monthly: 6, Yearly: 3}},
		{"keep_within", RetentionPolicy{Within: 30 * day}},
		{"keep_tag", RetentionPolicy{Last: 1, Tags: []string{"release"}}},
		{"keep_known_good", RetentionPolicy{Last: 2, KnownGood: 6}},
		{"keep_combined", RetentionPolicy{Last: 5, Daily: 10, Weekly: 8, Monthly: 12, Yearly: 5, Within: 7 * day, Tags: []string{"release"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := renderPlan(tc.policy, planPrune(pruneHistory(), tc.policy, time.UTC))
			path := filepath.Join("..", "testdata", "prune", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestPrunePolicyGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestPruneInvariants checks, for many policies, what must always hold:
// the newest N known-good and every pinned snapshot are kept, and a
// snapshot is kept exactly when it has a reason.
func TestPruneInvariants(t *testing.T) {
	snaps := pruneHistory()
	for _, p := range []RetentionPolicy{{Last: 1}, {Daily: 1}, {Yearly: 1}, {Within: time.Hour}, {Last: 1, KnownGood: 1}, {Last: 1, KnownGood: 10}} {
		ds := planPrune(snaps, p, time.UTC)
		kg := p.KnownGood
		if kg == 0 {
			kg = DefaultKeepKnownGood
		}
		for _, d := range ds {
			if d.Keep != (len(d.Reasons) > 0) {
				t.Errorf("%v: %s keep=%v reasons=%v", p, d.Snapshot.ID, d.Keep, d.Reasons)
			}
			if d.Snapshot.HasTag(TagPinned) && !d.Keep {
				t.Errorf("%v: pinned %s removed", p, d.Snapshot.ID)
			}
			if d.Snapshot.KnownGood() && kg > 0 {
				if !d.Keep {
					t.Errorf("%v: one of the newest %d known-good removed: %s", p, kg, d.Snapshot.ID)
				}
				kg--
			}
		}
	}
}

func TestParseKeepWithin(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{"30d": 30 * day, "2w": 14 * day, "1y": 365 * day, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseKeepWithin(in); err != nil || got != want {
			t.Errorf("ParseKeepWithin(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-3d", "3x", "soon"} {
		if _, err := ParseKeepWithin(bad); err == nil {
			t.Errorf("ParseKeepWithin(%q) accepted", bad)
		}
	}
}

func TestPruneRefusesAnEmptyPolicy(t *testing.T) {
	s, _ := synthRepo(t, time.Now(), nil)
	if _, err := s.Prune(context.Background(), PruneOptions{Policy: RetentionPolicy{KnownGood: 5}}); !errors.Is(err, ErrUsage) {
		t.Fatalf("want a usage error, got %v", err)
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = pruneGitEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPruneApplyRemovesRefsNotesAndRemoteRefs(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	var snaps []synthSnap
	for i := 0; i < 8; i++ {
		sn := synthSnap{At: now.Add(-time.Duration(8-i) * day), Status: StatusPassed}
		if i == 1 || i == 6 {
			sn.Tags = []string{TagKnownGood}
		}
		if i == 0 {
			sn.Tags = []string{TagPinned}
		}
		snaps = append(snaps, sn)
	}
	s, ids := synthRepo(t, now, snaps)
	ctx := context.Background()
	dir := s.repo.Root()
	bare := filepath.Join(t.TempDir(), "remote.git")
	git(t, dir, "init", "-q", "--bare", bare)
	git(t, dir, "remote", "add", "snapshots", bare)
	git(t, dir, "push", "-q", "snapshots", "refs/snapshots/*:refs/snapshots/*", "refs/notes/snap:refs/notes/snap")

	// Dry run: nothing changes.
	policy := RetentionPolicy{Last: 2, KnownGood: 1}
	res, err := s.Prune(ctx, PruneOptions{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept() != 3 || len(res.Removed) != 0 {
		t.Fatalf("dry run: kept %d removed %v", res.Kept(), res.Removed)
	}
	if n := len(strings.Fields(git(t, dir, "for-each-ref", "--format=%(refname)", "refs/snapshots/"))); n != 8 {
		t.Fatalf("dry run removed refs: %d left", n)
	}

	res, err = s.Prune(ctx, PruneOptions{Policy: policy, Apply: true, Remote: "snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	// Kept: the 2 newest (7, 6), the newest known-good (6), pinned (0).
	wantKept := []string{ids[0], ids[6], ids[7]}
	wantRemoved := []string{ids[5], ids[4], ids[3], ids[2], ids[1]}
	if diff := cmp.Diff(wantRemoved, res.Removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	for _, where := range []string{dir, bare} {
		refs := git(t, where, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/snapshots/")
		if diff := cmp.Diff(strings.Join(wantKept, "\n"), refs); diff != "" {
			t.Errorf("%s: refs left (-want +got):\n%s", where, diff)
		}
	}
	notes := git(t, dir, "notes", "--ref=snap", "list")
	if n := len(strings.Split(notes, "\n")); n != 3 {
		t.Errorf("want 3 notes left, got:\n%s", notes)
	}
	if git(t, dir, "rev-parse", "refs/notes/snap") != git(t, bare, "rev-parse", "refs/notes/snap") {
		t.Error("the pruned notes were not pushed")
	}
	git(t, dir, "fsck", "--strict")
	list, err := s.List(ctx, ListOptions{})
	if err != nil || len(list) != 3 {
		t.Fatalf("list after prune: %d, %v", len(list), err)
	}
}
