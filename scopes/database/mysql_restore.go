package database

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// Restore implements Driver: Stage, then Commit.
func (m *MySQL) Restore(ctx context.Context, t Target, r io.Reader, recorded Info) error {
	st, err := m.Stage(ctx, t, r, recorded)
	if err != nil {
		return err
	}
	return st.Commit(ctx)
}

var _ Stager = (*MySQL)(nil)

// Stage implements Stager: it loads the dump into a new schema
// <name>__gitsnap_tmp_<rand> (the live schema's character set, else the
// recorded one), checks the stream ended cleanly, reads the loaded
// objects, and drops the temporary copies of triggers and events (a
// trigger would stop its table from moving and an event would run against
// the temporary schema; their text is kept for Commit). On any failure the
// temporary schema is dropped.
func (m *MySQL) Stage(ctx context.Context, t Target, r io.Reader, recorded Info) (StagedDB, error) {
	s, err := m.open(t)
	if err != nil {
		return nil, err
	}
	st := &myStaged{s: s, name: s.conn.dbname}
	ok := false
	defer func() {
		if !ok {
			_ = st.Discard(ctx)
		}
	}()
	rows, err := s.query(ctx, "", fmt.Sprintf("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s;\n", myString(st.name)))
	if err != nil {
		return nil, err
	}
	switch {
	case len(rows) > 0 && len(rows[0]) == 2:
		st.charset = fmt.Sprintf(" CHARACTER SET %s COLLATE %s", myIdent(rows[0][0]), myIdent(rows[0][1]))
	case recorded.Meta["charset"] != "" && recorded.Meta["collation"] != "":
		st.charset = fmt.Sprintf(" CHARACTER SET %s COLLATE %s", myIdent(recorded.Meta["charset"]), myIdent(recorded.Meta["collation"]))
	}
	if st.suffix, err = randSuffix(); err != nil {
		return nil, err
	}
	st.tmp = myName(st.name, "__gitsnap_tmp_"+st.suffix)
	st.bak = myName(st.name, "__gitsnap_old_"+st.suffix)
	st.undo = []string{fmt.Sprintf("DROP DATABASE IF EXISTS %s;", myIdent(st.tmp))}
	if _, err := s.query(ctx, "", fmt.Sprintf("CREATE DATABASE %s%s;\n", myIdent(st.tmp), st.charset)); err != nil {
		return nil, fmt.Errorf("create temporary schema: %w", err)
	}
	if err := s.load(ctx, st.tmp, r); err != nil {
		return nil, err
	}
	if st.snap, err = s.catalog(ctx, st.tmp, true, false); err != nil {
		return nil, err
	}
	var prep strings.Builder
	for _, o := range st.snap.triggers {
		fmt.Fprintf(&prep, "DROP TRIGGER %s.%s;\n", myIdent(st.tmp), myIdent(o.name))
	}
	for _, o := range st.snap.events {
		fmt.Fprintf(&prep, "DROP EVENT %s.%s;\n", myIdent(st.tmp), myIdent(o.name))
	}
	if prep.Len() > 0 {
		if _, err := s.query(ctx, "", prep.String()); err != nil {
			return nil, err
		}
	}
	ok = true
	return st, nil
}

// myStaged is a dump loaded into the temporary schema tmp.
type myStaged struct {
	s                      *mySession
	name, tmp, bak, suffix string
	charset                string    // " CHARACTER SET … COLLATE …" or ""
	snap                   myCatalog // the loaded objects
	undo                   []string  // run in reverse until the swap
	finished               bool      // committed or discarded
}

// Commit implements StagedDB. It swaps:
//
//  1. the live schema's triggers are dropped (MySQL refuses to move a table
//     with triggers to another schema; their definitions are kept, and put
//     back if the swap fails);
//  2. one atomic RENAME TABLE moves every live table to a backup schema
//     <name>__gitsnap_old_<rand> and every restored table into the live
//     schema (a live view whose name a restored table takes is renamed
//     aside in the same statement);
//  3. the live views, routines and events are dropped and the snapshot's
//     routines, views, triggers and events are created from their SHOW
//     CREATE text (each under its recorded sql_mode, events in their time
//     zone), then the backup and temporary schemas are dropped.
//
// Clients see the old tables or the new ones, never a mix. Before step 2
// a failure drops the temporary schema and leaves the live one as it was;
// a failure in step 3 leaves the restored tables in place, the old ones in
// the backup schema, and says so.
func (st *myStaged) Commit(ctx context.Context) error {
	if st.finished {
		return fmt.Errorf("database %s: the loaded copy was already committed or discarded", st.s.label)
	}
	s, name := st.s, st.name
	swapped := false
	defer func() {
		if !swapped {
			_ = st.Discard(ctx)
		}
	}()
	rows, err := s.query(ctx, "", fmt.Sprintf("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s;\n", myString(name)))
	if err != nil {
		return err
	}
	var cur myCatalog
	var prep strings.Builder
	if len(rows) > 0 {
		if cur, err = s.catalog(ctx, name, true, true); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(&prep, "CREATE DATABASE %s%s;\n", myIdent(name), st.charset)
		st.undo = append(st.undo, fmt.Sprintf("DROP DATABASE IF EXISTS %s;", myIdent(name)))
	}
	fmt.Fprintf(&prep, "CREATE DATABASE %s%s;\n", myIdent(st.bak), st.charset)
	st.undo = append(st.undo, fmt.Sprintf("DROP DATABASE IF EXISTS %s;", myIdent(st.bak)))
	if _, err := s.query(ctx, "", prep.String()); err != nil {
		return err
	}
	if err := s.swap(ctx, name, st.tmp, st.bak, st.suffix, st.snap, &cur); err != nil {
		return err
	}
	swapped, st.finished = true, true
	defer s.close()
	if err := s.finish(ctx, name, st.tmp, st.bak, st.suffix, st.snap, cur); err != nil {
		return gitsnap.WithHint(fmt.Errorf("database %s: tables restored, but recreating views, routines, triggers or events failed: %w", s.label, err),
			"the previous tables are kept in schema %s; fix the cause and restore again", st.bak)
	}
	return nil
}

// Discard implements StagedDB: it undoes what was created before the swap
// (the temporary schema, and in a failed Commit the backup schema and a
// live schema it created), even when ctx is cancelled.
func (st *myStaged) Discard(ctx context.Context) error {
	if st.finished {
		return nil
	}
	st.finished = true
	defer st.s.close()
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	var first error
	for i := len(st.undo) - 1; i >= 0; i-- {
		if _, err := st.s.query(cctx, "", st.undo[i]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// load runs the dump through the client into db, then checks that the
// stream ended cleanly (no read error, Dump's trailer last).
func (s *mySession) load(ctx context.Context, db string, r io.Reader) error {
	sr := &stickyReader{r: r}
	tail := &tailKeeper{r: sr, n: len(myDumpTrailer)}
	err := s.clientAs(ctx, myClassify(s.envName, true), db, tail, io.Discard, "--comments")
	if rerr := sr.failed(); rerr != nil {
		return fmt.Errorf("database %s: read dump: %w", s.label, rerr)
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tail); err != nil {
		return fmt.Errorf("database %s: read dump: %w", s.label, err)
	}
	if !bytes.Equal(tail.last, []byte(myDumpTrailer)) {
		return gitsnap.WithHint(fmt.Errorf("database %s: the dump is truncated: its end marker is missing", s.label),
			"run `git snap check --read-data`; the live database was left untouched")
	}
	return nil
}

// swap drops the live triggers and runs the one RENAME TABLE; if that
// fails the triggers are put back.
func (s *mySession) swap(ctx context.Context, name, tmp, bak, suffix string, snap myCatalog, cur *myCatalog) error {
	taken := map[string]bool{}
	for _, o := range snap.tables {
		taken[o.name] = true
	}
	var renames []string
	for _, o := range cur.tables {
		renames = append(renames, fmt.Sprintf("%s.%s TO %s.%s", myIdent(name), myIdent(o.name), myIdent(bak), myIdent(o.name)))
	}
	for i, o := range cur.views {
		if taken[o.name] {
			aside := fmt.Sprintf("gitsnap_view_%s_%d", suffix, i)
			renames = append(renames, fmt.Sprintf("%s.%s TO %s.%s", myIdent(name), myIdent(o.name), myIdent(name), myIdent(aside)))
			cur.views[i].name = aside
		}
	}
	for _, o := range snap.tables {
		renames = append(renames, fmt.Sprintf("%s.%s TO %s.%s", myIdent(tmp), myIdent(o.name), myIdent(name), myIdent(o.name)))
	}
	var pre strings.Builder
	for _, o := range cur.triggers {
		fmt.Fprintf(&pre, "DROP TRIGGER %s.%s;\n", myIdent(name), myIdent(o.name))
	}
	if len(renames) > 0 {
		fmt.Fprintf(&pre, "RENAME TABLE %s;\n", strings.Join(renames, ", "))
	}
	if pre.Len() == 0 {
		return nil
	}
	_, err := s.query(ctx, "", pre.String())
	if err == nil || len(cur.triggers) == 0 {
		return err
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	back := newMyScript(suffix)
	for _, o := range cur.triggers {
		back.stmt("DROP TRIGGER IF EXISTS %s", myIdent(o.name))
		back.create(o)
	}
	if berr := s.client(cctx, name, strings.NewReader(back.String()), io.Discard, "--comments"); berr != nil {
		return fmt.Errorf("%w (and putting the live triggers back failed: %v)", err, berr)
	}
	return err
}

// finish replaces the live schema's programmable objects with the
// snapshot's and drops the backup and temporary schemas.
func (s *mySession) finish(ctx context.Context, name, tmp, bak, suffix string, snap, cur myCatalog) error {
	sc := newMyScript(suffix)
	sc.stmt("SET NAMES utf8mb4")
	sc.stmt("SET FOREIGN_KEY_CHECKS = 0")
	for _, o := range cur.views {
		sc.stmt("DROP VIEW IF EXISTS %s", myIdent(o.name))
	}
	for _, o := range cur.routines {
		sc.stmt("DROP %s IF EXISTS %s", o.kind, myIdent(o.name))
	}
	for _, o := range cur.events {
		sc.stmt("DROP EVENT IF EXISTS %s", myIdent(o.name))
	}
	for _, o := range snap.routines {
		sc.create(o)
	}
	sc.createViews(snap.views)
	for _, o := range snap.triggers {
		sc.create(o)
	}
	for _, o := range snap.events {
		sc.create(o)
	}
	sc.stmt("DROP DATABASE %s", myIdent(bak))
	sc.stmt("DROP DATABASE %s", myIdent(tmp))
	return s.client(ctx, name, strings.NewReader(sc.String()), io.Discard, "--comments")
}

// tailKeeper passes reads through and keeps the last n bytes seen.
type tailKeeper struct {
	r    io.Reader
	n    int
	last []byte
}

func (t *tailKeeper) Read(p []byte) (int, error) {
	k, err := t.r.Read(p)
	if k > 0 {
		t.last = append(t.last, p[:k]...)
		if len(t.last) > t.n {
			t.last = append(t.last[:0], t.last[len(t.last)-t.n:]...)
		}
	}
	return k, err
}
