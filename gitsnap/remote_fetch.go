package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// FetchOptions control Fetch.
type FetchOptions struct {
	// Remote is a remote name, path or URL; "" uses the configured one.
	Remote string
	// Snapshots names what to fetch: ids, unique id prefixes, "latest", or
	// a tag such as "known-good" (every remote snapshot carrying it, going
	// by the remote's notes). Empty fetches every snapshot.
	Snapshots []string
	// Progress receives "transfer" events; nil uses the Snap's.
	Progress Progress
}

// FetchResult says what Fetch did.
type FetchResult struct {
	Remote      Remote
	Available   int      // snapshots on the remote
	Fetched     []string // snapshot ids brought in
	AlreadyHere int      // wanted snapshots we had
	Notes       string   // NotesNone, NotesUpToDate, NotesFastForward or NotesMerged
	Objects     int      // objects received, as git reported
	Bytes       int64
}

// Fetch lists the remote's snapshots, brings its notes into
// refs/notes/remotes/<remote>/snap and merges them into ours (never
// overwriting a local event), then fetches the wanted snapshot refs by
// exact name, without force: a local snapshot ref is never overwritten.
func (s *Snap) Fetch(ctx context.Context, o FetchOptions) (*FetchResult, error) {
	remote, err := s.ResolveRemote(o.Remote)
	if err != nil {
		return nil, err
	}
	p := s.progress
	if o.Progress != nil {
		p = o.Progress
	}
	g := gitTransport{dir: s.repo.Root(), progress: p}
	var remoteSnaps map[string]Hash
	var remoteNotes Hash
	if _, err := withRetry(ctx, p, func() error {
		var err error
		remoteSnaps, remoteNotes, err = g.lsRemote(ctx, remote.Name)
		return err
	}); err != nil {
		return nil, err
	}
	res := &FetchResult{Remote: remote, Available: len(remoteSnaps), Notes: NotesNone}
	if !remoteNotes.IsZero() {
		if res.Notes, err = s.fetchAndMergeNotes(ctx, g, remote, p); err != nil {
			return nil, err
		}
	}
	wanted, err := s.selectRemote(ctx, remote, remoteSnaps, o.Snapshots)
	if err != nil {
		return nil, err
	}
	var specs []string
	for _, id := range wanted {
		local, err := s.repo.Ref(ctx, SnapshotRefPrefix+id)
		switch {
		case errors.Is(err, ErrRefNotFound):
			specs = append(specs, SnapshotRefPrefix+id+":"+SnapshotRefPrefix+id)
			res.Fetched = append(res.Fetched, id)
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", id, err)
		case local == remoteSnaps[id]:
			res.AlreadyHere++
		default:
			return nil, WithHint(fmt.Errorf("snapshot %s differs on %s (%s there, %s here)", id, remote.Name, remoteSnaps[id].String()[:12], local.String()[:12]),
				"local snapshot refs are never overwritten; inspect it with git ls-remote %s %s%s", remote.Name, SnapshotRefPrefix, id)
		}
	}
	if len(specs) == 0 {
		return res, nil
	}
	stdin := strings.Join(specs, "\n") + "\n"
	if _, err := withRetry(ctx, p, func() error {
		_, stderr, err := g.run(ctx, strings.NewReader(stdin), "fetch", "--no-tags", "--no-write-fetch-head", "--progress", "--stdin", remote.Name)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return classifyTransport(remote.Name, "fetch", err, stderr)
		}
		res.Objects, res.Bytes = transferStats(stderr)
		return nil
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// selectRemote turns snapshot names into remote snapshot ids, newest
// first. The merged notes give tags and validation status.
func (s *Snap) selectRemote(ctx context.Context, remote Remote, remoteSnaps map[string]Hash, names []string) ([]string, error) {
	ids := make([]string, 0, len(remoteSnaps))
	for id := range remoteSnaps {
		ids = append(ids, id)
	}
	// Ids start with the UTC creation time: sorting them sorts by age.
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	if len(names) == 0 {
		return ids, nil
	}
	var nt *notesTree
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, name := range names {
		if name == "latest" {
			if len(ids) > 0 {
				add(ids[0])
			}
			continue
		}
		var byTag []string
		if checkTag(name) == nil {
			if nt == nil {
				var err error
				if nt, err = readNotes(ctx, s.repo, NotesRef); err != nil {
					return nil, err
				}
			}
			for _, id := range ids {
				info := &SnapshotInfo{Events: nt.Events(remoteSnaps[id])}
				info.fold()
				if info.HasTag(name) && (name != TagKnownGood || info.Status == StatusPassed) {
					byTag = append(byTag, id)
				}
			}
		}
		if len(byTag) > 0 {
			for _, id := range byTag {
				add(id)
			}
			continue
		}
		var matches []string
		for _, id := range ids {
			if id == name {
				matches = []string{id}
				break
			}
			if strings.HasPrefix(id, name) || strings.HasPrefix(strings.TrimPrefix(id, "snap_"), name) {
				matches = append(matches, id)
			}
		}
		switch len(matches) {
		case 0:
			return nil, WithHint(fmt.Errorf("%w: %q on %s", ErrSnapshotNotFound, name, remote.Name),
				"git ls-remote %s '%s*' lists the snapshots there", remote.Name, SnapshotRefPrefix)
		case 1:
			add(matches[0])
		default:
			amb := &AmbiguousIDError{Prefix: name, Matches: matches}
			return nil, WithHint(amb, "candidates: %s", strings.Join(matches, ", "))
		}
	}
	return out, nil
}
