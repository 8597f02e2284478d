package code

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

// fakeWorktree is an in-memory gitsnap.Worktree: a flat set of files, a
// HEAD, and the trees it has captured so it can restore them.
type fakeWorktree struct {
	objs       *scopetest.Objects // the "repository" commits live in
	head       gitsnap.Head
	files      map[string]string
	trees      map[gitsnap.Hash]map[string]string
	restores   []gitsnap.WorktreeRestore
	captureErr error
}

func newFakeWorktree() *fakeWorktree {
	return &fakeWorktree{
		objs:  scopetest.NewObjects(),
		head:  gitsnap.Head{Branch: "refs/heads/main"},
		files: map[string]string{},
		trees: map[gitsnap.Hash]map[string]string{},
	}
}

func (f *fakeWorktree) Root() string                           { return "/fake" }
func (f *fakeWorktree) IsIgnored(path string, isDir bool) bool { return false }

func (f *fakeWorktree) Head(ctx context.Context) (gitsnap.Head, error) {
	return f.head, ctx.Err()
}

func (f *fakeWorktree) CaptureWorktree(ctx context.Context, w gitsnap.ObjectWriter) (gitsnap.Hash, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.ZeroHash, err
	}
	if f.captureErr != nil {
		return gitsnap.ZeroHash, f.captureErr
	}
	names := make([]string, 0, len(f.files))
	for n := range f.files {
		names = append(names, n)
	}
	sort.Strings(names)
	var entries []gitsnap.TreeEntry
	snapshot := map[string]string{}
	for _, n := range names {
		h, err := w.WriteBlob(ctx, []byte(f.files[n]))
		if err != nil {
			return gitsnap.ZeroHash, err
		}
		entries = append(entries, gitsnap.TreeEntry{Name: n, Mode: gitsnap.ModeFile, Hash: h})
		snapshot[n] = f.files[n]
	}
	tree, err := w.WriteTree(ctx, entries)
	if err != nil {
		return gitsnap.ZeroHash, err
	}
	f.trees[tree] = snapshot
	return tree, nil
}

func (f *fakeWorktree) RestoreWorktree(ctx context.Context, o gitsnap.WorktreeRestore) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	files, ok := f.trees[o.Tree]
	if !ok {
		return fmt.Errorf("restore worktree: unknown tree %s", o.Tree)
	}
	f.restores = append(f.restores, o)
	f.files = map[string]string{}
	for n, c := range files {
		f.files[n] = c
	}
	if o.MoveHead {
		f.head = gitsnap.Head{Commit: o.Commit, Branch: o.Branch}
	}
	return nil
}

// commit records the current files as a new commit on the current branch.
func (f *fakeWorktree) commit(t *testing.T, msg string) gitsnap.Hash {
	t.Helper()
	ctx := context.Background()
	tree, err := f.CaptureWorktree(ctx, f.objs)
	if err != nil {
		t.Fatal(err)
	}
	sig := gitsnap.Signature{Name: "T", Email: "t@example.com", When: time.Unix(1700000000, 0).UTC()}
	c := &gitsnap.Commit{Tree: tree, Author: sig, Committer: sig, Message: msg + "\n"}
	if !f.head.Commit.IsZero() {
		c.Parents = []gitsnap.Hash{f.head.Commit}
	}
	h, err := f.objs.WriteCommit(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	f.head.Commit = h
	return h
}

// state describes what the code scope restores: HEAD's commit and the files.
func (f *fakeWorktree) state() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HEAD %s\n", f.head.Commit)
	names := make([]string, 0, len(f.files))
	for n := range f.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s %q\n", n, f.files[n])
	}
	return b.String()
}

// fakeRepo adds ReadCommit, as the go-git repository has it.
type fakeRepo struct{ *fakeWorktree }

func (r fakeRepo) ReadCommit(ctx context.Context, h gitsnap.Hash) (*gitsnap.Commit, error) {
	return r.objs.ReadCommit(ctx, h)
}
