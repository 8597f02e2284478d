package gitsnap

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// wtPattern is one ignore pattern, parsed as described in
// https://git-scm.com/docs/gitignore#_pattern_format.
type wtPattern struct {
	glob     string // without the leading '!', leading '/' and trailing '/'
	base     string // directory of the .gitignore ("" for the root and global files)
	negate   bool   // "!pattern" re-includes
	dirOnly  bool   // "pattern/" matches directories only
	basename bool   // no '/' in the pattern: match the last path element at any depth
}

// matches reports whether rel (relative to the worktree root) matches p.
func (p *wtPattern) matches(rel string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	if p.base != "" {
		if !strings.HasPrefix(rel, p.base+"/") {
			return false
		}
		rel = rel[len(p.base)+1:]
	}
	if p.basename {
		return wtWildmatch(p.glob, path.Base(rel))
	}
	return wtWildmatch(p.glob, rel)
}

// wtIgnore holds the ignore patterns that apply to one directory during a
// walk. Priority, highest first (as git's dir.c): the .gitignore of the
// deepest directory, its parents' up to the root, $GIT_COMMON_DIR/info/exclude,
// then core.excludesFile. Within one file the last matching line wins.
type wtIgnore struct {
	global []wtPattern   // core.excludesFile then info/exclude
	levels [][]wtPattern // one entry per directory on the walk's stack
}

// ignored reports whether rel is ignored by the patterns on the stack. It
// does not look at parent directories: callers stop descending into an
// ignored directory, as git does.
func (ig *wtIgnore) ignored(rel string, isDir bool) bool {
	for l := len(ig.levels) - 1; l >= 0; l-- {
		if res, ok := wtLastMatch(ig.levels[l], rel, isDir); ok {
			return res
		}
	}
	res, _ := wtLastMatch(ig.global, rel, isDir)
	return res
}

func wtLastMatch(ps []wtPattern, rel string, isDir bool) (ignored, matched bool) {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].matches(rel, isDir) {
			return !ps[i].negate, true
		}
	}
	return false, false
}

// push puts the patterns of dir ("" for the root) onto the stack.
func (ig *wtIgnore) push(load wtPatternLoader, dir string) error {
	ps, err := load(dir)
	if err != nil {
		return err
	}
	ig.levels = append(ig.levels, ps)
	return nil
}

func (ig *wtIgnore) pop() { ig.levels = ig.levels[:len(ig.levels)-1] }

// wtLoadIgnore reads the repository-wide exclude files.
func (r *goGitRepo) wtLoadIgnore() (*wtIgnore, error) {
	ig := &wtIgnore{}
	for _, f := range []string{r.wtExcludesFile(), filepath.Join(r.commonDir, "info", "exclude")} {
		if f == "" {
			continue
		}
		ps, err := wtReadPatternFile(f, "", true)
		if err != nil {
			return nil, err
		}
		ig.global = append(ig.global, ps...)
	}
	return ig, nil
}

// wtExcludesFile is core.excludesFile, or its default
// $XDG_CONFIG_HOME/git/ignore (~/.config/git/ignore), see git-config(1).
func (r *goGitRepo) wtExcludesFile() string {
	home, _ := r.wtGetenv("HOME")
	if v, ok := r.ConfigValue("core.excludesFile"); ok {
		if v == "" {
			return ""
		}
		if home != "" && (v == "~" || strings.HasPrefix(v, "~/")) {
			return filepath.Join(home, v[1:])
		}
		return v
	}
	if x, _ := r.wtGetenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "git", "ignore")
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "git", "ignore")
}

// wtGetenv reads the environment the repository was opened with.
func (r *goGitRepo) wtGetenv(key string) (string, bool) {
	if r.env == nil {
		return os.LookupEnv(key)
	}
	return r.env(key)
}

// wtReadPatternFile parses an ignore file. A missing file (or, without
// follow, a non-regular one) has no patterns: an in-tree .gitignore that is
// a symlink is not followed, as in git >= 2.32.
func wtReadPatternFile(name, base string, follow bool) ([]wtPattern, error) {
	if !follow {
		fi, err := os.Lstat(name)
		if err != nil {
			if os.IsNotExist(err) || wtIsNotDir(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("read ignore file %s: %w", name, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, nil
		}
	}
	data, err := os.ReadFile(name)
	if err != nil {
		if os.IsNotExist(err) || wtIsNotDir(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read ignore file %s: %w", name, err)
	}
	return wtParsePatterns(data, base), nil
}

// wtParsePatterns parses ignore file content; base is the directory the
// file applies to, relative to the root.
func wtParsePatterns(data []byte, base string) []wtPattern {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var ps []wtPattern
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		line = wtTrimTrailingSpaces(line)
		if line == "" || line[0] == '#' {
			continue
		}
		p := wtPattern{base: base}
		if line[0] == '!' {
			p.negate = true
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			p.dirOnly = true
			line = line[:len(line)-1]
		}
		if line == "" {
			continue
		}
		if !strings.Contains(line, "/") {
			p.basename = true
		}
		p.glob = strings.TrimPrefix(line, "/")
		ps = append(ps, p)
	}
	return ps
}

// wtTrimTrailingSpaces drops trailing spaces that are not quoted with a
// backslash.
func wtTrimTrailingSpaces(s string) string {
	end := len(s)
	for end > 0 && s[end-1] == ' ' {
		// Count the backslashes before this space.
		n := 0
		for i := end - 2; i >= 0 && s[i] == '\\'; i-- {
			n++
		}
		if n%2 == 1 {
			break
		}
		end--
	}
	return s[:end]
}

// IsIgnored implements Worktree: the same rules as CaptureWorktree, so a path
// below an ignored directory is ignored too. Unreadable ignore files count
// as empty.
func (r *goGitRepo) IsIgnored(p string, isDir bool) bool {
	p = strings.TrimSuffix(p, "/")
	if _, err := CleanRelPath(p); err != nil {
		return false
	}
	ig, err := r.wtLoadIgnore()
	if err != nil {
		return false
	}
	ignored, _ := ig.pathIgnored(p, isDir, r.wtDiskPatterns)
	return ignored
}

// wtPatternLoader returns the .gitignore patterns of a directory ("" for
// the root), from disk or from a tree.
type wtPatternLoader func(dir string) ([]wtPattern, error)

func (r *goGitRepo) wtDiskPatterns(dir string) ([]wtPattern, error) {
	return wtReadPatternFile(filepath.Join(r.root, filepath.FromSlash(dir), ".gitignore"), dir, false)
}

// pathIgnored checks one path from the root down: a path below an ignored
// directory is ignored. ig's directory stack must be empty.
func (ig *wtIgnore) pathIgnored(p string, isDir bool, load wtPatternLoader) (bool, error) {
	defer func() { ig.levels = ig.levels[:0] }()
	parts := strings.Split(p, "/")
	for i := 0; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/")
		if i > 0 && ig.ignored(dir, true) {
			return true, nil
		}
		ps, err := load(dir)
		if err != nil {
			return false, err
		}
		ig.levels = append(ig.levels, ps)
	}
	return ig.ignored(p, isDir), nil
}

// wtIsNotDir reports ENOTDIR-like errors: a parent of the path is a file.
func wtIsNotDir(err error) bool {
	return errors.Is(err, syscall.ENOTDIR)
}
