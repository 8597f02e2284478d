package gitsnap

import (
	"context"
	"fmt"
)

// TagOptions control Tag.
type TagOptions struct {
	Remove bool
	// Force allows known-good on a snapshot whose validation did not pass;
	// the event records that it was forced.
	Force bool
}

// Tag adds (or removes) tags on a snapshot by appending an event.
func (s *Snap) Tag(ctx context.Context, name string, tags []string, o TagOptions) (*SnapshotInfo, error) {
	if len(tags) == 0 {
		return nil, WithHint(fmt.Errorf("%w: no tag given", ErrUsage), "git snap tag <snapshot> <tag>...")
	}
	for _, t := range tags {
		if err := checkTag(t); err != nil {
			return nil, err
		}
	}
	info, err := s.Resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	if !o.Remove && contains(tags, TagKnownGood) && info.Status != StatusPassed && !o.Force {
		return nil, WithHint(fmt.Errorf("%w: snapshot %s has validation status %s; only a snapshot that passed validation can be known-good", ErrUsage, info.ID, info.Status),
			"use --force to tag it anyway (recorded as forced)")
	}
	typ := EventTagged
	if o.Remove {
		typ = EventUntagged
	}
	ev := newEvent(s.now(), typ)
	ev.By, ev.Tags, ev.Forced = s.identity().Email, tags, o.Force && !o.Remove
	if err := appendEvents(ctx, s.repo, NotesRef, s.signature(), map[Hash][]Event{info.Commit: {ev}}); err != nil {
		return nil, fmt.Errorf("tag %s: %w", info.ID, err)
	}
	info.Events = append(info.Events, ev)
	info.Restores, info.Drills, info.RestoreCount = nil, nil, 0
	info.fold()
	return info, nil
}
