package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// notesTree is a snapshot of refs/notes/snap: note content per annotated
// object, read in one walk. Readers accept any fanout git writes (flat,
// "ab/cdef…", mixed depths).
type notesTree struct {
	commit Hash            // notes commit (ZeroHash when the ref does not exist)
	blobs  map[Hash][]Hash // annotated object → note blob(s) (two when fanouts collide)
	notes  map[Hash][]byte // note content; nil when read with contents=false
}

// readNotes reads the whole notes tree at ref once, with every note's content.
func readNotes(ctx context.Context, repo Repo, ref string) (*notesTree, error) {
	return readNotesTree(ctx, repo, ref, true)
}

// readNotesTree reads the notes tree; with contents=false it lists the
// note blobs only (what an append needs to rewrite the tree).
func readNotesTree(ctx context.Context, repo Repo, ref string, contents bool) (*notesTree, error) {
	nt := &notesTree{blobs: map[Hash][]Hash{}}
	if contents {
		nt.notes = map[Hash][]byte{}
	}
	h, err := repo.Ref(ctx, ref)
	if errors.Is(err, ErrRefNotFound) {
		return nt, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	c, err := repo.ReadCommit(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("read notes commit %s: %w", h, err)
	}
	nt.commit = h
	if err := nt.walk(ctx, repo, c.Tree, ""); err != nil {
		return nil, err
	}
	return nt, nil
}

func (nt *notesTree) walk(ctx context.Context, repo Repo, tree Hash, prefix string) error {
	es, err := repo.ReadTree(ctx, tree)
	if err != nil {
		return fmt.Errorf("read notes tree: %w", err)
	}
	for _, e := range es {
		name := prefix + e.Name
		switch {
		case e.Mode == ModeDir && len(name) < 40 && isHex(e.Name):
			if err := nt.walk(ctx, repo, e.Hash, name); err != nil {
				return err
			}
		case e.Mode != ModeDir && len(name) == 40 && isHex(e.Name):
			obj, err := ParseHash(name)
			if err != nil {
				continue
			}
			// Two fanouts of the same object (possible after merges by
			// other tools): keep both, as git does when it concatenates.
			nt.blobs[obj] = append(nt.blobs[obj], e.Hash)
			if nt.notes == nil {
				continue
			}
			data, err := readNoteBlob(ctx, repo, e.Hash)
			if err != nil {
				return fmt.Errorf("read note for %s: %w", name, err)
			}
			nt.notes[obj] = mergeNote(nt.notes[obj], data)
		}
	}
	return nil
}

func readNoteBlob(ctx context.Context, repo Repo, h Hash) ([]byte, error) {
	rc, _, err := repo.OpenBlob(ctx, h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 64<<20))
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return s != ""
}

// Events returns the events recorded for a snapshot commit.
func (nt *notesTree) Events(obj Hash) []Event { return parseEvents(nt.notes[obj]) }

// appendEvents adds events to the notes of the given objects with a
// compare-and-swap on the notes ref, retrying when another writer got there
// first, so concurrent writers never lose an event.
func appendEvents(ctx context.Context, repo Repo, ref string, sig Signature, add map[Hash][]Event) error {
	lines := map[Hash][]byte{}
	for obj, es := range add {
		b, err := encodeEvents(es)
		if err != nil {
			return fmt.Errorf("encode events: %w", err)
		}
		lines[obj] = b
	}
	return retryCAS(ctx, func() error { return tryAppend(ctx, repo, ref, sig, lines) })
}

// retryCAS runs a compare-and-swap update until it does not lose a race
// (ErrRefChanged), backing off from 5 ms to 200 ms, at most 50 times.
func retryCAS(ctx context.Context, try func() error) error {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := try()
		if !errors.Is(err, ErrRefChanged) || attempt >= 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

func tryAppend(ctx context.Context, repo Repo, ref string, sig Signature, lines map[Hash][]byte) error {
	nt, err := readNotesTree(ctx, repo, ref, false)
	if err != nil {
		return err
	}
	ow, err := repo.NewObjectWriter(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ow.Abort() }() // no-op after Flush
	// Only the notes that change are read and rewritten; the others keep
	// their blobs.
	leaves := make(map[Hash]Hash, len(nt.blobs)+len(lines))
	for obj, bs := range nt.blobs {
		if len(bs) == 1 {
			leaves[obj] = bs[0]
		} else if _, changing := lines[obj]; !changing {
			lines[obj] = nil // merge the colliding fanouts into one note
		}
	}
	for obj, l := range lines {
		merged := l
		for _, b := range nt.blobs[obj] {
			old, err := readNoteBlob(ctx, repo, b)
			if err != nil {
				return fmt.Errorf("read note for %s: %w", obj, err)
			}
			merged = mergeNote(old, merged)
		}
		h, err := ow.WriteBlob(ctx, mergeNote(merged))
		if err != nil {
			return fmt.Errorf("write note: %w", err)
		}
		leaves[obj] = h
	}
	tree, err := writeNotesTree(ctx, ow, leaves)
	if err != nil {
		return err
	}
	c := &Commit{Tree: tree, Author: sig, Committer: sig, Message: "Notes added by 'git snap'\n"}
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

// writeNotesTree writes the notes tree (annotated object → note blob) with
// git's fanout rule: one level of two-hex-digit directories once there are
// more than 256 notes, as git does (notes.c grows the fanout when a level
// holds too many entries).
func writeNotesTree(ctx context.Context, ow ObjectWriter, notes map[Hash]Hash) (Hash, error) {
	leaves := make(map[string]TreeEntry, len(notes))
	fanout := len(notes) > 256
	for obj, blob := range notes {
		name := obj.String()
		if fanout {
			name = name[:2] + "/" + name[2:]
		}
		leaves[name] = TreeEntry{Mode: ModeFile, Hash: blob}
	}
	return writeTreeFromPaths(ctx, ow, leaves)
}
