package database

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	// The pure-Go SQLite driver: no cgo, no sqlite3 binary.
	_ "modernc.org/sqlite"

	"github.com/git-snap/git-snap/gitsnap"
)

// SQLite is the "sqlite" driver, the embedded default. It needs no server
// and no sqlite3 binary (modernc.org/sqlite is pure Go).
//
// Capture runs `VACUUM INTO` a temporary file and streams that file. VACUUM
// INTO reads inside one read transaction, so the copy is a consistent
// snapshot even while other processes write (in WAL mode they are not even
// blocked; in rollback mode they wait on their busy timeout), and its bytes
// depend only on the content, so an unchanged database gives the same dump
// and the same Git objects. The one cost: a consistent copy of a live SQLite
// file needs a file, so the dump exists once on disk (in TempDir) while it
// is streamed; it is deleted right after. Reading the database file's pages
// directly would avoid it but is not consistent in WAL mode (committed data
// may still sit in the -wal file).
//
// Restore writes the dump to a temporary file in the database's directory,
// fsyncs it, runs PRAGMA integrity_check on it, settles the old database
// (checkpoints its WAL, rolls back a hot journal) and renames the new file
// over it, then removes the old -wal/-shm/-journal files. A failure at any
// step before the rename leaves the old database untouched and removes the
// temporary file. Processes that keep the old database open across the
// rename go on seeing the old (unlinked) file: stop them with restore.stop.
// Staged (Stager, during git snap restore), the file is written and checked
// in TempDir while the safety snapshot is taken, and moved next to the
// database only in Commit.
type SQLite struct {
	// TempDir holds capture copies and staged restores; "" means os.TempDir().
	TempDir string
}

// NewSQLite returns the sqlite driver.
func NewSQLite() Driver { return &SQLite{} }

var (
	_ Driver   = (*SQLite)(nil)
	_ Digester = (*SQLite)(nil)
)

// Name implements Driver.
func (d *SQLite) Name() string { return "sqlite" }

// sqliteBusyTimeout is how long (ms) we wait for a writer's lock.
const sqliteBusyTimeout = 10000

// sqlitePath resolves t.Config.Path inside the worktree.
func sqlitePath(t Target) (string, error) {
	if t.Config.Path == "" {
		return "", gitsnap.WithHint(fmt.Errorf("database %s: no path", t.Config.Name),
			"set path = \"var/app.db\" (relative to the repository root) for database %q in .gitsnap.toml", t.Config.Name)
	}
	p, err := gitsnap.SafeJoin(t.Root, filepath.ToSlash(t.Config.Path))
	if err != nil {
		return "", gitsnap.WithHint(fmt.Errorf("database %s: path %q: %w", t.Config.Name, t.Config.Path, err),
			"the sqlite path must be relative to the repository root, without .. or .git")
	}
	return p, nil
}

// existing returns the database file path, or an error wrapping
// ErrNotExist with a hint when the file is missing.
func (d *SQLite) existing(t Target) (string, error) {
	p, err := sqlitePath(t)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", gitsnap.WithHint(fmt.Errorf("database %s: %s: %w", t.Config.Name, t.Config.Path, ErrNotExist),
			"create the database first (run the app or its migrations), or fix path for database %q in .gitsnap.toml", t.Config.Name)
	}
	if err != nil {
		return "", fmt.Errorf("database %s: %w", t.Config.Name, err)
	}
	if !fi.Mode().IsRegular() {
		return "", gitsnap.WithHint(fmt.Errorf("database %s: %s is not a regular file", t.Config.Name, t.Config.Path),
			"point path at the SQLite database file")
	}
	return p, nil
}

// sqliteOpen opens path with one connection. The driver uses mode "ro" or "rw" (never
// "rwc": we do not create databases by accident).
func sqliteOpen(path, mode string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	u := url.URL{Path: filepath.ToSlash(abs)}
	q := url.Values{}
	q.Set("mode", mode)
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout))
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Inspect implements Driver: the live file's size, SQLite version, tables
// and schema version (the configured query, else PRAGMA user_version).
func (d *SQLite) Inspect(ctx context.Context, t Target) (Info, error) {
	p, err := d.existing(t)
	if err != nil {
		return Info{}, err
	}
	info, err := sqliteFacts(ctx, p, t.Config.SchemaVersion)
	if err != nil {
		return Info{}, sqliteErr(ctx, t, "inspect", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Info{}, fmt.Errorf("database %s: %w", t.Config.Name, err)
	}
	info.Size = fi.Size()
	return info, nil
}

// sqliteFacts reads version, tables, schema version and journal mode.
func sqliteFacts(ctx context.Context, path, schemaQuery string) (Info, error) {
	db, err := sqliteOpen(path, "ro")
	if err != nil {
		return Info{}, err
	}
	defer db.Close()
	info := Info{Meta: map[string]string{}, Tables: []string{}}
	var version, journal string
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
		return Info{}, err
	}
	info.ServerVersion = "SQLite " + version
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
		return Info{}, err
	}
	info.Meta["journal_mode"] = journal
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
	if err != nil {
		return Info{}, err
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return Info{}, err
		}
		info.Tables = append(info.Tables, n)
	}
	if err := rows.Close(); err != nil {
		return Info{}, err
	}
	if err := rows.Err(); err != nil {
		return Info{}, err
	}
	query := schemaQuery
	if query == "" {
		query = "PRAGMA user_version"
	}
	var sv sql.NullString
	if err := db.QueryRowContext(ctx, query).Scan(&sv); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Info{}, fmt.Errorf("schema_version query: %w", err)
	}
	info.SchemaVersion = sv.String
	return info, nil
}

// sqliteErr names the database in a one-line error and keeps ctx errors.
func sqliteErr(ctx context.Context, t Target, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("database %s: %s: %w", t.Config.Name, op, ctx.Err())
	}
	return gitsnap.WithHint(fmt.Errorf("database %s: %s %s: %w", t.Config.Name, op, t.Config.Path, err),
		"check that %s is a readable SQLite database (and the schema_version query, if any)", t.Config.Path)
}

// Dump implements Driver: VACUUM INTO a temporary file, read its facts,
// stream it to w, delete it.
func (d *SQLite) Dump(ctx context.Context, t Target, w io.Writer) (Info, error) {
	p, err := d.existing(t)
	if err != nil {
		return Info{}, err
	}
	tmpDir, err := os.MkdirTemp(d.TempDir, "git-snap-sqlite-*")
	if err != nil {
		return Info{}, fmt.Errorf("database %s: temporary directory: %w", t.Config.Name, err)
	}
	defer os.RemoveAll(tmpDir)
	out := filepath.Join(tmpDir, "dump.db")
	if err := sqliteVacuumInto(ctx, p, out); err != nil {
		return Info{}, sqliteErr(ctx, t, "copy", err)
	}
	// Facts come from the copy, so they match the dump exactly; the schema
	// query runs on the copy and cannot touch the live database.
	info, err := sqliteFacts(ctx, out, t.Config.SchemaVersion)
	if err != nil {
		return Info{}, sqliteErr(ctx, t, "inspect copy of", err)
	}
	if live, err := sqliteJournalMode(ctx, p); err == nil {
		info.Meta["journal_mode"] = live
	}
	info.Meta[MetaDumpFormat] = "sqlite3 database file (VACUUM INTO)"
	f, err := os.Open(out)
	if err != nil {
		return Info{}, fmt.Errorf("database %s: open copy: %w", t.Config.Name, err)
	}
	defer f.Close()
	n, err := io.Copy(w, ctxReader{ctx: ctx, r: f})
	if err != nil {
		if ctx.Err() != nil {
			return Info{}, fmt.Errorf("database %s: dump: %w", t.Config.Name, ctx.Err())
		}
		return Info{}, fmt.Errorf("database %s: stream dump: %w", t.Config.Name, err)
	}
	info.Size = n
	return info, nil
}

// sqliteVacuumInto copies src into the new file dst with VACUUM INTO and
// gives the copy src's schema cookie. VACUUM INTO writes the source's
// cookie plus one, so without this every capture → restore → capture
// cycle would change 4 header bytes and the dump would never repeat. No
// connection has dst open, so no cached schema can go stale.
func sqliteVacuumInto(ctx context.Context, src, dst string) error {
	db, err := sqliteOpen(src, "ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var cookie uint32
	if err := db.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&cookie); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], cookie)
	_, err = f.WriteAt(b[:], sqliteSchemaCookieOffset)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// sqliteSchemaCookieOffset is where the database header keeps the schema
// cookie (https://www.sqlite.org/fileformat.html#schema_cookie).
const sqliteSchemaCookieOffset = 40

func sqliteJournalMode(ctx context.Context, path string) (string, error) {
	db, err := sqliteOpen(path, "ro")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var mode string
	err = db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	return mode, err
}

// Digest implements Digester: the size and sha256 of what Dump would
// write now.
func (d *SQLite) Digest(ctx context.Context, t Target) (int64, string, error) {
	h := sha256.New()
	info, err := d.Dump(ctx, t, h)
	if err != nil {
		return 0, "", err
	}
	return info.Size, hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
