package gitsnap_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite" // database/sql driver for the test database

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/gitsnap/gitsnaptest"
	"github.com/git-snap/git-snap/scopes"
)

const diffConfig = `[snapshot]
scopes = ["code", "config", "dependencies", "files", "database"]
[config]
paths = ["config/**", ".env"]
[[files]]
name = "uploads"
paths = ["uploads/**"]
[[database]]
name = "main"
driver = "sqlite"
path = "var/app.db"
schema_version = "SELECT max(version) FROM schema_migrations"
`

// The secrets of both snapshots: none may appear in any diff output.
var diffSecrets = []string{"hunter2", "correct-horse", "pw-in-url"}

func diffWrite(t *testing.T, dir, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func diffSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// diffSnapshots makes two snapshots that differ in every scope and
// returns the Snap and their ids.
func diffSnapshots(t *testing.T) (*gitsnap.Snap, string, string) {
	t.Helper()
	dir := gitsnaptest.NewGitRepo(t)
	diffWrite(t, dir, ".gitsnap.toml", diffConfig, 0o644)
	diffWrite(t, dir, ".gitignore", ".env\nuploads/\nvar/\n", 0o644)
	diffWrite(t, dir, "main.go", "package main\n", 0o644)
	diffWrite(t, dir, "old.go", "package main\n// old\n", 0o644)
	diffWrite(t, dir, "tool.sh", "echo hi\n", 0o644)
	diffWrite(t, dir, "lib", "a file that becomes a directory\n", 0o644)
	diffWrite(t, dir, "config/app.toml", "name = \"app\"\nport = 8080\nworkers = 4\n", 0o644)
	diffWrite(t, dir, "config/db.toml", "url = \"postgres://app:pw-in-url@db/app\"\n", 0o644)
	diffWrite(t, dir, ".env", "DB_USER=app\nDB_PASSWORD=hunter2\n", 0o600)
	diffWrite(t, dir, "go.sum", "github.com/a/b v1.0.0 h1:x=\ngithub.com/a/b v1.0.0/go.mod h1:y=\ngithub.com/c/d v0.1.0 h1:x=\n", 0o644)
	diffWrite(t, dir, "web/package-lock.json", `{"lockfileVersion": 3, "packages": {"": {}, "node_modules/express": {"version": "4.18.2"}}}`, 0o644)
	diffWrite(t, dir, "uploads/a.bin", "\x00\x01binary", 0o644)
	diffWrite(t, dir, "uploads/keep.txt", "same\n", 0o644)
	db := filepath.Join(dir, "var", "app.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		t.Fatal(err)
	}
	diffSQL(t, db, "CREATE TABLE schema_migrations (version INTEGER)", "INSERT INTO schema_migrations VALUES (1)",
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
	gitsnaptest.RunGit(t, dir, "add", "-A")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "one")

	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s, err := gitsnap.New(gitsnap.Options{Repo: gitsnaptest.OpenGitRepo(t, dir), Scopes: scopes.Default(), Now: func() time.Time {
		now = now.Add(time.Second)
		return now
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := s.Create(ctx, gitsnap.CreateOptions{Message: "one"})
	if err != nil {
		t.Fatal(err)
	}

	// Change every scope.
	diffWrite(t, dir, "main.go", "package main\n\nfunc main() {}\n", 0o644)
	os.Remove(filepath.Join(dir, "old.go"))
	diffWrite(t, dir, "new.go", "package main\n", 0o755)
	diffWrite(t, dir, "tool.sh", "echo hi\n", 0o755)
	os.Remove(filepath.Join(dir, "lib"))
	diffWrite(t, dir, "lib/a.go", "package lib\n", 0o644)
	diffWrite(t, dir, "config/app.toml", "name = \"app\"\nport = 9090\nworkers = 4\n", 0o644)
	diffWrite(t, dir, ".env", "DB_USER=app\nDB_PASSWORD=correct-horse\n", 0o600)
	diffWrite(t, dir, "go.sum", "github.com/a/b v1.2.0 h1:x=\ngithub.com/a/b v1.2.0/go.mod h1:y=\ngithub.com/e/f v0.3.0 h1:x=\n", 0o644)
	diffWrite(t, dir, "web/package-lock.json", `{"lockfileVersion": 3, "packages": {"": {}, "node_modules/express": {"version": "4.17.1"}}}`, 0o644)
	diffWrite(t, dir, "uploads/a.bin", "\x00\x02binary", 0o644)
	diffWrite(t, dir, "uploads/keep.txt", "same\n", 0o600)
	diffSQL(t, db, "INSERT INTO schema_migrations VALUES (2)", "CREATE TABLE posts (id INTEGER PRIMARY KEY)")
	gitsnaptest.RunGit(t, dir, "add", "-A")
	gitsnaptest.RunGit(t, dir, "commit", "-qm", "two")
	second, err := s.Create(ctx, gitsnap.CreateOptions{Message: "two"})
	if err != nil {
		t.Fatal(err)
	}
	return s, first.Snapshot.ID, second.Snapshot.ID
}

func TestDiffSnapshotsEveryScope(t *testing.T) {
	s, a, b := diffSnapshots(t)
	ctx := context.Background()
	d, err := s.Diff(ctx, a, b, gitsnap.DiffOptions{MaskKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	if d.A.ID != a || d.B.ID != b || !d.Changed() {
		t.Fatalf("diff of %s..%s: A=%s B=%s changed=%v", a, b, d.A.ID, d.B.ID, d.Changed())
	}
	scopes := map[string]gitsnap.ScopeDiff{}
	for _, sd := range d.Scopes {
		scopes[sd.Scope] = sd
	}
	if len(scopes) != 5 {
		t.Fatalf("want 5 scopes, got %d", len(d.Scopes))
	}

	// code: paths of the captured trees.
	code := scopes["code"].Code
	if code == nil || code.A.Commit == code.B.Commit {
		t.Fatalf("code: %+v", code)
	}
	gotCode := map[string]string{}
	for _, p := range code.Files {
		gotCode[p.Path] = p.Status
	}
	wantCode := map[string]string{"main.go": "modified", "config/app.toml": "modified", "tool.sh": "mode", "lib": "removed", "lib/a.go": "added", "old.go": "removed", "new.go": "added", "go.sum": "modified", "web/package-lock.json": "modified"}
	if diff := cmp.Diff(wantCode, gotCode); diff != "" {
		t.Errorf("code paths (-want +got):\n%s", diff)
	}
	if want := "git diff " + code.A.Commit[:12] + " " + code.B.Commit[:12]; d.GitDiffCommand() != want {
		t.Errorf("GitDiffCommand = %q, want %q", d.GitDiffCommand(), want)
	}

	// config: text diff with context; the .env secret masked.
	cfg := files(scopes["config"])
	if p := cfg["config/app.toml"].Patch; !strings.Contains(p, "\n-port = 8080\n+port = 9090\n workers = 4\n") {
		t.Errorf("config/app.toml patch:\n%s", p)
	}
	if p := cfg["config/app.toml"].Patch; !strings.HasPrefix(p, "--- a/config/app.toml\n+++ b/config/app.toml\n@@ -1,3 +1,3 @@\n name = \"app\"\n") {
		t.Errorf("config/app.toml patch header/context:\n%s", p)
	}
	if env := cfg[".env"]; env.Status != gitsnap.DiffModified || !strings.Contains(env.Patch, "-DB_PASSWORD=*** (hmac:") || !strings.Contains(env.Patch, "+DB_PASSWORD=*** (hmac:") {
		t.Errorf(".env: %+v", env)
	}
	if _, ok := cfg["config/db.toml"]; ok {
		t.Error("config/db.toml did not change but is listed")
	}

	// dependencies: package level.
	deps := files(scopes["dependencies"])
	if diff := cmp.Diff([]gitsnap.PackageChange{
		{Name: "github.com/a/b", Change: "upgraded", Old: "v1.0.0", New: "v1.2.0"},
		{Name: "github.com/c/d", Change: "removed", Old: "v0.1.0"},
		{Name: "github.com/e/f", Change: "added", New: "v0.3.0"},
	}, deps["go.sum"].Packages); diff != "" {
		t.Errorf("go.sum packages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]gitsnap.PackageChange{{Name: "express", Change: "downgraded", Old: "4.18.2", New: "4.17.1"}},
		deps["web/package-lock.json"].Packages); diff != "" {
		t.Errorf("package-lock packages (-want +got):\n%s", diff)
	}
	if deps["go.sum"].Patch != "" || deps["go.sum"].Lockfile != "go.sum" {
		t.Errorf("go.sum: want packages, not a patch: %+v", deps["go.sum"])
	}

	// files: binary content and a mode-only change.
	fs := files(scopes["files"])
	if bin := fs["uploads/a.bin"]; bin.Status != gitsnap.DiffModified || bin.Note != "binary" || bin.Patch != "" {
		t.Errorf("uploads/a.bin: %+v", bin)
	}
	if keep := fs["uploads/keep.txt"]; keep.Status != gitsnap.DiffModeOnly || keep.A.Mode.String() != "0644" || keep.B.Mode.String() != "0600" {
		t.Errorf("uploads/keep.txt: %+v", keep)
	}

	// database: schema version and table count from the artifact meta.
	dbs := scopes["database"].Databases
	if len(dbs) != 1 {
		t.Fatalf("databases: %+v", dbs)
	}
	db := dbs[0]
	if db.Name != "main" || db.Status != gitsnap.DiffChanged || db.A.Driver != "sqlite" ||
		db.A.SchemaVersion != "1" || db.B.SchemaVersion != "2" || db.SchemaChange != gitsnap.PkgUpgraded ||
		db.A.Tables != 2 || db.B.Tables != 3 || db.A.Size <= 0 || db.B.Size <= 0 {
		t.Errorf("database main: %+v a=%+v b=%+v", db, db.A, db.B)
	}

	// No secret anywhere in the result.
	all, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range diffSecrets {
		if strings.Contains(string(all), sec) || strings.Contains(fmt.Sprintf("%+v", d.Scopes), sec) {
			t.Errorf("diff shows secret %q", sec)
		}
	}

	// The reverse diff mirrors it.
	r, err := s.Diff(ctx, b, a, gitsnap.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sd := range r.Scopes {
		if sd.Scope == "dependencies" {
			if got := files(sd)["go.sum"].Packages[0]; got.Change != "downgraded" || got.Old != "v1.2.0" {
				t.Errorf("reverse go.sum: %+v", got)
			}
		}
	}
}

func files(sd gitsnap.ScopeDiff) map[string]gitsnap.FileDiff {
	out := map[string]gitsnap.FileDiff{}
	for _, f := range sd.Files {
		out[f.Path] = f
	}
	return out
}

func TestDiffSameSnapshotAndOptions(t *testing.T) {
	s, a, b := diffSnapshots(t)
	ctx := context.Background()
	d, err := s.Diff(ctx, b, "latest", gitsnap.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Changed() {
		t.Errorf("a snapshot differs from itself: %+v", d.Scopes)
	}

	d, err = s.Diff(ctx, a, b, gitsnap.DiffOptions{Scopes: []string{"config"}, NoPatch: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Scopes) != 1 || d.Scopes[0].Scope != "config" {
		t.Fatalf("--scope config gave %+v", d.Scopes)
	}
	for _, f := range d.Scopes[0].Files {
		if f.Patch != "" || len(f.Packages) > 0 {
			t.Errorf("NoPatch still diffed %s", f.Path)
		}
	}

	// A scope only one side captured is reported, not compared.
	c, err := s.Create(ctx, gitsnap.CreateOptions{Message: "config only", Scopes: []string{"config"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err = s.Diff(ctx, b, c.Snapshot.ID, gitsnap.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, sd := range d.Scopes {
		got[sd.Scope] = fmt.Sprintf("a=%v b=%v changed=%v files=%d", sd.InA, sd.InB, sd.Changed(), len(sd.Files))
	}
	if diff := cmp.Diff(map[string]string{
		"code":         "a=true b=false changed=true files=0",
		"config":       "a=true b=true changed=false files=0",
		"dependencies": "a=true b=false changed=true files=0",
		"files":        "a=true b=false changed=true files=0",
		"database":     "a=true b=false changed=true files=0",
	}, got); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, a, b string
		want       error
	}{
		{"unknown snapshot", "nope", b, gitsnap.ErrSnapshotNotFound},
		{"unknown second snapshot", a, "latest~9", gitsnap.ErrSnapshotNotFound},
	}
	for _, tc := range tests {
		if _, err := s.Diff(ctx, tc.a, tc.b, gitsnap.DiffOptions{}); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.Diff(ctx, a, b, gitsnap.DiffOptions{Scopes: []string{"nope"}}); !errors.Is(err, gitsnap.ErrUsage) {
		t.Errorf("unknown scope: got %v", err)
	}
}

func TestDiffHonoursCancellation(t *testing.T) {
	s, a, b := diffSnapshots(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Diff(ctx, a, b, gitsnap.DiffOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled diff: got %v", err)
	}
}
