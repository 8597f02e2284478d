package gitsnap

import (
	"regexp"
	"strings"
	"testing"
)

var testMaskKey = []byte("fixed key for tests")

func TestMaskLine(t *testing.T) {
	m := newMasker(testMaskKey)
	d := m.digest
	tests := []struct {
		name, path, line, want string
	}{
		{"env value", ".env", "DB_HOST=localhost", "DB_HOST=" + d("localhost")},
		{"env secret", ".env", "DB_PASSWORD=hunter2", "DB_PASSWORD=" + d("hunter2")},
		{"env export and quotes", "config/.env.production", `export API_TOKEN="abc123"`, `export API_TOKEN=` + d(`"abc123"`)},
		{"env empty value stays", ".env", "EMPTY=", "EMPTY="},
		{"env commented-out secret", "app.env", "# OLD_SECRET=s3cr3t", "# OLD_SECRET=" + d("s3cr3t")},
		{"env harmless comment stays", ".env", "# local settings", "# local settings"},
		{"env comment mentioning a password", ".env", "# the password is hunter2", d("# the password is hunter2")},
		{"env stray line", ".env", "-----continued value", d("-----continued value")},
		{"env blank", ".env", "   ", "   "},
		{"env comment with a url", ".env", "# was postgres://u:pw0@h/db", "# was postgres://u:" + d("pw0") + "@h/db"},
		{"toml secret key", "config/app.toml", `api_key = "k-123"`, `api_key = ` + d(`"k-123"`)},
		{"toml plain key stays", "config/app.toml", `port = 8080`, `port = 8080`},
		{"yaml secret", "config/app.yaml", "  client_secret: xyz", "  client_secret: " + d("xyz")},
		{"yaml nested mapping head stays", "config/app.yaml", "auth:", "auth:"},
		{"json secret", "config/app.json", `  "password": "pw1",`, `  "password": ` + d(`"pw1",`)},
		{"toml inline table", "config/app.toml", `db = { user = "app", password = "pw2" }`, `db = { user = "app", password = ` + d(`"pw2"`) + ` }`},
		{"url credentials", "config/app.toml", `url = "postgres://app:pw3@db:5432/app"`, `url = "postgres://app:` + d("pw3") + `@db:5432/app"`},
		{"url without credentials stays", "config/app.toml", `url = "https://example.com:443/x"`, `url = "https://example.com:443/x"`},
		{"query token", "config/app.ini", `hook = https://h.example/x?token=tok4&a=1`, `hook = https://h.example/x?token=` + d("tok4") + `&a=1`},
		{"xml element", "config/app.xml", `  <dbPassword>pw5</dbPassword>`, `  <dbPassword>` + d("pw5") + `</dbPassword>`},
		{"xml plain element stays", "config/app.xml", `<host>db</host>`, `<host>db</host>`},
		{"case-insensitive key", "config/app.ini", `Secret_Value=abc`, `Secret_Value=` + d("abc")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.text(tc.path, tc.line); got != tc.want {
				t.Errorf("masked %q\n got %q\nwant %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestMaskDigest(t *testing.T) {
	m := newMasker(testMaskKey)
	if !regexp.MustCompile(`^\*\*\* \(hmac:[0-9a-f]{8}\)$`).MatchString(m.digest("x")) {
		t.Errorf("digest format: %q", m.digest("x"))
	}
	if m.digest("a") == m.digest("b") {
		t.Error("different values give the same digest")
	}
	if first, again := m.digest("a"), m.digest("a"); first != again {
		t.Error("equal values give different digests")
	}
	if other := newMasker([]byte("another key")); other.digest("a") == m.digest("a") {
		t.Error("the digest does not depend on the key")
	}
}

func TestMaskedDiffNeverShowsSecrets(t *testing.T) {
	secrets := []string{"hunter2", "correct-horse", "tok_live_abc", "pw-in-url", "sk-old", "sk-new"}
	a := "DB_USER=app\nDB_PASSWORD=hunter2\nDATABASE_URL=postgres://app:pw-in-url@db/app\nSTRIPE_KEY=sk-old\nDEBUG=false\n"
	b := "DB_USER=app\nDB_PASSWORD=correct-horse\nDATABASE_URL=postgres://app:pw-in-url@db/app\nSTRIPE_KEY=sk-new\nDEBUG=true\n# API_TOKEN=tok_live_abc\n"
	m := newMasker(testMaskKey)
	patch := unifiedDiff("a/.env", "b/.env", m.text(".env", a), m.text(".env", b), DefaultDiffContext)
	for _, s := range secrets {
		if strings.Contains(patch, s) {
			t.Errorf("patch shows secret %q:\n%s", s, patch)
		}
	}
	// The change is still visible: the password line is removed and added
	// with different digests, the unchanged URL line is context.
	for _, want := range []string{
		"-DB_PASSWORD=" + m.digest("hunter2") + "\n",
		"+DB_PASSWORD=" + m.digest("correct-horse") + "\n",
		" DATABASE_URL=" + m.digest("postgres://app:pw-in-url@db/app") + "\n",
		" DB_USER=" + m.digest("app") + "\n",
		"+# API_TOKEN=" + m.digest("tok_live_abc") + "\n",
	} {
		if !strings.Contains(patch, want) {
			t.Errorf("patch lacks %q:\n%s", want, patch)
		}
	}
}

func TestIsSecretFile(t *testing.T) {
	tests := []struct {
		path, data string
		want       bool
	}{
		{"config/tls/server.key", "x", true},
		{"config/tls/server.pem", "x", true},
		{"deploy/id_ed25519", "x", true},
		{"config/app.toml", "x = 1\n", false},
		{"config/app.yaml", "key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIE\n", true},
		{"config/ca.crt", "-----BEGIN CERTIFICATE-----\n", false},
	}
	for _, tc := range tests {
		if got := isSecretFile(tc.path, []byte(tc.data)); got != tc.want {
			t.Errorf("isSecretFile(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestIsEnvFile(t *testing.T) {
	for p, want := range map[string]bool{
		".env": true, "config/.env.local": true, "prod.env": true, "deploy/app.env": true,
		"environment.toml": false, ".envrc": false, "env/x": false,
	} {
		if got := isEnvFile(p); got != want {
			t.Errorf("isEnvFile(%q) = %v, want %v", p, got, want)
		}
	}
}
