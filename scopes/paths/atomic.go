package paths

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/git-snap/git-snap/gitsnap"
)

// tempPrefix starts the name of every temporary file a restore creates,
// so that a leftover from a crash is recognisable.
const tempPrefix = ".gitsnap-tmp-"

// maxLinkTarget bounds a symlink target read from a snapshot.
const maxLinkTarget = 64 << 10

// writeFile installs artifact a at abs atomically: a temp file in the same
// directory receives the content, is synced and chmod-ed to the recorded
// mode, then renamed over abs. On any error (including an integrity error
// from the reader) the temp file is removed and abs is left as it was.
func writeFile(ctx context.Context, r gitsnap.ArtifactReader, abs string, a *gitsnap.Artifact) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(abs), tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("create temp file for %s: %w", a.Path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	rc, err := r.Open(ctx, *a)
	if err != nil {
		return fmt.Errorf("open artifact %s: %w", a.Path, err)
	}
	n, err := io.Copy(tmp, ctxReader{ctx, rc})
	rc.Close()
	if err != nil {
		return fmt.Errorf("write %s: %w", a.Path, err)
	}
	if n != a.Size {
		return fmt.Errorf("write %s: %w: got %d bytes, want %d", a.Path, gitsnap.ErrIntegrity, n, a.Size)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", a.Path, err)
	}
	if err := tmp.Chmod(a.Mode.Perm()); err != nil {
		return fmt.Errorf("chmod %s: %w", a.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", a.Path, err)
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return fmt.Errorf("install %s: %w", a.Path, err)
	}
	return nil
}

// writeSymlink installs the link artifact a at abs: the link is created
// under a temp name in the same directory and renamed over abs. The target
// is stored as written and never followed.
func writeSymlink(ctx context.Context, r gitsnap.ArtifactReader, abs string, a *gitsnap.Artifact) error {
	rc, err := r.Open(ctx, *a)
	if err != nil {
		return fmt.Errorf("open artifact %s: %w", a.Path, err)
	}
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, rc}, maxLinkTarget+1))
	rc.Close()
	if err != nil {
		return fmt.Errorf("read link target of %s: %w", a.Path, err)
	}
	if len(b) == 0 || len(b) > maxLinkTarget {
		return fmt.Errorf("%w: link %s has a target of %d bytes", gitsnap.ErrInvalidFormat, a.Path, len(b))
	}
	for attempt := 0; ; attempt++ {
		tmp := filepath.Join(filepath.Dir(abs), tempPrefix+randomSuffix())
		err := os.Symlink(string(b), tmp)
		if errors.Is(err, os.ErrExist) && attempt < 10 {
			continue
		}
		if err != nil {
			return fmt.Errorf("create link %s: %w", a.Path, err)
		}
		if err := os.Rename(tmp, abs); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("install link %s: %w", a.Path, err)
		}
		return nil
	}
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
