package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Delta chunks (format 2, docs/format.md). A chunk that is new but close
// to chunks of an earlier snapshot of the same artifact is stored as a
// delta blob, entry "<index>.d", instead of a full blob "<index>":
//
//	gitsnap-delta 1
//	target <blob id of the rebuilt chunk>
//	base <blob id>          one line per base, in source order
//	                        (empty line)
//	<Git delta bytes whose source is the bases concatenated>
//
// Bases are always full chunk blobs (keyframes), never deltas, so reading
// a chunk takes at most one level of indirection. Every base a delta uses
// is also an entry of the chunk directory's "base" subtree, named by its
// id, so that git keeps, pushes and fetches it with the snapshot.

const (
	deltaMagic      = "gitsnap-delta 1\n"
	deltaSuffix     = ".d"
	deltaBaseDir    = "base"
	maxDeltaBases   = 8
	maxDeltaHeader  = 64 + maxDeltaBases*48
	deltaWindowBack = 1 // keyframes before the cursor a delta may use
	deltaWindowFwd  = 2 // and after it
	// A delta is kept only when it inserts less than half of the chunk;
	// otherwise the chunk is stored whole and becomes a keyframe.
	deltaMaxLiteral = 2
	// After this many chunks in a row that found no good delta, only
	// every deltaRetryEvery-th chunk tries, so a stream unrelated to its
	// predecessor costs little.
	deltaGiveUp     = 8
	deltaRetryEvery = 16
	// prevSearch: how many of the newest snapshots of a scope are searched
	// for an artifact's previous version.
	prevSearch = 3
)

// deltaBlob is a parsed delta chunk blob.
type deltaBlob struct {
	target Hash
	bases  []Hash
	delta  []byte
}

func encodeDeltaBlob(target Hash, bases []Hash, delta []byte) []byte {
	var b bytes.Buffer
	b.Grow(maxDeltaHeader + len(delta))
	b.WriteString(deltaMagic)
	fmt.Fprintf(&b, "target %s\n", target)
	for _, h := range bases {
		fmt.Fprintf(&b, "base %s\n", h)
	}
	b.WriteByte('\n')
	b.Write(delta)
	return b.Bytes()
}

func parseDeltaBlob(data []byte) (deltaBlob, error) {
	bad := func(what string) (deltaBlob, error) {
		return deltaBlob{}, fmt.Errorf("%w: delta chunk: %s", ErrIntegrity, what)
	}
	if !bytes.HasPrefix(data, []byte(deltaMagic)) {
		return bad("no gitsnap-delta header")
	}
	search := data[len(deltaMagic):]
	if len(search) > maxDeltaHeader {
		search = search[:maxDeltaHeader]
	}
	end := bytes.Index(search, []byte("\n\n"))
	if end < 0 {
		return bad("header not terminated")
	}
	head := search[:end]
	var d deltaBlob
	for i, line := range strings.Split(string(head), "\n") {
		key, val, _ := strings.Cut(line, " ")
		h, err := ParseHash(val)
		if err != nil {
			return bad(fmt.Sprintf("header line %q", line))
		}
		switch {
		case i == 0 && key == "target":
			d.target = h
		case i > 0 && key == "base" && len(d.bases) < maxDeltaBases:
			d.bases = append(d.bases, h)
		default:
			return bad(fmt.Sprintf("header line %q", line))
		}
	}
	if len(d.bases) == 0 {
		return bad("no base")
	}
	d.delta = data[len(deltaMagic)+end+2:]
	return d, nil
}

// chunkRef is one chunk of a chunked artifact as its tree lists it.
type chunkRef struct {
	Name  string // "00000007" or "00000007.d"
	Hash  Hash
	Delta bool
}

var chunkName = regexp.MustCompile(`^([0-9]{8})(\.d)?$`)

// chunkList is a chunked artifact's chunks in order and the bases its
// deltas may use (the "base" subtree).
type chunkList struct {
	chunks []chunkRef
	bases  map[Hash]bool
}

// listChunks reads and checks the chunk directory of a: one entry per
// chunk index, full or delta, plus at most a "base" subtree whose entries
// are named by their own ids. Anything else is ErrIntegrity.
func listChunks(ctx context.Context, t *snapshotTree, a Artifact) (chunkList, error) {
	var cl chunkList
	if a.Chunks == 0 {
		return cl, nil
	}
	dir := "chunks/" + a.Scope + "/" + a.Path
	es, err := t.dir(ctx, dir)
	if err != nil {
		return cl, err
	}
	for _, e := range es {
		if e.Name == deltaBaseDir && e.Mode == ModeDir {
			bs, err := t.dir(ctx, dir+"/"+deltaBaseDir)
			if err != nil {
				return cl, err
			}
			cl.bases = make(map[Hash]bool, len(bs))
			for _, b := range bs {
				if b.Name != b.Hash.String() || b.Mode != ModeFile {
					return cl, fmt.Errorf("%w: %s: unexpected base entry %q", ErrIntegrity, a.Path, b.Name)
				}
				cl.bases[b.Hash] = true
			}
			continue
		}
		m := chunkName.FindStringSubmatch(e.Name)
		if m == nil || e.Mode != ModeFile {
			return cl, fmt.Errorf("%w: %s: unexpected chunk entry %q", ErrIntegrity, a.Path, e.Name)
		}
		if i, _ := strconv.Atoi(m[1]); i != len(cl.chunks) {
			return cl, fmt.Errorf("%w: %s: chunk entry %q out of sequence", ErrIntegrity, a.Path, e.Name)
		}
		cl.chunks = append(cl.chunks, chunkRef{Name: e.Name, Hash: e.Hash, Delta: m[2] != ""})
	}
	if len(cl.chunks) != a.Chunks {
		return cl, fmt.Errorf("%w: %s has %d chunks, manifest says %d", ErrIntegrity, a.Path, len(cl.chunks), a.Chunks)
	}
	return cl, nil
}

// readBlobLimit reads a whole blob of at most limit bytes.
func readBlobLimit(ctx context.Context, repo blobOpener, h Hash, limit int64) ([]byte, error) {
	rc, size, err := repo.OpenBlob(ctx, h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > limit {
		return nil, fmt.Errorf("%w: blob %s is %d bytes, more than a chunk can be", ErrIntegrity, h.String()[:12], size)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(rc, data); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h.String()[:12], err)
	}
	return data, nil
}

// readDeltaBlob reads and parses a delta chunk blob.
func readDeltaBlob(ctx context.Context, repo blobOpener, h Hash) (deltaBlob, error) {
	data, err := readBlobLimit(ctx, repo, h, 2*chunkMax)
	if err != nil {
		return deltaBlob{}, err
	}
	return parseDeltaBlob(data)
}

// baseCache keeps the last few base chunks a reader or planner loaded:
// consecutive deltas mostly share bases.
type baseCache struct {
	repo  blobOpener
	max   int
	order []Hash
	data  map[Hash][]byte
	index map[Hash]*deltaIndex
}

func newBaseCache(repo blobOpener, size int) *baseCache {
	return &baseCache{repo: repo, max: size, data: map[Hash][]byte{}, index: map[Hash]*deltaIndex{}}
}

func (c *baseCache) get(ctx context.Context, h Hash) ([]byte, error) {
	if d, ok := c.data[h]; ok {
		return d, nil
	}
	d, err := readBlobLimit(ctx, c.repo, h, chunkMax)
	if err != nil {
		return nil, fmt.Errorf("read delta base %s: %w", h.String()[:12], err)
	}
	if len(c.order) >= c.max {
		old := c.order[0]
		c.order = c.order[1:]
		delete(c.data, old)
		delete(c.index, old)
	}
	c.order = append(c.order, h)
	c.data[h] = d
	return d, nil
}

// indexed returns the base with its delta index, building it once.
func (c *baseCache) indexed(ctx context.Context, h Hash) (*deltaIndex, error) {
	if x, ok := c.index[h]; ok {
		return x, nil
	}
	d, err := c.get(ctx, h)
	if err != nil {
		return nil, err
	}
	x := newDeltaIndex(d)
	c.index[h] = x
	return x, nil
}

// rebuild reads the chunk a delta blob describes, checking that every base
// is one the snapshot lists and that the result is the recorded blob.
func (c *baseCache) rebuild(ctx context.Context, d deltaBlob, allowed map[Hash]bool) ([]byte, error) {
	bases := make([][]byte, len(d.bases))
	for i, h := range d.bases {
		if !allowed[h] {
			return nil, fmt.Errorf("%w: delta base %s is not in the snapshot's base list", ErrIntegrity, h.String()[:12])
		}
		b, err := c.get(ctx, h)
		if err != nil {
			return nil, err
		}
		bases[i] = b
	}
	out, err := applyDelta(bases, d.delta, chunkMax)
	if err != nil {
		return nil, err
	}
	if got := HashObject(ObjectBlob, out); got != d.target {
		return nil, fmt.Errorf("%w: delta chunk rebuilds blob %s, header says %s", ErrIntegrity, got.String()[:12], d.target.String()[:12])
	}
	return out, nil
}

// prevChunks is a chunked artifact of an earlier snapshot as the delta
// planner uses it.
type prevChunks struct {
	keyframes []Hash       // full chunks in stream order; a delta contributes its bases
	at        map[Hash]int // keyframe → its position
	deltas    map[Hash]reuse
}

// reuse is how an earlier snapshot stored a chunk as a delta: a new chunk
// with the same content points at the same blobs.
type reuse struct {
	blob  Hash
	bases []Hash
	at    int // keyframe position of its last base
}

// loadPrevChunks reads an earlier snapshot's chunk list of a, and the
// headers of its delta chunks.
func loadPrevChunks(ctx context.Context, repo blobOpener, t *snapshotTree, a Artifact) (*prevChunks, error) {
	cl, err := listChunks(ctx, t, a)
	if err != nil {
		return nil, err
	}
	p := &prevChunks{at: map[Hash]int{}, deltas: map[Hash]reuse{}}
	add := func(h Hash) {
		if _, ok := p.at[h]; !ok {
			p.at[h] = len(p.keyframes)
			p.keyframes = append(p.keyframes, h)
		}
	}
	for _, c := range cl.chunks {
		if !c.Delta {
			add(c.Hash)
			continue
		}
		d, err := readDeltaBlob(ctx, repo, c.Hash)
		if err != nil {
			return nil, err
		}
		for _, b := range d.bases {
			add(b)
		}
		p.deltas[d.target] = reuse{blob: c.Hash, bases: d.bases, at: p.at[d.bases[len(d.bases)-1]]}
	}
	return p, nil
}

// chunkStore is how the planner decided to store one chunk: whole
// (delta and blob empty), as a new delta blob, or by reusing an earlier
// snapshot's delta blob.
type chunkStore struct {
	delta []byte // a new delta blob's content
	blob  Hash   // an existing delta blob
	bases []Hash
	have  bool // the repository has the chunk itself: nothing to write
}

// deltaPlanner decides, chunk by chunk, whether a new chunk is stored as a
// delta against the keyframes of the artifact's previous version. A cursor
// follows where in the previous version the stream currently is: an
// unchanged chunk moves it past its keyframe; a delta moves it to where its
// last copy ended.
type deltaPlanner struct {
	repo   ObjectReader
	prev   *prevChunks
	cache  *baseCache
	cur    int
	misses int
	n      int // chunks planned
}

func newDeltaPlanner(repo ObjectReader, prev *prevChunks) *deltaPlanner {
	return &deltaPlanner{repo: repo, prev: prev, cache: newBaseCache(repo, deltaWindowBack+deltaWindowFwd+2)}
}

// plan decides how to store data, whose blob id is h.
func (p *deltaPlanner) plan(ctx context.Context, h Hash, data []byte) (chunkStore, error) {
	p.n++
	if i, ok := p.prev.at[h]; ok {
		// Unchanged since the previous version. Still asked of the
		// repository: a snapshot's tree does not prove its objects are
		// here (a partial fetch), and a missing one is written again.
		p.cur = i + 1
		has, err := p.repo.HasObject(ctx, h)
		return chunkStore{have: has && err == nil}, nil
	}
	if r, ok := p.prev.deltas[h]; ok {
		p.cur = r.at
		return chunkStore{blob: r.blob, bases: r.bases}, nil
	}
	if has, err := p.repo.HasObject(ctx, h); err != nil || has {
		p.cur++
		return chunkStore{have: has}, err
	}
	if p.misses >= deltaGiveUp && p.n%deltaRetryEvery != 0 {
		p.cur++
		return chunkStore{}, nil
	}
	lo := max(p.cur-deltaWindowBack, 0)
	hi := min(p.cur+deltaWindowFwd+1, len(p.prev.keyframes))
	if lo >= hi {
		lo = max(len(p.prev.keyframes)-deltaWindowBack-deltaWindowFwd-1, 0)
		hi = len(p.prev.keyframes)
	}
	if lo >= hi {
		return chunkStore{}, nil
	}
	window := make([]*deltaIndex, 0, hi-lo)
	for _, kh := range p.prev.keyframes[lo:hi] {
		x, err := p.cache.indexed(ctx, kh)
		if err != nil {
			return chunkStore{}, err
		}
		window = append(window, x)
	}
	res := encodeDelta(window, data, (len(data)+deltaMaxLiteral-1)/deltaMaxLiteral)
	if res.lastBase >= 0 {
		p.cur = lo + res.lastBase
		if res.lastEnd >= len(window[res.lastBase].data)-deltaBlock {
			p.cur++
		}
	} else {
		p.cur++
	}
	if res.literal*deltaMaxLiteral >= len(data) {
		p.misses++
		return chunkStore{}, nil
	}
	p.misses = 0
	delta, used := res.serialize(window, data)
	bases := make([]Hash, len(used))
	for i, u := range used {
		bases[i] = p.prev.keyframes[lo+u]
	}
	return chunkStore{delta: encodeDeltaBlob(h, bases, delta), bases: bases}, nil
}

// prevFinder finds the previous version of a chunked artifact: the newest
// of the last few snapshots that captured its scope and holds it.
type prevFinder func(ctx context.Context, scope, path string) (*prevChunks, error)

// errNoPrev: no earlier snapshot holds the artifact.
var errNoPrev = errors.New("no earlier version")

// prevFinder returns a prevFinder over the newest prevSearch snapshots
// that captured the artifact's scope. The catalog and manifests are read
// once, on first use, and shared by concurrent captures.
func (s *Snap) prevFinder() prevFinder {
	var (
		mu     sync.Mutex
		loaded bool
		snaps  []*SnapshotInfo
		trees  = map[Hash]*snapshotTree{}
		mans   = map[Hash]*Manifest{}
	)
	return func(ctx context.Context, scope, path string) (*prevChunks, error) {
		mu.Lock()
		defer mu.Unlock()
		if !loaded {
			loaded = true
			cat, err := s.loadCatalog(ctx)
			if err != nil {
				return nil, err
			}
			snaps = cat.snaps
		}
		tried := 0
		for _, sn := range snaps {
			if tried == prevSearch {
				break
			}
			if !contains(sn.Manifest.Scopes, scope) {
				continue
			}
			tried++
			m, ok := mans[sn.Commit]
			if !ok {
				full, t, err := readManifest(ctx, s.repo, sn.Commit)
				if err != nil {
					continue // a damaged snapshot is no base
				}
				m, mans[sn.Commit], trees[sn.Commit] = full, full, t
			}
			for _, a := range m.Artifacts {
				if a.Scope == scope && a.Path == path && a.Kind == KindChunked && a.Chunks > 0 && !s.isHeld(a) {
					return loadPrevChunks(ctx, s.repo, trees[sn.Commit], a)
				}
			}
		}
		return nil, errNoPrev
	}
}
