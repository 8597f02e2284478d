package paths

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// entryKind is what a live path is.
type entryKind int

const (
	kindFile entryKind = iota + 1
	kindSymlink
)

// entry is one live regular file or symlink inside the patterns.
type entry struct {
	rel    string      // slash-separated, relative to the root
	kind   entryKind   // kindFile or kindSymlink
	mode   fs.FileMode // permission bits (files)
	size   int64       // file size (files)
	target string      // link target as written (symlinks)
}

// walk lists the regular files and symlinks under root that m matches,
// sorted by path. It never follows symlinks, skips every ".git" entry and
// special files (sockets, devices, fifos), and does not descend into
// directories no pattern could match. A missing root lists nothing.
func walk(ctx context.Context, root string, m *Matcher) ([]entry, error) {
	var out []entry
	if m.Empty() {
		return nil, nil
	}
	if err := walkDir(ctx, root, "", m, &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, nil
}

func walkDir(ctx context.Context, root, dir string, m *Matcher, out *[]entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("walk %s: %w", displayDir(dir), err)
	}
	abs := filepath.Join(root, filepath.FromSlash(dir))
	des, err := os.ReadDir(abs)
	if err != nil {
		if dir == "" && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("read directory %s: %w", abs, err)
	}
	for _, de := range des {
		// Skip .git, and temp files a crashed restore may have left behind:
		// they are never state.
		if strings.EqualFold(de.Name(), ".git") || strings.HasPrefix(de.Name(), tempPrefix) {
			continue
		}
		rel := path.Join(dir, de.Name())
		switch t := de.Type(); {
		case t.IsDir():
			if m.CouldContain(rel) {
				if err := walkDir(ctx, root, rel, m, out); err != nil {
					return err
				}
			}
		case t&fs.ModeSymlink != 0:
			if !m.Match(rel) {
				continue
			}
			target, err := os.Readlink(filepath.Join(abs, de.Name()))
			if err != nil {
				return fmt.Errorf("read link %s: %w", rel, err)
			}
			*out = append(*out, entry{rel: rel, kind: kindSymlink, target: target})
		case t.IsRegular():
			if !m.Match(rel) {
				continue
			}
			fi, err := de.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed while we walked
			}
			if err != nil {
				return fmt.Errorf("stat %s: %w", rel, err)
			}
			if !fi.Mode().IsRegular() {
				continue
			}
			*out = append(*out, entry{rel: rel, kind: kindFile, mode: fi.Mode().Perm(), size: fi.Size()})
		default:
			// sockets, devices, fifos: not state we can restore.
		}
	}
	return nil
}

func displayDir(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
