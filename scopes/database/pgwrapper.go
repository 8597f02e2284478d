package database

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Debian and Ubuntu install psql, pg_dump and pg_restore in /usr/bin as
// links to pg_wrapper, a Perl script that picks a PostgreSQL version and
// then runs /usr/lib/postgresql/<version>/bin/<tool>. Starting Perl costs
// about 0.1 s per tool run, and a restore runs psql half a dozen times, so
// the runner calls the versioned binary directly when pg_wrapper would
// have picked it anyway: no PGCLUSTER, no per-user or system cluster
// mapping (~/.postgresqlrc, /etc/postgresql-common/user_clusters), and
// then the wrapper's choice for a server that is not a local cluster is
// the newest installed version, which also talks to every older server.

// pgWrapperRoot is where Debian keeps the versioned client binaries.
var pgWrapperRoot = "/usr/lib/postgresql"

var pgTools = map[string]bool{"psql": true, "pg_dump": true, "pg_restore": true, "pg_dumpall": true}

var (
	pgWrapperMu    sync.Mutex
	pgWrapperCache = map[string]string{}
)

// resolvePGTool returns the binary to run for name: the versioned one when
// name is a PostgreSQL client tool reached through pg_wrapper and the
// wrapper's choice is certain, else name unchanged.
func resolvePGTool(name string) string {
	if !pgTools[name] || os.Getenv("PGCLUSTER") != "" {
		return name
	}
	pgWrapperMu.Lock()
	defer pgWrapperMu.Unlock()
	if p, ok := pgWrapperCache[name]; ok {
		return p
	}
	p := pgWrapperTarget(name)
	pgWrapperCache[name] = p
	return p
}

func pgWrapperTarget(name string) string {
	found, err := exec.LookPath(name)
	if err != nil {
		return name
	}
	target, err := filepath.EvalSymlinks(found)
	if err != nil || filepath.Base(target) != "pg_wrapper" {
		return name
	}
	if home, err := os.UserHomeDir(); err == nil && exists(filepath.Join(home, ".postgresqlrc")) {
		return name
	}
	if exists("/etc/postgresql-common/user_clusters") && hasMapping("/etc/postgresql-common/user_clusters") {
		return name
	}
	dirs, _ := filepath.Glob(filepath.Join(pgWrapperRoot, "*", "bin", name))
	best, bestVer := "", -1.0
	for _, d := range dirs {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(d))), 64)
		if err != nil || v <= bestVer {
			continue
		}
		if fi, err := os.Stat(d); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			best, bestVer = d, v
		}
	}
	if best == "" {
		return name
	}
	return best
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// hasMapping reports whether a user_clusters file maps anything (its
// shipped form is all comments).
func hasMapping(p string) bool {
	data, err := os.ReadFile(p)
	if err != nil {
		return true // unreadable: let the wrapper decide
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
			return true
		}
	}
	return false
}
