package gitsnap

import (
	"os"
	"path/filepath"
	"strings"
)

// configContext is what evaluating config files needs besides the files:
// the environment and, for includeIf, the repository's git dir.
type configContext struct {
	env    envFunc
	gitDir string // "" outside a repository: no includeIf condition holds
}

// conditionHolds evaluates an includeIf condition (the subsection of
// [includeIf "<cond>"]) found in the config file from, following
// https://git-scm.com/docs/git-config#_conditional_includes. Supported:
// gitdir:, gitdir/i: and onbranch:; other conditions (hasconfig:) are false.
func (cc *configContext) conditionHolds(from, cond string) bool {
	if cc.gitDir == "" {
		return false
	}
	switch {
	case strings.HasPrefix(cond, "gitdir:"):
		return cc.gitDirMatches(from, strings.TrimPrefix(cond, "gitdir:"), false)
	case strings.HasPrefix(cond, "gitdir/i:"):
		return cc.gitDirMatches(from, strings.TrimPrefix(cond, "gitdir/i:"), true)
	case strings.HasPrefix(cond, "onbranch:"):
		branch, ok := headBranch(cc.gitDir)
		if !ok {
			return false
		}
		pattern := strings.TrimPrefix(cond, "onbranch:")
		if strings.HasSuffix(pattern, "/") {
			pattern += "**"
		}
		return wtWildmatch(pattern, branch)
	}
	return false
}

// gitDirMatches matches the git dir (and its real path) against a gitdir:
// pattern: "~/" is HOME, "./" is the including file's directory, a
// relative pattern gets "**/" in front, and a trailing "/" matches
// everything below.
func (cc *configContext) gitDirMatches(from, pattern string, fold bool) bool {
	switch {
	case strings.HasPrefix(pattern, "~/"):
		home, _ := cc.env("HOME")
		if home == "" {
			return false
		}
		pattern = filepath.ToSlash(home) + pattern[1:]
	case strings.HasPrefix(pattern, "./"):
		pattern = filepath.ToSlash(filepath.Dir(from)) + pattern[1:]
	case !strings.HasPrefix(pattern, "/"):
		pattern = "**/" + pattern
	}
	if strings.HasSuffix(pattern, "/") {
		pattern += "**"
	}
	candidates := []string{cc.gitDir}
	if resolved, err := filepath.EvalSymlinks(cc.gitDir); err == nil && resolved != cc.gitDir {
		candidates = append(candidates, resolved)
	}
	for _, c := range candidates {
		text := filepath.ToSlash(c)
		if fold {
			if wtWildmatch(strings.ToLower(pattern), strings.ToLower(text)) {
				return true
			}
		} else if wtWildmatch(pattern, text) {
			return true
		}
	}
	return false
}

// headBranch returns the short name of the branch HEAD points at.
func headBranch(gitDir string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return "", false
	}
	target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "ref:")
	if !ok {
		return "", false
	}
	return strings.CutPrefix(strings.TrimSpace(target), "refs/heads/")
}
