package code

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
	"github.com/git-snap/git-snap/scopes/scopetest"
)

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		return "<missing>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gitCapture captures the code scope of repo into a store whose objects go
// to the real repository.
func gitCapture(t *testing.T, env *gitsnap.ScopeEnv, repo gitsnap.Repo) (*scopetest.Store, gitsnap.CodeState) {
	t.Helper()
	ctx := context.Background()
	ow, err := repo.NewObjectWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := scopetest.NewStore(Name)
	st.UseObjectWriter(ow)
	if err := New().Capture(ctx, env, st); err != nil {
		t.Fatal(err)
	}
	if err := ow.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cs, _ := st.Code()
	return st, cs
}

func TestRealGit(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the git binary")
	}
	ctx := context.Background()
	dir := gitsnaptest.NewGitRepo(t)
	writeFile(t, dir, "a.txt", "one\n")
	writeFile(t, dir, ".gitignore", ".env\n")
	gitsnaptest.RunGit(t, dir, "add", "-A")
	gitsnaptest.RunGit(t, dir, "commit", "-q", "-m", "first")
	first := gitsnaptest.RunGit(t, dir, "rev-parse", "HEAD")
	writeFile(t, dir, ".env", "SECRET=1\n")

	repo := gitsnaptest.OpenGitRepo(t, dir)
	env := &gitsnap.ScopeEnv{Root: dir, Config: &gitsnap.Config{}, Worktree: repo, Progress: gitsnap.NoProgress{}}

	// A clean worktree (the ignored .env does not count).
	clean, cs := gitCapture(t, env, repo)
	if cs.Commit.String() != first || cs.Tree.String() != gitsnaptest.RunGit(t, dir, "rev-parse", "HEAD^{tree}") ||
		cs.Branch != "refs/heads/main" || cs.Dirty {
		t.Fatalf("clean capture = %+v, want HEAD %s on main, its tree, not dirty", cs, first)
	}
	if p, err := New().Plan(ctx, env, clean); err != nil || !p.Empty() {
		t.Fatalf("plan right after capture: %+v, %v", p, err)
	}

	// A dirty worktree: a modified and an untracked file.
	writeFile(t, dir, "a.txt", "one, edited\n")
	writeFile(t, dir, "b.txt", "untracked\n")
	dirty, ds := gitCapture(t, env, repo)
	gitsnaptest.RunGit(t, dir, "add", "-A")
	wantTree := gitsnaptest.RunGit(t, dir, "write-tree")
	if ds.Commit.String() != first || ds.Tree.String() != wantTree || !ds.Dirty {
		t.Fatalf("dirty capture = %+v, want HEAD %s, tree %s (git add -A), dirty", ds, first, wantTree)
	}

	// Move on: commit, then leave more untracked work around.
	gitsnaptest.RunGit(t, dir, "commit", "-q", "-m", "second")
	writeFile(t, dir, "c.txt", "more\n")
	p, err := New().Plan(ctx, env, clean)
	if err != nil || len(p.Changes) != 2 {
		t.Fatalf("plan back to the clean snapshot: %+v, %v; want HEAD and worktree changes", p, err)
	}

	// Restore the clean snapshot: HEAD detached at first, worktree as then,
	// ignored .env untouched.
	if err := New().Restore(ctx, env, clean); err != nil {
		t.Fatal(err)
	}
	if got := gitsnaptest.RunGit(t, dir, "rev-parse", "HEAD"); got != first {
		t.Errorf("HEAD = %s, want %s", got, first)
	}
	if got := gitsnaptest.RunGit(t, dir, "status", "--porcelain"); got != "" {
		t.Errorf("git status after restoring the clean snapshot:\n%s", got)
	}
	for name, want := range map[string]string{"a.txt": "one\n", "b.txt": "<missing>", "c.txt": "<missing>", ".env": "SECRET=1\n"} {
		if got := readFile(t, dir, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if p, err := New().Plan(ctx, env, clean); err != nil || !p.Empty() {
		t.Errorf("plan after restore: %+v, %v", p, err)
	}

	// Restore the dirty snapshot: same commit, uncommitted changes back.
	if err := New().Restore(ctx, env, dirty); err != nil {
		t.Fatal(err)
	}
	if got, want := gitsnaptest.RunGit(t, dir, "status", "--porcelain"), " M a.txt\n?? b.txt"; got != want {
		t.Errorf("git status after restoring the dirty snapshot:\n%s\nwant:\n%s", got, want)
	}
	if err := New().Restore(ctx, env, dirty); err != nil {
		t.Fatalf("second restore: %v", err)
	}
	if p, err := New().Plan(ctx, env, dirty); err != nil || !p.Empty() {
		t.Errorf("plan after restoring the dirty snapshot: %+v, %v", p, err)
	}
}
