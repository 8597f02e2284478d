package database

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
)

// Postgres is the "postgres" driver: pg_dump -Fc -Z0 to capture, pg_restore
// into a temporary database and ALTER DATABASE … RENAME to restore. It needs
// the PostgreSQL client tools (psql, pg_dump, pg_restore) on PATH.
type Postgres struct {
	run Runner

	mu     sync.Mutex
	recent map[string]recentFacts // by pgTarget.key
}

// recentFacts is what inspect read from a database a moment ago. A
// restore inspects the live database for its plan, then again for the
// held copy's record and for the temporary database's settings, a few
// milliseconds later: those two reuse the plan's facts while they are
// younger than recentFactsAge, instead of starting psql twice more on the
// restore's critical path. A swap forgets them.
type recentFacts struct {
	info Info
	at   time.Time
}

const recentFactsAge = 10 * time.Second

// NewPostgres returns the postgres driver running its tools through r.
func NewPostgres(r Runner) Driver { return &Postgres{run: r} }

var _ Driver = (*Postgres)(nil)

// Name implements Driver.
func (p *Postgres) Name() string { return "postgres" }

// pgTarget is a Target resolved for the postgres tools.
type pgTarget struct {
	conn    pgConn
	label   string // "main (postgres://u:xxxxx@h/db)"
	envName string // DATABASE_URL
	query   string // schema_version query
}

func resolvePostgres(t Target) (pgTarget, error) {
	pt := pgTarget{label: targetLabel(t), envName: targetEnvName(t), query: t.Config.SchemaVersion}
	if t.URL == "" {
		return pt, gitsnap.WithHint(fmt.Errorf("database %s: no connection string", pt.label),
			"set $%s to postgres://user@host:5432/dbname", pt.envName)
	}
	c, err := parsePostgresConn(t.URL)
	if err != nil {
		return pt, gitsnap.WithHint(fmt.Errorf("database %s: %w", pt.label, err),
			"set $%s to postgres://user@host:5432/dbname", pt.envName)
	}
	pt.conn = c
	return pt, nil
}

// psql runs one SQL script in db and returns its unaligned output.
// The script goes through stdin so no value is ever interpolated into argv.
func (p *Postgres) psql(ctx context.Context, pt pgTarget, db, script string) (string, error) {
	return toolRun{
		db:   pt.label,
		name: "psql",
		args: []string{"-X", "-q", "-A", "-t", "--no-password", "-v", "ON_ERROR_STOP=1", "-f", "-"},
		env:  pt.conn.environ(db), stdin: strings.NewReader(script),
		classify: pgClassify(pt.envName),
	}.output(ctx, p.run)
}

// pgFacts is what Inspect reads from the server.
type pgFacts struct {
	VersionNum int         `json:"version_num"`
	Version    string      `json:"version"`
	Size       int64       `json:"size"`
	Tables     []string    `json:"tables"`
	Database   *pgDatabase `json:"database"`
}

var pgInspectSQL = `SELECT json_build_object(
 'version_num', current_setting('server_version_num')::int,
 'version', current_setting('server_version'),
 'size', pg_database_size(current_database()),
 'tables', coalesce((SELECT json_agg(format('%I.%I', n.nspname, c.relname) ORDER BY n.nspname, c.relname)
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema'
     AND n.nspname !~ '^pg_(catalog|toast|temp_|toast_temp_)'), '[]'::json),
 'database', ` + fmt.Sprintf(pgDatabaseSQL, "d.datname = current_database()") + `);
`

// Inspect implements Driver: server version, database size, tables and
// the schema_version query's first row.
func (p *Postgres) Inspect(ctx context.Context, t Target) (Info, error) {
	pt, err := resolvePostgres(t)
	if err != nil {
		return Info{}, err
	}
	return p.inspect(ctx, pt)
}

func (p *Postgres) inspect(ctx context.Context, pt pgTarget) (Info, error) {
	out, err := p.psql(ctx, pt, pt.conn.dbname, pgInspectSQL)
	if err != nil {
		return Info{}, err
	}
	var f pgFacts
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &f); err != nil {
		return Info{}, fmt.Errorf("database %s: read server facts: %w", pt.label, err)
	}
	sort.Strings(f.Tables)
	info := Info{
		ServerVersion: "PostgreSQL " + strings.Fields(f.Version + " ?")[0],
		Size:          f.Size,
		Tables:        f.Tables,
		Meta: map[string]string{
			"server_version_num": strconv.Itoa(f.VersionNum),
		},
	}
	if f.Database != nil {
		b, err := json.Marshal(f.Database)
		if err != nil {
			return Info{}, fmt.Errorf("database %s: encode facts: %w", pt.label, err)
		}
		info.Meta["pg_database"] = string(b)
	}
	if pt.query != "" {
		v, err := p.psql(ctx, pt, pt.conn.dbname, pt.query+"\n;\n")
		if err != nil {
			return Info{}, fmt.Errorf("schema_version query: %w", err)
		}
		info.SchemaVersion = firstLine(v)
	}
	p.remember(pt, info)
	return info, nil
}

// key identifies a target's database and how it is reached.
func (pt pgTarget) key() string {
	env := pt.conn.environ(pt.conn.dbname)
	slices.Sort(env)
	return strings.Join(env, "\x00") + "\x00" + pt.query
}

func cloneInfo(info Info) Info {
	info.Tables = slices.Clone(info.Tables)
	info.Meta = maps.Clone(info.Meta)
	return info
}

func (p *Postgres) remember(pt pgTarget, info Info) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.recent == nil {
		p.recent = map[string]recentFacts{}
	}
	p.recent[pt.key()] = recentFacts{info: cloneInfo(info), at: time.Now()}
}

// recentInspect returns what inspect read from pt's database less than
// recentFactsAge ago, if anything.
func (p *Postgres) recentInspect(pt pgTarget) (Info, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.recent[pt.key()]
	if !ok || time.Since(f.at) >= recentFactsAge {
		return Info{}, false
	}
	return cloneInfo(f.info), true
}

// forget drops the facts of pt's database: it was swapped or dropped.
func (p *Postgres) forget(pt pgTarget) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.recent, pt.key())
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimLeft(s, "\n"), "\n")
	return strings.TrimSpace(l)
}

// Dump implements Driver: pg_dump -Fc -Z0 (custom format, uncompressed so
// chunks deduplicate) streamed to w. The archive's creation time is
// normalised (see pgStableHeader) so that an unchanged database dumps to
// identical bytes.
func (p *Postgres) Dump(ctx context.Context, t Target, w io.Writer) (Info, error) {
	pt, err := resolvePostgres(t)
	if err != nil {
		return Info{}, err
	}
	return p.dump(ctx, pt, w)
}

// dump is Dump of the database pt names.
//
// The facts (psql) are read while pg_dump runs, not before: that is one
// connection and process start less on the dump's critical path. If
// reading them fails, pg_dump is stopped and that error, which names the
// cause best (a missing database, a refused connection), is returned.
func (p *Postgres) dump(ctx context.Context, pt pgTarget, w io.Writer) (Info, error) {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type facts struct {
		info Info
		err  error
	}
	got := make(chan facts, 1)
	go func() {
		info, err := p.inspect(ctx, pt)
		if err != nil {
			cancel()
		}
		got <- facts{info, err}
	}()
	hw := &pgStableHeader{w: w}
	err := toolRun{
		db: pt.label, name: "pg_dump",
		args:   []string{"--format=custom", "--compress=0", "--no-password"},
		env:    pt.conn.environ(pt.conn.dbname),
		stdout: hw, classify: pgClassify(pt.envName),
	}.run(dctx, p.run)
	f := <-got
	if f.err != nil {
		return Info{}, f.err
	}
	info := f.info
	if err == nil {
		err = hw.flush()
	}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("database %s: dump: %w", pt.label, ctx.Err())
	}
	if err != nil {
		return Info{}, err
	}
	info.Meta["dump_format"] = "pg_dump custom, uncompressed"
	if hw.version != "" {
		info.Meta["archive_version"] = hw.version
	}
	return info, nil
}

// pgStableHeader passes a pg_dump custom-format archive through, replacing
// the creation time in its header (sec, min, hour, mday, mon, year, isdst)
// by 2000-01-01 00:00:00. That time is the only thing that differs between
// two dumps of an unchanged database; pg_restore only displays it. Archive
// versions 1.12 to 1.16 (PostgreSQL 11 to 17) are understood; anything else
// passes through unchanged.
type pgStableHeader struct {
	w       io.Writer
	head    []byte
	done    bool
	version string
}

// ReadFrom passes r through like Write. os/exec's copy of pg_dump's stdout
// calls it (through io.Copy), so once the header is rewritten the rest of
// the pipe goes to w's own ReadFrom: a read-ahead pipe then reads the
// tool's output straight into its buffer.
func (h *pgStableHeader) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	buf := make([]byte, 4096)
	for !h.done {
		n, err := r.Read(buf)
		if n > 0 {
			total += int64(n)
			if _, werr := h.Write(buf[:n]); werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	n, err := io.Copy(h.w, r)
	return total + n, err
}

// pgHeadFixed is the part of the header before the compression field:
// "PGDMP", vmaj, vmin, vrev, intSize, offSize, format.
const pgHeadFixed = 11

func (h *pgStableHeader) Write(p []byte) (int, error) {
	if h.done {
		return h.w.Write(p)
	}
	h.head = append(h.head, p...)
	need := h.headerLen()
	if need < 0 || len(h.head) < need {
		return len(p), nil
	}
	h.rewrite()
	if err := h.flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// headerLen is the byte count up to the end of the creation time, 0 when
// the header is not one we rewrite, -1 when more bytes are needed.
func (h *pgStableHeader) headerLen() int {
	if len(h.head) < pgHeadFixed {
		return -1
	}
	b := h.head
	vmaj, vmin, intSize, format := b[5], b[6], int(b[8]), b[10]
	if string(b[:5]) != "PGDMP" || vmaj != 1 || vmin < 12 || vmin > 16 || intSize < 1 || intSize > 8 || format != 1 {
		return 0
	}
	comp := 1 + intSize // WriteInt(compression) before 1.15
	if vmin >= 15 {
		comp = 1 // compression algorithm byte
	}
	return pgHeadFixed + comp + 7*(1+intSize)
}

func (h *pgStableHeader) rewrite() {
	need := h.headerLen()
	if need <= 0 {
		return
	}
	b := h.head
	intSize := int(b[8])
	h.version = fmt.Sprintf("%d.%d.%d", b[5], b[6], b[7])
	off := need - 7*(1+intSize)
	for range 7 {
		if b[off] > 1 { // not a sign byte: not the layout we know
			return
		}
		off += 1 + intSize
	}
	off = need - 7*(1+intSize)
	for _, v := range []byte{0, 0, 0, 1, 0, 100, 0} { // 2000-01-01 00:00:00, no DST
		b[off] = 0
		for i := 0; i < intSize; i++ {
			b[off+1+i] = 0
		}
		b[off+1] = v
		off += 1 + intSize
	}
}

// flush writes what is still buffered (a header that never completed, or
// the rewritten one).
func (h *pgStableHeader) flush() error {
	if h.done {
		return nil
	}
	h.done = true
	if len(h.head) == 0 {
		return nil
	}
	_, err := h.w.Write(h.head)
	h.head = nil
	return err
}
