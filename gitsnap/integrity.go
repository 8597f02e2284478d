package gitsnap

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// IntegrityOptions control CheckIntegrity.
type IntegrityOptions struct {
	// ReadData reads every artifact and recomputes its size and sha256,
	// and re-hashes every blob of the code trees against its object name.
	ReadData bool
}

// IntegrityProblem is one thing wrong with the stored snapshots.
type IntegrityProblem struct {
	Snapshot string // snapshot id, or "" for the notes
	Path     string // path in the snapshot tree, or the artifact path
	Object   string // object name, when one is involved
	Problem  string
}

func (p IntegrityProblem) String() string {
	var b strings.Builder
	if p.Snapshot != "" {
		b.WriteString(p.Snapshot + ": ")
	} else {
		b.WriteString(NotesRef + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Problem)
	if p.Object != "" {
		b.WriteString(" (object " + p.Object + ")")
	}
	return b.String()
}

// IntegrityReport is what CheckIntegrity found.
type IntegrityReport struct {
	Snapshots int   // snapshot refs walked
	Objects   int   // distinct objects checked
	Bytes     int64 // artifact and blob bytes read (ReadData)
	Problems  []IntegrityProblem
}

// IntegrityError is returned when CheckIntegrity found problems (exit
// 6). It wraps ErrIntegrity.
type IntegrityError struct {
	Problems []IntegrityProblem
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("%d integrity problem(s) found", len(e.Problems))
}

func (e *IntegrityError) Unwrap() error { return ErrIntegrity }

// integrityWalk carries the state of one check: objects already seen are
// not checked twice (snapshots share code trees and chunks).
type integrityWalk struct {
	repo   Repo
	o      IntegrityOptions
	rep    *IntegrityReport
	seen   map[Hash]bool   // objects found good
	read   map[string]bool // artifacts whose data was verified: objects+digest
	snapID string
}

// CheckIntegrity walks every snapshot ref to its commit, manifest, trees,
// blobs and chunks, and the notes, and reports every problem it finds (not
// only the first). It changes nothing. It returns the report and, when
// there are problems, an *IntegrityError.
func (s *Snap) CheckIntegrity(ctx context.Context, o IntegrityOptions) (*IntegrityReport, error) {
	w := &integrityWalk{repo: s.repo, o: o, rep: &IntegrityReport{}, seen: map[Hash]bool{}, read: map[string]bool{}}
	refs, err := s.repo.Refs(ctx, SnapshotRefPrefix)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return w.rep, err
		}
		w.snapID = strings.TrimPrefix(r.Name, SnapshotRefPrefix)
		w.rep.Snapshots++
		s.progress.Event(ProgressEvent{Kind: "step", Name: "check", Message: "checking " + w.snapID})
		if err := w.snapshot(ctx, r.Hash); err != nil {
			return w.rep, err
		}
	}
	w.snapID = ""
	if err := w.notes(ctx); err != nil {
		return w.rep, err
	}
	w.rep.Objects = len(w.seen)
	if len(w.rep.Problems) > 0 {
		return w.rep, WithHint(&IntegrityError{Problems: w.rep.Problems},
			"restore or verify another snapshot (git snap list); fetch the damaged ones again from a snapshot remote; git fsck shows git's own view")
	}
	return w.rep, nil
}

func (w *integrityWalk) problem(path string, obj Hash, format string, args ...any) {
	p := IntegrityProblem{Snapshot: w.snapID, Path: path, Problem: fmt.Sprintf(format, args...)}
	if !obj.IsZero() {
		p.Object = obj.String()
	}
	w.rep.Problems = append(w.rep.Problems, p)
}

// objErr records a failed object read; a cancelled context is returned
// instead, so that Ctrl-C stops the check rather than listing every object.
func (w *integrityWalk) objErr(ctx context.Context, path string, h Hash, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, ErrObjectNotFound) {
		w.problem(path, h, "%s is missing", what)
	} else {
		w.problem(path, h, "%s is unreadable: %v", what, oneLine(err.Error()))
	}
	return nil
}

func (w *integrityWalk) snapshot(ctx context.Context, commit Hash) error {
	idOK := ValidID(w.snapID) && strings.HasSuffix(w.snapID, "_"+commit.String()[:8])
	if !ValidID(w.snapID) {
		w.problem("", commit, "ref name is not a snapshot id")
	} else if !idOK {
		w.problem("", commit, "ref name does not match its commit (the ref was moved)")
	}
	c, err := w.repo.ReadCommit(ctx, commit)
	if err != nil {
		return w.objErr(ctx, "", commit, "snapshot commit", err)
	}
	w.seen[commit] = true
	m, tree, err := readManifest(ctx, w.repo, commit)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.problem("snap.json", ZeroHash, "%v", oneLine(err.Error()))
		// Still walk the tree: report the objects that are missing.
		return w.tree(ctx, "", c.Tree, false)
	}
	if idOK && SnapshotID(m.CreatedAt, commit) != w.snapID {
		w.problem("snap.json", ZeroHash, "created_at %s does not match the snapshot id", m.CreatedAt.UTC().Format("2006-01-02 15:04:05"))
	}
	if err := w.tree(ctx, "", c.Tree, false); err != nil {
		return err
	}
	return w.artifacts(ctx, m, tree)
}

// tree checks that a tree and everything below it is present (and, with
// ReadData, that code blobs hash to their names). Only trees found whole
// are remembered, so damage shared by several snapshots is reported for
// each of them.
func (w *integrityWalk) tree(ctx context.Context, path string, h Hash, code bool) error {
	if w.seen[h] {
		return nil
	}
	es, err := w.repo.ReadTree(ctx, h)
	if err != nil {
		return w.objErr(ctx, path, h, "tree", err)
	}
	before := len(w.rep.Problems)
	defer func() {
		if len(w.rep.Problems) == before {
			w.seen[h] = true
		}
	}()
	for _, e := range es {
		p := e.Name
		if path != "" {
			p = path + "/" + e.Name
		}
		switch e.Mode {
		case ModeSubmodule: // a commit of another repository: not ours to check
		case ModeDir:
			if err := w.tree(ctx, p, e.Hash, code || p == "code"); err != nil {
				return err
			}
		default:
			if err := w.blob(ctx, p, e.Hash, code); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *integrityWalk) blob(ctx context.Context, path string, h Hash, rehash bool) error {
	if w.seen[h] {
		return nil
	}
	if !w.o.ReadData || !rehash {
		ok, err := w.repo.HasObject(ctx, h)
		if err != nil {
			return w.objErr(ctx, path, h, "object", err)
		}
		if !ok {
			w.problem(path, h, "object is missing")
			return nil
		}
		w.seen[h] = true
		return nil
	}
	rc, size, err := w.repo.OpenBlob(ctx, h)
	if err != nil {
		return w.objErr(ctx, path, h, "object", err)
	}
	defer rc.Close()
	sum := sha1.New()
	sum.Write([]byte("blob " + strconv.FormatInt(size, 10) + "\x00"))
	n, err := io.Copy(sum, rc)
	w.rep.Bytes += n
	switch {
	case err != nil:
		return w.objErr(ctx, path, h, "object", err)
	case n != size:
		w.problem(path, h, "object has %d bytes, its header says %d", n, size)
	case Hash(sum.Sum(nil)) != h:
		w.problem(path, h, "object content does not match its name (corrupted)")
	default:
		w.seen[h] = true
	}
	return nil
}
