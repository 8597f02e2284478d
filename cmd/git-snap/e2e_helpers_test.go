package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// e2eRig runs the real git-snap binary (built once per test) through the
// real git, as users do, with a private HOME and a fixed identity.
type e2eRig struct {
	t    *testing.T
	bin  string // directory holding git-snap
	home string
}

// newE2ERig builds cmd/git-snap into a temp dir. It skips without go or
// git, and with -short.
func newE2ERig(t *testing.T) *e2eRig {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end process tests are skipped with -short")
	}
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	r := &e2eRig{t: t, bin: t.TempDir(), home: t.TempDir()}
	build := exec.Command("go", "build", "-o", filepath.Join(r.bin, "git-snap"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return r
}

// env is the environment of every git and git-snap process.
func (r *e2eRig) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || strings.HasPrefix(k, "GITSNAP_") || k == "HOME" || k == "PATH" || k == "CI" || k == "XDG_CONFIG_HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PATH="+r.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+r.home,
		"XDG_CONFIG_HOME="+filepath.Join(r.home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Snap Tester", "GIT_AUTHOR_EMAIL=tester@example.com",
		"GIT_COMMITTER_NAME=Snap Tester", "GIT_COMMITTER_EMAIL=tester@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
	)
}

// command returns `git args...` to run in dir.
func (r *e2eRig) command(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = r.env()
	return cmd
}

// run runs git (or `git snap …`) and returns stdout, stderr and the exit code.
func (r *e2eRig) run(dir string, args ...string) (stdout, stderr string, code int) {
	r.t.Helper()
	cmd := r.command(dir, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

// git runs git and fails the test unless it succeeds; it returns stdout.
func (r *e2eRig) git(dir string, args ...string) string {
	r.t.Helper()
	out, errOut, code := r.run(dir, args...)
	if code != 0 {
		r.t.Fatalf("git %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// repo makes a committed repository holding files (path → content).
func (r *e2eRig) repo(files map[string]string) string {
	r.t.Helper()
	dir := r.t.TempDir()
	r.git(dir, "init", "-q", "-b", "main")
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git(dir, "add", "-A")
	r.git(dir, "commit", "-q", "-m", "init")
	return dir
}

var createdRe = regexp.MustCompile(`(?m)^created (snap_\d{8}_\d{6}_[0-9a-f]{8})$`)

// snapshotRefs lists refs/snapshots/* as name → commit.
func (r *e2eRig) snapshotRefs(dir string) map[string]string {
	r.t.Helper()
	refs := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.git(dir, "for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", "refs/snapshots/")), "\n") {
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 3 || f[2] != "commit" {
			r.t.Errorf("bad snapshot ref line %q", l)
			continue
		}
		refs[strings.TrimPrefix(f[0], "refs/snapshots/")] = f[1]
	}
	return refs
}

// fsck runs git fsck --strict and fails on any complaint.
func (r *e2eRig) fsck(dir string) {
	r.t.Helper()
	out, errOut, code := r.run(dir, "fsck", "--strict", "--no-dangling")
	if code != 0 || strings.TrimSpace(errOut) != "" {
		r.t.Errorf("git fsck --strict: exit %d\n%s%s", code, out, errOut)
	}
}
