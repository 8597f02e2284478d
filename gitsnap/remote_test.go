package gitsnap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// isolateGit points the git processes git-snap starts at an empty HOME,
// without system config, with a fixed identity.
func isolateGit(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
		"GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
	} {
		t.Setenv(k, v)
	}
}

// newBareRemote makes an empty bare repository that checks every object
// it receives (receive.fsckObjects) and adds it to dir as remote name.
func newBareRemote(t *testing.T, dir, name string) string {
	t.Helper()
	bare := filepath.Join(t.TempDir(), "snaps.git")
	gitsnaptest.RunGit(t, filepath.Dir(bare), "init", "-q", "--bare", bare)
	gitsnaptest.RunGit(t, bare, "config", "receive.fsckObjects", "true")
	gitsnaptest.RunGit(t, dir, "remote", "add", name, bare)
	return bare
}

// cloneFixture clones the fixture's code repository (no snapshots, no
// ignored files) and opens a Snap on the clone.
func cloneFixture(t *testing.T, f *fixture, name string) *fixture {
	t.Helper()
	dst := filepath.Join(filepath.Dir(f.dir), name)
	gitsnaptest.RunGit(t, filepath.Dir(f.dir), "clone", "-q", f.dir, dst)
	c := &fixture{dir: dst, now: f.now.Add(time.Hour)}
	c.reopen(t)
	return c
}

func create(t *testing.T, f *fixture, msg string) *gitsnap.SnapshotInfo {
	t.Helper()
	res, err := f.snap.Create(context.Background(), gitsnap.CreateOptions{Message: msg})
	if err != nil {
		t.Fatalf("create %q: %v", msg, err)
	}
	return res.Snapshot
}

func TestPushThenFetchIntoFreshClone(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f := newFixture(t)
	big := make([]byte, 5<<20)
	rand.New(rand.NewSource(1)).Read(big)
	write(t, f.dir, "uploads/big.bin", string(big), 0o644)
	s1 := create(t, f, "first")
	bare := newBareRemote(t, f.dir, "snapshots")

	res, err := f.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots", Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{s1.ID}, res.Pushed); diff != "" || res.Notes != "pushed" {
		t.Fatalf("first push: notes %q, pushed (-want +got):\n%s", res.Notes, diff)
	}
	if res.Bytes < 4<<20 {
		t.Errorf("first push sent %d bytes, want the 5 MiB upload", res.Bytes)
	}
	gitsnaptest.RunGit(t, bare, "fsck", "--strict")
	if got := gitsnaptest.RunGit(t, bare, "rev-parse", "refs/snapshots/"+s1.ID); got != s1.Commit.String() {
		t.Fatalf("remote has %s, want %s", got, s1.Commit)
	}

	// Nothing new: nothing travels.
	res, err = f.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pushed) != 0 || res.AlreadyThere != 1 || res.Notes != gitsnap.NotesUpToDate {
		t.Fatalf("second push: %+v", res)
	}

	// A second snapshot sends only what changed, not the 5 MiB again.
	write(t, f.dir, "config/app.toml", "port = 2\n", 0o644)
	s2 := create(t, f, "second")
	_, err = f.snap.Push(ctx, gitsnap.PushOptions{})
	if err == nil {
		t.Fatal("push without a configured remote succeeded")
	}
	if !errors.Is(err, gitsnap.ErrUsage) || !strings.Contains(gitsnap.HintOf(err), "snap.remote") {
		t.Fatalf("push without remote: %v (hint %q)", err, gitsnap.HintOf(err))
	}
	gitsnaptest.RunGit(t, f.dir, "config", "snap.remote", "snapshots")
	f.reopen(t)
	// A bridge a killed push left behind long ago is cleaned up; one that
	// another push may still be using is not.
	gitsnaptest.RunGit(t, bare, "update-ref", "refs/snap-tmp/1000000000-0123456789ab", s1.Commit.String())
	recent := fmt.Sprintf("refs/snap-tmp/%d-ba9876543210", time.Now().Unix())
	gitsnaptest.RunGit(t, bare, "update-ref", recent, s1.Commit.String())
	res, err = f.snap.Push(ctx, gitsnap.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{s2.ID}, res.Pushed); diff != "" {
		t.Fatalf("third push (-want +got):\n%s", diff)
	}
	if res.Bytes > 256<<10 {
		t.Errorf("second snapshot sent %d bytes (%d objects); the unchanged chunks travelled again", res.Bytes, res.Objects)
	}
	if left := gitsnaptest.RunGit(t, bare, "for-each-ref", "--format=%(refname)", "refs/snap-tmp/"); left != recent {
		t.Errorf("bridge refs on the remote: %q, want only the recent foreign one", left)
	}
	gitsnaptest.RunGit(t, bare, "fsck", "--strict")

	// A fresh clone of the code gets everything back from the remote.
	c := cloneFixture(t, f, "clone")
	gitsnaptest.RunGit(t, c.dir, "remote", "add", "snapshots", bare)
	fres, err := c.snap.Fetch(ctx, gitsnap.FetchOptions{Remote: "snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{s2.ID, s1.ID}, fres.Fetched); diff != "" || fres.Notes != gitsnap.NotesFastForward || fres.Available != 2 {
		t.Fatalf("fetch: %+v (-want +got):\n%s", fres, diff)
	}
	list, err := c.snap.List(ctx, gitsnap.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || !list[0].KnownGood() || !list[1].KnownGood() {
		t.Fatalf("clone lists %d snapshots: %+v", len(list), list)
	}
	if _, err := c.snap.Restore(ctx, s1.ID, gitsnap.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c.dir, ".env"); got != "SECRET=1\n" {
		t.Errorf(".env after restore in the clone = %q", got)
	}
	if got := read(t, c.dir, "uploads/big.bin"); got != string(big) {
		t.Errorf("uploads/big.bin not restored (%d bytes)", len(got))
	}

	// Fetching again brings nothing and keeps the local restored event.
	fres, err = c.snap.Fetch(ctx, gitsnap.FetchOptions{Remote: "snapshots"})
	if err != nil {
		t.Fatal(err)
	}
	if len(fres.Fetched) != 0 || fres.AlreadyHere != 2 || fres.Notes != gitsnap.NotesUpToDate {
		t.Fatalf("second fetch: %+v", fres)
	}
	info, err := c.snap.Show(ctx, s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.RestoreCount != 1 {
		t.Errorf("restore count after fetch = %d, want 1", info.RestoreCount)
	}
}

func TestFetchSelectsByName(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f := newFixture(t)
	s1 := create(t, f, "one")
	if _, err := f.snap.Tag(ctx, s1.ID, []string{"pinned"}, gitsnap.TagOptions{}); err != nil {
		t.Fatal(err)
	}
	s2 := create(t, f, "two")
	res, err := f.snap.Create(ctx, gitsnap.CreateOptions{Message: "three", NoValidate: true})
	if err != nil {
		t.Fatal(err)
	}
	s3 := res.Snapshot
	bare := newBareRemote(t, f.dir, "snapshots")
	if _, err := f.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots", Warn: func(string) {}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"latest"}, []string{s3.ID}},
		{[]string{"pinned"}, []string{s1.ID}},
		{[]string{"known-good"}, []string{s2.ID, s1.ID}},
		{[]string{s2.ID[:len(s2.ID)-2], "latest"}, []string{s2.ID, s3.ID}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.names, ","), func(t *testing.T) {
			c := cloneFixture(t, f, "clone-"+strings.ReplaceAll(strings.Join(tc.names, "-"), "/", "_"))
			gitsnaptest.RunGit(t, c.dir, "remote", "add", "snapshots", bare)
			res, err := c.snap.Fetch(ctx, gitsnap.FetchOptions{Remote: "snapshots", Snapshots: tc.names})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res.Fetched); diff != "" {
				t.Errorf("fetched (-want +got):\n%s", diff)
			}
			refs := gitsnaptest.RunGit(t, c.dir, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/snapshots/")
			if diff := cmp.Diff(strings.Join(sortedCopy(tc.want), "\n"), refs); diff != "" {
				t.Errorf("local refs (-want +got):\n%s", diff)
			}
		})
	}
	c := cloneFixture(t, f, "clone-missing")
	gitsnaptest.RunGit(t, c.dir, "remote", "add", "snapshots", bare)
	_, err = c.snap.Fetch(ctx, gitsnap.FetchOptions{Remote: "snapshots", Snapshots: []string{"nope"}})
	if !errors.Is(err, gitsnap.ErrSnapshotNotFound) || !strings.Contains(gitsnap.HintOf(err), "ls-remote") {
		t.Errorf("fetch of a missing name: %v (hint %q)", err, gitsnap.HintOf(err))
	}
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestRemoteErrors(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f := newFixture(t)
	create(t, f, "one")
	gitsnaptest.RunGit(t, f.dir, "remote", "add", "gone", filepath.Join(t.TempDir(), "missing.git"))
	tests := []struct {
		name, remote, hint string
	}{
		{"unknown remote name", "nope", "git remote add nope"},
		{"remote whose repository is missing", "gone", "create the repository first"},
		{"path that is no repository", t.TempDir(), "create the repository first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := f.snap.Push(ctx, gitsnap.PushOptions{Remote: tc.remote})
			var re *gitsnap.RemoteError
			if !errors.As(err, &re) || !re.Permanent {
				t.Fatalf("push: %v, want a permanent RemoteError", err)
			}
			if !strings.Contains(gitsnap.HintOf(err), tc.hint) {
				t.Errorf("hint %q does not contain %q", gitsnap.HintOf(err), tc.hint)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("a permanent error took %s: it was retried", took)
			}
			if _, err := f.snap.Fetch(ctx, gitsnap.FetchOptions{Remote: tc.remote}); !errors.As(err, &re) || !re.Permanent {
				t.Errorf("fetch: %v, want a permanent RemoteError", err)
			}
		})
	}
}

// A transient failure (the network) is retried with backoff; git is
// replaced by a script that fails twice before running the real git.
func TestPushRetriesTransientFailures(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f := newFixture(t)
	s1 := create(t, f, "one")
	newBareRemote(t, f.dir, "snapshots")
	bin := t.TempDir()
	count := filepath.Join(bin, "count")
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip(err)
	}
	script := "#!/bin/sh\ncase \"$*\" in *ls-remote*)\n  n=$(cat '" + count + "' 2>/dev/null || echo 0)\n  echo $((n+1)) > '" + count + "'" +
		"\n  if [ \"$n\" -lt 2 ]; then echo \"fatal: unable to access 'https://example.invalid/': Could not resolve host: example.invalid\" >&2; exit 128; fi;;\nesac\nexec " + gitPath + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var warnings bytes.Buffer
	res, err := f.snap.Push(ctx, gitsnap.PushOptions{Remote: "snapshots", Warn: func(string) {}, Progress: progressFunc(func(e gitsnap.ProgressEvent) {
		if e.Kind == "warning" {
			warnings.WriteString(e.Message + "\n")
		}
	})})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pushed) != 1 || res.Pushed[0] != s1.ID {
		t.Fatalf("pushed %v", res.Pushed)
	}
	if n, _ := os.ReadFile(count); strings.TrimSpace(string(n)) != "3" {
		t.Errorf("ls-remote ran %s times, want 3", n)
	}
	if strings.Count(warnings.String(), "retrying in") != 2 {
		t.Errorf("retry warnings:\n%s", warnings.String())
	}
}

type progressFunc func(gitsnap.ProgressEvent)

func (p progressFunc) Event(e gitsnap.ProgressEvent) { p(e) }

func TestPushWarnsAboutSecretsBeforeTheFirstPush(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f := newFixture(t)
	write(t, f.dir, "config/tls.key", "-----BEGIN PRIVATE KEY-----\n", 0o600)
	write(t, f.dir, "config/.env.example", "SECRET=\n", 0o644)
	create(t, f, "one")
	newBareRemote(t, f.dir, "snapshots")
	newBareRemote(t, f.dir, "other")
	push := func(remote string) (warnings []string, res *gitsnap.PushResult) {
		t.Helper()
		res, err := f.snap.Push(ctx, gitsnap.PushOptions{Remote: remote, Warn: func(m string) { warnings = append(warnings, m) }})
		if err != nil {
			t.Fatal(err)
		}
		return warnings, res
	}
	w, res := push("snapshots")
	if len(w) != 1 || !strings.Contains(w[0], ".env, config/tls.key") || !strings.Contains(w[0], "git config snap.allowSecrets true") {
		t.Fatalf("first push warnings: %q", w)
	}
	if diff := cmp.Diff([]string{".env", "config/tls.key"}, res.Secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	// Shown once: the next snapshot with the same files goes quietly...
	write(t, f.dir, "config/app.toml", "port = 3\n", 0o644)
	create(t, f, "two")
	if w, _ := push("snapshots"); len(w) != 0 {
		t.Errorf("second push warned again: %q", w)
	}
	// ...a new secret file is announced...
	write(t, f.dir, "config/new.pem", "cert\n", 0o644)
	create(t, f, "three")
	if w, _ := push("snapshots"); len(w) != 1 || !strings.Contains(w[0], "config/new.pem") || strings.Contains(w[0], "tls.key") {
		t.Errorf("push with a new secret file: %q", w)
	}
	// ...and so is every file before the first push to another remote.
	if w, _ := push("other"); len(w) != 1 || !strings.Contains(w[0], ".env, config/new.pem, config/tls.key") {
		t.Errorf("first push to another remote: %q", w)
	}
	// The setting silences it.
	newBareRemote(t, f.dir, "third")
	gitsnaptest.RunGit(t, f.dir, "config", "snap.allowSecrets", "true")
	f.reopen(t)
	if w, _ := push("third"); len(w) != 0 {
		t.Errorf("warned despite snap.allowSecrets: %q", w)
	}
	if got := gitsnaptest.RunGit(t, f.dir, "config", "--get-all", "snap.snapshots.warnedSecret"); got != ".env\nconfig/tls.key\nconfig/new.pem" {
		t.Errorf("recorded warnings:\n%s", got)
	}
}

func TestSecretLooking(t *testing.T) {
	for p, want := range map[string]bool{
		".env": true, "config/.env": true, ".env.production": true, "prod.env": true, "certs/server.pem": true,
		"tls/server.key": true, "keystore.p12": true, "home/.ssh/id_ed25519": true,
		".env.example": false, "id_ed25519.pub": false, "config/app.toml": false, "keys/README": false, "environment.go": false,
	} {
		if got := gitsnap.SecretLooking(p); got != want {
			t.Errorf("SecretLooking(%q) = %v, want %v", p, got, want)
		}
	}
}
