package gitsnap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExampleConfigLoads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", ".gitsnap.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(".gitsnap.toml.example", data)
	if err != nil {
		t.Fatalf("example config does not load: %v", err)
	}
	if got, want := cfg.Snapshot.Scopes, AllScopes; !cmp.Equal(got, want) {
		t.Errorf("scopes: %s", cmp.Diff(want, got))
	}
	if len(cfg.Check) != 2 || cfg.Check[0].Timeout.Duration != 5*time.Minute || cfg.Check[1].RetryFor.Duration != 30*time.Second {
		t.Errorf("checks decoded wrong: %+v", cfg.Check)
	}
	if len(cfg.Database) != 2 || cfg.Database[1].Path != "var/app.db" {
		t.Errorf("databases decoded wrong: %+v", cfg.Database)
	}
	if !cfg.TagKnownGood() || !cfg.ValidateAfterRestore() || cfg.Hooks.PrePush.Require != "validated" {
		t.Errorf("flags decoded wrong: %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"unknown key", "[snapshot]\nscopes = [\"code\"]\ncolour = 1\n", []string{".gitsnap.toml:3:", `"snapshot.colour"`}},
		{"unknown table key", "[[check]]\nname = \"a\"\nrun = \"true\"\n\n[[check]]\nname = \"b\"\nrun = \"true\"\ntimeot = \"1s\"\n", []string{":8:", "timeot"}},
		{"wrong type", "[snapshot]\nscopes = \"code\"\n", []string{".gitsnap.toml:2:", "snapshot.scopes"}},
		{"syntax", "[snapshot\n", []string{".gitsnap.toml:2:", "table name"}},
		{"bad scope", "[snapshot]\nscopes = [\"cod\"]\n", []string{`unknown scope "cod"`}},
		{"bad duration", "[[check]]\nname = \"a\"\nrun = \"true\"\ntimeout = \"5 minutes\"\n", []string{".gitsnap.toml:4:", "timeout", "unknown unit"}},
		{"check without run", "[[check]]\nname = \"a\"\n", []string{`check "a" needs exactly one of run or url`}},
		{"dup check", "[[check]]\nname = \"a\"\nrun = \"x\"\n[[check]]\nname = \"a\"\nrun = \"y\"\n", []string{"defined twice"}},
		{"bad driver", "[[database]]\nname = \"m\"\ndriver = \"oracle\"\n", []string{`unknown driver "oracle"`}},
		{"bad glob", "[config]\npaths = [\"[abc\"]\n", []string{"invalid glob"}},
		{"escaping path", "[config]\npaths = [\"../etc/passwd\"]\n", []string{"relative to the repository root"}},
		{"bad require", "[hooks.pre_push]\nrequire = \"always\"\n", []string{"hooks.pre_push.require"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(".gitsnap.toml", []byte(tc.text))
			if err == nil {
				t.Fatal("expected an error")
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error does not wrap ErrConfig: %v", err)
			}
			if HintOf(err) == "" {
				t.Errorf("error has no hint: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigMissingGivesDefaults(t *testing.T) {
	cfg, err := LoadConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(cfg.Snapshot.Scopes, DefaultConfig().Snapshot.Scopes) || cfg.Path != "" {
		t.Errorf("got %+v", cfg)
	}
}
