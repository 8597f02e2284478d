package paths

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/git-snap/git-snap/gitsnap"
)

// Stats counts what a restore changed.
type Stats struct {
	Written     int // files and links written
	ModeChanged int // files whose permissions alone were fixed
	Removed     int // live files and links the snapshot lacks
}

// Changed reports whether the restore changed anything.
func (st Stats) Changed() bool { return st.Written+st.ModeChanged+st.Removed > 0 }

// Restore implements gitsnap.Scope.
func (s *Scope) Restore(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) error {
	_, err := s.RestoreStats(ctx, env, r)
	return err
}

// RestoreStats restores like Restore and reports what it changed. Order:
// validate every artifact path (nothing is touched if one is unsafe);
// remove the live files and links inside the patterns that the snapshot
// lacks, and the directories that leaves empty unless the snapshot writes
// into them; then write every artifact whose live path differs
// (atomically, through gitsnap.SafeJoin).
func (s *Scope) RestoreStats(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (Stats, error) {
	var st Stats
	d, err := s.prepare(ctx, env, r)
	if err != nil {
		return st, fmt.Errorf("restore %s: %w", s.name, err)
	}
	// Removals and the pruning of the directories they empty run as one
	// step, so that a restore cancelled later still leaves no empty
	// directories behind that a second restore would not remove.
	emptied := map[string]bool{}
	for _, e := range d.stale {
		abs, err := gitsnap.SafeJoin(env.Root, e.rel)
		if err != nil {
			return st, fmt.Errorf("restore %s: %w", s.name, err)
		}
		if err := os.Remove(abs); err != nil && !os.IsNotExist(err) {
			return st, fmt.Errorf("restore %s: remove %s: %w", s.name, e.rel, err)
		}
		st.Removed++
		emptied[path.Dir(e.rel)] = true
	}
	removeEmptyDirs(env.Root, emptied, d.parents())
	// Files are independent (no artifact lies below another), so a few
	// workers write them at once: each write ends with an fsync, and
	// overlapping those waits is most of a restore's speed.
	prog := progressOf(env)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		next  = make(chan *gitsnap.Artifact)
	)
	for w := 0; w < restoreWorkers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range next {
				changed, err := restoreOne(ctx, env.Root, r, a)
				mu.Lock()
				switch {
				case err != nil:
					if first == nil {
						first = err
						cancel()
					}
				case changed == gitsnap.OpMode:
					st.ModeChanged++
				case changed != "":
					st.Written++
				}
				mu.Unlock()
				if err == nil && changed != "" && changed != gitsnap.OpMode {
					prog.Event(gitsnap.ProgressEvent{Kind: "bytes", Scope: s.name, Name: a.Path, Bytes: a.Size})
				}
			}
		}()
	}
feed:
	for i := range d.arts {
		select {
		case next <- &d.arts[i]:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	if first != nil {
		return st, fmt.Errorf("restore %s: %w", s.name, first)
	}
	return st, nil
}

// restoreWorkers is how many files a restore writes at once.
func restoreWorkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// restoreOne makes the live path of a equal to the artifact and returns
// what it did ("" when the path already matched).
func restoreOne(ctx context.Context, root string, r gitsnap.ArtifactReader, a *gitsnap.Artifact) (gitsnap.ChangeOp, error) {
	abs, err := gitsnap.SafeJoin(root, a.Path)
	if err != nil {
		return "", err
	}
	op, _, err := compare(ctx, abs, a)
	if err != nil || op == "" {
		return op, err
	}
	if op == gitsnap.OpMode {
		if err := os.Chmod(abs, a.Mode.Perm()); err != nil {
			return "", fmt.Errorf("chmod %s: %w", a.Path, err)
		}
		return op, nil
	}
	if err := prepareTarget(abs, a.Path); err != nil {
		return "", err
	}
	if a.Kind == gitsnap.KindSymlink {
		err = writeSymlink(ctx, r, abs, a)
	} else {
		err = writeFile(ctx, r, abs, a)
	}
	return op, err
}

// prepareTarget creates abs's parent directories (0755) and removes an
// empty directory standing where abs goes. A non-empty directory there is
// an error: its content lies outside what this restore may delete.
func prepareTarget(abs, rel string) error {
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return fmt.Errorf("create parent of %s: %w", rel, err)
	}
	fi, err := os.Lstat(abs)
	if err != nil || !fi.IsDir() {
		return nil
	}
	if err := os.Remove(abs); err != nil {
		return fmt.Errorf("replace directory %s with a file: %w", rel, err)
	}
	return nil
}

// removeEmptyDirs removes the given directories, deepest first, and their
// parents up to (not including) the root, as long as they are empty and
// not in keep (the directories the restore is about to write into).
// Best effort: a directory that is not empty or cannot be removed stays.
func removeEmptyDirs(root string, dirs, keep map[string]bool) {
	all := map[string]bool{}
	for d := range dirs {
		for ; d != "." && d != "/" && d != "" && !keep[d]; d = path.Dir(d) {
			all[d] = true
		}
	}
	list := make([]string, 0, len(all))
	for d := range all {
		list = append(list, d)
	}
	// Deeper paths sort after their parents; remove them first.
	sort.Sort(sort.Reverse(sort.StringSlice(list)))
	for _, d := range list {
		abs, err := gitsnap.SafeJoin(root, d)
		if err != nil {
			continue
		}
		if fi, err := os.Lstat(abs); err != nil || !fi.IsDir() {
			continue
		}
		_ = os.Remove(abs) // fails, as wanted, when the directory is not empty
	}
}
