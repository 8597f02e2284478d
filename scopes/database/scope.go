package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// Artifact meta keys recorded in the manifest for every database. Drivers
// may add their own keys through Info.Meta (e.g. "encoding"); the scope
// sets the ones below itself. None may hold a connection string.
const (
	MetaDriver        = "driver"         // the config's driver ("sqlite")
	MetaDumpFormat    = "dump_format"    // set by the driver, e.g. "pg_dump custom, uncompressed"
	MetaServerVersion = "server_version" // e.g. "PostgreSQL 16.4", "SQLite 3.49.1"
	MetaSchemaVersion = "schema_version" // result of the schema_version query ("" = none)
	MetaTables        = "tables"         // number of tables (or key spaces); absent when unknown
	MetaSize          = "size"           // database size in bytes as the driver reports it
	// MetaHeld marks a safety snapshot's record of a held copy: the name
	// the restore kept the live database under (Holder). Its content is a
	// one-line note, not a dump.
	MetaHeld = "held"
)

// Scope is the "database" scope: one chunked artifact per [[database]]
// entry, named after the entry. Capture streams each driver's dump through
// a read-ahead pipe (gitsnap.NewReadAheadPipe) straight into ArtifactWriter.PutStream; Restore hands the
// verified stream to the driver, which loads it aside and swaps.
type Scope struct {
	drivers Drivers
	getenv  func(string) string
}

var _ gitsnap.Scope = (*Scope)(nil)

// Option configures a Scope.
type Option func(*Scope)

// WithDrivers replaces the driver set (tests, or a build with fewer tools).
func WithDrivers(d Drivers) Option { return func(s *Scope) { s.drivers = d } }

// WithGetenv replaces os.Getenv for reading connection strings.
func WithGetenv(f func(string) string) Option { return func(s *Scope) { s.getenv = f } }

// New returns the database scope with the built-in drivers running real
// tools, reading connection strings with os.Getenv.
func New(opts ...Option) *Scope {
	s := &Scope{getenv: os.Getenv}
	for _, o := range opts {
		o(s)
	}
	if s.drivers == nil {
		s.drivers = DefaultDrivers(ExecRunner{})
	}
	return s
}

// Name implements gitsnap.Scope.
func (s *Scope) Name() string { return gitsnap.ScopeDatabase }

// VerifiesBeforeApply implements gitsnap.VerifiesBeforeApply: every driver
// loads its dump aside and swaps only after the verifying reader reached a
// clean EOF, so a damaged dump never replaces a live database.
func (s *Scope) VerifiesBeforeApply() bool { return true }

// target resolves one configured database for its driver.
func (s *Scope) target(env *gitsnap.ScopeEnv, c gitsnap.DatabaseConfig) (Target, Driver, error) {
	drv, ok := s.drivers[c.Driver]
	if !ok {
		return Target{}, nil, gitsnap.WithHint(
			fmt.Errorf("%w: database %s: driver %q is not available", gitsnap.ErrConfig, c.Name, c.Driver),
			"set driver to one of %s in .gitsnap.toml", strings.Join(s.drivers.Names(), ", "))
	}
	envName := c.URLEnv
	if envName == "" {
		envName = DefaultURLEnv
	}
	return Target{Config: c, Root: env.Root, URL: s.getenv(envName), Getenv: s.getenv, Hold: env.Hold, Unheld: env.Unheld}, drv, nil
}

func configured(env *gitsnap.ScopeEnv) []gitsnap.DatabaseConfig {
	if env == nil || env.Config == nil {
		return nil
	}
	return env.Config.Database
}

// Capture implements gitsnap.Scope: every configured database, in config
// order. The first failure stops the capture.
func (s *Scope) Capture(ctx context.Context, env *gitsnap.ScopeEnv, w gitsnap.ArtifactWriter) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("capture databases: %w", err)
	}
	for _, c := range configured(env) {
		if err := s.captureOne(ctx, env, w, c); err != nil {
			return err
		}
	}
	return nil
}

// errStoreFailed is what a Dump still writing sees once PutStream gave up.
var errStoreFailed = errors.New("storing the dump failed")

func (s *Scope) captureOne(ctx context.Context, env *gitsnap.ScopeEnv, w gitsnap.ArtifactWriter, c gitsnap.DatabaseConfig) error {
	t, drv, err := s.target(env, c)
	if err != nil {
		return err
	}
	if h, ok := drv.(Holder); ok && t.Hold != "" {
		done, err := s.captureHeld(ctx, w, c, t, h)
		if done || err != nil {
			return err
		}
	}
	return storeDump(ctx, w, c.Name, drv.Name(), func(out io.Writer) (Info, error) { return drv.Dump(ctx, t, out) })
}

// storeDump runs dump on its own goroutine and streams what it writes into
// w.PutStream as the artifact name, recording the facts dump returns.
// meta is filled by the dump goroutine after dump returns and before it
// closes the pipe, so PutStream (which records meta once the stream
// reached EOF) sees the final values: the pipe's close happens before the
// reader's EOF. The driver only knows the facts of a consistent dump
// (schema version, tables) once the dump is done. The pipe buffers a few
// MiB, so the dump tool keeps writing while the chunker waits for the
// pack writers. The driver's own error is returned as it is (it names the
// database).
func storeDump(ctx context.Context, w gitsnap.ArtifactWriter, name, driver string, dump func(io.Writer) (Info, error)) error {
	meta := map[string]string{}
	pr, pw := gitsnap.NewReadAheadPipe()
	done := make(chan error, 1)
	go func() {
		info, err := dump(pw)
		if err == nil {
			fillMeta(meta, driver, info)
		}
		pw.CloseWithError(err) // nil: the reader gets io.EOF
		done <- err
	}()
	_, perr := w.PutStream(ctx, name, pr, meta)
	pr.CloseWithError(errStoreFailed) // unblocks a dump still writing
	derr := <-done
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("database %s: capture: %w", name, ctx.Err())
	case derr != nil && !errors.Is(derr, errStoreFailed):
		return derr
	case perr != nil:
		return fmt.Errorf("database %s: store dump: %w", name, perr)
	case derr != nil:
		return fmt.Errorf("database %s: dump: %w", name, derr)
	}
	return nil
}

// fillMeta records a dump's facts; values that look like URLs are
// redacted as a last line of defence.
func fillMeta(meta map[string]string, driver string, info Info) {
	for k, v := range info.Meta {
		meta[k] = v
	}
	meta[MetaDriver] = driver
	meta[MetaServerVersion] = info.ServerVersion
	meta[MetaSchemaVersion] = info.SchemaVersion
	if info.Tables != nil { // nil: the driver cannot list tables
		meta[MetaTables] = strconv.Itoa(len(info.Tables))
	}
	meta[MetaSize] = strconv.FormatInt(info.Size, 10)
	for k, v := range meta {
		if v == "" {
			delete(meta, k)
		} else if strings.Contains(v, "://") || strings.Contains(v, "=") {
			meta[k] = RedactText(v)
		}
	}
}

// recordedInfo rebuilds a dump's Info from its artifact meta.
func recordedInfo(a gitsnap.Artifact) Info {
	info := Info{
		ServerVersion: a.Meta[MetaServerVersion],
		SchemaVersion: a.Meta[MetaSchemaVersion],
		Meta:          map[string]string{},
	}
	for k, v := range a.Meta {
		info.Meta[k] = v
	}
	if n, err := strconv.ParseInt(a.Meta[MetaSize], 10, 64); err == nil {
		info.Size = n
	} else {
		info.Size = a.Size
	}
	return info
}

// pair is a snapshot artifact with the configuration it restores to.
type pair struct {
	art gitsnap.Artifact
	cfg gitsnap.DatabaseConfig
}

// match pairs every database of the snapshot with its configuration and
// lists configured databases the snapshot lacks. A database in the
// snapshot that is no longer configured is an error: restoring it would
// need a connection we no longer know.
func match(env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) ([]pair, []string, error) {
	byName := map[string]gitsnap.DatabaseConfig{}
	for _, c := range configured(env) {
		byName[c.Name] = c
	}
	var pairs []pair
	inSnap := map[string]bool{}
	for _, a := range r.Artifacts() {
		inSnap[a.Path] = true
		c, ok := byName[a.Path]
		if !ok {
			return nil, nil, gitsnap.WithHint(
				fmt.Errorf("%w: database %s is in the snapshot but not configured", gitsnap.ErrConfig, a.Path),
				"add a [[database]] entry named %q to .gitsnap.toml, or leave the database scope out with --scope", a.Path)
		}
		if d := a.Meta[MetaDriver]; d != "" && d != c.Driver {
			return nil, nil, gitsnap.WithHint(
				fmt.Errorf("%w: database %s was captured with driver %s but is configured with driver %s", gitsnap.ErrConfig, a.Path, d, c.Driver),
				"set driver = %q for database %q in .gitsnap.toml to restore this snapshot", d, a.Path)
		}
		if a.Kind != gitsnap.KindChunked {
			return nil, nil, fmt.Errorf("database %s: artifact kind %q: %w", a.Path, a.Kind, gitsnap.ErrInvalidFormat)
		}
		pairs = append(pairs, pair{art: a, cfg: c})
	}
	var absent []string
	for _, c := range configured(env) {
		if !inSnap[c.Name] {
			absent = append(absent, c.Name)
		}
	}
	return pairs, absent, nil
}

// Restore implements gitsnap.Scope. Every database of the snapshot must be
// configured (checked before anything changes); each one is restored
// all-or-nothing by its driver. Databases configured but absent from the
// snapshot are left alone. A failure stops at that database: those
// restored before it stay restored (the core rolls back from the safety
// snapshot).
func (s *Scope) Restore(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restore databases: %w", err)
	}
	pairs, _, err := match(env, r)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		if err := s.restoreOne(ctx, env, r, p); err != nil {
			return err
		}
	}
	return nil
}

func (s *Scope) restoreOne(ctx context.Context, env *gitsnap.ScopeEnv, r gitsnap.ArtifactReader, p pair) error {
	t, drv, err := s.target(env, p.cfg)
	if err != nil {
		return err
	}
	rc, err := r.Open(ctx, p.art)
	if err != nil {
		return fmt.Errorf("database %s: open dump: %w", p.cfg.Name, err)
	}
	defer rc.Close()
	if err := drv.Restore(ctx, t, rc, recordedInfo(p.art)); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return fmt.Errorf("database %s: restore: %w (%v)", p.cfg.Name, ctx.Err(), err)
		}
		return err
	}
	return nil
}
