package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wtTestEnv isolates git and our own code from the user's config: git gets
// env, the repositories we open get the same variables through openRepo's
// lookup function, so no test touches the process environment.
func wtTestEnv(t testing.TB) []string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	home := t.TempDir()
	return []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_AUTHOR_DATE=2024-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z",
		"PATH=" + os.Getenv("PATH"),
	}
}

type wtGit struct {
	t   testing.TB
	env []string
}

func (g wtGit) lookup(key string) (string, bool) {
	for _, kv := range g.env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v, true
		}
	}
	return "", false
}

func (g wtGit) home() string { v, _ := g.lookup("HOME"); return v }

// run runs git in dir and returns trimmed stdout; it fails the test on error.
func (g wtGit) run(dir string, args ...string) string {
	g.t.Helper()
	out, err := g.try(dir, args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (g wtGit) try(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// wtNewRepo makes a repository with one commit holding files.
func wtNewRepo(t testing.TB, g wtGit, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	g.run(filepath.Dir(dir), "init", "-q", "-b", "main", dir)
	wtWriteFiles(t, dir, files)
	g.run(dir, "add", "-A")
	g.run(dir, "commit", "-q", "--allow-empty", "-m", "initial")
	return dir
}

func wtWriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "symlink:"); ok {
			_ = os.Remove(p)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := os.FileMode(0o644)
		if c, ok := strings.CutPrefix(content, "exec:"); ok {
			content, mode = c, 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// wtOpen opens the repository whose worktree is dir.
func wtOpen(t testing.TB, g wtGit, dir string) *goGitRepo {
	t.Helper()
	r, err := openRepo(dir, g.lookup)
	if err != nil {
		t.Fatalf("openRepo: %v", err)
	}
	return r
}

// wtCapture captures the worktree through the real pack writer.
func wtCapture(t testing.TB, r *goGitRepo) Hash {
	t.Helper()
	ctx := context.Background()
	w, err := r.NewObjectWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.CaptureWorktree(ctx, w)
	if err != nil {
		_ = w.Abort()
		t.Fatalf("CaptureWorktree: %v", err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return h
}

// wtGitAddAll copies the repository and returns what "git add -A && git
// write-tree" gives there, and "git ls-tree -r" of it.
func wtGitAddAll(t *testing.T, g wtGit, dir string) (tree, listing string) {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", dir, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	g.run(cp, "add", "-A")
	tree = g.run(cp, "write-tree")
	return tree, g.run(cp, "ls-tree", "-r", tree)
}

func wtReadFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCaptureCleanCheckoutIsHeadTree(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{
		"README.md":        "hello\n",
		"src/main.go":      "package main\n",
		"src/deep/x/y.txt": "y\n",
		"run.sh":           "exec:#!/bin/sh\n",
		"link":             "symlink:README.md",
	})
	r := wtOpen(t, g, dir)
	got := wtCapture(t, r)
	if want := g.run(dir, "rev-parse", "HEAD^{tree}"); got.String() != want {
		t.Errorf("capture = %s, want HEAD^{tree} %s", got, want)
	}
}

func TestCaptureDirtyMatchesGitAddAll(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	home := g.home()
	dir := wtNewRepo(t, g, map[string]string{
		".gitignore":     "*.log\nbuild/\n!keep.log\n/anchored.txt\n[!x]bang.txt\n",
		"a.txt":          "a\n",
		"del.txt":        "delete me\n",
		"dir/b.txt":      "b\n",
		"dir/.gitignore": "secret*\n",
		"dir/sub/c.txt":  "c\n",
		"run.sh":         "exec:#!/bin/sh\n",
		"link":           "symlink:a.txt",
		"was-file":       "becomes a directory\n",
	})
	wtWriteFiles(t, dir, map[string]string{
		"tracked.log":        "tracked although ignored\n",
		"dir/secret-tracked": "tracked secret\n",
	})
	g.run(dir, "add", "-f", "tracked.log", "dir/secret-tracked")
	g.run(dir, "commit", "-q", "-m", "tracked ignored files")
	wtWriteFiles(t, filepath.Join(dir, ".git"), map[string]string{"info/exclude": "info-excluded\n"})
	wtWriteFiles(t, home, map[string]string{".config/git/ignore": "global-ignored\n"})

	// Dirty the worktree in every way add -A cares about.
	wtWriteFiles(t, dir, map[string]string{
		"a.txt":              "a changed\n",
		"tracked.log":        "tracked and changed\n",
		"dir/secret-tracked": "changed secret\n",
		"new.txt":            "new\n",
		"new/deep/file.txt":  "deep\n",
		"x.log":              "ignored\n",
		"keep.log":           "re-included\n",
		"build/out.bin":      "ignored dir\n",
		"dir/secret.txt":     "ignored by nested .gitignore\n",
		"dir/sub/secret2":    "ignored by parent .gitignore\n",
		"anchored.txt":       "ignored at root\n",
		"dir/anchored.txt":   "not ignored below root\n",
		"abang.txt":          "ignored by class\n",
		"xbang.txt":          "not ignored by class\n",
		"info-excluded":      "ignored by info/exclude\n",
		"global-ignored":     "ignored by XDG ignore\n",
		"out-link":           "symlink:/etc/passwd",
		"dangling":           "symlink:does/not/exist",
		"dir/newexec.sh":     "exec:echo\n",
	})
	for _, p := range []string{"del.txt", "was-file"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	wtWriteFiles(t, dir, map[string]string{"was-file/inside.txt": "now a dir\n"})
	if err := os.Chmod(filepath.Join(dir, "dir/b.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty/nested"), 0o755); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(dir, "nested")
	g.run(dir, "init", "-q", "-b", "main", "nested")
	wtWriteFiles(t, nested, map[string]string{"n.txt": "nested\n"})
	g.run(nested, "add", "-A")
	g.run(nested, "commit", "-q", "-m", "nested")

	indexBefore := wtReadFile(t, filepath.Join(dir, ".git", "index"))
	r := wtOpen(t, g, dir)
	got := wtCapture(t, r)
	want, listing := wtGitAddAll(t, g, dir)
	if got.String() != want {
		t.Errorf("capture = %s, want %s (git add -A)\nours:\n%s\ngit:\n%s", got, want,
			g.run(dir, "ls-tree", "-r", got.String()), listing)
	}
	if again := wtCapture(t, r); again != got {
		t.Errorf("second capture = %s, want %s", again, got)
	}
	if !bytes.Equal(indexBefore, wtReadFile(t, filepath.Join(dir, ".git", "index"))) {
		t.Error("capture modified the index")
	}
}

func TestCaptureSubmoduleIsGitlink(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	sub := wtNewRepo(t, g, map[string]string{"s.txt": "sub\n"})
	dir := wtNewRepo(t, g, map[string]string{"top.txt": "top\n"})
	g.run(dir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "mod")
	g.run(dir, "commit", "-q", "-m", "add submodule")
	r := wtOpen(t, g, dir)
	if got, want := wtCapture(t, r).String(), g.run(dir, "rev-parse", "HEAD^{tree}"); got != want {
		t.Fatalf("clean capture = %s, want %s", got, want)
	}
	// Move the submodule's HEAD: the gitlink follows it.
	wtWriteFiles(t, filepath.Join(dir, "mod"), map[string]string{"s2.txt": "more\n"})
	g.run(filepath.Join(dir, "mod"), "add", "-A")
	g.run(filepath.Join(dir, "mod"), "commit", "-q", "-m", "sub change")
	got := wtCapture(t, r)
	if want, _ := wtGitAddAll(t, g, dir); got.String() != want {
		t.Errorf("capture = %s, want %s", got, want)
	}
	ls := g.run(dir, "ls-tree", got.String(), "mod")
	if want := "160000 commit " + g.run(filepath.Join(dir, "mod"), "rev-parse", "HEAD") + "\tmod"; ls != want {
		t.Errorf("gitlink entry = %q, want %q", ls, want)
	}
}

func TestHead(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{"a": "a\n"})
	r := wtOpen(t, g, dir)
	ctx := context.Background()
	commit, _ := ParseHash(g.run(dir, "rev-parse", "HEAD"))

	check := func(name string, want Head) {
		t.Helper()
		got, err := r.Head(ctx)
		if err != nil {
			t.Fatalf("%s: Head: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Head mismatch (-want +got):\n%s", name, diff)
		}
	}
	check("loose branch", Head{Commit: commit, Branch: "refs/heads/main"})
	g.run(dir, "pack-refs", "--all")
	check("packed branch", Head{Commit: commit, Branch: "refs/heads/main"})
	g.run(dir, "checkout", "-q", "--detach")
	check("detached", Head{Commit: commit})
	g.run(dir, "checkout", "-q", "--orphan", "fresh")
	check("unborn", Head{Branch: "refs/heads/fresh"})
}

func TestIsIgnored(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{
		".gitignore": "*.log\nbuild/\n!keep.log\n/root-only\ndocs/**/tmp\n[!x]y.bin\n\\#hash\n\\!bang\n" +
			"trail   \nesc\\ \nz**z\ncr.txt\r\nexcl/\n!excl/in.txt\n# comment\n",
		"sub/.gitignore":   "local\n!*.log\n",
		"docs/placeholder": "",
	})
	r := wtOpen(t, g, dir)
	tests := []struct {
		path  string
		isDir bool
	}{
		{"x.log", false}, {"keep.log", false}, {"build", true}, {"build", false},
		{"build/a/b.txt", false}, {"root-only", false}, {"sub/root-only", false},
		{"sub/local", false}, {"local", false}, {"sub/x.log", false},
		{"docs/tmp", true}, {"docs/a/b/tmp", false}, {"docs/a/tmpx", false},
		{"src/main.go", false},
		{"ay.bin", false}, {"xy.bin", false}, {"#hash", false}, {"!bang", false},
		{"trail", false}, {"esc ", false}, {"zabcz", false}, {"zab/cz", false},
		{"cr.txt", false}, {"excl/in.txt", false}, {"# comment", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			// git check-ignore decides dir-ness with a trailing slash.
			arg := tc.path
			if tc.isDir {
				arg += "/"
			}
			_, err := g.try(dir, "check-ignore", "-q", "--no-index", arg)
			want := err == nil
			if got := r.IsIgnored(tc.path, tc.isDir); got != want {
				t.Errorf("IsIgnored(%q, %v) = %v, git check-ignore says %v", tc.path, tc.isDir, got, want)
			}
		})
	}
}

// wtStatus is "git status --porcelain" with every untracked file listed.
func wtStatus(g wtGit, dir string) string {
	g.t.Helper()
	return g.run(dir, "status", "--porcelain", "--untracked-files=all")
}

func wtRestore(t testing.TB, r *goGitRepo, opts WorktreeRestore) {
	t.Helper()
	if err := r.RestoreWorktree(context.Background(), opts); err != nil {
		t.Fatalf("RestoreWorktree: %v", err)
	}
}

// wtLeftovers lists temporary files and locks restore may have left.
func wtLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(de.Name(), wtTempPrefix) || strings.HasSuffix(de.Name(), ".lock") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func wtHash(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// wtDirty builds a committed repository and then changes it in every way
// restore must undo.
func wtDirty(t *testing.T, g wtGit) string {
	t.Helper()
	dir := wtNewRepo(t, g, map[string]string{
		".gitignore":    "*.log\nbuild/\n",
		"a.txt":         "a\n",
		"del.txt":       "delete me\n",
		"dir/b.txt":     "b\n",
		"dir/sub/c.txt": "c\n",
		"run.sh":        "exec:#!/bin/sh\n",
		"link":          "symlink:a.txt",
		"becomes-dir":   "file\n",
		"gone/only.txt": "only file of a dir\n",
	})
	wtWriteFiles(t, dir, map[string]string{
		"a.txt":            "a changed\n",
		"new.txt":          "untracked\n",
		"newdir/x/y.txt":   "untracked deep\n",
		"keep.log":         "ignored, must survive\n",
		"build/out.bin":    "ignored dir, must survive\n",
		"dir/sub/c.txt":    "exec:c\n",
		"link":             "symlink:dir/b.txt",
		"escape":           "symlink:/etc/passwd",
		"run.sh":           "#!/bin/sh\n",
		"dir/new-exec.sh":  "exec:echo\n",
		"dir/sub/more.txt": "more\n",
	})
	for _, p := range []string{"del.txt", "becomes-dir", "gone"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	wtWriteFiles(t, dir, map[string]string{"becomes-dir/inner.txt": "now a dir\n"})
	return dir
}

func TestRestoreDirtyToClean(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtDirty(t, g)
	head := wtHash(t, g.run(dir, "rev-parse", "HEAD"))
	tree := wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}"))
	r := wtOpen(t, g, dir)
	wtRestore(t, r, WorktreeRestore{Tree: tree, Commit: head})

	// Stat data was recorded: diff-files trusts it without refreshing.
	if df := g.run(dir, "diff-files", "--name-only"); df != "" {
		t.Errorf("diff-files after restore:\n%s", df)
	}
	if dbg := g.run(dir, "ls-files", "--debug", "a.txt"); strings.Contains(dbg, "mtime: 0:0") {
		t.Errorf("no stat data for a.txt:\n%s", dbg)
	}
	if st := wtStatus(g, dir); st != "" {
		t.Errorf("git status after restore:\n%s", st)
	}
	for name, want := range map[string]string{"keep.log": "ignored, must survive\n", "build/out.bin": "ignored dir, must survive\n"} {
		if got := string(wtReadFile(t, filepath.Join(dir, name))); got != want {
			t.Errorf("ignored %s = %q, want %q", name, got, want)
		}
	}
	for _, gone := range []string{"newdir", "new.txt", "escape", "becomes-dir/inner.txt"} {
		if _, err := os.Lstat(filepath.Join(dir, gone)); !os.IsNotExist(err) && !wtIsNotDir(err) {
			t.Errorf("%s still exists (err %v)", gone, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh lost its executable bit: %v %v", fi, err)
	}
	if got := wtCapture(t, r); got != tree {
		t.Errorf("capture after restore = %s, want %s", got, tree)
	}
	if left := wtLeftovers(t, dir); len(left) > 0 {
		t.Errorf("leftover files: %v", left)
	}
	g.run(dir, "fsck", "--strict", "--no-progress")
}

func TestRestoreDirtyTreeRoundTrip(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtDirty(t, g)
	r := wtOpen(t, g, dir)
	head := wtHash(t, g.run(dir, "rev-parse", "HEAD"))
	statusBefore := wtStatus(g, dir)
	dirty := wtCapture(t, r)

	wtRestore(t, r, WorktreeRestore{Tree: wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}")), Commit: head})
	if st := wtStatus(g, dir); st != "" {
		t.Fatalf("not clean after restoring HEAD:\n%s", st)
	}
	wtRestore(t, r, WorktreeRestore{Tree: dirty, Commit: head})
	if diff := cmp.Diff(statusBefore, wtStatus(g, dir)); diff != "" {
		t.Errorf("status after restoring the dirty tree (-want +got):\n%s", diff)
	}
	if got := wtCapture(t, r); got != dirty {
		t.Errorf("capture = %s, want %s", got, dirty)
	}

	// Idempotent: a second restore changes nothing, not even inodes.
	before := map[string]os.FileInfo{}
	for _, p := range []string{"a.txt", "new.txt", "link", "dir/sub/c.txt"} {
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		before[p] = fi
	}
	wtRestore(t, r, WorktreeRestore{Tree: dirty, Commit: head})
	for p, fi := range before {
		now, err := os.Lstat(filepath.Join(dir, p))
		if err != nil || !os.SameFile(fi, now) || !now.ModTime().Equal(fi.ModTime()) {
			t.Errorf("%s was rewritten by an idempotent restore", p)
		}
	}
	if diff := cmp.Diff(statusBefore, wtStatus(g, dir)); diff != "" {
		t.Errorf("status after second restore (-want +got):\n%s", diff)
	}
	g.run(dir, "fsck", "--strict", "--no-progress")
}

func TestRestoreMovesHead(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{"v.txt": "one\n"})
	first := wtHash(t, g.run(dir, "rev-parse", "HEAD"))
	firstTree := wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}"))
	wtWriteFiles(t, dir, map[string]string{"v.txt": "two\n", "w.txt": "w\n"})
	g.run(dir, "add", "-A")
	g.run(dir, "commit", "-q", "-m", "second")
	second := wtHash(t, g.run(dir, "rev-parse", "HEAD"))
	r := wtOpen(t, g, dir)
	ctx := context.Background()

	tests := []struct {
		name       string
		opts       WorktreeRestore
		wantHead   Head
		wantBranch map[string]Hash
	}{
		{"index only", WorktreeRestore{Tree: firstTree, Commit: first},
			Head{Commit: second, Branch: "refs/heads/main"}, map[string]Hash{"refs/heads/main": second}},
		{"detach", WorktreeRestore{Tree: firstTree, Commit: first, MoveHead: true},
			Head{Commit: first}, map[string]Hash{"refs/heads/main": second}},
		{"new branch", WorktreeRestore{Tree: firstTree, Commit: first, MoveHead: true, Branch: "restored"},
			Head{Commit: first, Branch: "refs/heads/restored"}, map[string]Hash{"refs/heads/restored": first}},
		{"move main back", WorktreeRestore{Tree: firstTree, Commit: first, MoveHead: true, Branch: "refs/heads/main"},
			Head{Commit: first, Branch: "refs/heads/main"}, map[string]Hash{"refs/heads/main": first}},
	}
	for _, tc := range tests {
		wtRestore(t, r, tc.opts)
		got, err := r.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.wantHead, got); diff != "" {
			t.Errorf("%s: HEAD (-want +got):\n%s", tc.name, diff)
		}
		for ref, want := range tc.wantBranch {
			if got := g.run(dir, "rev-parse", ref); got != want.String() {
				t.Errorf("%s: %s = %s, want %s", tc.name, ref, got, want)
			}
		}
		// The index matches Commit and the worktree matches Tree: with
		// Tree == Commit's tree, git sees nothing to commit.
		if tc.opts.MoveHead {
			if st := wtStatus(g, dir); st != "" {
				t.Errorf("%s: status:\n%s", tc.name, st)
			}
		} else if st := g.run(dir, "diff", "--cached", "--name-status", first.String()); st != "" {
			t.Errorf("%s: index differs from %s:\n%s", tc.name, first, st)
		}
	}
	if err := r.RestoreWorktree(ctx, WorktreeRestore{Tree: firstTree, Commit: first, MoveHead: true, Branch: "refs/tags/x"}); err == nil {
		t.Error("restore with HEAD on a tag: want an error")
	}
}

func TestRestoreLinkedWorktree(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{".gitignore": "*.tmp\n", "a.txt": "a\n", "d/b.txt": "b\n"})
	wt := filepath.Join(filepath.Dir(dir), "linked")
	g.run(dir, "worktree", "add", "-q", "-b", "side", wt)
	mainHead := g.run(dir, "rev-parse", "HEAD")
	r := wtOpen(t, g, wt)
	if r.GitDir() == r.CommonDir() {
		t.Fatalf("linked worktree opened with git dir == common dir %s", r.GitDir())
	}
	tree := wtHash(t, g.run(wt, "rev-parse", "HEAD^{tree}"))
	if got := wtCapture(t, r); got != tree {
		t.Fatalf("clean capture = %s, want %s", got, tree)
	}
	wtWriteFiles(t, wt, map[string]string{"a.txt": "changed\n", "new.txt": "new\n", "x.tmp": "ignored\n"})
	dirty := wtCapture(t, r)
	if want, _ := wtGitAddAll(t, g, dir); dirty.String() == want {
		t.Fatal("main worktree capture equals the linked one; test is not testing anything")
	}
	head, err := r.Head(context.Background())
	if err != nil || head.Branch != "refs/heads/side" {
		t.Fatalf("Head = %+v, %v; want branch side", head, err)
	}
	wtRestore(t, r, WorktreeRestore{Tree: tree, Commit: head.Commit, MoveHead: true, Branch: "side"})
	if st := wtStatus(g, wt); st != "" {
		t.Errorf("linked worktree status:\n%s", st)
	}
	if _, err := os.Stat(filepath.Join(wt, "x.tmp")); err != nil {
		t.Errorf("ignored file removed: %v", err)
	}
	if got := g.run(dir, "rev-parse", "HEAD"); got != mainHead {
		t.Errorf("main worktree HEAD moved to %s", got)
	}
	if st := wtStatus(g, dir); st != "" {
		t.Errorf("main worktree status:\n%s", st)
	}
}

// wtCountdownCtx reports cancellation after n calls to Err, to stop a
// restore at many different points.
type wtCountdownCtx struct {
	context.Context
	n *atomic.Int64
}

func (c wtCountdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestRestoreCancelled(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtDirty(t, g)
	r := wtOpen(t, g, dir)
	head := wtHash(t, g.run(dir, "rev-parse", "HEAD"))
	tree := wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}"))
	opts := WorktreeRestore{Tree: tree, Commit: head, MoveHead: true}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.RestoreWorktree(ctx, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("restore with a cancelled context: %v, want context.Canceled", err)
	}
	w, err := r.NewObjectWriter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CaptureWorktree(ctx, w); !errors.Is(err, context.Canceled) {
		t.Errorf("capture with a cancelled context: %v, want context.Canceled", err)
	}
	_ = w.Abort()

	// Stop a restore after 1, 2, 3, ... context checks until one finishes;
	// every stop must leave no temporary file and no lock behind.
	finished := false
	for n := int64(1); n < 500 && !finished; n++ {
		var left atomic.Int64
		left.Store(n)
		err := r.RestoreWorktree(wtCountdownCtx{context.Background(), &left}, opts)
		switch {
		case err == nil:
			finished = true
			t.Logf("restore finished with %d context checks allowed", n)
		case !errors.Is(err, context.Canceled):
			t.Fatalf("stop after %d checks: %v", n, err)
		}
		if l := wtLeftovers(t, dir); len(l) > 0 {
			t.Fatalf("stop after %d checks (err %v) left %v", n, err, l)
		}
	}
	if !finished {
		t.Fatal("restore never finished")
	}
	if st := wtStatus(g, dir); st != "" {
		t.Errorf("status after the completed restore:\n%s", st)
	}
}

func TestRestoreRefusesUnsafeWays(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	outside := t.TempDir()
	tests := []struct {
		name    string
		ignore  string
		tracked map[string]string // committed: the tree restored
		setup   map[string]string // created (ignored) after the commit
		rm      []string          // tracked paths removed before the restore
		wantErr error
	}{
		{"symlinked parent", "ln\n", map[string]string{"ln/evil.txt": "x\n"},
			map[string]string{"ln": "symlink:" + outside}, []string{"ln"}, ErrUnsafePath},
		{"ignored file where a dir is needed", "blk\n", map[string]string{"blk/f.txt": "x\n"},
			map[string]string{"blk": "ignored file\n"}, []string{"blk"}, nil},
		{"ignored content in a dir where a file is needed", "out/\n", map[string]string{"out": "x\n"},
			map[string]string{"out/keep.bin": "ignored\n"}, []string{"out"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{".gitignore": tc.ignore}
			for k, v := range tc.tracked {
				files[k] = v
			}
			dir := wtNewRepo(t, g, files)
			g.run(dir, "add", "-f", ".")
			g.run(dir, "commit", "-q", "--allow-empty", "-m", "force-add")
			for _, p := range tc.rm {
				if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
					t.Fatal(err)
				}
			}
			wtWriteFiles(t, dir, tc.setup)
			r := wtOpen(t, g, dir)
			err := r.RestoreWorktree(context.Background(), WorktreeRestore{
				Tree:   wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}")),
				Commit: wtHash(t, g.run(dir, "rev-parse", "HEAD")),
			})
			if err == nil {
				t.Fatal("restore succeeded, want a refusal")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if des, _ := os.ReadDir(outside); len(des) > 0 {
				t.Errorf("restore wrote outside the worktree: %v", des)
			}
			for name, content := range tc.setup {
				if strings.HasPrefix(content, "symlink:") {
					continue
				}
				if got := string(wtReadFile(t, filepath.Join(dir, name))); got != content {
					t.Errorf("ignored %s = %q, want %q", name, got, content)
				}
			}
			if l := wtLeftovers(t, dir); len(l) > 0 {
				t.Errorf("leftovers: %v", l)
			}
		})
	}
}

func TestRestoreKeepsFilesTheTreeIgnores(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{".gitignore": "node_modules/\n.env\n", "app.js": "x\n"})
	// The .gitignore got lost: node_modules and .env look untracked now.
	if err := os.Remove(filepath.Join(dir, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	wtWriteFiles(t, dir, map[string]string{"node_modules/lib/index.js": "lib\n", ".env": "SECRET=1\n", "stray.txt": "untracked\n"})
	r := wtOpen(t, g, dir)
	wtRestore(t, r, WorktreeRestore{
		Tree:   wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}")),
		Commit: wtHash(t, g.run(dir, "rev-parse", "HEAD")),
	})
	for _, p := range []string{"node_modules/lib/index.js", ".env", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "stray.txt")); !os.IsNotExist(err) {
		t.Errorf("stray.txt should be removed, err = %v", err)
	}
	if st := wtStatus(g, dir); st != "" {
		t.Errorf("status:\n%s", st)
	}

	// A tracked file the older tree lacks goes, even though that tree's
	// rules ignore it: it is part of the code, not local state.
	first := wtHash(t, g.run(dir, "rev-parse", "HEAD"))
	firstTree := wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}"))
	wtWriteFiles(t, dir, map[string]string{".env": "SECRET=2\n"})
	g.run(dir, "add", "-f", ".env")
	g.run(dir, "commit", "-q", "-m", "track .env")
	wtRestore(t, r, WorktreeRestore{Tree: firstTree, Commit: first, MoveHead: true})
	if _, err := os.Stat(filepath.Join(dir, ".env")); !os.IsNotExist(err) {
		t.Errorf("tracked .env should be removed, err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules/lib/index.js")); err != nil {
		t.Errorf("node_modules: %v", err)
	}
}

func TestRestoreLeavesSubmoduleAndUnbornAlone(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	sub := wtNewRepo(t, g, map[string]string{"s.txt": "sub\n"})
	dir := wtNewRepo(t, g, map[string]string{"top.txt": "top\n"})
	g.run(dir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "mod")
	g.run(dir, "commit", "-q", "-m", "add submodule")
	wtWriteFiles(t, dir, map[string]string{"mod/local.txt": "inside the submodule\n", "top.txt": "changed\n"})
	r := wtOpen(t, g, dir)
	tree := wtHash(t, g.run(dir, "rev-parse", "HEAD^{tree}"))
	wtRestore(t, r, WorktreeRestore{Tree: tree, Commit: wtHash(t, g.run(dir, "rev-parse", "HEAD"))})
	if got := string(wtReadFile(t, filepath.Join(dir, "mod/local.txt"))); got != "inside the submodule\n" {
		t.Errorf("submodule content touched: %q", got)
	}
	if got := string(wtReadFile(t, filepath.Join(dir, "top.txt"))); got != "top\n" {
		t.Errorf("top.txt = %q", got)
	}

	// Unborn: Commit zero restores files but leaves index and HEAD.
	empty := filepath.Join(t.TempDir(), "unborn")
	g.run(filepath.Dir(empty), "init", "-q", "-b", "main", empty)
	wtWriteFiles(t, empty, map[string]string{"f.txt": "f\n"})
	ur := wtOpen(t, g, empty)
	want := wtCapture(t, ur)
	if err := os.Remove(filepath.Join(empty, "f.txt")); err != nil {
		t.Fatal(err)
	}
	wtRestore(t, ur, WorktreeRestore{Tree: want, MoveHead: true})
	if got := string(wtReadFile(t, filepath.Join(empty, "f.txt"))); got != "f\n" {
		t.Errorf("f.txt = %q", got)
	}
	if _, err := os.Stat(filepath.Join(empty, ".git", "index")); !os.IsNotExist(err) {
		t.Errorf("index written for an unborn branch: %v", err)
	}
	if h, err := ur.Head(context.Background()); err != nil || h != (Head{Branch: "refs/heads/main"}) {
		t.Errorf("Head = %+v, %v", h, err)
	}
}

func TestCaptureExcludesFileAndLargeFiles(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{"a.txt": "a\n"})
	excludes := filepath.Join(g.home(), "my-excludes")
	wtWriteFiles(t, g.home(), map[string]string{"my-excludes": "*.secret\n", ".config/git/ignore": "*.xdg\n"})
	g.run(dir, "config", "core.excludesFile", excludes)
	big := bytes.Repeat([]byte("0123456789abcdef"), (wtMaxInMemory/16)+4096)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	wtWriteFiles(t, dir, map[string]string{"k.secret": "s\n", "x.xdg": "not ignored: core.excludesFile replaces the default\n"})
	r := wtOpen(t, g, dir)
	if !r.IsIgnored("k.secret", false) || r.IsIgnored("x.xdg", false) {
		t.Errorf("IsIgnored: k.secret %v (want true), x.xdg %v (want false)", r.IsIgnored("k.secret", false), r.IsIgnored("x.xdg", false))
	}
	got := wtCapture(t, r)
	if want, listing := wtGitAddAll(t, g, dir); got.String() != want {
		t.Errorf("capture = %s, want %s\ngit:\n%s", got, want, listing)
	}
}

func TestWildmatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, text string
		want          bool
	}{
		{"*.txt", "a.txt", true},
		{"*.txt", "a/b.txt", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/xb", false},
		{"**/foo", "foo", true},
		{"**/foo", "x/y/foo", true},
		{"**/foo", "xfoo", false},
		{"foo/**", "foo/a/b", true},
		{"foo/**", "foo", false},
		{"a**b", "axyb", true},
		{"a**b", "ax/yb", false},
		{"[!a]b", "bb", true},
		{"[!a]b", "ab", false},
		{"[^a]b", "ab", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[[:digit:]]*", "1abc", true},
		{"[[:digit:]]*", "abc", false},
		{"[[:bogus:]]", "a", false},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"?", "/", false},
		{"a?c", "abc", true},
		{"[]]", "]", true},
		{"[a-]", "-", true},
		{"abc[", "abc[", false},
		{`trailing\`, `trailing\`, false},
		{"a[/]b", "a/b", false},
		{"*", "", true},
		{"*a*a*a*a*a*b", strings.Repeat("a", 30), false},
	}
	for _, tc := range tests {
		if got := wtWildmatch(tc.pattern, tc.text); got != tc.want {
			t.Errorf("wtWildmatch(%q, %q) = %v, want %v", tc.pattern, tc.text, got, tc.want)
		}
	}
}

// BenchmarkCaptureWorktree captures 5,000 files of 4 KiB: with a fresh
// index (stat cache hits), after touching every file (all re-read, hash
// only), and into the real pack writer.
func BenchmarkCaptureWorktree(b *testing.B) {
	g := wtGit{b, wtTestEnv(b)}
	files := map[string]string{}
	content := strings.Repeat("x", 4096)
	for i := range 5000 {
		files[fmt.Sprintf("d%02d/e%02d/f%04d.txt", i%50, i%7, i)] = content + fmt.Sprint(i)
	}
	dir := wtNewRepo(b, g, files)
	r := wtOpen(b, g, dir)
	ctx := context.Background()
	touch := func() {
		future := time.Now().Add(time.Hour)
		for name := range files {
			if err := os.Chtimes(filepath.Join(dir, name), future, future); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("stat-cache", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.CaptureWorktree(ctx, wtHashWriter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	touch()
	b.Run("rehash-all", func(b *testing.B) {
		b.SetBytes(int64(len(files) * len(content)))
		for b.Loop() {
			if _, err := r.CaptureWorktree(ctx, wtHashWriter{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pack-writer", func(b *testing.B) {
		b.SetBytes(int64(len(files) * len(content)))
		for b.Loop() {
			w, err := r.NewObjectWriter(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.CaptureWorktree(ctx, w); err != nil {
				b.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRestoreWorktree restores 5,000 files after 500 were changed
// and 500 untracked ones added.
func BenchmarkRestoreWorktree(b *testing.B) {
	g := wtGit{b, wtTestEnv(b)}
	files := map[string]string{}
	for i := range 5000 {
		files[fmt.Sprintf("d%02d/f%04d.txt", i%50, i)] = strings.Repeat("y", 2048) + fmt.Sprint(i)
	}
	dir := wtNewRepo(b, g, files)
	r := wtOpen(b, g, dir)
	opts := WorktreeRestore{
		Tree:   wtHash(b, g.run(dir, "rev-parse", "HEAD^{tree}")),
		Commit: wtHash(b, g.run(dir, "rev-parse", "HEAD")),
	}
	for b.Loop() {
		b.StopTimer()
		dirty := map[string]string{}
		for i := 0; i < 5000; i += 10 {
			dirty[fmt.Sprintf("d%02d/f%04d.txt", i%50, i)] = "changed"
			dirty[fmt.Sprintf("d%02d/new%04d.txt", i%50, i)] = "new"
		}
		wtWriteFiles(b, dir, dirty)
		b.StartTimer()
		if err := r.RestoreWorktree(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRestoreRejectsHostileTrees(t *testing.T) {
	t.Parallel()
	g := wtGit{t, wtTestEnv(t)}
	dir := wtNewRepo(t, g, map[string]string{"a.txt": "a\n"})
	r := wtOpen(t, g, dir)
	blob := g.run(dir, "hash-object", "-w", "--stdin")
	for _, name := range []string{"..", ".git", ".GIT", "a\\b"} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("git", "mktree")
			cmd.Dir, cmd.Env = dir, g.env
			cmd.Stdin = strings.NewReader("100644 blob " + blob + "\t" + name + "\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("mktree: %v", err)
			}
			tree := wtHash(t, strings.TrimSpace(string(out)))
			err = r.RestoreWorktree(context.Background(), WorktreeRestore{Tree: tree})
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("restore of a tree with %q: %v, want ErrUnsafePath", name, err)
			}
			if got := string(wtReadFile(t, filepath.Join(dir, "a.txt"))); got != "a\n" {
				t.Errorf("a.txt changed to %q", got)
			}
		})
	}
}
