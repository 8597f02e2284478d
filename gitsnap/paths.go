package gitsnap

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CleanRelPath checks that p is a safe slash-separated path relative to a
// worktree root: not empty, not absolute, no "..", no ".git" element, no NUL
// or backslash. Every path read from a snapshot goes through it before use.
func CleanRelPath(p string) (string, error) {
	if p == "" || strings.ContainsAny(p, "\x00\\") || path.IsAbs(p) || filepath.IsAbs(p) {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, p)
	}
	c := path.Clean(p)
	if c != p && c+"/" != p {
		return "", fmt.Errorf("%w: %q is not clean", ErrUnsafePath, p)
	}
	for _, el := range strings.Split(c, "/") {
		if el == ".." || el == "." || strings.EqualFold(el, ".git") {
			return "", fmt.Errorf("%w: %q", ErrUnsafePath, p)
		}
	}
	return c, nil
}

// SafeJoin joins a snapshot path to root and checks that no existing parent
// directory on the way is a symlink, so that writing the result can never
// land outside root. The final element itself may be a symlink (it is
// replaced, not followed, by an atomic rename).
func SafeJoin(root, rel string) (string, error) {
	c, err := CleanRelPath(rel)
	if err != nil {
		return "", err
	}
	parts := strings.Split(c, "/")
	cur := root
	for _, el := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, el)
		fi, err := os.Lstat(cur)
		if os.IsNotExist(err) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("check path %s: %w", cur, err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("%w: %q goes through symlink %s", ErrUnsafePath, rel, cur)
		}
		if !fi.IsDir() {
			// A file where a directory is needed: restore replaces it.
			break
		}
	}
	return filepath.Join(root, filepath.FromSlash(c)), nil
}
