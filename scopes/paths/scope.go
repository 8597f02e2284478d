package paths

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/git-snap/git-snap/gitsnap"
)

// PatternsFunc returns a scope's glob patterns from the repository config.
// cfg is never nil.
type PatternsFunc func(cfg *gitsnap.Config) []string

// Scope is a gitsnap.Scope over the files a set of glob patterns selects.
// The patterns are read from env.Config on every call, so one Scope value
// serves any repository.
type Scope struct {
	name     string
	patterns PatternsFunc
}

var _ gitsnap.Scope = (*Scope)(nil)

// New returns a path scope called name whose patterns come from patterns.
func New(name string, patterns PatternsFunc) *Scope {
	return &Scope{name: name, patterns: patterns}
}

// Name implements gitsnap.Scope.
func (s *Scope) Name() string { return s.name }

// Matcher returns the validated patterns this scope uses for env.
func (s *Scope) Matcher(env *gitsnap.ScopeEnv) (*Matcher, error) {
	cfg := env.Config
	if cfg == nil {
		cfg = &gitsnap.Config{}
	}
	m, err := NewMatcher(s.patterns(cfg))
	if err != nil {
		return nil, fmt.Errorf("%s scope: %w", s.name, err)
	}
	return m, nil
}

// Capture implements gitsnap.Scope: every regular file and symlink the
// patterns match, untracked and ignored files included. Files are read and
// handed to w by a few goroutines at once (w is safe for concurrent use and
// sorts what it records), so reading and hashing overlap with the writer's
// compression; the stored result does not depend on the order.
func (s *Scope) Capture(ctx context.Context, env *gitsnap.ScopeEnv, w gitsnap.ArtifactWriter) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("capture %s: %w", s.name, err)
	}
	m, err := s.Matcher(env)
	if err != nil {
		return err
	}
	entries, err := walk(ctx, env.Root, m)
	if err != nil {
		return fmt.Errorf("capture %s: %w", s.name, err)
	}
	// No progress events here: the core's ArtifactWriter reports bytes as
	// it stores them.
	if err := putAll(ctx, env.Root, w, entries, captureWorkers()); err != nil {
		return fmt.Errorf("capture %s: %w", s.name, err)
	}
	return nil
}

// captureWorkers is how many files Capture reads at once.
func captureWorkers() int { return max(2, runtime.GOMAXPROCS(0)) }

// putAll stores entries with n goroutines and returns the first error;
// after an error or cancellation the remaining entries are skipped and the
// files being read stop. w gets ctx itself, never the derived stop
// context: the writer may still be storing what it was given.
func putAll(ctx context.Context, root string, w gitsnap.ArtifactWriter, entries []entry, n int) error {
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan entry)
	for range min(n, len(entries)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range next {
				if err := putEntry(ctx, stop, root, w, e); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		}()
	}
feed:
	for _, e := range entries {
		select {
		case next <- e:
		case <-stop.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// putEntry stores one walked entry; stop ends it early.
func putEntry(ctx, stop context.Context, root string, w gitsnap.ArtifactWriter, e entry) error {
	if err := stop.Err(); err != nil {
		return err
	}
	switch e.kind {
	case kindSymlink:
		if err := w.PutSymlink(ctx, e.rel, e.target); err != nil {
			return fmt.Errorf("store link %s: %w", e.rel, err)
		}
	case kindFile:
		return putFile(ctx, stop, root, w, e)
	}
	return nil
}

// putFile stores one regular file; reading it stops once stop is done. It
// re-checks after opening that the path is still the regular file the walk
// saw, so a file swapped for a symlink meanwhile is never followed.
func putFile(ctx, stop context.Context, root string, w gitsnap.ArtifactWriter, e entry) error {
	abs := filepath.Join(root, filepath.FromSlash(e.rel))
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("open %s: %w", e.rel, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", e.rel, err)
	}
	li, err := os.Lstat(abs)
	if err != nil {
		return fmt.Errorf("stat %s: %w", e.rel, err)
	}
	if !fi.Mode().IsRegular() || !os.SameFile(fi, li) {
		return fmt.Errorf("%s changed while it was captured", e.rel)
	}
	r := io.LimitReader(ctxReader{stop, f}, fi.Size())
	if err := w.PutFile(ctx, e.rel, fi.Mode().Perm(), fi.Size(), r); err != nil {
		return fmt.Errorf("store %s: %w", e.rel, err)
	}
	return nil
}

func progressOf(env *gitsnap.ScopeEnv) gitsnap.Progress {
	if env.Progress == nil {
		return gitsnap.NoProgress{}
	}
	return env.Progress
}
