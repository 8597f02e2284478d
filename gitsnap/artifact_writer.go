package gitsnap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/restic/chunker"
)

// Chunking parameters, fixed for format 1 (docs/format.md): restic's
// boundaries and a fixed irreducible polynomial, so that every machine cuts
// the same bytes into the same chunks and git deduplicates them.
const (
	chunkPolynomial = chunker.Pol(0x3DA3358B4DC173)
	chunkMin        = chunker.MinSize // 512 KiB
	chunkMax        = chunker.MaxSize // 8 MiB
	chunkAvgBits    = 20              // ~1 MiB average
	// ChunkThreshold: files at least this large are chunked.
	ChunkThreshold = 4 << 20
)

func defaultChunkerParams() ChunkerParams {
	return ChunkerParams{
		Algorithm:  "rabin-restic",
		Polynomial: fmt.Sprintf("0x%X", uint64(chunkPolynomial)),
		MinSize:    chunkMin,
		AvgSize:    1 << chunkAvgBits,
		MaxSize:    chunkMax,
		Threshold:  ChunkThreshold,
	}
}

// snapshotWriter collects the artifacts of all scopes into one tree. Blob
// compression and writing run on a bounded pool of goroutines so that a
// capture uses every core while memory stays bounded: each queued blob
// holds only its own bytes (at most ChunkThreshold for a file, chunkMax for
// a chunk), so memory is about inflight × 2 × the mean blob size.
type snapshotWriter struct {
	ow       ObjectWriter
	progress Progress

	mu        sync.Mutex
	entries   map[string]TreeEntry // full path in the snapshot tree → leaf
	artifacts []Artifact
	code      *CodeState
	err       error

	sem chan struct{}
	wg  sync.WaitGroup

	// repo and prev, when set, let chunked artifacts store changed chunks
	// as deltas against their previous version (delta_chunk.go).
	repo ObjectReader
	prev prevFinder
}

func newSnapshotWriter(ow ObjectWriter, p Progress) *snapshotWriter {
	n := 2 * runtime.GOMAXPROCS(0)
	if n < 4 {
		n = 4
	}
	return &snapshotWriter{
		ow:       ow,
		progress: progressOrNoop(p),
		entries:  map[string]TreeEntry{},
		sem:      make(chan struct{}, n),
	}
}

// forScope returns the ArtifactWriter a scope sees.
func (w *snapshotWriter) forScope(scope string) ArtifactWriter {
	return &scopeWriter{w: w, scope: scope}
}

func (w *snapshotWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *snapshotWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// writeAsync stores data as a blob at tree path p on the worker pool. The
// caller must not touch data afterwards.
func (w *snapshotWriter) writeAsync(ctx context.Context, p string, mode uint32, data []byte) error {
	return w.writeAsyncHashed(ctx, p, mode, data, ZeroHash, nil)
}

// hashedBlobWriter is an ObjectWriter that takes a blob id its caller has
// already computed (the delta planner hashes every chunk), so a chunk is
// not hashed twice on the capture path.
type hashedBlobWriter interface {
	writeBlobHashed(ctx context.Context, h Hash, data []byte) error
}

// compactBlobWriter is an ObjectWriter that can compress one blob with
// deflate's matches whatever its writers' load. snap.json takes it: it
// lists every artifact with its sha256 (1.1 MB for 5,000 files) and is
// written once, after the artifacts; the busy writers' Huffman-only coding
// stored it in 638 KB where deflate takes 236 KB.
type compactBlobWriter interface {
	writeBlobCompact(ctx context.Context, data []byte) (Hash, error)
}

// writeAsyncHashed is writeAsync for data whose blob id h is known (or
// ZeroHash when it is not). release, when not nil, is called with data
// once the write no longer needs it, whether or not it was queued.
func (w *snapshotWriter) writeAsyncHashed(ctx context.Context, p string, mode uint32, data []byte, h Hash, release func([]byte)) error {
	if release == nil {
		release = func([]byte) {}
	}
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		release(data)
		return ctx.Err()
	}
	if err := w.failed(); err != nil {
		<-w.sem
		release(data)
		return err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		var err error
		if hw, ok := w.ow.(hashedBlobWriter); ok && !h.IsZero() {
			err = hw.writeBlobHashed(ctx, h, data)
		} else {
			h, err = w.ow.WriteBlob(ctx, data)
		}
		release(data)
		if err != nil {
			w.fail(fmt.Errorf("write %s: %w", p, err))
			return
		}
		if err := w.setEntry(p, TreeEntry{Mode: mode, Hash: h}); err != nil {
			w.fail(err)
		}
	}()
	return nil
}

func (w *snapshotWriter) setEntry(p string, e TreeEntry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.entries[p]; ok && (old.Hash != e.Hash || old.Mode != e.Mode) {
		return WithHint(fmt.Errorf("%s changed while it was being captured", p), "run the command again once writers have stopped")
	}
	w.entries[p] = e
	return nil
}

func (w *snapshotWriter) addArtifact(a Artifact) {
	w.mu.Lock()
	w.artifacts = append(w.artifacts, a)
	w.mu.Unlock()
}

// wait blocks until every queued blob is written.
func (w *snapshotWriter) wait() error {
	w.wg.Wait()
	return w.failed()
}

// finish writes snap.json and the tree hierarchy; it returns the root tree.
func (w *snapshotWriter) finish(ctx context.Context, m *Manifest) (Hash, error) {
	if err := w.wait(); err != nil {
		return ZeroHash, err
	}
	sort.Slice(w.artifacts, func(i, j int) bool {
		a, b := w.artifacts[i], w.artifacts[j]
		if a.Scope != b.Scope {
			return a.Scope < b.Scope
		}
		return a.Path < b.Path
	})
	m.Artifacts = w.artifacts
	if m.Artifacts == nil {
		m.Artifacts = []Artifact{}
	}
	for _, a := range m.Artifacts {
		if a.Deltas > 0 {
			m.Format = max(m.Format, FormatDeltas)
		}
	}
	if w.code != nil {
		m.Code = &ManifestCode{Tree: w.code.Tree.String(), Branch: w.code.Branch, Dirty: w.code.Dirty}
		if !w.code.Commit.IsZero() {
			m.Code.Commit = w.code.Commit.String()
		}
		m.Dirty = w.code.Dirty
		w.entries["code"] = TreeEntry{Mode: ModeDir, Hash: w.code.Tree}
	}
	data, err := encodeManifest(m)
	if err != nil {
		return ZeroHash, err
	}
	var h Hash
	if cw, ok := w.ow.(compactBlobWriter); ok {
		h, err = cw.writeBlobCompact(ctx, data)
	} else {
		h, err = w.ow.WriteBlob(ctx, data)
	}
	if err != nil {
		return ZeroHash, fmt.Errorf("write snap.json: %w", err)
	}
	w.entries["snap.json"] = TreeEntry{Mode: ModeFile, Hash: h}
	return writeTreeFromPaths(ctx, w.ow, w.entries)
}

// writeTreeFromPaths builds nested trees from full slash paths.
func writeTreeFromPaths(ctx context.Context, ow ObjectWriter, leaves map[string]TreeEntry) (Hash, error) {
	type dir struct {
		entries map[string]TreeEntry
		subdirs map[string]*dir
	}
	newDir := func() *dir { return &dir{entries: map[string]TreeEntry{}, subdirs: map[string]*dir{}} }
	root := newDir()
	for p, e := range leaves {
		d := root
		parts := strings.Split(p, "/")
		for _, el := range parts[:len(parts)-1] {
			sub, ok := d.subdirs[el]
			if !ok {
				sub = newDir()
				d.subdirs[el] = sub
			}
			d = sub
		}
		d.entries[parts[len(parts)-1]] = e
	}
	var write func(d *dir) (Hash, error)
	write = func(d *dir) (Hash, error) {
		var list []TreeEntry
		for name, e := range d.entries {
			if _, clash := d.subdirs[name]; clash {
				return ZeroHash, fmt.Errorf("%w: %q is both a file and a directory", ErrUnsafePath, name)
			}
			e.Name = name
			list = append(list, e)
		}
		for name, sub := range d.subdirs {
			h, err := write(sub)
			if err != nil {
				return ZeroHash, err
			}
			list = append(list, TreeEntry{Name: name, Mode: ModeDir, Hash: h})
		}
		return ow.WriteTree(ctx, list)
	}
	return write(root)
}

// scopeWriter is one scope's view of the snapshot writer.
type scopeWriter struct {
	w     *snapshotWriter
	scope string
}

func (s *scopeWriter) Objects() ObjectWriter { return s.w.ow }

func (s *scopeWriter) PutCode(ctx context.Context, c CodeState) error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.w.code != nil {
		return errors.New("code state recorded twice")
	}
	s.w.code = &c
	return nil
}

func (s *scopeWriter) PutSymlink(ctx context.Context, p, target string) error {
	if _, err := CleanRelPath(p); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(target))
	s.w.addArtifact(Artifact{Scope: s.scope, Path: p, Kind: KindSymlink, Mode: 0o777, Size: int64(len(target)), SHA256: hex.EncodeToString(sum[:])})
	return s.w.writeAsync(ctx, "files/"+p, ModeSymlink, []byte(target))
}

func (s *scopeWriter) PutFile(ctx context.Context, p string, mode fs.FileMode, size int64, r io.Reader) error {
	if _, err := CleanRelPath(p); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("put %s: negative size", p)
	}
	if size >= ChunkThreshold {
		a, err := s.putChunked(ctx, p, r, size)
		if err != nil {
			return fmt.Errorf("capture %s: %w", p, err)
		}
		a.Path, a.Mode = p, FileMode(mode.Perm())
		s.w.addArtifact(a)
		return nil
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return fmt.Errorf("read %s: %w (did it shrink while being captured?)", p, err)
	}
	if n, _ := r.Read(make([]byte, 1)); n > 0 {
		return fmt.Errorf("read %s: it grew while being captured", p)
	}
	sum := sha256.Sum256(data)
	treeMode := ModeFile
	if mode&0o111 != 0 {
		treeMode = ModeExecutable
	}
	s.w.addArtifact(Artifact{Scope: s.scope, Path: p, Kind: KindBlob, Mode: FileMode(mode.Perm()), Size: size, SHA256: hex.EncodeToString(sum[:])})
	s.w.progress.Event(ProgressEvent{Kind: "bytes", Scope: s.scope, Name: p, Bytes: size})
	return s.w.writeAsync(ctx, "files/"+p, treeMode, data)
}

func (s *scopeWriter) PutStream(ctx context.Context, name string, r io.Reader, meta map[string]string) (Artifact, error) {
	a := Artifact{Scope: s.scope, Path: name, Mode: 0o600, Meta: meta}
	if err := checkArtifact(Artifact{Scope: s.scope, Path: name, Kind: KindChunked, SHA256: strings.Repeat("0", 64)}); err != nil && s.scope == ScopeDatabase {
		return a, err
	} else if s.scope != ScopeDatabase {
		if _, err := CleanRelPath(name); err != nil {
			return a, err
		}
	}
	got, err := s.putChunked(ctx, name, r, -1)
	if err != nil {
		return a, fmt.Errorf("capture stream %s: %w", name, err)
	}
	got.Path, got.Mode, got.Meta = name, 0o600, meta
	s.w.addArtifact(got)
	return got, nil
}

// putChunked cuts r into content-defined chunks stored as
// chunks/<scope>/<name>/00000000, 00000001, ... It checks the length when
// want >= 0. The chunker fills one chunkMax scratch buffer; a chunk that
// must be written is copied out of the cutter's buffer (cdc.go) into a
// pooled buffer of its size class (chunkBufs), so queued chunks do not pin
// 8 MiB each and the copies do not fault in fresh memory; a chunk the
// repository already has is never copied. When the artifact has a previous version, a chunk
// that is new but close to it is stored as a delta (<index>.d) instead.
func (s *scopeWriter) putChunked(ctx context.Context, name string, r io.Reader, want int64) (Artifact, error) {
	dir := "chunks/" + s.scope + "/" + name
	ch := newCDCStream(r, formatCutter)
	digest := sha256.New()
	planner := s.planner(ctx, name)
	var total int64
	n, deltas := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return Artifact{}, err
		}
		data, err := ch.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Artifact{}, err
		}
		digest.Write(data)
		total += int64(len(data))
		s.w.progress.Event(ProgressEvent{Kind: "bytes", Scope: s.scope, Name: dir, Bytes: int64(len(data))})
		entry := path.Join(dir, fmt.Sprintf("%08d", n))
		n++
		var st chunkStore
		var h Hash
		if planner != nil {
			// The planner reads data and keeps none of it.
			h = HashObject(ObjectBlob, data)
			if st, err = planner.plan(ctx, h, data); err != nil {
				planner, st = nil, chunkStore{} // a previous version we cannot read only costs space
			}
		}
		switch {
		case st.delta != nil:
			err = s.w.writeAsync(ctx, entry+deltaSuffix, ModeFile, st.delta)
		case !st.blob.IsZero():
			err = s.w.setEntry(entry+deltaSuffix, TreeEntry{Mode: ModeFile, Hash: st.blob})
		case st.have:
			// Unchanged: no copy, no queue.
			err = s.w.setEntry(entry, TreeEntry{Mode: ModeFile, Hash: h})
		default:
			err = s.w.writeAsyncHashed(ctx, entry, ModeFile, chunkBufs.get(data), h, chunkBufs.put)
		}
		if err != nil {
			return Artifact{}, err
		}
		if st.bases != nil {
			deltas++
			for _, b := range st.bases {
				if err := s.w.setEntry(path.Join(dir, deltaBaseDir, b.String()), TreeEntry{Mode: ModeFile, Hash: b}); err != nil {
					return Artifact{}, err
				}
			}
		}
	}
	if want >= 0 && total != want {
		return Artifact{}, fmt.Errorf("size changed while being captured: %d bytes, expected %d", total, want)
	}
	return Artifact{Scope: s.scope, Kind: KindChunked, Size: total, SHA256: hexSum(digest), Chunks: n, Deltas: deltas}, nil
}

// planner returns the delta planner of the artifact name, or nil when
// there is no previous version to delta against.
func (s *scopeWriter) planner(ctx context.Context, name string) *deltaPlanner {
	if s.w.prev == nil || s.w.repo == nil {
		return nil
	}
	prev, err := s.w.prev(ctx, s.scope, name)
	if err != nil || prev == nil || len(prev.keyframes) == 0 {
		return nil
	}
	return newDeltaPlanner(s.w.repo, prev)
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
