package gitsnap_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
)

func problems(rep *gitsnap.IntegrityReport) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func TestCheckIntegrityCleanRepo(t *testing.T) {
	_, s := newDBFixture(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := s.Create(ctx, gitsnap.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, readData := range []bool{false, true} {
		rep, err := s.CheckIntegrity(ctx, gitsnap.IntegrityOptions{ReadData: readData})
		if err != nil {
			t.Fatalf("read-data=%v: %v\n%s", readData, err, problems(rep))
		}
		if rep.Snapshots != 2 || rep.Objects < 6 || (rep.Bytes > 0) != readData {
			t.Errorf("read-data=%v: report %+v", readData, rep)
		}
	}
}

// writeLooseObject overwrites a loose object file with a valid zlib
// stream of other content of the same length: git's name no longer
// matches the data.
func corruptLooseObject(t *testing.T, dir, hash, content string) {
	t.Helper()
	p := filepath.Join(dir, ".git", "objects", hash[:2], hash[2:])
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	fmt.Fprintf(zw, "blob %d\x00%s", len(content), content)
	zw.Close()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckIntegrityFindsEveryProblem(t *testing.T) {
	dir, s := newDBFixture(t)
	ctx := context.Background()
	// A file in the code tree whose blob is loose, so it can be damaged.
	write(t, dir, "notes.txt", "original text\n", 0o644)
	notesBlob := snapGit(t, dir, "", "hash-object", "-w", "notes.txt")
	var ids []string
	for i := 0; i < 3; i++ {
		cr, err := s.Create(ctx, gitsnap.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cr.Snapshot.ID)
	}
	const missing = "1111111111111111111111111111111111111111"
	rewriteSnapshot(t, dir, ids[0], map[string]string{"files/config/app.toml": missing})
	tamper(t, dir, ids[1], "chunks/database/app/00000000", "not the dump")
	corruptLooseObject(t, dir, notesBlob, "damaged text\n")

	rep, err := s.CheckIntegrity(ctx, gitsnap.IntegrityOptions{})
	var ie *gitsnap.IntegrityError
	if !errors.As(err, &ie) || !errors.Is(err, gitsnap.ErrIntegrity) {
		t.Fatalf("want an IntegrityError, got %v", err)
	}
	got := problems(rep)
	for _, want := range []string{
		ids[0] + ": files/config/app.toml: object is missing (object " + missing + ")",
		ids[0] + ": ref name does not match its commit",
		ids[1] + ": ref name does not match its commit",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "sha256") || strings.Contains(got, "notes.txt") {
		t.Errorf("without --read-data the data is not read:\n%s", got)
	}

	rep, err = s.CheckIntegrity(ctx, gitsnap.IntegrityOptions{ReadData: true})
	if !errors.As(err, &ie) {
		t.Fatalf("want an IntegrityError, got %v", err)
	}
	got = problems(rep)
	for _, want := range []string{
		ids[0] + ": files/config/app.toml: object is missing",
		ids[1] + ": chunks/database/app: app has 12 bytes, manifest says ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	// The damaged code blob is shared by all three snapshots: each is named.
	for _, id := range ids {
		if !strings.Contains(got, id+": code/notes.txt: object ") || !strings.Contains(got, notesBlob) {
			t.Errorf("the corrupted blob is not reported for %s:\n%s", id, got)
		}
	}
	if n := len(rep.Problems); n < 7 {
		t.Errorf("want every problem reported, got %d:\n%s", n, got)
	}
}
