package database

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/git-snap/git-snap/gitsnap"
)

// errRedisStream marks a stream that is not a complete git-snap Redis dump.
var errRedisStream = errors.New("the dump is truncated or corrupt")

// redisLoad is one database section being loaded into a scratch database.
type redisLoad struct {
	target, scratch int
}

// Restore implements Driver: each database section of the stream is
// loaded into its own empty scratch database; only once the whole stream
// has been read without error (so its digest was verified) is each
// scratch database swapped with its target by SWAPDB, and the old keys
// (now in the scratch database) flushed asynchronously. Before the swap,
// any failure flushes the scratch databases and leaves the targets alone.
func (d *Redis) Restore(ctx context.Context, t Target, r io.Reader, recorded Info) error {
	s, err := d.open(ctx, t)
	if err != nil {
		return err
	}
	defer s.close()
	var dumpTime int64 = -1
	if v, err := strconv.ParseInt(recorded.Meta["dump_time_ms"], 10, 64); err == nil {
		dumpTime = v
	}
	sr := &stickyReader{r: r}
	br := bufio.NewReaderSize(sr, 64<<10)
	var loads []redisLoad
	swapped := false
	defer func() {
		if !swapped {
			s.flushScratch(ctx, loads)
		}
	}()
	err = s.load(ctx, br, dumpTime, &loads)
	if rerr := sr.failed(); rerr != nil {
		return fmt.Errorf("database %s: read dump: %w", s.label, rerr)
	}
	if err != nil {
		return err
	}
	if len(loads) != len(s.url.dbs) {
		return fmt.Errorf("database %s: the dump holds %d database(s), the URL names %d", s.label, len(loads), len(s.url.dbs))
	}
	swapped = true
	for _, l := range loads {
		if _, err := s.conn.do("SWAPDB", strconv.Itoa(l.scratch), strconv.Itoa(l.target)); err != nil {
			return s.fail(ctx, "SWAPDB", err)
		}
		if err := s.selectDB(ctx, l.scratch); err != nil {
			return err
		}
		if _, err := s.conn.do("FLUSHDB", "ASYNC"); err != nil {
			return s.fail(ctx, "FLUSHDB", err)
		}
	}
	return nil
}

// load reads the stream, restoring each section's keys into a scratch
// database (appended to loads as they are chosen).
func (s *redisSession) load(ctx context.Context, br *bufio.Reader, dumpTime int64, loads *[]redisLoad) error {
	corrupt := func(what string, err error) error {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("database %s: read dump: %w", s.label, err)
		}
		return gitsnap.WithHint(fmt.Errorf("database %s: %w: %s", s.label, errRedisStream, what),
			"run `git snap check --read-data`; the live database was left untouched")
	}
	magic := make([]byte, len(redisMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != redisMagic {
		return corrupt("not a git-snap Redis dump", err)
	}
	var keys uint64
	var p *redisPipe
	for {
		tag, err := br.ReadByte()
		if err != nil {
			return corrupt("missing end record", err)
		}
		switch tag {
		case 'D':
			if p != nil {
				if err := p.finish(); err != nil {
					return err
				}
			}
			var b [4]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return corrupt("cut in a database header", err)
			}
			if len(*loads) >= len(s.url.dbs) {
				return fmt.Errorf("database %s: the dump holds more databases than the URL names", s.label)
			}
			target := s.url.dbs[len(*loads)]
			scratch, err := s.pickScratch(ctx, *loads)
			if err != nil {
				return err
			}
			*loads = append(*loads, redisLoad{target: target, scratch: scratch})
			p = &redisPipe{s: s, ctx: ctx}
		case 'K':
			if p == nil {
				return corrupt("key before any database", nil)
			}
			if err := p.restoreKey(br, dumpTime); err != nil {
				if errors.Is(err, errRedisStream) {
					return corrupt("cut in a key record", err)
				}
				return err
			}
			keys++
		case 'E':
			var b [8]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return corrupt("cut in the end record", err)
			}
			if n := binary.BigEndian.Uint64(b[:]); n != keys {
				return corrupt(fmt.Sprintf("%d keys read, the end record says %d", keys, n), nil)
			}
			if p != nil {
				if err := p.finish(); err != nil {
					return err
				}
			}
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
				return corrupt("data after the end record", err)
			}
			return nil
		default:
			return corrupt(fmt.Sprintf("unknown record %q", tag), nil)
		}
	}
}

// pickScratch returns ?scratch_db=N, or the highest-numbered empty
// database that is neither a target nor already used.
func (s *redisSession) pickScratch(ctx context.Context, used []redisLoad) (int, error) {
	busy := map[int]bool{}
	for _, db := range s.url.dbs {
		busy[db] = true
	}
	for _, l := range used {
		busy[l.scratch] = true
	}
	candidates := []int{s.url.scratch}
	if s.url.scratch < 0 || len(used) > 0 {
		n := 16
		if v, err := s.conn.do("CONFIG", "GET", "databases"); err == nil {
			if parts, _ := v.([]any); len(parts) == 2 {
				if k, err := strconv.Atoi(replyString(parts[1])); err == nil {
					n = k
				}
			}
		}
		candidates = candidates[:0]
		for db := n - 1; db >= 0; db-- {
			candidates = append(candidates, db)
		}
	}
	for _, db := range candidates {
		if busy[db] {
			continue
		}
		if err := s.selectDB(ctx, db); err != nil {
			return 0, err
		}
		v, err := s.conn.do("DBSIZE")
		if err != nil {
			return 0, s.fail(ctx, "DBSIZE", err)
		}
		if replyInt(v) == 0 {
			return db, nil
		}
	}
	return 0, gitsnap.WithHint(fmt.Errorf("database %s: no empty database to restore into before the swap", s.label),
		"leave one database number unused (or name one with ?scratch_db=N in $%s)", s.envName)
}

// flushScratch empties the scratch databases of a failed restore, on a
// fresh connection (the old one may be mid-command or cancelled).
func (s *redisSession) flushScratch(ctx context.Context, loads []redisLoad) {
	if len(loads) == 0 {
		return
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	c, err := dialRedis(cctx, s.url)
	if err != nil {
		return
	}
	defer c.close()
	for _, l := range loads {
		if _, err := c.do("SELECT", strconv.Itoa(l.scratch)); err == nil {
			_, _ = c.do("FLUSHDB")
		}
	}
}

// redisPipe sends RESTORE commands with their payloads streamed from the
// dump, reading the replies every redisBatch commands.
type redisPipe struct {
	s       *redisSession
	ctx     context.Context
	pending int
}

func (p *redisPipe) restoreKey(br *bufio.Reader, dumpTime int64) error {
	var klen [4]byte
	if _, err := io.ReadFull(br, klen[:]); err != nil {
		return fmt.Errorf("%w: %w", errRedisStream, err)
	}
	key := make([]byte, binary.BigEndian.Uint32(klen[:]))
	var tail [16]byte
	if _, err := io.ReadFull(br, key); err != nil {
		return fmt.Errorf("%w: %w", errRedisStream, err)
	}
	if _, err := io.ReadFull(br, tail[:]); err != nil {
		return fmt.Errorf("%w: %w", errRedisStream, err)
	}
	expireAt := int64(binary.BigEndian.Uint64(tail[:8]))
	size := int64(binary.BigEndian.Uint64(tail[8:]))
	if size < 0 || size > 512<<20 {
		return fmt.Errorf("%w: bad payload size %d", errRedisStream, size)
	}
	ttl, abs := "0", false
	switch {
	case expireAt < 0:
	case dumpTime >= 0:
		ttl = strconv.FormatInt(max(expireAt-dumpTime, 1), 10)
	default:
		ttl, abs = strconv.FormatInt(expireAt, 10), true
	}
	c := p.s.conn
	args := 5
	if abs {
		args = 6
	}
	fmt.Fprintf(c.w, "*%d\r\n$7\r\nRESTORE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n", args, len(key), key, len(ttl), ttl, size)
	if _, err := io.CopyN(c.w, br, size); err != nil {
		return fmt.Errorf("%w: %w", errRedisStream, err)
	}
	_, _ = c.w.WriteString("\r\n$7\r\nREPLACE\r\n")
	if abs {
		_, _ = c.w.WriteString("$6\r\nABSTTL\r\n")
	}
	p.pending++
	if p.pending >= redisBatch {
		return p.finish()
	}
	return nil
}

// finish flushes the pipeline and checks every pending reply.
func (p *redisPipe) finish() error {
	c := p.s.conn
	if err := c.flush(); err != nil {
		return p.s.fail(p.ctx, "RESTORE", err)
	}
	var first error
	for ; p.pending > 0; p.pending-- {
		if _, err := c.reply(); err != nil && first == nil {
			first = err
			var re respError
			if !errors.As(err, &re) {
				return p.s.fail(p.ctx, "RESTORE", err)
			}
		}
	}
	if first != nil {
		return p.s.fail(p.ctx, "RESTORE", first)
	}
	return nil
}
