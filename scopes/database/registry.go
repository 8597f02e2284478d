package database

import (
	"context"
	"errors"
	"sort"
)

// DefaultURLEnv is the environment variable a [[database]] entry without
// url_env reads its connection string from.
const DefaultURLEnv = "DATABASE_URL"

// ErrNotExist is wrapped by Inspect (and Dump) when the configured database
// does not exist (a missing SQLite file, an unknown PostgreSQL database).
// The restore plan then shows the database as created rather than failing.
var ErrNotExist = errors.New("database does not exist")

// Digester is an optional Driver capability: Digest returns the size and
// hex sha256 of the dump Dump would write now, without storing it. The
// restore plan uses it to tell an unchanged database (no change) from a
// changed one; drivers without it are always shown as replaced.
// Implementations must be read-only and deterministic (the same content
// gives the same digest as the captured artifact).
type Digester interface {
	Digest(ctx context.Context, t Target) (size int64, sha256 string, err error)
}

// Drivers maps driver names ("sqlite") to implementations.
type Drivers map[string]Driver

// NewDrivers indexes drivers by Name; a later one replaces an earlier one
// of the same name (so tests can swap in a fake).
func NewDrivers(ds ...Driver) Drivers {
	m := Drivers{}
	for _, d := range ds {
		m[d.Name()] = d
	}
	return m
}

// DefaultDrivers returns the built-in drivers, running external tools
// through r.
func DefaultDrivers(r Runner) Drivers {
	return NewDrivers(
		NewSQLite(),
		NewCommand(r),
		NewPostgres(r),
		NewMySQL(r),
		NewRedis(),
	)
}

// Names lists the driver names, sorted.
func (d Drivers) Names() []string {
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
