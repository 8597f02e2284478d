package code

import (
	"context"
	"fmt"

	"github.com/git-snap/git-snap/gitsnap"
)

// Plan paths: the code scope reports at most two changes.
const (
	PlanPathHead     = "HEAD" // HEAD moves to the snapshot's commit
	PlanPathWorktree = "."    // the worktree content changes
)

// Plan implements gitsnap.Scope. It compares HEAD with the captured commit
// and hashes the live worktree (nothing is written) to tell whether its
// content differs from the captured tree.
func (s *Scope) Plan(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (*gitsnap.ScopePlan, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("plan code: %w", err)
	}
	cs, err := snapshotCode(r)
	if err != nil {
		return nil, fmt.Errorf("plan code: %w", err)
	}
	wt, err := worktree(env)
	if err != nil {
		return nil, fmt.Errorf("plan code: %w", err)
	}
	head, err := wt.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan code: read HEAD: %w", err)
	}
	p := &gitsnap.ScopePlan{Scope: Name, Changes: []gitsnap.Change{}}
	if !cs.Commit.IsZero() && cs.Commit != head.Commit {
		p.Changes = append(p.Changes, gitsnap.Change{
			Op: gitsnap.OpModify, Path: PlanPathHead,
			Detail: fmt.Sprintf("HEAD %s → %s", short(head.Commit), short(cs.Commit)),
		})
		if head.Branch != "" {
			p.Warnings = append(p.Warnings, fmt.Sprintf("HEAD will be detached from %s at %s", head.Branch, short(cs.Commit)))
		}
	}
	live, err := wt.CaptureWorktree(ctx, hashWriter{})
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("plan code: %w", ctx.Err())
	case err != nil:
		p.Warnings = append(p.Warnings, fmt.Sprintf("could not compare the worktree: %v", err))
		p.Changes = append(p.Changes, gitsnap.Change{
			Op: gitsnap.OpModify, Path: PlanPathWorktree,
			Detail: fmt.Sprintf("worktree will match the snapshot tree %s", short(cs.Tree)),
		})
	case live != cs.Tree:
		p.Changes = append(p.Changes, gitsnap.Change{
			Op: gitsnap.OpModify, Path: PlanPathWorktree,
			Detail: fmt.Sprintf("worktree %s → %s", short(live), short(cs.Tree)),
		})
	}
	if cs.Dirty {
		p.Warnings = append(p.Warnings, "the snapshot's worktree had uncommitted changes; they come back as uncommitted changes")
	}
	p.Sort()
	return p, nil
}

// short abbreviates a hash the way git log --oneline does.
func short(h gitsnap.Hash) string {
	if h.IsZero() {
		return "(none)"
	}
	return h.String()[:7]
}
