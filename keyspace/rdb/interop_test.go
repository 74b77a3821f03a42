package rdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/keyspace"
)

// startRealRedis runs redis-server on a free port in [lo, hi] for the test.
func startRealRedis(t *testing.T, lo, hi int) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not in PATH: interop test skipped")
	}
	for attempt := 0; attempt < 10; attempt++ {
		port := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting redis-server: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 2, DisableIndentity: true, MaxRetries: -1})
		ok := false
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if c.Ping(context.Background()).Err() == nil {
				ok = true
				break
			}
			select {
			case <-exited:
				deadline = time.Now() // port taken meanwhile: retry another
			case <-time.After(10 * time.Millisecond):
			}
		}
		if !ok {
			c.Close()
			cmd.Process.Kill()
			<-exited
			continue
		}
		t.Cleanup(func() {
			c.Close()
			cmd.Process.Kill()
			<-exited
		})
		return c
	}
	t.Fatal("could not start redis-server on a free port")
	return nil
}

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
	c := startRealRedis(t, 24000, 24499)
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
