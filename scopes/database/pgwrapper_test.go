package database

import (
	"os"
	"path/filepath"
	"testing"
)

// TestResolvePGToolSkipsWrapper: a psql reached through Debian's
// pg_wrapper resolves to the newest versioned binary; anything else, or a
// PGCLUSTER choice, is left to PATH.
func TestResolvePGToolSkipsWrapper(t *testing.T) {
	root, bin, home := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(p string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"9.6", "13", "15"} {
		write(filepath.Join(root, v, "bin", "psql"), 0o755)
	}
	write(filepath.Join(root, "17", "bin", "psql"), 0o644) // not executable: skipped
	write(filepath.Join(root, "wrapper", "pg_wrapper"), 0o755)
	if err := os.Symlink(filepath.Join(root, "wrapper", "pg_wrapper"), filepath.Join(bin, "psql")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(bin, "pg_dump"), 0o755) // a plain binary, not the wrapper
	t.Setenv("PATH", bin)
	t.Setenv("HOME", home)
	t.Setenv("PGCLUSTER", "")
	old := pgWrapperRoot
	pgWrapperRoot = root
	reset := func() {
		pgWrapperMu.Lock()
		pgWrapperCache = map[string]string{}
		pgWrapperMu.Unlock()
	}
	t.Cleanup(func() { pgWrapperRoot = old; reset() })
	reset()

	if got, want := resolvePGTool("psql"), filepath.Join(root, "15", "bin", "psql"); got != want {
		t.Errorf("psql through pg_wrapper: %s, want %s", got, want)
	}
	if got := resolvePGTool("pg_dump"); got != "pg_dump" {
		t.Errorf("a pg_dump that is no wrapper: %s, want it left to PATH", got)
	}
	if got := resolvePGTool("mysql"); got != "mysql" {
		t.Errorf("mysql: %s", got)
	}
	reset()
	t.Setenv("PGCLUSTER", "13/main")
	if got := resolvePGTool("psql"); got != "psql" {
		t.Errorf("with PGCLUSTER set: %s, want the wrapper to choose", got)
	}
	reset()
	t.Setenv("PGCLUSTER", "")
	write(filepath.Join(home, ".postgresqlrc"), 0o644)
	if got := resolvePGTool("psql"); got != "psql" {
		t.Errorf("with ~/.postgresqlrc: %s, want the wrapper to choose", got)
	}
}
