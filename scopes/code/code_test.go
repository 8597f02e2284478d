package code

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

func envFor(wt gitsnap.Worktree) *gitsnap.ScopeEnv {
	return &gitsnap.ScopeEnv{Root: "/fake", Config: &gitsnap.Config{}, Worktree: wt, Progress: gitsnap.NoProgress{}}
}

func TestConformance(t *testing.T) {
	scopetest.Run(t, func(t *testing.T) *scopetest.Case {
		f := newFakeWorktree()
		return &scopetest.Case{
			Scope: New(),
			Env:   envFor(fakeRepo{f}),
			Setup: func(t *testing.T) {
				f.files["a.txt"] = "one\n"
				f.files["b.txt"] = "two\n"
				f.commit(t, "first")
				f.files["untracked.txt"] = "dirty\n"
			},
			Mutate: func(t *testing.T) {
				f.files["a.txt"] = "changed\n"
				delete(f.files, "b.txt")
				f.commit(t, "second")
				f.files["new.txt"] = "new\n"
			},
			State: func(t *testing.T) string { return f.state() },
		}
	})
}

func capture(t *testing.T, wt gitsnap.Worktree) gitsnap.CodeState {
	t.Helper()
	st := scopetest.NewStore(Name)
	if err := New().Capture(context.Background(), envFor(wt), st); err != nil {
		t.Fatal(err)
	}
	cs, ok := st.Code()
	if !ok {
		t.Fatal("capture recorded no code state")
	}
	return cs
}

func TestCaptureDirty(t *testing.T) {
	emptyTree := gitsnap.HashObject(gitsnap.ObjectTree, nil)
	tests := []struct {
		name       string
		setup      func(t *testing.T, f *fakeWorktree)
		plainWT    bool // no ReadCommit: dirtiness unknown
		wantDirty  bool
		wantUnborn bool
	}{
		{"clean", func(t *testing.T, f *fakeWorktree) { f.files["a"] = "1"; f.commit(t, "c") }, false, false, false},
		{"modified", func(t *testing.T, f *fakeWorktree) { f.files["a"] = "1"; f.commit(t, "c"); f.files["a"] = "2" }, false, true, false},
		{"untracked", func(t *testing.T, f *fakeWorktree) { f.files["a"] = "1"; f.commit(t, "c"); f.files["b"] = "2" }, false, true, false},
		{"unborn empty", func(t *testing.T, f *fakeWorktree) {}, false, false, true},
		{"unborn with files", func(t *testing.T, f *fakeWorktree) { f.files["a"] = "1" }, false, true, true},
		{"clean without commit reader", func(t *testing.T, f *fakeWorktree) { f.files["a"] = "1"; f.commit(t, "c") }, true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeWorktree()
			tc.setup(t, f)
			var wt gitsnap.Worktree = fakeRepo{f}
			if tc.plainWT {
				wt = f
			}
			cs := capture(t, wt)
			if cs.Dirty != tc.wantDirty {
				t.Errorf("Dirty = %v, want %v", cs.Dirty, tc.wantDirty)
			}
			if cs.Commit.IsZero() != tc.wantUnborn || cs.Commit != f.head.Commit {
				t.Errorf("Commit = %s, want HEAD %s", cs.Commit, f.head.Commit)
			}
			if cs.Branch != "refs/heads/main" {
				t.Errorf("Branch = %q", cs.Branch)
			}
			if tc.name == "unborn empty" && cs.Tree != emptyTree {
				t.Errorf("Tree = %s, want the empty tree", cs.Tree)
			}
			if _, ok := f.trees[cs.Tree]; !ok {
				t.Errorf("Tree %s is not what the worktree captured", cs.Tree)
			}
		})
	}
}

func TestRestoreMovesHeadOnlyWhenNeeded(t *testing.T) {
	ctx := context.Background()
	f := newFakeWorktree()
	f.files["a"] = "1"
	first := f.commit(t, "first")
	st := scopetest.NewStore(Name)
	if err := New().Capture(ctx, envFor(fakeRepo{f}), st); err != nil {
		t.Fatal(err)
	}
	cs, _ := st.Code()

	f.files["a"] = "2"
	if err := New().Restore(ctx, envFor(fakeRepo{f}), st); err != nil {
		t.Fatal(err)
	}
	f.commit(t, "second")
	if err := New().Restore(ctx, envFor(fakeRepo{f}), st); err != nil {
		t.Fatal(err)
	}
	want := []gitsnap.WorktreeRestore{
		{Tree: cs.Tree, Commit: first, MoveHead: false},
		{Tree: cs.Tree, Commit: first, MoveHead: true},
	}
	if diff := cmp.Diff(want, f.restores); diff != "" {
		t.Errorf("RestoreWorktree calls (-want +got):\n%s", diff)
	}
	if f.head != (gitsnap.Head{Commit: first}) || f.files["a"] != "1" {
		t.Errorf("after restore: head %+v, a=%q; want detached at %s, a=1", f.head, f.files["a"], first)
	}
}

func TestPlan(t *testing.T) {
	ctx := context.Background()
	f := newFakeWorktree()
	f.files["a"] = "1"
	first := f.commit(t, "first")
	st := scopetest.NewStore(Name)
	if err := New().Capture(ctx, envFor(fakeRepo{f}), st); err != nil {
		t.Fatal(err)
	}
	cs, _ := st.Code()
	f.files["a"] = "2"
	second := f.commit(t, "second")
	live, _ := f.CaptureWorktree(ctx, hashWriter{})

	p, err := New().Plan(ctx, envFor(fakeRepo{f}), st)
	if err != nil {
		t.Fatal(err)
	}
	want := []gitsnap.Change{
		{Op: gitsnap.OpModify, Path: ".", Detail: "worktree " + live.String()[:7] + " → " + cs.Tree.String()[:7]},
		{Op: gitsnap.OpModify, Path: "HEAD", Detail: "HEAD " + second.String()[:7] + " → " + first.String()[:7]},
	}
	if diff := cmp.Diff(want, p.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "detached from refs/heads/main") {
		t.Errorf("warnings = %q, want one about detaching", p.Warnings)
	}
	if len(f.restores) != 0 {
		t.Error("plan restored something")
	}

	f.captureErr = errors.New("disk on fire")
	p, err = New().Plan(ctx, envFor(fakeRepo{f}), st)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 2 || !strings.Contains(strings.Join(p.Warnings, "\n"), "disk on fire") {
		t.Errorf("plan with a failing worktree scan: %+v", p)
	}
}

func TestNoCodeState(t *testing.T) {
	f := newFakeWorktree()
	empty := scopetest.NewStore(Name)
	if _, err := New().Plan(context.Background(), envFor(f), empty); !errors.Is(err, gitsnap.ErrInvalidFormat) {
		t.Errorf("plan: got %v, want ErrInvalidFormat", err)
	}
	if err := New().Restore(context.Background(), envFor(f), empty); !errors.Is(err, gitsnap.ErrInvalidFormat) {
		t.Errorf("restore: got %v, want ErrInvalidFormat", err)
	}
	if err := New().Capture(context.Background(), envFor(nil), empty); err == nil {
		t.Error("capture without a worktree: no error")
	}
}

func TestHashWriterMatchesObjects(t *testing.T) {
	ctx := context.Background()
	objs := scopetest.NewObjects()
	for _, data := range []string{"", "hello\n", strings.Repeat("x", 100000)} {
		a, _ := objs.WriteBlob(ctx, []byte(data))
		b, err := hashWriter{}.WriteBlobFrom(ctx, strings.NewReader(data), int64(len(data)))
		if err != nil || a != b {
			t.Errorf("blob of %d bytes: %s vs %s (%v)", len(data), a, b, err)
		}
	}
	if _, err := (hashWriter{}).WriteBlobFrom(ctx, strings.NewReader("abc"), 4); err == nil {
		t.Error("WriteBlobFrom accepted a short reader")
	}
}
