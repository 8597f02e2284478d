package gitsnap

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/gcfg"
)

// envFunc looks up an environment variable (os.LookupEnv in production; a
// map in tests, so they need no process-wide state).
type envFunc func(key string) (string, bool)

// configEntry is one "section.subsection.key = value" line. Section and key
// are lower-cased (git treats them case-insensitively); the subsection keeps
// its case.
type configEntry struct {
	section, subsection, key, value string
	implicit                        bool // "key" with no "=": boolean true
}

// maxIncludeDepth bounds include.path recursion, like git's MAX_INCLUDE_DEPTH.
const maxIncludeDepth = 10

// ConfigValue returns the last value of key across git's configuration
// files, read in git's order so that the last one wins
// (https://git-scm.com/docs/git-config#FILES):
//  1. system: $GIT_CONFIG_SYSTEM or /etc/gitconfig, skipped with GIT_CONFIG_NOSYSTEM;
//  2. global: $GIT_CONFIG_GLOBAL, else $XDG_CONFIG_HOME/git/config
//     (~/.config/git/config) then ~/.gitconfig;
//  3. repository: <common dir>/config;
//  4. worktree: <git dir>/config.worktree when extensions.worktreeConfig is on;
//  5. GIT_CONFIG_COUNT/GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n>, then
//     GIT_CONFIG_PARAMETERS (what `git -c k=v snap` passes down).
//
// include.path is followed, and includeIf with gitdir:, gitdir/i: and
// onbranch: conditions (repo_gogit_include.go). Unreadable or
// malformed files are skipped, so a broken global config never hides the
// repository's own values.
func (r *goGitRepo) ConfigValue(key string) (string, bool) {
	section, subsection, name, ok := splitConfigKey(key)
	if !ok {
		return "", false
	}
	var value string
	var found bool
	for _, e := range r.loadConfig() {
		if e.section == section && e.subsection == subsection && e.key == name {
			value, found = e.value, true
		}
	}
	return value, found
}

// loadConfig reads every configuration source in precedence order.
func (r *goGitRepo) loadConfig() []configEntry {
	var entries []configEntry
	cc := &configContext{env: r.env, gitDir: r.gitDir}
	for _, path := range configFiles(r.env) {
		entries, _ = readConfigFile(path, entries, cc, 0)
	}
	entries, _ = readConfigFile(filepath.Join(r.commonDir, "config"), entries, cc, 0)
	if worktreeConfigEnabled(entries) {
		entries, _ = readConfigFile(filepath.Join(r.gitDir, "config.worktree"), entries, cc, 0)
	}
	return append(entries, envConfig(r.env)...)
}

// configFiles lists the system and global files in read order.
func configFiles(env envFunc) []string {
	var files []string
	if v, _ := env("GIT_CONFIG_NOSYSTEM"); !isTrue(v) {
		if p, ok := env("GIT_CONFIG_SYSTEM"); ok {
			files = append(files, p)
		} else {
			files = append(files, "/etc/gitconfig")
		}
	}
	if p, ok := env("GIT_CONFIG_GLOBAL"); ok {
		return append(files, p)
	}
	home, _ := env("HOME")
	if xdg, ok := env("XDG_CONFIG_HOME"); ok && xdg != "" {
		files = append(files, filepath.Join(xdg, "git", "config"))
	} else if home != "" {
		files = append(files, filepath.Join(home, ".config", "git", "config"))
	}
	if home != "" {
		files = append(files, filepath.Join(home, ".gitconfig"))
	}
	return files
}

func worktreeConfigEnabled(entries []configEntry) bool {
	on := false
	for _, e := range entries {
		if e.section == "extensions" && e.subsection == "" && e.key == "worktreeconfig" {
			on = e.implicit || isTrue(e.value)
		}
	}
	return on
}

// readConfigFile appends the entries of one file (and the files it
// includes) to entries. A missing file adds nothing.
func readConfigFile(path string, entries []configEntry, cc *configContext, depth int) ([]configEntry, error) {
	if path == "" || depth > maxIncludeDepth {
		return entries, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return entries, nil
	}
	if err != nil {
		return entries, fmt.Errorf("read config %s: %w", path, err)
	}
	var fileEntries []configEntry
	err = gcfg.ReadWithCallback(bytes.NewReader(data), func(s, ss, k, v string, blank bool) error {
		if k == "" {
			return nil // a section header alone
		}
		fileEntries = append(fileEntries, configEntry{
			section: strings.ToLower(s), subsection: ss, key: strings.ToLower(k), value: v,
			implicit: blank,
		})
		return nil
	})
	if err != nil {
		return entries, fmt.Errorf("parse config %s: %w", path, err)
	}
	for _, e := range fileEntries {
		entries = append(entries, e)
		if e.key != "path" {
			continue
		}
		if (e.section == "include" && e.subsection == "") ||
			(e.section == "includeif" && cc.conditionHolds(path, e.subsection)) {
			entries, _ = readConfigFile(includePath(path, e.value, cc.env), entries, cc, depth+1)
		}
	}
	return entries, nil
}

// includePath resolves an include.path value: "~/" is the home directory
// and a relative path is relative to the including file's directory.
func includePath(from, p string, env envFunc) string {
	if strings.HasPrefix(p, "~/") {
		home, _ := env("HOME")
		if home == "" {
			return ""
		}
		return filepath.Join(home, p[2:])
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(from), p)
}

// envConfig reads GIT_CONFIG_COUNT/KEY_n/VALUE_n, then GIT_CONFIG_PARAMETERS.
func envConfig(env envFunc) []configEntry {
	var entries []configEntry
	add := func(key, value string) {
		if s, ss, k, ok := splitConfigKey(key); ok {
			entries = append(entries, configEntry{section: s, subsection: ss, key: k, value: value})
		}
	}
	if c, ok := env("GIT_CONFIG_COUNT"); ok {
		n, _ := strconv.Atoi(c)
		for i := 0; i < n; i++ {
			k, _ := env("GIT_CONFIG_KEY_" + strconv.Itoa(i))
			v, _ := env("GIT_CONFIG_VALUE_" + strconv.Itoa(i))
			add(k, v)
		}
	}
	if p, ok := env("GIT_CONFIG_PARAMETERS"); ok {
		for _, kv := range parseConfigParameters(p) {
			add(kv[0], kv[1])
		}
	}
	return entries
}

// parseConfigParameters decodes GIT_CONFIG_PARAMETERS: space-separated
// shell-single-quoted items, either 'key'='value' (git >= 2.31) or
// 'key=value' (older).
func parseConfigParameters(s string) [][2]string {
	var out [][2]string
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return out
		}
		key, rest, ok := sqDequote(s)
		if !ok {
			return out
		}
		if strings.HasPrefix(rest, "=") {
			var val string
			val, rest, ok = sqDequote(rest[1:])
			if !ok {
				return out
			}
			out = append(out, [2]string{key, val})
		} else {
			k, v, _ := strings.Cut(key, "=")
			out = append(out, [2]string{k, v})
		}
		s = rest
	}
}

// sqDequote reads one shell-single-quoted word (a quote inside is written
// as the four characters quote, backslash, quote, quote) from the
// start of s and returns it and the rest.
func sqDequote(s string) (string, string, bool) {
	var b strings.Builder
	for strings.HasPrefix(s, "'") {
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", "", false
		}
		b.WriteString(s[1 : 1+end])
		s = s[end+2:]
		if strings.HasPrefix(s, `\'`) {
			b.WriteByte('\'')
			s = s[2:]
			continue
		}
		break
	}
	return b.String(), s, true
}

// splitConfigKey splits "section.sub.section.key" into its lower-cased
// section, its subsection (case kept) and its lower-cased key.
func splitConfigKey(key string) (section, subsection, name string, ok bool) {
	first := strings.IndexByte(key, '.')
	last := strings.LastIndexByte(key, '.')
	if first <= 0 || last == len(key)-1 {
		return "", "", "", false
	}
	section = strings.ToLower(key[:first])
	name = strings.ToLower(key[last+1:])
	if last > first {
		subsection = key[first+1 : last]
	}
	return section, subsection, name, true
}

// isTrue interprets a git boolean.
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
