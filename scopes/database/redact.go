package database

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces a secret in displayed connection strings.
const redacted = "xxxxx"

var (
	// key=value secrets: libpq conninfo ("password=s3cret"), query strings,
	// ODBC-style "Pwd=...;".
	kvSecret = regexp.MustCompile(`(?i)\b(password|passwd|pass|pwd|sslpassword|secret|token|auth)(\s*=\s*)('[^']*'|"[^"]*"|[^\s&;]+)`)
	// URLs anywhere in free text (tool stderr, error messages).
	urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s'"<>]+`)
	// Go MySQL driver DSN: user:password@tcp(host:3306)/db.
	mysqlDSN = regexp.MustCompile(`^([^:@/\s]*):([^@\s]*)@`)
)

// Redact returns a connection string safe to show: the password of a URL
// (postgres://u:pw@h/db, redis://:pw@h), password-like query parameters,
// libpq key=value passwords and Go MySQL DSN passwords are replaced by
// "xxxxx". Everything else (user, host, database) is kept so the message
// still says where it tried to connect. Use it on every DSN that can reach
// an error, a log line, a manifest or a note.
func Redact(dsn string) string {
	if dsn == "" {
		return ""
	}
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && (u.User != nil || u.RawQuery != "") && u.Opaque == "" {
		if u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), redacted)
			}
		}
		if u.RawQuery != "" {
			u.RawQuery = kvSecret.ReplaceAllString(u.RawQuery, "${1}${2}"+redacted)
		}
		// url.String escapes "xxxxx" as is; nothing to unescape.
		return u.String()
	}
	if strings.Contains(dsn, "://") {
		// Unparsable URL: hide everything between "://" and the last "@".
		scheme, rest, _ := strings.Cut(dsn, "://")
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			userinfo := rest[:at]
			if user, _, ok := strings.Cut(userinfo, ":"); ok {
				return kvSecret.ReplaceAllString(scheme+"://"+user+":"+redacted+rest[at:], "${1}${2}"+redacted)
			}
		}
		return kvSecret.ReplaceAllString(dsn, "${1}${2}"+redacted)
	}
	out := kvSecret.ReplaceAllString(dsn, "${1}${2}"+redacted)
	if m := mysqlDSN.FindStringSubmatchIndex(out); m != nil && m[5] > m[4] {
		out = out[:m[4]] + redacted + out[m[5]:]
	}
	return out
}

// RedactText redacts every URL and key=value secret found in free text,
// such as a tool's stderr line, before it goes into an error.
func RedactText(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, Redact)
	return kvSecret.ReplaceAllString(s, "${1}${2}"+redacted)
}
