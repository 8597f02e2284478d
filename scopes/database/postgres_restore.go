package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/git-snap/git-snap/gitsnap"
)

// pgDatabase is a pg_database row in portable form: owner, encoding,
// locale, connection limit, database ACL, per-database settings and
// comment. pg_dump without --create carries none of them, so Dump records
// them in Info.Meta["pg_database"] and Restore creates the temporary
// database with them.
type pgDatabase struct {
	Owner      string          `json:"owner"`
	Encoding   string          `json:"encoding"`
	Collate    string          `json:"collate"`
	Ctype      string          `json:"ctype"`
	Provider   string          `json:"provider"` // c(libc), i(cu), b(uiltin)
	Locale     string          `json:"locale,omitempty"`
	ICURules   string          `json:"icu_rules,omitempty"`
	AllowConn  bool            `json:"allow_conn"`
	ConnLimit  int             `json:"conn_limit"`
	Tablespace string          `json:"tablespace"`
	HasACL     bool            `json:"has_acl"`
	ACL        []pgGrant       `json:"acl,omitempty"`
	Settings   []pgRoleSetting `json:"settings,omitempty"`
	Comment    *string         `json:"comment,omitempty"`
}

type pgGrant struct {
	Grantee   *string `json:"grantee"` // nil = PUBLIC
	Privilege string  `json:"privilege"`
	Grantable bool    `json:"grantable"`
}

type pgRoleSetting struct {
	Role   *string  `json:"role"` // nil = every role
	Config []string `json:"config"`
}

// pgDatabaseSQL selects one pg_database row (%s: the WHERE condition on
// d) as a pgDatabase JSON object, or NULL. Version-dependent columns are
// read through to_jsonb (daticulocale in 15-16, datlocale from 17).
const pgDatabaseSQL = `(SELECT json_build_object(
   'owner', pg_get_userbyid(d.datdba),
   'encoding', pg_encoding_to_char(d.encoding),
   'collate', d.datcollate, 'ctype', d.datctype,
   'provider', coalesce(to_jsonb(d)->>'datlocprovider', 'c'),
   'locale', coalesce(to_jsonb(d)->>'datlocale', to_jsonb(d)->>'daticulocale'),
   'icu_rules', to_jsonb(d)->>'daticurules',
   'allow_conn', d.datallowconn, 'conn_limit', d.datconnlimit,
   'tablespace', (SELECT spcname FROM pg_tablespace WHERE oid = d.dattablespace),
   'has_acl', d.datacl IS NOT NULL,
   'acl', (SELECT json_agg(json_build_object(
       'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
       'privilege', a.privilege_type, 'grantable', a.is_grantable) ORDER BY a.grantee, a.privilege_type)
     FROM aclexplode(d.datacl) a),
   'settings', (SELECT json_agg(json_build_object(
       'role', CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END,
       'config', s.setconfig) ORDER BY s.setrole)
     FROM pg_db_role_setting s WHERE s.setdatabase = d.oid),
   'comment', shobj_description(d.oid, 'pg_database'))
  FROM pg_database d WHERE %s)`

type pgServer struct {
	VersionNum int         `json:"version_num"`
	Live       *pgDatabase `json:"live"`
}

var pgLiveSQL = `SELECT json_build_object('version_num', current_setting('server_version_num')::int, 'live', ` +
	fmt.Sprintf(pgDatabaseSQL, "d.datname = %s") + ");\n"

// recordedDatabase reads the pg_database facts Dump recorded, nil if none.
func recordedDatabase(recorded Info) *pgDatabase {
	var d pgDatabase
	if s := recorded.Meta["pg_database"]; s == "" || json.Unmarshal([]byte(s), &d) != nil || d.Owner == "" {
		return nil
	}
	return &d
}

// Restore implements Driver: Stage, then Commit.
func (p *Postgres) Restore(ctx context.Context, t Target, r io.Reader, recorded Info) error {
	st, err := p.Stage(ctx, t, r, recorded)
	if err != nil {
		return err
	}
	return st.Commit(ctx)
}

var _ Stager = (*Postgres)(nil)

// Stage implements Stager. It creates <name>__gitsnap_tmp_<rand> like the
// live database (from the facts recorded at dump time and the live
// database's encoding and locale), runs pg_restore --exit-on-error into it
// from r and checks r reached its end without error. On any failure the
// temporary database is dropped. Nothing connects to it but pg_restore,
// and pg_dump of the live database never sees it.
func (p *Postgres) Stage(ctx context.Context, t Target, r io.Reader, recorded Info) (StagedDB, error) {
	if held := recorded.Meta[MetaHeld]; held != "" {
		return p.stageHeld(ctx, t, r, recorded, held)
	}
	pt, err := resolvePostgres(t)
	if err != nil {
		return nil, err
	}
	st := &pgStaged{p: p, pt: pt, name: pt.conn.dbname, maint: pgMaint(pt.conn.dbname)}
	srv, ok := p.recentServer(pt)
	if !ok {
		if srv, err = p.server(ctx, pt, st.maint, st.name); err != nil {
			return nil, err
		}
	}
	suffix, err := randSuffix()
	if err != nil {
		return nil, err
	}
	st.tmp = pgName(st.name, "__gitsnap_tmp_"+suffix)
	if err := st.name2old(t); err != nil {
		return nil, err
	}
	st.versionNum = srv.VersionNum
	// From here on the temporary database may exist: drop it on any
	// failure, with a context that survives the caller's cancellation.
	if _, err := p.psql(ctx, pt, st.maint, pgCreateSQL(st.tmp, srv.Live, recordedDatabase(recorded))); err != nil {
		_ = st.Discard(ctx)
		return nil, fmt.Errorf("create temporary database: %w", err)
	}
	if err := p.load(ctx, pt, st.tmp, r); err != nil {
		_ = st.Discard(ctx)
		return nil, err
	}
	return st, nil
}

// server reads the server version and the live database's facts (nil
// Live when it does not exist).
func (p *Postgres) server(ctx context.Context, pt pgTarget, maint, name string) (pgServer, error) {
	var srv pgServer
	out, err := p.psql(ctx, pt, maint, fmt.Sprintf(pgLiveSQL, quoteLiteral(name)))
	if err != nil {
		return srv, err
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &srv); err != nil {
		return srv, fmt.Errorf("database %s: read %s facts: %w", pt.label, name, err)
	}
	return srv, nil
}

// recentServer is server's answer for pt's own database, from what the
// restore plan's inspect read a moment ago (recentInspect).
func (p *Postgres) recentServer(pt pgTarget) (pgServer, bool) {
	info, ok := p.recentInspect(pt)
	if !ok {
		return pgServer{}, false
	}
	n, err := strconv.Atoi(info.Meta["server_version_num"])
	live := recordedDatabase(info)
	if err != nil || live == nil {
		return pgServer{}, false
	}
	return pgServer{VersionNum: n, Live: live}, true
}

// pgStaged is a dump restored into the temporary database tmp.
type pgStaged struct {
	p          *Postgres
	pt         pgTarget
	name       string // the live database
	maint      string // the database psql connects to for CREATE, RENAME, DROP
	tmp, old   string
	versionNum int
	finished   bool // committed or discarded
	keep       bool // the swap keeps old as this restore's held copy (Target.Hold)
	unhold     bool // tmp is a held copy being swapped back: never dropped here
	allowConn  bool // unhold: the live database took connections when it was held
}

// Commit implements StagedDB: it reads the live database's facts again,
// then swaps in one transaction (live → <name>__gitsnap_old_<rand>, or
// <name>__gitsnap_held_<token> when the restore holds it; temp → name)
// after refusing new connections to the live database and terminating its
// sessions, and finally drops the old copy unless it is held. Before the
// swap every failure drops the temporary database and leaves the live one
// as it was.
func (st *pgStaged) Commit(ctx context.Context) error {
	if st.finished && st.unhold {
		return nil // a held copy a rolled-back restore never made: nothing to swap
	}
	if st.finished {
		return fmt.Errorf("database %s: the loaded copy was already committed or discarded", st.pt.label)
	}
	srv, err := st.p.server(ctx, st.pt, st.maint, st.name)
	if err == nil {
		st.p.forget(st.pt)
		err = st.p.swap(ctx, st.pt, st.maint, st.name, st.tmp, st.old, srv.Live)
	}
	if err != nil {
		_ = st.Discard(ctx)
		return err
	}
	st.finished = true
	if err := st.reopen(ctx); err != nil {
		return fmt.Errorf("swapped the held copy back, but turning connections on failed: %w", err)
	}
	if srv.Live == nil || st.keep {
		return nil
	}
	if err := st.p.drop(ctx, st.pt, st.maint, st.old, srv.VersionNum); err != nil {
		return fmt.Errorf("restored, but dropping the previous copy %s failed: %w", st.old, err)
	}
	return nil
}

// Discard implements StagedDB: it drops the temporary database.
func (st *pgStaged) Discard(ctx context.Context) error {
	if st.finished || st.unhold {
		st.finished = true
		return nil
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := st.p.drop(cctx, st.pt, st.maint, st.tmp, st.versionNum); err != nil {
		return err
	}
	st.finished = true
	return nil
}

// load runs pg_restore into db and then reads r to its end, so a digest
// mismatch reported at EOF is seen before anything is swapped.
func (p *Postgres) load(ctx context.Context, pt pgTarget, db string, r io.Reader) error {
	sr := &stickyReader{r: r}
	stdin, stop := readAhead(sr)
	err := toolRun{
		db: pt.label, name: "pg_restore",
		args:  []string{"--exit-on-error", "--no-password", "-d", conninfoDB(db)},
		env:   pt.conn.environ(db),
		stdin: stdin, classify: pgClassify(pt.envName),
	}.run(ctx, p.run)
	stop()
	if rerr := sr.failed(); rerr != nil {
		return fmt.Errorf("database %s: read dump: %w", pt.label, rerr)
	}
	if err != nil {
		return err
	}
	if err := sr.drain(); err != nil {
		return fmt.Errorf("database %s: read dump: %w", pt.label, err)
	}
	return nil
}

// swap puts tmp in place of name in one transaction. The live database
// first stops accepting connections and its sessions are terminated;
// both are undone if the swap fails.
func (p *Postgres) swap(ctx context.Context, pt pgTarget, maint, name, tmp, old string, live *pgDatabase) error {
	if live == nil {
		_, err := p.psql(ctx, pt, maint, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s;\n", quoteIdent(tmp), quoteIdent(name)))
		return err
	}
	// One psql run: refuse new connections, end the sessions, rename both.
	script := ""
	if live.AllowConn {
		script = fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS false;\n", quoteIdent(name))
	}
	script += fmt.Sprintf(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid();
BEGIN;
ALTER DATABASE %s RENAME TO %s;
ALTER DATABASE %s RENAME TO %s;
COMMIT;
`, quoteLiteral(name), quoteIdent(name), quoteIdent(old), quoteIdent(tmp), quoteIdent(name))
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		// A terminated session may take a moment to exit; the rename
		// itself waits up to 5 s for it, and we retry a few times.
		if _, err = p.psql(ctx, pt, maint, script); err == nil || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
	}
	if err != nil && live.AllowConn {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		_, _ = p.psql(cctx, pt, maint, fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true;\n", quoteIdent(name)))
	}
	return err
}

// drop drops db (terminating stray sessions on servers that can).
func (p *Postgres) drop(ctx context.Context, pt pgTarget, maint, db string, versionNum int) error {
	stmt := fmt.Sprintf("DROP DATABASE IF EXISTS %s", quoteIdent(db))
	if versionNum >= 130000 {
		stmt += " WITH (FORCE)"
	}
	_, err := p.psql(ctx, pt, maint, stmt+";\n")
	return err
}

// cleanupContext outlives ctx's cancellation, so that a cancelled restore
// still removes what it created.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// pgCreateSQL creates tmp for the restore. What belongs to the snapshot
// (owner, connection limit, ACL, settings, comment) comes from snap, the
// facts recorded at dump time, falling back to the live database; what
// belongs to this server (encoding, locale, tablespace) comes from the
// live database, falling back to snap. With neither, server defaults.
func pgCreateSQL(tmp string, live, snap *pgDatabase) string {
	props, place := snap, live
	if props == nil {
		props = live
	}
	if place == nil {
		place = snap
	}
	var b strings.Builder
	q := quoteIdent(tmp)
	fmt.Fprintf(&b, "CREATE DATABASE %s WITH TEMPLATE template0", q)
	if place != nil {
		fmt.Fprintf(&b, " ENCODING %s LC_COLLATE %s LC_CTYPE %s",
			quoteLiteral(place.Encoding), quoteLiteral(place.Collate), quoteLiteral(place.Ctype))
		switch place.Provider {
		case "i":
			fmt.Fprintf(&b, " LOCALE_PROVIDER icu ICU_LOCALE %s", quoteLiteral(place.Locale))
			if place.ICURules != "" {
				fmt.Fprintf(&b, " ICU_RULES %s", quoteLiteral(place.ICURules))
			}
		case "b":
			fmt.Fprintf(&b, " LOCALE_PROVIDER builtin BUILTIN_LOCALE %s", quoteLiteral(place.Locale))
		}
		if place == live && live.Tablespace != "" && live.Tablespace != "pg_default" {
			fmt.Fprintf(&b, " TABLESPACE %s", quoteIdent(live.Tablespace))
		}
	}
	if props == nil {
		b.WriteString(";\n")
		return b.String()
	}
	fmt.Fprintf(&b, " OWNER %s CONNECTION LIMIT %d;\n", quoteIdent(props.Owner), props.ConnLimit)
	if props.HasACL {
		fmt.Fprintf(&b, "REVOKE ALL ON DATABASE %s FROM PUBLIC;\nREVOKE ALL ON DATABASE %s FROM %s;\n", q, q, quoteIdent(props.Owner))
		for _, g := range props.ACL {
			to := "PUBLIC"
			if g.Grantee != nil {
				to = quoteIdent(*g.Grantee)
			}
			opt := ""
			if g.Grantable {
				opt = " WITH GRANT OPTION"
			}
			fmt.Fprintf(&b, "GRANT %s ON DATABASE %s TO %s%s;\n", g.Privilege, q, to, opt)
		}
	}
	for _, s := range props.Settings {
		in := ""
		if s.Role != nil {
			in = " IN ROLE " + quoteIdent(*s.Role)
		}
		for _, kv := range s.Config {
			k, v, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&b, "ALTER DATABASE %s%s SET %s TO %s;\n", q, in, quoteIdent(k), pgSettingValue(k, v))
		}
	}
	if props.Comment != nil {
		fmt.Fprintf(&b, "COMMENT ON DATABASE %s IS %s;\n", q, quoteLiteral(*props.Comment))
	}
	return b.String()
}

// pgSettingValue renders a stored setting for ALTER DATABASE … SET. List
// settings (search_path, …) are stored as an already quoted list and go
// back unquoted, like pg_dump does.
func pgSettingValue(k, v string) string {
	switch strings.ToLower(k) {
	case "search_path", "temp_tablespaces", "local_preload_libraries",
		"session_preload_libraries", "shared_preload_libraries", "unix_socket_directories":
		if v == "" {
			return "''"
		}
		return v
	}
	return quoteLiteral(v)
}

// pgName appends suffix to name, shortening name (on a UTF-8 boundary) so
// the result fits PostgreSQL's 63-byte identifiers instead of being
// silently truncated by the server.
func pgName(name, suffix string) string {
	const maxLen = 63
	if len(name)+len(suffix) > maxLen {
		cut := maxLen - len(suffix)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	return name + suffix
}

func randSuffix() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random name: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// readAhead reads sr into a read-ahead pipe on its own goroutine, so that
// a snapshot's dump is read (inflated, verified) while the tool and its
// server work on what came before, instead of only when the tool's 64 KiB
// stdin pipe runs dry. stop, called once the tool exited, ends the
// goroutine and waits for it; sr then knows whether the dump was read to a
// clean end (its rest is read by drain).
func readAhead(sr *stickyReader) (stdin io.Reader, stop func()) {
	pr, pw := gitsnap.NewReadAheadPipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := pw.ReadFrom(sr)
		pw.CloseWithError(err)
	}()
	return pr, func() {
		pr.CloseWithError(errToolDone) // unblocks a copy the tool stopped reading
		<-done
	}
}

// errToolDone is what the read-ahead goroutine sees when the tool exited
// before reading everything.
var errToolDone = errors.New("the tool exited")

// stickyReader remembers the first read error other than io.EOF, so an
// error the tool never reported (it stopped reading early, or it failed
// first) is still seen.
type stickyReader struct {
	mu  sync.Mutex // a tool's stdin copier may outlive Wait after WaitDelay
	r   io.Reader
	err error
	eof bool
}

func (s *stickyReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if s.eof {
		return 0, io.EOF
	}
	n, err := s.r.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		s.eof = true
	case err != nil:
		s.err = err
	}
	return n, err
}

// drain reads what the tool left unread up to EOF, returning the first
// read error.
func (s *stickyReader) drain() error {
	if _, err := io.Copy(io.Discard, s); err != nil {
		return err
	}
	return s.failed()
}

func (s *stickyReader) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
