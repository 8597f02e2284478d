package gitsnap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// readPackedRefs parses <commonDir>/packed-refs ("<hex> <name>" lines;
// "#" header and "^" peeled lines ignored). A missing file is empty.
func readPackedRefs(commonDir string) (map[string]Hash, error) {
	data, err := os.ReadFile(filepath.Join(commonDir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Hash{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read packed-refs: %w", err)
	}
	refs := map[string]Hash{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 || line[0] == '#' || line[0] == '^' {
			continue
		}
		hex, name, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			return nil, fmt.Errorf("read packed-refs: bad line %q", line)
		}
		h, err := ParseHash(string(hex))
		if err != nil {
			return nil, fmt.Errorf("read packed-refs: %w", err)
		}
		refs[string(bytes.TrimRight(name, "\r"))] = h
	}
	return refs, nil
}

// removePackedRef rewrites packed-refs without name (and its peeled line)
// under packed-refs.lock.
func removePackedRef(ctx context.Context, commonDir, name string) error {
	path := filepath.Join(commonDir, "packed-refs")
	lock, err := acquireLockWait(ctx, path, packedRefsTimeout)
	if err != nil {
		return err
	}
	defer lock.rollback()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read packed-refs: %w", err)
	}
	var out bytes.Buffer
	skipPeeled := false
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) > 0 && line[0] == '^' && skipPeeled {
			continue
		}
		skipPeeled = false
		if _, n, ok := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" ")); ok && line[0] != '#' && string(n) == name {
			skipPeeled = true
			continue
		}
		out.Write(line)
	}
	return lock.commit(out.Bytes())
}
