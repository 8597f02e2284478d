package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// RestoreWorktree implements Worktree. Steps: read the wanted tree, scan
// the worktree as CaptureWorktree does (hashes only), plan, check the plan
// against the disk (nothing ignored may be in the way, no write may go
// through a symlink), apply it, then reset the index to opts.Commit and
// move HEAD. index.lock is held throughout, as "git checkout" does, so git
// commands cannot change the index meanwhile.
//
// An untracked file is removed only if it is not ignored by the current
// ignore rules nor by the wanted tree's .gitignore files, so restoring from
// a worktree whose .gitignore was damaged cannot delete node_modules or
// .env. A file the tree has replaces an ignored file at the same path, as
// in git.
func (r *goGitRepo) RestoreWorktree(ctx context.Context, opts WorktreeRestore) error {
	if r.root == "" {
		return fmt.Errorf("restore worktree: bare repository has no worktree")
	}
	if opts.Tree.IsZero() {
		return fmt.Errorf("restore worktree: no tree given")
	}
	branch, err := wtBranchRef(opts)
	if err != nil {
		return fmt.Errorf("restore worktree: %w", err)
	}
	var lock *lockFile
	if !opts.Commit.IsZero() {
		if lock, err = acquireLock(filepath.Join(r.gitDir, "index")); err != nil {
			return WithHint(fmt.Errorf("restore worktree: %w", err),
				"another git process seems to be running; if not, remove %s", filepath.Join(r.gitDir, "index.lock"))
		}
		defer lock.rollback()
	}
	target, err := r.wtFlatten(ctx, opts.Tree)
	if err != nil {
		return fmt.Errorf("restore worktree: %w", err)
	}
	var commitEntries []wtEntry
	if !opts.Commit.IsZero() {
		c, err := r.ReadCommit(ctx, opts.Commit)
		if err != nil {
			return fmt.Errorf("restore worktree: %w", err)
		}
		if commitEntries, err = r.wtFlatten(ctx, c.Tree); err != nil {
			return fmt.Errorf("restore worktree: %w", err)
		}
	}
	scan, err := r.wtScan(ctx, wtHashWriter{})
	if err != nil {
		return fmt.Errorf("restore worktree: scan: %w", err)
	}
	plan, err := r.wtPlan(ctx, scan, target)
	if err != nil {
		return fmt.Errorf("restore worktree: %w", err)
	}
	stats, err := r.wtApply(ctx, plan)
	if err != nil {
		return fmt.Errorf("restore worktree: %w", err)
	}
	if opts.Commit.IsZero() {
		return nil
	}
	for p, fi := range scan.stats {
		if _, done := stats[p]; !done {
			stats[p] = fi
		}
	}
	data, err := wtEncodeIndex(r.wtResetEntries(commitEntries, plan.target, stats))
	if err != nil {
		return fmt.Errorf("restore worktree: %w", err)
	}
	if err := lock.commit(data); err != nil {
		return fmt.Errorf("restore worktree: write index: %w", err)
	}
	if opts.MoveHead {
		if err := r.wtMoveHead(ctx, opts.Commit, branch); err != nil {
			return fmt.Errorf("restore worktree: %w", err)
		}
	}
	return nil
}

// wtBranchRef validates opts.Branch ("main" or "refs/heads/main").
func wtBranchRef(opts WorktreeRestore) (string, error) {
	if !opts.MoveHead || opts.Branch == "" {
		return "", nil
	}
	b := opts.Branch
	if !strings.HasPrefix(b, "refs/") {
		b = "refs/heads/" + b
	}
	if !strings.HasPrefix(b, "refs/heads/") {
		return "", fmt.Errorf("%w: HEAD can only point at a branch under refs/heads/, not %q", ErrUsage, opts.Branch)
	}
	if err := CheckRefName(b); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return b, nil
}

// wtRestorePlan is what RestoreWorktree changes, all paths slash-separated.
type wtRestorePlan struct {
	target  map[string]wtEntry
	remove  []string  // files and symlinks to delete
	write   []wtEntry // files and symlinks to (re)write
	chmod   []wtEntry // same content, other executable bit
	mkdir   []string  // gitlink directories to create (empty)
	keepDir map[string]bool
}

// wtPlan diffs the scanned worktree against the wanted entries.
func (r *goGitRepo) wtPlan(ctx context.Context, scan *wtScanResult, target []wtEntry) (*wtRestorePlan, error) {
	p := &wtRestorePlan{target: map[string]wtEntry{}, keepDir: map[string]bool{}}
	for _, e := range target {
		p.target[e.Path] = e
		for _, d := range wtParents(e.Path) {
			p.keepDir[d] = true
		}
	}
	cur := map[string]wtEntry{}
	for _, e := range scan.entries {
		cur[e.Path] = e
	}
	treeIgnore, err := r.wtTreeIgnore(ctx, p.target)
	if err != nil {
		return nil, err
	}
	removing := map[string]bool{}
	for _, c := range scan.entries {
		if c.Mode == ModeSubmodule {
			continue // submodule checkouts are left alone
		}
		if t, ok := p.target[c.Path]; ok && t.Mode != ModeSubmodule {
			continue
		}
		// An untracked file the wanted tree's rules ignore is not ours to
		// delete; a tracked one goes, as in "git checkout".
		if !p.keepDir[c.Path] && p.target[c.Path].Mode != ModeSubmodule && !scan.index.tracked(c.Path) {
			ignored, err := treeIgnore(c.Path)
			if err != nil {
				return nil, err
			}
			if ignored {
				continue
			}
		}
		p.remove = append(p.remove, c.Path)
		removing[c.Path] = true
	}
	for _, t := range target {
		for _, d := range wtParents(t.Path) {
			if cur[d].Mode == ModeSubmodule {
				return nil, fmt.Errorf("%s: the tree wants a directory where submodule %s is checked out", t.Path, d)
			}
		}
		c, ok := cur[t.Path]
		switch {
		case t.Mode == ModeSubmodule:
			if !ok || c.Mode != ModeSubmodule {
				p.mkdir = append(p.mkdir, t.Path)
			}
			continue
		case ok && c.Mode == ModeSubmodule:
			return nil, fmt.Errorf("%s: the tree wants a file where a submodule is checked out", t.Path)
		case ok && c.Hash == t.Hash && c.Mode == t.Mode:
			continue
		case ok && c.Hash == t.Hash && c.Mode != ModeSymlink && t.Mode != ModeSymlink:
			p.chmod = append(p.chmod, t)
		default:
			p.write = append(p.write, t)
		}
		if err := r.wtCheckWay(t.Path, removing); err != nil {
			return nil, err
		}
	}
	for _, d := range p.mkdir {
		if err := r.wtCheckWay(d, removing); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// wtCheckWay refuses a write to rel that would go through a symlink, or
// that needs to replace an ignored file or a directory holding files
// restore does not own. removing lists the paths restore deletes first.
func (r *goGitRepo) wtCheckWay(rel string, removing map[string]bool) error {
	for _, d := range wtReverse(wtParents(rel)) {
		fi, err := os.Lstat(filepath.Join(r.root, filepath.FromSlash(d)))
		if os.IsNotExist(err) || (err == nil && removing[d]) {
			return nil // created (or re-created) by the restore
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", d, err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%w: %q goes through symlink %s", ErrUnsafePath, rel, d)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s: ignored file %s is in the way", rel, d)
		}
	}
	abs := filepath.Join(r.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(abs)
	if err != nil || !fi.IsDir() {
		return nil // absent, or a file or symlink that the rename replaces
	}
	return filepath.WalkDir(abs, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("check %s: %w", rel, err)
		}
		if de.IsDir() {
			return nil
		}
		relp, _ := filepath.Rel(r.root, p)
		if !removing[filepath.ToSlash(relp)] {
			return fmt.Errorf("%s: directory is in the way and holds %s, which is ignored or not ours to delete", rel, filepath.ToSlash(relp))
		}
		return nil
	})
}

// wtTreeIgnore returns a matcher for the ignore rules the wanted tree
// brings (its .gitignore files plus the repository-wide excludes).
func (r *goGitRepo) wtTreeIgnore(ctx context.Context, target map[string]wtEntry) (func(p string) (bool, error), error) {
	ig, err := r.wtLoadIgnore()
	if err != nil {
		return nil, err
	}
	cache := map[string][]wtPattern{}
	load := func(dir string) ([]wtPattern, error) {
		if ps, ok := cache[dir]; ok {
			return ps, nil
		}
		e, ok := target[path.Join(dir, ".gitignore")]
		var ps []wtPattern
		if ok && e.Mode != ModeSymlink && e.Mode != ModeSubmodule {
			data, err := r.wtReadBlob(ctx, e.Hash, 1<<20)
			if err != nil {
				return nil, fmt.Errorf("read %s/.gitignore from tree: %w", dir, err)
			}
			ps = wtParsePatterns(data, dir)
		}
		cache[dir] = ps
		return ps, nil
	}
	return func(p string) (bool, error) { return ig.pathIgnored(p, false, load) }, nil
}

// wtReadBlob reads a small blob whole; blobs over limit are an error.
func (r *goGitRepo) wtReadBlob(ctx context.Context, h Hash, limit int64) ([]byte, error) {
	rc, size, err := r.OpenBlob(ctx, h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > limit {
		return nil, fmt.Errorf("blob %s is %d bytes, more than %d", h, size, limit)
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	return data, nil
}

// wtResetEntries builds the index for commit's entries ("git reset
// --mixed"). Entries whose worktree file is known to hold exactly the
// entry's content get its stat data, so git does not re-read them; the
// stat must not have changed since we learnt the content (a concurrent
// edit then just costs git a re-read).
func (r *goGitRepo) wtResetEntries(commit []wtEntry, target map[string]wtEntry, stats map[string]os.FileInfo) []*index.Entry {
	out := make([]*index.Entry, 0, len(commit))
	for _, e := range commit {
		ie := wtIndexEntry(e.Path, e.Mode, e.Hash)
		out = append(out, ie)
		t, ok := target[e.Path]
		if !ok || t.Hash != e.Hash || t.Mode != e.Mode || e.Mode == ModeSubmodule {
			continue
		}
		known := stats[e.Path]
		if known == nil {
			continue
		}
		now, err := os.Lstat(filepath.Join(r.root, filepath.FromSlash(e.Path)))
		if err == nil && wtSameStat(known, now) {
			wtFillStat(ie, now)
		}
	}
	return out
}

// wtMoveHead detaches HEAD at commit, or moves branch to commit and points
// HEAD at it. HEAD is written with git's lock protocol.
func (r *goGitRepo) wtMoveHead(ctx context.Context, commit Hash, branch string) error {
	content := commit.String() + "\n"
	if branch != "" {
		old, err := r.Ref(ctx, branch)
		if err != nil && !errors.Is(err, ErrRefNotFound) {
			return fmt.Errorf("move HEAD: %w", err)
		}
		if old != commit {
			if err := r.UpdateRef(ctx, branch, old, commit); err != nil {
				return fmt.Errorf("move HEAD: %w", err)
			}
		}
		content = "ref: " + branch + "\n"
	}
	lock, err := acquireLock(filepath.Join(r.gitDir, "HEAD"))
	if err != nil {
		return fmt.Errorf("move HEAD: %w", err)
	}
	defer lock.rollback()
	if err := lock.commit([]byte(content)); err != nil {
		return fmt.Errorf("move HEAD: %w", err)
	}
	return nil
}

func wtReverse(s []string) []string {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}
