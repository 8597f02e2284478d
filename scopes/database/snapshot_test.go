package database

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// dirSize sums the sizes of the files under dir.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSQLiteInRealRepository runs the scope through the real core: create
// twice (the second, of an unchanged database, must add < 1 MB to .git),
// break the database, restore, and find the same content, with the schema
// version in the manifest.
func TestSQLiteInRealRepository(t *testing.T) {
	if testing.Short() {
		t.Skip("real git repository")
	}
	// git processes the core starts: empty HOME, no system config, fixed identity.
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
		"GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
	} {
		t.Setenv(k, v)
	}
	dir := gitsnaptest.NewGitRepo(t)
	app := filepath.Join(dir, "var/app.db")
	seedDB(t, app, true)
	// About 4 MB of incompressible rows, so the dump spans several chunks.
	execSQL(t, app, "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)",
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) INSERT INTO blobs (data) SELECT randomblob(4000) FROM c")
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("var/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitsnaptest.RunGit(t, dir, "add", ".gitignore")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "init")

	cfg := &gitsnap.Config{
		Snapshot: gitsnap.SnapshotConfig{Scopes: []string{"database"}},
		Database: []gitsnap.DatabaseConfig{{Name: "app", Driver: "sqlite", Path: "var/app.db", SchemaVersion: "SELECT max(version) FROM schema_migrations"}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	snap, err := gitsnap.New(gitsnap.Options{
		Repo:   gitsnaptest.OpenGitRepo(t, dir),
		Config: cfg,
		Scopes: gitsnap.NewRegistry(sqliteScope()),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := dbState(t, app)
	gitDir := filepath.Join(dir, ".git")
	before := dirSize(t, gitDir)
	first, err := snap.Create(ctx, gitsnap.CreateOptions{NoValidate: true, Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	afterFirst := dirSize(t, gitDir)
	if _, err := snap.Create(ctx, gitsnap.CreateOptions{NoValidate: true, Message: "second"}); err != nil {
		t.Fatal(err)
	}
	afterSecond := dirSize(t, gitDir)
	t.Logf(".git: first snapshot +%d KB, second (unchanged) +%d KB", (afterFirst-before)>>10, (afterSecond-afterFirst)>>10)
	if afterFirst-before < 1<<20 {
		t.Errorf("first snapshot added only %d bytes: the dump was not stored", afterFirst-before)
	}
	if grown := afterSecond - afterFirst; grown >= 1<<20 {
		t.Errorf("second snapshot of an unchanged database added %d bytes, want < 1 MB", grown)
	}

	manifest := gitsnaptest.RunGit(t, dir, "show", first.Snapshot.Commit.String()+":snap.json")
	for _, wantText := range []string{`"schema_version": "20240315"`, `"driver": "sqlite"`} {
		if !strings.Contains(strings.ReplaceAll(manifest, `":"`, `": "`), wantText) {
			t.Errorf("manifest lacks %s:\n%s", wantText, manifest)
		}
	}

	execSQL(t, app, "DROP TABLE posts", "DELETE FROM blobs WHERE id % 2 = 0")
	if _, err := snap.Restore(ctx, first.Snapshot.ID, gitsnap.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := dbState(t, app); got != want {
		t.Errorf("database after restore differs:\n%s\nwant:\n%s", got, want)
	}
}
