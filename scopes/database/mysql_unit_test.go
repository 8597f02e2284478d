package database

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

func TestParseMySQLConn(t *testing.T) {
	tests := []struct {
		in      string
		db      string
		opts    map[string]string
		wantErr string
	}{
		{in: "mysql://app:s%40cret@db.example:3307/shop?ssl-ca=/etc/ca.pem&parseTime=true", db: "shop",
			opts: map[string]string{"user": "app", "password": "s@cret", "host": "db.example", "port": "3307", "ssl-ca": "/etc/ca.pem"}},
		{in: "mariadb://localhost/my%20db", db: "my db", opts: map[string]string{"host": "localhost"}},
		{in: "mysql://u:@[::1]:3306/d", db: "d", opts: map[string]string{"user": "u", "password": "", "host": "::1", "port": "3306"}},
		{in: "mysql://u@h/d?socket=/run/mysqld/mysqld.sock", db: "d", opts: map[string]string{"user": "u", "host": "h", "socket": "/run/mysqld/mysqld.sock"}},
		{in: "app:p@ss:w@tcp(127.0.0.1:3306)/shop?parseTime=true", db: "shop",
			opts: map[string]string{"user": "app", "password": "p@ss:w", "host": "127.0.0.1", "port": "3306"}},
		{in: "root@unix(/tmp/mysql.sock)/shop", db: "shop", opts: map[string]string{"user": "root", "socket": "/tmp/mysql.sock"}},
		{in: "mysql://h/", wantErr: "names no database"},
		{in: "mysql://h/d?Bad%20Key=1", wantErr: "unsupported connection parameter"},
		{in: "postgres://h/d", wantErr: "not a MySQL connection string"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			c, err := parseMySQLConn(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.dbname != tc.db {
				t.Errorf("dbname = %q, want %q", c.dbname, tc.db)
			}
			if diff := cmp.Diff(tc.opts, c.options); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMySQLOptionFile(t *testing.T) {
	c := myConn{options: map[string]string{"user": "app", "password": "p\"w\\ #x'y z\n", "host": "h"}}
	want := "[client]\nhost=\"h\"\npassword=\"p\\\"w\\\\ #x'y z\\n\"\nuser=\"app\"\n"
	if got := string(c.optionFile()); got != want {
		t.Errorf("optionFile =\n%s\nwant\n%s", got, want)
	}
}

func TestMySQLHelpers(t *testing.T) {
	if got := myIdent("a`b"); got != "`a``b`" {
		t.Errorf("myIdent = %s", got)
	}
	if got := myString("it's\\\n"); got != `'it\'s\\\n'` {
		t.Errorf("myString = %s", got)
	}
	if got := myName(strings.Repeat("é", 60), "__gitsnap_tmp_0011aabb"); len([]rune(got)) != 64 || !strings.HasSuffix(got, "__gitsnap_tmp_0011aabb") {
		t.Errorf("myName = %q", got)
	}
	rows := myRows("a\\tb\tline\\none\\\\two\nNULL\tx\n")
	if diff := cmp.Diff([][]string{{"a\tb", "line\none\\two"}, {"NULL", "x"}}, rows); diff != "" {
		t.Errorf("myRows (-want +got):\n%s", diff)
	}
	if got := myServerVersion("10.11.19-MariaDB-0+deb12u1"); got != "MariaDB 10.11.19" {
		t.Errorf("myServerVersion = %q", got)
	}
	if got := myServerVersion("8.0.36"); got != "MySQL 8.0.36" {
		t.Errorf("myServerVersion = %q", got)
	}
}

// myFakeFacts answers the Inspect query of a fake client.
const myFakeFacts = `cat >/dev/null; printf 'version\t10.11.19-MariaDB\nsize\t4096\ncharset\tutf8mb4\ncollation\tutf8mb4_general_ci\ntable\tb\ntable\ta\n'`

// myCheckCnf fails a fake tool unless its first argument is a 0600
// option file holding the password.
const myCheckCnf = `f="${1#--defaults-extra-file=}"; [ "$(stat -c %a "$f")" = 600 ] && grep -q 'password="s3 cret"' "$f" || { echo "bad option file" >&2; exit 9; }; `

func TestMySQLErrors(t *testing.T) {
	const url = "mysql://app:s3cret@127.0.0.1:3306/shop"
	tests := []struct {
		name    string
		scripts map[string]string
		op      string
		want    []string
		hint    string
		is      error
	}{
		{name: "missing dump tool", scripts: map[string]string{"mariadb": myFakeFacts},
			op: "dump", want: []string{"mysqldump not found"}, hint: "install the MariaDB/MySQL client tools", is: exec.ErrNotFound},
		{name: "missing client", scripts: map[string]string{},
			op: "inspect", want: []string{"mysql not found"}, hint: "install", is: exec.ErrNotFound},
		{name: "version mismatch", scripts: map[string]string{"mariadb": myFakeFacts,
			"mysqldump": `[ "$1" = --version ] && { echo "mysqldump  Ver 8.0.36 for Linux"; exit 0; }; echo "mysqldump: Couldn't execute 'SELECT COLUMN_NAME, JSON_EXTRACT(HISTOGRAM, '\$.\"number-of-buckets-specified\"') FROM information_schema.COLUMN_STATISTICS': Unknown table 'COLUMN_STATISTICS' in information_schema (1109)" >&2; exit 2`},
			op: "dump", want: []string{"client/server version mismatch", "COLUMN_STATISTICS"}, hint: "flavour"},
		{name: "permission denied", scripts: map[string]string{
			"mariadb": `echo "ERROR 1044 (42000): Access denied for user 'app'@'%' to database 'shop'" >&2; exit 1`},
			op: "inspect", want: []string{"permission denied", "to database 'shop'"}, hint: "PRIVILEGES"},
		{name: "authentication", scripts: map[string]string{
			"mariadb": `echo "ERROR 1045 (28000): Access denied for user 'app'@'localhost' (using password: YES)" >&2; exit 1`},
			op: "inspect", want: []string{"authentication failed"}, hint: "$SHOP_DB"},
		{name: "database does not exist", scripts: map[string]string{
			"mariadb": `echo "ERROR 1049 (42000): Unknown database 'shop'" >&2; exit 1`},
			op: "dump", is: ErrNotExist, want: []string{"database does not exist", "Unknown database 'shop'"}, hint: "create it"},
		{name: "unreachable", scripts: map[string]string{
			"mariadb": `echo "ERROR 2002 (HY000): Can't connect to server on '127.0.0.1' (115)" >&2; exit 1`},
			op: "restore", want: []string{"server unreachable", "Can't connect"}, hint: "is the server running"},
		{name: "old client reading a new dump", scripts: map[string]string{
			"mariadb": `if grep -q sandbox; then echo "ERROR at line 1: Unknown command '\-'." >&2; exit 1; fi; printf 'utf8mb4\tutf8mb4_general_ci\n'`},
			op: "restore", want: []string{"client/server version mismatch"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &dbtest.FakeRunner{Scripts: tc.scripts}
			d := NewMySQL(fake)
			tgt := Target{Config: gitsnap.DatabaseConfig{Name: "main", URLEnv: "SHOP_DB"}, URL: url}
			var err error
			switch tc.op {
			case "dump":
				_, err = d.Dump(context.Background(), tgt, io.Discard)
			case "restore":
				err = d.Restore(context.Background(), tgt, strings.NewReader("/*M!999999\\- enable the sandbox mode */\n"), Info{})
			default:
				_, err = d.Inspect(context.Background(), tgt)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Logf("%v\nhint: %s", msg, gitsnap.HintOf(err))
			for _, w := range append([]string{"database main (mysql://app:xxxxx@"}, tc.want...) {
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

// TestMySQLOptionFileReachesTools checks that every tool gets the
// password in a 0600 option file (first argument) and nowhere in argv,
// that the file is removed afterwards, and that Dump streams the tool's
// output followed by the end marker.
func TestMySQLOptionFileReachesTools(t *testing.T) {
	fake := &dbtest.FakeRunner{Scripts: map[string]string{
		"mariadb":      myCheckCnf + myFakeFacts,
		"mariadb-dump": myCheckCnf + `printf 'CREATE TABLE a (x int);\n'`,
	}}
	d := NewMySQL(fake)
	var out bytes.Buffer
	info, err := d.Dump(context.Background(), Target{Config: gitsnap.DatabaseConfig{Name: "main"}, URL: "mysql://app:s3%20cret@db/shop"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "CREATE TABLE a (x int);\n"+myDumpTrailer {
		t.Errorf("dump = %q", out.String())
	}
	if diff := cmp.Diff([]string{"a", "b"}, info.Tables); diff != "" || info.ServerVersion != "MariaDB 10.11.19" || info.Size != 4096 {
		t.Errorf("info = %+v", info)
	}
	for _, c := range fake.Calls() {
		if strings.Contains(c, "s3") {
			t.Errorf("password in argv: %s", c)
		}
		// The option file is the first argument; its path may hold spaces.
		if _, after, ok := strings.Cut(c, " --defaults-extra-file="); ok {
			f, _, _ := strings.Cut(after, " --")
			if _, err := exec.Command("test", "-e", f).Output(); err == nil {
				t.Errorf("option file %s left behind", f)
			}
		}
	}
}

func TestMySQLRealErrors(t *testing.T) {
	client := "mariadb"
	if _, err := exec.LookPath(client); err != nil {
		client = "mysql"
	}
	dbtest.RequireTool(t, client)
	d := NewMySQL(ExecRunner{})
	tgt := Target{Config: gitsnap.DatabaseConfig{Name: "main"}, URL: "mysql://root:s3cret@127.0.0.1:1/nope?connect-timeout=3"}
	_, err := d.Inspect(context.Background(), tgt)
	if err == nil || !strings.Contains(err.Error(), "server unreachable") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable: %v", err)
	}

	admin := myAdminURL(t)
	tgt.URL = myWithDB(admin, dbtest.UniqueName(t, "missing"))
	_, err = d.Dump(context.Background(), tgt, io.Discard)
	if !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), "database does not exist") || !strings.Contains(gitsnap.HintOf(err), "DATABASE_URL") {
		t.Errorf("missing database: %v (hint %q)", err, gitsnap.HintOf(err))
	}
}
