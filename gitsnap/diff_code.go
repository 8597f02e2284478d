package gitsnap

import (
	"context"
	"fmt"
	"sort"
	"strconv"
)

// CodeDiff compares the code scope of two snapshots: the source commits
// and the worktree trees as captured (which include uncommitted changes).
type CodeDiff struct {
	A, B  ManifestCode
	Files []PathChange // paths that differ between the two code/ trees
}

// PathChange is one path that differs between two code trees.
type PathChange struct {
	Path             string
	Status           string // DiffAdded, DiffRemoved, DiffModified, DiffModeOnly, DiffTypeChg
	OldMode, NewMode uint32 // Git tree modes; 0 on the side that lacks the path
}

// GitDiffCommand is the git command that shows the code changes in full:
// between the source commits when both snapshots were clean, else
// between the captured trees.
func (d *SnapshotDiff) GitDiffCommand() string {
	for _, sd := range d.Scopes {
		c := sd.Code
		if c == nil {
			continue
		}
		if !c.A.Dirty && !c.B.Dirty && c.A.Commit != "" && c.B.Commit != "" {
			return "git diff " + c.A.Commit[:12] + " " + c.B.Commit[:12]
		}
		return "git diff " + SnapshotRefPrefix + d.A.ID + ":code " + SnapshotRefPrefix + d.B.ID + ":code"
	}
	return ""
}

func (d *differ) code(ctx context.Context) (*CodeDiff, error) {
	if d.ma.Code == nil || d.mb.Code == nil {
		return nil, fmt.Errorf("%w: code scope recorded without its code state", ErrInvalidFormat)
	}
	c := &CodeDiff{A: *d.ma.Code, B: *d.mb.Code}
	ta, err := ParseHash(c.A.Tree)
	if err != nil {
		return nil, fmt.Errorf("%w: code tree: %v", ErrInvalidFormat, err)
	}
	tb, err := ParseHash(c.B.Tree)
	if err != nil {
		return nil, fmt.Errorf("%w: code tree: %v", ErrInvalidFormat, err)
	}
	if err := d.walkTrees(ctx, "", ta, tb, &c.Files); err != nil {
		return nil, err
	}
	sort.SliceStable(c.Files, func(i, j int) bool { return c.Files[i].Path < c.Files[j].Path })
	return c, nil
}

// walkTrees appends the differences between trees a and b (either may be
// ZeroHash: empty) under prefix. Equal subtrees are skipped by hash, so
// the cost follows the size of the change, not of the tree.
func (d *differ) walkTrees(ctx context.Context, prefix string, a, b Hash, out *[]PathChange) error {
	if a == b {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ea, err := d.treeEntries(ctx, a)
	if err != nil {
		return err
	}
	eb, err := d.treeEntries(ctx, b)
	if err != nil {
		return err
	}
	for _, name := range sortedUnion(ea, eb) {
		x, inA := ea[name]
		y, inB := eb[name]
		p := prefix + name
		switch {
		case inA && inB && x.Hash == y.Hash && x.Mode == y.Mode:
			continue
		case inA && inB && x.Mode == ModeDir && y.Mode == ModeDir:
			err = d.walkTrees(ctx, p+"/", x.Hash, y.Hash, out)
		case inA && inB && x.Mode != ModeDir && y.Mode != ModeDir:
			st := DiffModified
			if kindOfMode(x.Mode) != kindOfMode(y.Mode) {
				st = DiffTypeChg
			} else if x.Hash == y.Hash {
				st = DiffModeOnly
			}
			*out = append(*out, PathChange{Path: p, Status: st, OldMode: x.Mode, NewMode: y.Mode})
		default: // only on one side, or a file on one side and a directory on the other
			if inA {
				err = d.oneSide(ctx, p, x, DiffRemoved, out)
			}
			if err == nil && inB {
				err = d.oneSide(ctx, p, y, DiffAdded, out)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// oneSide lists e (recursively for a directory) as added or removed.
func (d *differ) oneSide(ctx context.Context, p string, e TreeEntry, status string, out *[]PathChange) error {
	if e.Mode == ModeDir {
		if status == DiffAdded {
			return d.walkTrees(ctx, p+"/", ZeroHash, e.Hash, out)
		}
		return d.walkTrees(ctx, p+"/", e.Hash, ZeroHash, out)
	}
	pc := PathChange{Path: p, Status: status}
	if status == DiffAdded {
		pc.NewMode = e.Mode
	} else {
		pc.OldMode = e.Mode
	}
	*out = append(*out, pc)
	return nil
}

func (d *differ) treeEntries(ctx context.Context, h Hash) (map[string]TreeEntry, error) {
	out := map[string]TreeEntry{}
	if h.IsZero() {
		return out, nil
	}
	es, err := d.repo.ReadTree(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("read code tree %s: %w", h.String()[:12], err)
	}
	for _, e := range es {
		out[e.Name] = e
	}
	return out, nil
}

// kindOfMode groups tree modes: regular files (any permission), symlinks,
// submodules.
func kindOfMode(m uint32) uint32 {
	if m == ModeExecutable {
		return ModeFile
	}
	return m
}

// diffDatabases compares database artifacts by name.
func diffDatabases(as, bs map[string]Artifact) []DatabaseDiff {
	var out []DatabaseDiff
	for _, name := range sortedUnion(as, bs) {
		a, inA := as[name]
		b, inB := bs[name]
		dd := DatabaseDiff{Name: name}
		if inA {
			dd.A = databaseState(a)
		}
		if inB {
			dd.B = databaseState(b)
		}
		switch {
		case !inA:
			dd.Status = DiffAdded
		case !inB:
			dd.Status = DiffRemoved
		case a.SHA256 == b.SHA256 && a.Size == b.Size:
			dd.Status = DiffUnchanged
		default:
			dd.Status = DiffChanged
		}
		if inA && inB && dd.A.SchemaVersion != "" && dd.B.SchemaVersion != "" && dd.A.SchemaVersion != dd.B.SchemaVersion {
			dd.SchemaChange = versionChange(dd.A.SchemaVersion, dd.B.SchemaVersion)
		}
		out = append(out, dd)
	}
	return out
}

// databaseState reads the meta keys the database scope records ("driver",
// "server_version", "size", "schema_version", "tables"); a missing or
// malformed number is -1.
func databaseState(a Artifact) *DatabaseState {
	num := func(k string) int64 {
		n, err := strconv.ParseInt(a.Meta[k], 10, 64)
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	return &DatabaseState{
		Driver:        a.Meta["driver"],
		ServerVersion: a.Meta["server_version"],
		Size:          num("size"),
		DumpSize:      a.Size,
		SchemaVersion: a.Meta["schema_version"],
		Tables:        int(num("tables")),
		SHA256:        a.SHA256,
	}
}
