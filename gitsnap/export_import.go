package gitsnap

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ulikunitz/xz"
)

// ImportResult says what Import did.
type ImportResult struct {
	Snapshot *SnapshotInfo
	Objects  int  // objects in the archive (all verified)
	Created  bool // false: the same snapshot was already here
	Events   int  // events in the archive's note, merged into ours
}

// maxSmallObject bounds trees, commits and notes read into memory.
const maxSmallObject = 64 << 20

// Import reads an export archive, checks the SHA-1 of every object and the
// size and sha256 of every artifact in the manifest, and only then creates
// refs/snapshots/<id> (never moving an existing ref) and merges the note.
// A damaged archive is ErrIntegrity or ErrInvalidFormat and changes no ref.
func (s *Snap) Import(ctx context.Context, r io.Reader) (*ImportResult, error) {
	xr, err := xz.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, WithHint(fmt.Errorf("%w: not an xz archive: %v", ErrInvalidFormat, err), "import reads archives written by git snap export")
	}
	tr := tar.NewReader(xr)
	hdr, err := readExportHeader(tr)
	if err != nil {
		return nil, err
	}
	commit, err := ParseHash(hdr.Commit)
	if err != nil || !ValidID(hdr.Snapshot) {
		return nil, fmt.Errorf("%w: export.json names no valid snapshot", ErrInvalidFormat)
	}
	ow, err := s.repo.NewObjectWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = ow.Abort() }()
	res := &ImportResult{}
	var note []byte
	for {
		th, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, archiveErr(ctx, err)
		}
		switch {
		case th.Name == exportNoteName:
			if note, err = io.ReadAll(io.LimitReader(tr, maxSmallObject)); err != nil {
				return nil, archiveErr(ctx, err)
			}
		case strings.HasPrefix(th.Name, exportObjects):
			if err := importObject(ctx, ow, th, tr); err != nil {
				return nil, err
			}
			res.Objects++
		default:
			return nil, fmt.Errorf("%w: unexpected archive entry %q", ErrInvalidFormat, th.Name)
		}
	}
	if res.Objects != hdr.Objects {
		return nil, fmt.Errorf("%w: archive holds %d objects, export.json says %d", ErrIntegrity, res.Objects, hdr.Objects)
	}
	if err := ow.Flush(ctx); err != nil {
		return nil, fmt.Errorf("write imported objects: %w", err)
	}
	info, err := s.verifyImported(ctx, commit, hdr.Snapshot)
	if err != nil {
		return nil, err
	}
	res.Snapshot = info
	res.Created = true
	if err := s.repo.UpdateRef(ctx, SnapshotRefPrefix+info.ID, ZeroHash, commit); err != nil {
		have, rerr := s.repo.Ref(ctx, SnapshotRefPrefix+info.ID)
		if !errors.Is(err, ErrRefChanged) || rerr != nil || have != commit {
			return nil, WithHint(fmt.Errorf("create %s: %w", info.ID, err), "a different snapshot with this id exists here; it is never overwritten")
		}
		res.Created = false
	}
	if es := parseEvents(note); len(es) > 0 {
		res.Events = len(es)
		if err := appendNoteLines(ctx, s.repo, s.signature(), map[Hash][]byte{commit: mergeNote(note)}); err != nil {
			return nil, fmt.Errorf("merge the note of %s: %w", info.ID, err)
		}
	}
	return res, nil
}

func archiveErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: read archive: %v", ErrIntegrity, err)
}

func readExportHeader(tr *tar.Reader) (*exportHeader, error) {
	th, err := tr.Next()
	if err != nil || th.Name != exportHeaderName {
		return nil, WithHint(fmt.Errorf("%w: not a git-snap export archive (no %s first)", ErrInvalidFormat, exportHeaderName),
			"import reads archives written by git snap export")
	}
	var hdr exportHeader
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&hdr); err != nil || hdr.Kind != exportKind {
		return nil, fmt.Errorf("%w: %s is not a git-snap export header", ErrInvalidFormat, exportHeaderName)
	}
	if hdr.Format != exportFormat {
		return nil, WithHint(fmt.Errorf("%w: export format %d, this git-snap reads format %d", ErrInvalidFormat, hdr.Format, exportFormat),
			"upgrade git-snap to read newer archives")
	}
	return &hdr, nil
}

// importObject writes one objects/ entry, checking that its content hashes
// to its name. Blobs are streamed; the writer's own hash is the check.
func importObject(ctx context.Context, ow ObjectWriter, th *tar.Header, tr io.Reader) error {
	want, err := ParseHash(strings.ReplaceAll(strings.TrimPrefix(th.Name, exportObjects), "/", ""))
	if err != nil {
		return fmt.Errorf("%w: archive entry %q is not an object name", ErrInvalidFormat, th.Name)
	}
	br := bufio.NewReader(tr)
	head, err := br.ReadSlice(0)
	if err != nil || len(head) > 32 {
		return fmt.Errorf("%w: object %s has no header", ErrIntegrity, want)
	}
	typ, sizeStr, _ := strings.Cut(string(head[:len(head)-1]), " ")
	size, err := strconv.ParseInt(sizeStr, 10, 64)
	if err != nil || size < 0 || int64(len(head))+size != th.Size {
		return fmt.Errorf("%w: object %s has a bad header %q", ErrIntegrity, want, head[:len(head)-1])
	}
	var got Hash
	switch typ {
	case ObjectBlob:
		got, err = ow.WriteBlobFrom(ctx, br, size)
	case ObjectTree, ObjectCommit:
		if size > maxSmallObject {
			return fmt.Errorf("%w: %s %s is too large", ErrIntegrity, typ, want)
		}
		data := make([]byte, size)
		if _, err := io.ReadFull(br, data); err != nil {
			return archiveErr(ctx, err)
		}
		if HashObject(typ, data) != want {
			return fmt.Errorf("%w: object %s does not match its content", ErrIntegrity, want)
		}
		got, err = writeParsed(ctx, ow, typ, data)
	default:
		return fmt.Errorf("%w: object %s has unexpected type %q", ErrInvalidFormat, want, typ)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: object %s: %v", ErrIntegrity, want, err)
	}
	if got != want {
		return fmt.Errorf("%w: object %s does not match its content (%s)", ErrIntegrity, want, got)
	}
	return nil
}

// writeParsed writes a verified tree or commit through the seam, which
// re-encodes it; the caller compares the hash, so nothing changes silently.
func writeParsed(ctx context.Context, ow ObjectWriter, typ string, data []byte) (Hash, error) {
	if typ == ObjectTree {
		es, err := DecodeTree(data)
		if err != nil {
			return ZeroHash, err
		}
		return ow.WriteTree(ctx, es)
	}
	c, err := DecodeCommit(data)
	if err != nil {
		return ZeroHash, err
	}
	if !bytes.Equal(mustEncode(c), data) {
		return ZeroHash, errors.New("commit has headers git-snap does not write")
	}
	return ow.WriteCommit(ctx, c)
}

func mustEncode(c *Commit) []byte {
	b, _ := EncodeCommit(c)
	return b
}

// verifyImported checks the imported snapshot as restore would: every
// object reachable, the id derived from its commit, every artifact's size
// and sha256, the code tree.
func (s *Snap) verifyImported(ctx context.Context, commit Hash, id string) (*SnapshotInfo, error) {
	m, tree, err := readManifest(ctx, s.repo, commit)
	if err != nil {
		return nil, err
	}
	if got := SnapshotID(m.CreatedAt, commit); got != id {
		return nil, fmt.Errorf("%w: archive names snapshot %s, its commit gives %s", ErrIntegrity, id, got)
	}
	so, err := walkSnapshot(ctx, s.repo, tree.root)
	if err != nil {
		return nil, err
	}
	for _, b := range so.blobs {
		if ok, err := s.repo.HasObject(ctx, b); err != nil || !ok {
			return nil, fmt.Errorf("%w: blob %s of snapshot %s is missing from the archive", ErrIntegrity, b, id)
		}
	}
	if err := verifySnapshot(ctx, s.repo, m, tree, m.Scopes); err != nil {
		return nil, err
	}
	for _, a := range m.Artifacts {
		rc, err := newScopeReader(tree, m, a.Scope).Open(ctx, a)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", a.Path, err)
		}
	}
	return &SnapshotInfo{ID: id, Commit: commit, Manifest: m}, nil
}
