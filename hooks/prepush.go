package hooks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/git-snap/git-snap/gitsnap"
)

// Requirements of [hooks.pre_push] require.
const (
	RequireValidated = "validated"  // a snapshot of the commit passed validation
	RequireKnownGood = "known-good" // ... and carries the known-good tag
	RequireOff       = "off"        // no check
)

// RefUpdate is one line git writes to a pre-push hook's stdin:
// "<local ref> <local oid> <remote ref> <remote oid>".
type RefUpdate struct {
	LocalRef  string
	LocalOID  gitsnap.Hash
	RemoteRef string
	RemoteOID gitsnap.Hash
}

// Deletion reports whether the update deletes the remote ref.
func (u RefUpdate) Deletion() bool { return u.LocalOID.IsZero() }

// ParseRefUpdates reads git's pre-push stdin.
func ParseRefUpdates(r io.Reader) ([]RefUpdate, error) {
	var out []RefUpdate
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("%w: pre-push input line %q: want <local ref> <local oid> <remote ref> <remote oid>", gitsnap.ErrUsage, sc.Text())
		}
		lo, err1 := gitsnap.ParseHash(f[1])
		ro, err2 := gitsnap.ParseHash(f[3])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: pre-push input line %q: bad object name", gitsnap.ErrUsage, sc.Text())
		}
		out = append(out, RefUpdate{LocalRef: f[0], LocalOID: lo, RemoteRef: f[2], RemoteOID: ro})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read pre-push input: %w", err)
	}
	return out, nil
}

// Policy is [hooks.pre_push] with defaults applied.
type Policy struct {
	Require       string   // RequireValidated (default), RequireKnownGood or RequireOff
	Branches      []string // globs on branch names ("main", "release/*"); empty: every branch
	PushSnapshots bool     // push the matching snapshots to the snapshot remote once allowed
}

// PolicyFrom applies the defaults to the configuration.
func PolicyFrom(c gitsnap.PrePushConfig) Policy {
	p := Policy{Require: c.Require, Branches: c.Branches, PushSnapshots: c.PushSnapshots}
	if p.Require == "" {
		p.Require = RequireValidated
	}
	return p
}

// covers reports whether the policy checks a remote ref: branches matching
// the globs, and every tag. Other refs (notes, snapshots) pass.
func (p Policy) covers(remoteRef string) bool {
	if strings.HasPrefix(remoteRef, "refs/tags/") {
		return true
	}
	branch, ok := strings.CutPrefix(remoteRef, "refs/heads/")
	if !ok {
		return false
	}
	if len(p.Branches) == 0 {
		return true
	}
	for _, g := range p.Branches {
		if ok, _ := doublestar.Match(strings.TrimPrefix(g, "refs/heads/"), branch); ok {
			return true
		}
	}
	return false
}

// Verdict is the decision for one pushed ref.
type Verdict struct {
	Update   RefUpdate
	Commit   gitsnap.Hash          // the commit checked (a tag is peeled)
	Checked  bool                  // false: the policy does not cover it (deletion, other branch)
	Allowed  bool                  //
	Snapshot *gitsnap.SnapshotInfo // the snapshot that allowed it
	Reason   string                // why it was refused
}

// Result is the decision for a whole push.
type Result struct {
	Policy   Policy
	Verdicts []Verdict
}

// Refused returns the refused refs.
func (r *Result) Refused() []Verdict {
	var out []Verdict
	for _, v := range r.Verdicts {
		if !v.Allowed {
			out = append(out, v)
		}
	}
	return out
}

// SnapshotIDs lists the snapshots that allowed the push, for push_snapshots.
func (r *Result) SnapshotIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range r.Verdicts {
		if v.Snapshot != nil && !seen[v.Snapshot.ID] {
			seen[v.Snapshot.ID] = true
			out = append(out, v.Snapshot.ID)
		}
	}
	return out
}

// PrePush decides a push: each covered ref's commit needs a snapshot that
// passed validation (RequireKnownGood: and is tagged known-good) and was
// taken of exactly that commit (a snapshot with uncommitted changes
// validated something else). Deletions and uncovered refs pass.
func PrePush(ctx context.Context, snap *gitsnap.Snap, p Policy, updates []RefUpdate) (*Result, error) {
	res := &Result{Policy: p}
	if p.Require == RequireOff && !p.PushSnapshots {
		for _, u := range updates {
			res.Verdicts = append(res.Verdicts, Verdict{Update: u, Allowed: true})
		}
		return res, nil
	}
	var commits []gitsnap.Hash
	for _, u := range updates {
		v := Verdict{Update: u, Allowed: true}
		if !u.Deletion() && p.covers(u.RemoteRef) {
			c, ok, err := peelToCommit(ctx, snap.Repo(), u.LocalOID)
			if err != nil {
				return nil, err
			}
			v.Commit, v.Checked = c, ok
			if ok {
				commits = append(commits, c)
			}
		}
		res.Verdicts = append(res.Verdicts, v)
	}
	if len(commits) == 0 {
		return res, nil
	}
	found, err := snap.SnapshotsOf(ctx, commits)
	if err != nil {
		return nil, fmt.Errorf("find snapshots of the pushed commits: %w", err)
	}
	for i := range res.Verdicts {
		v := &res.Verdicts[i]
		if !v.Checked {
			continue
		}
		v.Snapshot, v.Reason = pick(found[v.Commit], p.Require)
		v.Allowed = v.Snapshot != nil || p.Require == RequireOff
	}
	return res, nil
}

// pick returns the newest snapshot meeting the requirement, or why none does.
func pick(snaps []*gitsnap.SnapshotInfo, require string) (*gitsnap.SnapshotInfo, string) {
	if len(snaps) == 0 {
		return nil, "has no snapshot"
	}
	for _, s := range snaps {
		if s.Status == gitsnap.StatusPassed && !s.Manifest.Dirty && (require != RequireKnownGood || s.KnownGood()) {
			return s, ""
		}
	}
	s := snaps[0]
	switch {
	case s.Status != gitsnap.StatusPassed:
		return nil, fmt.Sprintf("has no validated snapshot (%s is %s)", s.ID, statusWord(s.Status))
	case s.Manifest.Dirty:
		return nil, fmt.Sprintf("has no validated snapshot of exactly this commit (%s was taken with uncommitted changes)", s.ID)
	}
	return nil, fmt.Sprintf("has no known-good snapshot (%s passed validation but is not tagged known-good)", s.ID)
}

func statusWord(s string) string {
	if s == gitsnap.StatusUnknown {
		return "unvalidated"
	}
	return "validation " + s
}

// peelToCommit returns the commit an object names: itself, or what an
// annotated tag points at. ok is false for tags of trees or blobs.
func peelToCommit(ctx context.Context, repo gitsnap.Repo, h gitsnap.Hash) (gitsnap.Hash, bool, error) {
	if _, err := repo.ReadCommit(ctx, h); err == nil {
		return h, true, nil
	}
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--verify", "--quiet", h.String()+"^{commit}")
	cmd.Dir = repo.Root()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return gitsnap.ZeroHash, false, ctx.Err()
		}
		return gitsnap.ZeroHash, false, nil // not a commit-ish: nothing to check
	}
	c, err := gitsnap.ParseHash(strings.TrimSpace(out.String()))
	return c, err == nil, err
}

// RefusedError is returned when the push is refused; it names every refused ref.
type RefusedError struct {
	Require string
	Refused []Verdict
	Head    gitsnap.Hash // HEAD, to word the hint
}

func (e *RefusedError) Error() string {
	if len(e.Refused) == 1 {
		v := e.Refused[0]
		return fmt.Sprintf("push refused: commit %s (%s) %s", short(v.Commit), shortRef(v.Update.RemoteRef), v.Reason)
	}
	var parts []string
	for _, v := range e.Refused {
		parts = append(parts, fmt.Sprintf("%s (%s)", shortRef(v.Update.RemoteRef), short(v.Commit)))
	}
	return fmt.Sprintf("push refused: %d refs have no %s snapshot: %s", len(e.Refused), e.Require, strings.Join(parts, ", "))
}

// Hint names the command that fixes it and the escape hatch.
func (e *RefusedError) Hint() string {
	fix := "run git snap create (it validates and snapshots HEAD), then push again"
	for _, v := range e.Refused {
		if v.Commit != e.Head {
			fix = fmt.Sprintf("check out %s, run git snap create, then push again", short(v.Commit))
			break
		}
		if strings.Contains(v.Reason, "uncommitted") {
			fix = "commit or stash the changes git status shows, run git snap create, then push again"
		}
	}
	if e.Require == RequireKnownGood {
		fix += " (the snapshot must be tagged known-good)"
	}
	return fix + "; git push --no-verify skips this check"
}

func short(h gitsnap.Hash) string { return h.String()[:12] }

func shortRef(r string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if s, ok := strings.CutPrefix(r, p); ok {
			return s
		}
	}
	return r
}

// Check applies the repository's [hooks.pre_push] policy to a push. A
// refusal is a *RefusedError carrying its hint.
func Check(ctx context.Context, snap *gitsnap.Snap, updates []RefUpdate) (*Result, error) {
	p := PolicyFrom(snap.Config().Hooks.PrePush)
	res, err := PrePush(ctx, snap, p, updates)
	if err != nil {
		return nil, err
	}
	refused := res.Refused()
	if len(refused) == 0 {
		return res, nil
	}
	head, _ := snap.Repo().Head(ctx)
	re := &RefusedError{Require: p.Require, Refused: refused, Head: head.Commit}
	return res, gitsnap.WithHint(re, "%s", re.Hint())
}

// PushSnapshots sends the snapshots that allowed a push to the snapshot
// remote ([hooks.pre_push] push_snapshots). warn receives the secret
// warning, if any.
func PushSnapshots(ctx context.Context, snap *gitsnap.Snap, res *Result, warn func(string)) (*gitsnap.PushResult, error) {
	ids := res.SnapshotIDs()
	if len(ids) == 0 {
		return nil, nil
	}
	return snap.Push(ctx, gitsnap.PushOptions{Snapshots: ids, Warn: warn, Progress: gitsnap.NoProgress{}})
}
