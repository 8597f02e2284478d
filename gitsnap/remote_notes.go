package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// Outcomes of merging remote notes into refs/notes/snap.
const (
	NotesNone        = "none"         // the remote has no notes
	NotesUpToDate    = "up-to-date"   // ours already contain theirs
	NotesFastForward = "fast-forward" // ours were behind: moved to theirs
	NotesMerged      = "merged"       // both changed: a merge commit with both parents
)

// notesAt reads the notes tree of a notes commit, with contents. ZeroHash
// gives an empty tree.
func notesAt(ctx context.Context, repo Repo, commit Hash) (*notesTree, error) {
	nt := &notesTree{blobs: map[Hash][]Hash{}, notes: map[Hash][]byte{}, commit: commit}
	if commit.IsZero() {
		return nt, nil
	}
	c, err := repo.ReadCommit(ctx, commit)
	if err != nil {
		return nil, fmt.Errorf("read notes commit %s: %w", commit, err)
	}
	if err := nt.walk(ctx, repo, c.Tree, ""); err != nil {
		return nil, err
	}
	return nt, nil
}

// mergeRemoteNotes merges the notes commit at theirsRef into NotesRef the
// way `git notes --ref=snap merge -s cat_sort_uniq <theirsRef>` does: a
// note changed on one side only takes that side; a note changed on both
// sides becomes the sorted union of their lines. Since events are only
// ever appended, no local event is ever lost. The result is a merge commit
// with both parents, so pushing it is a fast-forward for the remote. The
// local ref moves with compare-and-swap and the merge is redone when
// another writer moved it meanwhile.
func mergeRemoteNotes(ctx context.Context, repo Repo, g gitTransport, theirsRef string, sig Signature) (string, error) {
	theirs, err := repo.Ref(ctx, theirsRef)
	if errors.Is(err, ErrRefNotFound) {
		return NotesNone, nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", theirsRef, err)
	}
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		outcome, err := tryMergeNotes(ctx, repo, g, theirs, theirsRef, sig)
		if !errors.Is(err, ErrRefChanged) || attempt >= 50 {
			return outcome, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(delay):
		}
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

func tryMergeNotes(ctx context.Context, repo Repo, g gitTransport, theirs Hash, theirsRef string, sig Signature) (string, error) {
	ours, err := repo.Ref(ctx, NotesRef)
	switch {
	case errors.Is(err, ErrRefNotFound):
		ours = ZeroHash
	case err != nil:
		return "", fmt.Errorf("read %s: %w", NotesRef, err)
	}
	if ours == theirs {
		return NotesUpToDate, nil
	}
	if ours.IsZero() {
		return NotesFastForward, repo.UpdateRef(ctx, NotesRef, ZeroHash, theirs)
	}
	base, err := g.mergeBase(ctx, ours, theirs)
	if err != nil {
		return "", err
	}
	switch base {
	case theirs:
		return NotesUpToDate, nil
	case ours:
		return NotesFastForward, repo.UpdateRef(ctx, NotesRef, ours, theirs)
	}
	trees := make([]*notesTree, 3)
	for i, c := range []Hash{base, ours, theirs} {
		if trees[i], err = notesAt(ctx, repo, c); err != nil {
			return "", err
		}
	}
	b, l, r := trees[0], trees[1], trees[2]
	ow, err := repo.NewObjectWriter(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = ow.Abort() }()
	leaves := map[Hash]Hash{}
	for _, side := range []*notesTree{l, r} {
		for obj := range side.notes {
			if _, done := leaves[obj]; done {
				continue
			}
			content := merge3(b.notes[obj], l.notes[obj], r.notes[obj])
			if len(content) == 0 {
				leaves[obj] = ZeroHash // deleted
				continue
			}
			h, err := reuseOrWrite(ctx, ow, obj, content, l, r)
			if err != nil {
				return "", err
			}
			leaves[obj] = h
		}
	}
	for obj, h := range leaves {
		if h.IsZero() {
			delete(leaves, obj)
		}
	}
	tree, err := writeNotesTree(ctx, ow, leaves)
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("Notes merged by 'git snap' from %s\n", theirsRef)
	c := &Commit{Tree: tree, Parents: []Hash{ours, theirs}, Author: sig, Committer: sig, Message: msg}
	h, err := ow.WriteCommit(ctx, c)
	if err != nil {
		return "", fmt.Errorf("write notes merge commit: %w", err)
	}
	if err := ow.Flush(ctx); err != nil {
		return "", fmt.Errorf("flush notes merge: %w", err)
	}
	return NotesMerged, repo.UpdateRef(ctx, NotesRef, ours, h)
}

// merge3 is git's notes merge for one object with the cat_sort_uniq
// strategy: unchanged sides give way to the changed one; changes on both
// sides are unioned line by line.
func merge3(base, ours, theirs []byte) []byte {
	switch {
	case bytes.Equal(ours, theirs):
		return ours
	case bytes.Equal(base, ours):
		return theirs
	case bytes.Equal(base, theirs):
		return ours
	}
	return mergeNote(ours, theirs)
}

// reuseOrWrite returns the existing blob of a side whose note is exactly
// content, else writes content as a new blob.
func reuseOrWrite(ctx context.Context, ow ObjectWriter, obj Hash, content []byte, sides ...*notesTree) (Hash, error) {
	for _, nt := range sides {
		if bs := nt.blobs[obj]; len(bs) == 1 && bytes.Equal(nt.notes[obj], content) {
			return bs[0], nil
		}
	}
	h, err := ow.WriteBlob(ctx, content)
	if err != nil {
		return ZeroHash, fmt.Errorf("write merged note: %w", err)
	}
	return h, nil
}

// appendNoteLines adds raw note lines (JSON Lines events, kept verbatim)
// to the notes of the given objects with compare-and-swap and retry.
func appendNoteLines(ctx context.Context, repo Repo, sig Signature, lines map[Hash][]byte) error {
	return retryCAS(ctx, func() error { return tryAppend(ctx, repo, NotesRef, sig, lines) })
}
