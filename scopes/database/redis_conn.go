package database

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// redisURL is a parsed redis:// or rediss:// URL. The path names the
// database numbers to capture: "/0" (the default), or several as "/0,3".
// ?scratch_db=N chooses the database a restore loads into before swapping.
type redisURL struct {
	addr      string
	tls       bool
	user      string
	password  string
	hasPW     bool
	dbs       []int
	scratch   int // -1: pick the highest empty database
	dialLimit time.Duration
}

func parseRedisURL(s string) (redisURL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return redisURL{}, errors.New("not a Redis URL (want redis://[:password@]host:6379/0)")
	}
	r := redisURL{tls: u.Scheme == "rediss", scratch: -1, dialLimit: 10 * time.Second}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "6379"
	}
	r.addr = net.JoinHostPort(host, port)
	if u.User != nil {
		r.user = u.User.Username()
		r.password, r.hasPW = u.User.Password()
	}
	path := strings.Trim(u.Path, "/")
	if path == "" {
		path = "0"
	}
	seen := map[int]bool{}
	for _, p := range strings.Split(path, ",") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || seen[n] {
			return r, fmt.Errorf("bad database number %q in the Redis URL", p)
		}
		seen[n] = true
		r.dbs = append(r.dbs, n)
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "scratch_db":
			n, err := strconv.Atoi(q.Get(k))
			if err != nil || n < 0 || seen[n] {
				return r, errors.New("scratch_db must be a database number the URL does not capture")
			}
			r.scratch = n
		case "dial_timeout":
			d, err := time.ParseDuration(q.Get(k))
			if err != nil {
				return r, errors.New("bad dial_timeout in the Redis URL")
			}
			r.dialLimit = d
		default:
			return r, fmt.Errorf("unsupported connection parameter %q", k)
		}
	}
	return r, nil
}

// respConn is a minimal RESP2 client: enough for AUTH, SELECT, SCAN, DUMP,
// RESTORE and SWAPDB, with bulk replies streamed rather than buffered.
type respConn struct {
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	stop func() bool
}

// respError is an error reply from the server ("ERR …", "NOAUTH …").
type respError string

func (e respError) Error() string { return string(e) }

func dialRedis(ctx context.Context, u redisURL) (*respConn, error) {
	d := net.Dialer{Timeout: u.dialLimit}
	var c net.Conn
	var err error
	if u.tls {
		host, _, _ := net.SplitHostPort(u.addr)
		c, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", u.addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", u.addr)
	}
	if err != nil {
		return nil, err
	}
	rc := &respConn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10)}
	// A cancelled ctx unblocks any read or write in progress.
	rc.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	if u.hasPW {
		args := []string{"AUTH", u.password}
		if u.user != "" {
			args = []string{"AUTH", u.user, u.password}
		}
		if _, err := rc.do(args...); err != nil {
			rc.close()
			return nil, err
		}
	}
	return rc, nil
}

func (c *respConn) close() {
	c.stop()
	_ = c.c.Close()
}

// send buffers one command; flush sends what is buffered.
func (c *respConn) send(args ...string) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

func (c *respConn) flush() error { return c.w.Flush() }

// do sends one command and reads its reply.
func (c *respConn) do(args ...string) (any, error) {
	c.send(args...)
	if err := c.flush(); err != nil {
		return nil, err
	}
	return c.reply()
}

func (c *respConn) line() (byte, string, error) {
	l, err := c.r.ReadString('\n')
	if err != nil {
		return 0, "", err
	}
	l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
	if l == "" {
		return 0, "", errors.New("empty reply line from the server")
	}
	return l[0], l[1:], nil
}

// reply reads one reply: string (simple or bulk), int64, nil, []any, or
// a respError returned as the error.
func (c *respConn) reply() (any, error) {
	kind, rest, err := c.line()
	if err != nil {
		return nil, err
	}
	switch kind {
	case '+':
		return rest, nil
	case '-':
		return nil, respError(rest)
	case ':':
		return strconv.ParseInt(rest, 10, 64)
	case '$':
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.reply(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply type %q from the server", kind)
}

// bulkHeader reads the header of a bulk reply, leaving its payload to be
// streamed with payload; n < 0 means nil.
func (c *respConn) bulkHeader() (int64, error) {
	kind, rest, err := c.line()
	if err != nil {
		return 0, err
	}
	switch kind {
	case '-':
		return 0, respError(rest)
	case '$':
		return strconv.ParseInt(rest, 10, 64)
	}
	return 0, fmt.Errorf("unexpected reply type %q from the server", kind)
}

// payload copies the n bytes of a bulk reply (and its CRLF) to w.
func (c *respConn) payload(w io.Writer, n int64) error {
	if _, err := io.CopyN(w, c.r, n); err != nil {
		return err
	}
	_, err := c.r.Discard(2)
	return err
}

func replyInt(v any) int64 {
	n, _ := v.(int64)
	return n
}

func replyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = replyString(p)
		}
		return strings.Join(parts, " ")
	}
	return ""
}
