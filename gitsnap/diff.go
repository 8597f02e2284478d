package gitsnap

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
)

// Change statuses in a snapshot diff.
const (
	DiffAdded     = "added"     // only in b
	DiffRemoved   = "removed"   // only in a
	DiffModified  = "modified"  // content differs (the mode may too)
	DiffModeOnly  = "mode"      // same content, other permission bits
	DiffTypeChg   = "type"      // file ↔ symlink (↔ directory for code)
	DiffChanged   = "changed"   // a database whose dump differs
	DiffUnchanged = "unchanged" // a database whose dump is identical
)

// DefaultDiffContext is the number of context lines in unified diffs.
const DefaultDiffContext = 3

// DefaultMaxTextDiff is the largest file (per side) that gets a text diff.
const DefaultMaxTextDiff = 1 << 20

// maxLockfileSize bounds what a lockfile parser reads.
const maxLockfileSize = 64 << 20

// DiffOptions tune Diff. The zero value shows everything.
type DiffOptions struct {
	// Scopes limits the diff to these scopes; empty means all of them.
	Scopes []string
	// NoPatch leaves out text diffs and lockfile package lists: only which
	// paths changed.
	NoPatch bool
	// Context is the number of context lines (0: DefaultDiffContext).
	Context int
	// MaxTextSize is the largest file, per side, that gets a text diff or
	// a lockfile comparison (0: DefaultMaxTextDiff).
	MaxTextSize int64
	// AnyBranch lets known-good name a snapshot of any branch.
	AnyBranch bool
	// MaskKey keys the digests printed for masked secrets. nil draws a
	// random key per Diff, so a digest can tell two values apart within
	// one output but cannot be used to guess a secret offline.
	MaskKey []byte
}

// SnapshotDiff is what differs between two snapshots, per scope.
type SnapshotDiff struct {
	A, B   *SnapshotInfo
	Scopes []ScopeDiff // in AllScopes order; scopes neither captured are left out
}

// Changed reports whether any scope differs.
func (d *SnapshotDiff) Changed() bool {
	for i := range d.Scopes {
		if d.Scopes[i].Changed() {
			return true
		}
	}
	return false
}

// ScopeDiff is one scope's differences.
type ScopeDiff struct {
	Scope string
	// InA and InB say whether each snapshot captured the scope. When only
	// one did, nothing is compared: a scope not captured is not "removed".
	InA, InB  bool
	Code      *CodeDiff      // the code scope, when both captured it
	Files     []FileDiff     // config, dependencies, files: changed paths only
	Databases []DatabaseDiff // database: every database of either side
}

// Changed reports whether the scope differs.
func (d *ScopeDiff) Changed() bool {
	if d.InA != d.InB {
		return true
	}
	if d.Code != nil && (len(d.Code.Files) > 0 || d.Code.A.Commit != d.Code.B.Commit) {
		return true
	}
	for _, db := range d.Databases {
		if db.Status != DiffUnchanged {
			return true
		}
	}
	return len(d.Files) > 0
}

// FileDiff is one changed artifact of a file-based scope.
type FileDiff struct {
	Path   string
	Status string    // DiffAdded, DiffRemoved, DiffModified, DiffModeOnly, DiffTypeChg
	A, B   *Artifact // nil on the side that lacks the path
	// Patch is a unified diff (secrets masked) for small text files; empty
	// when Note says why there is none.
	Patch string
	// Note explains a missing patch ("binary", "secret file", …) or
	// describes a symlink change.
	Note string
	// Lockfile names the lockfile format when Packages was computed.
	Lockfile string
	Packages []PackageChange
}

// PackageChange is one package-level lockfile change.
type PackageChange struct {
	Name   string
	Change string // added, removed, upgraded, downgraded, changed
	Old    string // version in a ("" when added)
	New    string // version in b ("" when removed)
}

// Package change kinds.
const (
	PkgAdded      = "added"
	PkgRemoved    = "removed"
	PkgUpgraded   = "upgraded"
	PkgDowngraded = "downgraded"
	PkgChanged    = "changed" // different, but not comparable as versions
)

// DatabaseDiff compares one database between two snapshots.
type DatabaseDiff struct {
	Name   string
	Status string         // DiffAdded, DiffRemoved, DiffChanged, DiffUnchanged
	A, B   *DatabaseState // nil on the side that lacks the database
	// SchemaChange is "" when the schema version is the same (or unknown
	// on a side), else PkgUpgraded, PkgDowngraded or PkgChanged.
	SchemaChange string
}

// DatabaseState is what a snapshot recorded about one database (artifact
// meta as the database scope writes it).
type DatabaseState struct {
	Driver        string
	ServerVersion string
	Size          int64 // database size the driver reported; -1 unknown
	DumpSize      int64 // bytes of the stored dump
	SchemaVersion string
	Tables        int // -1 unknown
	SHA256        string
}

// Diff compares snapshot a with snapshot b (any names Resolve accepts):
// a is the "old" side, b the "new" one.
func (s *Snap) Diff(ctx context.Context, a, b string, o DiffOptions) (*SnapshotDiff, error) {
	for _, sc := range o.Scopes {
		if !contains(AllScopes, sc) {
			return nil, WithHint(fmt.Errorf("%w: unknown scope %q", ErrUsage, sc), "scopes are code, config, dependencies, files, database")
		}
	}
	cat, err := s.loadCatalog(ctx)
	if err != nil {
		return nil, err
	}
	ro := ResolveOptions{AnyBranch: o.AnyBranch}
	ia, err := s.resolve(ctx, cat, a, ro)
	if err != nil {
		return nil, err
	}
	ib, err := s.resolve(ctx, cat, b, ro)
	if err != nil {
		return nil, err
	}
	ma, ta, err := readManifest(ctx, s.repo, ia.Commit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ia.ID, err)
	}
	mb, tb, err := readManifest(ctx, s.repo, ib.Commit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ib.ID, err)
	}
	if o.MaskKey == nil {
		o.MaskKey = make([]byte, 32)
		if _, err := rand.Read(o.MaskKey); err != nil {
			return nil, fmt.Errorf("draw mask key: %w", err)
		}
	}
	if o.Context <= 0 {
		o.Context = DefaultDiffContext
	}
	if o.MaxTextSize <= 0 {
		o.MaxTextSize = DefaultMaxTextDiff
	}
	d := &differ{repo: s.repo, opts: o, mask: newMasker(o.MaskKey), ma: ma, mb: mb, ta: ta, tb: tb}
	out := &SnapshotDiff{A: ia, B: ib}
	for _, sc := range AllScopes {
		if len(o.Scopes) > 0 && !contains(o.Scopes, sc) {
			continue
		}
		sd := ScopeDiff{Scope: sc, InA: hasScope(ma, sc), InB: hasScope(mb, sc)}
		if !sd.InA && !sd.InB {
			continue
		}
		if sd.InA && sd.InB {
			if err := d.scope(ctx, &sd); err != nil {
				return nil, err
			}
		}
		out.Scopes = append(out.Scopes, sd)
	}
	return out, nil
}

// hasScope reports whether m captured scope sc. Older manifests without a
// scope list count a scope as captured when it has artifacts.
func hasScope(m *Manifest, sc string) bool {
	if contains(m.Scopes, sc) {
		return true
	}
	if sc == ScopeCode {
		return m.Code != nil
	}
	for _, a := range m.Artifacts {
		if a.Scope == sc {
			return true
		}
	}
	return false
}

// differ holds what one Diff call compares.
type differ struct {
	repo   Repo
	opts   DiffOptions
	mask   *masker
	ma, mb *Manifest
	ta, tb *snapshotTree
}

func (d *differ) scope(ctx context.Context, sd *ScopeDiff) error {
	switch sd.Scope {
	case ScopeCode:
		c, err := d.code(ctx)
		if err != nil {
			return fmt.Errorf("diff code: %w", err)
		}
		sd.Code = c
	case ScopeDatabase:
		sd.Databases = diffDatabases(artifactsOf(d.ma, sd.Scope), artifactsOf(d.mb, sd.Scope))
	default:
		fs, err := d.files(ctx, sd.Scope)
		if err != nil {
			return fmt.Errorf("diff %s: %w", sd.Scope, err)
		}
		sd.Files = fs
	}
	return nil
}

// artifactsOf returns m's artifacts of one scope by path.
func artifactsOf(m *Manifest, scope string) map[string]Artifact {
	out := map[string]Artifact{}
	for _, a := range m.Artifacts {
		if a.Scope == scope {
			out[a.Path] = a
		}
	}
	return out
}

// files compares the artifacts of a file-based scope.
func (d *differ) files(ctx context.Context, scope string) ([]FileDiff, error) {
	as, bs := artifactsOf(d.ma, scope), artifactsOf(d.mb, scope)
	var out []FileDiff
	for _, p := range sortedUnion(as, bs) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a, inA := as[p]
		b, inB := bs[p]
		fd := FileDiff{Path: p}
		switch {
		case !inA:
			fd.Status, fd.B = DiffAdded, &b
		case !inB:
			fd.Status, fd.A = DiffRemoved, &a
		case a.Kind != b.Kind && (a.Kind == KindSymlink || b.Kind == KindSymlink):
			fd.Status, fd.A, fd.B = DiffTypeChg, &a, &b
		case a.SHA256 != b.SHA256 || a.Size != b.Size:
			fd.Status, fd.A, fd.B = DiffModified, &a, &b
		case a.Mode.Perm() != b.Mode.Perm():
			fd.Status, fd.A, fd.B = DiffModeOnly, &a, &b
		default:
			continue
		}
		if !d.opts.NoPatch && fd.Status != DiffModeOnly {
			if err := d.content(ctx, scope, &fd); err != nil {
				return nil, err
			}
		}
		out = append(out, fd)
	}
	return out, nil
}

func sortedUnion[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
