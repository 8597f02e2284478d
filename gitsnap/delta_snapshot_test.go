package gitsnap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// bigText is n bytes of row-like text.
func bigText(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 3))
	var b bytes.Buffer
	for id := 0; b.Len() < n; id++ {
		fmt.Fprintf(&b, "%08d\t%06d\t%x\n", id, rng.IntN(1000000), rng.Uint64())
	}
	return b.Bytes()[:n]
}

// manifestOf reads snap.json of a snapshot with git.
func manifestOf(t *testing.T, dir, id string) gitsnap.Manifest {
	t.Helper()
	var m gitsnap.Manifest
	if err := json.Unmarshal([]byte(gitsnaptest.RunGit(t, dir, "cat-file", "-p", "refs/snapshots/"+id+":snap.json")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func packBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(filepath.Join(dir, ".git", "objects"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeltaChunksRoundTrip: a large upload changed in scattered places is
// stored as deltas against its previous version (format 2), costs a small
// fraction of the first snapshot, passes git fsck and git-snap's own
// check, and both versions restore byte for byte.
func TestDeltaChunksRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v1 := bigText(1, 12<<20)
	write(t, f.dir, "uploads/big.tsv", string(v1), 0o644)
	before := packBytes(t, f.dir)
	r1, err := f.snap.Create(ctx, gitsnap.CreateOptions{Message: "v1", Scopes: []string{"files"}})
	if err != nil {
		t.Fatal(err)
	}
	first := packBytes(t, f.dir) - before

	// Change a byte every 20 KB and append some rows: every chunk changes.
	v2 := append([]byte(nil), v1...)
	for i := 10000; i < len(v2); i += 20000 {
		v2[i] = 'X'
	}
	v2 = append(v2, bigText(2, 100000)...)
	write(t, f.dir, "uploads/big.tsv", string(v2), 0o644)
	before = packBytes(t, f.dir)
	r2, err := f.snap.Create(ctx, gitsnap.CreateOptions{Message: "v2", Scopes: []string{"files"}})
	if err != nil {
		t.Fatal(err)
	}
	second := packBytes(t, f.dir) - before

	m := manifestOf(t, f.dir, r2.Snapshot.ID)
	var art gitsnap.Artifact
	for _, a := range m.Artifacts {
		if a.Path == "uploads/big.tsv" {
			art = a
		}
	}
	if m.Format != gitsnap.FormatDeltas || art.Deltas == 0 || art.Deltas > art.Chunks {
		t.Fatalf("second snapshot: format %d, %d of %d chunks deltas; want format %d with deltas", m.Format, art.Deltas, art.Chunks, gitsnap.FormatDeltas)
	}
	if m1 := manifestOf(t, f.dir, r1.Snapshot.ID); m1.Format != gitsnap.FormatVersion {
		t.Errorf("first snapshot (no deltas) has format %d, want %d", m1.Format, gitsnap.FormatVersion)
	}
	msg := gitsnaptest.RunGit(t, f.dir, "log", "-1", "--format=%B", "refs/snapshots/"+r2.Snapshot.ID)
	if !strings.Contains(msg, "Snap-Format: 2") {
		t.Errorf("commit message lacks Snap-Format: 2:\n%s", msg)
	}
	if second*20 > first {
		t.Errorf("second snapshot added %d bytes, more than 5%% of the first (%d)", second, first)
	}
	t.Logf("first snapshot %d bytes, second %d bytes (%.2f%%), %d of %d chunks deltas", first, second, 100*float64(second)/float64(first), art.Deltas, art.Chunks)

	gitsnaptest.RunGit(t, f.dir, "fsck", "--full", "--strict")
	if _, err := f.snap.CheckIntegrity(ctx, gitsnap.IntegrityOptions{ReadData: true}); err != nil {
		t.Fatalf("check: %v", err)
	}
	// A third, unchanged, snapshot reuses the delta blobs: nearly free.
	before = packBytes(t, f.dir)
	r3, err := f.snap.Create(ctx, gitsnap.CreateOptions{Message: "v2 again", Scopes: []string{"files"}})
	if err != nil {
		t.Fatal(err)
	}
	if added := packBytes(t, f.dir) - before; added > 64<<10 {
		t.Errorf("unchanged third snapshot added %d bytes", added)
	}
	if m3 := manifestOf(t, f.dir, r3.Snapshot.ID); m3.Artifacts[len(m3.Artifacts)-1].Deltas == 0 && m3.Format != gitsnap.FormatDeltas {
		t.Errorf("third snapshot does not reuse the deltas (format %d)", m3.Format)
	}

	for _, c := range []struct {
		id   string
		want []byte
	}{{r1.Snapshot.ID, v1}, {r2.Snapshot.ID, v2}, {r1.Snapshot.ID, v1}} {
		if _, err := f.snap.Restore(ctx, c.id, gitsnap.RestoreOptions{Scopes: []string{"files"}}); err != nil {
			t.Fatalf("restore %s: %v", c.id, err)
		}
		if got := read(t, f.dir, "uploads/big.tsv"); got != string(c.want) {
			t.Fatalf("after restoring %s the file has %d bytes that differ from the %d captured", c.id, len(got), len(c.want))
		}
	}
}
