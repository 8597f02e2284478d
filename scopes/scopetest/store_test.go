package scopetest

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
)

func TestStoreRoundTripAndCorruption(t *testing.T) {
	ctx := context.Background()
	s := NewStore("config")
	if err := s.PutFile(ctx, "a/b.txt", 0o600, 5, strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(ctx, "short", 0o644, 9, strings.NewReader("hello")); err == nil {
		t.Error("PutFile accepted a reader shorter than size")
	}
	if err := s.PutSymlink(ctx, "../escape", "x"); !errors.Is(err, gitsnap.ErrUnsafePath) {
		t.Errorf("PutSymlink(../escape) = %v, want ErrUnsafePath", err)
	}
	arts := s.Artifacts()
	if len(arts) != 1 || arts[0].Size != 5 || arts[0].Mode != 0o600 || arts[0].Scope != "config" ||
		arts[0].SHA256 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("artifacts = %+v", arts)
	}
	read := func() (string, error) {
		rc, err := s.Open(ctx, arts[0])
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	if got, err := read(); err != nil || got != "hello" {
		t.Errorf("read = %q, %v", got, err)
	}
	s.Corrupt("a/b.txt")
	if _, err := read(); !errors.Is(err, gitsnap.ErrIntegrity) {
		t.Errorf("read corrupted = %v, want ErrIntegrity", err)
	}
}

func TestObjectsGitHashes(t *testing.T) {
	ctx := context.Background()
	o := NewObjects()
	blob, _ := o.WriteBlob(ctx, nil)
	tree, _ := o.WriteTree(ctx, nil)
	hello, _ := o.WriteBlob(ctx, []byte("hello\n"))
	dir, _ := o.WriteTree(ctx, []gitsnap.TreeEntry{{Name: "hello.txt", Mode: gitsnap.ModeFile, Hash: hello}})
	when := time.Unix(1700000000, 0).UTC()
	sig := gitsnap.Signature{Name: "T", Email: "t@example.com", When: when}
	commit, _ := o.WriteCommit(ctx, &gitsnap.Commit{Tree: dir, Author: sig, Committer: sig, Message: "m\n"})
	// Values from `git hash-object`, `git mktree` and `git commit-tree`.
	for name, tc := range map[string]struct {
		got  gitsnap.Hash
		want string
	}{
		"empty blob": {blob, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
		"empty tree": {tree, "4b825dc642cb6eb9a060e54bf8d69288fbee4904"},
		"hello blob": {hello, "ce013625030ba8dba906f756967f9e9ca394464a"},
		"hello tree": {dir, "aaa96ced2d9a1c8e72c56b253a0e2fe78393feb7"},
		"commit":     {commit, "1801163065b51bf5bf3134b4395b0b9b31c0243c"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("%s = %s, want %s", name, tc.got, tc.want)
		}
	}
	if c, err := o.ReadCommit(ctx, commit); err != nil || c.Tree != dir {
		t.Errorf("ReadCommit = %+v, %v", c, err)
	}
}
