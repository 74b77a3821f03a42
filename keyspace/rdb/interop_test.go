package rdb

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/keyspace"
)

// fetchObject reads a key's contents from a server into an Object.
func fetchObject(ctx context.Context, c *redis.Client, key string) (*keyspace.Object, error) {
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	switch typ {
	case "string":
		v, err := c.Get(ctx, key).Result()
		return str(v), err
	case "list":
		v, err := c.LRange(ctx, key, 0, -1).Result()
		return list(v...), err
	case "set":
		v, err := c.SMembers(ctx, key).Result()
		return set(v...), err
	case "hash":
		m, err := c.HGetAll(ctx, key).Result()
		var kv []string
		for f, v := range m {
			kv = append(kv, f, v)
		}
		return hash(kv...), err
	case "zset":
		zs, err := c.ZRangeWithScores(ctx, key, 0, -1).Result()
		var es []keyspace.ZEntry
		for _, z := range zs {
			es = append(es, keyspace.ZEntry{Member: z.Member.(string), Score: z.Score})
		}
		return zset(es...), err
	}
	return nil, fmt.Errorf("unexpected type %q", typ)
}

// TestInteropLegacyEncodings checks the hand-built legacy encodings (and
// warden's own payloads) against a real Redis with deep payload sanitizing:
// if Redis accepts them and reads the same contents, the builders (and so
// the loader tests) follow Redis's formats.
func TestInteropLegacyEncodings(t *testing.T) {
	c := redistest.Start(t, "").Client(t, 0)
	ctx := context.Background()
	if err := c.ConfigSet(ctx, "sanitize-dump-payload", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	for _, lc := range legacyPayloads() {
		key := "legacy:" + lc.name
		if err := c.RestoreReplace(ctx, key, 0, string(payload(lc.typ, lc.body, 9))).Err(); err != nil {
			t.Errorf("%s: real Redis refused the payload: %v", lc.name, err)
			continue
		}
		got, err := fetchObject(ctx, c, key)
		if err != nil {
			t.Fatal(err)
		}
		if describe(got) != describe(lc.want) {
			t.Errorf("%s: real Redis reads\n %.300s\nwant %.300s", lc.name, describe(got), describe(lc.want))
		}
	}
	// warden's payloads, including every compact encoding it writes.
	objs := map[string]*keyspace.Object{
		"int": str("-123"), "lzf": str(strings.Repeat("compress me ", 30)), "raw": str(string(randBytes(300))),
		"smalllist": list("a", "1", "-4097", "70000", "9000000000", ""), "biglist": list(seq("element-", 3000)...),
		"hugeelem": list("a", strings.Repeat("h", 20000), "b"),
		"intset":   set("1", "-70000", "9223372036854775807"), "set": set(seq("m", 700)...),
		"smallhash": hash("a", "1", "b", "-2", "c", "x"), "bighash": hash(seq("f", 400)...),
		"smallzset": zset(keyspace.ZEntry{Member: "a", Score: 1.25}, keyspace.ZEntry{Member: "7", Score: -3}, keyspace.ZEntry{Member: "z", Score: 1e-7}),
		"bigzset":   bigZSet(300),
	}
	for name, o := range objs {
		if err := c.RestoreReplace(ctx, name, 0, string(DumpPayload(o))).Err(); err != nil {
			t.Errorf("%s: real Redis refused warden's payload: %v", name, err)
			continue
		}
		got, err := fetchObject(ctx, c, name)
		if err != nil {
			t.Fatal(err)
		}
		if describe(got) != describe(o) {
			t.Errorf("%s: real Redis reads\n %.300s\nwant %.300s", name, describe(got), describe(o))
		}
		// And Redis's own DUMP of it loads back here.
		p, err := c.Dump(ctx, name).Result()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePayload([]byte(p))
		if err != nil || describe(back) != describe(o) {
			t.Errorf("%s: Redis's DUMP parsed as %v, %v", name, back, err)
		}
	}
}
