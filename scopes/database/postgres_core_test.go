package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

// coreRoundTrip runs a server driver through the real core (shared by the
// postgres, mysql and redis tests): a first snapshot, a second one of the
// unchanged database that must add < 1 MB to .git, damage, a restore, and
// the state read back equal. It returns the first snapshot's manifest.
func coreRoundTrip(t *testing.T, drv Driver, db gitsnap.DatabaseConfig, url string, damage func(), state func() string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("real git repository")
	}
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
		"GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
	} {
		t.Setenv(k, v)
	}
	dir := gitsnaptest.NewGitRepo(t)
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitsnaptest.RunGit(t, dir, "add", "README")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "init")

	db.URLEnv = "GITSNAP_TEST_DB_URL"
	cfg := &gitsnap.Config{Snapshot: gitsnap.SnapshotConfig{Scopes: []string{"database"}}, Database: []gitsnap.DatabaseConfig{db}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == db.URLEnv {
			return url
		}
		return ""
	}
	snap, err := gitsnap.New(gitsnap.Options{
		Repo:   gitsnaptest.OpenGitRepo(t, dir),
		Config: cfg,
		Scopes: gitsnap.NewRegistry(New(WithDrivers(NewDrivers(drv)), WithGetenv(getenv))),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := state()
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
	damage()
	if state() == want {
		t.Fatal("damage did not change the state")
	}
	if _, err := snap.Restore(ctx, first.Snapshot.ID, gitsnap.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := state(); got != want {
		t.Errorf("database after restore differs:\n%.2000s\nwant:\n%.2000s", got, want)
	}
	manifest := gitsnaptest.RunGit(t, dir, "show", first.Snapshot.Commit.String()+":snap.json")
	if strings.Contains(manifest, "s3cret") {
		t.Errorf("manifest holds the password:\n%s", manifest)
	}
	return strings.ReplaceAll(manifest, `":"`, `": "`)
}

// randomHex returns n random bytes in hex, for incompressible test data.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestPostgresInRealRepository(t *testing.T) {
	admin := pgAdminURL(t)
	role := pgRole(t, admin)
	_, url, name := pgTestDB(t)
	pgFixture(t, url, name, role)
	// About 4 MB of incompressible rows, so the dump spans several chunks.
	pgSQL(t, url, `CREATE TABLE blobs (id int PRIMARY KEY, data bytea);
INSERT INTO blobs SELECT g, (SELECT decode(string_agg(md5(random()::text || g || x), ''), 'hex') FROM generate_series(1, 250) x) FROM generate_series(1, 1000) g;`)
	db := gitsnap.DatabaseConfig{Name: "main", Driver: "postgres", SchemaVersion: "SELECT max(version) FROM app.schema_migrations"}
	manifest := coreRoundTrip(t, NewPostgres(ExecRunner{}), db, url,
		func() {
			pgSQL(t, url, "DROP TABLE pairs; DELETE FROM blobs WHERE id % 2 = 0; DELETE FROM app.schema_migrations WHERE version = 20240315;")
		},
		func() string { return strings.Join(pgFingerprint(t, url), "\n") })
	for _, want := range []string{`"schema_version": "20240315"`, `"driver": "postgres"`, `"dump_format": "pg_dump custom, uncompressed"`} {
		if !strings.Contains(manifest, want) {
			t.Errorf("manifest lacks %s:\n%s", want, manifest)
		}
	}
	if !strings.Contains(manifest, "pg_database") {
		t.Errorf("manifest lacks the database properties:\n%s", manifest)
	}
}
