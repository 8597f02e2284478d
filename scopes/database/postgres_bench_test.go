package database

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

// pgBenchCounter counts bytes.
type pgBenchCounter struct{ n int64 }

func (c *pgBenchCounter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkPostgres compares the driver's Dump and Restore with bare
// pg_dump -Fc -Z0 and pg_restore on a pgbench-like table
// (GITSNAP_BENCH_PG_ROWS rows of ~100 bytes, default 1,000,000: ~130 MB
// of dump), and reports the process's peak RSS.
func BenchmarkPostgres(b *testing.B) {
	rows, _ := strconv.Atoi(dbtest.Env("GITSNAP_BENCH_PG_ROWS", "1000000"))
	admin := dbtest.Env("GITSNAP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
	dbtest.RequireService(b, "PostgreSQL", "127.0.0.1:5432")
	psql := func(url, sql string) {
		b.Helper()
		if out, err := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql).CombinedOutput(); err != nil {
			b.Fatalf("psql: %v: %s", err, out)
		}
	}
	name := dbtest.UniqueName(b, "bench")
	psql(admin, "CREATE DATABASE "+name)
	b.Cleanup(func() {
		psql(admin, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
		psql(admin, fmt.Sprintf("DROP DATABASE IF EXISTS %s_raw WITH (FORCE)", name))
	})
	url := pgWithDB(admin, name)
	psql(url, fmt.Sprintf(`CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
INSERT INTO accounts SELECT g, g %% 100, 0, '' FROM generate_series(1, %d) g;`, rows))
	psql(url, "VACUUM ANALYZE accounts")
	dumpFile := filepath.Join(b.TempDir(), "dump")
	d := NewPostgres(ExecRunner{})
	tgt := Target{URL: url}
	ctx := context.Background()

	timeIt := func(name string, f func() int64) {
		b.Run(name, func(b *testing.B) {
			var n int64
			start := time.Now()
			for i := 0; i < b.N; i++ {
				n = f()
			}
			secs := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(float64(n)/secs/1e6, "MB/s")
			b.ReportMetric(secs, "s/op")
		})
	}
	timeIt("pg_dump", func() int64 {
		cmd := exec.Command("pg_dump", "-Fc", "-Z0", "-d", url)
		cw := &pgBenchCounter{}
		cmd.Stdout = cw
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		return cw.n
	})
	timeIt("Dump", func() int64 {
		f, err := os.Create(dumpFile)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		cw := &pgBenchCounter{}
		if _, err := d.Dump(ctx, tgt, io.MultiWriter(f, cw)); err != nil {
			b.Fatal(err)
		}
		return cw.n
	})
	fi, err := os.Stat(dumpFile)
	if err != nil {
		b.Fatal(err)
	}
	timeIt("pg_restore", func() int64 {
		psql(admin, fmt.Sprintf("DROP DATABASE IF EXISTS %s_raw", name))
		psql(admin, fmt.Sprintf("CREATE DATABASE %s_raw", name))
		cmd := exec.Command("pg_restore", "--exit-on-error", "-d", pgWithDB(admin, name+"_raw"), dumpFile)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pg_restore: %v: %s", err, out)
		}
		return fi.Size()
	})
	timeIt("Restore", func() int64 {
		f, err := os.Open(dumpFile)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := d.Restore(ctx, tgt, f, Info{}); err != nil {
			b.Fatal(err)
		}
		return fi.Size()
	})
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.Logf("dump %d MB; peak RSS of the benchmark process %d MB", fi.Size()>>20, ru.Maxrss>>10)
	}
}
