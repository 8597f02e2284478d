package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Settling (docs/git-snap-restore.md, "The safety copy of a database").
// A restore with [restore] database_safety = "hold" does not copy the
// databases it replaces into its safety snapshot first: the safety
// snapshot records held artifacts, and the replaced databases are kept,
// renamed, on their servers. Settle copies each held database into a new
// snapshot that replaces the held one (same creation time, message, tags
// and history, plus a "settled" event naming the id it replaces), then
// deletes the held snapshot's ref and drops the held copies. Every step
// can be repeated: a settle that died after writing the new snapshot
// finishes the rest the next time.

// SettleOptions control Settle.
type SettleOptions struct {
	// Name limits Settle to one snapshot (any name resolve accepts);
	// empty settles every snapshot that holds copies, oldest first.
	Name string
}

// SettleResult is one settled (or discarded) snapshot.
type SettleResult struct {
	From string        // the held snapshot's id
	Into *SnapshotInfo // the settled snapshot; nil when it was discarded
	// Gone lists held artifacts whose copies no longer exist (a rollback
	// swapped them back, or they were dropped by hand): a snapshot whose
	// copies are all gone cannot restore its databases, so it is removed,
	// not settled. (When only some are gone, Settle fails and keeps the
	// others.)
	Gone []string
}

// heldArtifacts returns m's held artifacts.
func (s *Snap) heldArtifacts(m *Manifest) []Artifact {
	var out []Artifact
	for _, a := range m.Artifacts {
		if s.isHeld(a) {
			out = append(out, a)
		}
	}
	return out
}

// isHeld reports whether a is a held artifact (no data to delta against).
func (s *Snap) isHeld(a Artifact) bool {
	sc, ok := s.scopes.Get(a.Scope)
	if !ok {
		return false
	}
	st, ok := sc.(Settler)
	return ok && st.Held(a)
}

// errHeldSnapshot refuses to carry held snapshot id to elsewhere (a remote,
// an archive): its databases are kept on their servers, not in Git.
func errHeldSnapshot(id, elsewhere, next string) error {
	return WithHint(fmt.Errorf("snapshot %s is held: its databases are kept on their servers, not in Git, so %s could not restore them; nothing was sent", id, elsewhere),
		"settle it first (git snap settle %s), then %s the snapshot it becomes", id, next)
}

// HoldsCopies reports whether sn is a safety snapshot whose databases are
// held on their servers, not yet settled into Git.
func (s *Snap) HoldsCopies(sn *SnapshotInfo) bool { return len(s.heldArtifacts(sn.Manifest)) > 0 }

// Settle settles held safety snapshots (see above), oldest first. Only
// one settle runs at a time per repository: a second one waits for the
// first.
func (s *Snap) Settle(ctx context.Context, o SettleOptions) ([]SettleResult, error) {
	unlock, err := lockSettle(ctx, s.repo.CommonDir())
	if err != nil {
		return nil, err
	}
	defer unlock()
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	only := ""
	if o.Name != "" {
		sn, err := s.resolve(ctx, cat, o.Name, ResolveOptions{AnyBranch: true})
		if err != nil {
			return nil, err
		}
		only = sn.ID // a settled one resolves to itself and holds nothing
	}
	var out []SettleResult
	for _, sn := range slices.Backward(cat.snaps) { // the catalog is newest first
		if !s.HoldsCopies(sn) || (only != "" && sn.ID != only) {
			continue
		}
		r, err := s.settleOne(ctx, sn, cat.settled(sn.ID))
		if err != nil {
			return out, fmt.Errorf("settle %s: %w", sn.ID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// settleOne settles sn; into is the snapshot an earlier settle of sn
// wrote before it died, if any (then only the rest is done).
func (s *Snap) settleOne(ctx context.Context, sn, into *SnapshotInfo) (SettleResult, error) {
	res := SettleResult{From: sn.ID}
	m, tree, err := readManifest(ctx, s.repo, sn.Commit)
	if err != nil {
		return res, err
	}
	held := s.heldArtifacts(m)
	if into == nil {
		into, res.Gone, err = s.writeSettled(ctx, sn, m, tree, held)
		if err != nil {
			return res, err
		}
	}
	res.Into = into
	if err := s.repo.DeleteRef(ctx, SnapshotRefPrefix+sn.ID, sn.Commit); err != nil && !errors.Is(err, ErrRefChanged) {
		return res, fmt.Errorf("remove the held snapshot's ref: %w", err)
	}
	if into == nil {
		return res, nil // every copy was gone: nothing to drop
	}
	env := s.scopeEnv()
	for _, a := range held {
		sc, _ := s.scopes.Get(a.Scope)
		if err := sc.(Settler).Release(ctx, env, a); err != nil {
			return res, WithHint(err, "the snapshot is settled; drop the held copy by hand")
		}
	}
	return res, nil
}

// afterSettle returns sn, or the snapshot a settle turned it into.
func (s *Snap) afterSettle(ctx context.Context, sn *SnapshotInfo) (*SnapshotInfo, error) {
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	for _, x := range cat.snaps {
		if x.ID == sn.ID {
			return x, nil
		}
	}
	if into := cat.settled(sn.ID); into != nil {
		return into, nil
	}
	return nil, WithHint(fmt.Errorf("%w: %s was removed while waiting for its settle", ErrSnapshotNotFound, sn.ID), "git snap list shows the snapshots there are")
}

// settled returns the snapshot whose settled event replaces id, or nil.
func (c *catalog) settled(id string) *SnapshotInfo {
	for _, sn := range c.snaps {
		for _, e := range sn.Events {
			if e.Type == EventSettled && e.From == id {
				return sn
			}
		}
	}
	return nil
}

// writeSettled writes the settled snapshot: sn's tree without its held
// artifacts' objects, plus each held copy captured by its scope, and sn's
// manifest and history. When a held copy is gone, nothing is written and
// the gone artifacts are returned: the held snapshot is then discarded.
func (s *Snap) writeSettled(ctx context.Context, sn *SnapshotInfo, m *Manifest, tree *snapshotTree, held []Artifact) (*SnapshotInfo, []string, error) {
	ow, err := s.repo.NewObjectWriter(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open object writer: %w", err)
	}
	defer func() { _ = ow.Abort() }()
	sw := newSnapshotWriter(ow, s.progress)
	sw.repo, sw.prev = s.repo, s.prevFinder()
	skip := map[string]bool{"snap.json": true}
	for _, a := range held {
		skip[path.Join("chunks", a.Scope, a.Path)] = true
		skip[path.Join("files", a.Path)] = true
	}
	if err := copyTree(ctx, s.repo, tree.root, "", skip, sw.entries); err != nil {
		return nil, nil, fmt.Errorf("copy the snapshot's tree: %w", err)
	}
	for _, a := range m.Artifacts {
		if !slices.ContainsFunc(held, func(h Artifact) bool { return h.Scope == a.Scope && h.Path == a.Path }) {
			sw.addArtifact(a)
		}
	}
	env := s.scopeEnv()
	var gone []string
	for _, a := range held {
		sc, _ := s.scopes.Get(a.Scope)
		s.progress.Event(ProgressEvent{Kind: "step", Name: "settle", Message: "copying the held " + a.Scope + " " + a.Path + " into the safety snapshot"})
		err := sc.(Settler).Settle(ctx, env, a, sw.forScope(a.Scope))
		if errors.Is(err, ErrHeldGone) {
			gone = append(gone, a.Scope+"/"+a.Path)
			continue
		}
		if err != nil {
			_ = sw.wait()
			return nil, nil, err
		}
	}
	if len(gone) > 0 {
		_ = sw.wait()
		if len(gone) < len(held) {
			// The others are still the only copies of their databases.
			return nil, nil, WithHint(fmt.Errorf("%w: %s (the other held copies are kept)", ErrHeldGone, strings.Join(gone, ", ")),
				"restore what is left with git snap restore %s --scope database, or drop the copies by hand", sn.ID)
		}
		return nil, gone, nil
	}
	m2 := *m
	m2.Format = FormatVersion
	root, err := sw.finish(ctx, &m2)
	if err != nil {
		return nil, nil, fmt.Errorf("write snapshot tree: %w", err)
	}
	sig := s.signature()
	commit, err := ow.WriteCommit(ctx, &Commit{Tree: root, Author: sig, Committer: sig, Message: commitMessage(&m2)})
	if err != nil {
		return nil, nil, fmt.Errorf("write snapshot commit: %w", err)
	}
	if err := ow.Flush(ctx); err != nil {
		return nil, nil, fmt.Errorf("write snapshot objects: %w", err)
	}
	id := SnapshotID(m2.CreatedAt, commit)
	if err := s.repo.UpdateRef(ctx, SnapshotRefPrefix+id, ZeroHash, commit); err != nil && !errors.Is(err, ErrRefChanged) {
		return nil, nil, fmt.Errorf("create ref for %s: %w", id, err)
	}
	events := append([]Event(nil), sn.Events...)
	ev := newEvent(s.now(), EventSettled)
	ev.By, ev.From = s.identity().Email, sn.ID
	events = append(events, ev)
	if err := appendEvents(ctx, s.repo, NotesRef, s.signature(), map[Hash][]Event{commit: events}); err != nil {
		return nil, nil, fmt.Errorf("snapshot %s written but its note was not: %w", id, err)
	}
	info := &SnapshotInfo{ID: id, Commit: commit, Manifest: &m2, Events: events, Status: StatusUnknown}
	info.fold()
	return info, nil, nil
}

// copyTree adds the tree at h (path prefix p) to leaves: whole subtrees
// where nothing under them is skipped, single entries elsewhere. A skipped
// path is left out with everything under it.
func copyTree(ctx context.Context, repo ObjectReader, h Hash, p string, skip map[string]bool, leaves map[string]TreeEntry) error {
	es, err := repo.ReadTree(ctx, h)
	if err != nil {
		return err
	}
	for _, e := range es {
		full := path.Join(p, e.Name)
		if skip[full] {
			continue
		}
		if e.Mode == ModeDir && skipsUnder(skip, full) {
			if err := copyTree(ctx, repo, e.Hash, full, skip, leaves); err != nil {
				return err
			}
			continue
		}
		leaves[full] = TreeEntry{Mode: e.Mode, Hash: e.Hash}
	}
	return nil
}

func skipsUnder(skip map[string]bool, dir string) bool {
	for p := range skip {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}
