package node

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/keyspace/rdb"
)

// dumpDescribe renders a key's type and contents canonically.
func dumpDescribe(t *testing.T, c *redis.Client, key string) string {
	t.Helper()
	ctx := context.Background()
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		t.Fatalf("TYPE %s: %v", key, err)
	}
	var parts []string
	switch typ {
	case "none":
		return "none"
	case "string":
		return "string:" + strconv.Quote(c.Get(ctx, key).Val())
	case "list":
		for _, v := range c.LRange(ctx, key, 0, -1).Val() {
			parts = append(parts, strconv.Quote(v))
		}
		return "list:" + strings.Join(parts, ",")
	case "set":
		for _, v := range c.SMembers(ctx, key).Val() {
			parts = append(parts, strconv.Quote(v))
		}
	case "hash":
		for f, v := range c.HGetAll(ctx, key).Val() {
			parts = append(parts, strconv.Quote(f)+"="+strconv.Quote(v))
		}
	case "zset":
		for _, z := range c.ZRangeWithScores(ctx, key, 0, -1).Val() {
			parts = append(parts, fmt.Sprintf("%q=%v", z.Member, z.Score))
		}
		return "zset:" + strings.Join(parts, ",")
	}
	slices.Sort(parts)
	return typ + ":" + strings.Join(parts, ",")
}

// dumpPayload builds a DUMP payload from a type byte and body.
func dumpPayload(typ byte, body []byte) string {
	b := append([]byte{typ}, body...)
	b = binary.LittleEndian.AppendUint16(b, 10)
	return string(binary.LittleEndian.AppendUint64(b, rdb.CRC64(0, b)))
}

func TestDumpRestore(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.Set(ctx, "s", "hello", 0)
	p := c.Dump(ctx, "s").Val()
	badCRC := p[:len(p)-1] + string(p[len(p)-1]^1)
	newer := dumpPayload(0, []byte{1, 'x'})
	newer = newer[:len(newer)-10] + "\x0c\x00" + newer[len(newer)-8:]
	run(t, c, []step{
		{args: []any{"dump", "nokey"}, want: nil},
		{args: []any{"dump"}, wantErr: "ERR wrong number of arguments for 'dump' command"},
		{args: []any{"restore", "k", "0"}, wantErr: "ERR wrong number of arguments for 'restore' command"},
		{args: []any{"restore", "s", "0", p}, wantErr: "BUSYKEY Target key name already exists."},
		{args: []any{"restore", "k", "x", p}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"restore", "k", "-1", p}, wantErr: "ERR Invalid TTL value, must be >= 0"},
		{args: []any{"restore", "k", "0", badCRC}, wantErr: "ERR DUMP payload version or checksum are wrong"},
		{args: []any{"restore", "k", "0", "short"}, wantErr: "ERR DUMP payload version or checksum are wrong"},
		{args: []any{"restore", "k", "0", newer}, wantErr: "ERR DUMP payload version or checksum are wrong"},
		{args: []any{"restore", "k", "0", dumpPayload(0, []byte{5, 'x'})}, wantErr: "ERR Bad data format"},
		{args: []any{"restore", "k", "0", dumpPayload(15, []byte{0})}, wantErr: "ERR Bad data format"},
		{args: []any{"restore", "k", "0", dumpPayload(1, []byte{0})}, wantErr: "ERR Bad data format"},
		{args: []any{"restore", "k", "0", p, "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"restore", "k", "0", p, "idletime"}, wantErr: "ERR syntax error"},
		{args: []any{"restore", "k", "0", p, "idletime", "-1"}, wantErr: "ERR Invalid IDLETIME value, must be >= 0"},
		{args: []any{"restore", "k", "0", p, "idletime", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"restore", "k", "0", p, "freq", "256"}, wantErr: "ERR Invalid FREQ value, must be >= 0 and <= 255"},
		{args: []any{"restore", "k", "0", p, "freq", "-1"}, wantErr: "ERR Invalid FREQ value, must be >= 0 and <= 255"},
		{args: []any{"restore", "k", "0", p, "idletime", "5", "freq", "5"}, wantErr: "ERR syntax error"},
		{args: []any{"restore", "k", "0", p, "freq", "5", "idletime", "5"}, wantErr: "ERR syntax error"},
		{args: []any{"restore", "s", "x", p, "foo"}, wantErr: "ERR syntax error"}, // options first
		{args: []any{"restore", "s", "-1", p}, wantErr: "BUSYKEY"},                // then BUSYKEY
		{args: []any{"restore", "k", "0", p}, want: "OK"},
		{args: []any{"get", "k"}, want: "hello"},
		{args: []any{"ttl", "k"}, want: -1},
		{args: []any{"restore", "k", "0", dumpPayload(0, []byte{0xc0, 7}), "replace"}, want: "OK"},
		{args: []any{"get", "k"}, want: "7"},
		{args: []any{"restore", "t", "100000", p, "freq", "3"}, want: "OK"},
		{args: []any{"ttl", "t"}, want: 100},
		{args: []any{"restore", "old", "1", p, "absttl"}, want: "OK"}, // already expired: not created
		{args: []any{"exists", "old"}, want: 0},
		{args: []any{"restore", "k", "1", p, "absttl", "replace"}, want: "OK"}, // deletes k
		{args: []any{"exists", "k"}, want: 0},
		{args: []any{"restore", "k", "0", p, "REPLACE", "ABSTTL", "IDLETIME", "10"}, want: "OK"},
		{args: []any{"object", "idletime", "k"}, want: 10},
	})
	// ABSTTL in the future.
	at := time.Now().Add(time.Hour).UnixMilli()
	if err := c.Do(ctx, "restore", "a", at, p, "absttl").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Do(ctx, "pexpiretime", "a").Val(); got != at {
		t.Fatalf("PEXPIRETIME after RESTORE ABSTTL = %v, want %d", got, at)
	}
	// Propagation: relative TTLs become absolute; a restore that only
	// deletes propagates DEL.
	feed := captureWrites(s, true)
	before := time.Now().UnixMilli()
	c.Do(ctx, "restore", "r", "5000", p)
	got := feed.take()
	if len(got) != 1 {
		t.Fatalf("RESTORE propagated %q", got)
	}
	f := strings.Split(got[0], " ")
	abs, _ := strconv.ParseInt(f[2], 10, 64)
	if f[0] != "0:restore" || f[1] != "r" || abs < before+5000 || abs > time.Now().UnixMilli()+5000 || f[len(f)-1] != "ABSTTL" {
		t.Fatalf("RESTORE with TTL propagated %q", got)
	}
	c.Do(ctx, "restore", "r2", "0", p)
	if got := feed.take(); len(got) != 1 || !strings.HasPrefix(got[0], "0:restore r2 0 ") {
		t.Fatalf("RESTORE propagated %q", got)
	}
	c.Do(ctx, "restore", "r2", "1", p, "replace", "absttl")
	if got := feed.take(); !slices.Equal(got, []string{"0:DEL r2"}) {
		t.Fatalf("RESTORE in the past propagated %q", got)
	}
	c.Do(ctx, "restore", "r2", "1", p, "replace", "absttl")
	if got := feed.take(); len(got) != 0 {
		t.Fatalf("RESTORE that changed nothing propagated %q", got)
	}
}

// dumpFixtures fills a server with keys of every type, in both compact and
// full encodings, and returns the expected OBJECT ENCODING of each.
func dumpFixtures(t *testing.T, c *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	var big, longVals []any
	for i := 0; i < 1000; i++ {
		big = append(big, "element-"+strconv.Itoa(i)+strings.Repeat("x", i%50))
	}
	for i := 0; i < 3; i++ {
		longVals = append(longVals, strings.Repeat(string(rune('a'+i)), 20000))
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "str:int", "12345", 0).Err())
	must(c.Set(ctx, "str:neg", "-5", 0).Err())
	must(c.Set(ctx, "str:bigint", "9223372036854775807", 0).Err())
	must(c.Set(ctx, "str:zero-padded", "007", 0).Err())
	must(c.Set(ctx, "str:emb", "hello world", 0).Err())
	must(c.Set(ctx, "str:empty", "", 0).Err())
	must(c.Set(ctx, "str:lzf", strings.Repeat("compressible ", 100), 0).Err())
	rnd := make([]byte, 300)
	for i := range rnd {
		rnd[i] = byte(rand.Uint32())
	}
	must(c.Set(ctx, "str:binary", string(rnd), 0).Err())
	must(c.RPush(ctx, "list:small", "a", "1", "-1", "70000", "5000000000", "", "007").Err())
	must(c.RPush(ctx, "list:big", big...).Err())
	must(c.RPush(ctx, "list:huge", longVals...).Err())
	must(c.SAdd(ctx, "set:intset", "1", "2", "-3", "40000").Err())
	must(c.SAdd(ctx, "set:intset64", "1", "9223372036854775807", "-9223372036854775808").Err())
	must(c.SAdd(ctx, "set:strings", "a", "b", "c").Err())
	must(c.SAdd(ctx, "set:big", big...).Err())
	must(c.HSet(ctx, "hash:small", "f", "v", "n", "12", "e", "").Err())
	must(c.HSet(ctx, "hash:longval", "f", strings.Repeat("v", 100)).Err())
	var hkv []any
	for i := 0; i < 600; i++ {
		hkv = append(hkv, "field"+strconv.Itoa(i), i)
	}
	must(c.HSet(ctx, "hash:big", hkv...).Err())
	must(c.HSet(ctx, "hash:300", hkv[:600]...).Err())
	must(c.ZAdd(ctx, "zset:small", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"},
		redis.Z{Score: -3, Member: "100"}, redis.Z{Score: 1e100, Member: "c"}).Err())
	must(c.Do(ctx, "zadd", "zset:inf", "inf", "up", "-inf", "down", "0", "zero").Err())
	var zs []redis.Z
	for i := 0; i < 200; i++ {
		zs = append(zs, redis.Z{Score: float64(i) * 1.5, Member: "member" + strconv.Itoa(i)})
	}
	must(c.ZAdd(ctx, "zset:big", zs...).Err())
	must(c.ZAdd(ctx, "zset:longmember", redis.Z{Score: 1, Member: strings.Repeat("m", 100)}).Err())
	return map[string]string{
		"str:int": "int", "str:neg": "int", "str:bigint": "int", "str:zero-padded": "embstr", "str:emb": "embstr",
		"str:empty": "embstr", "str:lzf": "raw", "str:binary": "raw",
		"list:small": "quicklist", "list:big": "quicklist", "list:huge": "quicklist",
		"set:intset": "intset", "set:intset64": "intset", "set:strings": "hashtable", "set:big": "hashtable",
		"hash:small": "listpack", "hash:longval": "hashtable", "hash:big": "hashtable", "hash:300": "listpack",
		"zset:small": "listpack", "zset:inf": "listpack", "zset:big": "skiplist", "zset:longmember": "skiplist",
	}
}

// TestDumpInterop moves every kind of value between a real Redis and
// warden in both directions through DUMP / RESTORE.
func TestDumpInterop(t *testing.T) {
	real := redistest.Start(t, "").Client(t, 0)
	_, addr := startServer(t)
	w := newClient(t, addr)
	ctx := context.Background()
	encodings := dumpFixtures(t, real)
	for key, enc := range encodings {
		if got := real.ObjectEncoding(ctx, key).Val(); got != enc {
			t.Fatalf("real Redis encodes %s as %s, the fixture expects %s", key, got, enc)
		}
		want := dumpDescribe(t, real, key)
		// Redis -> warden.
		p, err := real.Dump(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Restore(ctx, key, time.Hour, p).Err(); err != nil {
			t.Errorf("%s (%s): warden refused Redis's payload: %v", key, enc, err)
			continue
		}
		if got := dumpDescribe(t, w, key); got != want {
			t.Errorf("%s (%s): warden restored\n %.200s\nwant %.200s", key, enc, got, want)
		}
		if ttl := w.TTL(ctx, key).Val(); ttl < 59*time.Minute {
			t.Errorf("%s: TTL after RESTORE = %v", key, ttl)
		}
		if got := w.ObjectEncoding(ctx, key).Val(); got != enc {
			t.Logf("%s: warden reports encoding %s, Redis %s", key, got, enc)
		}
		// warden -> Redis.
		p, err = w.Dump(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := real.Restore(ctx, "back:"+key, 0, p).Err(); err != nil {
			t.Errorf("%s (%s): real Redis refused warden's payload: %v", key, enc, err)
			continue
		}
		if got := dumpDescribe(t, real, "back:"+key); got != want {
			t.Errorf("%s (%s): real Redis restored warden's dump as\n %.200s\nwant %.200s", key, enc, got, want)
		}
		// Redis's deep sanitizer accepts warden's payload too.
		real.ConfigSet(ctx, "sanitize-dump-payload", "yes")
		if err := real.RestoreReplace(ctx, "back:"+key, 0, p).Err(); err != nil {
			t.Errorf("%s: sanitize-dump-payload yes refused warden's payload: %v", key, err)
		}
		real.ConfigSet(ctx, "sanitize-dump-payload", "no")
		if got := real.ObjectEncoding(ctx, "back:"+key).Val(); got != enc {
			t.Errorf("%s: restored in Redis with encoding %s, want %s", key, got, enc)
		}
	}
}

// TestDumpInteropKeysPatterns checks KEYS glob matching against real
// Redis on awkward patterns.
func TestDumpInteropKeysPatterns(t *testing.T) {
	real := redistest.Start(t, "").Client(t, 0)
	w, ctx := setup(t)
	names := []string{"", "a", "b", "ab", "abc", "a\\", "\\", "-", "]", "[", "^", "*", "?", "a-b", "\x90", "\xff", "A", "hello", "hallo", "h[llo", "a*b", "aXb"}
	for _, n := range names {
		real.Set(ctx, n, "v", 0)
		w.Set(ctx, n, "v", 0)
	}
	patterns := []string{"*", "**", "a*", "*b", "a*b", "?", "??", "[ab]", "[^ab]", "[a-b]", "[b-a]", "[abc", "[a-", "[", "\\", "a\\", "a\\\\",
		"[\\]]", "[a\\-z]", "[]", "[^]", "\\*", "\\?", "[*]", "h[^e]llo", "h\\[llo", "[\x80-\xff]", "[\x01-\x7f]", "*[", "a[", "[-]", "[]-]", "a*?b", "*?*"}
	for _, pat := range patterns {
		want := sortedReply(t, real, "keys", pat)
		got := sortedReply(t, w, "keys", pat)
		if !slices.Equal(got, want) {
			t.Errorf("KEYS %q: warden %q, Redis %q", pat, got, want)
		}
		// SCAN MATCH uses the same matcher.
		res, err := w.Do(ctx, "scan", "0", "match", pat, "count", "100000").Slice()
		if err != nil {
			t.Fatal(err)
		}
		var scanned []string
		for _, k := range res[1].([]any) {
			scanned = append(scanned, k.(string))
		}
		slices.Sort(scanned)
		if pat != "*" && !slices.Equal(scanned, want) {
			t.Errorf("SCAN MATCH %q: warden %q, Redis %q", pat, scanned, want)
		}
	}
}
