package main

import (
	"compress/zlib"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

// BenchmarkPostgresCreateRestore measures issue 3's PostgreSQL targets with
// the built binary, on two datasets of about GITSNAP_BENCH_PG_MB MB of
// database each (default 300, the size of pgbench -i -s 20):
//
//   - pgbench: pgbench -i -s 20 (scaled with GITSNAP_BENCH_PG_MB). Its
//     dump is mostly the blank-padded filler column: zlib makes it 34×
//     smaller.
//   - random: one table of random words, numbers, timestamps and a JSON
//     document with random fields, generated in SQL from a fixed seed, so
//     every run loads the same rows and the dump compresses like English
//     text (zlib level 6: 2.7×).
//
// GITSNAP_BENCH_PG_DATASET=pgbench, random or all (the default) picks them.
// Each dataset runs, as BenchmarkPostgresCreateRestore/<dataset>/<step>:
//
//	floor-pg_dump       pg_dump -Fc -Z0 > /dev/null
//	create              git snap create --scope database into an empty
//	                    repository (x-floor: its time / pg_dump's; target ≤ 1.3)
//	create-again        nothing changed (bytes-added-2nd, must be < 1 MB)
//	create-update-1pct  after UPDATE … WHERE aid % 100 = 0 (added-%-of-first;
//	                    target ≤ 5)
//	floor-pg_restore    pg_restore of the dump file into an empty database
//	restore             git snap restore <first> --scope database --yes
//	                    (x-floor: its time / pg_restore's; target ≤ 1.2); the
//	                    restored tables must match the first snapshot's row
//	                    counts and checksums. The restore keeps the replaced
//	                    database as a held copy; git snap settle then copies
//	                    it into Git, untimed (settled-after-s: from the
//	                    restore's return until settled; a restore starts it
//	                    in the background, the benchmark in the foreground
//	                    so its RSS is checked too)
//	rounds              random only, no target: GITSNAP_BENCH_PG_ROUNDS (5)
//	                    rounds, each updating a different 1% of rows
//	                    (aid % 100 = round) then creating a snapshot; bytes
//	                    added per round, then per round after a plain git gc;
//	                    next to the same dumps committed as one file to a
//	                    plain repository (Git's own delta compression)
//	summary             the figures above next to issue 3's targets (its
//	                    metrics and log; its ns/op means nothing)
//
// A step fails when git-snap's peak RSS exceeds 150 MB, create-again when
// it adds 1 MB or more, restore when the data differs. The time and 1%
// targets are reported (metrics, and met/MISSED in the summary), not
// enforced, so that a miss still prints its figures. It skips when PostgreSQL or pgbench is
// missing, unless GITSNAP_REQUIRE_SERVICES=1, and drops its databases.
func BenchmarkPostgresCreateRestore(b *testing.B) {
	if testing.Short() {
		b.Skip("database benchmarks: skipped in -short mode")
	}
	admin, addr := pgBenchAdmin(b)
	dbtest.RequireService(b, "PostgreSQL", addr)
	for _, tool := range []string{"psql", "pg_dump", "pg_restore"} {
		dbtest.RequireTool(b, tool)
	}
	mb := benchEnvInt(b, benchPGMBEnv, 300)
	rounds := benchEnvInt(b, benchPGRoundsEnv, 5)
	if rounds > 99 {
		b.Fatalf("%s=%d: at most 99 rounds (each updates the rows with aid %% 100 = round)", benchPGRoundsEnv, rounds)
	}
	sets := pgBenchDatasets(b)
	r := newDBBench(b)
	baseEnv := r.env
	for _, ds := range sets {
		b.Run(ds.name, func(b *testing.B) {
			r.b = b
			for _, tool := range ds.tools {
				dbtest.RequireTool(b, tool)
			}
			p := newPGBench(b, r, admin, ds, baseEnv)
			ds.load(b, p, mb)
			p.describe(b)
			p.steps(b, rounds)
		})
	}
}

const (
	benchPGMBEnv      = "GITSNAP_BENCH_PG_MB"
	benchPGDatasetEnv = "GITSNAP_BENCH_PG_DATASET"
	benchPGRoundsEnv  = "GITSNAP_BENCH_PG_ROUNDS"

	benchCreateTarget  = 1.3 // issue 3: create ≤ 1.3× pg_dump
	benchRestoreTarget = 1.2 // issue 3: restore ≤ 1.2× pg_restore
	benchUpdateTarget  = 5.0 // issue 3: 1% of rows updated adds ≤ 5% of the first snapshot

	// pgRandomRowBytes sizes the random dataset: its database bytes per
	// row (table, TOAST and both indexes: 382 measured), rounded up for
	// the system catalogs.
	pgRandomRowBytes = 390
)

// pgDataset is one of the benchmark's databases.
type pgDataset struct {
	name   string
	table  string   // the table the 1% updates change; it has aid and abalance
	tools  []string // client tools it needs besides psql, pg_dump and pg_restore
	load   func(b *testing.B, p *pgBench, mb int)
	rounds bool // run the rounds step
}

var pgDatasets = []pgDataset{
	{name: "pgbench", table: "pgbench_accounts", tools: []string{"pgbench"}, load: loadPGBench},
	{name: "random", table: "accounts", load: loadPGRandom, rounds: true},
}

// pgBenchDatasets reads GITSNAP_BENCH_PG_DATASET: all (the default) or a
// comma-separated list of dataset names.
func pgBenchDatasets(b *testing.B) []pgDataset {
	b.Helper()
	v := strings.TrimSpace(os.Getenv(benchPGDatasetEnv))
	if v == "" || v == "all" {
		return pgDatasets
	}
	var out []pgDataset
	for _, name := range strings.Split(v, ",") {
		i := slices.IndexFunc(pgDatasets, func(d pgDataset) bool { return d.name == strings.TrimSpace(name) })
		if i < 0 {
			b.Fatalf("%s=%q: want pgbench, random or all", benchPGDatasetEnv, v)
		}
		out = append(out, pgDatasets[i])
	}
	return out
}

// benchEnvInt reads a positive integer from the environment.
func benchEnvInt(b *testing.B, key string, def int) int {
	b.Helper()
	v := strings.TrimSpace(os.Getenv(key))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", key, v)
	}
	return n
}

// pgBenchAdmin returns the maintenance URL of the benchmark server and its
// host:port.
func pgBenchAdmin(b *testing.B) (*url.URL, string) {
	b.Helper()
	raw := dbtest.Env("GITSNAP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatalf("GITSNAP_TEST_POSTGRES_URL: %v", err)
	}
	addr := u.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "5432")
	}
	return u, addr
}

// pgDBURL is admin with the database name replaced.
func pgDBURL(admin *url.URL, name string) string {
	u := *admin
	u.Path = "/" + name
	return u.String()
}

// pgConnEnv is the libpq environment (PGHOST, PGUSER, PGPASSWORD, …) that
// connects to database db of the server admin names, so that no
// password appears in a command line.
func pgConnEnv(admin *url.URL, db string) []string {
	env := []string{"PGDATABASE=" + db}
	if h := admin.Hostname(); h != "" {
		env = append(env, "PGHOST="+h)
	}
	if p := admin.Port(); p != "" {
		env = append(env, "PGPORT="+p)
	}
	if admin.User != nil {
		env = append(env, "PGUSER="+admin.User.Username())
		if pw, ok := admin.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
		}
	}
	q := admin.Query()
	for _, kv := range [][2]string{{"host", "PGHOST"}, {"port", "PGPORT"}, {"sslmode", "PGSSLMODE"}} {
		if v := q.Get(kv[0]); v != "" {
			env = append(env, kv[1]+"="+v)
		}
	}
	return env
}

// pgBench is one dataset's database and what its steps share.
type pgBench struct {
	*dbBench
	ds       pgDataset
	admin    *url.URL
	name     string // the database
	dumpFile string // pg_dump -Fc -Z0 of the loaded database
	dumpSize int64
	sum      string // row counts and checksums of the loaded database
	loadTime time.Duration
	input    string // what was loaded, for the summary

	snapID    string
	firstGit  int64 // .git after the first snapshot
	floorDump time.Duration
	floorRest time.Duration
	res       map[string]float64 // figures for the summary
}

func newPGBench(b *testing.B, r *dbBench, admin *url.URL, ds pgDataset, baseEnv []string) *pgBench {
	b.Helper()
	p := &pgBench{dbBench: r, ds: ds, admin: admin, res: map[string]float64{},
		name: dbtest.UniqueName(b, "snapbench_"+ds.name)}
	p.dumpFile = filepath.Join(r.tmp, p.name+".dump")
	// git-snap gets only DATABASE_URL; psql, pgbench and the floors get
	// the PG* variables.
	r.env = append(baseEnv[:len(baseEnv):len(baseEnv)], "DATABASE_URL="+pgDBURL(admin, p.name))
	p.psql(b, "", "CREATE DATABASE "+p.name)
	b.Cleanup(func() {
		// The dataset's databases, and anything a failed restore left
		// (<name>__gitsnap_tmp_…, the old database set aside).
		list := p.psql(b, "", fmt.Sprintf("SELECT datname FROM pg_database WHERE datname LIKE '%s%%'", p.name))
		for _, db := range strings.Fields(list) {
			p.psql(b, "", fmt.Sprintf("DROP DATABASE IF EXISTS %q WITH (FORCE)", db))
		}
		_ = os.Remove(p.dumpFile)
	})
	return p
}

// toolEnv is the environment of psql, pgbench, pg_dump and pg_restore
// connecting to db ("" is the maintenance database).
func (p *pgBench) toolEnv(db string) []string {
	if db == "" {
		db = strings.TrimPrefix(p.admin.Path, "/")
	}
	return append(p.env[:len(p.env):len(p.env)], pgConnEnv(p.admin, db)...)
}

// psql runs sql in db ("" is the maintenance database) and returns its
// unaligned output.
func (p *pgBench) psql(b testing.TB, db, sql string) string {
	b.Helper()
	c := exec.Command("psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-")
	c.Env, c.Stdin = p.toolEnv(db), strings.NewReader(sql)
	out, err := c.CombinedOutput()
	if err != nil {
		if len(sql) > 300 {
			sql = sql[:300] + "…"
		}
		b.Fatalf("psql %s: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

// tool runs a client tool connected to db, measured like git-snap.
func (p *pgBench) tool(db, script string, args ...string) dbRun {
	p.b.Helper()
	c := p.cmd(p.repo, "sh", append([]string{"-c", script, "sh"}, args...)...)
	c.Env = p.toolEnv(db)
	return p.run(c)
}

// checksum returns, for every table of the database, its name, row count
// and the sum of the first 64 bits of each row's md5: equal strings mean
// equal tables (as multisets of rows).
func (p *pgBench) checksum(b testing.TB) string {
	b.Helper()
	tables := strings.Fields(p.psql(b, p.name,
		"SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"))
	if len(tables) == 0 {
		b.Fatalf("database %s has no tables", p.name)
	}
	q := make([]string, len(tables))
	for i, t := range tables {
		q[i] = fmt.Sprintf("SELECT '%s ' || count(*) || ' ' || coalesce(sum(('x' || left(md5(x::text), 16))::bit(64)::bigint), 0) FROM %s x", t, t)
	}
	return p.psql(b, p.name, strings.Join(q, "\nUNION ALL\n")+"\nORDER BY 1")
}

// loadPGBench fills the database with pgbench -i at scale 20 per 300 MB.
func loadPGBench(b *testing.B, p *pgBench, mb int) {
	b.Helper()
	scale := max(1, (20*mb+150)/300)
	t0 := time.Now()
	p.tool(p.name, "pgbench -i -q -s "+strconv.Itoa(scale))
	p.loadTime = time.Since(t0)
	p.input = fmt.Sprintf("pgbench: pgbench -i -s %d", scale)
}

// pgSyllables are 64 two-letter syllables (48 consonant-vowel, 16
// vowel-consonant). Word k of the random dataset's
// vocabulary (0 ≤ k < 20,000) is the syllables of k's base-64 digits, so
// the frequent words (small k) are the short ones, as in real text.
const pgSyllables = "tatetitonaneninorarerirosasesisolalelilomamemimodadedidokakekikopapepipobabebibogagegigohahehihoaneninonareriroralelilolasesisos"

// pgWord is the SQL for word k (an int expression), per pgSyllables.
func pgWord(k string) string {
	syl := func(digit string) string { return fmt.Sprintf("substr('%s', 2 * (%s) + 1, 2)", pgSyllables, digit) }
	return fmt.Sprintf("(%s || CASE WHEN %s >= 64 THEN %s ELSE '' END || CASE WHEN %s >= 4096 THEN %s ELSE '' END)",
		syl(k+" % 64"), k, syl(k+" / 64 % 64"), k, syl(k+" / 4096"))
}

// pgRandomSQL creates and fills the random dataset's table with rows rows:
// a name, an e-mail address, a note of 3–24 words, a timestamp, numbers
// and a JSON document whose fields vary from row to row. Words are drawn
// from the 20,000-word vocabulary with a Zipf-like skew (k = 20000·u³).
// setseed makes every run produce the same rows.
func pgRandomSQL(rows int) string {
	const nk = 35 // words drawn per row: 2 name, 3 e-mail, 24 note, 4 tags, city, referrer
	var ks []string
	for i := 1; i <= nk; i++ {
		ks = append(ks, fmt.Sprintf("floor(20000 * power(random(), 3))::int AS k%d", i))
	}
	w := func(i int) string { return pgWord(fmt.Sprintf("s.k%d", i)) }
	note := w(6) + " || ' ' || " + w(7) + " || ' ' || " + w(8)
	for i := 4; i <= 24; i++ {
		note += fmt.Sprintf("\n    || CASE WHEN s.n >= %d THEN ' ' || %s ELSE '' END", i, w(5+i))
	}
	tags := w(30)
	for i := 2; i <= 4; i++ {
		tags += fmt.Sprintf(" || CASE WHEN s.t >= %d THEN ' ' || %s ELSE '' END", i, w(29+i))
	}
	return fmt.Sprintf(`SELECT setseed(0.4242);
CREATE TABLE accounts (aid bigint PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL,
  created timestamptz NOT NULL, name text NOT NULL, email text NOT NULL, note text NOT NULL, doc jsonb NOT NULL);
INSERT INTO accounts
SELECT s.g,
  floor(random() * 1000)::int,
  floor(random() * 2000001)::int - 1000000,
  timestamptz '2019-01-01 00:00:00+00' + floor(random() * 157680000) * interval '1 second',
  initcap(%s || ' ' || %s),
  %s || '.' || %s || floor(random() * 100)::int || '@' || %s || (ARRAY['.com', '.net', '.org', '.io'])[1 + floor(random() * 4)::int],
  %s,
  jsonb_strip_nulls(jsonb_build_object(
    'city', initcap(%s),
    'tags', to_jsonb(string_to_array(%s, ' ')),
    'score', round((random() * 1000)::numeric, 2),
    'visits', floor(random() * 500)::int,
    'active', random() < 0.7,
    'plan', (ARRAY['free', 'pro', 'team', 'enterprise'])[1 + floor(random() * 4)::int],
    'referrer', CASE WHEN random() < 0.3 THEN %s END,
    'last_login', CASE WHEN random() < 0.6 THEN to_char(timestamp '2024-01-01' + floor(random() * 31536000) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
    'ip', CASE WHEN random() < 0.4 THEN concat_ws('.', 10, floor(random() * 256)::int, floor(random() * 256)::int, floor(random() * 256)::int) END))
FROM (SELECT g, 3 + floor(random() * 22)::int AS n, 1 + floor(random() * 4)::int AS t,
        %s
      FROM generate_series(1, %d) g OFFSET 0) s;
CREATE INDEX accounts_bid ON accounts (bid);
VACUUM ANALYZE accounts;
`, w(1), w(2), w(3), w(4), w(5), note, w(29), tags, w(35), strings.Join(ks, ",\n        "), rows)
}

// loadPGRandom fills the database with the random dataset, mb MB of it.
func loadPGRandom(b *testing.B, p *pgBench, mb int) {
	b.Helper()
	rows := mb * 1000000 / pgRandomRowBytes
	t0 := time.Now()
	p.psql(b, p.name, pgRandomSQL(rows))
	p.loadTime = time.Since(t0)
	p.input = fmt.Sprintf("random: %d rows of random words, numbers and JSON (setseed 0.4242)", rows)
}

// describe dumps the loaded database to p.dumpFile, takes its checksum
// and logs its sizes and zlib ratios.
func (p *pgBench) describe(b *testing.B) {
	b.Helper()
	p.tool(p.name, `pg_dump -Fc -Z0 -f "$1"`, p.dumpFile)
	fi, err := os.Stat(p.dumpFile)
	if err != nil {
		b.Fatal(err)
	}
	p.dumpSize = fi.Size()
	p.sum = p.checksum(b)
	z1, z6 := zlibRatio(b, p.dumpFile, 1), zlibRatio(b, p.dumpFile, 6)
	p.res["zlib1"], p.res["zlib6"] = z1, z6
	p.input += fmt.Sprintf("; database %s MB (%s); pg_dump -Fc -Z0 %d bytes, zlib level 1 %.2f×, level 6 %.2f×; loaded in %s",
		p.psql(b, p.name, "SELECT pg_database_size(current_database()) / 1000000"),
		strings.ReplaceAll(p.psql(b, p.name, "SELECT string_agg(format('%s %s MB', relname, pg_total_relation_size(oid) / 1000000), ', ' ORDER BY relname) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"), "\n", " "),
		p.dumpSize, z1, z6, p.loadTime.Round(time.Second))
	b.Log(p.input)
}

// zlibRatio is how many times smaller zlib at level makes the file.
func zlibRatio(b *testing.B, path string, level int) float64 {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var cw countWriter
	zw, err := zlib.NewWriterLevel(&cw, level)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(zw, f)
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	return float64(n) / float64(cw)
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

const pgBenchConfig = "[snapshot]\nscopes = [\"database\"]\n\n[[database]]\nname = \"main\"\ndriver = \"postgres\"\nurl_env = \"DATABASE_URL\"\n"

// create runs git snap create --scope database in the repository.
func (p *pgBench) create(msg string, json bool) dbRun {
	p.b.Helper()
	args := []string{"create", "--scope", "database", "--no-validate", "-m", msg}
	if json {
		args = append(args, "--json")
	}
	return p.snap(nil, args...)
}

// ensureFirst makes the first snapshot when the create step did not run.
func (p *pgBench) ensureFirst(b *testing.B) {
	b.Helper()
	if p.snapID != "" {
		return
	}
	p.freshRepo(pgBenchConfig)
	var s createSummary
	summary(b, p.create("bench", true).stdout, &s)
	p.snapID, p.firstGit = s.Snapshot.ID, p.gitBytes()
}

// update changes abalance in the rows with aid % 100 = rest (1% of them).
func (p *pgBench) update(b *testing.B, rest int) {
	b.Helper()
	p.psql(b, p.name, fmt.Sprintf("UPDATE %s SET abalance = abalance + 1 WHERE aid %% 100 = %d", p.ds.table, rest))
}

// steps runs the dataset's steps and logs the summary.
func (p *pgBench) steps(b *testing.B, rounds int) {
	b.Run("floor-pg_dump", p.floorDumpStep)
	b.Run("create", p.createStep)
	b.Run("create-again", p.createAgainStep)
	b.Run("create-update-1pct", p.createUpdateStep)
	b.Run("floor-pg_restore", p.floorRestoreStep)
	b.Run("restore", p.restoreStep)
	if p.ds.rounds {
		b.Run("rounds", func(b *testing.B) { p.roundsStep(b, rounds) })
	}
	b.Run("summary", func(b *testing.B) { p.summarize(b, rounds) })
}

func (p *pgBench) floorDumpStep(b *testing.B) {
	p.b = b
	b.SetBytes(p.dumpSize)
	var u dbUsage
	for range b.N {
		run := p.tool(p.name, "pg_dump -Fc -Z0 > /dev/null")
		u.add(run)
		p.floorDump = run.wall
	}
	u.report(b)
	b.ReportMetric(p.res["zlib1"], "zlib1-x")
	b.ReportMetric(p.res["zlib6"], "zlib6-x")
	p.res["floor-dump-s"] = p.floorDump.Seconds()
}

func (p *pgBench) createStep(b *testing.B) {
	p.b = b
	b.SetBytes(p.dumpSize)
	var u dbUsage
	var wall time.Duration
	for range b.N {
		b.StopTimer()
		p.freshRepo(pgBenchConfig)
		b.StartTimer()
		run := p.create("bench", true)
		b.StopTimer()
		u.add(run)
		wall = run.wall
		var s createSummary
		summary(b, run.stdout, &s)
		p.snapID, p.firstGit = s.Snapshot.ID, p.gitBytes()
	}
	u.report(b)
	b.ReportMetric(float64(p.firstGit)/1e6, "git-MB")
	p.res["create-s"], p.res["first-MB"] = wall.Seconds(), float64(p.firstGit)/1e6
	if p.floorDump > 0 {
		p.res["create-x"] = wall.Seconds() / p.floorDump.Seconds()
		b.ReportMetric(p.res["create-x"], "x-floor")
	}
	p.noteRSS(u)
	u.checkRSS(b, "create")
}

func (p *pgBench) createAgainStep(b *testing.B) {
	p.b = b
	b.SetBytes(p.dumpSize)
	b.StopTimer()
	p.ensureFirst(b)
	var u dbUsage
	var added int64
	for range b.N {
		before := p.gitBytes()
		b.StartTimer()
		u.add(p.create("again", false))
		b.StopTimer()
		added = max(added, p.gitBytes()-before)
	}
	u.report(b)
	b.ReportMetric(float64(added), "bytes-added-2nd")
	p.res["again-bytes"] = float64(added)
	p.noteRSS(u)
	u.checkRSS(b, "create-again")
	if added >= benchAgainLimit {
		b.Errorf("a second snapshot of an unchanged database added %d bytes to .git, want < 1 MB (issue 3)", added)
	}
}

func (p *pgBench) createUpdateStep(b *testing.B) {
	p.b = b
	b.SetBytes(p.dumpSize)
	b.StopTimer()
	p.ensureFirst(b)
	var u dbUsage
	var added int64
	var wall time.Duration
	for i := range b.N {
		p.update(b, i%100)
		before := p.gitBytes()
		b.StartTimer()
		run := p.create("updated", false)
		b.StopTimer()
		u.add(run)
		wall = max(wall, run.wall)
		added = max(added, p.gitBytes()-before)
	}
	u.report(b)
	b.ReportMetric(float64(added)/1e6, "added-MB")
	p.res["update-MB"], p.res["update-s"] = float64(added)/1e6, wall.Seconds()
	if p.firstGit > 0 {
		p.res["update-pct"] = 100 * float64(added) / float64(p.firstGit)
		b.ReportMetric(p.res["update-pct"], "added-%-of-first")
	}
	p.noteRSS(u)
	u.checkRSS(b, "create-update-1pct")
}

func (p *pgBench) floorRestoreStep(b *testing.B) {
	p.b = b
	b.SetBytes(p.dumpSize)
	floorDB := p.name + "_floor"
	var u dbUsage
	for range b.N {
		b.StopTimer()
		p.psql(b, "", "DROP DATABASE IF EXISTS "+floorDB)
		p.psql(b, "", "CREATE DATABASE "+floorDB)
		b.StartTimer()
		run := p.tool(floorDB, `pg_restore --exit-on-error -d "$PGDATABASE" "$1"`, p.dumpFile)
		b.StopTimer()
		u.add(run)
		p.floorRest = run.wall
	}
	p.psql(b, "", "DROP DATABASE IF EXISTS "+floorDB)
	u.report(b)
	p.res["floor-restore-s"] = p.floorRest.Seconds()
}

func (p *pgBench) restoreStep(b *testing.B) {
	p.b = b
	b.SetBytes(p.dumpSize)
	b.StopTimer()
	p.ensureFirst(b)
	var u, us dbUsage
	var s restoreSummary
	var wall, settle time.Duration
	for range b.N {
		b.StartTimer()
		// GITSNAP_SETTLE=manual: the settle a restore would start in the
		// background runs below in the foreground instead, so its time and
		// RSS are measured (starting it costs the restore nothing).
		run := p.snap([]string{"GITSNAP_SETTLE=manual"}, "restore", p.snapID, "--scope", "database", "--yes", "--no-validate", "--json")
		b.StopTimer()
		returned := time.Now()
		u.add(run)
		wall = run.wall
		summary(b, run.stdout, &s)
		if got := p.checksum(b); got != p.sum {
			b.Fatalf("after the restore the tables differ from the first snapshot:\n got: %s\nwant: %s",
				strings.ReplaceAll(got, "\n", "; "), strings.ReplaceAll(p.sum, "\n", "; "))
		}
		// The restore kept the replaced database as a held copy: settle
		// it (untimed by the benchmark, reported as settled-after-s: from
		// the restore's return until the copy is in Git and dropped).
		us.add(p.snap(nil, "settle"))
		settle = time.Since(returned)
	}
	u.report(b)
	b.ReportMetric(float64(s.ScopeMS["database"])/1e3, "scope-s")
	p.res["restore-s"], p.res["restore-scope-s"] = wall.Seconds(), float64(s.ScopeMS["database"])/1e3
	if p.floorRest > 0 {
		p.res["restore-x"] = wall.Seconds() / p.floorRest.Seconds()
		b.ReportMetric(p.res["restore-x"], "x-floor")
	}
	b.Logf("restored tables match the first snapshot: %s", strings.ReplaceAll(p.sum, "\n", "; "))
	b.ReportMetric(settle.Seconds(), "settled-after-s")
	p.res["settle-s"] = settle.Seconds()
	b.Logf("the held copy was settled into Git %.1f s after the restore returned", settle.Seconds())
	p.noteRSS(u)
	u.checkRSS(b, "restore")
	p.noteRSS(us)
	us.checkRSS(b, "settle")
}

// roundsStep: a fresh repository holds one snapshot (packed by git gc),
// then each of rounds rounds updates the rows with aid % 100 = round and
// creates a snapshot. It reports the bytes each round added to .git, and
// what the rounds cost after a plain git gc repacks the whole history
// with Git's delta compression. The floor, untimed: the same dumps
// (pg_dump -Fc -Z0 of the same database states) committed as one file to
// a plain repository, before and after git gc.
func (p *pgBench) roundsStep(b *testing.B, rounds int) {
	p.b = b
	b.SetBytes(p.dumpSize)
	b.StopTimer()
	var u dbUsage
	var walls []time.Duration
	snap, plain := &roundRepo{dir: p.repo}, &roundRepo{dir: filepath.Join(p.tmp, "plain")}
	commitDump := func(msg string) {
		p.tool(p.name, `pg_dump -Fc -Z0 -f "$1/dump" && git -C "$1" add dump && git -C "$1" commit -q -m "$2"`, plain.dir, msg)
	}
	for range b.N {
		p.freshRepo(pgBenchConfig)
		if err := os.RemoveAll(plain.dir); err != nil {
			b.Fatal(err)
		}
		p.run(p.cmd(p.tmp, "git", "init", "-q", "-b", "main", plain.dir))
		p.create("base", false)
		commitDump("base")
		snap.start(p)
		plain.start(p)
		for i := 1; i <= rounds; i++ {
			p.update(b, i)
			before := snap.size(b)
			b.StartTimer()
			run := p.create(fmt.Sprintf("round %d", i), false)
			b.StopTimer()
			u.add(run)
			walls = append(walls, run.wall)
			snap.added = append(snap.added, snap.size(b)-before)
			before = plain.size(b)
			commitDump(fmt.Sprintf("round %d", i))
			plain.added = append(plain.added, plain.size(b)-before)
			b.Logf("round %d (aid %% 100 = %d): git snap create +%.1f MB in %.1f s; the dump committed to plain git +%.1f MB",
				i, i, float64(snap.added[i-1])/1e6, run.wall.Seconds(), float64(plain.added[i-1])/1e6)
		}
		snap.finish(p)
		plain.finish(p)
	}
	if err := os.RemoveAll(plain.dir); err != nil {
		b.Fatal(err)
	}
	var wsum time.Duration
	for _, w := range walls {
		wsum += w
	}
	mean, most := snap.meanMax()
	u.report(b)
	b.ReportMetric(mean/1e6, "added-MB/round")
	b.ReportMetric(most/1e6, "max-added-MB")
	b.ReportMetric(100*mean/float64(snap.base), "added-%-of-first")
	b.ReportMetric(wsum.Seconds()/float64(len(walls)), "create-s/round")
	b.ReportMetric(snap.perRoundGC()/1e6, "after-gc-MB/round")
	b.ReportMetric(snap.gcWall.Seconds(), "gc-s")
	pmean, _ := plain.meanMax()
	b.ReportMetric(pmean/1e6, "plain-git-MB/round")
	b.ReportMetric(plain.perRoundGC()/1e6, "plain-git-after-gc-MB/round")
	p.res["rounds-mean-MB"], p.res["rounds-max-MB"], p.res["rounds-gc-MB"] = mean/1e6, most/1e6, snap.perRoundGC()/1e6
	p.res["rounds-plain-MB"], p.res["rounds-plain-gc-MB"] = pmean/1e6, plain.perRoundGC()/1e6
	p.res["rounds-create-s"] = wsum.Seconds() / float64(len(walls))
	for _, h := range []struct {
		what string
		r    *roundRepo
	}{{"git snap", snap}, {"plain git, the dump as one file", plain}} {
		mean, most := h.r.meanMax()
		b.Logf("%s: first snapshot %.1f MB (%.1f MB after git gc); %d rounds added %.1f MB/round (max %.1f); "+
			".git %.1f MB before git gc, %.1f MB after (%.1f s): %.2f MB/round over the packed first snapshot",
			h.what, float64(h.r.base)/1e6, float64(h.r.baseGC)/1e6, len(h.r.added), mean/1e6, most/1e6,
			float64(h.r.preGC)/1e6, float64(h.r.afterGC)/1e6, h.r.gcWall.Seconds(), h.r.perRoundGC()/1e6)
	}
	p.noteRSS(u)
	u.checkRSS(b, "rounds")
}

// roundRepo follows the .git of one repository through the rounds.
type roundRepo struct {
	dir            string
	base, baseGC   int64   // after the first snapshot, then after git gc
	added          []int64 // by each round
	preGC, afterGC int64   // after the last round, then after git gc
	gcWall         time.Duration
}

func (h *roundRepo) size(b *testing.B) int64 {
	b.Helper()
	return dirBytes(b, filepath.Join(h.dir, ".git"))
}

// start records the first snapshot's size, then packs it with git gc.
func (h *roundRepo) start(p *pgBench) {
	h.added = h.added[:0]
	h.base = h.size(p.b)
	p.run(p.cmd(h.dir, "git", "gc", "-q"))
	h.baseGC = h.size(p.b)
}

// finish runs git gc after the rounds.
func (h *roundRepo) finish(p *pgBench) {
	h.preGC = h.size(p.b)
	h.gcWall = p.run(p.cmd(h.dir, "git", "gc", "-q")).wall
	h.afterGC = h.size(p.b)
}

func (h *roundRepo) meanMax() (mean, most float64) {
	var sum int64
	for _, a := range h.added {
		sum += a
		most = max(most, float64(a))
	}
	return float64(sum) / float64(max(1, len(h.added))), most
}

// perRoundGC is what each round costs once git gc has packed the history.
func (h *roundRepo) perRoundGC() float64 {
	return float64(h.afterGC-h.baseGC) / float64(max(1, len(h.added)))
}

// noteRSS keeps the largest git-snap peak RSS for the summary.
func (p *pgBench) noteRSS(u dbUsage) {
	own := u.hwm
	if own == 0 {
		own = u.rss
	}
	p.res["rss-MB"] = max(p.res["rss-MB"], float64(own)/1e6)
}

// summarize logs the dataset's input and figures next to issue 3's
// targets. It is a sub-benchmark of its own because the log of a
// benchmark that has sub-benchmarks is not printed.
func (p *pgBench) summarize(b *testing.B, rounds int) {
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	r := p.res
	var lines []string
	if x, ok := r["create-x"]; ok {
		lines = append(lines, fmt.Sprintf("create %.1f s vs pg_dump %.1f s: %.2f× (target ≤ %.1f×: %s)", r["create-s"], r["floor-dump-s"], x, benchCreateTarget, verdict(x <= benchCreateTarget)))
	}
	if x, ok := r["restore-x"]; ok {
		lines = append(lines, fmt.Sprintf("restore %.1f s (database step %.1f s) vs pg_restore %.1f s: %.2f× (target ≤ %.1f×: %s); its held copy was settled into Git %.1f s later (a restore does that in the background)",
			r["restore-s"], r["restore-scope-s"], r["floor-restore-s"], x, benchRestoreTarget, verdict(x <= benchRestoreTarget), r["settle-s"]))
	}
	if v, ok := r["again-bytes"]; ok {
		lines = append(lines, fmt.Sprintf("unchanged second snapshot +%.0f bytes (target < 1 MB: %s)", v, verdict(v < benchAgainLimit)))
	}
	if v, ok := r["update-pct"]; ok {
		lines = append(lines, fmt.Sprintf("1%% of rows updated: +%.1f MB = %.1f%% of the first snapshot's %.1f MB (target ≤ %.0f%%: %s)", r["update-MB"], v, r["first-MB"], benchUpdateTarget, verdict(v <= benchUpdateTarget)))
	}
	if v, ok := r["rounds-mean-MB"]; ok {
		lines = append(lines, fmt.Sprintf("%d rounds of a different 1%%: +%.1f MB/round (max %.1f), %.2f MB/round after git gc, %.1f s/create (no target); "+
			"the same dumps committed to plain git: +%.1f MB/round, %.2f MB/round after git gc", rounds, v, r["rounds-max-MB"], r["rounds-gc-MB"], r["rounds-create-s"],
			r["rounds-plain-MB"], r["rounds-plain-gc-MB"]))
	}
	lines = append(lines, fmt.Sprintf("git-snap peak RSS %.1f MB (target ≤ 150 MB: %s)", r["rss-MB"], verdict(r["rss-MB"] <= benchRSSLimit/1e6)))
	b.Logf("%s\n\t%s", p.input, strings.Join(lines, "\n\t"))
	for _, m := range [][2]string{{"create-x", "create-x-floor"}, {"restore-x", "restore-x-floor"},
		{"update-pct", "update-%-of-first"}, {"rounds-mean-MB", "rounds-MB/round"}, {"rounds-gc-MB", "rounds-after-gc-MB/round"},
		{"rounds-plain-gc-MB", "plain-git-after-gc-MB/round"},
		{"rss-MB", "max-rss-MB"}, {"zlib1", "zlib1-x"}} {
		if v, ok := r[m[0]]; ok {
			b.ReportMetric(v, m[1])
		}
	}
}
