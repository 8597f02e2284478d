package database

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// pgConn is a PostgreSQL connection split into libpq environment variables,
// so that pg_dump, pg_restore and psql get the password through PGPASSWORD
// and never through argv.
type pgConn struct {
	dbname string
	env    map[string]string // "PGHOST" -> "db.example", without PGDATABASE
}

// pgParamEnv maps libpq connection parameters to the environment variables
// libpq reads (https://www.postgresql.org/docs/current/libpq-envars.html).
var pgParamEnv = map[string]string{
	"host":                     "PGHOST",
	"hostaddr":                 "PGHOSTADDR",
	"port":                     "PGPORT",
	"dbname":                   "PGDATABASE",
	"user":                     "PGUSER",
	"password":                 "PGPASSWORD",
	"passfile":                 "PGPASSFILE",
	"service":                  "PGSERVICE",
	"options":                  "PGOPTIONS",
	"application_name":         "PGAPPNAME",
	"client_encoding":          "PGCLIENTENCODING",
	"connect_timeout":          "PGCONNECT_TIMEOUT",
	"sslmode":                  "PGSSLMODE",
	"requiressl":               "PGREQUIRESSL",
	"sslcompression":           "PGSSLCOMPRESSION",
	"sslcert":                  "PGSSLCERT",
	"sslkey":                   "PGSSLKEY",
	"sslrootcert":              "PGSSLROOTCERT",
	"sslcrl":                   "PGSSLCRL",
	"sslcrldir":                "PGSSLCRLDIR",
	"sslsni":                   "PGSSLSNI",
	"ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
	"ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
	"channel_binding":          "PGCHANNELBINDING",
	"gssencmode":               "PGGSSENCMODE",
	"gsslib":                   "PGGSSLIB",
	"krbsrvname":               "PGKRBSRVNAME",
	"require_auth":             "PGREQUIREAUTH",
	"target_session_attrs":     "PGTARGETSESSIONATTRS",
	"load_balance_hosts":       "PGLOADBALANCEHOSTS",
}

// parsePostgresConn accepts a libpq URI (postgres://user:pw@host:5432/db?sslmode=disable,
// several hosts separated by commas) or a key=value conninfo string
// ("host=h dbname=db password='p w'"). The database name is required:
// restore has to know which database to replace.
func parsePostgresConn(s string) (pgConn, error) {
	c := pgConn{env: map[string]string{}}
	var err error
	switch {
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		err = c.parseURI(s)
	case strings.Contains(s, "="):
		err = c.parseKeyValue(s)
	default:
		return c, errors.New("not a PostgreSQL connection string (want postgres://user@host/dbname or \"host=... dbname=...\")")
	}
	if err != nil {
		return c, err
	}
	c.dbname = c.env["PGDATABASE"]
	delete(c.env, "PGDATABASE")
	if c.dbname == "" {
		return c, errors.New("the connection string names no database")
	}
	return c, nil
}

func (c *pgConn) set(key, value string) error {
	env, ok := pgParamEnv[key]
	if !ok {
		return fmt.Errorf("unsupported connection parameter %q", key)
	}
	c.env[env] = value
	return nil
}

func (c *pgConn) parseURI(s string) error {
	_, rest, _ := strings.Cut(s, "://")
	rest, query, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, pw, hasPW := strings.Cut(authority[:at], ":")
		authority = authority[at+1:]
		if err := c.setUnescaped("user", user); err != nil {
			return err
		}
		if hasPW {
			if err := c.setUnescaped("password", pw); err != nil {
				return err
			}
		}
	}
	if authority != "" {
		var hosts, ports []string
		anyPort := false
		for _, hp := range strings.Split(authority, ",") {
			host, port := splitHostPort(hp)
			h, err := url.PathUnescape(host)
			if err != nil {
				return fmt.Errorf("bad host %q in the connection URL", host)
			}
			hosts = append(hosts, h)
			ports = append(ports, port)
			anyPort = anyPort || port != ""
		}
		c.env["PGHOST"] = strings.Join(hosts, ",")
		if anyPort {
			c.env["PGPORT"] = strings.Join(ports, ",")
		}
	}
	if err := c.setUnescaped("dbname", path); err != nil {
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
		if err := c.set(k, vs[len(vs)-1]); err != nil {
			return err
		}
	}
	return nil
}

func (c *pgConn) setUnescaped(key, value string) error {
	v, err := url.PathUnescape(value)
	if err != nil {
		return fmt.Errorf("bad %s escape in the connection URL", key)
	}
	if v == "" {
		return nil
	}
	return c.set(key, v)
}

// splitHostPort splits "host:5432", "[::1]:5432" or "host".
func splitHostPort(hp string) (host, port string) {
	if strings.HasPrefix(hp, "[") {
		if end := strings.Index(hp, "]"); end > 0 {
			host, rest := hp[1:end], hp[end+1:]
			return host, strings.TrimPrefix(rest, ":")
		}
	}
	if i := strings.LastIndex(hp, ":"); i >= 0 {
		return hp[:i], hp[i+1:]
	}
	return hp, ""
}

// parseKeyValue reads libpq's "key=value key2='quoted \' value'" syntax.
func (c *pgConn) parseKeyValue(s string) error {
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return errors.New("missing \"=\" in the connection string")
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			if i == len(s) {
				return errors.New("unterminated quoted value in the connection string")
			}
			i++
		} else {
			for ; i < len(s) && !isSpace(s[i]); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
		}
		if err := c.set(key, val.String()); err != nil {
			return err
		}
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// environ returns "KEY=value" pairs for a child tool connecting to db.
func (c pgConn) environ(db string) []string {
	out := make([]string, 0, len(c.env)+1)
	for k, v := range c.env {
		out = append(out, k+"="+v)
	}
	return append(out, "PGDATABASE="+db)
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteLiteral quotes a PostgreSQL string literal, whatever
// standard_conforming_strings says.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// conninfoDB is a conninfo string naming only a database, for tools whose
// -d would otherwise read a name containing "=" as a connection string.
func conninfoDB(db string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "dbname='" + r.Replace(db) + "'"
}
