package database

import (
	"context"
	"fmt"
	"io"

	"github.com/git-snap/git-snap/gitsnap"
)

// Held copies (docs/git-snap-restore.md, "The safety copy of a database").
// A restore does not dump a PostgreSQL database into its safety snapshot
// first: the safety snapshot records that the live database will be kept,
// renamed <name>__gitsnap_held_<token>, and the swap keeps it instead of
// dropping it. Restoring that safety snapshot swaps the held copy back;
// settling it (git snap settle) dumps the held copy into Git and drops it.

var _ Holder = (*Postgres)(nil)

// pgHeldName is the name a restore with token keeps the live database under.
func pgHeldName(name, token string) string { return pgName(name, "__gitsnap_held_"+token) }

// Hold implements Holder: the facts of the live database (as a dump would
// record them; those the restore plan read a moment ago, if any) and the
// name it will be kept under. A database that does not exist has nothing
// to hold: the error wraps ErrNotExist.
func (p *Postgres) Hold(ctx context.Context, t Target, token string) (Info, string, error) {
	pt, err := resolvePostgres(t)
	if err != nil {
		return Info{}, "", err
	}
	info, ok := p.recentInspect(pt)
	if !ok {
		if info, err = p.inspect(ctx, pt); err != nil {
			return Info{}, "", err
		}
	}
	info.Meta["dump_format"] = "held on the server"
	return info, pgHeldName(pt.conn.dbname, token), nil
}

// DumpHeld implements Holder: pg_dump of the held copy, whose connections
// the swap had turned off, into w.
func (p *Postgres) DumpHeld(ctx context.Context, t Target, held string, w io.Writer) (Info, error) {
	pt, err := resolvePostgres(t)
	if err != nil {
		return Info{}, err
	}
	maint := pgMaint(pt.conn.dbname)
	srv, err := p.server(ctx, pt, maint, held)
	if err != nil {
		return Info{}, err
	}
	if srv.Live == nil {
		return Info{}, gitsnap.WithHint(fmt.Errorf("database %s: the held copy %s no longer exists: %w", pt.label, held, ErrNotExist),
			"it was dropped outside git-snap; the safety snapshot cannot be settled: remove it with git snap prune")
	}
	if !srv.Live.AllowConn {
		if _, err := p.psql(ctx, pt, maint, fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", quoteIdent(held))); err != nil {
			return Info{}, err
		}
	}
	hp := pt
	hp.conn.dbname = held
	return p.dump(ctx, hp, w)
}

// Release implements Holder: it drops the held copy (gone already is fine).
func (p *Postgres) Release(ctx context.Context, t Target, held string) error {
	pt, err := resolvePostgres(t)
	if err != nil {
		return err
	}
	maint := pgMaint(pt.conn.dbname)
	srv, err := p.server(ctx, pt, maint, held)
	if err != nil {
		return err
	}
	return p.drop(ctx, pt, maint, held, srv.VersionNum)
}

// pgMaint is the database psql connects to for CREATE, RENAME and DROP of name.
func pgMaint(name string) string {
	if name == "postgres" {
		return "template1"
	}
	return "postgres"
}

// stageHeld is Stage of a held artifact: r is only the small marker
// (read to its verified end), and the "loaded copy" is the held database
// itself, which Commit swaps back in; Discard leaves it alone.
func (p *Postgres) stageHeld(ctx context.Context, t Target, r io.Reader, recorded Info, held string) (StagedDB, error) {
	pt, err := resolvePostgres(t)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("database %s: read the held copy's record: %w", pt.label, err)
	}
	st := &pgStaged{p: p, pt: pt, name: pt.conn.dbname, maint: pgMaint(pt.conn.dbname), tmp: held, unhold: true}
	srv, err := p.server(ctx, pt, st.maint, held)
	if err != nil {
		return nil, err
	}
	if srv.Live == nil && t.Unheld != "" && held == pgHeldName(st.name, t.Unheld) {
		// Rolling back the restore that would have made it: it failed
		// before this database was swapped, so the live one is the original.
		st.finished = true
		return st, nil
	}
	if srv.Live == nil {
		return nil, gitsnap.WithHint(fmt.Errorf("database %s: the held copy %s no longer exists: %w", pt.label, held, ErrNotExist),
			"it was dropped outside git-snap, or swapped back by a rollback; pick an earlier snapshot with git snap list")
	}
	st.versionNum = srv.VersionNum
	if rec := recordedDatabase(recorded); rec != nil {
		st.allowConn = rec.AllowConn
	}
	if err := st.name2old(t); err != nil {
		return nil, err
	}
	return st, nil
}

// name2old names what the swap does with the live database: kept as
// this restore's held copy when t.Hold is set, else renamed aside and
// dropped after the swap.
func (st *pgStaged) name2old(t Target) error {
	if t.Hold != "" {
		st.old, st.keep = pgHeldName(st.name, t.Hold), true
		return nil
	}
	suffix, err := randSuffix()
	if err != nil {
		return err
	}
	st.old = pgName(st.name, "__gitsnap_old_"+suffix)
	return nil
}

// reopen turns connections back on for a database swapped back from its
// held copy, when the live database had them on.
func (st *pgStaged) reopen(ctx context.Context) error {
	if !st.unhold || !st.allowConn {
		return nil
	}
	_, err := st.p.psql(ctx, st.pt, st.maint, fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", quoteIdent(st.name)))
	return err
}
