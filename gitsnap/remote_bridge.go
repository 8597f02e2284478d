package gitsnap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Snapshot commits are parentless, so `git push` cannot tell that a new
// snapshot shares chunks with one the remote already has: pack-objects only
// skips objects reachable from "edge" commits, the uninteresting parents
// of what is pushed, and a parentless commit has none. Every push would
// then resend every unchanged chunk.
//
// The bridge fixes that without touching the snapshots: a throwaway commit
// with the empty tree whose parents are snapshots the remote already has.
// Pushed to refs/snap-tmp/<unix time>-<hex> alongside the new snapshots, it
// makes those snapshots edges, so git marks their trees as present and sends
// only the new objects (with pack.useSparse, git's default, only the paths
// the new snapshots share are compared). A second push deletes the ref; the
// bridge object itself is a few hundred bytes that the remote's gc drops.
const bridgeRefPrefix = "refs/snap-tmp/"

// bridgeParents is how many of the remote's newest snapshots a bridge
// names: enough to cover what a new snapshot shares in practice, few enough
// that git compares only a bounded number of trees.
const bridgeParents = 100

// writeBridge writes the bridge commit for snapshots the remote has (and
// we have too) and returns the refspec that pushes it, or "" when there is
// nothing to bridge.
func (s *Snap) writeBridge(ctx context.Context, remoteSnaps map[string]Hash) (Hash, string, error) {
	ids := make([]string, 0, len(remoteSnaps))
	for id := range remoteSnaps {
		ids = append(ids, id)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids))) // newest first
	var parents []Hash
	for _, id := range ids {
		if len(parents) == bridgeParents {
			break
		}
		h := remoteSnaps[id]
		if ok, err := s.repo.HasObject(ctx, h); err != nil {
			return ZeroHash, "", err
		} else if ok {
			parents = append(parents, h)
		}
	}
	if len(parents) == 0 {
		return ZeroHash, "", nil
	}
	ow, err := s.repo.NewObjectWriter(ctx)
	if err != nil {
		return ZeroHash, "", err
	}
	defer func() { _ = ow.Abort() }()
	tree, err := ow.WriteTree(ctx, nil)
	if err != nil {
		return ZeroHash, "", fmt.Errorf("write bridge tree: %w", err)
	}
	sig := s.signature()
	c := &Commit{Tree: tree, Parents: parents, Author: sig, Committer: sig,
		Message: "git-snap push bridge: temporary, safe to delete\n"}
	h, err := ow.WriteCommit(ctx, c)
	if err != nil {
		return ZeroHash, "", fmt.Errorf("write bridge commit: %w", err)
	}
	if err := ow.Flush(ctx); err != nil {
		return ZeroHash, "", fmt.Errorf("write bridge commit: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	ref := bridgeRefPrefix + strconv.FormatInt(s.now().Unix(), 10) + "-" + hex.EncodeToString(b[:])
	return h, h.String() + ":" + ref, nil
}

// cleanupBridges deletes our bridge ref and bridges left behind by pushes
// that died more than an hour ago. Failures are reported, never fatal: a
// leftover bridge only keeps a few snapshots reachable on the remote.
func (s *Snap) cleanupBridges(ctx context.Context, g gitTransport, remote Remote, ours string, p Progress) {
	del := map[string]bool{}
	if ours != "" {
		del[ours] = true
	}
	out, _, err := g.run(ctx, nil, "ls-remote", "--refs", remote.Name, bridgeRefPrefix+"*")
	if err == nil {
		for _, line := range strings.Split(out, "\n") {
			_, ref, ok := strings.Cut(strings.TrimSpace(line), "\t")
			if ok && bridgeStale(ref, s.now()) {
				del[ref] = true
			}
		}
	}
	if len(del) == 0 {
		return
	}
	args := []string{"push", "--porcelain", "--no-verify", remote.Name}
	for ref := range del {
		args = append(args, ":"+ref)
	}
	sort.Strings(args[4:])
	if _, stderr, err := g.run(ctx, nil, args...); err != nil && ctx.Err() == nil {
		p.Event(ProgressEvent{Kind: "warning", Message: fmt.Sprintf("could not delete the temporary ref %s on %s: %s",
			ours, remote.Name, lastErrorLines(stderr))})
	}
}

func bridgeStale(ref string, now time.Time) bool {
	name := strings.TrimPrefix(ref, bridgeRefPrefix)
	ts, _, ok := strings.Cut(name, "-")
	sec, err := strconv.ParseInt(ts, 10, 64)
	return ok && err == nil && now.Sub(time.Unix(sec, 0)) > time.Hour
}
