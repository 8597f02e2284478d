package database

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
)

// benchDB builds a SQLite database of about rows*140 bytes of random text.
func benchDB(b *testing.B, rows int) (string, Target) {
	b.Helper()
	root := b.TempDir()
	p := filepath.Join(root, "bench.db")
	db, err := sqliteOpen(p, "rwc")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT, n INTEGER)"); err != nil {
		b.Fatal(err)
	}
	tx, _ := db.Begin()
	st, _ := tx.Prepare("INSERT INTO t (body, n) VALUES (?, ?)")
	buf := make([]byte, 60)
	for i := 0; i < rows; i++ {
		_, _ = rand.Read(buf)
		if _, err := st.Exec(hex.EncodeToString(buf), i); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return p, Target{Root: root, Config: gitsnap.DatabaseConfig{Name: "bench", Driver: "sqlite", Path: "bench.db"}}
}

// BenchmarkSQLite measures a dump (VACUUM INTO + stream) and a restore
// (write, fsync, integrity_check, swap) of a ~28 MB database.
func BenchmarkSQLite(b *testing.B) {
	p, tg := benchDB(b, 200_000)
	fi, _ := os.Stat(p)
	d := NewSQLite()
	ctx := context.Background()
	b.Run("Dump", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for i := 0; i < b.N; i++ {
			if _, err := d.Dump(ctx, tg, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	var dump bytes.Buffer
	if _, err := d.Dump(ctx, tg, &dump); err != nil {
		b.Fatal(err)
	}
	b.Run("Restore", func(b *testing.B) {
		b.SetBytes(int64(dump.Len()))
		for i := 0; i < b.N; i++ {
			if err := d.Restore(ctx, tg, bytes.NewReader(dump.Bytes()), Info{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
