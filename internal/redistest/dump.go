package redistest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Dump renders every key of databases 0..dbs-1 of the server at addr (a
// real Redis or warden) as sorted lines "db<n> <key> <type> <value> <ttl>",
// with collections in a canonical order and the TTL as none, ttl (at most an
// hour) or ttl>1h, so two data sets can be compared as strings.
func Dump(t testing.TB, addr string, dbs int) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	for db := 0; db < dbs; db++ {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db, Protocol: 2})
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			c.Close()
			t.Fatalf("KEYS on %s db %d: %v", addr, db, err)
		}
		for _, k := range keys {
			typ := c.Type(ctx, k).Val()
			var v any
			switch typ {
			case "string":
				v = c.Get(ctx, k).Val()
			case "list":
				v = c.LRange(ctx, k, 0, -1).Val()
			case "hash":
				var fs []string
				for f, x := range c.HGetAll(ctx, k).Val() {
					fs = append(fs, f+"="+x)
				}
				sort.Strings(fs)
				v = fs
			case "set":
				m := c.SMembers(ctx, k).Val()
				sort.Strings(m)
				v = m
			case "zset":
				v = c.ZRangeWithScores(ctx, k, 0, -1).Val()
			}
			ttl := "none"
			switch d := c.PTTL(ctx, k).Val(); {
			case d > time.Hour:
				ttl = "ttl>1h"
			case d > 0:
				ttl = "ttl"
			}
			lines = append(lines, fmt.Sprintf("db%d %q %s %v %s", db, k, typ, v, ttl))
		}
		c.Close()
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
