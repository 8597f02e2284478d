package gitsnap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Root implements Worktree.
func (r *goGitRepo) Root() string { return r.root }

// Head implements Worktree. It reads the per-worktree HEAD file itself, so
// that linked worktrees see their own HEAD, and resolves a symbolic HEAD
// through the loose and packed refs of the common dir.
func (r *goGitRepo) Head(ctx context.Context) (Head, error) {
	if err := ctx.Err(); err != nil {
		return Head{}, err
	}
	return r.wtReadHead()
}

// wtReadHead reads gitDir/HEAD: "ref: refs/heads/x" or a detached hash.
// An unborn branch gives a zero Commit with Branch set. It only needs
// gitDir and commonDir, so it also reads submodules' HEADs.
func (r *goGitRepo) wtReadHead() (Head, error) {
	name := filepath.Join(r.gitDir, "HEAD")
	data, err := os.ReadFile(name)
	if err != nil {
		return Head{}, fmt.Errorf("read HEAD: %w", err)
	}
	s := strings.TrimSpace(string(data))
	if target, ok := strings.CutPrefix(s, "ref:"); ok {
		branch := strings.TrimSpace(target)
		if err := CheckRefName(branch); err != nil {
			return Head{}, fmt.Errorf("read HEAD %s: %w", name, err)
		}
		h, err := r.resolveRef(branch, nil)
		if errors.Is(err, ErrRefNotFound) {
			return Head{Branch: branch}, nil
		}
		if err != nil {
			return Head{}, fmt.Errorf("resolve HEAD: %w", err)
		}
		return Head{Commit: h, Branch: branch}, nil
	}
	h, err := ParseHash(s)
	if err != nil {
		return Head{}, fmt.Errorf("read HEAD %s: %w", name, err)
	}
	return Head{Commit: h}, nil
}

// wtSubmoduleHead returns the commit checked out in the repository nested at
// dir (its .git is a directory or a "gitdir:" file). ok is false when dir
// holds no repository or its HEAD has no commit yet.
func wtSubmoduleHead(dir string) (h Hash, ok bool) {
	gitPath := filepath.Join(dir, ".git")
	fi, err := os.Lstat(gitPath)
	if err != nil {
		return ZeroHash, false
	}
	gitDir := gitPath
	switch {
	case fi.IsDir():
	case fi.Mode().IsRegular():
		data, err := os.ReadFile(gitPath)
		if err != nil {
			return ZeroHash, false
		}
		target, found := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
		if !found {
			return ZeroHash, false
		}
		gitDir = strings.TrimSpace(target)
		if !filepath.IsAbs(gitDir) {
			gitDir = filepath.Join(dir, gitDir)
		}
	default:
		return ZeroHash, false
	}
	sub := &goGitRepo{gitDir: gitDir, commonDir: commonDirOf(gitDir)}
	head, err := sub.wtReadHead()
	if err != nil || head.Commit.IsZero() {
		return ZeroHash, false
	}
	return head.Commit, true
}

// wtHasGitEntry reports whether dir contains a ".git" file or directory,
// which makes it a nested repository.
func wtHasGitEntry(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, ".git"))
	return err == nil
}
