package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// Dropper is implemented by drivers whose databases live on a server: it
// removes a database (the sandbox's) that a drill created.
type Dropper interface {
	Drop(ctx context.Context, t Target) error
}

var _ gitsnap.Sandboxer = (*Scope)(nil)

// Sandbox implements gitsnap.Sandboxer for restore drills: every server
// database whose driver can drop what it creates (postgres, mysql) is
// restored into a new database named <name>__gitsnap_drill_<random> on
// the same server, and the checks get the connection variable (url_env,
// default DATABASE_URL) pointing at it. SQLite files land in the sandbox
// worktree already. Other drivers (redis, command) have their dump read
// and verified but not loaded; the drill says so.
func (s *Scope) Sandbox(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) (*gitsnap.ScopeSandbox, error) {
	pairs, _, err := match(env, r)
	if err != nil {
		return nil, err
	}
	overrides := map[string]string{}
	box := &gitsnap.ScopeSandbox{}
	skip := map[string]bool{}
	var drops []Target
	for _, p := range pairs {
		drv, ok := s.drivers[p.cfg.Driver]
		if held := p.art.Meta[MetaHeld]; held != "" {
			// A drill must not move the held copy: it is the safety copy.
			skip[p.art.Path] = true
			box.Notes = append(box.Notes, fmt.Sprintf("database %s: held on its server as %s until git snap settle copies it into the snapshot; not loaded", p.cfg.Name, held))
			continue
		}
		if p.cfg.Driver == "sqlite" {
			continue
		}
		if _, canDrop := drv.(Dropper); !ok || !canDrop {
			skip[p.art.Path] = true
			box.Notes = append(box.Notes, fmt.Sprintf("database %s: dump verified (size, sha256) but not loaded: the %s driver has no sandbox", p.cfg.Name, p.cfg.Driver))
			continue
		}
		envName := p.cfg.URLEnv
		if envName == "" {
			envName = DefaultURLEnv
		}
		live := s.getenv(envName)
		sbURL, err := sandboxURL(p.cfg.Driver, live, p.cfg.Name)
		if err != nil {
			return nil, err
		}
		overrides[envName] = sbURL
		box.Env = append(box.Env, envName+"="+sbURL)
		drops = append(drops, Target{Config: p.cfg, Root: env.Root, URL: sbURL, Getenv: s.getenv})
	}
	getenv := func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return s.getenv(k)
	}
	box.Scope = &sandboxScope{Scope: &Scope{drivers: s.drivers, getenv: getenv}, skip: skip}
	box.Cleanup = func(ctx context.Context) error {
		var errs []error
		for _, t := range drops {
			if err := s.drivers[t.Config.Driver].(Dropper).Drop(ctx, t); err != nil {
				errs = append(errs, fmt.Errorf("drop sandbox database of %s: %w", t.Config.Name, err))
			}
		}
		return errors.Join(errs...)
	}
	return box, nil
}

// sandboxScope restores into the sandbox targets; skipped databases are
// read through (so their digest is still checked) but not loaded.
type sandboxScope struct {
	*Scope
	skip map[string]bool
}

func (s *sandboxScope) Restore(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) error {
	var keep []gitsnap.Artifact
	for _, a := range r.Artifacts() {
		if !s.skip[a.Path] {
			keep = append(keep, a)
			continue
		}
		rc, err := r.Open(ctx, a)
		if err != nil {
			return fmt.Errorf("database %s: %w", a.Path, err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("database %s: %w", a.Path, err)
		}
	}
	return s.Scope.Restore(ctx, env, onlyArtifacts{ArtifactReader: r, list: keep})
}

// onlyArtifacts narrows a reader to some of its artifacts.
type onlyArtifacts struct {
	gitsnap.ArtifactReader
	list []gitsnap.Artifact
}

func (o onlyArtifacts) Artifacts() []gitsnap.Artifact { return o.list }

// sandboxURL points a connection string at a fresh database on the same
// server: <live name>__gitsnap_drill_<random>.
func sandboxURL(driver, live, name string) (string, error) {
	var db string
	switch driver {
	case "postgres":
		c, err := parsePostgresConn(live)
		if err != nil {
			return "", gitsnap.WithHint(fmt.Errorf("database %s: %w", name, err), "set its connection variable so the drill can find the server")
		}
		db = c.dbname
	case "mysql":
		c, err := parseMySQLConn(live)
		if err != nil {
			return "", gitsnap.WithHint(fmt.Errorf("database %s: %w", name, err), "set its connection variable so the drill can find the server")
		}
		db = c.dbname
	default:
		return "", fmt.Errorf("database %s: driver %s has no sandbox", name, driver)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	suffix := "__gitsnap_drill_" + hex.EncodeToString(b[:])
	if len(db)+len(suffix) > 63 {
		db = db[:63-len(suffix)]
	}
	return withDatabase(live, db+suffix)
}

var (
	conninfoDBName = regexp.MustCompile(`(^|\s)dbname\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)
	goMySQLPath    = regexp.MustCompile(`\)/[^?]*`)
)

// withDatabase returns the connection string with its database replaced:
// URLs (postgres://, mysql://), libpq key=value strings and Go MySQL DSNs.
func withDatabase(conn, db string) (string, error) {
	switch {
	case strings.Contains(conn, "://"):
		u, err := url.Parse(conn)
		if err != nil {
			return "", fmt.Errorf("parse connection string: %s", Redact(conn))
		}
		u.Path, u.RawPath = "/"+db, ""
		return u.String(), nil
	case strings.Contains(conn, "@tcp(") || strings.Contains(conn, "@unix("):
		return goMySQLPath.ReplaceAllString(conn, ")/"+db), nil
	case conninfoDBName.MatchString(conn):
		return conninfoDBName.ReplaceAllString(conn, "${1}dbname="+db), nil
	}
	return strings.TrimSpace(conn) + " dbname=" + db, nil
}
