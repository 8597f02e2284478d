package gitsnap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// largeObjectThreshold: objects bigger than this are streamed from disk by
// go-git instead of being read whole into memory (a 256 MiB blob would
// otherwise cost about 1 GB of RAM).
const largeObjectThreshold = 1 << 20

// OpenRepo opens the Git repository that contains dir, searching upwards
// like git does. GIT_DIR, GIT_WORK_TREE and GIT_COMMON_DIR are honoured; a
// relative GIT_DIR is taken relative to dir. ".git" may be a directory or a
// "gitdir: <path>" file (linked worktrees, submodules); a "commondir" file
// in the git dir points at the directory holding objects, refs and config.
// A bare repository opens with Root() == "". Returns an error wrapping
// ErrNotARepo when there is no repository.
func OpenRepo(dir string) (Repo, error) {
	return openRepo(dir, os.LookupEnv)
}

func openRepo(dir string, env envFunc) (*goGitRepo, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	gitDir, root, explicit, err := discoverGitDir(dir, env)
	if err != nil {
		return nil, err
	}
	commonDir := commonDirOf(gitDir)
	if v, ok := env("GIT_COMMON_DIR"); ok && v != "" {
		commonDir = absFrom(dir, v)
	}
	cfg, err := readConfigFile(filepath.Join(commonDir, "config"), nil, &configContext{env: env, gitDir: gitDir}, maxIncludeDepth)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", gitDir, err)
	}
	if err := checkRepoFormat(cfg); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", gitDir, err)
	}
	if wt, ok := env("GIT_WORK_TREE"); ok && wt != "" {
		root = absFrom(dir, wt)
	} else if explicit {
		root = explicitWorktree(dir, gitDir, cfg)
	}
	r := &goGitRepo{
		root:      root,
		gitDir:    gitDir,
		commonDir: commonDir,
		env:       env,
		// go-git caches every object of at most largeObjectThreshold it
		// reads (dump chunks, files) in this LRU; its 96 MiB default
		// doubled restore's peak RSS (308 → 96 MB on a 2 GiB dump).
		storage: filesystem.NewStorageWithOptions(wholeIdxFS{osfs.New(commonDir)}, cache.NewObjectLRU(16*cache.MiByte),
			filesystem.Options{
				LargeObjectThreshold: largeObjectThreshold,
				// Keep pack files open (LRU-bounded): without it go-git
				// reopens the pack for every object it reads.
				MaxOpenDescriptors: 64,
				// Absolute paths in objects/info/alternates resolve from "/".
				AlternatesFS: wholeIdxFS{osfs.New(string(filepath.Separator))},
			}),
	}
	if _, err := os.Stat(filepath.Join(commonDir, "objects", "info", "alternates")); err == nil {
		r.hasAlternates = true
	}
	r.packStamp = r.packDirStamp()
	return r, nil
}

// discoverGitDir finds the git dir for dir: $GIT_DIR, else the first of
// dir and its parents that has a ".git" (directory or gitfile) or is itself
// a bare repository. GIT_CEILING_DIRECTORIES stops the walk. explicit
// reports that GIT_DIR chose the repository.
func discoverGitDir(dir string, env envFunc) (gitDir, root string, explicit bool, err error) {
	if v, ok := env("GIT_DIR"); ok && v != "" {
		gd := absFrom(dir, v)
		if fi, err := os.Stat(gd); err == nil && fi.Mode().IsRegular() {
			if gd, err = readGitFile(gd); err != nil {
				return "", "", false, err
			}
		}
		if !isGitDir(gd) {
			return "", "", false, fmt.Errorf("open repository: GIT_DIR=%s: %w", v, ErrNotARepo)
		}
		return gd, "", true, nil
	}
	ceilings := map[string]bool{}
	if v, ok := env("GIT_CEILING_DIRECTORIES"); ok {
		for _, c := range filepath.SplitList(v) {
			if filepath.IsAbs(c) {
				ceilings[filepath.Clean(c)] = true
			}
		}
	}
	for cur := dir; ; {
		dotGit := filepath.Join(cur, ".git")
		if fi, err := os.Stat(dotGit); err == nil {
			gd := dotGit
			if fi.Mode().IsRegular() {
				if gd, err = readGitFile(dotGit); err != nil {
					return "", "", false, err
				}
			}
			if isGitDir(gd) {
				return gd, cur, false, nil
			}
		}
		if isGitDir(cur) {
			return cur, "", false, nil // bare repository
		}
		parent := filepath.Dir(cur)
		if parent == cur || ceilings[parent] {
			return "", "", false, fmt.Errorf("open repository %s: %w", dir, ErrNotARepo)
		}
		cur = parent
	}
}

// readGitFile reads a "gitdir: <path>" file; a relative path is relative
// to the file's directory.
func readGitFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read gitfile %s: %w", path, err)
	}
	line := strings.TrimSpace(string(data))
	target, ok := strings.CutPrefix(line, "gitdir: ")
	if !ok || target == "" {
		return "", fmt.Errorf("read gitfile %s: invalid format: %w", path, ErrNotARepo)
	}
	return absFrom(filepath.Dir(path), target), nil
}

// isGitDir mirrors git's is_git_directory: HEAD in the git dir, objects/
// and refs/ in its common dir.
func isGitDir(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	common := commonDirOf(dir)
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(common, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// commonDirOf reads gitDir/commondir (linked worktrees); without it the
// git dir is its own common dir.
func commonDirOf(gitDir string) string {
	data, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return gitDir
	}
	p := strings.TrimSpace(string(data))
	if p == "" {
		return gitDir
	}
	return absFrom(gitDir, p)
}

// explicitWorktree is the worktree when GIT_DIR is set without
// GIT_WORK_TREE: core.worktree (relative to the git dir), else none for a
// bare repository, else dir itself (git's documented rule).
func explicitWorktree(dir, gitDir string, cfg []configEntry) string {
	wt, bare := "", false
	for _, e := range cfg {
		switch {
		case e.section == "core" && e.subsection == "" && e.key == "worktree":
			wt = e.value
		case e.section == "core" && e.subsection == "" && e.key == "bare":
			bare = e.implicit || isTrue(e.value)
		}
	}
	switch {
	case wt != "":
		return absFrom(gitDir, wt)
	case bare:
		return ""
	default:
		return dir
	}
}

// checkRepoFormat refuses repositories this code would misread: a newer
// repositoryformatversion, SHA-256 objects, reftable refs, or (in format 1)
// an extension we do not know, as git itself does.
func checkRepoFormat(cfg []configEntry) error {
	version := "0"
	exts := map[string]string{}
	for _, e := range cfg {
		if e.section == "core" && e.subsection == "" && e.key == "repositoryformatversion" {
			version = strings.TrimSpace(e.value)
		}
		if e.section == "extensions" && e.subsection == "" {
			exts[e.key] = e.value
		}
	}
	if version != "0" && version != "1" {
		return fmt.Errorf("unsupported repositoryformatversion %s", version)
	}
	for k, v := range exts {
		switch k {
		case "objectformat":
			if !strings.EqualFold(v, "sha1") {
				return fmt.Errorf("unsupported extensions.objectFormat %q (only sha1)", v)
			}
		case "refstorage":
			if !strings.EqualFold(v, "files") {
				return fmt.Errorf("unsupported extensions.refStorage %q (only files)", v)
			}
		case "noop", "noop-v1", "preciousobjects", "partialclone", "worktreeconfig":
		default:
			if version == "1" {
				return fmt.Errorf("unsupported repository extension extensions.%s", k)
			}
		}
	}
	return nil
}

// absFrom makes p absolute relative to base.
func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// packDirStamp returns objects/pack's modification time (zero if absent).
func (r *goGitRepo) packDirStamp() (stamp time.Time) {
	fi, err := os.Stat(filepath.Join(r.commonDir, "objects", "pack"))
	if err != nil {
		return stamp
	}
	return fi.ModTime()
}
