package database

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

func TestParsePostgresConn(t *testing.T) {
	tests := []struct {
		in      string
		db      string
		env     map[string]string
		wantErr string
	}{
		{in: "postgres://app:s%40cret@db.example:6543/shop?sslmode=require&application_name=x", db: "shop",
			env: map[string]string{"PGUSER": "app", "PGPASSWORD": "s@cret", "PGHOST": "db.example", "PGPORT": "6543", "PGSSLMODE": "require", "PGAPPNAME": "x"}},
		{in: "postgresql://localhost/my%20db", db: "my db", env: map[string]string{"PGHOST": "localhost"}},
		{in: "postgres://u@h1:5432,h2,[::1]:5433/d?target_session_attrs=read-write", db: "d",
			env: map[string]string{"PGUSER": "u", "PGHOST": "h1,h2,::1", "PGPORT": "5432,,5433", "PGTARGETSESSIONATTRS": "read-write"}},
		{in: "postgres:///d?host=%2Fvar%2Frun%2Fpostgresql", db: "d", env: map[string]string{"PGHOST": "/var/run/postgresql"}},
		{in: "postgres://u:@h/d", db: "d", env: map[string]string{"PGUSER": "u", "PGHOST": "h"}},
		{in: "host=h port=5 dbname='my \\'db' password = 'p w' user=u", db: "my 'db",
			env: map[string]string{"PGHOST": "h", "PGPORT": "5", "PGPASSWORD": "p w", "PGUSER": "u"}},
		{in: "postgres://h/", wantErr: "names no database"},
		{in: "postgres://h/d?bogus=1", wantErr: `unsupported connection parameter "bogus"`},
		{in: "mysql://h/d", wantErr: "not a PostgreSQL connection string"},
		{in: "host=h dbname='unterminated", wantErr: "unterminated"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			c, err := parsePostgresConn(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.dbname != tc.db {
				t.Errorf("dbname = %q, want %q", c.dbname, tc.db)
			}
			if diff := cmp.Diff(tc.env, c.env); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPgName(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	tests := []struct{ name, suffix string }{
		{"shop", "__gitsnap_tmp_0011aabb"},
		{strings.Repeat("x", 63), "__gitsnap_old_0011aabb"},
		{long, "__gitsnap_tmp_0011aabb"},
	}
	for _, tc := range tests {
		got := pgName(tc.name, tc.suffix)
		if len(got) > 63 || !strings.HasSuffix(got, tc.suffix) || !strings.HasPrefix(tc.name, strings.TrimSuffix(got, tc.suffix)) {
			t.Errorf("pgName(%q) = %q (%d bytes)", tc.name, got, len(got))
		}
		if !strings.HasPrefix(got, string([]rune(tc.name)[:1])) {
			t.Errorf("pgName(%q) = %q lost the name", tc.name, got)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := quoteIdent(`a"b`); got != `"a""b"` {
		t.Errorf("quoteIdent = %s", got)
	}
	if got := quoteLiteral(`it's`); got != `'it''s'` {
		t.Errorf("quoteLiteral = %s", got)
	}
	if got := quoteLiteral(`a\b'`); got != `E'a\\b'''` {
		t.Errorf("quoteLiteral = %s", got)
	}
	if got := conninfoDB(`we'ird\db`); got != `dbname='we\'ird\\db'` {
		t.Errorf("conninfoDB = %s", got)
	}
}

// pgHeader builds a custom-format archive header of version 1.vmin with
// the given creation second.
func pgHeader(vmin byte, sec byte) []byte {
	h := []byte("PGDMP")
	h = append(h, 1, vmin, 0, 4, 8, 1)
	if vmin >= 15 {
		h = append(h, 0)
	} else {
		h = append(h, 0, 0, 0, 0, 0)
	}
	for _, v := range []byte{sec, 7, 18, 25, 10, 126, 0} {
		h = append(h, 0, v, 0, 0, 0)
	}
	return append(h, "\x07\x00\x00\x00shop and the rest of the archive"...)
}

func TestPgStableHeader(t *testing.T) {
	tests := []struct {
		name    string
		a, b    []byte
		same    bool
		version string
	}{
		{"1.14", pgHeader(14, 26), pgHeader(14, 59), true, "1.14.0"},
		{"1.15", pgHeader(15, 1), pgHeader(15, 2), true, "1.15.0"},
		{"unknown version passes through", pgHeader(30, 1), pgHeader(30, 2), false, ""},
		{"not an archive", []byte("plain SQL 1"), []byte("plain SQL 2"), false, ""},
		{"short", []byte("PGD"), []byte("PGD"), true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := func(in []byte, step int) ([]byte, string) {
				var buf bytes.Buffer
				h := &pgStableHeader{w: &buf}
				for len(in) > 0 { // odd write sizes: the header spans writes
					n := min(step, len(in))
					if k, err := h.Write(in[:n]); err != nil || k != n {
						t.Fatalf("Write = %d, %v", k, err)
					}
					in = in[n:]
				}
				if err := h.flush(); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes(), h.version
			}
			a, v := out(tc.a, 3)
			b, _ := out(tc.b, 1000)
			// os/exec's io.Copy calls ReadFrom: same bytes as Write.
			var viaReadFrom bytes.Buffer
			h := &pgStableHeader{w: &viaReadFrom}
			if n, err := io.Copy(h, iotest.HalfReader(bytes.NewReader(tc.a))); err != nil || n != int64(len(tc.a)) {
				t.Fatalf("io.Copy = %d, %v", n, err)
			}
			if err := h.flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(viaReadFrom.Bytes(), a) || h.version != v {
				t.Errorf("ReadFrom wrote %q (version %q), Write %q (version %q)", viaReadFrom.Bytes(), h.version, a, v)
			}
			if len(a) != len(tc.a) {
				t.Errorf("length changed: %d -> %d", len(tc.a), len(a))
			}
			if bytes.Equal(a, b) != tc.same {
				t.Errorf("outputs equal = %v, want %v\n%q\n%q", bytes.Equal(a, b), tc.same, a, b)
			}
			if !tc.same && !bytes.Equal(a, tc.a) {
				t.Errorf("untouched input was modified")
			}
			if v != tc.version {
				t.Errorf("version = %q, want %q", v, tc.version)
			}
		})
	}
}

func TestPgCreateSQL(t *testing.T) {
	role := "app"
	live := &pgDatabase{Owner: "live_owner", Encoding: "UTF8", Collate: "C.UTF-8", Ctype: "C.UTF-8", Provider: "i", Locale: "und",
		AllowConn: true, ConnLimit: -1, Tablespace: "fast"}
	snap := &pgDatabase{Owner: "snap_owner", Encoding: "LATIN1", Collate: "C", Ctype: "C", Provider: "c", ConnLimit: 5, HasACL: true,
		ACL:      []pgGrant{{Privilege: "CONNECT"}, {Grantee: &role, Privilege: "CREATE", Grantable: true}},
		Settings: []pgRoleSetting{{Config: []string{"search_path=app, public", "work_mem=8MB"}}, {Role: &role, Config: []string{"statement_timeout=5s"}}}}
	comment := "it's mine"
	snap.Comment = &comment
	tests := []struct {
		name       string
		live, snap *pgDatabase
		want       string
	}{
		{"neither", nil, nil, "CREATE DATABASE \"t\" WITH TEMPLATE template0;\n"},
		{"live only", live, nil, `CREATE DATABASE "t" WITH TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'und' TABLESPACE "fast" OWNER "live_owner" CONNECTION LIMIT -1;
`},
		{"snapshot props on the live server's locale", live, snap, `CREATE DATABASE "t" WITH TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'und' TABLESPACE "fast" OWNER "snap_owner" CONNECTION LIMIT 5;
REVOKE ALL ON DATABASE "t" FROM PUBLIC;
REVOKE ALL ON DATABASE "t" FROM "snap_owner";
GRANT CONNECT ON DATABASE "t" TO PUBLIC;
GRANT CREATE ON DATABASE "t" TO "app" WITH GRANT OPTION;
ALTER DATABASE "t" SET "search_path" TO app, public;
ALTER DATABASE "t" SET "work_mem" TO '8MB';
ALTER DATABASE "t" IN ROLE "app" SET "statement_timeout" TO '5s';
COMMENT ON DATABASE "t" IS 'it''s mine';
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, pgCreateSQL("t", tc.live, tc.snap)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// pgFactsJSON is what the fake psql prints for the Inspect query.
const pgFactsJSON = `{"version_num":150020,"version":"15.20 (Debian)","size":8000,"tables":["public.b","public.a"],"database":null}`

func TestPostgresErrors(t *testing.T) {
	const url = "postgres://app:s3cret@127.0.0.1:5432/shop"
	facts := `cat >/dev/null; echo '` + pgFactsJSON + `'`
	tests := []struct {
		name    string
		scripts map[string]string
		op      string // dump | restore | inspect
		url     string
		want    []string // substrings of the error
		hint    string   // substring of the hint
		is      error
	}{
		{name: "missing pg_dump", scripts: map[string]string{"psql": facts},
			op: "dump", want: []string{"pg_dump not found"}, hint: "install the PostgreSQL client tools", is: exec.ErrNotFound},
		{name: "missing pg_restore", scripts: map[string]string{"psql": `cat >/dev/null; echo '{"version_num":150020,"live":null}'`},
			op: "restore", want: []string{"pg_restore not found"}, hint: "install", is: exec.ErrNotFound},
		{name: "version mismatch", scripts: map[string]string{"psql": facts,
			"pg_dump": `echo "pg_dump: error: aborting because of server version mismatch" >&2; echo "pg_dump: detail: server version: 16.1; pg_dump version: 15.2" >&2; exit 1`},
			op: "dump", want: []string{"client/server version mismatch", "aborting because of server version mismatch"}, hint: "at least as new as the server"},
		{name: "permission denied", scripts: map[string]string{
			"psql": `echo 'psql: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  permission denied for database "shop"' >&2; echo 'DETAIL:  User does not have CONNECT privilege.' >&2; exit 2`},
			op: "inspect", want: []string{"permission denied", `for database "shop"`}, hint: "CREATEDB"},
		{name: "authentication", scripts: map[string]string{
			"psql": `echo 'psql: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "app"' >&2; exit 2`},
			op: "inspect", want: []string{"authentication failed"}, hint: "$APP_DB"},
		{name: "database does not exist", scripts: map[string]string{
			"psql": `echo 'psql: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "shop" does not exist' >&2; exit 2`},
			op: "dump", is: ErrNotExist, want: []string{"database does not exist", `"shop" does not exist`}, hint: "create it"},
		{name: "unreachable", scripts: map[string]string{
			"psql": `printf 'psql: error: connection to server at "127.0.0.1", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\n' >&2; exit 2`},
			op: "inspect", want: []string{"server unreachable", "Connection refused"}, hint: "is PostgreSQL running"},
		{name: "bad url", scripts: map[string]string{}, url: "postgres://app:s3cret@h/",
			op: "dump", want: []string{"names no database"}, hint: "$APP_DB"},
		{name: "schema_version query fails", scripts: map[string]string{
			"psql": `if grep -q schema_migrations; then echo 'psql:<stdin>:1: ERROR:  relation "schema_migrations" does not exist' >&2; exit 3; fi; echo '` + pgFactsJSON + `'`},
			op: "inspect", want: []string{"schema_version query", `relation "schema_migrations" does not exist`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &dbtest.FakeRunner{Scripts: tc.scripts}
			d := NewPostgres(fake)
			tgt := Target{Config: gitsnap.DatabaseConfig{Name: "main", URLEnv: "APP_DB", SchemaVersion: "SELECT max(version) FROM schema_migrations"}, URL: url}
			if tc.url != "" {
				tgt.URL = tc.url
			}
			var err error
			switch tc.op {
			case "dump":
				_, err = d.Dump(context.Background(), tgt, io.Discard)
			case "restore":
				err = d.Restore(context.Background(), tgt, strings.NewReader("PGDMP"), Info{})
			default:
				_, err = d.Inspect(context.Background(), tgt)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Logf("%v\nhint: %s", msg, gitsnap.HintOf(err))
			for _, w := range append([]string{"database main (postgres://app:xxxxx@"}, tc.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q", w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "s3cret") {
				t.Errorf("error spans lines or leaks the password: %q", msg)
			}
			if h := gitsnap.HintOf(err); tc.hint != "" && !strings.Contains(h, tc.hint) {
				t.Errorf("hint %q lacks %q", h, tc.hint)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
			for _, c := range fake.Calls() {
				if strings.Contains(c, "s3cret") {
					t.Errorf("password in argv: %s", c)
				}
			}
		})
	}
}

// TestPostgresPasswordViaEnv checks that the tools get the password in
// PGPASSWORD (and the rest of the URL as PG* variables), and that Dump
// streams pg_dump's output.
func TestPostgresPasswordViaEnv(t *testing.T) {
	check := `[ "$PGPASSWORD" = 's3 cret' ] && [ "$PGUSER" = app ] && [ "$PGHOST" = db.example ] && [ "$PGDATABASE" = shop ] || { echo "bad env" >&2; exit 9; }; `
	fake := &dbtest.FakeRunner{Scripts: map[string]string{
		"psql":    check + `cat >/dev/null; echo '` + pgFactsJSON + `'`,
		"pg_dump": check + `printf 'archive bytes'`,
	}}
	d := NewPostgres(fake)
	var out bytes.Buffer
	info, err := d.Dump(context.Background(), Target{Config: gitsnap.DatabaseConfig{Name: "main"}, URL: "postgres://app:s3%20cret@db.example/shop"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "archive bytes" {
		t.Errorf("dump = %q", out.String())
	}
	if diff := cmp.Diff([]string{"public.a", "public.b"}, info.Tables); diff != "" || info.ServerVersion != "PostgreSQL 15.20" || info.Size != 8000 {
		t.Errorf("info = %+v", info)
	}
	for _, c := range fake.Calls() {
		if strings.Contains(c, "s3") {
			t.Errorf("password in argv: %s", c)
		}
	}
}

// TestPostgresRealErrors checks the errors from the real tools: a refused
// connection needs only psql, a missing database needs the server.
func TestPostgresRealErrors(t *testing.T) {
	dbtest.RequireTool(t, "psql")
	d := NewPostgres(ExecRunner{})
	tgt := Target{Config: gitsnap.DatabaseConfig{Name: "main"}, URL: "postgres://postgres:s3cret@127.0.0.1:1/nope?connect_timeout=3"}
	_, err := d.Inspect(context.Background(), tgt)
	if err == nil || !strings.Contains(err.Error(), "server unreachable") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable: %v", err)
	}

	admin := pgAdminURL(t)
	tgt.URL = pgWithDB(admin, dbtest.UniqueName(t, "missing"))
	_, err = d.Dump(context.Background(), tgt, io.Discard)
	if !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), "database does not exist") || !strings.Contains(gitsnap.HintOf(err), "DATABASE_URL") {
		t.Errorf("missing database: %v (hint %q)", err, gitsnap.HintOf(err))
	}
}
