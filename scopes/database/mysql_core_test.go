package database

import (
	"fmt"
	"strings"
	"testing"

	"github.com/git-snap/git-snap/gitsnap"
)

func TestMySQLInRealRepository(t *testing.T) {
	_, url, _ := myTestDB(t)
	myFixture(t, url)
	// About 4 MB of incompressible rows, so the dump spans several chunks.
	var b strings.Builder
	b.WriteString("CREATE TABLE blobs (id INT PRIMARY KEY, data LONGBLOB);\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "INSERT INTO blobs VALUES (%d, UNHEX('%s'));\n", i, randomHex(t, 4000))
	}
	mySQL(t, url, b.String())
	db := gitsnap.DatabaseConfig{Name: "main", Driver: "mysql", SchemaVersion: "SELECT MAX(version) FROM schema_migrations"}
	manifest := coreRoundTrip(t, NewMySQL(ExecRunner{}), db, url,
		func() {
			mySQL(t, url, "DROP VIEW a_big_count; DROP TRIGGER orders_mark; DELETE FROM blobs WHERE id % 2 = 0; DELETE FROM schema_migrations WHERE version = 20240315;")
		},
		func() string { return strings.Join(myFingerprint(t, url), "\n") })
	for _, want := range []string{`"schema_version": "20240315"`, `"driver": "mysql"`, `"charset": "utf8mb4"`} {
		if !strings.Contains(manifest, want) {
			t.Errorf("manifest lacks %s:\n%s", want, manifest)
		}
	}
}
