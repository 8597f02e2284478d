package gitsnaptest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
)

// GitEnv is a clean environment for running git in tests: no system
// config, HOME (and XDG_CONFIG_HOME) under home, a fixed identity and fixed
// dates so that commit hashes are stable, and the C locale.
func GitEnv(t testing.TB, home string) []string {
	t.Helper()
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test Author",
		"GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_AUTHOR_DATE=2024-05-01T12:00:00+00:00",
		"GIT_COMMITTER_NAME=Test Committer",
		"GIT_COMMITTER_EMAIL=committer@example.com",
		"GIT_COMMITTER_DATE=2024-05-01T12:00:00+00:00",
		"LANG=C",
		"LC_ALL=C",
	}
}

// RequireGit skips the test when the git binary is not installed.
func RequireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
}

// NewGitRepo runs `git init -b main` in a fresh temp dir and returns the
// repository's directory. A "home" directory next to it is the HOME that
// RunGit uses.
func NewGitRepo(t testing.TB) string {
	t.Helper()
	RequireGit(t)
	base := t.TempDir()
	home := filepath.Join(base, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "repo")
	runGit(t, base, home, nil, "init", "-q", "-b", "main", dir)
	return dir
}

// OpenGitRepo opens dir with gitsnap.OpenRepo, failing the test on error.
func OpenGitRepo(t testing.TB, dir string) gitsnap.Repo {
	t.Helper()
	r, err := gitsnap.OpenRepo(dir)
	if err != nil {
		t.Fatalf("open repository %s: %v", dir, err)
	}
	return r
}

// RunGit runs git with args in dir, in the GitEnv environment, and returns
// its stdout without the trailing newline. It fails the test if git fails.
func RunGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return runGit(t, dir, homeFor(t, dir), nil, args...)
}

// RunGitStdin is RunGit with stdin.
func RunGitStdin(t testing.TB, dir string, stdin []byte, args ...string) string {
	t.Helper()
	return runGit(t, dir, homeFor(t, dir), stdin, args...)
}

// homeFor returns the "home" directory NewGitRepo made next to the
// repository that contains dir, else a fresh temp dir.
func homeFor(t testing.TB, dir string) string {
	for d := dir; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err != nil {
			continue
		}
		home := filepath.Join(filepath.Dir(d), "home")
		if fi, err := os.Stat(home); err == nil && fi.IsDir() {
			return home
		}
		break
	}
	return t.TempDir()
}

func runGit(t testing.TB, dir, home string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = GitEnv(t, home)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return strings.TrimSuffix(stdout.String(), "\n")
}
