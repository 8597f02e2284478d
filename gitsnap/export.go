package gitsnap

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// An export archive (docs/format.md, "Export archive") is a tar stream
// compressed with xz holding, in this order:
//
//	export.json            what the archive holds (exportHeader)
//	note.jsonl             the snapshot's note, JSON Lines (absent without one)
//	objects/<2 hex>/<38>   every object reachable from the snapshot commit, as
//	                       git hashes it: "<type> <size>\x00<content>"
//	                       (commit first, then trees, then blobs)
//
// so the SHA-1 of each objects/ entry is its name and import can check
// every byte. Submodule entries (gitlinks) point outside the snapshot and
// are not included.
const (
	exportHeaderName = "export.json"
	exportNoteName   = "note.jsonl"
	exportObjects    = "objects/"
	exportKind       = "git-snap-export"
	exportFormat     = 1
)

// exportHeader is export.json.
type exportHeader struct {
	Kind       string    `json:"kind"`
	Format     int       `json:"format"`
	Snapshot   string    `json:"snapshot"`
	Commit     string    `json:"commit"`
	Objects    int       `json:"objects"`
	Tool       string    `json:"tool"`
	ExportedAt time.Time `json:"exported_at"`
}

// ExportResult says what Export wrote.
type ExportResult struct {
	Snapshot *SnapshotInfo
	Objects  int
	Bytes    int64 // object bytes before compression
}

// snapshotObjects lists every object reachable from a snapshot commit:
// the commit, its trees (parents first) and blobs, each once.
type snapshotObjects struct {
	trees map[Hash][]TreeEntry
	order []Hash // trees in walk order
	blobs []Hash
}

func walkSnapshot(ctx context.Context, repo Repo, root Hash) (*snapshotObjects, error) {
	so := &snapshotObjects{trees: map[Hash][]TreeEntry{}}
	seenBlob := map[Hash]bool{}
	queue := []Hash{root}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := queue[0]
		queue = queue[1:]
		if _, done := so.trees[t]; done {
			continue
		}
		es, err := repo.ReadTree(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%w: read tree %s: %v", ErrIntegrity, t, err)
		}
		so.trees[t] = es
		so.order = append(so.order, t)
		for _, e := range es {
			switch e.Mode {
			case ModeDir:
				queue = append(queue, e.Hash)
			case ModeSubmodule:
			default:
				if !seenBlob[e.Hash] {
					seenBlob[e.Hash] = true
					so.blobs = append(so.blobs, e.Hash)
				}
			}
		}
	}
	return so, nil
}

// Export writes the snapshot name resolves to as a self-contained
// tar.xz archive: every object of the snapshot plus its note.
func (s *Snap) Export(ctx context.Context, name string, w io.Writer) (*ExportResult, error) {
	info, err := s.Resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	if s.HoldsCopies(info) {
		return nil, errHeldSnapshot(info.ID, "an archive", "export")
	}
	c, err := s.repo.ReadCommit(ctx, info.Commit)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", info.ID, err)
	}
	rawCommit, err := EncodeCommit(c)
	if err != nil || HashObject(ObjectCommit, rawCommit) != info.Commit {
		return nil, fmt.Errorf("%w: snapshot commit %s cannot be reproduced byte for byte", ErrIntegrity, info.ID)
	}
	so, err := walkSnapshot(ctx, s.repo, c.Tree)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", info.ID, err)
	}
	notes, err := lookupNotes(ctx, s.repo, NotesRef, []Hash{info.Commit})
	if err != nil {
		return nil, err
	}
	xw := &xzArchive{w: w}
	tw := tar.NewWriter(xw)
	mtime := info.CreatedAt().UTC().Truncate(time.Second)
	res := &ExportResult{Snapshot: info, Objects: 1 + len(so.order) + len(so.blobs)}
	hdr, err := json.MarshalIndent(exportHeader{Kind: exportKind, Format: exportFormat, Snapshot: info.ID, Commit: info.Commit.String(),
		Objects: res.Objects, Tool: "git-snap " + s.version, ExportedAt: s.now().UTC()}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode export.json: %w", err)
	}
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	err = put(exportHeaderName, append(hdr, '\n'))
	if n := notes[info.Commit]; err == nil && len(n) > 0 {
		err = put(exportNoteName, n)
	}
	if err == nil {
		err = putObject(tw, mtime, info.Commit, ObjectCommit, rawCommit)
	}
	for _, t := range so.order {
		if err != nil {
			break
		}
		var raw []byte
		if raw, err = EncodeTree(so.trees[t]); err == nil && HashObject(ObjectTree, raw) != t {
			err = fmt.Errorf("%w: tree %s cannot be reproduced byte for byte", ErrIntegrity, t)
		}
		if err == nil {
			err = putObject(tw, mtime, t, ObjectTree, raw)
		}
	}
	for _, b := range so.blobs {
		if err != nil {
			break
		}
		var n int64
		n, err = s.putBlob(ctx, tw, xw, mtime, b)
		res.Bytes += n
		s.progress.Event(ProgressEvent{Kind: "bytes", Name: "export", Bytes: n})
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = xw.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("export %s: %w", info.ID, err)
	}
	return res, nil
}

func objectPath(h Hash) string {
	x := h.String()
	return exportObjects + x[:2] + "/" + x[2:]
}

func putObject(tw *tar.Writer, mtime time.Time, h Hash, typ string, data []byte) error {
	head := objectHeader(typ, int64(len(data)))
	if err := tw.WriteHeader(&tar.Header{Name: objectPath(h), Mode: 0o644, Size: int64(len(head) + len(data)), ModTime: mtime}); err != nil {
		return err
	}
	if _, err := tw.Write(head); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// putBlob streams a blob into the archive without holding it in memory;
// a blob whose first 64 KiB do not compress goes into a stored stream.
func (s *Snap) putBlob(ctx context.Context, tw *tar.Writer, xw *xzArchive, mtime time.Time, h Hash) (int64, error) {
	rc, size, err := s.repo.OpenBlob(ctx, h)
	if err != nil {
		return 0, fmt.Errorf("%w: blob %s: %v", ErrIntegrity, h, err)
	}
	defer rc.Close()
	sample := make([]byte, min(size, storedChunk))
	if _, err := io.ReadFull(rc, sample); err != nil {
		return 0, fmt.Errorf("%w: blob %s: %v", ErrIntegrity, h, err)
	}
	if err := xw.store(size >= storedChunk && incompressible(sample)); err != nil {
		return 0, err
	}
	head := objectHeader(ObjectBlob, size)
	if err := tw.WriteHeader(&tar.Header{Name: objectPath(h), Mode: 0o644, Size: int64(len(head)) + size, ModTime: mtime}); err != nil {
		return 0, err
	}
	if _, err := tw.Write(head); err != nil {
		return 0, err
	}
	if _, err := tw.Write(sample); err != nil {
		return 0, err
	}
	n, err := io.Copy(tw, rc)
	n += int64(len(sample))
	if err == nil && n != size {
		err = fmt.Errorf("%w: blob %s has %d bytes, expected %d", ErrIntegrity, h, n, size)
	}
	return n, err
}
