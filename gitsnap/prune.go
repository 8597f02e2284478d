package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PruneOptions control Prune.
type PruneOptions struct {
	Policy RetentionPolicy
	// Apply removes the snapshots; without it Prune only plans (dry run).
	Apply bool
	// Remote, when set, also deletes the removed snapshots' refs on this
	// snapshot remote (a name, path or URL; see ResolveRemote) and pushes
	// the pruned notes there.
	Remote string
	// Location is the time zone of the hourly…yearly buckets (nil: local).
	Location *time.Location
}

// PruneResult is what Prune decided and did.
type PruneResult struct {
	Decisions []PruneDecision // newest first
	Removed   []string        // ids removed (Apply only)
	Remote    string          // the remote also pruned, if any
	Warnings  []string
}

// Kept counts the snapshots kept.
func (r *PruneResult) Kept() int {
	n := 0
	for _, d := range r.Decisions {
		if d.Keep {
			n++
		}
	}
	return n
}

// Prune applies a retention policy. It never removes the newest
// KnownGood known-good snapshots nor a pinned one, and refuses a policy
// with no keep rule. With Apply it deletes the refs (compare-and-swap, so a
// snapshot changed meanwhile is left alone), then removes their notes in
// one notes commit; the objects stay until git gc reclaims them.
func (s *Snap) Prune(ctx context.Context, o PruneOptions) (*PruneResult, error) {
	if o.Policy.Empty() {
		return nil, WithHint(fmt.Errorf("%w: no retention policy", ErrUsage),
			"pass --keep-last, --keep-daily, --keep-within … or set [retention] in %s", ConfigFile)
	}
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	var remote Remote
	if o.Remote != "" {
		r, err := s.ResolveRemote(o.Remote)
		if err != nil {
			return nil, err
		}
		remote = r
	}
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	res := &PruneResult{Decisions: planPrune(cat.snaps, o.Policy, loc), Remote: remote.Name}
	for i, d := range res.Decisions {
		// Removing a held safety snapshot would orphan its held copies:
		// git snap settle turns it into an ordinary snapshot first.
		if s.HoldsCopies(d.Snapshot) {
			res.Decisions[i].Keep = true
			res.Decisions[i].Reasons = append(res.Decisions[i].Reasons, "held (git snap settle)")
		}
	}
	if !o.Apply {
		return res, nil
	}
	gone := map[Hash]bool{}
	for _, d := range res.Decisions {
		if d.Keep {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, s.finishPrune(ctx, res, gone, remote, err)
		}
		sn := d.Snapshot
		err := s.repo.DeleteRef(ctx, SnapshotRefPrefix+sn.ID, sn.Commit)
		if errors.Is(err, ErrRefChanged) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s changed while pruning; left alone", sn.ID))
			continue
		}
		if err != nil {
			return res, s.finishPrune(ctx, res, gone, remote, fmt.Errorf("delete %s: %w", sn.ID, err))
		}
		gone[sn.Commit] = true
		res.Removed = append(res.Removed, sn.ID)
	}
	return res, s.finishPrune(ctx, res, gone, remote, nil)
}

// finishPrune removes the notes of the snapshots whose refs are gone and
// prunes the remote, also after an error or Ctrl-C, so that what was
// removed is removed completely.
func (s *Snap) finishPrune(ctx context.Context, res *PruneResult, gone map[Hash]bool, remote Remote, cause error) error {
	if len(gone) == 0 {
		return cause
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	if err := removeNotes(fctx, s.repo, NotesRef, s.signature(), gone); err != nil {
		res.Warnings = append(res.Warnings, "the notes of the removed snapshots were not removed: "+oneLine(err.Error()))
	}
	if remote.Name != "" {
		if err := s.pruneRemote(fctx, remote, res.Removed); err != nil {
			return errors.Join(cause, err)
		}
	}
	return cause
}

// pruneRemote deletes the removed snapshots' refs on the remote, then
// pushes the notes without force; a rejected notes push only warns (the
// next git snap push merges them).
func (s *Snap) pruneRemote(ctx context.Context, remote Remote, ids []string) error {
	args := []string{"push", "--quiet", "--", remote.Name}
	for _, id := range ids {
		args = append(args, ":"+SnapshotRefPrefix+id)
	}
	if _, err := runGit(ctx, s.repo.Root(), args...); err != nil {
		return WithHint(fmt.Errorf("delete snapshots on %s: %w", remote.Name, err), "the local snapshots are removed; run git snap prune --remote again, or delete them there with git push %s :refs/snapshots/<id>", remote.Name)
	}
	if _, err := runGit(ctx, s.repo.Root(), "push", "--quiet", "--", remote.Name, NotesRef+":"+NotesRef); err != nil {
		s.progress.Event(ProgressEvent{Kind: "warning", Message: "the pruned notes were not pushed to " + remote.Name + "; git snap push merges them"})
	}
	return nil
}

// removeNotes drops the notes of the given objects in one notes commit,
// compare-and-swap with retry like appendEvents.
func removeNotes(ctx context.Context, repo Repo, ref string, sig Signature, drop map[Hash]bool) error {
	return retryCAS(ctx, func() error { return tryRemoveNotes(ctx, repo, ref, sig, drop) })
}

func tryRemoveNotes(ctx context.Context, repo Repo, ref string, sig Signature, drop map[Hash]bool) error {
	nt, err := readNotesTree(ctx, repo, ref, false)
	if err != nil {
		return err
	}
	removed := 0
	for obj := range nt.blobs {
		if drop[obj] {
			removed++
		}
	}
	if removed == 0 {
		return nil
	}
	ow, err := repo.NewObjectWriter(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ow.Abort() }() // no-op after Flush
	leaves := make(map[Hash]Hash, len(nt.blobs))
	for obj, bs := range nt.blobs {
		switch {
		case drop[obj]:
		case len(bs) == 1:
			leaves[obj] = bs[0]
		default: // colliding fanouts: merge them into one note, as appendEvents does
			var merged []byte
			for _, b := range bs {
				data, err := readNoteBlob(ctx, repo, b)
				if err != nil {
					return fmt.Errorf("read note for %s: %w", obj, err)
				}
				merged = mergeNote(merged, data)
			}
			if leaves[obj], err = ow.WriteBlob(ctx, merged); err != nil {
				return fmt.Errorf("write note: %w", err)
			}
		}
	}
	tree, err := writeNotesTree(ctx, ow, leaves)
	if err != nil {
		return err
	}
	c := &Commit{Tree: tree, Author: sig, Committer: sig, Message: fmt.Sprintf("Notes removed by 'git snap prune' (%d)\n", removed)}
	if !nt.commit.IsZero() {
		c.Parents = []Hash{nt.commit}
	}
	h, err := ow.WriteCommit(ctx, c)
	if err != nil {
		return fmt.Errorf("write notes commit: %w", err)
	}
	if err := ow.Flush(ctx); err != nil {
		return fmt.Errorf("flush notes objects: %w", err)
	}
	return repo.UpdateRef(ctx, ref, nt.commit, h)
}
