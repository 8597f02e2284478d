package database

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

// myAdminURL is the server the MariaDB/MySQL tests use; override with
// GITSNAP_TEST_MYSQL_URL (its database part is replaced per test).
func myAdminURL(t *testing.T) string {
	t.Helper()
	u := dbtest.Env("GITSNAP_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")
	c, err := parseMySQLConn(u)
	if err != nil {
		t.Fatalf("GITSNAP_TEST_MYSQL_URL: %v", err)
	}
	host, port := c.options["host"], c.options["port"]
	if port == "" {
		port = "3306"
	}
	dbtest.RequireService(t, "MariaDB/MySQL", host+":"+port)
	if _, err := exec.LookPath("mariadb"); err != nil {
		dbtest.RequireTool(t, "mysql")
	}
	if _, err := exec.LookPath("mariadb-dump"); err != nil {
		dbtest.RequireTool(t, "mysqldump")
	}
	return u
}

func myWithDB(url, db string) string {
	base, query, _ := strings.Cut(url, "?")
	if i := strings.LastIndex(base, "/"); i > len("mysql://") {
		base = base[:i]
	}
	if query != "" {
		return base + "/" + db + "?" + query
	}
	return base + "/" + db
}

// mySQL runs a script with the client against url's database (none when
// db is "") and returns the batch output.
func mySQL(t *testing.T, url, script string) string {
	t.Helper()
	c, err := parseMySQLConn(url)
	if err != nil {
		t.Fatal(err)
	}
	cnf, remove, err := WriteSecretFile(t.TempDir(), "my-*.cnf", c.optionFile())
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	client := "mariadb"
	if _, err := exec.LookPath(client); err != nil {
		client = "mysql"
	}
	cmd := exec.Command(client, "--defaults-extra-file="+cnf, "--default-character-set=utf8mb4", "--batch", "--skip-column-names", "--comments", "--database="+c.dbname)
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s\nscript:\n%s", client, err, stderr.String(), script)
	}
	return string(out)
}

func myTestDB(t *testing.T) (admin, url, name string) {
	t.Helper()
	admin = myAdminURL(t)
	name = dbtest.UniqueName(t, "my")
	mySQL(t, admin, fmt.Sprintf("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", myIdent(name)))
	t.Cleanup(func() {
		for _, db := range append(myLeftovers(t, admin, name), name) {
			mySQL(t, admin, fmt.Sprintf("DROP DATABASE IF EXISTS %s;", myIdent(db)))
		}
	})
	return admin, myWithDB(admin, name), name
}

func myLeftovers(t *testing.T, admin, name string) []string {
	t.Helper()
	out := mySQL(t, admin, fmt.Sprintf("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, %d) = %s ORDER BY 1;",
		len(name)+len("__gitsnap_"), myString(name+"__gitsnap_")))
	return strings.Fields(out)
}

func myTestTarget(url string) Target {
	return Target{
		Config: gitsnap.DatabaseConfig{Name: "main", Driver: "mysql", SchemaVersion: "SELECT MAX(version) FROM schema_migrations"},
		URL:    url,
	}
}

// myFixture has tables with AUTO_INCREMENT, named foreign keys, indexes,
// JSON and binary data, a sequence (MariaDB), views (one on another),
// routines with bodies, ordered triggers and an event.
func myFixture(t *testing.T, url string) {
	t.Helper()
	mariadb := strings.Contains(mySQL(t, url, "SELECT VERSION();"), "MariaDB")
	script := `
CREATE TABLE digits (d INT PRIMARY KEY);
INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);
CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY);
INSERT INTO schema_migrations VALUES (20240101), (20240315);
CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) NOT NULL, profile JSON, created DATETIME(3) NOT NULL DEFAULT '2020-01-01 00:00:00', UNIQUE KEY users_email (email)) ENGINE=InnoDB;
INSERT INTO users (email, profile) SELECT CONCAT('u', a.d * 100 + b.d * 10 + c.d, '@example.com'), JSON_OBJECT('n', a.d, 'tags', JSON_ARRAY('a', 'b'))
  FROM digits a, digits b, digits c WHERE a.d < 3;
CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL, amount DECIMAL(10,2), note TEXT, bin VARBINARY(32),
  CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id)) ENGINE=InnoDB;
INSERT INTO orders (user_id, amount, note, bin) SELECT 1 + (a.d * 100 + b.d * 10 + c.d) % 300, (a.d * 100 + b.d * 10 + c.d) * 1.25,
  IF(c.d = 7, NULL, CONCAT('n', a.d, b.d, c.d, '\ttab\nline ''q''')), UNHEX(MD5(a.d * 100 + b.d * 10 + c.d)) FROM digits a, digits b, digits c;
ALTER TABLE orders AUTO_INCREMENT = 5000;
CREATE TABLE pairs (a INT, b VARCHAR(5), PRIMARY KEY (b, a));
INSERT INTO pairs SELECT d, CHAR(65 + d) FROM digits;
CREATE INDEX orders_amount_idx ON orders (amount);
CREATE VIEW big_orders AS SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.amount > 100;
CREATE VIEW a_big_count AS SELECT COUNT(*) AS n FROM big_orders;
DELIMITER ;;
CREATE FUNCTION add1(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;;
CREATE PROCEDURE bump(IN n INT)
BEGIN
  -- a comment that must survive
  UPDATE users SET profile = JSON_SET(profile, '$.n', n) WHERE id = 1;
  SELECT n;
END;;
CREATE TRIGGER orders_mark BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = CONCAT(COALESCE(NEW.note, ''), '!');;
CREATE TRIGGER orders_mark2 BEFORE INSERT ON orders FOR EACH ROW FOLLOWS orders_mark SET NEW.amount = NEW.amount + add1(0) - 1;;
CREATE EVENT cleanup ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM orders WHERE id < 0;;
DELIMITER ;
`
	if mariadb {
		script += "CREATE SEQUENCE seq1 START WITH 10;\nSELECT NEXTVAL(seq1), NEXTVAL(seq1);\n"
	}
	mySQL(t, url, script)
}

// myFingerprint lists, one line each: every table's rows in key order
// (md5 of the quoted values), AUTO_INCREMENT counters, indexes, foreign
// keys, views, routines, triggers (with their order), events and the
// schema's character set.
func myFingerprint(t *testing.T, url string) []string {
	t.Helper()
	c, err := parseMySQLConn(url)
	if err != nil {
		t.Fatal(err)
	}
	db := myString(c.dbname)
	cols := myRows(mySQL(t, url, `SELECT c.TABLE_NAME, c.COLUMN_NAME, COALESCE(k.ORDINAL_POSITION, 0)
FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE <> 'VIEW'
LEFT JOIN information_schema.KEY_COLUMN_USAGE k ON k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY'
WHERE c.TABLE_SCHEMA = `+db+` ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION;`))
	type tbl struct{ cols, pk []string }
	tables := map[string]*tbl{}
	var order []string
	for _, r := range cols {
		tb := tables[r[0]]
		if tb == nil {
			tb = &tbl{}
			tables[r[0]] = tb
			order = append(order, r[0])
		}
		tb.cols = append(tb.cols, "QUOTE("+myIdent(r[1])+")")
		if r[2] != "0" {
			tb.pk = append(tb.pk, myIdent(r[1]))
		}
	}
	var b strings.Builder
	b.WriteString("SET SESSION group_concat_max_len = 1073741824;\n")
	for _, name := range order {
		tb := tables[name]
		key := tb.pk
		if len(key) == 0 {
			key = tb.cols
		}
		fmt.Fprintf(&b, "SELECT 'rows', %s, CONCAT(MD5(COALESCE(GROUP_CONCAT(CONCAT_WS('|', %s) ORDER BY %s SEPARATOR '\\n'), '')), ':', COUNT(*)) FROM %s;\n",
			myString(name), strings.Join(tb.cols, ", "), strings.Join(key, ", "), myIdent(name))
	}
	fmt.Fprintf(&b, `SELECT 'auto_increment', TABLE_NAME, COALESCE(AUTO_INCREMENT, '-') FROM information_schema.TABLES WHERE TABLE_SCHEMA = %[1]s ORDER BY 2;
SELECT 'index', CONCAT(TABLE_NAME, '.', INDEX_NAME), GROUP_CONCAT(CONCAT(COLUMN_NAME, ':', NON_UNIQUE) ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %[1]s GROUP BY TABLE_NAME, INDEX_NAME ORDER BY 2;
SELECT 'fk', CONCAT(TABLE_NAME, '.', CONSTRAINT_NAME), CONCAT(COLUMN_NAME, '->', REFERENCED_TABLE_NAME, '.', REFERENCED_COLUMN_NAME) FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %[1]s AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY 2;
SELECT 'view', TABLE_NAME, MD5(CONCAT_WS('|', VIEW_DEFINITION, DEFINER, SECURITY_TYPE, CHECK_OPTION)) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %[1]s ORDER BY 2;
SELECT 'routine', CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME), MD5(CONCAT_WS('|', ROUTINE_DEFINITION, DTD_IDENTIFIER, IS_DETERMINISTIC, SQL_MODE, DEFINER, SECURITY_TYPE)) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %[1]s ORDER BY 2;
SELECT 'trigger', TRIGGER_NAME, CONCAT_WS('|', EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, MD5(ACTION_STATEMENT), SQL_MODE, DEFINER) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %[1]s ORDER BY 2;
SELECT 'event', EVENT_NAME, CONCAT_WS('|', MD5(EVENT_DEFINITION), INTERVAL_VALUE, INTERVAL_FIELD, STARTS, STATUS, SQL_MODE, TIME_ZONE, DEFINER) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %[1]s ORDER BY 2;
SELECT 'schema', SCHEMA_NAME, CONCAT(DEFAULT_CHARACTER_SET_NAME, ' ', DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %[1]s;
`, db)
	out := strings.TrimSpace(mySQL(t, url, b.String()))
	return strings.Split(out, "\n")
}

func TestMySQLRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, url, name := myTestDB(t)
	myFixture(t, url)
	want := myFingerprint(t, url)
	d := NewMySQL(ExecRunner{})
	tgt := myTestTarget(url)

	var dump bytes.Buffer
	info, err := d.Dump(ctx, tgt, &dump)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info.ServerVersion, ".") || info.SchemaVersion != "20240315" || info.Size <= 0 || info.Meta["charset"] != "utf8mb4" {
		t.Errorf("info = %+v", info)
	}
	for _, tb := range []string{"orders", "pairs", "schema_migrations", "users"} {
		if !strings.Contains(strings.Join(info.Tables, " "), tb) {
			t.Errorf("tables %v lack %s", info.Tables, tb)
		}
	}
	if bytes.Contains(dump.Bytes(), []byte("USE `")) || bytes.Contains(dump.Bytes(), []byte("CREATE DATABASE")) {
		t.Error("dump names its database: it would not load into a temporary schema")
	}

	// Damage everything the fingerprint covers; a view now has the name
	// of a snapshot table.
	mySQL(t, url, `
SET FOREIGN_KEY_CHECKS = 0;
DELETE FROM orders WHERE id % 3 = 0;
UPDATE users SET profile = JSON_OBJECT() WHERE id < 10;
INSERT INTO orders (user_id, amount) VALUES (1, 1);
DROP VIEW big_orders;
DROP TRIGGER orders_mark2;
DROP PROCEDURE bump;
DROP EVENT cleanup;
DROP INDEX orders_amount_idx ON orders;
DROP TABLE pairs;
CREATE VIEW pairs AS SELECT 1 AS a;
CREATE TABLE extra (x INT);
DELIMITER ;;
CREATE FUNCTION extra_fn() RETURNS INT DETERMINISTIC RETURN 2;;
DELIMITER ;
`)
	if got := myFingerprint(t, url); cmp.Equal(want, got) {
		t.Fatal("damage did not change the fingerprint")
	}
	start := time.Now()
	if err := d.Restore(ctx, tgt, bytes.NewReader(dump.Bytes()), info); err != nil {
		t.Fatal(err)
	}
	t.Logf("restore of a %d-byte dump took %v", dump.Len(), time.Since(start))
	if diff := cmp.Diff(want, myFingerprint(t, url)); diff != "" {
		t.Errorf("restored schema differs (-want +got):\n%s", diff)
	}
	if left := myLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("restore left schemas behind: %v", left)
	}
	// Triggers fire in their recorded order on the restored tables.
	out := mySQL(t, url, "INSERT INTO orders (user_id, amount, note) VALUES (2, 10, 'x'); SELECT note, amount FROM orders ORDER BY id DESC LIMIT 1;")
	if strings.TrimSpace(out) != "x!\t10.00" {
		t.Errorf("trigger result = %q", out)
	}
}

func TestMySQLDumpDeterministic(t *testing.T) {
	t.Parallel()
	_, url, _ := myTestDB(t)
	myFixture(t, url)
	d := NewMySQL(ExecRunner{})
	var a, b bytes.Buffer
	if _, err := d.Dump(context.Background(), myTestTarget(url), &a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	if _, err := d.Dump(context.Background(), myTestTarget(url), &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two dumps of an unchanged schema differ (%d and %d bytes)", a.Len(), b.Len())
	}
	if !bytes.HasSuffix(a.Bytes(), []byte(myDumpTrailer)) {
		t.Error("dump lacks the end marker")
	}
}

func TestMySQLFailedRestoreKeepsLive(t *testing.T) {
	t.Parallel()
	admin, url, name := myTestDB(t)
	myFixture(t, url)
	d := NewMySQL(ExecRunner{})
	var dump bytes.Buffer
	info, err := d.Dump(context.Background(), myTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	mySQL(t, url, "INSERT INTO schema_migrations VALUES (20250101); DELETE FROM orders WHERE id < 100;")
	want := myFingerprint(t, url)
	full := dump.Bytes()
	// A cut at a line end is a cut between statements: the client loads
	// it happily, only the end marker tells.
	lineCut := bytes.LastIndex(full[:len(full)/2], []byte(";\n")) + 2

	tests := []struct {
		name    string
		reader  func(ctx context.Context, cancel context.CancelFunc) io.Reader
		wantErr string
		is      error
	}{
		{"truncated between statements", func(context.Context, context.CancelFunc) io.Reader {
			return bytes.NewReader(full[:lineCut])
		}, "end marker is missing", nil},
		{"truncated mid-statement", func(context.Context, context.CancelFunc) io.Reader {
			return bytes.NewReader(full[:lineCut+20])
		}, "", nil},
		{"not SQL", func(context.Context, context.CancelFunc) io.Reader {
			return strings.NewReader("this is not a dump;\n")
		}, "truncated or corrupt", nil},
		{"digest mismatch at EOF", func(context.Context, context.CancelFunc) io.Reader {
			return &failAfter{r: bytes.NewReader(full), err: fmt.Errorf("chunk 3: %w", gitsnap.ErrIntegrity)}
		}, "", gitsnap.ErrIntegrity},
		{"cancelled midway", func(ctx context.Context, cancel context.CancelFunc) io.Reader {
			return &blockAfter{r: bytes.NewReader(full), n: lineCut, ctx: ctx, cancel: cancel}
		}, "", context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := d.Restore(ctx, myTestTarget(url), tc.reader(ctx, cancel), info)
			if err == nil {
				t.Fatal("restore succeeded")
			}
			t.Logf("error: %v", err)
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error lacks %q", tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if diff := cmp.Diff(want, myFingerprint(t, url)); diff != "" {
				t.Errorf("live schema changed (-want +got):\n%s", diff)
			}
			if left := myLeftovers(t, admin, name); len(left) > 0 {
				t.Errorf("temporary schemas left behind: %v", left)
			}
		})
	}
}

func TestMySQLRestoreMissingDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin, url, name := myTestDB(t)
	myFixture(t, url)
	want := myFingerprint(t, url)
	d := NewMySQL(ExecRunner{})
	var dump bytes.Buffer
	info, err := d.Dump(ctx, myTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	mySQL(t, admin, fmt.Sprintf("DROP DATABASE %s;", myIdent(name)))
	if err := d.Restore(ctx, myTestTarget(url), &dump, info); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, myFingerprint(t, url)); diff != "" {
		t.Errorf("restored schema differs (-want +got):\n%s", diff)
	}
	if left := myLeftovers(t, admin, name); len(left) > 0 {
		t.Errorf("restore left schemas behind: %v", left)
	}
}

func TestMySQLDumpCancelled(t *testing.T) {
	t.Parallel()
	_, url, _ := myTestDB(t)
	myFixture(t, url)
	dumpCancelled(t, NewMySQL(ExecRunner{}), myTestTarget(url))
}
