// Package database is the database scope: one artifact per [[database]]
// entry, a dump streamed straight into the chunker (no temp copy), and an
// all-or-nothing restore (load into a temporary database or file, then
// swap). Drivers: postgres, mysql (MariaDB/MySQL), sqlite (pure Go, the
// embedded default), redis and command.
package database

import (
	"context"
	"io"

	"github.com/git-snap/git-snap/gitsnap"
)

// Target is one configured database, resolved for a driver.
type Target struct {
	Config gitsnap.DatabaseConfig
	// Root is the worktree root (sqlite paths are relative to it).
	Root string
	// URL is the connection string read from Config.URLEnv (default
	// DATABASE_URL); never logged, never stored. Redact with Redact.
	URL string
	// Getenv reads the environment (tests override it).
	Getenv func(string) string
	// Hold is the restore's hold token (gitsnap.ScopeEnv.Hold): a Holder
	// keeps the database it replaces as its held copy instead of dropping it.
	Hold string
	// Unheld is the token of a restore being rolled back
	// (gitsnap.ScopeEnv.Unheld): its held copies that do not exist were
	// never made, and swapping them back is nothing to do.
	Unheld string
}

// Info describes a live database or a dump, for manifests and plans.
type Info struct {
	ServerVersion string            // e.g. "PostgreSQL 15.19"
	SchemaVersion string            // result of the schema_version query, "" if none
	Size          int64             // bytes on the server / file, 0 if unknown
	Tables        []string          // sorted table (or key-space) names
	Meta          map[string]string // extra driver facts recorded in the manifest
}

// Driver dumps and restores one kind of database. Implementations run
// external tools through a Runner so tests can fake them, pass passwords
// only through the environment or 0600 option files (never argv), and
// honour ctx: a cancelled dump returns ctx.Err(), a cancelled restore
// leaves the old database untouched.
type Driver interface {
	// Name is the config's driver value ("postgres").
	Name() string
	// Inspect reads the live database's facts; ErrNotExist-like errors are
	// wrapped with a hint.
	Inspect(ctx context.Context, t Target) (Info, error)
	// Dump writes a consistent, uncompressed dump to w and returns the
	// facts to record. It must stream: memory stays bounded whatever the size.
	Dump(ctx context.Context, t Target, w io.Writer) (Info, error)
	// Restore loads the dump from r into a temporary database (or file) and
	// then swaps it in atomically; on any failure the live database is
	// unchanged and the temporary one is removed. r reports a digest
	// mismatch as an error (wrapping gitsnap.ErrIntegrity) at its end, so
	// the swap must happen only after r returned io.EOF.
	Restore(ctx context.Context, t Target, r io.Reader, recorded Info) error
}

// Stager is an optional Driver capability: the two halves of Restore,
// apart. Stage loads the dump from r into a temporary database (or file)
// that nothing else sees, reads r to its end and checks it returned
// io.EOF (a digest mismatch is an error wrapping gitsnap.ErrIntegrity);
// on any failure it removes what it made, and the live database is
// untouched either way. The returned StagedDB swaps it in later. Restore
// of a Stager is Stage followed by Commit.
//
// Stage may return (nil, nil) for a target it cannot load aside without
// being seen (the scope then restores it in Commit with Restore).
type Stager interface {
	Stage(ctx context.Context, t Target, r io.Reader, recorded Info) (StagedDB, error)
}

// StagedDB is a verified dump loaded aside by Stager.Stage. It keeps no
// reference to Stage's ctx.
type StagedDB interface {
	// Commit swaps the loaded copy in for the live database, as the end of
	// Restore does, reading the live database's facts afresh (time has
	// passed since Stage). Until the swap, a failure removes the loaded
	// copy and leaves the live database as it was. Called at most once.
	Commit(ctx context.Context) error
	// Discard removes the loaded copy, even when ctx is cancelled. It is
	// idempotent and a no-op after Commit.
	Discard(ctx context.Context) error
}

// Holder is an optional Driver capability: a restore keeps the live
// database it replaces, renamed, as the safety copy, instead of dumping it
// into the safety snapshot first (docs/git-snap-restore.md, "The safety
// copy of a database"). A Holder is a Stager whose Stage, given recorded
// facts with MetaHeld, swaps that held copy back in.
type Holder interface {
	Driver
	Stager
	// Hold returns the live database's facts (as Dump records them) and
	// the name Commit will keep it under for token. It changes nothing. A
	// database that does not exist has nothing to hold (ErrNotExist).
	Hold(ctx context.Context, t Target, token string) (Info, string, error)
	// DumpHeld dumps the held copy named held into w, like Dump.
	DumpHeld(ctx context.Context, t Target, held string, w io.Writer) (Info, error)
	// Release removes the held copy; one that is gone already is no error.
	Release(ctx context.Context, t Target, held string) error
}
