package node

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestKeysBasic(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.Set(ctx, "str", "v", 0)
	c.RPush(ctx, "list", "a", "b")
	c.HSet(ctx, "hash", "f", "v")
	c.SAdd(ctx, "set", "m")
	c.ZAdd(ctx, "zset", redis.Z{Score: 1, Member: "m"})
	c.Set(ctx, "gone", "v", 0)
	expireNow(t, s, 0, "gone")
	run(t, c, []step{
		{args: []any{"exists", "str", "str", "nokey", "list", "gone"}, want: 3},
		{args: []any{"exists", "nokey"}, want: 0},
		{args: []any{"exists"}, wantErr: "ERR wrong number of arguments for 'exists' command"},
		{args: []any{"type", "str"}, want: "string"},
		{args: []any{"type", "list"}, want: "list"},
		{args: []any{"type", "hash"}, want: "hash"},
		{args: []any{"type", "set"}, want: "set"},
		{args: []any{"type", "zset"}, want: "zset"},
		{args: []any{"type", "nokey"}, want: "none"},
		{args: []any{"type", "gone"}, want: "none"},
		{args: []any{"type"}, wantErr: "ERR wrong number of arguments for 'type' command"},
		{args: []any{"type", "a", "b"}, wantErr: "ERR wrong number of arguments for 'type' command"},
		{args: []any{"touch", "str", "list", "nokey", "str"}, want: 3},
		{args: []any{"touch"}, wantErr: "ERR wrong number of arguments for 'touch' command"},
		{args: []any{"del", "str", "nokey", "str"}, want: 1},
		{args: []any{"del", "nokey"}, want: 0},
		{args: []any{"unlink", "list", "hash", "nokey"}, want: 2},
		{args: []any{"del"}, wantErr: "ERR wrong number of arguments for 'del' command"},
		{args: []any{"unlink"}, wantErr: "ERR wrong number of arguments for 'unlink' command"},
		{args: []any{"exists", "str", "list", "hash", "set", "zset"}, want: 2},
		{args: []any{"keys"}, wantErr: "ERR wrong number of arguments for 'keys' command"},
		{args: []any{"randomkey", "x"}, wantErr: "ERR wrong number of arguments for 'randomkey' command"},
		// RENAME / RENAMENX
		{args: []any{"rename", "nokey", "x"}, wantErr: "ERR no such key"},
		{args: []any{"renamenx", "nokey", "x"}, wantErr: "ERR no such key"},
		{args: []any{"rename", "gone", "x"}, wantErr: "ERR no such key"},
		{args: []any{"set", "a", "1"}, want: "OK"},
		{args: []any{"rename", "a", "a"}, want: "OK"},
		{args: []any{"renamenx", "a", "a"}, want: 0},
		{args: []any{"pexpire", "a", "100000"}, want: 1},
		{args: []any{"rename", "a", "b"}, want: "OK"},
		{args: []any{"exists", "a"}, want: 0},
		{args: []any{"get", "b"}, want: "1"},
		{args: []any{"set", "c", "3"}, want: "OK"},
		{args: []any{"renamenx", "b", "c"}, want: 0},
		{args: []any{"renamenx", "b", "d"}, want: 1},
		{args: []any{"rename", "c", "d"}, want: "OK"},
		{args: []any{"get", "d"}, want: "3"},
		{args: []any{"ttl", "d"}, want: -1}, // the source's (absent) TTL wins
		{args: []any{"rename", "set", "d"}, want: "OK"},
		{args: []any{"type", "d"}, want: "set"},
		{args: []any{"rename", "d"}, wantErr: "ERR wrong number of arguments for 'rename' command"},
		// PERSIST
		{args: []any{"set", "p", "v", "ex", "100"}, want: "OK"},
		{args: []any{"persist", "p"}, want: 1},
		{args: []any{"persist", "p"}, want: 0},
		{args: []any{"persist", "nokey"}, want: 0},
		{args: []any{"ttl", "p"}, want: -1},
	})
	// RENAME keeps the TTL of the source.
	c.Set(ctx, "t1", "v", time.Hour)
	c.Rename(ctx, "t1", "t2")
	if ttl := c.PTTL(ctx, "t2").Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL after RENAME = %v", ttl)
	}
}

func TestKeysExpire(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	far := time.Now().Add(time.Hour).Unix()
	run(t, c, []step{
		{args: []any{"ttl", "nokey"}, want: -2},
		{args: []any{"pttl", "nokey"}, want: -2},
		{args: []any{"expiretime", "nokey"}, want: -2},
		{args: []any{"pexpiretime", "nokey"}, want: -2},
		{args: []any{"ttl", "k"}, want: -1},
		{args: []any{"pttl", "k"}, want: -1},
		{args: []any{"expiretime", "k"}, want: -1},
		{args: []any{"pexpiretime", "k"}, want: -1},
		{args: []any{"expire", "nokey", "10"}, want: 0},
		{args: []any{"expire", "k", "10", "nx", "xx"}, wantErr: "ERR NX and XX, GT or LT options at the same time are not compatible"},
		{args: []any{"expire", "k", "10", "nx", "gt"}, wantErr: "ERR NX and XX, GT or LT options at the same time are not compatible"},
		{args: []any{"expire", "k", "10", "lt", "nx"}, wantErr: "ERR NX and XX, GT or LT options at the same time are not compatible"},
		{args: []any{"expire", "k", "10", "gt", "lt"}, wantErr: "ERR GT and LT options at the same time are not compatible"},
		{args: []any{"expire", "k", "10", "foo"}, wantErr: "ERR Unsupported option foo"},
		{args: []any{"expire", "k", "x", "nx", "xx"}, wantErr: "ERR NX and XX, GT or LT options at the same time are not compatible"},
		{args: []any{"expire", "k", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"expire", "k", "99999999999999999"}, wantErr: "ERR invalid expire time in 'expire' command"},
		{args: []any{"expire", "k", "-99999999999999999"}, wantErr: "ERR invalid expire time in 'expire' command"},
		{args: []any{"pexpire", "k", "9223372036854775807"}, wantErr: "ERR invalid expire time in 'pexpire' command"},
		{args: []any{"expireat", "k", "9223372036854775807"}, wantErr: "ERR invalid expire time in 'expireat' command"},
		{args: []any{"pexpireat", "k", "9223372036854775807"}, want: 1},
		{args: []any{"persist", "k"}, want: 1},
		{args: []any{"expire", "k"}, wantErr: "ERR wrong number of arguments for 'expire' command"},
		{args: []any{"expire", "k", "100", "xx"}, want: 0}, // no TTL yet
		{args: []any{"expire", "k", "100", "gt"}, want: 0}, // no TTL = infinite
		{args: []any{"expire", "k", "100", "nx"}, want: 1},
		{args: []any{"expire", "k", "200", "nx"}, want: 0},
		{args: []any{"ttl", "k"}, want: 100},
		{args: []any{"expire", "k", "50", "gt"}, want: 0},
		{args: []any{"expire", "k", "200", "gt"}, want: 1},
		{args: []any{"ttl", "k"}, want: 200},
		{args: []any{"expire", "k", "300", "lt"}, want: 0},
		{args: []any{"expire", "k", "150", "lt", "xx"}, want: 1},
		{args: []any{"ttl", "k"}, want: 150},
		{args: []any{"pexpire", "k", "5000"}, want: 1},
		{args: []any{"ttl", "k"}, want: 5},
		{args: []any{"expireat", "k", far}, want: 1},
		{args: []any{"expiretime", "k"}, want: far},
		{args: []any{"pexpiretime", "k"}, want: far * 1000},
		{args: []any{"pexpireat", "k", far*1000 + 1}, want: 1},
		{args: []any{"pexpiretime", "k"}, want: far*1000 + 1},
		{args: []any{"expiretime", "k"}, want: far}, // rounded to the nearest second
		{args: []any{"set", "n", "v"}, want: "OK"},
		{args: []any{"expire", "n", "-5", "lt"}, want: 1}, // no TTL counts as infinite: LT passes
		{args: []any{"exists", "n"}, want: 0},
		{args: []any{"set", "z", "v"}, want: "OK"},
		{args: []any{"expire", "z", "0"}, want: 1},
		{args: []any{"exists", "z"}, want: 0},
		{args: []any{"set", "z", "v"}, want: "OK"},
		{args: []any{"pexpireat", "z", "1"}, want: 1},
		{args: []any{"get", "z"}, want: nil},
	})
	// PTTL is in milliseconds, TTL rounds. Inside one EXEC the clock stands
	// still, so the values are exact whatever the machine's load.
	var pttl, ttl *redis.IntCmd
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.PExpire(ctx, "k", 1600*time.Millisecond)
		pttl = redis.NewIntCmd(ctx, "pttl", "k")
		p.Process(ctx, pttl)
		ttl = redis.NewIntCmd(ctx, "ttl", "k")
		p.Process(ctx, ttl)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pttl.Val() != 1600 {
		t.Fatalf("PTTL = %d, want 1600", pttl.Val())
	}
	if ttl.Val() != 2 {
		t.Fatalf("TTL of 1.6s = %d, want 2 (rounded)", ttl.Val())
	}
	// A key with a TTL disappears: poll, no sleep-and-hope.
	c.Do(ctx, "pexpire", "k", "20")
	deadline := time.Now().Add(30 * time.Second)
	for c.Exists(ctx, "k").Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("key with a 20ms TTL still exists after 30s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if v, _ := c.Do(ctx, "ttl", "k").Int(); v != -2 {
		t.Fatalf("TTL of an expired key = %d", v)
	}
	// An expired (not yet reclaimed) key is missing for every command.
	c.Set(ctx, "e", "v", 0)
	expireNow(t, s, 0, "e")
	run(t, c, []step{
		{args: []any{"ttl", "e"}, want: -2},
		{args: []any{"expire", "e", "100"}, want: 0},
		{args: []any{"persist", "e"}, want: 0},
	})
}

func TestKeysPropagation(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	feed := captureWrites(s, true)
	c.Set(ctx, "k", "v", 0)
	c.Set(ctx, "k2", "v", 0)
	feed.take()
	cases := []struct {
		args []any
		want []string
	}{
		{[]any{"del", "nokey"}, nil},
		{[]any{"del", "k2", "nokey"}, []string{"0:del k2 nokey"}},
		{[]any{"expire", "nokey", "10"}, nil},
		{[]any{"expire", "k", "10", "xx"}, nil},
		{[]any{"pexpireat", "k", "99999999999999"}, []string{"0:PEXPIREAT k 99999999999999"}},
		{[]any{"persist", "k"}, []string{"0:persist k"}},
		{[]any{"persist", "k"}, nil},
		{[]any{"rename", "k", "r"}, []string{"0:rename k r"}},
		{[]any{"copy", "r", "c", "db", "1"}, []string{"0:copy r c db 1"}},
		{[]any{"move", "c", "1"}, nil}, // c is in db 1 already
		{[]any{"move", "r", "2"}, []string{"0:move r 2"}},
		{[]any{"exists", "r"}, nil},
		{[]any{"touch", "r"}, nil},
	}
	for _, tc := range cases {
		c.Do(ctx, tc.args...)
		if got := feed.take(); !slices.Equal(got, tc.want) {
			t.Errorf("%v propagated %q, want %q", tc.args, got, tc.want)
		}
	}
	// Relative expires propagate as PEXPIREAT with the absolute time.
	c.Set(ctx, "k", "v", 0)
	feed.take()
	before := time.Now().UnixMilli()
	c.Do(ctx, "expire", "k", "100")
	after := time.Now().UnixMilli()
	got := feed.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "0:PEXPIREAT k ") {
		t.Fatalf("EXPIRE propagated %q", got)
	}
	at, _ := strconv.ParseInt(strings.TrimPrefix(got[0], "0:PEXPIREAT k "), 10, 64)
	if at < before+100000 || at > after+100000 {
		t.Fatalf("EXPIRE propagated time %d, want within [%d, %d]", at, before+100000, after+100000)
	}
	// A time in the past deletes and propagates DEL.
	c.Do(ctx, "expire", "k", "-1")
	if got := feed.take(); !slices.Equal(got, []string{"0:DEL k"}) {
		t.Fatalf("EXPIRE in the past propagated %q", got)
	}
}

func TestKeysKeysPatterns(t *testing.T) {
	c, ctx := setup(t)
	names := []string{"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo", "a\\b", "", "x-y", "foo:bar", "foo:baz:1", "Hello"}
	for _, n := range names {
		c.Set(ctx, n, "v", 0)
	}
	cases := []struct {
		pat  string
		want []string
	}{
		{"*", names},
		{"h?llo", []string{"hallo", "hello", "hxllo", "h*llo", "h?llo"}},
		{"h*llo", []string{"hallo", "hello", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo"}},
		{"h[ae]llo", []string{"hallo", "hello"}},
		{"h[^e]llo", []string{"hallo", "hxllo", "h*llo", "h?llo"}},
		{"h[a-b]llo", []string{"hallo"}},
		{"h[b-a]llo", []string{"hallo"}}, // reversed ranges are swapped
		{"h\\*llo", []string{"h*llo"}},
		{"h\\?llo", []string{"h?llo"}},
		{"h\\[a]llo", []string{"h[a]llo"}},
		{"a\\\\b", []string{"a\\b"}},
		{"foo:*", []string{"foo:bar", "foo:baz:1"}},
		{"foo:ba?", []string{"foo:bar"}},
		{"*:*:*", []string{"foo:baz:1"}},
		{"x[-]y", []string{"x-y"}},
		{"nomatch*", nil},
		{"hello", []string{"hello"}},
		{"HELLO", nil},
		{"[Hh]ello", []string{"hello", "Hello"}},
	}
	for _, tc := range cases {
		got := sortedReply(t, c, "keys", tc.pat)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("KEYS %q = %q, want %q", tc.pat, got, want)
		}
	}
}

func TestKeysMatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", false}, // Redis's loop never runs on an empty string
		{"", "", true},
		{"a*", "a", true},
		{"a**", "a", true},
		{"*a", "a", true},
		{"?", "", false},
		{"[abc", "a", true}, // unterminated class
		{"[abc", "ab", false},
		{"[^abc", "d", true},
		{"[a-", "a", true},
		{"[\\]]", "]", true},
		{"[a\\-z]", "-", true},
		{"[a\\-z]", "b", false},
		{"\\", "\\", true},
		{"a\\", "a\\", true},
		{"*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*", strings.Repeat("a", 200), false},
		{"[\x80-\xff]", "\x90", true},
		{"[\x00-\x7f]", "\x90", false}, // C compares signed chars: 0x90 is -112
		{"[a-", "-", true},
		{"[a-", "b", false},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pat, tc.s); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestKeysScan(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	run(t, c, []step{
		{args: []any{"scan", "0"}, want: []any{"0", []any{}}},
		{args: []any{"scan", "x"}, wantErr: "ERR invalid cursor"},
		{args: []any{"scan", " 1"}, wantErr: "ERR invalid cursor"},
		{args: []any{"scan", "99999999999999999999"}, wantErr: "ERR invalid cursor"},
		{args: []any{"scan", "0", "count", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"scan", "0", "count", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"scan", "0", "count"}, wantErr: "ERR syntax error"},
		{args: []any{"scan", "0", "match"}, wantErr: "ERR syntax error"},
		{args: []any{"scan", "0", "foo", "bar"}, wantErr: "ERR syntax error"},
		{args: []any{"scan"}, wantErr: "ERR wrong number of arguments for 'scan' command"},
		{args: []any{"randomkey"}, want: nil},
	})
	pipe := c.Pipeline()
	want := map[string]string{}
	for i := 0; i < 1000; i++ {
		k := "key:" + strconv.Itoa(i)
		switch i % 3 {
		case 0:
			pipe.Set(ctx, k, "v", 0)
			want[k] = "string"
		case 1:
			pipe.RPush(ctx, k, "a")
			want[k] = "list"
		default:
			pipe.HSet(ctx, k, "f", "v")
			want[k] = "hash"
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	scanAll := func(extra ...any) ([]string, int) {
		seen := map[string]bool{}
		var out []string
		cursor, calls := "0", 0
		for {
			args := append([]any{"scan", cursor, "count", "10"}, extra...)
			res, err := c.Do(ctx, args...).Slice()
			if err != nil {
				t.Fatal(err)
			}
			calls++
			cursor = res[0].(string)
			for _, k := range res[1].([]any) {
				if seen[k.(string)] {
					t.Fatalf("SCAN returned %q twice", k)
				}
				seen[k.(string)] = true
				out = append(out, k.(string))
			}
			if cursor == "0" {
				return out, calls
			}
			if calls > 20000 {
				t.Fatal("SCAN does not terminate")
			}
		}
	}
	all, calls := scanAll()
	if len(all) != 1000 {
		t.Fatalf("SCAN returned %d keys, want 1000", len(all))
	}
	if calls < 50 {
		t.Fatalf("SCAN COUNT 10 finished 1000 keys in %d calls", calls)
	}
	for _, typ := range []string{"list", "HASH"} {
		got, _ := scanAll("type", typ)
		n := 0
		for k, ty := range want {
			if strings.EqualFold(ty, typ) {
				n++
				if !slices.Contains(got, k) {
					t.Fatalf("SCAN TYPE %s missed %s", typ, k)
				}
			}
		}
		if len(got) != n {
			t.Fatalf("SCAN TYPE %s returned %d keys, want %d", typ, len(got), n)
		}
	}
	if got, _ := scanAll("type", "nosuchtype"); len(got) != 0 {
		t.Fatalf("SCAN TYPE nosuchtype returned %d keys", len(got))
	}
	got, _ := scanAll("match", "key:1?", "type", "list")
	slices.Sort(got)
	if !slices.Equal(got, []string{"key:10", "key:13", "key:16", "key:19"}) {
		t.Fatalf("SCAN MATCH key:1? TYPE list = %q", got)
	}
	// A huge COUNT returns everything at once; cursors past the end finish.
	res, _ := c.Do(ctx, "scan", "0", "count", "100000").Slice()
	if res[0] != "0" || len(res[1].([]any)) != 1000 {
		t.Fatalf("SCAN COUNT 100000: cursor %v, %d keys", res[0], len(res[1].([]any)))
	}
	res, _ = c.Do(ctx, "scan", "-1").Slice()
	if res[0] != "0" || len(res[1].([]any)) != 0 {
		t.Fatalf("SCAN -1 = %v", res)
	}
	// Keys that exist throughout a scan are all returned even while other
	// keys are added and removed concurrently.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := newClient(t, addr)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := "churn:" + strconv.Itoa(i%200)
			if i%2 == 0 {
				w.Set(ctx, k, "v", 0)
			} else {
				w.Del(ctx, k)
			}
		}
	}()
	all, _ = scanAll("match", "key:*")
	close(stop)
	wg.Wait()
	if len(all) != 1000 {
		t.Fatalf("SCAN under concurrent writes returned %d of the 1000 stable keys", len(all))
	}
	// RANDOMKEY returns existing keys and skips expired ones.
	for i := 0; i < 20; i++ {
		k, err := c.RandomKey(ctx).Result()
		if err != nil || c.Exists(ctx, k).Val() != 1 {
			t.Fatalf("RANDOMKEY = %q, %v", k, err)
		}
	}
	c.Do(ctx, "select", "3")
	c3 := newClient(t, addr, func(o *redis.Options) { o.DB = 3 })
	c3.Set(ctx, "only", "v", 0)
	c3.Set(ctx, "dead", "v", 0)
	expireNow(t, s, 3, "dead")
	for i := 0; i < 20; i++ {
		if k := c3.RandomKey(ctx).Val(); k != "only" {
			t.Fatalf("RANDOMKEY = %q, want only", k)
		}
	}
	if got := sortedReply(t, c3, "keys", "*"); !slices.Equal(got, []string{"only"}) {
		t.Fatalf("KEYS * with an expired key = %q", got)
	}
	res, _ = c3.Do(ctx, "scan", "0", "count", "1000").Slice()
	if len(res[1].([]any)) != 1 {
		t.Fatalf("SCAN with an expired key = %v", res)
	}
}

func TestKeysCopyMove(t *testing.T) {
	_, addr := startServer(t)
	c := newClient(t, addr)
	c1 := newClient(t, addr, func(o *redis.Options) { o.DB = 1 })
	ctx := context.Background()
	c.Set(ctx, "s", "v", time.Hour)
	c.RPush(ctx, "l", "a", "b")
	c.HSet(ctx, "h", "f", "v")
	c.SAdd(ctx, "st", "m1", "m2")
	c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"})
	run(t, c, []step{
		{args: []any{"copy", "s", "s"}, wantErr: "ERR source and destination objects are the same"},
		{args: []any{"copy", "s", "s", "db", "0"}, wantErr: "ERR source and destination objects are the same"},
		{args: []any{"copy", "s", "x", "db", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"copy", "s", "x", "db", "99"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"copy", "s", "x", "db", "-1"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"copy", "s", "x", "db"}, wantErr: "ERR syntax error"},
		{args: []any{"copy", "s", "x", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"copy", "s"}, wantErr: "ERR wrong number of arguments for 'copy' command"},
		{args: []any{"copy", "nokey", "x"}, want: 0},
		{args: []any{"copy", "s", "s2"}, want: 1},
		{args: []any{"get", "s2"}, want: "v"},
		{args: []any{"copy", "l", "s2"}, want: 0},
		{args: []any{"copy", "l", "s2", "replace"}, want: 1},
		{args: []any{"lrange", "s2", "0", "-1"}, want: []string{"a", "b"}},
		{args: []any{"copy", "s", "s", "db", "1"}, want: 1},
		{args: []any{"copy", "h", "h2", "REPLACE", "DB", "1"}, want: 1},
		{args: []any{"copy", "st", "st2"}, want: 1},
		{args: []any{"copy", "z", "z2"}, want: 1},
		{args: []any{"copy", "h", "h2"}, want: 1},
		// Copies are independent of their source.
		{args: []any{"rpush", "s2", "c"}, want: 3},
		{args: []any{"llen", "l"}, want: 2},
		{args: []any{"hset", "h2", "f", "changed"}, want: 0},
		{args: []any{"hget", "h", "f"}, want: "v"},
		{args: []any{"sadd", "st2", "m3"}, want: 1},
		{args: []any{"scard", "st"}, want: 2},
		{args: []any{"zadd", "z2", "5", "a"}, want: 0},
		{args: []any{"zscore", "z", "a"}, want: "1"},
		{args: []any{"zrange", "z2", "0", "-1"}, want: []string{"b", "a"}},
		// MOVE
		{args: []any{"move", "s", "0"}, wantErr: "ERR source and destination objects are the same"},
		{args: []any{"move", "s", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"move", "s", "16"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"move", "s", "-1"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"move", "nokey", "1"}, want: 0},
		{args: []any{"move", "s", "1"}, want: 0}, // exists in db 1 (copied)
		{args: []any{"move", "l", "2"}, want: 1},
		{args: []any{"exists", "l"}, want: 0},
		{args: []any{"move", "s"}, wantErr: "ERR wrong number of arguments for 'move' command"},
	})
	if ttl := c1.TTL(ctx, "s").Val(); ttl < 59*time.Minute {
		t.Fatalf("COPY to db 1 lost the TTL: %v", ttl)
	}
	if v := c1.HGet(ctx, "h2", "f").Val(); v != "v" {
		t.Fatalf("COPY DB 1 hash: %q", v)
	}
	c2 := newClient(t, addr, func(o *redis.Options) { o.DB = 2 })
	if v := c2.LRange(ctx, "l", 0, -1).Val(); !slices.Equal(v, []string{"a", "b"}) {
		t.Fatalf("MOVE to db 2: %q", v)
	}
	// MOVE keeps the TTL.
	c.Set(ctx, "mv", "v", time.Hour)
	c.Move(ctx, "mv", 3)
	c3 := newClient(t, addr, func(o *redis.Options) { o.DB = 3 })
	if ttl := c3.TTL(ctx, "mv").Val(); ttl < 59*time.Minute {
		t.Fatalf("MOVE lost the TTL: %v", ttl)
	}
	// COPY and MOVE inside MULTI.
	conn := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
	conn.Do(ctx, "multi")
	conn.Do(ctx, "set", "mk", "1")
	conn.Do(ctx, "copy", "mk", "mk2", "db", "4")
	conn.Do(ctx, "move", "mk", "4")
	res, err := conn.Do(ctx, "exec").Slice()
	if err != nil || len(res) != 3 || res[1] != int64(1) || res[2] != int64(1) {
		t.Fatalf("EXEC = %v, %v", res, err)
	}
	c4 := newClient(t, addr, func(o *redis.Options) { o.DB = 4 })
	if c4.Get(ctx, "mk2").Val() != "1" || c4.Get(ctx, "mk").Val() != "1" || c.Exists(ctx, "mk").Val() != 0 {
		t.Fatal("COPY / MOVE inside MULTI did not apply")
	}
}

func TestKeysObject(t *testing.T) {
	c, ctx := setup(t)
	c.Set(ctx, "int", "12", 0)
	c.Set(ctx, "bigint", "123456", 0)
	c.Set(ctx, "emb", "hello", 0)
	c.Set(ctx, "raw", strings.Repeat("x", 50), 0)
	c.RPush(ctx, "l", "a")
	c.HSet(ctx, "h", "f", "v")
	c.SAdd(ctx, "is", "1", "2")
	c.SAdd(ctx, "ls", "a", "b")
	c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"})
	run(t, c, []step{
		{args: []any{"object", "encoding", "int"}, want: "int"},
		{args: []any{"object", "encoding", "emb"}, want: "embstr"},
		{args: []any{"object", "encoding", "raw"}, want: "raw"},
		{args: []any{"object", "encoding", "l"}, want: "quicklist"}, // as Redis 7.0 reports every list,
		{args: []any{"object", "encoding", "h"}, want: "listpack"},
		{args: []any{"object", "encoding", "is"}, want: "intset"},
		{args: []any{"object", "encoding", "ls"}, want: "hashtable"}, // 7.0 has no set listpack,
		{args: []any{"object", "encoding", "z"}, want: "listpack"},
		{args: []any{"object", "encoding", "nokey"}, want: nil},
		{args: []any{"object", "refcount", "int"}, want: 2147483647},
		{args: []any{"object", "refcount", "bigint"}, want: 1},
		{args: []any{"object", "refcount", "emb"}, want: 1},
		{args: []any{"object", "refcount", "nokey"}, want: nil},
		{args: []any{"object", "idletime", "emb"}, want: 0},
		{args: []any{"object", "idletime", "nokey"}, want: nil},
		{args: []any{"object", "freq", "nokey"}, want: nil},
		{args: []any{"object", "freq", "emb"}, wantErr: "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."},
		{args: []any{"object"}, wantErr: "ERR wrong number of arguments for 'object' command"},
		{args: []any{"object", "foo"}, wantErr: "ERR unknown subcommand 'foo'. Try OBJECT HELP."},
		{args: []any{"object", "encoding"}, wantErr: "ERR wrong number of arguments for 'object|encoding' command"},
		{args: []any{"object", "encoding", "a", "b"}, wantErr: "ERR wrong number of arguments for 'object|encoding' command"},
		{args: []any{"object", "help", "x"}, wantErr: "ERR wrong number of arguments for 'object|help' command"},
	})
	help, err := c.Do(ctx, "object", "help").StringSlice()
	if err != nil || len(help) != 15 || help[0] != "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[14] != "    Prints this help." {
		t.Fatalf("OBJECT HELP = %q, %v", help, err)
	}
	// RESTORE IDLETIME shows through OBJECT IDLETIME, which does not reset it.
	p := c.Dump(ctx, "emb").Val()
	c.Do(ctx, "restore", "idle", "0", p, "idletime", "1000")
	for i := 0; i < 2; i++ {
		if v, _ := c.Do(ctx, "object", "idletime", "idle").Int(); v < 1000 || v > 1002 {
			t.Fatalf("OBJECT IDLETIME after RESTORE IDLETIME 1000 = %d", v)
		}
	}
	c.Do(ctx, "type", "idle")
	c.Do(ctx, "ttl", "idle")
	c.Do(ctx, "exists", "idle")
	if v, _ := c.Do(ctx, "object", "idletime", "idle").Int(); v < 1000 {
		t.Fatalf("TYPE/TTL/EXISTS touched the key: idle %d", v)
	}
	c.Get(ctx, "idle")
	if v, _ := c.Do(ctx, "object", "idletime", "idle").Int(); v > 1 {
		t.Fatalf("GET did not touch the key: idle %d", v)
	}
}

// Values that appear whole under a key (RENAME, MOVE, COPY, RESTORE) wake
// clients blocked on it, and RANDOMKEY picks among all keys.
func TestKeysWakeBlockedAndRandom(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	waitBlocked := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for s.stats.blockedClients.Load() != n {
			if time.Now().After(deadline) {
				t.Fatalf("blocked clients: %d, want %d", s.stats.blockedClients.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for _, move := range [][]any{
		{"rename", "src", "dst"},
		{"copy", "src", "dst"},
		{"restore", "dst", "0", ""},
	} {
		c.Del(ctx, "src", "dst")
		c.RPush(ctx, "src", "v")
		if move[0] == "restore" {
			move[3] = c.Dump(ctx, "src").Val()
		}
		b := newClient(t, addr)
		done := make(chan []string, 1)
		go func() { done <- b.BLPop(ctx, 5*time.Second, "dst").Val() }()
		waitBlocked(1)
		if err := c.Do(ctx, move...).Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-done:
			if !slices.Equal(got, []string{"dst", "v"}) {
				t.Fatalf("%v: BLPOP got %q", move[0], got)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%v did not wake the blocked client", move[0])
		}
		waitBlocked(0)
	}
	seen := map[string]bool{}
	c.Del(ctx, "src", "dst")
	c.MSet(ctx, "r1", "v", "r2", "v", "r3", "v")
	for i := 0; i < 300 && len(seen) < 3; i++ {
		seen[c.RandomKey(ctx).Val()] = true
	}
	if len(seen) != 3 {
		t.Fatalf("RANDOMKEY over 3 keys only returned %v", seen)
	}
}
