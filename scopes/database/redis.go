package database

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/git-snap/git-snap/gitsnap"
)

// Redis is the "redis" driver. It speaks RESP to the server itself (no
// redis-cli needed). Dump writes every key of the configured databases, in
// byte order, with its DUMP payload and absolute expiry time, as a framed
// stream (see redisMagic). Restore loads the keys into an empty scratch
// database with RESTORE … REPLACE and swaps it with the target using
// SWAPDB (Redis 4.0+, not in cluster mode), so clients see the old
// keyspace or the new one, never a mix.
//
// Limits: the key names of a database are held in memory to be sorted
// (about 100 bytes per key); the dump is consistent per key but not a
// point-in-time image across keys (stop writers for that, with
// [restore].stop); the scratch database is ?scratch_db=N in the URL or
// else the highest-numbered empty database, which must not be in use.
type Redis struct{}

// NewRedis returns the redis driver. It needs no Runner: it runs no tool.
func NewRedis() Driver { return &Redis{} }

var _ Driver = (*Redis)(nil)

// Name implements Driver.
func (d *Redis) Name() string { return "redis" }

// The stream: redisMagic, then per database 'D' u32 number, then per key
// 'K' u32 len, key, i64 expiry (Unix ms, -1 none), u64 len, DUMP payload;
// and last 'E' u64 key count. Integers are big-endian. Expiry times are
// absolute so that an unchanged keyspace dumps to identical bytes; the
// server time of the dump is recorded in Info.Meta["dump_time_ms"], and
// Restore gives each key the time to live it had then.
const redisMagic = "GITSNAP-REDIS 1\n"

// redisBatch is how many keys are fetched or restored per round trip.
const redisBatch = 256

type redisSession struct {
	url     redisURL
	label   string
	envName string
	query   string
	conn    *respConn
	version int // major version
	// fullVersion is INFO's redis_version ("7.0.15").
	fullVersion string
}

func (d *Redis) open(ctx context.Context, t Target) (*redisSession, error) {
	s := &redisSession{label: targetLabel(t), envName: targetEnvName(t), query: t.Config.SchemaVersion}
	if t.URL == "" {
		return nil, gitsnap.WithHint(fmt.Errorf("database %s: no connection string", s.label), "set $%s to redis://host:6379/0", s.envName)
	}
	u, err := parseRedisURL(t.URL)
	if err != nil {
		return nil, gitsnap.WithHint(fmt.Errorf("database %s: %w", s.label, err), "set $%s to redis://[:password@]host:6379/0", s.envName)
	}
	s.url = u
	if s.conn, err = dialRedis(ctx, u); err != nil {
		return nil, s.fail(ctx, "connect", err)
	}
	v, err := s.conn.do("INFO", "server")
	if err != nil {
		s.conn.close()
		return nil, s.fail(ctx, "INFO", err)
	}
	for _, l := range strings.Split(replyString(v), "\n") {
		if ver, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			s.fullVersion = ver
			s.version, _ = strconv.Atoi(strings.SplitN(ver, ".", 2)[0])
		}
	}
	if s.version < 4 {
		s.conn.close()
		return nil, gitsnap.WithHint(fmt.Errorf("database %s: client/server version mismatch: Redis %q lacks SWAPDB", s.label, s.fullVersion),
			"upgrade the server to Redis 4.0 or newer")
	}
	return s, nil
}

func (s *redisSession) close() { s.conn.close() }

// fail turns a connection or server error into a one-line error with a hint.
func (s *redisSession) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("database %s: %s: %w", s.label, what, ctx.Err())
	}
	var re respError
	msg := oneLine(RedactText(err.Error()))
	cause, hint := "", ""
	switch {
	case !errors.As(err, &re):
		cause, hint = "server unreachable", fmt.Sprintf("is Redis running? check the host and port in $%s", s.envName)
	case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOAUTH"), strings.Contains(msg, "without any password configured"):
		cause, hint = "authentication failed", fmt.Sprintf("check the user and password in $%s", s.envName)
	case strings.HasPrefix(msg, "NOPERM"):
		cause, hint = "permission denied", "the ACL user needs SCAN, DUMP, PEXPIRETIME, RESTORE, SWAPDB, FLUSHDB, SELECT and INFO on all keys"
	case strings.Contains(msg, "DB index is out of range"):
		cause, hint = "database does not exist", fmt.Sprintf("the server has fewer databases (see its `databases` setting); fix the number in $%s", s.envName)
	case strings.Contains(msg, "payload version"):
		cause, hint = "the dump is corrupt or from a newer Redis", "run `git snap check --read-data`; a dump from a newer Redis needs a server at least as new"
	case strings.Contains(msg, "unknown command"), strings.Contains(msg, "cluster mode"):
		cause, hint = "client/server version mismatch", "restore needs Redis 4.0+ outside cluster mode, and a server at least as new as the one dumped"
	}
	e := fmt.Errorf("database %s: %s: %w", s.label, what, err)
	if cause != "" {
		e = fmt.Errorf("database %s: %s: %s: %w", s.label, cause, what, err)
	}
	if hint == "" {
		return e
	}
	return gitsnap.WithHint(e, "%s", hint)
}

// Inspect implements Driver: server version, key counts and the
// schema_version setting, which for Redis is a command such as
// "GET app:schema_version" run in the first configured database.
func (d *Redis) Inspect(ctx context.Context, t Target) (Info, error) {
	s, err := d.open(ctx, t)
	if err != nil {
		return Info{}, err
	}
	defer s.close()
	return s.inspect(ctx)
}

func (s *redisSession) inspect(ctx context.Context) (Info, error) {
	info := Info{ServerVersion: "Redis " + s.fullVersion, Meta: map[string]string{}}
	var keys int64
	var dbs []string
	for _, db := range s.url.dbs {
		if err := s.selectDB(ctx, db); err != nil {
			return Info{}, err
		}
		n, err := s.conn.do("DBSIZE")
		if err != nil {
			return Info{}, s.fail(ctx, "DBSIZE", err)
		}
		keys += replyInt(n)
		info.Tables = append(info.Tables, fmt.Sprintf("db%d", db))
		dbs = append(dbs, strconv.Itoa(db))
	}
	sort.Strings(info.Tables)
	info.Meta["keys"] = strconv.FormatInt(keys, 10)
	info.Meta["dbs"] = strings.Join(dbs, ",")
	if s.query != "" {
		if err := s.selectDB(ctx, s.url.dbs[0]); err != nil {
			return Info{}, err
		}
		v, err := s.conn.do(strings.Fields(s.query)...)
		if err != nil {
			return Info{}, fmt.Errorf("schema_version query: %w", s.fail(ctx, strings.Fields(s.query)[0], err))
		}
		info.SchemaVersion = replyString(v)
	}
	return info, nil
}

func (s *redisSession) selectDB(ctx context.Context, db int) error {
	if _, err := s.conn.do("SELECT", strconv.Itoa(db)); err != nil {
		return s.fail(ctx, fmt.Sprintf("SELECT %d", db), err)
	}
	return nil
}

// serverTimeMs reads the server clock (TIME), which expiry times use.
func (s *redisSession) serverTimeMs(ctx context.Context) (int64, error) {
	v, err := s.conn.do("TIME")
	if err != nil {
		return 0, s.fail(ctx, "TIME", err)
	}
	parts, _ := v.([]any)
	if len(parts) != 2 {
		return 0, fmt.Errorf("database %s: unexpected TIME reply", s.label)
	}
	sec, _ := strconv.ParseInt(replyString(parts[0]), 10, 64)
	usec, _ := strconv.ParseInt(replyString(parts[1]), 10, 64)
	return sec*1000 + usec/1000, nil
}

// Dump implements Driver.
func (d *Redis) Dump(ctx context.Context, t Target, w io.Writer) (Info, error) {
	s, err := d.open(ctx, t)
	if err != nil {
		return Info{}, err
	}
	defer s.close()
	info, err := s.inspect(ctx)
	if err != nil {
		return Info{}, err
	}
	now, err := s.serverTimeMs(ctx)
	if err != nil {
		return Info{}, err
	}
	bw := bufio.NewWriterSize(&dumpWriter{w: w, label: s.label}, 64<<10)
	if _, err := bw.WriteString(redisMagic); err != nil {
		return Info{}, err
	}
	var total uint64
	for _, db := range s.url.dbs {
		n, err := s.dumpDB(ctx, db, now, bw)
		if err != nil {
			return Info{}, err
		}
		total += n
	}
	var end [9]byte
	end[0] = 'E'
	binary.BigEndian.PutUint64(end[1:], total)
	if _, err := bw.Write(end[:]); err != nil {
		return Info{}, err
	}
	if err := bw.Flush(); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, fmt.Errorf("database %s: dump: %w", s.label, err)
	}
	info.Meta["keys"] = strconv.FormatUint(total, 10)
	info.Meta["dump_time_ms"] = strconv.FormatInt(now, 10)
	info.Meta["dump_format"] = "gitsnap redis stream 1 (DUMP payloads)"
	return info, nil
}

// dumpDB writes one database's section: its keys sorted, fetched
// redisBatch at a time with pipelined expiry and DUMP commands, payloads
// streamed from the connection to w.
func (s *redisSession) dumpDB(ctx context.Context, db int, now int64, w io.Writer) (uint64, error) {
	if err := s.selectDB(ctx, db); err != nil {
		return 0, err
	}
	keys, err := s.scanAll(ctx)
	if err != nil {
		return 0, err
	}
	var hdr [5]byte
	hdr[0] = 'D'
	binary.BigEndian.PutUint32(hdr[1:], uint32(db))
	if _, err := w.Write(hdr[:]); err != nil {
		return 0, err
	}
	var n uint64
	for start := 0; start < len(keys); start += redisBatch {
		batch := keys[start:min(start+redisBatch, len(keys))]
		for _, k := range batch {
			if s.version >= 7 {
				s.conn.send("PEXPIRETIME", k)
			} else {
				s.conn.send("PTTL", k)
			}
			s.conn.send("DUMP", k)
		}
		if err := s.conn.flush(); err != nil {
			return n, s.fail(ctx, "DUMP", err)
		}
		for _, k := range batch {
			exp, err := s.conn.reply()
			if err != nil {
				return n, s.fail(ctx, "PEXPIRETIME", err)
			}
			size, err := s.conn.bulkHeader()
			if err != nil {
				return n, s.fail(ctx, "DUMP", err)
			}
			if size < 0 { // the key went away since SCAN
				continue
			}
			at := replyInt(exp)
			if s.version < 7 && at >= 0 {
				at += now // PTTL is relative
			}
			if at < 0 {
				at = -1
			}
			if err := writeRedisKey(w, k, at, size); err != nil {
				return n, err
			}
			if err := s.conn.payload(w, size); err != nil {
				return n, s.fail(ctx, "DUMP", err)
			}
			n++
		}
	}
	return n, nil
}

// dumpWriter names the database in errors from the destination.
type dumpWriter struct {
	w     io.Writer
	label string
}

func (d *dumpWriter) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if err != nil {
		err = fmt.Errorf("database %s: write dump: %w", d.label, err)
	}
	return n, err
}

func writeRedisKey(w io.Writer, key string, expireAt, size int64) error {
	buf := make([]byte, 0, 21+len(key))
	buf = append(buf, 'K')
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(key)))
	buf = append(buf, key...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(expireAt))
	buf = binary.BigEndian.AppendUint64(buf, uint64(size))
	_, err := w.Write(buf)
	return err
}

// scanAll lists the selected database's keys, sorted and unique.
func (s *redisSession) scanAll(ctx context.Context) ([]string, error) {
	var keys []string
	cursor := "0"
	for {
		v, err := s.conn.do("SCAN", cursor, "COUNT", "1000")
		if err != nil {
			return nil, s.fail(ctx, "SCAN", err)
		}
		parts, _ := v.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("database %s: unexpected SCAN reply", s.label)
		}
		cursor = replyString(parts[0])
		batch, _ := parts[1].([]any)
		for _, k := range batch {
			keys = append(keys, replyString(k))
		}
		if cursor == "0" {
			break
		}
	}
	sort.Strings(keys)
	out := keys[:0]
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			out = append(out, k)
		}
	}
	return out, nil
}
