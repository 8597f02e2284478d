package database

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/git-snap/git-snap/gitsnap"
)

func TestRedisInRealRepository(t *testing.T) {
	url, c, _ := redisTestDB(t)
	redisFixture(t, c)
	// About 4 MB of incompressible values, so the dump spans several chunks.
	for i := 0; i < 1000; i++ {
		raw, _ := hex.DecodeString(randomHex(t, 4000))
		c.send("SET", fmt.Sprintf("blob:%04d", i), string(raw))
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if _, err := c.reply(); err != nil {
			t.Fatal(err)
		}
	}
	// The state rounds TTLs to minutes: they tick during the test.
	state := func() string {
		s := redisState(t, c)
		lines := make([]string, 0, len(s))
		for k, v := range s {
			ttl := v.TTL
			if ttl > 0 {
				ttl = (ttl + int64(30*time.Second/time.Millisecond)) / int64(time.Minute/time.Millisecond)
			}
			lines = append(lines, fmt.Sprintf("%q %s %q %d", k, v.Type, v.Value, ttl))
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	db := gitsnap.DatabaseConfig{Name: "cache", Driver: "redis", SchemaVersion: "GET str"}
	manifest := coreRoundTrip(t, NewRedis(), db, url,
		func() { redisDo(t, c, "DEL", "blob:0001", "list"); redisDo(t, c, "SET", "str", "broken") },
		state)
	for _, want := range []string{`"schema_version": "hello"`, `"driver": "redis"`, `"dump_time_ms"`} {
		if !strings.Contains(manifest, want) {
			t.Errorf("manifest lacks %s:\n%s", want, manifest)
		}
	}
}
