package database

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// myConn is a MariaDB/MySQL connection: the schema to dump or replace and
// the [client] options (user, password, host, …) that reach the tools
// through a 0600 --defaults-extra-file, never through argv.
type myConn struct {
	dbname  string
	options map[string]string
}

var myOptionName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// myGoDSN matches the Go MySQL driver's DSN: user:pw@tcp(host:3306)/db?x=y.
var myGoDSN = regexp.MustCompile(`^(?:([^:@]*)(?::(.*))?@)?(tcp|unix)\(([^)]*)\)/([^?]*)(?:\?(.*))?$`)

// parseMySQLConn accepts mysql://user:pw@host:3306/db?ssl-ca=… (also
// mariadb://) and the Go driver's DSN user:pw@tcp(host:3306)/db or
// user:pw@unix(/run/mysqld/mysqld.sock)/db. URL query parameters are
// passed on as client options (ssl-ca, ssl-mode, socket, …); the Go
// driver's own parameters (parseTime, charset, …) are ignored.
func parseMySQLConn(s string) (myConn, error) {
	c := myConn{options: map[string]string{}}
	switch {
	case strings.HasPrefix(s, "mysql://"), strings.HasPrefix(s, "mariadb://"):
		if err := c.parseURL(s); err != nil {
			return c, err
		}
	case myGoDSN.MatchString(s):
		m := myGoDSN.FindStringSubmatch(s)
		if m[1] != "" {
			c.options["user"] = m[1]
		}
		if strings.Contains(s[:strings.Index(s, m[3]+"(")], ":") {
			c.options["password"] = m[2]
		}
		if m[3] == "unix" {
			c.options["socket"] = m[4]
		} else if m[4] != "" {
			host, port := splitHostPort(m[4])
			c.setHostPort(host, port)
		}
		db, err := url.PathUnescape(m[5])
		if err != nil {
			return c, errors.New("bad database name escape in the DSN")
		}
		c.dbname = db
	default:
		return c, errors.New("not a MySQL connection string (want mysql://user@host:3306/dbname)")
	}
	if c.dbname == "" {
		return c, errors.New("the connection string names no database")
	}
	return c, nil
}

func (c *myConn) setHostPort(host, port string) {
	if host != "" {
		c.options["host"] = host
	}
	if port != "" {
		c.options["port"] = port
	}
}

func (c *myConn) parseURL(s string) error {
	_, rest, _ := strings.Cut(s, "://")
	rest, query, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	unescape := func(what, v string) (string, error) {
		u, err := url.PathUnescape(v)
		if err != nil {
			return "", fmt.Errorf("bad %s escape in the connection URL", what)
		}
		return u, nil
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, pw, hasPW := strings.Cut(authority[:at], ":")
		authority = authority[at+1:]
		u, err := unescape("user", user)
		if err != nil {
			return err
		}
		if u != "" {
			c.options["user"] = u
		}
		if hasPW {
			p, err := unescape("password", pw)
			if err != nil {
				return err
			}
			c.options["password"] = p
		}
	}
	host, port := splitHostPort(authority)
	h, err := unescape("host", host)
	if err != nil {
		return err
	}
	c.setHostPort(h, port)
	if c.dbname, err = unescape("database", strings.TrimSuffix(path, "/")); err != nil {
		return err
	}
	if query == "" {
		return nil
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return errors.New("bad query string in the connection URL")
	}
	for k, vs := range values {
		switch k {
		case "parseTime", "charset", "collation", "loc", "timeout", "readTimeout", "writeTimeout", "tls", "allowNativePasswords", "multiStatements":
			continue // Go driver parameters, not client options
		}
		if !myOptionName.MatchString(k) {
			return fmt.Errorf("unsupported connection parameter %q", k)
		}
		c.options[k] = vs[len(vs)-1]
	}
	return nil
}

// optionFile renders the [client] option file: values double-quoted with
// \ and " escaped, which both MariaDB and MySQL read back verbatim.
func (c myConn) optionFile() []byte {
	keys := make([]string, 0, len(c.options))
	for k := range c.options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("[client]\n")
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=\"%s\"\n", k, r.Replace(c.options[k]))
	}
	return []byte(b.String())
}

// myIdent quotes a MySQL identifier.
func myIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// myString quotes a MySQL string literal.
func myString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}

// myName appends suffix to name within MySQL's 64-character identifiers.
func myName(name, suffix string) string {
	const maxLen = 64
	r := []rune(name)
	if len(r)+len(suffix) > maxLen {
		r = r[:maxLen-len(suffix)]
	}
	return string(r) + suffix
}

// myUnescape reverses the client's batch-mode escaping of one field.
func myUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// myRows splits batch-mode output into rows of unescaped fields.
func myRows(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		for i, f := range fields {
			fields[i] = myUnescape(f)
		}
		rows = append(rows, fields)
	}
	return rows
}
