package dbtest

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns skips of service and
// tool tests into failures (.ci/run sets it).
const RequireEnv = "GITSNAP_REQUIRE_SERVICES"

// Required reports whether service tests must not skip.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// skipOrFail skips t, or fails it when services are required.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf(format+" ("+RequireEnv+"=1)", args...)
	}
	t.Skipf(format, args...)
}

// RequireService skips t when nothing listens on addr ("127.0.0.1:5432"),
// or fails it when GITSNAP_REQUIRE_SERVICES=1. Under -short it always
// skips: real servers are not short tests.
func RequireService(t testing.TB, name, addr string) {
	t.Helper()
	if testing.Short() && !Required() {
		t.Skipf("%s: skipped in -short mode", name)
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		skipOrFail(t, "%s is not reachable at %s: %v", name, addr, err)
		return
	}
	_ = c.Close()
}

// RequireTool skips t when the named program is not on PATH, or fails it
// when GITSNAP_REQUIRE_SERVICES=1. It returns the program's path.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, "%s is not installed: %v", name, err)
	}
	return p
}

// Env returns the environment variable key, or def when it is unset.
func Env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// UniqueName returns a fresh lowercase identifier usable as a PostgreSQL or
// MySQL database name (at most 40 characters, [a-z0-9_]) built from prefix
// and random hex, so parallel tests and leftover databases never collide.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random name: %v", err)
	}
	p := strings.Trim(notIdent.ReplaceAllString(strings.ToLower(prefix), "_"), "_")
	if p == "" {
		p = "db"
	}
	if len(p) > 20 {
		p = p[:20]
	}
	return "gitsnap_" + p + "_" + hex.EncodeToString(b[:])
}
