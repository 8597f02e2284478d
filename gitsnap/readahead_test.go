package gitsnap

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestReadAheadPipeCopies: what is written in any pieces is read back in
// any pieces, then io.EOF.
func TestReadAheadPipeCopies(t *testing.T) {
	data := randomBytes(7, 3*readAheadBlockSize+12345)
	for _, wsize := range []int{1, 4096, 1 << 20, len(data)} {
		for _, rsize := range []int{7, 512 << 10, 3 << 20} {
			pr, pw := NewReadAheadPipe()
			go func() {
				for p := data; len(p) > 0; {
					n := min(wsize, len(p))
					if _, err := pw.Write(p[:n]); err != nil {
						pw.CloseWithError(err)
						return
					}
					p = p[n:]
				}
				_ = pw.Close()
			}()
			got, err := io.ReadAll(struct{ io.Reader }{readSized{pr, rsize}})
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("write %d, read %d: got %d bytes, %v; want %d bytes", wsize, rsize, len(got), err, len(data))
			}
			if n, err := pr.Read(make([]byte, 10)); n != 0 || err != io.EOF {
				t.Fatalf("Read after EOF = %d, %v", n, err)
			}
		}
	}
}

// readSized reads at most n bytes per call.
type readSized struct {
	r io.Reader
	n int
}

func (r readSized) Read(p []byte) (int, error) { return r.r.Read(p[:min(len(p), r.n)]) }

// TestReadAheadPipeBuffers: the writer goes on without a reader until the
// buffer is full, then waits.
func TestReadAheadPipeBuffers(t *testing.T) {
	pr, pw := NewReadAheadPipe()
	if n, err := pw.Write(make([]byte, readAheadBlocks*readAheadBlockSize)); err != nil || n != readAheadBlocks*readAheadBlockSize {
		t.Fatalf("Write of the buffer size = %d, %v", n, err)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := pw.Write([]byte("more"))
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("a write past the buffer returned (%v) before anything was read", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := io.ReadFull(pr, make([]byte, readAheadBlockSize)); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write after a block was read: %v", err)
	}
}

// TestReadAheadPipeErrors: a writer's error reaches the reader after the
// data; a reader's close fails the writer at once, also one waiting for
// room.
func TestReadAheadPipeErrors(t *testing.T) {
	boom := errors.New("dump failed")
	pr, pw := NewReadAheadPipe()
	go func() {
		_, _ = pw.Write([]byte("partial"))
		pw.CloseWithError(boom)
	}()
	got, err := io.ReadAll(pr)
	if string(got) != "partial" || !errors.Is(err, boom) {
		t.Fatalf("ReadAll = %q, %v; want the data, then %v", got, err, boom)
	}

	stop := errors.New("store failed")
	pr, pw = NewReadAheadPipe()
	blocked := make(chan error, 1)
	go func() {
		_, err := pw.Write(make([]byte, (readAheadBlocks+1)*readAheadBlockSize))
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	pr.CloseWithError(stop)
	if err := <-blocked; !errors.Is(err, stop) {
		t.Fatalf("blocked Write = %v, want %v", err, stop)
	}
	if _, err := pw.Write([]byte("x")); !errors.Is(err, stop) {
		t.Fatalf("Write after the reader closed = %v, want %v", err, stop)
	}
	if _, err := pw.ReadFrom(bytes.NewReader([]byte("x"))); !errors.Is(err, stop) {
		t.Fatalf("ReadFrom after the reader closed = %v, want %v", err, stop)
	}
	if _, err := pr.Read(make([]byte, 1)); !errors.Is(err, stop) {
		t.Fatalf("Read after close = %v, want %v", err, stop)
	}
}

// TestReadAheadPipeFromCommand: os/exec copies a child's stdout with
// io.Copy, which uses the writer's ReadFrom; on Linux the child's pipe is
// enlarged and the bytes arrive intact.
func TestReadAheadPipeFromCommand(t *testing.T) {
	if _, err := exec.LookPath("cat"); err != nil {
		t.Skip("no cat")
	}
	data := randomBytes(8, 5*readAheadBlockSize+777)
	src := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pr, pw := NewReadAheadPipe()
	cmd := exec.Command("cat", src)
	cmd.Stdout = pipeSizeProbe{pw: pw, t: t}
	go func() { pw.CloseWithError(cmd.Run()) }()
	got, err := io.ReadAll(pr)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(data))
	}
}

// pipeSizeProbe checks, on Linux, that ReadFrom is handed the OS pipe and
// enlarges it.
type pipeSizeProbe struct {
	pw *ReadAheadWriter
	t  *testing.T
}

func (p pipeSizeProbe) Write(b []byte) (int, error) {
	p.t.Error("os/exec wrote instead of calling ReadFrom")
	return p.pw.Write(b)
}

func (p pipeSizeProbe) ReadFrom(r io.Reader) (int64, error) {
	if runtime.GOOS == "linux" && !enlargePipe(r, readAheadBlockSize) {
		p.t.Error("ReadFrom's reader is not an OS pipe that can be enlarged")
	}
	return p.pw.ReadFrom(r)
}
