package paths

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/git-snap/git-snap/gitsnap"
)

// Plan implements gitsnap.Scope: it lists the artifacts whose live file is
// missing or differs (add, modify, mode) and the live files inside the
// patterns that the snapshot lacks (remove). It changes nothing.
func (s *Scope) Plan(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (*gitsnap.ScopePlan, error) {
	d, err := s.prepare(ctx, env, r)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", s.name, err)
	}
	p := &gitsnap.ScopePlan{Scope: s.name, Changes: []gitsnap.Change{}}
	for _, e := range d.stale {
		p.Changes = append(p.Changes, gitsnap.Change{Op: gitsnap.OpRemove, Path: e.rel})
	}
	for i := range d.arts {
		a := &d.arts[i]
		if d.underStale(a.Path) {
			// A file or link on the way is removed first.
			p.Changes = append(p.Changes, gitsnap.Change{Op: gitsnap.OpAdd, Path: a.Path})
			continue
		}
		abs, err := gitsnap.SafeJoin(env.Root, a.Path)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", s.name, err)
		}
		op, detail, err := compare(ctx, abs, a)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", s.name, err)
		}
		if op != "" {
			p.Changes = append(p.Changes, gitsnap.Change{Op: op, Path: a.Path, Detail: detail})
		}
	}
	p.Sort()
	return p, nil
}

// diffState is the comparison of a snapshot with the live tree.
type diffState struct {
	arts     []gitsnap.Artifact // the snapshot's artifacts, paths checked
	stale    []entry            // live entries inside the patterns the snapshot lacks
	staleSet map[string]bool
}

// prepare validates the artifacts and finds the stale live entries.
func (s *Scope) prepare(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (*diffState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := s.Matcher(env)
	if err != nil {
		return nil, err
	}
	arts, err := checkArtifacts(r.Artifacts())
	if err != nil {
		return nil, err
	}
	// A live symlink where the snapshot has a directory is never followed.
	// One that leads out of the worktree (say uploads -> /mnt/shared) is
	// refused rather than silently replaced by a local directory; one that
	// stays inside is stale state and is replaced (docs/format.md).
	for _, a := range arts {
		if err := refuseEscapingParents(env.Root, a.Path); err != nil {
			return nil, err
		}
	}
	live, err := walk(ctx, env.Root, m)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(arts))
	for _, a := range arts {
		want[a.Path] = true
	}
	d := &diffState{arts: arts, staleSet: map[string]bool{}}
	for _, e := range live {
		if !want[e.rel] {
			d.stale = append(d.stale, e)
			d.staleSet[e.rel] = true
		}
	}
	return d, nil
}

// parents returns every directory that holds an artifact.
func (d *diffState) parents() map[string]bool {
	out := map[string]bool{}
	for _, a := range d.arts {
		for p := path.Dir(a.Path); p != "." && !out[p]; p = path.Dir(p) {
			out[p] = true
		}
	}
	return out
}

// underStale reports whether a parent of rel is a stale file or link.
func (d *diffState) underStale(rel string) bool {
	for p := path.Dir(rel); p != "." && p != "/"; p = path.Dir(p) {
		if d.staleSet[p] {
			return true
		}
	}
	return false
}

// checkArtifacts refuses unsafe paths and unknown kinds before anything
// is touched.
func checkArtifacts(arts []gitsnap.Artifact) ([]gitsnap.Artifact, error) {
	for _, a := range arts {
		if _, err := gitsnap.CleanRelPath(a.Path); err != nil {
			return nil, err
		}
		switch a.Kind {
		case gitsnap.KindBlob, gitsnap.KindChunked, gitsnap.KindSymlink:
		default:
			return nil, fmt.Errorf("%w: artifact %s has unknown kind %q", gitsnap.ErrInvalidFormat, a.Path, a.Kind)
		}
	}
	// A capture never stores a path below another stored path; a crafted
	// snapshot could use a stored symlink as a parent to escape the root.
	have := make(map[string]bool, len(arts))
	for _, a := range arts {
		have[a.Path] = true
	}
	for _, a := range arts {
		for p := path.Dir(a.Path); p != "."; p = path.Dir(p) {
			if have[p] {
				return nil, fmt.Errorf("%w: %q lies below artifact %q", gitsnap.ErrUnsafePath, a.Path, p)
			}
		}
	}
	return arts, nil
}

// compare says what restoring a would do to the live path abs.
func compare(ctx context.Context, abs string, a *gitsnap.Artifact) (gitsnap.ChangeOp, string, error) {
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return gitsnap.OpAdd, "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("stat %s: %w", a.Path, err)
	}
	live := describe(fi.Mode())
	if a.Kind == gitsnap.KindSymlink {
		if live != "link" {
			return gitsnap.OpModify, "replace " + live + " with link", nil
		}
		target, err := os.Readlink(abs)
		if err != nil {
			return "", "", fmt.Errorf("read link %s: %w", a.Path, err)
		}
		if int64(len(target)) == a.Size && hashString(target) == a.SHA256 {
			return "", "", nil
		}
		return gitsnap.OpModify, "link target differs", nil
	}
	if live != "file" {
		return gitsnap.OpModify, "replace " + live + " with file", nil
	}
	if fi.Size() != a.Size {
		return gitsnap.OpModify, fmt.Sprintf("size %d → %d", fi.Size(), a.Size), nil
	}
	sum, err := hashFile(ctx, abs)
	if err != nil {
		return "", "", err
	}
	if sum != a.SHA256 {
		return gitsnap.OpModify, "content differs", nil
	}
	if fi.Mode().Perm() != a.Mode.Perm() {
		return gitsnap.OpMode, fmt.Sprintf("%04o → %s", fi.Mode().Perm(), a.Mode), nil
	}
	return "", "", nil
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m&fs.ModeSymlink != 0:
		return "link"
	case m.IsDir():
		return "directory"
	default:
		return "special file"
	}
}

// refuseEscapingParents fails with gitsnap.ErrUnsafePath when a parent
// directory of rel is, on disk, a symlink that resolves outside root.
func refuseEscapingParents(root, rel string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", root, err)
	}
	for p := path.Dir(rel); p != "." && p != "/"; p = path.Dir(p) {
		abs := filepath.Join(root, filepath.FromSlash(p))
		fi, err := os.Lstat(abs)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		target, err := filepath.EvalSymlinks(abs)
		if err != nil {
			continue // dangling: removed and replaced like any stale link
		}
		if r, err := filepath.Rel(realRoot, target); err != nil || r == ".." || strings.HasPrefix(r, "../") {
			return fmt.Errorf("%w: %q goes through symlink %s, which leads out of the worktree (to %s); remove the link to restore here", gitsnap.ErrUnsafePath, rel, p, target)
		}
	}
	return nil
}
