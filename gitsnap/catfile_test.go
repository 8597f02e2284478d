package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitOut runs git in dir with stdin and returns its trimmed output.
func gitOut(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(cmd.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// TestCatFileReadsBlobsAndStaysInStep: blobs come back whole; a missing
// object, a tree and a blob over the limit are refused without breaking
// the stream for the reads after them.
func TestCatFileReadsBlobsAndStaysInStep(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	gitOut(t, dir, "", "init", "-q", dir)
	small := "hello chunk\n"
	big := strings.Repeat("0123456789abcdef", 8192) // 128 KiB
	hs := mustHash(t, gitOut(t, dir, small, "hash-object", "-w", "--stdin"))
	hb := mustHash(t, gitOut(t, dir, big, "hash-object", "-w", "--stdin"))
	tree := mustHash(t, gitOut(t, dir, "100644 blob "+hs.String()+"\tf\n", "mktree"))
	missing := HashObject(ObjectBlob, []byte("not stored"))

	c, err := startCatFile(context.Background(), filepath.Join(dir, ".git"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var buf []byte
	if buf, err = c.readBlob(hb, chunkMax, buf); err != nil || string(buf) != big {
		t.Fatalf("big blob: %d bytes, %v", len(buf), err)
	}
	if got, err := c.readBlob(hs, chunkMax, buf); err != nil || string(got) != small || &got[0] != &buf[0] {
		t.Fatalf("small blob %q, %v (or its buffer was not reused)", got, err)
	}
	if _, err := c.readBlob(missing, chunkMax, nil); !errors.Is(err, errCatFileMissing) {
		t.Errorf("missing object: %v", err)
	}
	if _, err := c.readBlob(tree, chunkMax, nil); !errors.Is(err, ErrIntegrity) {
		t.Errorf("a tree read as a blob: %v", err)
	}
	if _, err := c.readBlob(hb, 1000, nil); !errors.Is(err, ErrIntegrity) {
		t.Errorf("a blob over the limit: %v", err)
	}
	if got, err := c.readBlob(hs, chunkMax, nil); err != nil || !bytes.Equal(got, []byte(small)) {
		t.Fatalf("after the refusals: %q, %v", got, err)
	}
	_ = c.Close()
	if _, err := c.readBlob(hs, chunkMax, nil); err == nil {
		t.Error("a closed reader still reads")
	}
}
