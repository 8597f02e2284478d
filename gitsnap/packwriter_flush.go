package gitsnap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Flush finishes the temp pack (real header, SHA-1 trailer), writes its
// version 2 index, fsyncs both, renames them to pack-<sha>.pack and then
// pack-<sha>.idx (git uses a pack once its .idx exists) and makes the
// repository reload its packs. With nothing written it creates no file.
// A failed Flush loses the batch and leaves the writer failing until Abort.
func (w *packWriter) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if len(w.entries) == 0 {
		return w.discardLocked()
	}
	if err := w.finishLocked(); err != nil {
		_ = w.discardLocked()
		w.err = fmt.Errorf("flush pack: %w", err)
		return w.err
	}
	w.f, w.offset, w.entries = nil, 0, nil
	w.target.packsChanged()
	w.resetSeen()
	return nil
}

func (w *packWriter) finishLocked() error {
	f := w.f
	if _, err := f.WriteAt(packFileHeader(len(w.entries)), 0); err != nil {
		return err
	}
	sum, err := sumFile(f, w.offset)
	if err != nil {
		return fmt.Errorf("checksum pack: %w", err)
	}
	if _, err := f.WriteAt(sum, w.offset); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Chmod(0o444); err != nil {
		return err
	}
	idxName, err := w.writeIndex(sum)
	if err != nil {
		return err
	}
	base := filepath.Join(w.dir, "pack-"+hex.EncodeToString(sum))
	if err := os.Rename(f.Name(), base+".pack"); err != nil {
		os.Remove(idxName)
		return err
	}
	f.Close()
	if err := os.Rename(idxName, base+".idx"); err != nil {
		os.Remove(idxName)
		return err
	}
	return syncDir(w.dir)
}

// writeIndex writes the pack index (gitformat-pack(5), version 2) to a
// temp file and returns its name: magic, version, 256-entry fanout, sorted
// object names, CRC32s, 31-bit offsets (high bit set = index into the
// 64-bit offset table), 64-bit offsets, pack checksum, index checksum.
func (w *packWriter) writeIndex(packSum []byte) (string, error) {
	entries := w.entries
	sort.Slice(entries, func(i, j int) bool {
		return bytes.Compare(entries[i].hash[:], entries[j].hash[:]) < 0
	})
	f, err := os.CreateTemp(w.dir, "tmp_idx_*")
	if err != nil {
		return "", fmt.Errorf("create pack index: %w", err)
	}
	err = encodeIndex(f, entries, packSum)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(0o444)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write pack index: %w", err)
	}
	return f.Name(), nil
}

// encodeIndex writes an idx v2 for entries sorted by hash.
func encodeIndex(out io.Writer, entries []packEntry, packSum []byte) error {
	d := sha1.New()
	bw := bufio.NewWriterSize(io.MultiWriter(out, d), 1<<16)
	var u32 [4]byte
	put32 := func(v uint32) {
		binary.BigEndian.PutUint32(u32[:], v)
		bw.Write(u32[:])
	}
	bw.Write([]byte{0xff, 't', 'O', 'c'})
	put32(2)
	var fanout [256]uint32
	for _, e := range entries {
		fanout[e.hash[0]]++
	}
	var total uint32
	for i := range fanout {
		total += fanout[i]
		put32(total)
	}
	for _, e := range entries {
		bw.Write(e.hash[:])
	}
	for _, e := range entries {
		put32(e.crc)
	}
	var large []int64
	for _, e := range entries {
		if e.offset < 1<<31 {
			put32(uint32(e.offset))
			continue
		}
		put32(1<<31 | uint32(len(large)))
		large = append(large, e.offset)
	}
	for _, off := range large {
		var u64 [8]byte
		binary.BigEndian.PutUint64(u64[:], uint64(off))
		bw.Write(u64[:])
	}
	bw.Write(packSum)
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := out.Write(d.Sum(nil))
	return err
}

// syncDir fsyncs a directory so that renames in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
