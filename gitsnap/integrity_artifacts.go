package gitsnap

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"
)

// artifacts checks the manifest against the tree: every artifact has its
// entry (the right kind, every chunk in order), the code tree is the one
// recorded, and with ReadData every artifact's size and sha256 are
// recomputed. Objects the tree walk already reported missing are not
// reported again.
func (w *integrityWalk) artifacts(ctx context.Context, m *Manifest, tree *snapshotTree) error {
	for _, a := range m.Artifacts {
		if err := ctx.Err(); err != nil {
			return err
		}
		key, ok := w.artifactEntries(ctx, tree, a)
		if !ok || !w.o.ReadData || w.read[key] {
			continue
		}
		rc, err := newScopeReader(tree, m, a.Scope).Open(ctx, a)
		if err == nil {
			var n int64
			n, err = io.Copy(io.Discard, &ctxReader{ctx: ctx, r: rc})
			w.rep.Bytes += n
			rc.Close()
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			w.read[key] = true
		case errors.Is(err, ErrObjectNotFound):
			// A missing chunk: already reported by the tree walk.
		default:
			w.problem(artifactPath(a), ZeroHash, "%s", strings.TrimPrefix(oneLine(err.Error()), ErrIntegrity.Error()+": "))
		}
	}
	if m.Code != nil {
		e, err := tree.lookup(ctx, "code")
		switch {
		case err != nil && !errors.Is(err, ErrObjectNotFound):
			w.problem("code", ZeroHash, "the code tree recorded in snap.json is missing")
		case err == nil && e.Hash.String() != m.Code.Tree:
			w.problem("code", e.Hash, "tree does not match snap.json (%s)", m.Code.Tree)
		}
	}
	return nil
}

// artifactEntries checks that an artifact's tree entries exist and
// returns a key naming its content (object names + digest), so data shared
// by several snapshots is read once.
func (w *integrityWalk) artifactEntries(ctx context.Context, tree *snapshotTree, a Artifact) (string, bool) {
	p := artifactPath(a)
	switch a.Kind {
	case KindBlob, KindSymlink:
		e, err := tree.lookup(ctx, p)
		if err != nil {
			if !errors.Is(err, ErrObjectNotFound) {
				w.problem(p, ZeroHash, "artifact is in snap.json but not in the snapshot tree")
			}
			return "", false
		}
		if (a.Kind == KindSymlink) != (e.Mode == ModeSymlink) {
			w.problem(p, e.Hash, "snap.json says %s but the tree has mode %o", a.Kind, e.Mode)
			return "", false
		}
		return e.Hash.String() + a.SHA256, true
	case KindChunked:
		if a.Chunks == 0 {
			return "empty" + a.SHA256, true
		}
		cl, err := listChunks(ctx, tree, a)
		if err != nil {
			switch {
			case errors.Is(err, ErrObjectNotFound):
				// reported by the tree walk
			case errors.Is(err, ErrIntegrity):
				w.problem(p, ZeroHash, "%s", strings.TrimPrefix(oneLine(err.Error()), ErrIntegrity.Error()+": "))
			default:
				w.problem(p, ZeroHash, "chunk directory is in snap.json but not in the snapshot tree")
			}
			return "", false
		}
		names := make([]string, 0, len(cl.chunks))
		for _, c := range cl.chunks {
			names = append(names, c.Hash.String())
		}
		ok := true
		return strings.Join(names, ",") + a.SHA256, ok
	}
	return "", false
}

// artifactPath is where an artifact lives in the snapshot tree.
func artifactPath(a Artifact) string {
	if a.Kind == KindChunked {
		return "chunks/" + a.Scope + "/" + a.Path
	}
	return "files/" + a.Path
}

// notes checks that the notes ref, its commit, trees and every note blob
// can be read.
func (w *integrityWalk) notes(ctx context.Context) error {
	nt, err := readNotesTree(ctx, w.repo, NotesRef, false)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.problem("", ZeroHash, "notes cannot be read: %v", oneLine(err.Error()))
		return nil
	}
	objs := make([]Hash, 0, len(nt.blobs))
	for obj := range nt.blobs {
		objs = append(objs, obj)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].String() < objs[j].String() })
	for _, obj := range objs {
		for _, b := range nt.blobs[obj] {
			if _, err := readNoteBlob(ctx, w.repo, b); err != nil {
				if err := w.objErr(ctx, "note of "+obj.String(), b, "note", err); err != nil {
					return err
				}
				continue
			}
			w.seen[b] = true
		}
	}
	return nil
}
