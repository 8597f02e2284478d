package gitsnap

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"path"
	"regexp"
	"strings"
)

// Secret masking for text diffs. A diff must never print a secret, yet a
// changed secret must still show as a change. Masked values are replaced
// by "***" and a short keyed digest: HMAC-SHA256 under a key drawn per
// diff, so equal values show equal digests within one output while the
// digest of a weak password cannot be checked against guesses offline.
//
// What is masked:
//   - in .env-style files (.env, .env.*, *.env): the value of every
//     KEY=VALUE line, commented-out ones too; any other line that is not
//     blank and not a harmless comment is masked whole;
//   - in every text file: the value of a KEY=VALUE, KEY: VALUE or
//     <KEY>VALUE</KEY> line whose key looks secret (secretKey), and the
//     password of a URL with credentials (scheme://user:pass@host).
//
// Files holding key material (isSecretFile) get no text diff at all.

// secretWords are the key fragments that mark a value as secret.
const secretWords = `secret|passw(?:or)?d|passphrase|pwd|token|key|private|credential|auth|dsn`

var (
	secretKey = regexp.MustCompile(`(?i)` + secretWords)
	// assignLine: indentation, an optional comment mark and "export",
	// an optionally quoted key, the separator, the value.
	assignLine = regexp.MustCompile(`^(\s*(?:#+\s*)?(?:export\s+)?)(["']?)([A-Za-z_][A-Za-z0-9_.\-]*)(["']?\s*[:=]\s*)(.*)$`)
	// inlineSecret: a secret key = value pair anywhere in a line (TOML
	// inline tables, one-line JSON, query strings).
	inlineSecret = regexp.MustCompile(`(?i)(["']?)(\b[\w.\-]*(?:` + secretWords + `)[\w.\-]*)(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&}\]]+)`)
	xmlElement   = regexp.MustCompile(`<([A-Za-z_][\w.\-]*)>([^<]*)</([A-Za-z_][\w.\-]*)>`)
	urlCreds     = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'"]*:)([^\s@/'"]+)(@)`)
)

// masker masks secrets in text with keyed digests.
type masker struct{ key []byte }

func newMasker(key []byte) *masker { return &masker{key: key} }

// digest returns "*** (hmac:1a2b3c4d)" for a secret value.
func (m *masker) digest(v string) string {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(v))
	return "*** (hmac:" + hex.EncodeToString(h.Sum(nil))[:8] + ")"
}

// isEnvFile reports whether p names a .env-style file.
func isEnvFile(p string) bool {
	base := path.Base(p)
	return base == ".env" || strings.HasPrefix(base, ".env.") || strings.HasSuffix(base, ".env")
}

// isSecretFile reports whether a file holds key material whose content is
// never shown: private keys, keystores, or any file with a PEM private key.
func isSecretFile(p string, data []byte) bool {
	base := strings.ToLower(path.Base(p))
	switch path.Ext(base) {
	case ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".gpg", ".asc":
		return true
	}
	for _, n := range []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"} {
		if base == n {
			return true
		}
	}
	return strings.Contains(string(data), "PRIVATE KEY-----")
}

// text masks every line of a file's content.
func (m *masker) text(p, s string) string {
	env := isEnvFile(p)
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		body, nl := strings.CutSuffix(l, "\n")
		body, cr := strings.CutSuffix(body, "\r")
		out := m.line(body, env)
		if cr {
			out += "\r"
		}
		if nl {
			out += "\n"
		}
		lines[i] = out
	}
	return strings.Join(lines, "")
}

// line masks one line (without its newline).
func (m *masker) line(l string, env bool) string {
	trimmed := strings.TrimSpace(l)
	if trimmed == "" {
		return l
	}
	if g := assignLine.FindStringSubmatch(l); g != nil {
		prefix, q, key, sep, val := g[1], g[2], g[3], g[4], g[5]
		if (env || secretKey.MatchString(key)) && strings.TrimSpace(val) != "" {
			return prefix + q + key + sep + m.digest(val)
		}
	} else if env {
		comment := strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";")
		if !comment || secretKey.MatchString(trimmed) {
			return maskIndent(l) + m.digest(trimmed)
		}
	}
	l = inlineSecret.ReplaceAllStringFunc(l, func(kv string) string {
		g := inlineSecret.FindStringSubmatch(kv)
		return g[1] + g[2] + g[3] + m.digest(g[4])
	})
	l = xmlElement.ReplaceAllStringFunc(l, func(el string) string {
		g := xmlElement.FindStringSubmatch(el)
		if g[1] != g[3] || !secretKey.MatchString(g[1]) || g[2] == "" {
			return el
		}
		return "<" + g[1] + ">" + m.digest(g[2]) + "</" + g[3] + ">"
	})
	return urlCreds.ReplaceAllStringFunc(l, func(u string) string {
		g := urlCreds.FindStringSubmatch(u)
		return g[1] + m.digest(g[2]) + g[3]
	})
}

func maskIndent(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}
