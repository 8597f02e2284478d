package gitsnap

import (
	"errors"
	"io"
	"sync"
	"syscall"
	"time"
)

// Read-ahead pipe sizes: a database dump streams through readAheadBlocks
// blocks of readAheadBlockSize bytes, so the dump tool keeps writing while
// the chunker waits for the writer pool, and the chunker reads whole
// blocks instead of the 4 KiB pieces a tool writes.
const (
	readAheadBlockSize = 1 << 20
	readAheadBlocks    = 4

	// A read of an enlarged OS pipe that returns less than
	// readAheadShortRead bytes means the tool writes more slowly than we
	// read; the next read then waits readAheadNap, so that the pipe
	// gathers a few hundred KiB instead of waking this goroutine for every
	// 4 KiB write (pg_dump writes 4 KiB at a time: 50,000 wake-ups and
	// about a third of create's system time for a 200 MB dump). A 1 MiB
	// pipe holds a 1 ms nap's output up to 1 GB/s.
	readAheadShortRead = 64 << 10
	readAheadNap       = time.Millisecond
)

// ReadAheadReader is the read half of a read-ahead pipe (NewReadAheadPipe).
type ReadAheadReader struct{ p *readAhead }

// ReadAheadWriter is the write half of a read-ahead pipe.
type ReadAheadWriter struct{ p *readAhead }

// NewReadAheadPipe returns a pipe like io.Pipe whose writer does not wait
// for the reader until 4 MiB are buffered. Its writer implements
// io.ReaderFrom: io.Copy from an OS pipe (what os/exec does with a child's
// stdout) reads straight into the buffer.
// Each half may be used by one goroutine at a time.
func NewReadAheadPipe() (*ReadAheadReader, *ReadAheadWriter) {
	p := &readAhead{
		free: make(chan []byte, readAheadBlocks),
		full: make(chan []byte, readAheadBlocks),
		done: make(chan struct{}),
	}
	for range readAheadBlocks {
		p.free <- nil // allocated on first use
	}
	return &ReadAheadReader{p}, &ReadAheadWriter{p}
}

type readAhead struct {
	free chan []byte // empty blocks, for the writer
	full chan []byte // filled blocks, in order; closed by the writer's close

	// Writer side.
	cur    []byte // the block being filled (len = bytes in it)
	wdone  bool
	werr   error // what the reader sees after the last block; set before full is closed
	closeW sync.Once

	// Reader side.
	rcur []byte // unread part of the block being read
	rblk []byte // that block, to return to free
	rerr error  // sticky read error

	done   chan struct{} // closed by the reader's close
	rclose error         // set before done is closed
	closeR sync.Once
}

// errClosedPipe is what a write sees after the reader closed with nil.
var errClosedPipe = errors.New("read-ahead pipe: reader closed")

// readerClosed returns the reader's close error once it closed.
func (p *readAhead) readerClosed() error {
	select {
	case <-p.done:
		return p.rclose
	default:
		return nil
	}
}

// block returns the writer's current block, waiting for a free one. It
// fails once the reader closed.
func (p *readAhead) block() ([]byte, error) {
	if err := p.readerClosed(); err != nil {
		return nil, err
	}
	if p.cur != nil {
		return p.cur, nil
	}
	select {
	case b := <-p.free:
		if b == nil {
			b = make([]byte, 0, readAheadBlockSize)
		}
		p.cur = b[:0]
		return p.cur, nil
	case <-p.done:
		return nil, p.rclose
	}
}

// publish hands the current block to the reader.
func (p *readAhead) publish() error {
	if len(p.cur) == 0 {
		return nil
	}
	select {
	case p.full <- p.cur: // never blocks: at most readAheadBlocks are out
		p.cur = nil
		return nil
	case <-p.done:
		return p.rclose
	}
}

// Write copies b into the buffer; it waits only while the buffer is full.
func (w *ReadAheadWriter) Write(b []byte) (int, error) {
	p := w.p
	if p.wdone {
		return 0, io.ErrClosedPipe
	}
	n := 0
	for len(b) > 0 {
		cur, err := p.block()
		if err != nil {
			return n, err
		}
		m := min(len(b), cap(cur)-len(cur))
		p.cur = append(cur, b[:m]...)
		b, n = b[m:], n+m
		if len(p.cur) == cap(p.cur) {
			if err := p.publish(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom reads r to EOF straight into the buffer. When r is an OS pipe
// (os/exec's io.Copy of a child's stdout), the pipe is first enlarged to
// a block (Linux: 1 MiB instead of 64 KiB), so the tool runs further
// ahead of this goroutine, and short reads are spaced by readAheadNap.
func (w *ReadAheadWriter) ReadFrom(r io.Reader) (int64, error) {
	p := w.p
	if p.wdone {
		return 0, io.ErrClosedPipe
	}
	nap := enlargePipe(r, readAheadBlockSize)
	var total int64
	for short := false; ; {
		cur, err := p.block()
		if err != nil {
			return total, err
		}
		if short {
			time.Sleep(readAheadNap)
		}
		n, rerr := r.Read(cur[len(cur):cap(cur)])
		short = nap && n < readAheadShortRead
		p.cur = cur[:len(cur)+n]
		total += int64(n)
		if len(p.cur) == cap(p.cur) {
			if err := p.publish(); err != nil {
				return total, err
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// enlargePipe sets r's pipe buffer to size bytes when r is an OS pipe and
// reports whether it did.
func enlargePipe(r io.Reader, size int) bool {
	sc, ok := r.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = false
	if cerr := rc.Control(func(fd uintptr) { ok = setPipeSize(fd, size) }); cerr != nil {
		return false
	}
	return ok
}

// CloseWithError ends the stream: the reader gets the buffered bytes, then
// err (io.EOF when err is nil). Closing twice keeps the first error. It
// cannot fail.
func (w *ReadAheadWriter) CloseWithError(err error) {
	p := w.p
	p.closeW.Do(func() {
		if err == nil {
			err = io.EOF
		}
		if perr := p.publish(); perr != nil && err == io.EOF {
			err = perr
		}
		p.wdone = true
		p.werr = err
		close(p.full)
	})
}

// Close is CloseWithError(nil).
func (w *ReadAheadWriter) Close() error {
	w.CloseWithError(nil)
	return nil
}

// Read reads buffered bytes, waiting for a block when none is left.
func (r *ReadAheadReader) Read(b []byte) (int, error) {
	p := r.p
	if err := p.readerClosed(); err != nil {
		return 0, err
	}
	for len(p.rcur) == 0 {
		if p.rerr != nil {
			return 0, p.rerr
		}
		select {
		case blk, ok := <-p.full:
			if !ok {
				p.rerr = p.werr
				continue
			}
			p.rblk, p.rcur = blk, blk
		case <-p.done:
			p.rerr = p.rclose
		}
	}
	n := copy(b, p.rcur)
	p.rcur = p.rcur[n:]
	if len(p.rcur) == 0 {
		// Give the drained block back at once: the writer may be waiting.
		// free has room for every block, so this never blocks.
		p.free <- p.rblk[:0]
		p.rblk = nil
	}
	return n, nil
}

// CloseWithError stops the stream from the reading side: the writer's
// pending and later writes fail with err (a "reader closed" error when
// err is nil). Closing twice keeps the first error. It cannot fail.
func (r *ReadAheadReader) CloseWithError(err error) {
	p := r.p
	p.closeR.Do(func() {
		if err == nil {
			err = errClosedPipe
		}
		p.rclose = err
		close(p.done)
	})
}

// Close is CloseWithError(nil).
func (r *ReadAheadReader) Close() error {
	r.CloseWithError(nil)
	return nil
}
