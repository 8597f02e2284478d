package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// SnapshotsOf returns, for each given code commit, the snapshots captured
// from it (their source commit), newest first, with notes folded. It is
// built for the pre-push hook, which runs on every push: it reads the
// snapshot refs, each snapshot's source commit from the source index (or,
// for snapshots new to it, from the commit's Snap-Source-Commit trailer,
// never the manifest), and only the manifests and notes of the snapshots
// that match.
func (s *Snap) SnapshotsOf(ctx context.Context, commits []Hash) (map[Hash][]*SnapshotInfo, error) {
	want := make(map[string]Hash, len(commits))
	for _, c := range commits {
		want[c.String()] = c
	}
	refs, err := s.repo.Refs(ctx, SnapshotRefPrefix)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	idx := openSourceIndex(s.repo.CommonDir())
	live := make(map[Hash]bool, len(refs))
	var found []*SnapshotInfo
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		live[r.Hash] = true
		src, ok := idx.m[r.Hash]
		if !ok {
			c, err := s.repo.ReadCommit(ctx, r.Hash)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(r.Name, SnapshotRefPrefix), err)
			}
			src, _ = ParseHash(commitTrailer(c.Message, trailerSource))
			idx.put(r.Hash, src)
		}
		if _, ok := want[src.String()]; !ok || src.IsZero() {
			continue
		}
		m, _, err := readManifest(ctx, s.repo, r.Hash)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(r.Name, SnapshotRefPrefix), err)
		}
		found = append(found, &SnapshotInfo{ID: strings.TrimPrefix(r.Name, SnapshotRefPrefix), Commit: r.Hash, Manifest: lightManifest(m)})
	}
	_ = idx.save(live) // an index that cannot be written only costs speed
	objs := make([]Hash, len(found))
	for i, f := range found {
		objs[i] = f.Commit
	}
	notes, err := lookupNotes(ctx, s.repo, NotesRef, objs)
	if err != nil {
		return nil, err
	}
	out := map[Hash][]*SnapshotInfo{}
	for _, f := range found {
		f.Events = parseEvents(notes[f.Commit])
		f.fold()
		src := want[f.Manifest.SourceCommit]
		out[src] = append(out[src], f)
	}
	for _, list := range out {
		sort.SliceStable(list, func(i, j int) bool { return list[i].ID > list[j].ID })
	}
	return out, nil
}

// commitTrailer returns the value of a "Key: value" trailer line.
func commitTrailer(msg, key string) string {
	for _, line := range strings.Split(msg, "\n") {
		if v, ok := strings.CutPrefix(line, key+": "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// lookupNotes reads the notes of a few objects, descending only into the
// fanout directories that can hold them.
func lookupNotes(ctx context.Context, repo Repo, ref string, objs []Hash) (map[Hash][]byte, error) {
	out := map[Hash][]byte{}
	if len(objs) == 0 {
		return out, nil
	}
	h, err := repo.Ref(ctx, ref)
	if errors.Is(err, ErrRefNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	c, err := repo.ReadCommit(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("read notes commit %s: %w", h, err)
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.String()
	}
	var walk func(tree Hash, prefix string, names []string) error
	walk = func(tree Hash, prefix string, names []string) error {
		es, err := repo.ReadTree(ctx, tree)
		if err != nil {
			return fmt.Errorf("read notes tree: %w", err)
		}
		for _, e := range es {
			name := prefix + e.Name
			if !isHex(e.Name) {
				continue
			}
			var under []string
			for _, n := range names {
				if strings.HasPrefix(n, name) {
					under = append(under, n)
				}
			}
			switch {
			case len(under) == 0:
			case e.Mode == ModeDir && len(name) < 40:
				if err := walk(e.Hash, name, under); err != nil {
					return err
				}
			case e.Mode != ModeDir && len(name) == 40:
				data, err := readNoteBlob(ctx, repo, e.Hash)
				if err != nil {
					return fmt.Errorf("read note for %s: %w", name, err)
				}
				obj, _ := ParseHash(name)
				out[obj] = mergeNote(out[obj], data)
			}
		}
		return nil
	}
	if err := walk(c.Tree, "", names); err != nil {
		return nil, err
	}
	return out, nil
}
