package database

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
)

func TestWithDatabase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@h:5432/app?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"mysql://root@127.0.0.1:3306/app", "mysql://root@127.0.0.1:3306/x"},
		{"host=h dbname=app user=u", "host=h dbname=x user=u"},
		{"host=h dbname='my app' user=u", "host=h dbname=x user=u"},
		{"host=h user=u", "host=h user=u dbname=x"},
		{"root:pw@tcp(127.0.0.1:3306)/app?parseTime=true", "root:pw@tcp(127.0.0.1:3306)/x?parseTime=true"},
	}
	for _, tc := range tests {
		got, err := withDatabase(tc.in, "x")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// A drill of a PostgreSQL snapshot loads the dump into a temporary
// database on the same server, runs the checks against it through the
// connection variable, leaves the live database alone and drops the
// temporary one afterwards.
func TestVerifyDrillsPostgresInATemporaryDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("real server and git repository")
	}
	admin, url, name := pgTestDB(t)
	pgSQL(t, url, "CREATE TABLE items (id int primary key); INSERT INTO items SELECT generate_series(1, 7);")
	home := t.TempDir()
	for k, v := range map[string]string{"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"} {
		t.Setenv(k, v)
	}
	dir := gitsnaptest.NewGitRepo(t)
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitsnaptest.RunGit(t, dir, "add", "README")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "init")
	seen := filepath.Join(t.TempDir(), "seen")
	db := gitsnap.DatabaseConfig{Name: "main", Driver: "postgres", URLEnv: "GITSNAP_TEST_DB_URL"}
	cfg := &gitsnap.Config{
		Snapshot: gitsnap.SnapshotConfig{Scopes: []string{"database"}},
		Database: []gitsnap.DatabaseConfig{db},
		Check: []gitsnap.CheckConfig{{Name: "rows", Kind: "smoke",
			Run: fmt.Sprintf(`psql -X -A -t -d "$GITSNAP_TEST_DB_URL" -c "SELECT current_database() || ':' || count(*) FROM items" > '%s'`, seen)}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == db.URLEnv {
			return url
		}
		return os.Getenv(k)
	}
	snap, err := gitsnap.New(gitsnap.Options{Repo: gitsnaptest.OpenGitRepo(t, dir), Config: cfg,
		Scopes: gitsnap.NewRegistry(New(WithGetenv(getenv)))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := snap.Create(ctx, gitsnap.CreateOptions{NoValidate: true}); err != nil {
		t.Fatal(err)
	}
	// The live database drifts after the snapshot; the drill must not see it.
	pgSQL(t, url, "DELETE FROM items WHERE id > 2;")
	res, err := snap.Verify(ctx, "latest", gitsnap.VerifyOptions{})
	if err != nil {
		t.Fatalf("drill: %v (skipped: %v)", err, res)
	}
	if res.Status != gitsnap.StatusPassed || res.Validation == nil {
		t.Fatalf("drill result %+v", res)
	}
	got, err := os.ReadFile(seen)
	if err != nil {
		t.Fatal(err)
	}
	drillDB, count, _ := strings.Cut(strings.TrimSpace(string(got)), ":")
	if !strings.HasPrefix(drillDB, name+"__gitsnap_drill_") || count != "7" {
		t.Errorf("the check saw %q: want a drill copy of %s with 7 rows", got, name)
	}
	if live := strings.TrimSpace(pgSQL(t, url, "SELECT count(*) FROM items;")); live != "2" {
		t.Errorf("live database changed by the drill: %s rows", live)
	}
	if left := pgLeftovers(t, admin, name); len(left) != 0 {
		t.Errorf("drill left databases behind: %v", left)
	}
}
