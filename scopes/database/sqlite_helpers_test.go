package database

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openTestDB opens (creating) a SQLite file for test setup.
func openTestDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sqliteOpen(path, "rwc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// execSQL runs statements on the database at path and closes it.
func execSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db := openTestDB(t, path)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// seedDB creates a small application database: two tables, an index, a
// view, a trigger, rows with every storage class, user_version 3.
func seedDB(t *testing.T, path string, wal bool) {
	t.Helper()
	stmts := []string{}
	if wal {
		stmts = append(stmts, "PRAGMA journal_mode=WAL")
	}
	stmts = append(stmts,
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, avatar BLOB)",
		"CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), body TEXT)",
		"CREATE INDEX posts_user ON posts(user_id)",
		"CREATE VIEW user_posts AS SELECT u.name, p.body FROM users u JOIN posts p ON p.user_id = u.id",
		"CREATE TABLE audit (n INTEGER)",
		"CREATE TRIGGER posts_audit AFTER INSERT ON posts BEGIN INSERT INTO audit VALUES (new.id); END",
		"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)",
		"INSERT INTO schema_migrations VALUES (20240101), (20240315)",
		"PRAGMA user_version = 3",
	)
	for i := 1; i <= 50; i++ {
		stmts = append(stmts,
			fmt.Sprintf("INSERT INTO users VALUES (%d, 'user %d', %d.5, x'%02x%02x')", i, i, i, i, 255-i),
			fmt.Sprintf("INSERT INTO posts (user_id, body) VALUES (%d, '%s')", i, strings.Repeat("lorem ipsum ", i)))
	}
	execSQL(t, path, stmts...)
}

// dbState proves equality of two databases: integrity_check, user_version,
// the schema, and a hash of every table's rows in key order. A missing
// file is "missing".
func dbState(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return "missing"
	}
	db, err := sqliteOpen(path, "ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var b strings.Builder
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatalf("integrity_check %s: %v", path, err)
	}
	fmt.Fprintf(&b, "integrity=%s\n", check)
	var uv int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&uv); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "user_version=%d\n", uv)
	rows, err := db.QueryContext(ctx, "SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var typ, name, sqlText string
		if err := rows.Scan(&typ, &name, &sqlText); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, sqlText)
		if typ == "table" && !strings.HasPrefix(name, "sqlite_") {
			tables = append(tables, name)
		}
	}
	rows.Close()
	for _, tb := range tables {
		fmt.Fprintf(&b, "rows %s: %s\n", tb, tableHash(t, db, tb))
	}
	return b.String()
}

// tableHash hashes a table's rows in primary-key (rowid) order, each value
// tagged with its type.
func tableHash(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT * FROM "%s" ORDER BY rowid`, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	h := sha256.New()
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			fmt.Fprintf(h, "%T:%v|", v, v)
		}
		h.Write([]byte{'\n'})
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d rows %s", n, hex.EncodeToString(h.Sum(nil))[:16])
}

// noTempFiles fails if dir holds anything but the expected names.
func noTempFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]bool{}
	for _, w := range want {
		ok[w] = true
	}
	for _, e := range ents {
		if !ok[e.Name()] {
			t.Errorf("unexpected file left in %s: %s", dir, e.Name())
		}
	}
}
