package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// MySQL is the "mysql" driver for MariaDB and MySQL: mariadb-dump (or
// mysqldump) to capture, the mariadb (or mysql) client to load a temporary
// schema, and one RENAME TABLE to swap it in. Credentials reach the tools
// through a 0600 --defaults-extra-file.
type MySQL struct {
	run Runner
}

// NewMySQL returns the mysql driver running its tools through r.
func NewMySQL(r Runner) Driver { return &MySQL{run: r} }

var _ Driver = (*MySQL)(nil)

// Name implements Driver.
func (m *MySQL) Name() string { return "mysql" }

// myDumpTrailer ends every dump Dump writes, so a restore can tell a
// complete dump from one cut at a statement boundary (which the client
// would load without complaint).
const myDumpTrailer = "-- gitsnap: end of dump\n"

// mySession is a resolved target with its option file written.
type mySession struct {
	m           *MySQL
	conn        myConn
	label       string
	envName     string
	schemaQuery string
	defaults    string // path of the 0600 option file
	remove      func()
}

func (m *MySQL) open(t Target) (*mySession, error) {
	s := &mySession{m: m, label: targetLabel(t), envName: targetEnvName(t), schemaQuery: t.Config.SchemaVersion, remove: func() {}}
	if t.URL == "" {
		return nil, gitsnap.WithHint(fmt.Errorf("database %s: no connection string", s.label),
			"set $%s to mysql://user@host:3306/dbname", s.envName)
	}
	c, err := parseMySQLConn(t.URL)
	if err != nil {
		return nil, gitsnap.WithHint(fmt.Errorf("database %s: %w", s.label, err),
			"set $%s to mysql://user@host:3306/dbname", s.envName)
	}
	s.conn = c
	s.defaults, s.remove, err = WriteSecretFile("", "gitsnap-my-*.cnf", c.optionFile())
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", s.label, err)
	}
	return s, nil
}

func (s *mySession) close() { s.remove() }

// tool returns the first of names the Runner can start (mariadb before
// mysql), or the last one so its absence is reported.
func (s *mySession) tool(ctx context.Context, names ...string) string {
	for _, n := range names {
		if cmd := s.m.run.Command(ctx, n); cmd.Err == nil || !errors.Is(cmd.Err, exec.ErrNotFound) {
			return n
		}
	}
	return names[len(names)-1]
}

// client runs an SQL script with the mariadb/mysql client in db ("" for
// none) and returns its batch output (tab-separated, escaped).
func (s *mySession) client(ctx context.Context, db string, script io.Reader, stdout io.Writer, extra ...string) error {
	return s.clientAs(ctx, myClassify(s.envName, false), db, script, stdout, extra...)
}

// clientAs is client with a chosen error classifier.
func (s *mySession) clientAs(ctx context.Context, classify func(string) (string, string), db string, script io.Reader, stdout io.Writer, extra ...string) error {
	args := []string{"--defaults-extra-file=" + s.defaults, "--default-character-set=utf8mb4", "--batch", "--skip-column-names"}
	args = append(args, extra...)
	if db != "" {
		args = append(args, "--database="+db)
	}
	return toolRun{
		db: s.label, name: s.tool(ctx, "mariadb", "mysql"), args: args,
		stdin: script, stdout: stdout, classify: classify,
	}.run(ctx, s.m.run)
}

func (s *mySession) query(ctx context.Context, db, script string) ([][]string, error) {
	var out strings.Builder
	if err := s.client(ctx, db, strings.NewReader(script), &out); err != nil {
		return nil, err
	}
	return myRows(out.String()), nil
}

// Inspect implements Driver: server version, data+index size, tables and
// the schema_version query's first row.
func (m *MySQL) Inspect(ctx context.Context, t Target) (Info, error) {
	s, err := m.open(t)
	if err != nil {
		return Info{}, err
	}
	defer s.close()
	return s.inspect(ctx)
}

func (s *mySession) inspect(ctx context.Context) (Info, error) {
	db := myString(s.conn.dbname)
	rows, err := s.query(ctx, s.conn.dbname, `SELECT 'version', VERSION()
UNION ALL SELECT 'size', COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = `+db+`
UNION ALL SELECT 'charset', DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = `+db+`
UNION ALL SELECT 'collation', DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = `+db+`
UNION ALL SELECT 'table', TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = `+db+` AND TABLE_TYPE <> 'VIEW';
`)
	if err != nil {
		return Info{}, err
	}
	info := Info{Meta: map[string]string{}}
	for _, r := range rows {
		if len(r) < 2 {
			continue
		}
		switch r[0] {
		case "version":
			info.ServerVersion = myServerVersion(r[1])
			info.Meta["server_version_full"] = r[1]
		case "size":
			_, _ = fmt.Sscan(r[1], &info.Size)
		case "charset", "collation":
			info.Meta[r[0]] = r[1]
		case "table":
			info.Tables = append(info.Tables, r[1])
		}
	}
	sort.Strings(info.Tables)
	if s.schemaQuery != "" {
		rows, err := s.query(ctx, s.conn.dbname, s.schemaQuery+"\n;\n")
		if err != nil {
			return Info{}, fmt.Errorf("schema_version query: %w", err)
		}
		if len(rows) > 0 {
			info.SchemaVersion = strings.TrimSpace(strings.Join(rows[0], " "))
		}
	}
	return info, nil
}

// myServerVersion turns VERSION() into "MariaDB 10.11.19" or "MySQL 8.0.36".
func myServerVersion(v string) string {
	num, _, _ := strings.Cut(v, "-")
	if strings.Contains(v, "MariaDB") {
		return "MariaDB " + num
	}
	return "MySQL " + num
}

// Dump implements Driver: a consistent (--single-transaction) dump of the
// schema with routines, triggers and events, without CREATE DATABASE/USE
// (so it loads into any schema), dates or comments (so an unchanged
// database dumps to identical bytes), rows in primary-key order and blobs
// in hex. A trailer line marks the end.
func (m *MySQL) Dump(ctx context.Context, t Target, w io.Writer) (Info, error) {
	s, err := m.open(t)
	if err != nil {
		return Info{}, err
	}
	defer s.close()
	info, err := s.inspect(ctx)
	if err != nil {
		return Info{}, err
	}
	tool := s.tool(ctx, "mariadb-dump", "mysqldump")
	args := []string{"--defaults-extra-file=" + s.defaults, "--default-character-set=utf8mb4",
		"--single-transaction", "--routines", "--triggers", "--events", "--hex-blob",
		"--skip-dump-date", "--skip-comments", "--order-by-primary", "--no-tablespaces"}
	if tool == "mysqldump" && !strings.Contains(info.ServerVersion, "MariaDB") && s.isOracleMySQLDump(ctx) {
		// Oracle's mysqldump writes SET @@GLOBAL.GTID_PURGED on GTID
		// servers, which fails when loaded into a temporary schema.
		args = append(args, "--set-gtid-purged=OFF")
	}
	args = append(args, "--", s.conn.dbname)
	err = toolRun{db: s.label, name: tool, args: args, stdout: w, classify: myClassify(s.envName, false)}.run(ctx, m.run)
	if err != nil {
		return Info{}, err
	}
	if _, err := io.WriteString(w, myDumpTrailer); err != nil {
		return Info{}, fmt.Errorf("database %s: write dump: %w", s.label, err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("database %s: dump: %w", s.label, err)
	}
	info.Meta["dump_format"] = tool + " SQL"
	return info, nil
}

// isOracleMySQLDump reports whether mysqldump is Oracle's (MariaDB ships
// a mysqldump too, without --set-gtid-purged).
func (s *mySession) isOracleMySQLDump(ctx context.Context) bool {
	out, err := toolRun{db: s.label, name: "mysqldump", args: []string{"--version"}}.output(ctx, s.m.run)
	return err == nil && !strings.Contains(out, "MariaDB")
}

// myClassify recognises client and server errors of MariaDB and MySQL;
// loading says a syntax error means a damaged dump.
func myClassify(envName string, loading bool) func(string) (string, string) {
	return func(s string) (string, string) {
		l := strings.ToLower(s)
		switch {
		case strings.Contains(l, "column_statistics"), strings.Contains(l, "authentication plugin"),
			strings.Contains(l, "unknown to the client"), strings.Contains(l, `unknown command '\-'`),
			strings.Contains(l, "unknown variable"):
			return "client/server version mismatch", "use the client tools of the server's flavour and version (mariadb-dump/mariadb for MariaDB, mysqldump/mysql for MySQL)"
		case strings.Contains(l, "unknown database"):
			return causeNotExist, fmt.Sprintf("create it, or fix the database name in $%s", envName)
		case strings.Contains(l, "access denied for user") && strings.Contains(l, "using password"):
			return "authentication failed", fmt.Sprintf("check the user and password in $%s", envName)
		case strings.Contains(l, "access denied"), strings.Contains(l, "command denied"), strings.Contains(l, "privilege"):
			return "permission denied", "the user needs ALL PRIVILEGES on the schema and CREATE/DROP on new schemas (plus SUPER or SET_USER_ID for other definers) to dump and restore it"
		case strings.Contains(l, "can't connect"), strings.Contains(l, "unknown server host"), strings.Contains(l, "unknown mysql server host"),
			strings.Contains(l, "connection refused"), strings.Contains(l, "lost connection"), strings.Contains(l, "server has gone away"):
			return "server unreachable", fmt.Sprintf("is the server running? check the host and port in $%s", envName)
		case loading && strings.Contains(l, "error 1064"):
			return "the dump is truncated or corrupt", "run `git snap check --read-data`; the live database was left untouched"
		}
		return "", ""
	}
}
