package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testGitEnv is a clean environment for the git binary and for openRepo:
// no system config, a private HOME and a fixed identity and date.
func testGitEnv(home string) map[string]string {
	return map[string]string{
		"PATH":                os.Getenv("PATH"),
		"HOME":                home,
		"XDG_CONFIG_HOME":     filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME":     "Test Author",
		"GIT_AUTHOR_EMAIL":    "author@example.com",
		"GIT_AUTHOR_DATE":     "2024-05-01T12:00:00+02:00",
		"GIT_COMMITTER_NAME":  "Test Committer",
		"GIT_COMMITTER_EMAIL": "committer@example.com",
		"GIT_COMMITTER_DATE":  "2024-05-01T12:00:00+02:00",
		"LANG":                "C",
	}
}

func envList(m map[string]string) []string {
	var env []string
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	return env
}

func mapEnv(m map[string]string) envFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// testGit runs git in dir with env and returns its trimmed stdout.
func testGit(t *testing.T, env map[string]string, dir string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = envList(env)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// gitFixture is a real repository made by git init in a temp dir.
type gitFixture struct {
	t   *testing.T
	dir string
	env map[string]string
}

func newGitFixture(t *testing.T, initArgs ...string) *gitFixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	base := t.TempDir()
	home := filepath.Join(base, "home")
	dir := filepath.Join(base, "repo")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	f := &gitFixture{t: t, dir: dir, env: testGitEnv(home)}
	f.env["GIT_CEILING_DIRECTORIES"] = base
	testGit(t, f.env, base, nil, append([]string{"init", "-q", "-b", "main"}, append(initArgs, dir)...)...)
	return f
}

func (f *gitFixture) git(args ...string) string {
	f.t.Helper()
	return testGit(f.t, f.env, f.dir, nil, args...)
}

func (f *gitFixture) gitIn(stdin []byte, args ...string) string {
	f.t.Helper()
	return testGit(f.t, f.env, f.dir, stdin, args...)
}

func (f *gitFixture) commitFile(name, content string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.git("add", name)
	f.git("commit", "-q", "-m", "add "+name)
	return f.git("rev-parse", "HEAD")
}

func (f *gitFixture) open(dir string) *goGitRepo {
	f.t.Helper()
	r, err := openRepo(dir, mapEnv(f.env))
	if err != nil {
		f.t.Fatalf("open %s: %v", dir, err)
	}
	return r
}

func mustHash(t *testing.T, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestOpenRepoLayouts(t *testing.T) {
	t.Parallel()
	type layout struct{ dir, root, gitDir, commonDir string }
	tests := []struct {
		name  string
		setup func(f *gitFixture) layout
	}{
		{"normal", func(f *gitFixture) layout {
			g := filepath.Join(f.dir, ".git")
			return layout{f.dir, f.dir, g, g}
		}},
		{"subdirectory", func(f *gitFixture) layout {
			sub := filepath.Join(f.dir, "a", "b")
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			g := filepath.Join(f.dir, ".git")
			return layout{sub, f.dir, g, g}
		}},
		{"worktreeConfig", func(f *gitFixture) layout {
			f.git("config", "core.repositoryformatversion", "1")
			f.git("config", "extensions.worktreeConfig", "true")
			g := filepath.Join(f.dir, ".git")
			return layout{f.dir, f.dir, g, g}
		}},
		{"partialClone", func(f *gitFixture) layout {
			f.git("config", "core.repositoryformatversion", "1")
			f.git("config", "extensions.partialClone", "origin")
			g := filepath.Join(f.dir, ".git")
			return layout{f.dir, f.dir, g, g}
		}},
		{"linked worktree", func(f *gitFixture) layout {
			f.commitFile("a.txt", "a\n")
			wt := filepath.Join(filepath.Dir(f.dir), "wt")
			f.git("worktree", "add", "-q", wt)
			g := filepath.Join(f.dir, ".git")
			return layout{filepath.Join(wt), wt, filepath.Join(g, "worktrees", "wt"), g}
		}},
		{"GIT_DIR", func(f *gitFixture) layout {
			other := filepath.Join(filepath.Dir(f.dir), "elsewhere")
			if err := os.MkdirAll(other, 0o755); err != nil {
				t.Fatal(err)
			}
			g := filepath.Join(f.dir, ".git")
			f.env["GIT_DIR"] = g
			return layout{other, other, g, g}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newGitFixture(t)
			want := tc.setup(f)
			r := f.open(want.dir)
			got := layout{want.dir, r.Root(), r.GitDir(), r.CommonDir()}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(layout{})); diff != "" {
				t.Errorf("layout (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenRepoBare(t *testing.T) {
	t.Parallel()
	f := newGitFixture(t, "--bare")
	r := f.open(f.dir)
	if r.Root() != "" || r.GitDir() != f.dir || r.CommonDir() != f.dir {
		t.Errorf("bare repo: root %q gitDir %q commonDir %q", r.Root(), r.GitDir(), r.CommonDir())
	}
}

func TestOpenRepoErrors(t *testing.T) {
	t.Parallel()
	t.Run("not a repo", func(t *testing.T) {
		base := t.TempDir()
		dir := filepath.Join(base, "x", "y")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"GIT_CEILING_DIRECTORIES": base}
		_, err := openRepo(dir, mapEnv(env))
		if !errors.Is(err, ErrNotARepo) {
			t.Fatalf("got %v, want ErrNotARepo", err)
		}
	})
	for _, tc := range []struct{ key, value string }{
		{"extensions.objectFormat", "sha256"},
		{"extensions.refStorage", "reftable"},
		{"extensions.somethingNew", "x"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			f := newGitFixture(t)
			f.git("config", "core.repositoryformatversion", "1")
			f.git("config", tc.key, tc.value)
			if _, err := openRepo(f.dir, mapEnv(f.env)); err == nil {
				t.Fatalf("open succeeded with %s=%s", tc.key, tc.value)
			}
		})
	}
}

func TestReadObjectsWrittenByGit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	head := mustHash(t, f.commitFile("dir/a.txt", "hello\n"))
	big := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16) // above largeObjectThreshold
	bigHash := mustHash(t, f.gitIn(big, "hash-object", "-w", "--stdin"))
	r := f.open(f.dir)

	c, err := r.ReadCommit(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	wantWhen := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("", 2*3600))
	if c.Author.Name != "Test Author" || c.Committer.Email != "committer@example.com" ||
		!c.Author.When.Equal(wantWhen) || c.Message != "add dir/a.txt\n" || len(c.Parents) != 0 {
		t.Errorf("commit = %+v", c)
	}
	root, err := r.ReadTree(ctx, c.Tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(root) != 1 || root[0].Name != "dir" || root[0].Mode != ModeDir {
		t.Fatalf("root tree = %+v", root)
	}
	sub, err := r.ReadTree(ctx, root[0].Hash)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) != 1 || sub[0].Name != "a.txt" || sub[0].Mode != ModeFile {
		t.Fatalf("sub tree = %+v", sub)
	}
	for _, tc := range []struct {
		h    Hash
		want []byte
	}{{sub[0].Hash, []byte("hello\n")}, {bigHash, big}} {
		rc, size, err := r.OpenBlob(ctx, tc.h)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || size != int64(len(tc.want)) || !bytes.Equal(got, tc.want) {
			t.Errorf("blob %s: size %d, %d bytes read, err %v", tc.h, size, len(got), err)
		}
	}
	if _, err := r.ReadTree(ctx, head); err == nil {
		t.Error("ReadTree of a commit succeeded")
	}
	missing := mustHash(t, strings.Repeat("ab", 20))
	if _, _, err := r.OpenBlob(ctx, missing); !errors.Is(err, ErrObjectNotFound) {
		t.Errorf("OpenBlob(missing) = %v, want ErrObjectNotFound", err)
	}
	if ok, err := r.HasObject(ctx, missing); ok || err != nil {
		t.Errorf("HasObject(missing) = %v, %v", ok, err)
	}
	if ok, err := r.HasObject(ctx, bigHash); !ok || err != nil {
		t.Errorf("HasObject(big) = %v, %v", ok, err)
	}
}

func TestReadAfterExternalGC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	first := mustHash(t, f.commitFile("a.txt", "one\n"))
	r := f.open(f.dir)
	if _, err := r.ReadCommit(ctx, first); err != nil { // loads go-git's pack index
		t.Fatal(err)
	}
	second := mustHash(t, f.commitFile("b.txt", "two\n"))
	f.git("gc", "-q", "--prune=now")
	for _, h := range []Hash{first, second} {
		if _, err := r.ReadCommit(ctx, h); err != nil {
			t.Errorf("read %s after gc: %v", h, err)
		}
		if ok, err := r.HasObject(ctx, h); !ok || err != nil {
			t.Errorf("HasObject(%s) after gc = %v, %v", h, ok, err)
		}
	}
	// A second gc replaces the pack go-git has now indexed.
	third := mustHash(t, f.commitFile("c.txt", "three\n"))
	f.git("gc", "-q", "--prune=now")
	for _, h := range []Hash{first, second, third} {
		if _, err := r.ReadCommit(ctx, h); err != nil {
			t.Errorf("read %s after second gc: %v", h, err)
		}
	}
}
