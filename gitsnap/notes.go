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
	commit Hash // notes commit ("" when the ref does not exist)
	notes  map[Hash][]byte
}

// readNotes reads the whole notes tree at ref once.
func readNotes(ctx context.Context, repo Repo, ref string) (*notesTree, error) {
	nt := &notesTree{notes: map[Hash][]byte{}}
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
			rc, _, err := repo.OpenBlob(ctx, e.Hash)
			if err != nil {
				return fmt.Errorf("read note for %s: %w", name, err)
			}
			data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
			rc.Close()
			if err != nil {
				return fmt.Errorf("read note for %s: %w", name, err)
			}
			// Two fanouts of the same object (possible after merges by
			// other tools): keep both, as git does when it concatenates.
			nt.notes[obj] = mergeNote(nt.notes[obj], data)
		}
	}
	return nil
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
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := tryAppend(ctx, repo, ref, sig, lines)
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
	nt, err := readNotes(ctx, repo, ref)
	if err != nil {
		return err
	}
	for obj, l := range lines {
		nt.notes[obj] = mergeNote(nt.notes[obj], l)
	}
	ow, err := repo.NewObjectWriter(ctx)
	if err != nil {
		return err
	}
	defer ow.Abort()
	tree, err := writeNotesTree(ctx, ow, nt.notes)
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

// writeNotesTree writes notes with git's fanout rule: one level of
// two-hex-digit directories once there are more than 256 notes, as git
// does (notes.c: fanout grows when a level holds too many entries).
func writeNotesTree(ctx context.Context, ow ObjectWriter, notes map[Hash][]byte) (Hash, error) {
	leaves := make(map[string]TreeEntry, len(notes))
	fanout := len(notes) > 256
	for obj, data := range notes {
		if len(data) == 0 {
			continue
		}
		bh, err := ow.WriteBlob(ctx, data)
		if err != nil {
			return ZeroHash, fmt.Errorf("write note: %w", err)
		}
		name := obj.String()
		if fanout {
			name = name[:2] + "/" + name[2:]
		}
		leaves[name] = TreeEntry{Mode: ModeFile, Hash: bh}
	}
	return writeTreeFromPaths(ctx, ow, leaves)
}
