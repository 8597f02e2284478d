package database

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-snap/git-snap/gitsnap"
	"github.com/git-snap/git-snap/scopes/database/dbtest"
)

// redisTestURL is the server the Redis tests use; override with
// GITSNAP_TEST_REDIS_URL (its database number is replaced per test).
func redisTestURL(t *testing.T) redisURL {
	t.Helper()
	u, err := parseRedisURL(dbtest.Env("GITSNAP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
	if err != nil {
		t.Fatalf("GITSNAP_TEST_REDIS_URL: %v", err)
	}
	dbtest.RequireService(t, "Redis", u.addr)
	return u
}

func redisDial(t *testing.T, u redisURL, db int) *respConn {
	t.Helper()
	c, err := dialRedis(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	redisDo(t, c, "SELECT", strconv.Itoa(db))
	return c
}

func redisDo(t *testing.T, c *respConn, args ...string) any {
	t.Helper()
	v, err := c.do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// redisTestDB claims an empty database number (a claim key written with
// NX in an empty database, kept as part of the test's data), flushed when
// the test ends, and returns its URL and a connection to it.
func redisTestDB(t *testing.T) (string, *respConn, int) {
	t.Helper()
	u := redisTestURL(t)
	claim := dbtest.UniqueName(t, "claim")
	for db := 1; db < 14; db++ {
		c := redisDial(t, u, db)
		if replyInt(redisDo(t, c, "DBSIZE")) != 0 {
			continue
		}
		redisDo(t, c, "SET", claim, "1", "NX")
		if replyInt(redisDo(t, c, "DBSIZE")) != 1 {
			redisDo(t, c, "DEL", claim)
			continue
		}
		// The claim key stays: the database is not empty, so neither
		// another test nor a restore's scratch choice takes it.
		t.Cleanup(func() { _, _ = c.do("FLUSHDB") })
		pw := ""
		if u.hasPW {
			pw = ":" + u.password + "@"
		}
		return fmt.Sprintf("redis://%s%s/%d", pw, u.addr, db), c, db
	}
	t.Fatal("no empty Redis database to test in")
	return "", nil, 0
}

// redisFixture writes every value type, binary keys and values, keys
// with and without TTLs, a value larger than the buffers, and enough
// keys to span several batches.
func redisFixture(t *testing.T, c *respConn) {
	t.Helper()
	redisDo(t, c, "SET", "str", "hello")
	redisDo(t, c, "SET", "bin\x00key\xff", "v\x00\r\n\xfe")
	redisDo(t, c, "SET", "big", strings.Repeat("0123456789abcdef", 20000)) // 320 KB
	redisDo(t, c, "RPUSH", "list", "a", "b", "c", "a")
	redisDo(t, c, "SADD", "set", "x", "y", "z")
	redisDo(t, c, "HSET", "hash", "f1", "v1", "f2", "v2")
	redisDo(t, c, "ZADD", "zset", "1.5", "one", "2", "two")
	redisDo(t, c, "XADD", "stream", "1-1", "field", "value")
	redisDo(t, c, "SET", "ttl:long", "1", "PX", "3600000")
	redisDo(t, c, "SET", "ttl:short", "2", "PX", "600000")
	for i := 0; i < 700; i++ {
		c.send("SET", fmt.Sprintf("k:%04d", i), strconv.Itoa(i*i))
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 700; i++ {
		if _, err := c.reply(); err != nil {
			t.Fatal(err)
		}
	}
}

// redisState reads every key's type, value and time to live.
type redisKey struct {
	Type, Value string
	TTL         int64 // ms, -1 none
}

func redisState(t *testing.T, c *respConn) map[string]redisKey {
	t.Helper()
	out := map[string]redisKey{}
	for _, k := range redisKeys(t, c) {
		typ := replyString(redisDo(t, c, "TYPE", k))
		var val any
		switch typ {
		case "string":
			val = redisDo(t, c, "GET", k)
		case "list":
			val = redisDo(t, c, "LRANGE", k, "0", "-1")
		case "set":
			m := redisDo(t, c, "SMEMBERS", k).([]any)
			sort.Slice(m, func(i, j int) bool { return replyString(m[i]) < replyString(m[j]) })
			val = m
		case "hash":
			val = redisDo(t, c, "HGETALL", k) // small hashes: listpack order is stable
		case "zset":
			val = redisDo(t, c, "ZRANGE", k, "0", "-1", "WITHSCORES")
		case "stream":
			val = fmt.Sprint(redisDo(t, c, "XRANGE", k, "-", "+"))
		}
		out[k] = redisKey{Type: typ, Value: replyString(val), TTL: replyInt(redisDo(t, c, "PTTL", k))}
	}
	return out
}

func redisKeys(t *testing.T, c *respConn) []string {
	t.Helper()
	var keys []string
	for _, k := range redisDo(t, c, "KEYS", "*").([]any) {
		keys = append(keys, replyString(k))
	}
	sort.Strings(keys)
	return keys
}

// redisEqual compares states, TTLs within tolerance.
func redisEqual(t *testing.T, want, got map[string]redisKey, tolerance time.Duration) {
	t.Helper()
	opt := cmp.Comparer(func(a, b redisKey) bool {
		if a.Type != b.Type || a.Value != b.Value || (a.TTL < 0) != (b.TTL < 0) {
			return false
		}
		d := a.TTL - b.TTL
		return d < int64(tolerance/time.Millisecond) && -d < int64(tolerance/time.Millisecond)
	})
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("keyspace differs (-want +got):\n%s", diff)
	}
}

// redisSizes is the key count of every database but skip, to prove a
// restore left no scratch keys behind.
func redisSizes(t *testing.T, skip int) map[int]int64 {
	t.Helper()
	u := redisTestURL(t)
	c, err := dialRedis(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	out := map[int]int64{}
	for db := 0; db < 16; db++ {
		if db == skip {
			continue
		}
		redisDo(t, c, "SELECT", strconv.Itoa(db))
		out[db] = replyInt(redisDo(t, c, "DBSIZE"))
	}
	return out
}

func redisTestTarget(url string) Target {
	return Target{Config: gitsnap.DatabaseConfig{Name: "cache", Driver: "redis", SchemaVersion: "GET str"}, URL: url}
}

func TestRedisRoundTrip(t *testing.T) {
	ctx := context.Background()
	url, c, db := redisTestDB(t)
	redisFixture(t, c)
	want := redisState(t, c)
	d := NewRedis()
	var dump bytes.Buffer
	info, err := d.Dump(ctx, redisTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.ServerVersion, "Redis ") || info.SchemaVersion != "hello" || info.Meta["keys"] != strconv.Itoa(len(want)) ||
		!cmp.Equal(info.Tables, []string{fmt.Sprintf("db%d", db)}) {
		t.Errorf("info = %+v", info)
	}
	others := redisSizes(t, db)

	// Damage: delete, change, add keys and TTLs; then let time pass, which
	// must not shorten the restored TTLs (they are those of dump time).
	redisDo(t, c, "DEL", "list", "k:0001")
	redisDo(t, c, "SET", "str", "changed")
	redisDo(t, c, "SADD", "set", "w")
	redisDo(t, c, "PERSIST", "ttl:long")
	redisDo(t, c, "SET", "extra", "1", "PX", "100000")
	time.Sleep(1500 * time.Millisecond)

	start := time.Now()
	if err := d.Restore(ctx, redisTestTarget(url), bytes.NewReader(dump.Bytes()), info); err != nil {
		t.Fatal(err)
	}
	t.Logf("restore of %d keys (%d bytes) took %v", len(want), dump.Len(), time.Since(start))
	redisEqual(t, want, redisState(t, c), time.Second)
	if diff := cmp.Diff(others, redisSizes(t, db)); diff != "" {
		t.Errorf("other databases changed (scratch left behind?) (-want +got):\n%s", diff)
	}
}

func TestRedisDumpDeterministic(t *testing.T) {
	url, c, _ := redisTestDB(t)
	redisFixture(t, c)
	d := NewRedis()
	var a, b bytes.Buffer
	if _, err := d.Dump(context.Background(), redisTestTarget(url), &a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // TTLs tick; expiry times do not
	if _, err := d.Dump(context.Background(), redisTestTarget(url), &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two dumps of an unchanged keyspace differ (%d and %d bytes)", a.Len(), b.Len())
	}
}

func TestRedisFailedRestoreKeepsLive(t *testing.T) {
	url, c, db := redisTestDB(t)
	redisFixture(t, c)
	d := NewRedis()
	var dump bytes.Buffer
	info, err := d.Dump(context.Background(), redisTestTarget(url), &dump)
	if err != nil {
		t.Fatal(err)
	}
	redisDo(t, c, "SET", "after-dump", "1")
	want := redisState(t, c)
	others := redisSizes(t, db)
	full := dump.Bytes()
	tests := []struct {
		name    string
		reader  func(ctx context.Context, cancel context.CancelFunc) io.Reader
		wantErr string
		is      error
	}{
		{"truncated", func(context.Context, context.CancelFunc) io.Reader { return bytes.NewReader(full[:len(full)*6/10]) }, "truncated or corrupt", errRedisStream},
		{"cut before the end record", func(context.Context, context.CancelFunc) io.Reader { return bytes.NewReader(full[:len(full)-9]) }, "missing end record", errRedisStream},
		{"not a dump", func(context.Context, context.CancelFunc) io.Reader { return strings.NewReader("REDIS0011 rdb file") }, "not a git-snap Redis dump", errRedisStream},
		{"corrupt payload", func(context.Context, context.CancelFunc) io.Reader {
			bad := bytes.Clone(full)
			i := bytes.Index(bad, []byte("hello")) // the payload of "str"
			bad[i] ^= 0xff
			return bytes.NewReader(bad)
		}, "RESTORE", nil},
		{"digest mismatch at EOF", func(context.Context, context.CancelFunc) io.Reader {
			return &failAfter{r: bytes.NewReader(full), err: fmt.Errorf("chunk 0: %w", gitsnap.ErrIntegrity)}
		}, "", gitsnap.ErrIntegrity},
		{"cancelled midway", func(ctx context.Context, cancel context.CancelFunc) io.Reader {
			return &blockAfter{r: bytes.NewReader(full), n: len(full) / 2, ctx: ctx, cancel: cancel}
		}, "", context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := d.Restore(ctx, redisTestTarget(url), tc.reader(ctx, cancel), info)
			if err == nil {
				t.Fatal("restore succeeded")
			}
			t.Logf("error: %v", err)
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error lacks %q", tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
			redisEqual(t, want, redisState(t, c), 5*time.Second)
			if diff := cmp.Diff(others, redisSizes(t, db)); diff != "" {
				t.Errorf("scratch database left with keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		in      string
		want    redisURL
		wantErr string
	}{
		{in: "redis://:s3cret@cache:6380/2", want: redisURL{addr: "cache:6380", password: "s3cret", hasPW: true, dbs: []int{2}, scratch: -1}},
		{in: "rediss://app:pw@cache", want: redisURL{addr: "cache:6379", tls: true, user: "app", password: "pw", hasPW: true, dbs: []int{0}, scratch: -1}},
		{in: "redis://h/0,3?scratch_db=9", want: redisURL{addr: "h:6379", dbs: []int{0, 3}, scratch: 9}},
		{in: "redis://h/x", wantErr: "bad database number"},
		{in: "redis://h/1?scratch_db=1", wantErr: "scratch_db"},
		{in: "redis://h/1?bogus=1", wantErr: "unsupported connection parameter"},
		{in: "postgres://h/1", wantErr: "not a Redis URL"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRedisURL(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.dialLimit = 0
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(redisURL{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// fakeRedis serves INFO with the given version and fails everything else,
// for the version check.
func fakeRedis(t *testing.T, version string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				rc := &respConn{r: bufio.NewReader(conn)}
				for {
					if _, err := rc.reply(); err != nil {
						return
					}
					body := "# Server\r\nredis_version:" + version + "\r\n"
					fmt.Fprintf(conn, "$%d\r\n%s\r\n", len(body), body)
				}
			}()
		}
	}()
	return "redis://:s3cret@" + l.Addr().String() + "/0"
}

func TestRedisErrors(t *testing.T) {
	url, _, _ := redisTestDB(t)
	u := redisTestURL(t)
	tests := []struct {
		name string
		url  string
		op   string
		want []string
		hint string
	}{
		{name: "unreachable", url: "redis://:s3cret@127.0.0.1:1/0", op: "dump", want: []string{"server unreachable", "connection refused"}, hint: "is Redis running"},
		{name: "authentication", url: "redis://:s3cret@" + u.addr + "/0", op: "inspect", want: []string{"authentication failed"}, hint: "$CACHE_URL"},
		{name: "database does not exist", url: "redis://" + u.addr + "/999", op: "dump", want: []string{"database does not exist", "SELECT 999"}, hint: "databases"},
		{name: "version mismatch", url: fakeRedis(t, "3.2.12"), op: "inspect", want: []string{"client/server version mismatch", "3.2.12"}, hint: "4.0"},
		{name: "scratch not empty", url: url + "?scratch_db=" + strconv.Itoa(redisNonEmpty(t)), op: "restore", want: []string{"no empty database"}, hint: "scratch_db"},
		{name: "bad URL", url: "redis://:s3cret@h/x", op: "dump", want: []string{"bad database number"}, hint: "$CACHE_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if u.hasPW && tc.name == "authentication" {
				t.Skip("the test server has a password")
			}
			d := NewRedis()
			tgt := Target{Config: gitsnap.DatabaseConfig{Name: "cache", URLEnv: "CACHE_URL"}, URL: tc.url}
			var err error
			switch tc.op {
			case "dump":
				_, err = d.Dump(context.Background(), tgt, io.Discard)
			case "restore":
				var dump bytes.Buffer
				info, derr := d.Dump(context.Background(), Target{URL: url}, &dump)
				if derr != nil {
					t.Fatal(derr)
				}
				err = d.Restore(context.Background(), tgt, &dump, info)
			default:
				_, err = d.Inspect(context.Background(), tgt)
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Logf("%v\nhint: %s", msg, gitsnap.HintOf(err))
			for _, w := range append([]string{"database cache (redis://"}, tc.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q", w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "s3cret") {
				t.Errorf("error spans lines or leaks the password: %q", msg)
			}
			if h := gitsnap.HintOf(err); !strings.Contains(h, tc.hint) {
				t.Errorf("hint %q lacks %q", h, tc.hint)
			}
		})
	}
}

// redisNonEmpty returns a database number holding a key (claiming one).
func redisNonEmpty(t *testing.T) int {
	t.Helper()
	_, c, db := redisTestDB(t)
	redisDo(t, c, "SET", "occupied", "1")
	return db
}

func TestRedisDumpCancelled(t *testing.T) {
	url, c, _ := redisTestDB(t)
	redisFixture(t, c)
	dumpCancelled(t, NewRedis(), redisTestTarget(url))
}
