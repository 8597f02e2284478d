package gitsnap

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// ResolveOptions widen name resolution.
type ResolveOptions struct {
	// AnyBranch lets known-good pick a snapshot from any branch, not only
	// the current one.
	AnyBranch bool
}

// Resolve finds the snapshot a user names: a full id or unique id prefix,
// a unique prefix of the snapshot commit hash, "latest", "known-good"
// (the newest known-good snapshot of the current branch), a tag, each with
// an optional "~N" (the N-th older one).
func (s *Snap) Resolve(ctx context.Context, name string, opts ...ResolveOptions) (*SnapshotInfo, error) {
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	return s.resolve(ctx, cat, name, opts...)
}

func (s *Snap) resolve(ctx context.Context, cat *catalog, name string, opts ...ResolveOptions) (*SnapshotInfo, error) {
	var o ResolveOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if name == "" || strings.ContainsAny(name, " \t\n\x00") {
		return nil, WithHint(fmt.Errorf("%w: invalid snapshot name %q", ErrUsage, name), "name a snapshot by id, id prefix, commit prefix, latest, known-good or a tag")
	}
	base, nth := name, 0
	if i := strings.LastIndexByte(name, '~'); i > 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil || n < 0 {
			return nil, WithHint(fmt.Errorf("%w: invalid snapshot name %q", ErrUsage, name), "use NAME~N with N a number, e.g. known-good~1")
		}
		base, nth = name[:i], n
	}
	pick := func(list []*SnapshotInfo, what string) (*SnapshotInfo, error) {
		if nth < len(list) {
			return list[nth], nil
		}
		if len(list) == 0 {
			return nil, WithHint(fmt.Errorf("%w: no snapshot is %s", ErrSnapshotNotFound, what), "git snap list shows the snapshots there are")
		}
		return nil, WithHint(fmt.Errorf("%w: %q: only %d snapshot(s) are %s", ErrSnapshotNotFound, name, len(list), what), "git snap list shows the snapshots there are")
	}
	switch base {
	case "latest":
		return pick(cat.snaps, "recorded")
	case TagKnownGood:
		head, err := s.repo.Head(ctx)
		if err != nil {
			return nil, fmt.Errorf("read HEAD: %w", err)
		}
		var mine, anyBranch []*SnapshotInfo
		for _, sn := range cat.snaps {
			if !sn.KnownGood() {
				continue
			}
			anyBranch = append(anyBranch, sn)
			if o.AnyBranch || head.Branch == "" || shortBranch(sn.Manifest.Branch) == shortBranch(head.Branch) {
				mine = append(mine, sn)
			}
		}
		if len(mine) == 0 && len(anyBranch) > 0 {
			return nil, WithHint(fmt.Errorf("%w: no known-good snapshot on branch %s", ErrSnapshotNotFound, shortBranch(head.Branch)),
				"known-good snapshots exist on other branches, e.g. %s (%s); pass --any-branch or name it by id", anyBranch[0].ID, shortBranch(anyBranch[0].Manifest.Branch))
		}
		return pick(mine, "known-good on branch "+shortBranch(head.Branch))
	}
	// A tag.
	var tagged []*SnapshotInfo
	for _, sn := range cat.snaps {
		if sn.HasTag(base) {
			tagged = append(tagged, sn)
		}
	}
	if len(tagged) > 0 {
		return pick(tagged, "tagged "+base)
	}
	if nth > 0 {
		return nil, WithHint(fmt.Errorf("%w: %q", ErrSnapshotNotFound, name), "~N works after latest, known-good or a tag")
	}
	// An id or commit prefix.
	var matches []*SnapshotInfo
	for _, sn := range cat.snaps {
		if sn.ID == name {
			return sn, nil
		}
		if strings.HasPrefix(sn.ID, name) || strings.HasPrefix(strings.TrimPrefix(sn.ID, "snap_"), name) ||
			(len(name) >= 4 && isHex(name) && strings.HasPrefix(sn.Commit.String(), name)) {
			matches = append(matches, sn)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		// A held safety snapshot that was settled lives on under the
		// settled snapshot's id.
		if sn := cat.settled(name); sn != nil {
			return sn, nil
		}
		// Naming a damaged snapshot gives its damage, not "not found".
		for _, d := range cat.damaged {
			if d.ID == name || strings.HasPrefix(d.ID, name) || (len(name) >= 4 && isHex(name) && strings.HasPrefix(d.Commit.String(), name)) {
				if HintOf(d.Err) != "" {
					return nil, d.Err
				}
				return nil, WithHint(d.Err, "the snapshot is damaged; git snap check tells more")
			}
		}
		return nil, WithHint(fmt.Errorf("%w: %q", ErrSnapshotNotFound, name), "%s", nearest(cat, name))
	}
	amb := &AmbiguousIDError{Prefix: name}
	for _, m := range matches {
		amb.Matches = append(amb.Matches, fmt.Sprintf("%s (%s)", m.ID, m.CreatedAt().UTC().Format("2006-01-02 15:04")))
	}
	return nil, WithHint(amb, "candidates: %s", strings.Join(amb.Matches, ", "))
}

// nearest suggests names close to what was typed.
func nearest(cat *catalog, name string) string {
	if len(cat.snaps) == 0 {
		return "there are no snapshots yet; create one with: git snap create"
	}
	var sug []string
	for _, sn := range cat.snaps {
		for _, t := range sn.Tags {
			if strings.HasPrefix(t, name) || strings.HasPrefix(name, t) {
				sug = append(sug, t)
			}
		}
	}
	if len(sug) > 0 {
		return "did you mean the tag " + sug[0] + "? git snap list shows every snapshot"
	}
	return "latest is " + cat.snaps[0].ID + "; git snap list shows every snapshot"
}
