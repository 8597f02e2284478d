package gitsnap

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// InitResult is what Init wrote.
type InitResult struct {
	Path     string
	Content  string
	Detected []string // human-readable findings
}

// lockfileNames are detected at the root by init (the dependencies scope
// has the full auto-detection list).
var lockfileNames = []string{"go.sum", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "Cargo.lock", "Gemfile.lock", "composer.lock", "uv.lock"}

// Init writes a minimal .gitsnap.toml from what it finds in the worktree:
// .env files, lockfiles, SQLite files, DATABASE_URL. It refuses to
// overwrite an existing file unless force.
func Init(root string, getenv func(string) string, force bool) (*InitResult, error) {
	path := filepath.Join(root, ConfigFile)
	if _, err := os.Stat(path); err == nil && !force {
		return nil, WithHint(fmt.Errorf("%w: %s already exists", ErrUsage, path), "edit it, or pass --force to replace it")
	}
	res := &InitResult{Path: path}
	var b bytes.Buffer
	scopes := []string{ScopeCode, ScopeConfig, ScopeDependencies}
	var cfgPaths []string
	for _, p := range []string{".env", ".env.local", "config"} {
		if fi, err := os.Stat(filepath.Join(root, p)); err == nil {
			if fi.IsDir() {
				p += "/**"
			}
			cfgPaths = append(cfgPaths, p)
			res.Detected = append(res.Detected, "config: "+p)
		}
	}
	if len(cfgPaths) == 0 {
		cfgPaths = []string{".env"}
	}
	for _, l := range lockfileNames {
		if _, err := os.Stat(filepath.Join(root, l)); err == nil {
			res.Detected = append(res.Detected, "lockfile: "+l)
		}
	}
	var uploads []string
	for _, d := range []string{"uploads", "public/uploads", "storage", "media"} {
		if fi, err := os.Stat(filepath.Join(root, d)); err == nil && fi.IsDir() {
			uploads = append(uploads, d+"/**")
			res.Detected = append(res.Detected, "files: "+d)
		}
	}
	if len(uploads) > 0 {
		scopes = append(scopes, ScopeFiles)
	}
	var dbs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "vendor") {
			return filepath.SkipDir
		}
		if strings.Count(strings.TrimPrefix(p, root), string(filepath.Separator)) > 3 {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(p)
		if !d.IsDir() && (ext == ".db" || ext == ".sqlite" || ext == ".sqlite3") {
			rel, _ := filepath.Rel(root, p)
			dbs = append(dbs, filepath.ToSlash(rel))
			res.Detected = append(res.Detected, "sqlite: "+filepath.ToSlash(rel))
		}
		return nil
	})
	pgURL := getenv("DATABASE_URL") != ""
	if pgURL {
		res.Detected = append(res.Detected, "DATABASE_URL is set")
	}
	if len(dbs) > 0 || pgURL {
		scopes = append(scopes, ScopeDatabase)
	}
	fmt.Fprintf(&b, "# git-snap configuration; see .gitsnap.toml.example for every key.\n\n[snapshot]\nscopes = %s\n\n", tomlList(scopes))
	fmt.Fprintf(&b, "[config]\npaths = %s\n\n[dependencies]\nlockfiles = []  # empty = auto-detect\n\n", tomlList(cfgPaths))
	if len(uploads) > 0 {
		fmt.Fprintf(&b, "[[files]]\nname = \"uploads\"\npaths = %s\n\n", tomlList(uploads))
	}
	for i, db := range dbs {
		fmt.Fprintf(&b, "[[database]]\nname = %q\ndriver = \"sqlite\"\npath = %q\n\n", fmt.Sprintf("sqlite%d", i+1), db)
	}
	if pgURL {
		b.WriteString("[[database]]\nname = \"main\"\ndriver = \"postgres\"\nurl_env = \"DATABASE_URL\"\n\n")
	}
	b.WriteString("# Checks decide what known-good means. Add yours, e.g.:\n# [[check]]\n# name = \"unit\"\n# kind = \"smoke\"\n# run = \"make test\"\n# timeout = \"5m\"\n")
	res.Content = b.String()
	if _, err := ParseConfig(path, b.Bytes()); err != nil && !errors.Is(err, ErrConfig) {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return res, nil
}

func tomlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
