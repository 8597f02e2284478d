package paths

import (
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/git-snap/git-snap/gitsnap"
)

// Matcher decides which slash-separated paths, relative to the worktree
// root, a set of patterns covers. The zero value matches nothing.
type Matcher struct {
	patterns []pattern
}

// pattern is one validated glob and what the walker needs to prune.
type pattern struct {
	glob string
	// segs are the glob's "/"-separated segments, or nil when a brace
	// alternative spans segments ("{a,b/c}/*"); prune then falls back to
	// base, the literal directory before the first meta character.
	segs []string
	base string
}

// NewMatcher validates and normalises patterns: a leading "./" and a
// trailing "/" are dropped, empty patterns are ignored, and absolute
// patterns, ".." elements and bad syntax are rejected with an error
// wrapping gitsnap.ErrConfig. Duplicates are kept once.
func NewMatcher(patterns []string) (*Matcher, error) {
	m := &Matcher{}
	seen := map[string]bool{}
	for _, raw := range patterns {
		g := strings.TrimSpace(raw)
		for strings.HasPrefix(g, "./") {
			g = strings.TrimPrefix(g, "./")
		}
		g = strings.TrimRight(g, "/")
		if g == "" {
			continue
		}
		if strings.HasPrefix(raw, "/") || strings.Contains(g, "\x00") {
			return nil, fmt.Errorf("%w: pattern %q must be relative to the repository root", gitsnap.ErrConfig, raw)
		}
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("%w: pattern %q: bad glob syntax", gitsnap.ErrConfig, raw)
		}
		for _, el := range strings.Split(g, "/") {
			if el == ".." || el == "." {
				return nil, fmt.Errorf("%w: pattern %q must not contain %q", gitsnap.ErrConfig, raw, el)
			}
		}
		if seen[g] {
			continue
		}
		seen[g] = true
		m.patterns = append(m.patterns, newPattern(g))
	}
	return m, nil
}

func newPattern(g string) pattern {
	p := pattern{glob: g}
	if i := strings.IndexByte(g, '{'); i >= 0 && strings.Contains(g[i:], "/") {
		base, _ := doublestar.SplitPattern(g[:i] + "*")
		p.base = base
		return p
	}
	p.segs = strings.Split(g, "/")
	return p
}

// Patterns returns the normalised patterns.
func (m *Matcher) Patterns() []string {
	out := make([]string, len(m.patterns))
	for i, p := range m.patterns {
		out[i] = p.glob
	}
	return out
}

// Empty reports whether the matcher has no patterns.
func (m *Matcher) Empty() bool { return len(m.patterns) == 0 }

// Match reports whether rel, or one of its parent directories, matches a
// pattern. Paths with a ".git" element never match.
func (m *Matcher) Match(rel string) bool {
	if rel == "" || rel == "." || hasGitElement(rel) {
		return false
	}
	for p := rel; p != "." && p != ""; p = path.Dir(p) {
		if m.matchSelf(p) {
			return true
		}
	}
	return false
}

// matchSelf reports whether rel itself matches a pattern.
func (m *Matcher) matchSelf(rel string) bool {
	for _, p := range m.patterns {
		if doublestar.MatchUnvalidated(p.glob, rel) {
			return true
		}
	}
	return false
}

// CouldContain reports whether a file below directory dir ("" or "." for
// the root) could match a pattern. The walker skips directories for which
// it is false. It may answer true too often, never too rarely.
func (m *Matcher) CouldContain(dir string) bool {
	if dir == "" || dir == "." {
		return len(m.patterns) > 0
	}
	if hasGitElement(dir) {
		return false
	}
	if m.Match(dir) {
		return true
	}
	dsegs := strings.Split(dir, "/")
	for _, p := range m.patterns {
		if p.couldContain(dir, dsegs) {
			return true
		}
	}
	return false
}

func (p pattern) couldContain(dir string, dsegs []string) bool {
	if p.segs == nil {
		if p.base == "." {
			return true
		}
		return p.base == dir || strings.HasPrefix(p.base, dir+"/") || strings.HasPrefix(dir, p.base+"/")
	}
	for i, d := range dsegs {
		if i >= len(p.segs) {
			return false
		}
		if p.segs[i] == "**" {
			return true
		}
		if !doublestar.MatchUnvalidated(p.segs[i], d) {
			return false
		}
	}
	return len(dsegs) < len(p.segs)
}

func hasGitElement(rel string) bool {
	for _, el := range strings.Split(rel, "/") {
		if strings.EqualFold(el, ".git") {
			return true
		}
	}
	return false
}
