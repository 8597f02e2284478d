package gitsnap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// catFile reads whole blobs through one `git cat-file --batch` process.
// Restoring a dump reads hundreds of MB of chunk blobs; go-git inflates
// them with the standard library's zlib, one byte at a time through a
// bufio.Reader, which on Huffman-only entries (what busy pack writers
// store, docs/format.md "Compression of the objects") ran at about 70 MB/s
// and cost 4 CPU seconds for a 235 MB dump, more than pg_restore itself.
// git inflates the same blobs in a third of the CPU. The chunk reader uses
// it when the repository can start one (batchOpener) and falls back to
// go-git for any object git does not return.
type catFile struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader

	mu     sync.Mutex
	broken error // a protocol error: the process is unusable
}

// batchOpener is implemented by repositories that can read blobs through
// git cat-file --batch.
type batchOpener interface {
	openCatFile(ctx context.Context) (*catFile, error)
}

// startCatFile starts git cat-file --batch on the repository at gitDir;
// it ends with ctx or Close.
func startCatFile(ctx context.Context, gitDir string) (*catFile, error) {
	// git maps packs in windows of up to 1 GiB (8 GiB in all) by default:
	// reading a 2 GiB dump would make its resident size the pack's. Small
	// windows keep it near ours; the reads are sequential anyway.
	cmd := exec.CommandContext(ctx, "git", "--git-dir="+gitDir,
		"-c", "core.packedGitWindowSize=16m", "-c", "core.packedGitLimit=64m", "-c", "core.deltaBaseCacheLimit=16m",
		"cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &catFile{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 256<<10)}, nil
}

// errCatFileMissing: git has no such object (the caller falls back).
var errCatFileMissing = errors.New("git cat-file: object missing")

// readBlob reads blob h, of at most limit bytes, into buf (grown as
// needed) and returns it.
func (c *catFile) readBlob(h Hash, limit int64, buf []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	data, err := c.readLocked(h, limit, buf)
	if err != nil && !errors.Is(err, errCatFileMissing) && !errors.Is(err, ErrIntegrity) {
		c.broken = err // a missing or refused object leaves the stream in step
	}
	return data, err
}

func (c *catFile) readLocked(h Hash, limit int64, buf []byte) ([]byte, error) {
	if _, err := io.WriteString(c.in, h.String()+"\n"); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	f := strings.Fields(line)
	if len(f) == 2 && f[1] == "missing" {
		return nil, errCatFileMissing
	}
	if len(f) != 3 || f[0] != h.String() {
		return nil, fmt.Errorf("git cat-file: unexpected reply %q", strings.TrimSpace(line))
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("git cat-file: unexpected reply %q", strings.TrimSpace(line))
	}
	if f[1] != "blob" || size > limit {
		// Skip the content so the stream stays in step, then refuse.
		if _, err := c.out.Discard(int(size) + 1); err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		if f[1] != "blob" {
			return nil, fmt.Errorf("%w: %s is a %s, not a blob", ErrIntegrity, h.String()[:12], f[1])
		}
		return nil, fmt.Errorf("%w: blob %s is %d bytes, more than a chunk can be", ErrIntegrity, h.String()[:12], size)
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(c.out, buf); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	if b, err := c.out.ReadByte(); err != nil || b != '\n' {
		return nil, errors.New("git cat-file: reply not terminated")
	}
	return buf, nil
}

// Close ends the process.
func (c *catFile) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.in.Close()
	err := c.cmd.Wait()
	if c.broken == nil {
		c.broken = errors.New("git cat-file: closed")
	}
	return err
}

// openCatFile implements batchOpener.
func (r *goGitRepo) openCatFile(ctx context.Context) (*catFile, error) {
	return startCatFile(ctx, r.commonDir)
}
