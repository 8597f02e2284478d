package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// PushOptions control Push.
type PushOptions struct {
	// Remote is a remote name, path or URL; "" uses the configured one.
	Remote string
	// Snapshots names the snapshots to push (any name Resolve accepts);
	// empty means every local snapshot the remote lacks.
	Snapshots []string
	// Progress receives "transfer" events parsed from git's progress; nil
	// uses the Snap's.
	Progress Progress
	// Warn is called before anything is sent when the snapshots hold
	// secret-looking files that were never announced for this remote; nil
	// sends the text as a "warning" progress event.
	Warn func(msg string)
}

// PushResult says what Push did.
type PushResult struct {
	Remote       Remote
	Pushed       []string // snapshot ids sent
	AlreadyThere int      // selected snapshots the remote already had
	Notes        string   // "pushed", "up-to-date" or "none" (no local notes)
	NotesMerges  int      // merges with the remote's notes before the push went through
	Attempts     int      // git push runs
	Objects      int      // objects sent, as git reported
	Bytes        int64    // bytes sent, as git reported
	Secrets      []string // secret-looking files announced by the warning
	Held         []string // held safety snapshots left out (git snap settle first)
}

// maxPushRounds bounds how often a rejected notes push is fetched, merged
// and retried before giving up with ErrRefChanged.
const maxPushRounds = 12

// Push sends snapshot refs that the remote lacks, by exact name and never
// by force, and refs/notes/snap without force. When the remote's notes
// moved, it fetches them, merges (lossless: every event of both sides is
// kept) and pushes again. Transient transport failures are retried with
// bounded exponential backoff; permanent ones fail at once.
func (s *Snap) Push(ctx context.Context, o PushOptions) (*PushResult, error) {
	remote, err := s.ResolveRemote(o.Remote)
	if err != nil {
		return nil, err
	}
	p := s.progress
	if o.Progress != nil {
		p = o.Progress
	}
	g := gitTransport{dir: s.repo.Root(), progress: p}
	res := &PushResult{Remote: remote}
	var remoteSnaps map[string]Hash
	if _, err := withRetry(ctx, p, func() error {
		var err error
		remoteSnaps, _, err = g.lsRemote(ctx, remote.Name)
		return err
	}); err != nil {
		return nil, err
	}
	toPush, err := s.snapshotsToPush(ctx, o.Snapshots, remoteSnaps, res)
	if err != nil {
		return nil, err
	}
	if toPush, err = s.withoutHeld(ctx, toPush, len(o.Snapshots) > 0, o.Warn, res); err != nil {
		return nil, err
	}
	if err := s.announceSecrets(ctx, remote, toPush, o.Warn, res); err != nil {
		return nil, err
	}
	pending := map[string]bool{}
	for _, r := range toPush {
		pending[strings.TrimPrefix(r.Name, SnapshotRefPrefix)] = true
	}
	var bridge string
	if len(pending) > 0 {
		if _, bridge, err = s.writeBridge(ctx, remoteSnaps); err != nil {
			return nil, err
		}
	}
	bridgeRef := ""
	if bridge != "" {
		_, bridgeRef, _ = strings.Cut(bridge, ":")
		defer func() { s.cleanupBridges(context.WithoutCancel(ctx), g, remote, bridgeRef, p) }()
	}
	for round := 0; ; round++ {
		notes, err := s.repo.Ref(ctx, NotesRef)
		if err != nil && !errors.Is(err, ErrRefNotFound) {
			return nil, fmt.Errorf("read %s: %w", NotesRef, err)
		}
		specs := pushSpecs(pending, !notes.IsZero())
		if len(specs) == 0 {
			res.Notes = NotesNone
			break
		}
		if round == 0 && bridge != "" {
			specs = append(specs, bridge)
		}
		var st []refStatus
		n, err := withRetry(ctx, p, func() error {
			var err error
			st, err = g.push(ctx, remote.Name, specs, res)
			return err
		})
		res.Attempts += n
		if err != nil {
			return res, err
		}
		retry, err := applyPushStatus(remote, st, pending, res, p)
		if err != nil {
			return res, err
		}
		if !retry {
			break
		}
		if round+1 >= maxPushRounds {
			return res, WithHint(fmt.Errorf("push to %s: %w: its refs were still being updated by other pushes after %d rounds", remote.Name, ErrRefChanged, maxPushRounds),
				"other machines are pushing right now; run git snap push again")
		}
		if _, err := s.fetchAndMergeNotes(ctx, g, remote, p); err != nil {
			return res, err
		}
		res.NotesMerges++
		if err := sleepJitter(ctx, round); err != nil {
			return res, err
		}
	}
	if res.Notes == "" {
		res.Notes = NotesNone
	}
	sort.Strings(res.Pushed)
	return res, nil
}

// snapshotsToPush picks the local snapshot refs the remote lacks. A
// snapshot id the remote holds with other content is an error: refs are
// never force-pushed.
func (s *Snap) snapshotsToPush(ctx context.Context, names []string, remoteSnaps map[string]Hash, res *PushResult) ([]Ref, error) {
	var refs []Ref
	if len(names) == 0 {
		all, err := s.repo.Refs(ctx, SnapshotRefPrefix)
		if err != nil {
			return nil, fmt.Errorf("list snapshots: %w", err)
		}
		refs = all
	} else {
		var cat *catalog
		seen := map[string]bool{}
		for _, n := range names {
			// A full id needs only its ref, not the catalog.
			if ValidID(n) {
				if h, err := s.repo.Ref(ctx, SnapshotRefPrefix+n); err == nil {
					if !seen[n] {
						seen[n] = true
						refs = append(refs, Ref{Name: SnapshotRefPrefix + n, Hash: h})
					}
					continue
				}
			}
			if cat == nil {
				var err error
				if cat, err = s.loadCatalog(ctx); err != nil {
					return nil, err
				}
			}
			info, err := s.resolve(ctx, cat, n)
			if err != nil {
				return nil, err
			}
			if !seen[info.ID] {
				seen[info.ID] = true
				refs = append(refs, Ref{Name: SnapshotRefPrefix + info.ID, Hash: info.Commit})
			}
		}
	}
	var out []Ref
	for _, r := range refs {
		id := strings.TrimPrefix(r.Name, SnapshotRefPrefix)
		there, ok := remoteSnaps[id]
		switch {
		case !ok:
			out = append(out, r)
		case there == r.Hash:
			res.AlreadyThere++
		default:
			return nil, WithHint(fmt.Errorf("snapshot %s differs on %s (%s there, %s here)", id, res.Remote.Name, there.String()[:12], r.Hash.String()[:12]),
				"snapshot refs are never overwritten; inspect it with git ls-remote %s %s", res.Remote.Name, r.Name)
		}
	}
	return out, nil
}

// withoutHeld leaves out held safety snapshots: their databases are kept
// on this machine's servers, not in Git, so no other machine could restore
// them. git snap settle turns one into a snapshot that holds its dumps,
// and that one is pushed. Naming a held snapshot is an error; pushing
// every snapshot leaves them out with a warning.
func (s *Snap) withoutHeld(ctx context.Context, refs []Ref, named bool, warn func(string), res *PushResult) ([]Ref, error) {
	var out []Ref
	for _, r := range refs {
		id := strings.TrimPrefix(r.Name, SnapshotRefPrefix)
		m, _, err := readManifest(ctx, s.repo, r.Hash)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		if len(s.heldArtifacts(m)) == 0 {
			out = append(out, r)
			continue
		}
		if named {
			return nil, errHeldSnapshot(id, res.Remote.Name, "push")
		}
		res.Held = append(res.Held, id)
	}
	if len(res.Held) > 0 {
		msg := fmt.Sprintf("left out %d held safety snapshot(s), whose databases are still on their servers: %s; "+
			"git snap settle copies them into Git, then push again", len(res.Held), strings.Join(res.Held, ", "))
		if warn != nil {
			warn(msg)
		} else {
			s.progress.Event(ProgressEvent{Kind: "warning", Message: msg})
		}
	}
	return out, nil
}

func pushSpecs(pending map[string]bool, notes bool) []string {
	var specs []string
	for id := range pending {
		specs = append(specs, SnapshotRefPrefix+id+":"+SnapshotRefPrefix+id)
	}
	sort.Strings(specs)
	if notes {
		specs = append(specs, NotesRef+":"+NotesRef)
	}
	return specs
}

// refStatus is one line of `git push --porcelain`.
type refStatus struct {
	flag   byte // ' ' fast-forward, '*' new, '=' up to date, '!' rejected
	dst    string
	reason string
}

// push runs one `git push` without force. pack.window=0 is passed on the
// command line (never written to the user's config): chunks do not delta
// against each other, and searching for deltas among thousands of 1 MiB
// chunks costs minutes and memory for nothing. Hooks are not run: these
// are not code refs.
func (g gitTransport) push(ctx context.Context, remote string, specs []string, res *PushResult) ([]refStatus, error) {
	args := []string{"-c", "pack.window=0", "-c", "pack.depth=0", "push", "--porcelain", "--progress", "--no-verify", remote}
	out, stderr, err := g.run(ctx, nil, append(args, specs...)...)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	st := parsePorcelain(out)
	if err != nil && len(st) == 0 {
		return nil, classifyTransport(remote, "push", err, stderr)
	}
	objs, n := transferStats(stderr)
	res.Objects += objs
	res.Bytes += n
	return st, nil
}

func parsePorcelain(out string) []refStatus {
	var st []refStatus
	for _, line := range strings.Split(out, "\n") {
		parts := strings.Split(line, "\t")
		if len(parts) < 3 || len(parts[0]) != 1 {
			continue
		}
		_, dst, _ := strings.Cut(parts[1], ":")
		st = append(st, refStatus{flag: parts[0][0], dst: dst, reason: parts[2]})
	}
	return st
}

// raceReasons are rejections that fetching, merging and pushing again
// resolves: the remote ref moved, or another push held its lock.
var raceReasons = []string{"fetch first", "non-fast-forward", "failed to update ref", "cannot lock ref",
	"failed to lock", "incorrect old value", "stale info"}

// applyPushStatus records what went through and reports whether another
// round is needed.
func applyPushStatus(remote Remote, st []refStatus, pending map[string]bool, res *PushResult, p Progress) (retry bool, err error) {
	for _, r := range st {
		id, isSnap := strings.CutPrefix(r.dst, SnapshotRefPrefix)
		ok := r.flag != '!'
		switch {
		case strings.HasPrefix(r.dst, bridgeRefPrefix):
			// Only an optimisation: without it unchanged chunks are resent.
			if !ok {
				p.Event(ProgressEvent{Kind: "warning", Message: fmt.Sprintf("%s refused the temporary ref %s (%s); unchanged chunks were sent again", remote.Name, r.dst, r.reason)})
			}
		case ok && isSnap:
			if pending[id] {
				delete(pending, id)
				if r.flag != '=' {
					res.Pushed = append(res.Pushed, id)
				} else {
					res.AlreadyThere++
				}
			}
		case ok && r.dst == NotesRef:
			res.Notes = "pushed"
			if r.flag == '=' {
				res.Notes = NotesUpToDate
			}
		case containsAny(r.reason, raceReasons) && (r.dst == NotesRef || isSnap):
			// Another push moved the notes, or held a ref lock (receive-pack
			// reports "failed to update ref"): merge and push again.
			retry = true
		default:
			re := &RemoteError{Remote: remote.Name, Op: "push", Permanent: true,
				Detail: fmt.Sprintf("%s %s", r.dst, r.reason), Err: errors.New("rejected")}
			return false, WithHint(re, "%s", re.Hint())
		}
	}
	return retry, nil
}

// fetchAndMergeNotes brings the remote's notes into the tracking ref and
// merges them into ours.
func (s *Snap) fetchAndMergeNotes(ctx context.Context, g gitTransport, remote Remote, p Progress) (string, error) {
	quiet := gitTransport{dir: g.dir}
	_, err := withRetry(ctx, p, func() error {
		_, stderr, err := quiet.run(ctx, nil, "fetch", "--no-tags", "--no-write-fetch-head", remote.Name,
			"+"+NotesRef+":"+remote.TrackingNotesRef())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return classifyTransport(remote.Name, "fetch", err, stderr)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	outcome, err := mergeRemoteNotes(ctx, s.repo, g, remote.TrackingNotesRef(), s.signature())
	if err != nil {
		return "", fmt.Errorf("merge notes of %s: %w", remote.Name, err)
	}
	return outcome, nil
}

// sleepJitter waits 50 ms, 100 ms, 200 ms, … (at most 2 s), randomised so
// that machines pushing at the same moment drift apart.
func sleepJitter(ctx context.Context, round int) error {
	d := 50 * time.Millisecond << min(round, 5)
	d = d/2 + time.Duration(rand.Int64N(int64(d)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
