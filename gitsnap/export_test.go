package gitsnap_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// exportFixture is a repo with a known-good snapshot holding config, a
// 0600 .env, a small upload and, with big, a chunked 5 MiB upload
// (compressible: pure-Go xz compresses random data at about 1 MB/s),
// exported.
func exportFixture(t *testing.T, withBig bool) (*fixture, *gitsnap.SnapshotInfo, []byte, []byte) {
	t.Helper()
	f := newFixture(t)
	var big []byte
	if withBig {
		rnd := rand.New(rand.NewSource(7))
		var b bytes.Buffer
		for b.Len() < 5<<20 {
			fmt.Fprintf(&b, "row %09d %d\n", b.Len(), rnd.Intn(1000))
		}
		big = b.Bytes()
		write(t, f.dir, "uploads/big.bin", string(big), 0o644)
		// Incompressible: goes into a stored xz stream.
		photo := make([]byte, 1<<20)
		rnd.Read(photo)
		write(t, f.dir, "uploads/photo.jpg", string(photo), 0o644)
	}
	snap := create(t, f, "to export")
	if _, err := f.snap.Tag(context.Background(), snap.ID, []string{"cold"}, gitsnap.TagOptions{}); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	res, err := f.snap.Export(context.Background(), snap.ID, &archive)
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects < 10 || (withBig && res.Bytes < 5<<20) {
		t.Fatalf("export wrote %d objects, %d bytes", res.Objects, res.Bytes)
	}
	return f, snap, archive.Bytes(), big
}

func TestExportImportRoundTrip(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f, snap, archive, big := exportFixture(t, true)

	// A fresh clone of the code: import, then a full restore.
	c := cloneFixture(t, f, "clone")
	res, err := c.snap.Import(ctx, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Snapshot.ID != snap.ID || res.Events < 3 {
		t.Fatalf("import: %+v", res)
	}
	gitsnaptest.RunGit(t, c.dir, "fsck", "--strict")
	if got := gitsnaptest.RunGit(t, c.dir, "rev-parse", "refs/snapshots/"+snap.ID); got != snap.Commit.String() {
		t.Fatalf("ref points at %s", got)
	}
	info, err := c.snap.Show(ctx, "cold")
	if err != nil || info.ID != snap.ID || !info.KnownGood() {
		t.Fatalf("the note did not come along: %+v, %v", info, err)
	}
	chunked := false
	for _, a := range info.Manifest.Artifacts {
		chunked = chunked || (a.Path == "uploads/big.bin" && a.Kind == gitsnap.KindChunked)
	}
	if !chunked {
		t.Error("big.bin is not chunked: the chunk path is not covered")
	}
	if _, err := c.snap.Restore(ctx, "known-good", gitsnap.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	photo := read(t, f.dir, "uploads/photo.jpg")
	for p, want := range map[string]string{".env": "SECRET=1\n", "config/app.toml": "port = 1\n", "uploads/a.png": "png-a", "uploads/big.bin": string(big), "uploads/photo.jpg": photo} {
		if got := read(t, c.dir, p); got != want {
			t.Errorf("%s after restore: %d bytes, want %d", p, len(got), len(want))
		}
	}

	// Importing again changes nothing and keeps the local restored event.
	res, err = c.snap.Import(ctx, bytes.NewReader(archive))
	if err != nil || res.Created {
		t.Fatalf("second import: %+v, %v", res, err)
	}
	if info, _ := c.snap.Show(ctx, snap.ID); info.RestoreCount != 1 {
		t.Errorf("restore count after re-import = %d", info.RestoreCount)
	}

	// A brand-new repository without the code history: config and files
	// come back (the code scope needs the code commit, which is not part of
	// a snapshot).
	dir := gitsnaptest.NewGitRepo(t)
	write(t, dir, ".gitsnap.toml", fixtureConfig, 0o644)
	empty := &fixture{dir: dir, now: f.now.Add(time.Hour)}
	empty.reopen(t)
	if _, err := empty.snap.Import(ctx, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	gitsnaptest.RunGit(t, dir, "fsck", "--strict")
	if _, err := empty.snap.Restore(ctx, snap.ID, gitsnap.RestoreOptions{NoCode: true, Scopes: []string{"config", "files"}}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "uploads/big.bin"); got != string(big) {
		t.Errorf("big.bin in the new repository: %d bytes", len(got))
	}
	if got := read(t, dir, ".env"); got != "SECRET=1\n" {
		t.Errorf(".env in the new repository: %q", got)
	}
}

// entries reads an archive into its tar entries.
type entry struct {
	name string
	data []byte
}

func readArchive(t *testing.T, archive []byte) []entry {
	t.Helper()
	xr, err := xz.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(xr)
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, entry{h.Name, b})
	}
}

func writeArchive(t *testing.T, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	xw, _ := xz.NewWriter(&buf)
	tw := tar.NewWriter(xw)
	for _, e := range es {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	xw.Close()
	return buf.Bytes()
}

func TestImportRefusesDamagedArchives(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f, snap, archive, _ := exportFixture(t, false)
	es := readArchive(t, archive)
	if es[0].name != "export.json" || es[1].name != "note.jsonl" || !strings.HasPrefix(es[2].name, "objects/") {
		t.Fatalf("archive layout: %s, %s, %s", es[0].name, es[1].name, es[2].name)
	}
	mutate := func(fn func([]entry) []entry) []byte {
		cp := make([]entry, len(es))
		for i, e := range es {
			cp[i] = entry{e.name, append([]byte(nil), e.data...)}
		}
		return writeArchive(t, fn(cp))
	}
	findBlob := func(es []entry, content string) int {
		for i, e := range es {
			if bytes.HasSuffix(e.data, []byte("\x00"+content)) {
				return i
			}
		}
		t.Fatalf("no blob %q in the archive", content)
		return -1
	}
	tests := []struct {
		name    string
		archive []byte
		want    error
		msg     string
	}{
		{"a flipped byte in a blob", mutate(func(es []entry) []entry {
			i := findBlob(es, "SECRET=1\n")
			es[i].data[len(es[i].data)-2] ^= 1
			return es
		}), gitsnap.ErrIntegrity, "does not match its content"},
		{"a missing blob", mutate(func(es []entry) []entry {
			i := findBlob(es, "png-a")
			return append(es[:i], es[i+1:]...)
		}), gitsnap.ErrIntegrity, "objects"},
		{"a missing blob, count adjusted", mutate(func(es []entry) []entry {
			i := findBlob(es, "png-a")
			var hdr map[string]any
			if err := json.Unmarshal(es[0].data, &hdr); err != nil {
				t.Fatal(err)
			}
			hdr["objects"] = hdr["objects"].(float64) - 1
			es[0].data, _ = json.Marshal(hdr)
			return append(es[:i], es[i+1:]...)
		}), gitsnap.ErrIntegrity, "missing from the archive"},
		{"not an archive", []byte("hello"), gitsnap.ErrInvalidFormat, "not an xz archive"},
		{"no header", mutate(func(es []entry) []entry { return es[1:] }), gitsnap.ErrInvalidFormat, "export.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := gitsnaptest.NewGitRepo(t)
			r := &fixture{dir: dir, now: f.now}
			r.reopen(t)
			_, err := r.snap.Import(ctx, bytes.NewReader(tc.archive))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("import: %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
			if refs := gitsnaptest.RunGit(t, dir, "for-each-ref"); refs != "" {
				t.Errorf("a damaged import created refs:\n%s", refs)
			}
		})
	}
	if snap.ID == "" {
		t.Fatal("no snapshot")
	}
}

// A snapshot whose objects are all present and hash correctly but whose
// manifest lies about an artifact's digest is refused before the ref.
func TestImportChecksArtifactDigests(t *testing.T) {
	isolateGit(t)
	ctx := context.Background()
	f := newFixture(t)
	snap := create(t, f, "honest")
	repo := f.snap.Repo()
	c, err := repo.ReadCommit(ctx, snap.Commit)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := repo.ReadTree(ctx, c.Tree)
	ow, _ := repo.NewObjectWriter(ctx)
	for i, e := range root {
		if e.Name != "snap.json" {
			continue
		}
		rc, _, _ := repo.OpenBlob(ctx, e.Hash)
		js, _ := io.ReadAll(rc)
		rc.Close()
		// Claim another digest for .env.
		i0 := bytes.Index(js, []byte(`"path": ".env"`))
		j := i0 + bytes.Index(js[i0:], []byte(`"sha256": "`)) + len(`"sha256": "`)
		if js[j] == '0' {
			js[j] = '1'
		} else {
			js[j] = '0'
		}
		h, _ := ow.WriteBlob(ctx, js)
		root[i].Hash = h
	}
	tree, _ := ow.WriteTree(ctx, root)
	c.Tree = tree
	liar, _ := ow.WriteCommit(ctx, c)
	if err := ow.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	id := gitsnap.SnapshotID(snap.CreatedAt(), liar)
	if err := repo.UpdateRef(ctx, gitsnap.SnapshotRefPrefix+id, gitsnap.ZeroHash, liar); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if _, err := f.snap.Export(ctx, id, &archive); err != nil {
		t.Fatal(err)
	}
	dir := gitsnaptest.NewGitRepo(t)
	r := &fixture{dir: dir, now: f.now}
	r.reopen(t)
	_, err = r.snap.Import(ctx, &archive)
	if !errors.Is(err, gitsnap.ErrIntegrity) || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("import of a lying manifest: %v", err)
	}
	if refs := gitsnaptest.RunGit(t, dir, "for-each-ref"); refs != "" {
		t.Errorf("refs created:\n%s", refs)
	}
}
