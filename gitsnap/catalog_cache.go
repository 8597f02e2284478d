package gitsnap

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// catalogCache keeps what the catalog needs from immutable objects: the
// light manifest of each snapshot commit and the content of each note
// blob. Both are keyed by object hash, so an entry can never be stale; a
// damaged or missing cache file is simply rebuilt. It lives in
// <common dir>/git-snap/catalog.cache and is shared by linked worktrees.
type catalogCache struct {
	path string

	mu        sync.Mutex
	Manifests map[Hash]*Manifest
	Notes     map[Hash][]byte
	dirty     bool
}

// cacheVersion changes whenever the cached shapes change.
const cacheVersion = 1

func openCatalogCache(commonDir string) *catalogCache {
	c := &catalogCache{Manifests: map[Hash]*Manifest{}, Notes: map[Hash][]byte{}}
	if commonDir == "" {
		return c
	}
	c.path = filepath.Join(commonDir, "git-snap", "catalog.cache")
	f, err := os.Open(c.path)
	if err != nil {
		return c
	}
	defer f.Close()
	var v int
	dec := gob.NewDecoder(f)
	if dec.Decode(&v) != nil || v != cacheVersion {
		return c
	}
	var disk struct {
		Manifests map[Hash]*Manifest
		Notes     map[Hash][]byte
	}
	if dec.Decode(&disk) != nil {
		return c // damaged: rebuilt from the objects
	}
	if disk.Manifests != nil {
		c.Manifests = disk.Manifests
	}
	if disk.Notes != nil {
		c.Notes = disk.Notes
	}
	return c
}

func (c *catalogCache) manifest(h Hash) (*Manifest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.Manifests[h]
	return m, ok
}

func (c *catalogCache) putManifest(h Hash, m *Manifest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Manifests[h] = m
	c.dirty = true
}

func (c *catalogCache) note(blob Hash) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.Notes[blob]
	return b, ok
}

func (c *catalogCache) putNote(blob Hash, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Notes[blob] = data
	c.dirty = true
}

// prune drops entries no longer referenced, so the cache tracks the repo.
func (c *catalogCache) prune(liveManifests, liveNotes map[Hash]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.Manifests {
		if !liveManifests[h] {
			delete(c.Manifests, h)
			c.dirty = true
		}
	}
	for h := range c.Notes {
		if !liveNotes[h] {
			delete(c.Notes, h)
			c.dirty = true
		}
	}
}

// save writes the cache atomically; failing to save only costs speed.
func (c *catalogCache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" || !c.dirty {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("save catalog cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), "catalog.cache.tmp-*")
	if err != nil {
		return fmt.Errorf("save catalog cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	enc := gob.NewEncoder(tmp)
	err = enc.Encode(cacheVersion)
	if err == nil {
		err = enc.Encode(struct {
			Manifests map[Hash]*Manifest
			Notes     map[Hash][]byte
		}{c.Manifests, c.Notes})
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil && !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("save catalog cache: %w", err)
	}
	c.dirty = false
	return nil
}

// lightManifest drops the per-file artifact list (which can be large) and
// keeps database artifacts, which the catalog shows.
func lightManifest(m *Manifest) *Manifest {
	l := *m
	l.Artifacts = nil
	for _, a := range m.Artifacts {
		if a.Scope == ScopeDatabase {
			l.Artifacts = append(l.Artifacts, a)
		}
	}
	return &l
}
