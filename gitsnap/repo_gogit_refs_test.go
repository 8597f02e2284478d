package gitsnap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRefsInteropWithGit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	c1 := mustHash(t, f.commitFile("a.txt", "1\n"))
	c2 := mustHash(t, f.commitFile("b.txt", "2\n"))
	r := f.open(f.dir)

	if err := r.UpdateRef(ctx, "refs/snapshots/one", ZeroHash, c1); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/deep/two", ZeroHash, c2); err != nil {
		t.Fatal(err)
	}
	if got := f.git("for-each-ref", "--format=%(objectname) %(refname)", "refs/snapshots/"); got != c2.String()+" refs/snapshots/deep/two\n"+c1.String()+" refs/snapshots/one" {
		t.Errorf("git for-each-ref = %q", got)
	}
	f.git("fsck", "--strict")

	// git packs them; we read and update packed refs.
	f.git("pack-refs", "--all")
	if _, err := os.Stat(filepath.Join(f.dir, ".git", "refs", "snapshots", "one")); !os.IsNotExist(err) {
		t.Fatalf("pack-refs left the loose ref: %v", err)
	}
	got, err := r.Refs(ctx, "refs/")
	if err != nil {
		t.Fatal(err)
	}
	want := []Ref{{"refs/heads/main", c2}, {"refs/snapshots/deep/two", c2}, {"refs/snapshots/one", c1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Refs after pack-refs (-want +got):\n%s", diff)
	}
	if h, err := r.Ref(ctx, "HEAD"); err != nil || h != c2 {
		t.Errorf("Ref(HEAD) = %s, %v; want %s", h, err, c2)
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/one", ZeroHash, c2); !errors.Is(err, ErrRefChanged) {
		t.Errorf("create over packed ref: %v, want ErrRefChanged", err)
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/one", c1, c2); err != nil {
		t.Fatal(err)
	}
	if got := f.git("rev-parse", "refs/snapshots/one"); got != c2.String() {
		t.Errorf("git rev-parse after update = %s, want %s", got, c2)
	}
	if err := r.DeleteRef(ctx, "refs/snapshots/deep/two", c2); err != nil {
		t.Fatal(err)
	}
	if got := f.git("for-each-ref", "--format=%(refname)", "refs/snapshots/"); got != "refs/snapshots/one" {
		t.Errorf("git for-each-ref after delete = %q", got)
	}
	packed, err := os.ReadFile(filepath.Join(f.dir, ".git", "packed-refs"))
	if err != nil || strings.Contains(string(packed), "deep/two") {
		t.Errorf("packed-refs still names the deleted ref (err %v):\n%s", err, packed)
	}
	if _, err := r.Ref(ctx, "refs/snapshots/deep/two"); !errors.Is(err, ErrRefNotFound) {
		t.Errorf("Ref(deleted) = %v, want ErrRefNotFound", err)
	}
	f.git("fsck", "--strict")
}

func TestUpdateRefRespectsGitLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	c1 := mustHash(t, f.commitFile("a.txt", "1\n"))
	r := f.open(f.dir)
	lock := filepath.Join(f.dir, ".git", "refs", "heads", "main.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ctx, "refs/heads/main", c1, c1); !errors.Is(err, ErrRefChanged) {
		t.Errorf("UpdateRef with git's lock held = %v, want ErrRefChanged", err)
	}
	if err := r.DeleteRef(ctx, "refs/heads/main", c1); !errors.Is(err, ErrRefChanged) {
		t.Errorf("DeleteRef with git's lock held = %v, want ErrRefChanged", err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("someone else's lock was removed: %v", err)
	}
	// A failed compare removes our own lock.
	if err := r.UpdateRef(ctx, "refs/snapshots/x", c1, c1); !errors.Is(err, ErrRefChanged) {
		t.Fatalf("UpdateRef with wrong old = %v, want ErrRefChanged", err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, ".git", "refs", "snapshots", "x.lock")); !os.IsNotExist(err) {
		t.Errorf("lock left behind after a failed update: %v", err)
	}
}

func TestRefNameValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"refs/snapshots/snap_20240501_120000_abcdef12", true},
		{"refs/notes/snap", true},
		{"refs/heads/feature/x-1", true},
		{"HEAD", false},
		{"snapshots/x", false},
		{"refs/a/../b", false},
		{"refs/a/b.lock", false},
		{"refs/a/.hidden", false},
		{"refs/a//b", false},
		{"refs/a/", false},
		{"refs/a/b.", false},
		{"refs/a b", false},
		{"refs/a\x01b", false},
		{"refs/a\x7f", false},
		{"refs/a~1", false},
		{"refs/a^", false},
		{"refs/a:b", false},
		{"refs/a?", false},
		{"refs/a*", false},
		{"refs/a[", false},
		{`refs/a\b`, false},
		{"refs/a@{1}", false},
	}
	for _, tc := range tests {
		if err := CheckRefName(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckRefName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	f := newGitFixture(t)
	r := f.open(f.dir)
	h := mustHash(t, strings.Repeat("1", 40))
	if err := r.UpdateRef(context.Background(), "refs/x/../y", ZeroHash, h); err == nil {
		t.Error("UpdateRef accepted refs/x/../y")
	}
}

func TestUpdateRefDirectoryConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGitFixture(t)
	c1 := mustHash(t, f.commitFile("a.txt", "1\n"))
	r := f.open(f.dir)
	if err := r.UpdateRef(ctx, "refs/snapshots/a/b", ZeroHash, c1); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/a", ZeroHash, c1); err == nil {
		t.Error("created refs/snapshots/a while refs/snapshots/a/b exists")
	}
	f.git("pack-refs", "--all")
	if err := r.UpdateRef(ctx, "refs/snapshots/a", ZeroHash, c1); err == nil {
		t.Error("created refs/snapshots/a while packed refs/snapshots/a/b exists")
	}
	if err := r.UpdateRef(ctx, "refs/snapshots/a/b/c", ZeroHash, c1); err == nil {
		t.Error("created refs/snapshots/a/b/c while packed refs/snapshots/a/b exists")
	}
}
