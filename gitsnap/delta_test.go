package gitsnap

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/flate"
)

// dumpLike returns n bytes of COPY-row-like text, different per seed.
func dumpLike(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	var b bytes.Buffer
	for id := 0; b.Len() < n; id++ {
		fmt.Fprintf(&b, "%d\t%d\t%s %s\t{\"k\": %d}\n", id, rng.IntN(100000), words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(1000))
	}
	return b.Bytes()[:n]
}

// editEvery changes one byte every step bytes and appends tail.
func editEvery(base []byte, step int, tail []byte) []byte {
	out := append([]byte(nil), base...)
	for i := step / 2; i < len(out); i += step {
		out[i] ^= 0x20
	}
	return append(out, tail...)
}

func roundTrip(t *testing.T, bases [][]byte, target []byte) deltaResult {
	t.Helper()
	idx := make([]*deltaIndex, len(bases))
	for i, b := range bases {
		idx[i] = newDeltaIndex(b)
	}
	res := encodeDelta(idx, target, len(target)+1)
	delta, used := res.serialize(idx, target)
	var src [][]byte
	for _, u := range used {
		src = append(src, bases[u])
	}
	got, err := applyDelta(src, delta, len(target))
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !bytes.Equal(got, target) {
		t.Fatalf("rebuilt %d bytes that differ from the %d-byte target", len(got), len(target))
	}
	return res
}

func TestDeltaRoundTrip(t *testing.T) {
	base := dumpLike(1, 1<<20)
	other := dumpLike(2, 1<<20)
	tests := []struct {
		name       string
		bases      [][]byte
		target     []byte
		maxLiteral int
	}{
		{"identical", [][]byte{base}, base, 0},
		{"a byte changed every 10 KB", [][]byte{base}, editEvery(base, 10000, nil), 2000},
		{"rows removed and appended at the end", [][]byte{base}, append(append(append([]byte(nil), base[:300000]...), base[310000:]...), base[300000:310000]...), 0},
		{"spanning two bases", [][]byte{base, other}, append(append([]byte(nil), base[len(base)/2:]...), other[:len(other)/2]...), 0},
		{"new bytes", [][]byte{base}, append(editEvery(base[:1000], 100, nil), dumpLike(3, 50000)...), 51000},
		{"unrelated", [][]byte{other}, dumpLike(4, 4096), 4096},
		{"shorter than a block", [][]byte{base}, []byte("0123456789"), 10},
		{"empty target", [][]byte{base}, nil, 0},
		{"empty base", [][]byte{{}}, []byte("abc"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := roundTrip(t, tt.bases, tt.target)
			// Greedy matching may take a repeated window for the wrong
			// place and end a run a few bytes early: allow a little slack.
			if res.literal > tt.maxLiteral+128 {
				t.Errorf("delta inserts %d literal bytes, want at most %d", res.literal, tt.maxLiteral+128)
			}
		})
	}
}

func TestDeltaRandomEdits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	base := dumpLike(5, 300000)
	for i := range 50 {
		target := append([]byte(nil), base...)
		for range rng.IntN(20) {
			at := rng.IntN(len(target) + 1)
			switch rng.IntN(3) {
			case 0: // insert
				target = append(target[:at], append(dumpLike(uint64(i), rng.IntN(500)), target[at:]...)...)
			case 1: // delete
				end := min(len(target), at+rng.IntN(500))
				target = append(target[:at], target[end:]...)
			default: // overwrite
				for k := at; k < min(len(target), at+rng.IntN(50)); k++ {
					target[k] = byte(rng.IntN(256))
				}
			}
		}
		roundTrip(t, [][]byte{base[:len(base)/2], base[len(base)/2:]}, target)
	}
}

func TestApplyDeltaRejectsMalformed(t *testing.T) {
	base := []byte("0123456789abcdef0123456789abcdef")
	hdr := func(src, tgt uint64) []byte {
		return appendUvarints(nil, src, tgt)
	}
	tests := []struct {
		name  string
		delta []byte
		max   int
	}{
		{"empty", nil, 100},
		{"source size differs", append(hdr(31, 4), 4, 'a', 'b', 'c', 'd'), 100},
		{"target larger than allowed", append(hdr(32, 1000), 4, 'a', 'b', 'c', 'd'), 100},
		{"reserved instruction", append(hdr(32, 4), 0), 100},
		{"insert past the delta", append(hdr(32, 4), 10, 'a'), 100},
		{"insert past the target", append(hdr(32, 2), 4, 'a', 'b', 'c', 'd'), 100},
		{"copy outside the source", append(hdr(32, 8), 0x91, 30, 8), 100},
		{"truncated copy", append(hdr(32, 8), 0x91), 100},
		{"short result", append(hdr(32, 8), 4, 'a', 'b', 'c', 'd'), 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := applyDelta([][]byte{base}, tt.delta, tt.max)
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("got %v, want ErrIntegrity", err)
			}
		})
	}
	// A valid one, as a control: copy 16 bytes at 16, insert "xy".
	got, err := applyDelta([][]byte{base[:20], base[20:]}, append(hdr(32, 18), 0x91, 16, 16, 2, 'x', 'y'), 100)
	if err != nil || string(got) != "0123456789abcdefxy" {
		t.Fatalf("control: got %q, %v", got, err)
	}
}

func appendUvarints(b []byte, v ...uint64) []byte {
	for _, x := range v {
		for x >= 0x80 {
			b = append(b, byte(x)|0x80)
			x >>= 7
		}
		b = append(b, byte(x))
	}
	return b
}

func FuzzApplyDelta(f *testing.F) {
	base := dumpLike(9, 4096)
	f.Add(appendUvarints(nil, 4096, 4), []byte{4, 'a', 'b', 'c', 'd'})
	f.Add(appendUvarints(nil, 4096, 16), []byte{0x91, 0, 16})
	f.Add(appendUvarints(nil, 4096, 0x10000), []byte{0x80})
	f.Fuzz(func(t *testing.T, hdr, ops []byte) {
		out, err := applyDelta([][]byte{base[:100], base[100:]}, append(hdr, ops...), 1<<20)
		if err == nil && len(out) > 1<<20 {
			t.Fatalf("rebuilt %d bytes past the limit", len(out))
		}
		if err != nil && !errors.Is(err, ErrIntegrity) {
			t.Fatalf("error %v does not wrap ErrIntegrity", err)
		}
	})
}

func TestDeltaBlobFormat(t *testing.T) {
	target, b1, b2 := HashObject(ObjectBlob, []byte("t")), HashObject(ObjectBlob, []byte("1")), HashObject(ObjectBlob, []byte("2"))
	blob := encodeDeltaBlob(target, []Hash{b1, b2}, []byte("\n\nbinary\x00delta"))
	d, err := parseDeltaBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if d.target != target || len(d.bases) != 2 || d.bases[0] != b1 || d.bases[1] != b2 || string(d.delta) != "\n\nbinary\x00delta" {
		t.Fatalf("parsed %+v", d)
	}
	for name, bad := range map[string]string{
		"no magic":       "target " + target.String() + "\nbase " + b1.String() + "\n\nx",
		"no base":        deltaMagic + "target " + target.String() + "\n\nx",
		"bad hash":       deltaMagic + "target 123\nbase " + b1.String() + "\n\nx",
		"unknown line":   deltaMagic + "target " + target.String() + "\nsize 3\n\nx",
		"base first":     deltaMagic + "base " + b1.String() + "\ntarget " + target.String() + "\n\nx",
		"no terminator":  deltaMagic + "target " + target.String() + "\nbase " + b1.String() + "\n",
		"empty":          "",
		"too many bases": deltaMagic + "target " + target.String() + "\n" + string(bytes.Repeat([]byte("base "+b1.String()+"\n"), maxDeltaBases+1)) + "\nx",
	} {
		if _, err := parseDeltaBlob([]byte(bad)); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s: got %v, want ErrIntegrity", name, err)
		}
	}
}

// TestChunkReaderDeltas reads an artifact whose chunks are full and delta,
// and refuses a delta whose base the snapshot does not list.
func TestChunkReaderDeltas(t *testing.T) {
	f := &fakeBlobs{blobs: map[Hash][]byte{}}
	k0, k1 := dumpLike(11, 600000), dumpLike(12, 700000)
	e0, e1 := f.add(k0), f.add(k1)
	changed := editEvery(append(append([]byte(nil), k0[100000:]...), k1[:200000]...), 5000, []byte("tail\n"))
	idx := []*deltaIndex{newDeltaIndex(k0), newDeltaIndex(k1)}
	res := encodeDelta(idx, changed, len(changed)+1)
	delta, used := res.serialize(idx, changed)
	if len(used) != 2 {
		t.Fatalf("delta uses %d bases, want 2", len(used))
	}
	de := f.add(encodeDeltaBlob(HashObject(ObjectBlob, changed), []Hash{e0.Hash, e1.Hash}, delta))
	cl := chunkList{
		chunks: []chunkRef{{Name: "00000000", Hash: e0.Hash}, {Name: "00000001.d", Hash: de.Hash, Delta: true}, {Name: "00000002", Hash: e1.Hash}},
		bases:  map[Hash]bool{e0.Hash: true, e1.Hash: true},
	}
	got, err := io.ReadAll(newChunkReader(context.Background(), f, cl))
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte(nil), k0...), changed...), k1...)
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d, content differs", len(got), len(want))
	}
	delete(cl.bases, e1.Hash)
	if _, err := io.ReadAll(newChunkReader(context.Background(), f, cl)); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("delta with an unlisted base: got %v, want ErrIntegrity", err)
	}
}

// pgbenchRows returns rows of pgbench_accounts as pg_dump -Fc -Z0 writes
// them (each COPY row in a data block of its own: a sign byte and a 4-byte
// length, then aid, bid, abalance and 84 blanks of filler), for the aids in
// [from, to) that keep accepts.
func pgbenchRows(from, to, abalance int, keep func(aid int) bool) []byte {
	var b []byte
	for aid := from; aid < to; aid++ {
		if !keep(aid) {
			continue
		}
		row := fmt.Sprintf("%d\t%d\t%d\t%84s\n", aid, aid/100000+1, abalance, "")
		b = append(b, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(row)))
		b = append(b, row...)
	}
	return b
}

// TestDeltaRepetitiveRows: after UPDATE … WHERE aid % 100 = 0 pg_dump
// writes pgbench_accounts without every 100th row, which moved to the
// table's end. Every window of blank filler occurs in every row, so a
// delta that loses its place after a removed row would copy from
// unrelated rows, one short copy per row; it must find its place again
// at once: about one copy per removed row.
func TestDeltaRepetitiveRows(t *testing.T) {
	const from, to = 1_000_000, 1_020_000 // ~2 MB, two bases
	all := func(int) bool { return true }
	base := pgbenchRows(from, to, 0, all)
	bases := [][]byte{base[:len(base)/2], base[len(base)/2:]}
	kept := pgbenchRows(from, to, 0, func(aid int) bool { return aid%100 != 0 })
	moved := pgbenchRows(from, to, 1, func(aid int) bool { return aid%100 == 0 })
	removed := (to - from) / 100

	res := roundTrip(t, bases, kept)
	copies := 0
	for _, op := range res.ops {
		if op.base >= 0 {
			copies++
		}
	}
	if res.literal > deltaBlock || copies > removed+removed/10+len(bases) {
		t.Errorf("rows removed: %d copies inserting %d bytes, want about %d copies and no insert but at the start", copies, res.literal, removed)
	}

	// With the moved rows (new bytes) appended, the delta must still
	// compress to at most 5% of what the whole chunk compresses to, issue
	// 3's target for the whole snapshot (it was 12%).
	target := append(kept, moved...)
	res = roundTrip(t, bases, target)
	idx := []*deltaIndex{newDeltaIndex(bases[0]), newDeltaIndex(bases[1])}
	delta, _ := res.serialize(idx, target)
	dz, tz := deflated(t, delta), deflated(t, target)
	if dz*20 > tz {
		t.Errorf("delta of %d bytes deflates to %d, more than 5%% of the %d the whole chunk deflates to", len(delta), dz, tz)
	}
}

func deflated(t *testing.T, data []byte) int {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, levelFast)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Len()
}

// TestDeltaGivesUp: the encoder stops once it would insert maxLiteral
// bytes, and a delta under the limit is the same as without one.
func TestDeltaGivesUp(t *testing.T) {
	base := dumpLike(21, 1<<20)
	idx := []*deltaIndex{newDeltaIndex(base)}
	unrelated := dumpLike(22, 1<<20)
	if res := encodeDelta(idx, unrelated, 1000); res.literal < 1000 || res.literal > 1000+deltaBlock {
		t.Errorf("unrelated target: gave up after %d literal bytes, want 1000", res.literal)
	}
	near := editEvery(base, 10000, nil)
	full, limited := encodeDelta(idx, near, len(near)+1), encodeDelta(idx, near, len(near)/2)
	if full.literal != limited.literal || len(full.ops) != len(limited.ops) {
		t.Errorf("limit changed a delta under it: %d ops, %d literal bytes; want %d, %d", len(limited.ops), limited.literal, len(full.ops), full.literal)
	}
}
