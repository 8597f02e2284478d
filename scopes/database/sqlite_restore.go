package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// sqliteSidecars are the files SQLite keeps next to a database. After the
// rename they belong to the old file and would be replayed into the new
// one (a stale -wal or hot -journal corrupts it), so they go.
var sqliteSidecars = []string{"-wal", "-shm", "-journal"}

// Restore implements Driver (see SQLite for the steps). The swap happens
// only after r returned io.EOF, so a dump that fails its digest check is
// never installed.
func (d *SQLite) Restore(ctx context.Context, t Target, r io.Reader, recorded Info) error {
	p, err := sqlitePath(t)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("database %s: create directory: %w", t.Config.Name, err)
	}
	tmpPath, err := sqliteLoad(ctx, t, dir, "."+filepath.Base(p)+".git-snap-*.tmp", "the directory of "+t.Config.Path, r, recorded)
	if err != nil {
		return err
	}
	return sqliteInstall(ctx, t.Config.Name, tmpPath, p)
}

var _ Stager = (*SQLite)(nil)

// Stage implements Stager. The dump is loaded and checked (as Restore
// does) in TempDir, outside the worktree: a file next to the database
// would be seen by the safety snapshot's code and files scopes taken
// meanwhile, and removed by their restore before Commit. Like a capture
// copy, it needs room for the database in TempDir. When TempDir lies
// inside the worktree, Stage returns nil: the database is restored in
// Commit.
func (d *SQLite) Stage(ctx context.Context, t Target, r io.Reader, recorded Info) (StagedDB, error) {
	p, err := sqlitePath(t)
	if err != nil {
		return nil, err
	}
	tmpDir := d.TempDir
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	if within(t.Root, tmpDir) {
		return nil, nil
	}
	staged, err := sqliteLoad(ctx, t, tmpDir, "git-snap-stage-*.db", "the temporary directory ($TMPDIR)", r, recorded)
	if err != nil {
		return nil, err
	}
	return &sqliteStaged{name: t.Config.Name, path: p, staged: staged}, nil
}

// sqliteStaged is a checked database file in TempDir.
type sqliteStaged struct {
	name   string // the [[database]] entry
	path   string // the live database file
	staged string // "" once committed or discarded
}

// Commit implements StagedDB: the staged file is moved next to the
// database (a rename on the same file system, else a copy) and installed
// as Restore does.
func (st *sqliteStaged) Commit(ctx context.Context) error {
	if st.staged == "" {
		return fmt.Errorf("database %s: the loaded copy was already committed or discarded", st.name)
	}
	staged := st.staged
	st.staged = ""
	defer removeSQLiteFiles(staged) // gone after a rename
	dir := filepath.Dir(st.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("database %s: create directory: %w", st.name, err)
	}
	tmpPath, err := sqliteMoveInto(ctx, st.name, staged, dir, "."+filepath.Base(st.path)+".git-snap-*.tmp")
	if err != nil {
		return err
	}
	return sqliteInstall(ctx, st.name, tmpPath, st.path)
}

// Discard implements StagedDB.
func (st *sqliteStaged) Discard(context.Context) error {
	if st.staged != "" {
		removeSQLiteFiles(st.staged)
		st.staged = ""
	}
	return nil
}

// sqliteLoad writes the dump from r to a new file in dir (named after
// pattern; where names dir in a hint), fsyncs it and checks it
// (sqlitePrepare). It returns the file's path; on failure the file is
// removed.
func sqliteLoad(ctx context.Context, t Target, dir, pattern, where string, r io.Reader, recorded Info) (string, error) {
	name := t.Config.Name
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", gitsnap.WithHint(fmt.Errorf("database %s: create temporary file: %w", name, err),
			"%s must be writable", where)
	}
	tmpPath := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			removeSQLiteFiles(tmpPath)
		}
	}()
	if _, err := io.Copy(tmp, ctxReader{ctx: ctx, r: r}); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("database %s: restore: %w", name, ctx.Err())
		}
		return "", gitsnap.WithHint(fmt.Errorf("database %s: read dump: %w", name, err),
			"the live database was not touched; run git snap check to find damaged snapshot objects")
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("database %s: sync temporary file: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("database %s: close temporary file: %w", name, err)
	}
	if err := sqlitePrepare(ctx, tmpPath, recorded.Meta["journal_mode"] == "wal"); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("database %s: restore: %w", name, ctx.Err())
		}
		return "", gitsnap.WithHint(fmt.Errorf("database %s: the dump is not a valid SQLite database: %w", name, err),
			"the live database was not touched; the snapshot's dump is damaged")
	}
	ok = true
	return tmpPath, nil
}

// sqliteMoveInto moves the checked file src to a new file in dir named
// after pattern: a rename when both are on one file system, else a copy
// (fsynced). src is left for the caller to remove.
func sqliteMoveInto(ctx context.Context, name, src, dir, pattern string) (string, error) {
	dst, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("database %s: create temporary file: %w", name, err)
	}
	dstPath := dst.Name()
	if err := os.Rename(src, dstPath); err == nil {
		_ = dst.Close()
		return dstPath, nil
	}
	err = func() error {
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		if _, err := io.Copy(dst, ctxReader{ctx: ctx, r: in}); err != nil {
			return err
		}
		return dst.Sync()
	}()
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		removeSQLiteFiles(dstPath)
		if ctx.Err() != nil {
			return "", fmt.Errorf("database %s: restore: %w", name, ctx.Err())
		}
		return "", fmt.Errorf("database %s: copy the loaded database into place: %w", name, err)
	}
	return dstPath, nil
}

// sqliteInstall puts the checked file tmpPath (in p's directory) in place
// of the database p, keeping p's permissions; tmpPath is removed on
// failure.
func sqliteInstall(ctx context.Context, name, tmpPath, p string) error {
	installed := false
	defer func() {
		if !installed {
			removeSQLiteFiles(tmpPath)
		}
	}()
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(p); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.Chmod(tmpPath, mode); err != nil {
		return fmt.Errorf("database %s: chmod temporary file: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("database %s: restore: %w", name, err)
	}

	// Settle the old database so its sidecar files hold nothing we could
	// lose or replay: checkpoint a WAL, roll back a hot journal. If it
	// cannot be opened (corrupt, not a database) its sidecars are removed
	// now, before the rename, so they never meet the new file.
	if _, err := os.Stat(p); err == nil {
		if err := sqliteSettle(ctx, p); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("database %s: restore: %w", name, ctx.Err())
			}
			removeSidecars(p)
		}
	}
	if err := os.Rename(tmpPath, p); err != nil {
		return fmt.Errorf("database %s: install restored file: %w", name, err)
	}
	installed = true
	removeSidecars(p)
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("database %s: sync directory: %w", name, err)
	}
	return nil
}

// sqlitePrepare checks a restored file with PRAGMA integrity_check and
// puts it back in WAL mode when the captured database was (VACUUM INTO
// always writes a rollback-journal file), then syncs it.
func sqlitePrepare(ctx context.Context, path string, wal bool) error {
	db, err := sqliteOpen(path, "rw")
	if err != nil {
		return err
	}
	check := func() error {
		rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
		if err != nil {
			return err
		}
		defer rows.Close()
		var problems []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			if line != "ok" {
				problems = append(problems, line)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(problems) > 0 {
			return fmt.Errorf("integrity_check: %s", oneLine(strings.Join(problems, "; ")))
		}
		if wal {
			var m string
			if err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&m); err != nil {
				return err
			}
		}
		return nil
	}
	err = check()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Closing the last connection checkpoints and removes the WAL; make
	// sure nothing is left beside the file that would have to travel with it.
	for _, s := range sqliteSidecars {
		if fi, err := os.Stat(path + s); err == nil && fi.Size() > 0 && s != "-shm" {
			return fmt.Errorf("unexpected %s file left after the check", s)
		}
		_ = os.Remove(path + s)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// sqliteSettle opens the old database read-write, checkpoints and
// truncates its WAL and reads the schema (which rolls back a hot journal).
func sqliteSettle(ctx context.Context, path string) error {
	db, err := sqliteOpen(path, "rw")
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return err
	}
	var busy, logFrames, checkpointed int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed); err != nil {
		return err
	}
	if busy != 0 {
		return errors.New("the database is busy: another process holds it open")
	}
	return db.Close()
}

func removeSidecars(path string) {
	for _, s := range sqliteSidecars {
		_ = os.Remove(path + s)
	}
}

func removeSQLiteFiles(path string) {
	_ = os.Remove(path)
	removeSidecars(path)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// within reports whether dir is root or lies below it (symbolic links
// resolved where they can be).
func within(root, dir string) bool {
	resolve := func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return p
	}
	rel, err := filepath.Rel(resolve(root), resolve(dir))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
