package gitsnap

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/bmatcuk/doublestar/v4"
)

// Scope names.
const (
	ScopeCode         = "code"
	ScopeConfig       = "config"
	ScopeDependencies = "dependencies"
	ScopeFiles        = "files"
	ScopeDatabase     = "database"
)

// AllScopes lists every scope name in capture and restore order.
var AllScopes = []string{ScopeCode, ScopeConfig, ScopeDependencies, ScopeFiles, ScopeDatabase}

// Check kinds, in the order they run.
var checkKinds = []string{"health", "smoke", "full", "perf"}

// DefaultCheckTimeout bounds a check that sets no timeout.
const DefaultCheckTimeout = 10 * time.Minute

// DefaultConfig is what a repository without .gitsnap.toml gets: its code,
// its lockfiles and its .env files, no checks.
func DefaultConfig() *Config {
	return &Config{
		Snapshot: SnapshotConfig{Scopes: []string{ScopeCode, ScopeConfig, ScopeDependencies}},
		Config:   PathsConfig{Paths: []string{".env", ".env.*"}},
	}
}

// LoadConfig reads root/.gitsnap.toml strictly: unknown keys and wrong
// types are errors naming the file, key and line. A missing file gives
// DefaultConfig.
func LoadConfig(root string) (*Config, error) {
	path := filepath.Join(root, ConfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		cfg := DefaultConfig()
		return cfg, cfg.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes config text; path is used in messages.
func ParseConfig(path string, data []byte) (*Config, error) {
	cfg := &Config{}
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		var pe toml.ParseError
		if pp := (*toml.ParseError)(nil); errors.As(err, &pp) {
			pe = *pp
		}
		if errors.As(err, &pe) || pe.Position.Line > 0 {
			msg := oneLine(pe.Message)
			if pe.LastKey != "" && !strings.Contains(msg, pe.LastKey) {
				msg = fmt.Sprintf("key %q: %s", pe.LastKey, msg)
			}
			return nil, WithHint(fmt.Errorf("%w: %s:%d: %s", ErrConfig, path, pe.Position.Line, msg),
				"fix the TOML syntax; see .gitsnap.toml.example")
		}
		if m := typeErr.FindStringSubmatch(oneLine(err.Error())); m != nil {
			return nil, WithHint(fmt.Errorf("%w: %s:%s: key %q: %s", ErrConfig, path, m[1], m[2], m[3]),
				"check the value types against .gitsnap.toml.example")
		}
		return nil, WithHint(fmt.Errorf("%w: %s: %s", ErrConfig, path, oneLine(err.Error())),
			"check the value types against .gitsnap.toml.example")
	}
	if und := md.Undecoded(); len(und) > 0 {
		key := und[0].String()
		return nil, WithHint(fmt.Errorf("%w: %s:%d: unknown key %q", ErrConfig, path, keyLine(data, und[0]), key),
			"remove it or check its spelling; the keys are listed in .gitsnap.toml.example")
	}
	cfg.Path = path
	if len(cfg.Snapshot.Scopes) == 0 {
		cfg.Snapshot.Scopes = DefaultConfig().Snapshot.Scopes
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// typeErr matches the decoder's type errors, which carry no position type.
var typeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]+)"\): (.*)$`)

var tableHeader = regexp.MustCompile(`^\s*\[\[?\s*([^\]]+?)\s*\]\]?`)

// keyLine finds the line of an undecoded key: the last "name =" line (or
// table header) inside the table the key belongs to. TOML's decoder does
// not report positions for keys it did not decode.
func keyLine(data []byte, key toml.Key) int {
	var table string
	if len(key) > 1 {
		table = strings.Join(key[:len(key)-1], ".")
	}
	last := key[len(key)-1]
	assign := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(last) + `"?\s*=`)
	cur, line, found := "", 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line++
		text := sc.Text()
		if m := tableHeader.FindStringSubmatch(text); m != nil {
			cur = strings.ReplaceAll(m[1], " ", "")
			if cur == strings.Join(key, ".") && found == 0 {
				found = line
			}
			continue
		}
		if cur == table && assign.MatchString(text) {
			found = line
		}
	}
	return found
}

// Validate checks values the decoder cannot.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		where := c.Path
		if where == "" {
			where = ConfigFile
		}
		return WithHint(fmt.Errorf("%w: %s: %s", ErrConfig, where, fmt.Sprintf(format, args...)),
			"see .gitsnap.toml.example for the accepted values")
	}
	for _, s := range c.Snapshot.Scopes {
		if !contains(AllScopes, s) {
			return bad("snapshot.scopes: unknown scope %q (want one of %s)", s, strings.Join(AllScopes, ", "))
		}
	}
	for _, p := range c.allPatterns() {
		if !doublestar.ValidatePattern(p) {
			return bad("invalid glob pattern %q", p)
		}
		if _, err := CleanRelPath(strings.TrimSuffix(p, "/")); err != nil && !strings.Contains(p, "*") {
			return bad("pattern %q must be relative to the repository root, without .. or .git", p)
		}
	}
	names := map[string]bool{}
	for i, f := range c.Files {
		if f.Name == "" || len(f.Paths) == 0 {
			return bad("files[%d] needs a name and paths", i)
		}
	}
	for i, d := range c.Database {
		if d.Name == "" {
			return bad("database[%d] needs a name", i)
		}
		if names["db:"+d.Name] {
			return bad("database %q is defined twice", d.Name)
		}
		names["db:"+d.Name] = true
		switch d.Driver {
		case "postgres", "mysql", "redis":
		case "sqlite":
			if d.Path == "" {
				return bad("database %q: driver sqlite needs path", d.Name)
			}
		case "command":
			if d.Dump == "" || d.RestoreCmd == "" {
				return bad("database %q: driver command needs dump and restore", d.Name)
			}
		default:
			return bad("database %q: unknown driver %q (want postgres, mysql, sqlite, redis or command)", d.Name, d.Driver)
		}
	}
	for i, ch := range c.Check {
		if ch.Name == "" {
			return bad("check[%d] needs a name", i)
		}
		if names["check:"+ch.Name] {
			return bad("check %q is defined twice", ch.Name)
		}
		names["check:"+ch.Name] = true
		if ch.Kind == "" {
			c.Check[i].Kind = "smoke"
		} else if !contains(checkKinds, ch.Kind) {
			return bad("check %q: unknown kind %q (want health, smoke, full or perf)", ch.Name, ch.Kind)
		}
		if (ch.Run == "") == (ch.URL == "") {
			return bad("check %q needs exactly one of run or url", ch.Name)
		}
		if ch.Timeout.Duration < 0 || ch.RetryFor.Duration < 0 {
			return bad("check %q: negative duration", ch.Name)
		}
	}
	if c.Snapshot.Level != "" && !contains(checkKinds, c.Snapshot.Level) {
		return bad("snapshot.level: %q (want health, smoke, full or perf)", c.Snapshot.Level)
	}
	switch c.Restore.DatabaseSafety {
	case "", "hold", "dump":
	default:
		return bad("restore.database_safety: %q (want hold or dump)", c.Restore.DatabaseSafety)
	}
	switch c.Restore.Settle {
	case "", "background", "now", "manual":
	default:
		return bad("restore.settle: %q (want background, now or manual)", c.Restore.Settle)
	}
	switch c.Hooks.PrePush.Require {
	case "", "validated", "known-good", "off":
	default:
		return bad("hooks.pre_push.require: %q (want validated, known-good or off)", c.Hooks.PrePush.Require)
	}
	return nil
}

func (c *Config) allPatterns() []string {
	ps := append([]string{}, c.Config.Paths...)
	ps = append(ps, c.Dependencies.Lockfiles...)
	ps = append(ps, c.Dependencies.Vendor...)
	for _, f := range c.Files {
		ps = append(ps, f.Paths...)
	}
	return ps
}

// TagKnownGood reports whether passing snapshots get the known-good tag.
func (c *Config) TagKnownGood() bool {
	return c.Snapshot.TagKnownGood == nil || *c.Snapshot.TagKnownGood
}

// ValidateAfterRestore reports whether restore runs the checks by default.
func (c *Config) ValidateAfterRestore() bool {
	return len(c.Check) > 0 && (c.Restore.Validate == nil || *c.Restore.Validate)
}

// hashConfigFile returns the sha256 of the config file, "" without one.
func hashConfigFile(c *Config) string {
	if c.Path == "" {
		return ""
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
