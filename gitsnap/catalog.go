package gitsnap

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Validation statuses.
const (
	StatusPassed  = "passed"
	StatusFailed  = "failed"
	StatusUnknown = "unknown"
)

// SnapshotInfo is a snapshot with its notes folded into current state.
type SnapshotInfo struct {
	ID       string
	Commit   Hash
	Manifest *Manifest
	Events   []Event

	Status       string // passed | failed | unknown
	Level        string
	Tags         []string
	Checks       []CheckResult
	Metrics      map[string]float64
	RestoreCount int
	LastRestored *time.Time
	Restores     []Event
	Drills       []Event
}

// CreatedAt is the recorded creation time.
func (s *SnapshotInfo) CreatedAt() time.Time { return s.Manifest.CreatedAt }

// HasTag reports whether the snapshot currently carries tag.
func (s *SnapshotInfo) HasTag(tag string) bool { return contains(s.Tags, tag) }

// KnownGood reports whether the snapshot passed validation and is tagged known-good.
func (s *SnapshotInfo) KnownGood() bool { return s.HasTag(TagKnownGood) && s.Status == StatusPassed }

// fold computes current state from the events, oldest first.
func (s *SnapshotInfo) fold() {
	s.Status = StatusUnknown
	tags := map[string]bool{}
	s.Metrics = nil
	for _, e := range s.Events {
		switch e.Type {
		case EventValidated:
			s.Status, s.Level, s.Checks = e.Status, e.Level, e.Checks
			if len(e.Metrics) > 0 {
				s.Metrics = e.Metrics
			}
		case EventUnvalidated:
			s.Status = StatusUnknown
		case EventTagged:
			for _, t := range e.Tags {
				tags[t] = true
			}
		case EventUntagged:
			for _, t := range e.Tags {
				delete(tags, t)
			}
		case EventRestored:
			s.Restores = append(s.Restores, e)
			s.RestoreCount++
			t := e.Time()
			s.LastRestored = &t
		case EventDrill:
			s.Drills = append(s.Drills, e)
		}
	}
	s.Tags = s.Tags[:0]
	for t := range tags {
		s.Tags = append(s.Tags, t)
	}
	sort.Strings(s.Tags)
}

// catalog is every snapshot, newest first, with notes read once.
type catalog struct {
	snaps   []*SnapshotInfo
	damaged []damagedSnapshot // skipped: one bad snapshot must not hide the others
}

// damagedSnapshot is a snapshot ref whose manifest cannot be read.
type damagedSnapshot struct {
	ID     string
	Commit Hash
	Err    error
}

// loadCatalog reads all snapshot refs and the notes tree once and folds
// them. Manifests (light: no per-file artifact list) and note contents come
// from the catalog cache when present — both are keyed by immutable object
// hashes — so listing thousands of snapshots reads only refs and the notes
// trees.
func (s *Snap) loadCatalog(ctx context.Context) (*catalog, error) {
	refs, err := s.repo.Refs(ctx, SnapshotRefPrefix)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	nt, err := readNotesTree(ctx, s.repo, NotesRef, false)
	if err != nil {
		return nil, err
	}
	cache := openCatalogCache(s.repo.CommonDir())
	liveNotes := map[Hash]bool{}
	liveManifests := map[Hash]bool{}
	cat := &catalog{snaps: make([]*SnapshotInfo, 0, len(refs))}
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		liveManifests[r.Hash] = true
		m, ok := cache.manifest(r.Hash)
		if !ok {
			full, _, err := readManifest(ctx, s.repo, r.Hash)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				id := strings.TrimPrefix(r.Name, SnapshotRefPrefix)
				cat.damaged = append(cat.damaged, damagedSnapshot{ID: id, Commit: r.Hash, Err: fmt.Errorf("snapshot %s: %w", id, err)})
				continue
			}
			m = lightManifest(full)
			cache.putManifest(r.Hash, m)
		}
		var note []byte
		for _, b := range nt.blobs[r.Hash] {
			liveNotes[b] = true
			data, ok := cache.note(b)
			if !ok {
				if data, err = readNoteBlob(ctx, s.repo, b); err != nil {
					return nil, fmt.Errorf("read note of %s: %w", r.Name, err)
				}
				cache.putNote(b, data)
			}
			note = mergeNote(note, data)
		}
		info := &SnapshotInfo{ID: strings.TrimPrefix(r.Name, SnapshotRefPrefix), Commit: r.Hash, Manifest: m, Events: parseEvents(note)}
		info.fold()
		cat.snaps = append(cat.snaps, info)
	}
	s.damaged = nil
	for _, d := range cat.damaged {
		s.damaged = append(s.damaged, d.Err)
	}
	cache.prune(liveManifests, liveNotes)
	_ = cache.save() // a cache that cannot be written only costs speed
	sort.SliceStable(cat.snaps, func(i, j int) bool {
		a, b := cat.snaps[i], cat.snaps[j]
		if !a.CreatedAt().Equal(b.CreatedAt()) {
			return a.CreatedAt().After(b.CreatedAt())
		}
		return a.ID > b.ID
	})
	return cat, nil
}

// ListOptions filter List. Zero values match everything.
type ListOptions struct {
	Tag       string
	Branch    string
	Status    string
	CreatedBy string    // substring of created_by
	Since     time.Time // created at or after
	Until     time.Time // created at or before
	// BeforeCommit: only snapshots created before this commit was
	// committed (any revision git understands: a hash, a tag, HEAD~3).
	BeforeCommit string
	Where        []Condition // every condition must hold on performance_metrics
	Limit        int
}

// List returns snapshots newest first (by recorded creation time).
func (s *Snap) List(ctx context.Context, o ListOptions) ([]*SnapshotInfo, error) {
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	until := o.Until
	if o.BeforeCommit != "" {
		t, err := s.commitTime(ctx, o.BeforeCommit)
		if err != nil {
			return nil, err
		}
		if until.IsZero() || t.Before(until) {
			until = t.Add(-time.Nanosecond)
		}
	}
	var out []*SnapshotInfo
	for _, sn := range cat.snaps {
		if !o.match(sn, until) {
			continue
		}
		out = append(out, sn)
		if o.Limit > 0 && len(out) >= o.Limit {
			break
		}
	}
	return out, nil
}

func (o ListOptions) match(sn *SnapshotInfo, until time.Time) bool {
	switch {
	case o.Tag != "" && !sn.HasTag(o.Tag),
		o.Branch != "" && shortBranch(sn.Manifest.Branch) != shortBranch(o.Branch),
		o.Status != "" && sn.Status != o.Status,
		o.CreatedBy != "" && !strings.Contains(sn.Manifest.CreatedBy, o.CreatedBy),
		!o.Since.IsZero() && sn.CreatedAt().Before(o.Since),
		!until.IsZero() && sn.CreatedAt().After(until):
		return false
	}
	for _, c := range o.Where {
		if !c.Match(sn.Metrics) {
			return false
		}
	}
	return true
}

// commitTime resolves a revision with git and returns its committer time.
func (s *Snap) commitTime(ctx context.Context, rev string) (time.Time, error) {
	out, err := runGit(ctx, s.repo.Root(), "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return time.Time{}, WithHint(fmt.Errorf("%w: unknown revision %q", ErrUsage, rev), "give a commit, tag or branch, e.g. HEAD~3")
	}
	h, err := ParseHash(strings.TrimSpace(out))
	if err != nil {
		return time.Time{}, err
	}
	c, err := s.repo.ReadCommit(ctx, h)
	if err != nil {
		return time.Time{}, fmt.Errorf("read commit %s: %w", rev, err)
	}
	return c.Committer.When, nil
}

// Show resolves a name and returns the snapshot with its history and
// every artifact.
func (s *Snap) Show(ctx context.Context, name string, opts ...ResolveOptions) (*SnapshotInfo, error) {
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	info, err := s.resolve(ctx, cat, name, opts...)
	if err != nil {
		return nil, err
	}
	// The catalog holds light manifests; show needs every artifact.
	full, _, err := readManifest(ctx, s.repo, info.Commit)
	if err != nil {
		return nil, err
	}
	shown := *info
	shown.Manifest = full
	return &shown, nil
}

// Damaged lists the snapshots the last catalog read had to skip because
// their manifest or objects are unreadable (git snap check tells more).
func (s *Snap) Damaged() []error { return append([]error(nil), s.damaged...) }

func shortBranch(b string) string { return strings.TrimPrefix(b, "refs/heads/") }
