package gitsnap

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxSymlinkTarget bounds a symlink target read for display.
const maxSymlinkTarget = 4096

// content fills fd's patch, package list or note from the two contents.
func (d *differ) content(ctx context.Context, scope string, fd *FileDiff) error {
	a, b := fd.A, fd.B
	if (a != nil && a.Kind == KindSymlink) || (b != nil && b.Kind == KindSymlink) {
		return d.symlinkNote(ctx, scope, fd)
	}
	if kind := lockfileKind(fd.Path); kind != "" {
		done, err := d.lockfile(ctx, scope, kind, fd)
		if err != nil || done {
			return err
		}
	}
	for _, x := range []*Artifact{a, b} {
		if x != nil && x.Size > d.opts.MaxTextSize {
			fd.Note = fmt.Sprintf("larger than %d bytes: no text diff", d.opts.MaxTextSize)
			return nil
		}
	}
	da, err := d.read(ctx, d.ta, d.ma, scope, a, d.opts.MaxTextSize)
	if err != nil {
		return err
	}
	db, err := d.read(ctx, d.tb, d.mb, scope, b, d.opts.MaxTextSize)
	if err != nil {
		return err
	}
	switch {
	case isSecretFile(fd.Path, da) || isSecretFile(fd.Path, db):
		fd.Note = "secret file: content not shown"
	case !showableText(da) || !showableText(db):
		fd.Note = "binary"
	default:
		from, to := "a/"+fd.Path, "b/"+fd.Path
		if a == nil {
			from = "/dev/null"
		}
		if b == nil {
			to = "/dev/null"
		}
		fd.Patch = unifiedDiff(from, to, d.mask.text(fd.Path, string(da)), d.mask.text(fd.Path, string(db)), d.opts.Context)
	}
	return nil
}

// lockfile compares a lockfile at package level. It reports done=false
// when the text diff should be shown instead (a side does not parse).
func (d *differ) lockfile(ctx context.Context, scope, kind string, fd *FileDiff) (bool, error) {
	parsed := make([]map[string][]string, 2)
	for i, side := range []struct {
		t *snapshotTree
		m *Manifest
		a *Artifact
	}{{d.ta, d.ma, fd.A}, {d.tb, d.mb, fd.B}} {
		if side.a == nil {
			continue
		}
		if side.a.Size > maxLockfileSize {
			return false, nil
		}
		data, err := d.read(ctx, side.t, side.m, scope, side.a, maxLockfileSize)
		if err != nil {
			return false, err
		}
		p, err := parseLockfile(kind, data)
		if err != nil {
			return false, nil
		}
		parsed[i] = p
	}
	fd.Lockfile = kind
	switch fd.Status {
	case DiffAdded:
		fd.Note = fmt.Sprintf("%s with %d packages", kind, len(parsed[1]))
	case DiffRemoved:
		fd.Note = fmt.Sprintf("%s with %d packages", kind, len(parsed[0]))
	default:
		fd.Packages = diffPackages(parsed[0], parsed[1])
		if len(fd.Packages) == 0 {
			fd.Note = "no package changes (checksums or metadata only)"
		}
	}
	return true, nil
}

// symlinkNote describes a change that involves a symlink.
func (d *differ) symlinkNote(ctx context.Context, scope string, fd *FileDiff) error {
	target := func(t *snapshotTree, m *Manifest, a *Artifact) (string, error) {
		if a == nil || a.Kind != KindSymlink {
			return "", nil
		}
		b, err := d.read(ctx, t, m, scope, a, maxSymlinkTarget)
		return string(b), err
	}
	ta, err := target(d.ta, d.ma, fd.A)
	if err != nil {
		return err
	}
	tb, err := target(d.tb, d.mb, fd.B)
	if err != nil {
		return err
	}
	switch {
	case fd.A == nil:
		fd.Note = "symlink → " + tb
	case fd.B == nil:
		fd.Note = "symlink → " + ta
	case fd.A.Kind != KindSymlink:
		fd.Note = "file became a symlink → " + tb
	case fd.B.Kind != KindSymlink:
		fd.Note = "symlink → " + ta + " became a file"
	default:
		fd.Note = "symlink → " + ta + ", now → " + tb
	}
	return nil
}

// read returns an artifact's verified content (nil for a missing side).
// Content larger than limit is an error: callers check sizes first.
func (d *differ) read(ctx context.Context, t *snapshotTree, m *Manifest, scope string, a *Artifact, limit int64) ([]byte, error) {
	if a == nil {
		return nil, nil
	}
	if a.Size > limit {
		return nil, fmt.Errorf("read %s: %d bytes is over the %d-byte limit", a.Path, a.Size, limit)
	}
	rc, err := newScopeReader(t, m, scope).Open(ctx, *a)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", a.Path, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(a.Size))
	if _, err := io.Copy(&buf, rc); err != nil {
		return nil, fmt.Errorf("read %s: %w", a.Path, err)
	}
	return buf.Bytes(), nil
}

// isText reports whether data can be shown as text: valid UTF-8, no NUL.
func showableText(data []byte) bool {
	return utf8.Valid(data) && bytes.IndexByte(data, 0) < 0
}
