package hooks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

func TestParseRefUpdates(t *testing.T) {
	a, b := strings.Repeat("a", 40), strings.Repeat("0", 40)
	in := "refs/heads/main " + a + " refs/heads/main " + b + "\n\n(delete) " + b + " refs/heads/old " + a + "\n"
	got, err := ParseRefUpdates(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	ha, _ := gitsnap.ParseHash(a)
	want := []RefUpdate{
		{LocalRef: "refs/heads/main", LocalOID: ha, RemoteRef: "refs/heads/main"},
		{LocalRef: "(delete)", RemoteRef: "refs/heads/old", RemoteOID: ha},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !got[1].Deletion() || got[0].Deletion() {
		t.Error("Deletion() is wrong")
	}
	for _, bad := range []string{"refs/heads/main abc refs/heads/main " + b, "only three fields"} {
		if _, err := ParseRefUpdates(strings.NewReader(bad)); !errors.Is(err, gitsnap.ErrUsage) {
			t.Errorf("%q: err = %v, want ErrUsage", bad, err)
		}
	}
}

func TestPrePushPolicy(t *testing.T) {
	dir := gitsnaptest.NewGitRepo(t)
	good := commitFile(t, dir, "a.txt", "1")   // validated, tagged known-good
	plain := commitFile(t, dir, "a.txt", "2")  // validated, not known-good
	failed := commitFile(t, dir, "a.txt", "3") // validation failed
	dirty := commitFile(t, dir, "a.txt", "4")  // validated, but with uncommitted changes
	none := commitFile(t, dir, "a.txt", "5")   // no snapshot at all
	unval := commitFile(t, dir, "a.txt", "6")  // --no-validate
	ids := makeSnapshots(t, dir, []snapSpec{
		{Source: good, Status: "failed"}, // an older failed attempt does not matter
		{Source: good, Status: "passed", Tags: []string{"known-good"}},
		{Source: plain, Status: "passed"},
		{Source: failed, Status: "failed"},
		{Source: dirty, Status: "passed", Tags: []string{"known-good"}, Dirty: true},
		{Source: unval},
	})
	gitsnaptest.RunGit(t, dir, "tag", "-a", "-m", "release", "v-none", none)
	gitsnaptest.RunGit(t, dir, "tag", "v-good", good)
	annotatedNone := gitsnaptest.RunGit(t, dir, "rev-parse", "v-none")
	zero := strings.Repeat("0", 40)
	line := func(remoteRef, oid string) string {
		return fmt.Sprintf("refs/heads/x %s %s %s", oid, remoteRef, zero)
	}
	tests := []struct {
		name    string
		policy  gitsnap.PrePushConfig
		line    string
		checked bool
		allowed bool
		reason  string
		snap    string
	}{
		{"validated snapshot", gitsnap.PrePushConfig{}, line("refs/heads/main", good), true, true, "", ids[1]},
		{"validated, not known-good", gitsnap.PrePushConfig{}, line("refs/heads/main", plain), true, true, "", ids[2]},
		{"known-good required", gitsnap.PrePushConfig{Require: "known-good"}, line("refs/heads/main", plain), true, false, "not tagged known-good", ""},
		{"known-good present", gitsnap.PrePushConfig{Require: "known-good"}, line("refs/heads/main", good), true, true, "", ids[1]},
		{"failed validation", gitsnap.PrePushConfig{}, line("refs/heads/main", failed), true, false, "validation failed", ""},
		{"dirty snapshot", gitsnap.PrePushConfig{}, line("refs/heads/main", dirty), true, false, "uncommitted changes", ""},
		{"unvalidated snapshot", gitsnap.PrePushConfig{}, line("refs/heads/main", unval), true, false, "unvalidated", ""},
		{"no snapshot", gitsnap.PrePushConfig{}, line("refs/heads/main", none), true, false, "has no snapshot", ""},
		{"require off", gitsnap.PrePushConfig{Require: "off"}, line("refs/heads/main", none), false, true, "", ""},
		{"deletion", gitsnap.PrePushConfig{}, "(delete) " + zero + " refs/heads/main " + none, false, true, "", ""},
		{"branch outside the globs", gitsnap.PrePushConfig{Branches: []string{"main", "release/*"}}, line("refs/heads/feature", none), false, true, "", ""},
		{"branch inside the globs", gitsnap.PrePushConfig{Branches: []string{"main", "release/*"}}, line("refs/heads/release/1.0", none), true, false, "has no snapshot", ""},
		{"deep glob", gitsnap.PrePushConfig{Branches: []string{"release/**"}}, line("refs/heads/release/a/b", none), true, false, "has no snapshot", ""},
		{"annotated tag follows the policy", gitsnap.PrePushConfig{Branches: []string{"main"}}, "refs/tags/v-none " + annotatedNone + " refs/tags/v-none " + zero, true, false, "has no snapshot", ""},
		{"lightweight tag of a validated commit", gitsnap.PrePushConfig{}, "refs/tags/v-good " + good + " refs/tags/v-good " + zero, true, true, "", ids[1]},
		{"notes pass", gitsnap.PrePushConfig{}, line("refs/notes/snap", none), false, true, "", ""},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := openSnap(t, dir, tc.policy)
			ups, err := ParseRefUpdates(strings.NewReader(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Check(ctx, snap, ups)
			v := res.Verdicts[0]
			if v.Checked != tc.checked || v.Allowed != tc.allowed || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("verdict: checked %v allowed %v reason %q; want %v %v %q", v.Checked, v.Allowed, v.Reason, tc.checked, tc.allowed, tc.reason)
			}
			var got string
			if v.Snapshot != nil {
				got = v.Snapshot.ID
			}
			if got != tc.snap {
				t.Errorf("allowed by %q, want %q", got, tc.snap)
			}
			var re *RefusedError
			if tc.allowed != (err == nil) || (!tc.allowed && !errors.As(err, &re)) {
				t.Fatalf("Check error = %v", err)
			}
			if err != nil {
				msg, hint := err.Error(), gitsnap.HintOf(err)
				if !strings.Contains(msg, v.Commit.String()[:12]) || !strings.Contains(hint, "git snap create") || !strings.Contains(hint, "git push --no-verify") {
					t.Errorf("refusal does not name the commit and the fix:\nerror: %s\nhint: %s", msg, hint)
				}
			}
		})
	}
}

func TestRefusalListsEveryRef(t *testing.T) {
	dir := gitsnaptest.NewGitRepo(t)
	a := commitFile(t, dir, "a.txt", "1")
	b := commitFile(t, dir, "a.txt", "2")
	makeSnapshots(t, dir, []snapSpec{{Source: a, Status: "passed"}})
	zero := strings.Repeat("0", 40)
	in := fmt.Sprintf("refs/heads/a %s refs/heads/a %s\nrefs/heads/b %s refs/heads/b %s\nrefs/heads/c %s refs/heads/c %s\n", a, zero, b, zero, b, zero)
	ups, err := ParseRefUpdates(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Check(context.Background(), openSnap(t, dir, gitsnap.PrePushConfig{}), ups)
	if err == nil || len(res.Refused()) != 2 {
		t.Fatalf("err %v, refused %d", err, len(res.Refused()))
	}
	if want := "push refused: 2 refs have no validated snapshot: b (" + b[:12] + "), c (" + b[:12] + ")"; err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if !strings.HasPrefix(gitsnap.HintOf(err), "run git snap create") {
		t.Errorf("hint for HEAD: %q", gitsnap.HintOf(err))
	}
}

// The source index the hook keeps is an optimisation only: a damaged one is
// rebuilt, a deleted snapshot stops counting, a new one is picked up.
func TestSourceIndexNeverDecides(t *testing.T) {
	ctx := context.Background()
	dir := gitsnaptest.NewGitRepo(t)
	head := commitFile(t, dir, "a.txt", "1")
	ids := makeSnapshots(t, dir, []snapSpec{{Source: head, Status: "passed"}})
	zero := strings.Repeat("0", 40)
	check := func() error {
		t.Helper()
		ups, _ := ParseRefUpdates(strings.NewReader("refs/heads/main " + head + " refs/heads/main " + zero))
		_, err := Check(ctx, openSnap(t, dir, gitsnap.PrePushConfig{}), ups)
		return err
	}
	index := filepath.Join(dir, ".git", "git-snap", "sources.idx")
	if err := check(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(index); err != nil {
		t.Fatalf("no index written: %v", err)
	}
	if err := os.WriteFile(index, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := check(); err != nil {
		t.Fatalf("with a damaged index: %v", err)
	}
	gitsnaptest.RunGit(t, dir, "update-ref", "-d", "refs/snapshots/"+ids[0])
	if err := check(); err == nil {
		t.Fatal("a deleted snapshot still allows the push")
	}
	makeSnapshots(t, dir, []snapSpec{{Source: head, Status: "passed"}})
	if err := check(); err != nil {
		t.Fatalf("a new snapshot is not seen: %v", err)
	}
}
