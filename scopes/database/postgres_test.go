package database

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

// pgAdminURL is the server the PostgreSQL tests use (trust auth on the CI
// machine); override with GITSNAP_TEST_POSTGRES_URL.
func pgAdminURL(t *testing.T) string {
	t.Helper()
	u := dbtest.Env("GITSNAP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
	c, err := parsePostgresConn(u)
	if err != nil {
		t.Fatalf("GITSNAP_TEST_POSTGRES_URL: %v", err)
	}
	host, port := c.env["PGHOST"], c.env["PGPORT"]
	if port == "" {
		port = "5432"
	}
	dbtest.RequireService(t, "PostgreSQL", host+":"+port)
	for _, tool := range []string{"psql", "pg_dump", "pg_restore"} {
		dbtest.RequireTool(t, tool)
	}
	return u
}

// pgWithDB returns url with its database replaced by db.
func pgWithDB(url, db string) string {
	base, query, _ := strings.Cut(url, "?")
	if i := strings.LastIndex(base, "/"); i > len("postgres://") {
		base = base[:i]
	}
	if query != "" {
		return base + "/" + db + "?" + query
	}
	return base + "/" + db
}

// pgSQL runs a script with psql against url and returns its unaligned
// output (fields separated by "|").
func pgSQL(t *testing.T, url, script string) string {
	t.Helper()
	cmd := exec.Command("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("psql: %v: %s\nscript:\n%s", err, stderr.String(), script)
	}
	return string(out)
}

// pgTestDB creates a uniquely named empty database, dropped (with any
// leftover temporary copies) when the test ends.
func pgTestDB(t *testing.T) (admin, url, name string) {
	t.Helper()
	admin = pgAdminURL(t)
	name = dbtest.UniqueName(t, "pg")
	pgSQL(t, admin, fmt.Sprintf("CREATE DATABASE %s;", quoteIdent(name)))
	t.Cleanup(func() {
		for _, db := range append(pgLeftovers(t, admin, name), name) {
			pgSQL(t, admin, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE);", quoteIdent(db)))
		}
	})
	return admin, pgWithDB(admin, name), name
}

// pgLeftovers lists temporary or old copies a restore of name left behind.
func pgLeftovers(t *testing.T, admin, name string) []string {
	t.Helper()
	out := pgSQL(t, admin, fmt.Sprintf("SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1;", quoteLiteral(name+"__gitsnap_")))
	return strings.Fields(out)
}

func pgTestTarget(url string) Target {
	return Target{
		Config: gitsnap.DatabaseConfig{Name: "main", Driver: "postgres", SchemaVersion: "SELECT max(version) FROM app.schema_migrations"},
		URL:    url,
	}
}

// pgFixture fills db with every kind of object the issue asks to keep:
// owners, grants, sequences, indexes, views, functions, triggers,
// extensions, large objects, and database-level settings.
func pgFixture(t *testing.T, url, name, role string) {
	t.Helper()
	pgSQL(t, url, fmt.Sprintf(`
CREATE EXTENSION citext;
CREATE SCHEMA app;
CREATE TABLE app.schema_migrations (version bigint PRIMARY KEY);
INSERT INTO app.schema_migrations VALUES (20240101), (20240315);
CREATE TABLE app.users (id serial PRIMARY KEY, email citext UNIQUE NOT NULL, profile jsonb, created timestamptz NOT NULL DEFAULT '2020-01-01');
INSERT INTO app.users (email, profile) SELECT 'u' || g || '@example.com', jsonb_build_object('n', g, 'tags', ARRAY['a', 'b']) FROM generate_series(1, 300) g;
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id int NOT NULL REFERENCES app.users, amount numeric(10,2), note text, blob bytea);
INSERT INTO orders (user_id, amount, note, blob) SELECT 1 + g %% 300, g * 1.25, CASE WHEN g %% 7 = 0 THEN NULL ELSE 'n' || g END, decode(md5(g::text), 'hex') FROM generate_series(1, 2000) g;
CREATE TABLE pairs (a int, b text, PRIMARY KEY (b, a));
INSERT INTO pairs SELECT g, chr(65 + g %% 26) FROM generate_series(1, 100) g;
CREATE SEQUENCE counter START 100;
SELECT setval('counter', 4242);
CREATE INDEX orders_amount_idx ON orders (amount) WHERE amount > 10;
CREATE INDEX users_profile_idx ON app.users USING gin (profile);
CREATE VIEW big_orders AS SELECT o.id, u.email FROM orders o JOIN app.users u ON u.id = o.user_id WHERE o.amount > 100;
CREATE MATERIALIZED VIEW order_totals AS SELECT user_id, sum(amount) AS total FROM orders GROUP BY user_id;
CREATE FUNCTION app.mark() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN NEW.note := coalesce(NEW.note, '') || '!'; RETURN NEW; END $f$;
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE TRIGGER orders_mark BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION app.mark();
SELECT lo_from_bytea(0, '\x00010203ff'::bytea);
COMMENT ON TABLE orders IS 'the orders';
ALTER TABLE pairs OWNER TO %[1]s;
GRANT SELECT, INSERT ON orders TO %[1]s;
GRANT USAGE ON SCHEMA app TO %[1]s;
ALTER DATABASE %[2]s SET work_mem TO '8MB';
ALTER DATABASE %[2]s SET search_path TO app, public;
REVOKE TEMPORARY ON DATABASE %[2]s FROM PUBLIC;
GRANT CONNECT, CREATE ON DATABASE %[2]s TO %[1]s WITH GRANT OPTION;
COMMENT ON DATABASE %[2]s IS 'test database';
`, quoteIdent(role), quoteIdent(name)))
}

// pgFingerprintSQL lists, one "kind|key|value" line each: a checksum of
// every table's rows in primary-key order, sequence values, indexes, views,
// functions, triggers, extensions, large objects, owners and grants, and the
// database's own owner, ACL, settings and comment.
const pgFingerprintSQL = `
WITH rels AS (
  SELECT c.oid, n.nspname, c.relname,
    coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
      FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
      JOIN pg_attribute a ON a.attnum = k.attnum
      WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid), 't::text') AS pk
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
)
SELECT * FROM (
  SELECT 'rows', format('%I.%I', nspname, relname),
    (xpath('/row/c/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(t::text, E''\n'' ORDER BY %s), '''')) || '':'' || count(*) AS c FROM %I.%I t', pk, nspname, relname), false, true, '')))[1]::text
  FROM rels
  UNION ALL SELECT 'sequence', schemaname || '.' || sequencename, coalesce(last_value::text, 'unset') FROM pg_sequences
  UNION ALL SELECT 'index', schemaname || '.' || indexname, indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog')
  UNION ALL SELECT 'view', schemaname || '.' || viewname, definition FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT 'matview', schemaname || '.' || matviewname, definition FROM pg_matviews
  UNION ALL SELECT 'function', p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
  UNION ALL SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL SELECT 'extension', extname, extversion FROM pg_extension
  UNION ALL SELECT 'lo', m.oid::text, pg_get_userbyid(m.lomowner) || ' ' || md5(lo_get(m.oid)) FROM pg_largeobject_metadata m
  UNION ALL SELECT 'owner', c.oid::regclass::text, pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '-') || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'app')
  UNION ALL SELECT 'schema', nspname, pg_get_userbyid(nspowner) || ' ' || coalesce(nspacl::text, '-') FROM pg_namespace WHERE nspname IN ('public', 'app')
  UNION ALL SELECT 'database', 'self', pg_get_userbyid(d.datdba) || ' ' || pg_encoding_to_char(d.encoding) || ' ' || coalesce(d.datacl::text, '-') || ' '
    || d.datallowconn || ' ' || coalesce(shobj_description(d.oid, 'pg_database'), '-') || ' '
    || coalesce((SELECT array_agg(x ORDER BY x)::text FROM pg_db_role_setting s, unnest(s.setconfig) x WHERE s.setdatabase = d.oid), '-')
    FROM pg_database d WHERE d.datname = current_database()
) f ORDER BY 1, 2;
`

func pgFingerprint(t *testing.T, url string) []string {
	t.Helper()
	out := strings.TrimSpace(pgSQL(t, url, pgFingerprintSQL))
	// The database-level line names roles, not the database itself, so it
	// stays equal across the rename.
	return strings.Split(out, "\n")
}

func pgRole(t *testing.T, admin string) string {
	t.Helper()
	role := dbtest.UniqueName(t, "role")
	pgSQL(t, admin, fmt.Sprintf("CREATE ROLE %s NOLOGIN;", quoteIdent(role)))
	t.Cleanup(func() {
		// The test database (and what the role owned there) is gone by
		// now: cleanups run last-registered first.
		pgSQL(t, admin, fmt.Sprintf("DROP ROLE IF EXISTS %s;", quoteIdent(role)))
	})
	return role
}

func TestPostgresRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgAdminURL(t)
	role := pgRole(t, admin)
	admin, url, name := pgTestDB(t)
	pgFixture(t, url, name, role)
	want := pgFingerprint(t, url)
	d := NewPostgres(ExecRunner{})
	tgt := pgTestTarget(url)

	var dump bytes.Buffer
	info, err := d.Dump(ctx, tgt, &dump)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.ServerVersion, "PostgreSQL 1") || info.SchemaVersion != "20240315" || info.Size <= 0 {
		t.Errorf("info = %+v", info)
	}
	if diff := cmp.Diff([]string{"app.schema_migrations", "app.users", "public.orders", "public.pairs"}, info.Tables); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}

	// Damage everything the fingerprint covers.
	pgSQL(t, url, fmt.Sprintf(`
DELETE FROM orders WHERE id %% 3 = 0;
UPDATE app.users SET profile = '{}' WHERE id < 10;
INSERT INTO app.schema_migrations VALUES (20250101);
SELECT setval('counter', 1);
DROP VIEW big_orders;
DROP TRIGGER orders_mark ON orders;
DROP FUNCTION add(int, int);
DROP INDEX orders_amount_idx;
SELECT lo_unlink(oid) FROM pg_largeobject_metadata;
REVOKE ALL ON orders FROM %[1]s;
ALTER DATABASE %[2]s RESET work_mem;
COMMENT ON DATABASE %[2]s IS 'changed';
CREATE TABLE extra (x int);
`, quoteIdent(role), quoteIdent(name)))
	if got := pgFingerprint(t, url); cmp.Equal(want, got) {
		t.Fatal("damage did not change the fingerprint")
	}

	// A client connected to the live database is cut off by the swap.
	sess := exec.CommandContext(ctx, "psql", "-X", "-d", url, "-c", "SELECT pg_sleep(60)")
	if err := sess.Start(); err != nil {
		t.Fatal(err)
	}
	waitForSession(t, admin, name)

	start := time.Now()
	if err := d.Restore(ctx, tgt, bytes.NewReader(dump.Bytes()), info); err != nil {
		t.Fatal(err)
	}
	t.Logf("restore of a %d-byte dump took %v", dump.Len(), time.Since(start))
	if err := sess.Wait(); err == nil {
		t.Error("the session connected during restore was not terminated")
	}
	if diff := cmp.Diff(want, pgFingerprint(t, url)); diff != "" {
		t.Errorf("restored database differs (-want +got):\n%s", diff)
	}
	if left := pgLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("restore left databases behind: %v", left)
	}
	// The restored database is the same as at dump time: the next dump
	// gives the same facts.
	again, err := d.Inspect(ctx, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if again.SchemaVersion != info.SchemaVersion || !cmp.Equal(again.Tables, info.Tables) {
		t.Errorf("after restore Inspect = %+v, want the dump's %+v", again, info)
	}
}

func waitForSession(t *testing.T, admin, db string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		out := pgSQL(t, admin, fmt.Sprintf("SELECT count(*) FROM pg_stat_activity WHERE datname = %s;", quoteLiteral(db)))
		if strings.TrimSpace(out) != "0" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("session never connected")
}

func TestPostgresDumpDeterministic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgAdminURL(t)
	role := pgRole(t, admin)
	_, url, name := pgTestDB(t)
	pgFixture(t, url, name, role)
	d := NewPostgres(ExecRunner{})

	var a, b bytes.Buffer
	if _, err := d.Dump(ctx, pgTestTarget(url), &a); err != nil {
		t.Fatal(err)
	}
	// pg_dump records the time to the second: make sure it changed.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	info, err := d.Dump(ctx, pgTestTarget(url), &b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two dumps of an unchanged database differ (%d and %d bytes)", a.Len(), b.Len())
	}
	if info.Meta["archive_version"] == "" {
		t.Errorf("archive version not recorded: %v", info.Meta)
	}
}

// failAfter yields data and then fails with err instead of io.EOF.
type failAfter struct {
	r   io.Reader
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

// blockAfter yields n bytes, cancels, then blocks until ctx is done.
type blockAfter struct {
	r      io.Reader
	n      int
	ctx    context.Context
	cancel context.CancelFunc
}

func (b *blockAfter) Read(p []byte) (int, error) {
	if b.n <= 0 {
		b.cancel()
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	if len(p) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= n
	return n, err
}

func TestPostgresFailedRestoreKeepsLive(t *testing.T) {
	t.Parallel()
	admin := pgAdminURL(t)
	role := pgRole(t, admin)
	admin, url, name := pgTestDB(t)
	pgFixture(t, url, name, role)
	d := NewPostgres(ExecRunner{})
	var dump bytes.Buffer
	info, err := d.Dump(context.Background(), pgTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	// The live database moves on after the dump; a failed restore must
	// leave this state, not the dump's.
	pgSQL(t, url, "INSERT INTO app.schema_migrations VALUES (20250101); DELETE FROM orders WHERE id < 100;")
	want := pgFingerprint(t, url)
	full := dump.Bytes()

	integrity := fmt.Errorf("chunk 3: %w", gitsnap.ErrIntegrity)
	tests := []struct {
		name    string
		reader  func(ctx context.Context, cancel context.CancelFunc) io.Reader
		wantErr func(error) bool
	}{
		{"truncated", func(context.Context, context.CancelFunc) io.Reader {
			return bytes.NewReader(full[:len(full)*6/10])
		}, nil},
		{"not an archive", func(context.Context, context.CancelFunc) io.Reader {
			return strings.NewReader("this is not a pg_dump archive\n")
		}, nil},
		{"digest mismatch at EOF", func(context.Context, context.CancelFunc) io.Reader {
			return &failAfter{r: bytes.NewReader(full), err: integrity}
		}, func(err error) bool { return errors.Is(err, gitsnap.ErrIntegrity) }},
		{"cancelled midway", func(ctx context.Context, cancel context.CancelFunc) io.Reader {
			return &blockAfter{r: bytes.NewReader(full), n: len(full) / 2, ctx: ctx, cancel: cancel}
		}, func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := d.Restore(ctx, pgTestTarget(url), tc.reader(ctx, cancel), info)
			if err == nil {
				t.Fatal("restore succeeded")
			}
			t.Logf("error: %v", err)
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Errorf("error %v is not the expected kind", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if diff := cmp.Diff(want, pgFingerprint(t, url)); diff != "" {
				t.Errorf("live database changed (-want +got):\n%s", diff)
			}
			if left := pgLeftovers(t, admin, name); len(left) > 0 {
				t.Errorf("temporary databases left behind: %v", left)
			}
		})
	}
}

// TestPostgresRestoreMissingDatabase restores a snapshot whose database
// was dropped: it is created with the properties recorded at dump time.
func TestPostgresRestoreMissingDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := pgAdminURL(t)
	role := pgRole(t, admin)
	admin, url, name := pgTestDB(t)
	pgFixture(t, url, name, role)
	want := pgFingerprint(t, url)
	d := NewPostgres(ExecRunner{})
	var dump bytes.Buffer
	info, err := d.Dump(ctx, pgTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	pgSQL(t, admin, fmt.Sprintf("DROP DATABASE %s;", quoteIdent(name)))
	if err := d.Restore(ctx, pgTestTarget(url), &dump, info); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, pgFingerprint(t, url)); diff != "" {
		t.Errorf("restored database differs (-want +got):\n%s", diff)
	}
	if left := pgLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("restore left databases behind: %v", left)
	}
}

// cancelOnWrite cancels its context at the first write and accepts
// everything.
type cancelOnWrite struct{ cancel context.CancelFunc }

func (c cancelOnWrite) Write(p []byte) (int, error) { c.cancel(); return len(p), nil }

// dumpCancelled checks that a Dump whose context is cancelled once output
// flows fails with context.Canceled (shared by the server drivers' tests).
func dumpCancelled(t *testing.T, d Driver, tgt Target) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := d.Dump(ctx, tgt, cancelOnWrite{cancel})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled dump: err = %v, want context.Canceled", err)
	}
}

func TestPostgresDumpCancelled(t *testing.T) {
	t.Parallel()
	_, url, _ := pgTestDB(t)
	pgSQL(t, url, "CREATE SCHEMA app; CREATE TABLE app.schema_migrations (version int); CREATE TABLE t AS SELECT g FROM generate_series(1, 100000) g;")
	dumpCancelled(t, NewPostgres(ExecRunner{}), pgTestTarget(url))
}

// countingRunner runs real tools and counts the runs of each.
type countingRunner struct {
	mu   sync.Mutex
	runs map[string]int
}

func (c *countingRunner) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	c.mu.Lock()
	c.runs[name]++
	c.mu.Unlock()
	return ExecRunner{}.Command(ctx, name, args...)
}

func (c *countingRunner) take(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.runs[name]
	c.runs[name] = 0
	return n
}

// A restore inspects the live database for its plan; the held copy's
// record and the temporary database's settings reuse those facts instead
// of running psql again, until a swap changes the database or they age.
func TestPostgresRecentFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, url, _ := pgTestDB(t)
	pgSQL(t, url, "CREATE TABLE before_restore (x int);")
	runs := &countingRunner{runs: map[string]int{}}
	d := NewPostgres(runs).(*Postgres)
	tgt := Target{Config: gitsnap.DatabaseConfig{Name: "main", Driver: "postgres"}, URL: url}

	var dump bytes.Buffer
	info, err := d.Dump(ctx, tgt, &dump)
	if err != nil {
		t.Fatal(err)
	}
	pgSQL(t, url, "CREATE TABLE after_dump (x int);")
	runs.take("psql")

	plan, err := d.Inspect(ctx, tgt) // the restore plan
	if err != nil {
		t.Fatal(err)
	}
	held, _, err := d.Hold(ctx, tgt, "cafe0001")
	if err != nil {
		t.Fatal(err)
	}
	if n := runs.take("psql"); n != 1 {
		t.Errorf("Inspect then Hold ran psql %d times, want once", n)
	}
	if !cmp.Equal(held.Tables, plan.Tables) || held.Meta["dump_format"] != "held on the server" || plan.Meta["dump_format"] != "" {
		t.Errorf("Hold = %+v, want the plan's facts %+v as a held record", held, plan)
	}
	st, err := d.Stage(ctx, tgt, bytes.NewReader(dump.Bytes()), info)
	if err != nil {
		t.Fatal(err)
	}
	if n := runs.take("psql"); n != 1 {
		t.Errorf("Stage ran psql %d times, want once (CREATE DATABASE only)", n)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	runs.take("psql")

	// The swap replaced the database: its facts are read again.
	after, _, err := d.Hold(ctx, tgt, "cafe0002")
	if err != nil {
		t.Fatal(err)
	}
	if n := runs.take("psql"); n != 1 {
		t.Errorf("Hold after the swap ran psql %d times, want once", n)
	}
	if want := []string{"public.before_restore"}; !cmp.Equal(after.Tables, want) {
		t.Errorf("Hold after the swap saw tables %v, want the restored %v", after.Tables, want)
	}
	// Facts older than recentFactsAge are read again.
	pt, err := resolvePostgres(tgt)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	f := d.recent[pt.key()]
	f.at = f.at.Add(-recentFactsAge)
	d.recent[pt.key()] = f
	d.mu.Unlock()
	if _, _, err := d.Hold(ctx, tgt, "cafe0003"); err != nil {
		t.Fatal(err)
	}
	if n := runs.take("psql"); n != 1 {
		t.Errorf("Hold with aged facts ran psql %d times, want once", n)
	}
}
