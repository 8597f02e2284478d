package scopetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"sort"
	"sync"

	"github.com/git-snap/git-snap/gitsnap"
)

// Store is an in-memory gitsnap.ArtifactWriter and gitsnap.ArtifactReader
// for one scope. It computes each artifact's size and sha256 itself, and
// its Open checks them as the real reader does: a mismatch is reported as
// an error wrapping gitsnap.ErrIntegrity instead of io.EOF. Safe for
// concurrent use.
type Store struct {
	scope   string
	objects *Objects
	ow      gitsnap.ObjectWriter // what Objects returns; objects unless replaced

	mu      sync.Mutex
	arts    map[string]*stored
	code    *gitsnap.CodeState
	corrupt map[string]bool
	onOpen  func(gitsnap.Artifact)
}

type stored struct {
	art  gitsnap.Artifact
	data []byte
}

var (
	_ gitsnap.ArtifactWriter = (*Store)(nil)
	_ gitsnap.ArtifactReader = (*Store)(nil)
)

// NewStore returns an empty store for the named scope.
func NewStore(scope string) *Store {
	objs := NewObjects()
	return &Store{scope: scope, objects: objs, ow: objs, arts: map[string]*stored{}, corrupt: map[string]bool{}}
}

// UseObjectWriter makes Objects return w (a real repository's writer), for
// tests of the code scope against real Git. Call it before capturing.
func (s *Store) UseObjectWriter(w gitsnap.ObjectWriter) { s.ow = w }

// PutFile implements gitsnap.ArtifactWriter. It refuses unsafe or
// duplicate paths and readers that do not yield exactly size bytes.
func (s *Store) PutFile(ctx context.Context, path string, mode fs.FileMode, size int64, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) != size {
		return fmt.Errorf("read %s: got %d bytes, want %d", path, len(data), size)
	}
	return s.put(path, gitsnap.KindBlob, gitsnap.FileMode(mode.Perm()), data, nil)
}

// PutSymlink implements gitsnap.ArtifactWriter.
func (s *Store) PutSymlink(ctx context.Context, path, target string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.put(path, gitsnap.KindSymlink, gitsnap.FileMode(0o777), []byte(target), nil)
}

// PutStream implements gitsnap.ArtifactWriter; the stream is stored under
// name as a chunked artifact.
func (s *Store) PutStream(ctx context.Context, name string, r io.Reader, meta map[string]string) (gitsnap.Artifact, error) {
	if err := ctx.Err(); err != nil {
		return gitsnap.Artifact{}, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return gitsnap.Artifact{}, fmt.Errorf("read stream %s: %w", name, err)
	}
	m := map[string]string{}
	for k, v := range meta {
		m[k] = v
	}
	if err := s.put(name, gitsnap.KindChunked, gitsnap.FileMode(0o644), data, m); err != nil {
		return gitsnap.Artifact{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arts[name].art, nil
}

// PutCode implements gitsnap.ArtifactWriter.
func (s *Store) PutCode(ctx context.Context, c gitsnap.CodeState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.code != nil {
		return fmt.Errorf("code state recorded twice")
	}
	s.code = &c
	return nil
}

// Objects implements gitsnap.ArtifactWriter.
func (s *Store) Objects() gitsnap.ObjectWriter { return s.ow }

// ObjectStore returns the store's in-memory objects for reading back.
func (s *Store) ObjectStore() *Objects { return s.objects }

func (s *Store) put(path, kind string, mode gitsnap.FileMode, data []byte, meta map[string]string) error {
	if _, err := gitsnap.CleanRelPath(path); err != nil {
		return fmt.Errorf("put %s: %w", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.arts[path]; ok {
		return fmt.Errorf("put %s: path stored twice", path)
	}
	s.arts[path] = &stored{art: newArtifact(s.scope, path, kind, mode, data, meta), data: data}
	return nil
}

func newArtifact(scope, path, kind string, mode gitsnap.FileMode, data []byte, meta map[string]string) gitsnap.Artifact {
	sum := sha256.Sum256(data)
	return gitsnap.Artifact{
		Scope: scope, Path: path, Kind: kind, Mode: mode,
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Meta: meta,
	}
}

// Add stores an artifact as given, without any path check, so tests can
// build crafted snapshots. Size and SHA256 are computed from data.
func (s *Store) Add(a gitsnap.Artifact, data []byte) {
	if a.Scope == "" {
		a.Scope = s.scope
	}
	b := newArtifact(a.Scope, a.Path, a.Kind, a.Mode, data, a.Meta)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arts[a.Path] = &stored{art: b, data: append([]byte(nil), data...)}
}

// Corrupt makes Open serve damaged content for path (the recorded size and
// sha256 stay), so its reader ends in an ErrIntegrity error.
func (s *Store) Corrupt(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[path] = true
}

// OnOpen registers fn to run at the start of every Open (e.g. to cancel a
// context half way through a restore).
func (s *Store) OnOpen(fn func(gitsnap.Artifact)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onOpen = fn
}

// Data returns the stored content of path.
func (s *Store) Data(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.arts[path]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), st.data...), true
}

// Artifacts implements gitsnap.ArtifactReader: all artifacts sorted by path.
func (s *Store) Artifacts() []gitsnap.Artifact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]gitsnap.Artifact, 0, len(s.arts))
	for _, st := range s.arts {
		out = append(out, st.art)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Open implements gitsnap.ArtifactReader.
func (s *Store) Open(ctx context.Context, a gitsnap.Artifact) (io.ReadCloser, error) {
	s.mu.Lock()
	st, ok := s.arts[a.Path]
	bad := s.corrupt[a.Path]
	fn := s.onOpen
	s.mu.Unlock()
	if fn != nil {
		fn(a)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("open artifact %s: %w", a.Path, gitsnap.ErrObjectNotFound)
	}
	data := st.data
	if bad {
		data = append([]byte(nil), data...)
		if len(data) == 0 {
			data = []byte{0}
		} else {
			data[len(data)/2] ^= 0xff
		}
	}
	return &verifyReader{r: bytes.NewReader(data), h: sha256.New(), want: st.art}, nil
}

// Code implements gitsnap.ArtifactReader.
func (s *Store) Code() (gitsnap.CodeState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.code == nil {
		return gitsnap.CodeState{}, false
	}
	return *s.code, true
}

// SetCode records a code state directly (for Plan/Restore tests).
func (s *Store) SetCode(c gitsnap.CodeState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code = &c
}

// verifyReader checks size and sha256 as it goes and turns io.EOF into an
// ErrIntegrity error when they do not match the artifact.
type verifyReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want gitsnap.Artifact
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.n > v.want.Size {
		return n, fmt.Errorf("read %s: %w: more than %d bytes", v.want.Path, gitsnap.ErrIntegrity, v.want.Size)
	}
	if err == io.EOF {
		if v.n != v.want.Size || hex.EncodeToString(v.h.Sum(nil)) != v.want.SHA256 {
			return n, fmt.Errorf("read %s: %w: size or sha256 mismatch", v.want.Path, gitsnap.ErrIntegrity)
		}
	}
	return n, err
}

func (v *verifyReader) Close() error { return nil }
