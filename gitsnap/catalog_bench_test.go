package gitsnap

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// benchCatalog builds a repository with n snapshots and their notes
// (validated + tagged events), written in one pack, refs packed as git
// would after gc. Every fifth snapshot is on another branch, every third
// failed validation, so filters have work to do.
func benchCatalog(b *testing.B, n int) (Repo, *Snap) {
	b.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	dir := b.TempDir()
	if out, err := exec.Command("git", "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		b.Fatalf("git init: %v %s", err, out)
	}
	repo, err := OpenRepo(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ow, err := repo.NewObjectWriter(ctx)
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	sig := Signature{Name: "b", Email: "b@example.com", When: base}
	notes := map[Hash]Hash{}
	var packed []byte
	for i := 0; i < n; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		branch := "refs/heads/main"
		if i%5 == 0 {
			branch = "refs/heads/feature"
		}
		m := &Manifest{Format: FormatVersion, CreatedAt: at, Host: "h", CreatedBy: "b@example.com", Tool: "bench",
			Message: "snapshot " + strconv.Itoa(i), Branch: branch, SourceCommit: fmt.Sprintf("%040x", i),
			Scopes: []string{ScopeConfig}, Artifacts: []Artifact{}, Chunker: defaultChunkerParams()}
		data, _ := encodeManifest(m)
		blob, err := ow.WriteBlob(ctx, data)
		if err != nil {
			b.Fatal(err)
		}
		tree, err := ow.WriteTree(ctx, []TreeEntry{{Name: "snap.json", Mode: ModeFile, Hash: blob}})
		if err != nil {
			b.Fatal(err)
		}
		sig.When = at
		c, err := ow.WriteCommit(ctx, &Commit{Tree: tree, Author: sig, Committer: sig, Message: commitMessage(m)})
		if err != nil {
			b.Fatal(err)
		}
		v := newEvent(at, EventValidated)
		v.Status = StatusPassed
		v.Metrics = map[string]float64{"p95_ms": float64(50 + i%100)}
		if i%3 == 0 {
			v.Status = StatusFailed
		}
		tg := newEvent(at.Add(time.Microsecond), EventTagged)
		tg.Tags = []string{TagKnownGood}
		note, _ := encodeEvents([]Event{v, tg})
		nb, err := ow.WriteBlob(ctx, note)
		if err != nil {
			b.Fatal(err)
		}
		notes[c] = nb
		packed = append(packed, fmt.Sprintf("%s %s%s\n", c, SnapshotRefPrefix, SnapshotID(at, c))...)
	}
	nt, err := writeNotesTree(ctx, ow, notes)
	if err != nil {
		b.Fatal(err)
	}
	nc, err := ow.WriteCommit(ctx, &Commit{Tree: nt, Author: sig, Committer: sig, Message: "notes\n"})
	if err != nil {
		b.Fatal(err)
	}
	if err := ow.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "packed-refs"), append([]byte("# pack-refs with: peeled fully-peeled sorted \n"), packed...), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := repo.UpdateRef(ctx, NotesRef, ZeroHash, nc); err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	s, err := New(Options{Repo: repo, Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	return repo, s
}

// BenchmarkCatalog10k measures list (with a filter) and resolving
// known-good over 10,000 snapshots, with a warm catalog cache (the normal
// case) and a cold one (first run after clone or cache loss).
func BenchmarkCatalog10k(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("GITSNAP_BENCH_SNAPSHOTS")); err == nil && v > 0 {
		n = v
	}
	repo, s := benchCatalog(b, n)
	ctx := context.Background()
	cachePath := filepath.Join(repo.CommonDir(), "git-snap", "catalog.cache")
	b.Run("list-cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			os.Remove(cachePath)
			if _, err := s.List(ctx, ListOptions{Status: StatusPassed, Limit: 20}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list-warm", func(b *testing.B) {
		if _, err := s.List(ctx, ListOptions{}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			got, err := s.List(ctx, ListOptions{Status: StatusPassed, Branch: "main", Limit: 20})
			if err != nil || len(got) != 20 {
				b.Fatalf("list: %d %v", len(got), err)
			}
		}
	})
	b.Run("resolve-known-good-warm", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if got, err := s.Resolve(ctx, "known-good"); err != nil || got.Manifest.Branch != "refs/heads/main" {
				b.Fatal(err)
			}
		}
	})
}

func TestCatalogCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := openCatalogCache(dir)
	h := Hash{1}
	m := &Manifest{Format: 1, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Scopes: []string{"code"},
		Artifacts: []Artifact{{Scope: ScopeDatabase, Path: "main", Kind: KindChunked, Mode: 0o600, Meta: map[string]string{"schema_version": "7"}}}}
	c.putManifest(h, m)
	c.putNote(Hash{2}, []byte("x\n"))
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	again := openCatalogCache(dir)
	got, ok := again.manifest(h)
	if !ok || !got.CreatedAt.Equal(m.CreatedAt) || got.SchemaVersions()["main"] != "7" {
		t.Fatalf("cache lost the manifest: %+v %v", got, ok)
	}
	if n, ok := again.note(Hash{2}); !ok || string(n) != "x\n" {
		t.Fatalf("cache lost the note: %q", n)
	}
	// A damaged cache is ignored, not an error.
	if err := os.WriteFile(filepath.Join(dir, "git-snap", "catalog.cache"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := openCatalogCache(dir).manifest(h); ok {
		t.Fatal("damaged cache was trusted")
	}
}
