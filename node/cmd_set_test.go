package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/keyspace"
)

// ---- test helpers shared by the hash, set and bitmap tests ----

// setsRaw is a raw RESP connection: replies are rendered with their exact
// wire types (RESP3 sets "~[...]", maps "%[...]", arrays "*[...]").
type setsRaw struct {
	conn net.Conn
	r    *bufio.Reader
}

func setsDial(t *testing.T, addr string, resp3 bool) *setsRaw {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &setsRaw{conn: conn, r: bufio.NewReader(conn)}
	if resp3 {
		rc.do(t, "hello", "3")
	}
	return rc
}

func (rc *setsRaw) do(t *testing.T, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	rc.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := rc.conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	s, err := rc.read()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (rc *setsRaw) read() (string, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', '-', ':', '_', '#', ',':
		return line, nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return line, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, buf); err != nil {
			return "", err
		}
		return strconv.Quote(string(buf[:n])), nil
	case '*', '~', '%':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return line, nil
		}
		if line[0] == '%' {
			n *= 2
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = rc.read(); err != nil {
				return "", err
			}
		}
		return line[:1] + "[" + strings.Join(parts, ",") + "]", nil
	}
	return "", fmt.Errorf("unexpected reply line %q", line)
}

// ---- tests ----

func TestSetCommands(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "str", "x"}, want: "OK"},
		// SADD / SREM / SCARD / SISMEMBER / SMISMEMBER
		{args: []any{"sadd", "s"}, wantErr: "ERR wrong number of arguments for 'sadd' command"},
		{args: []any{"sadd", "s", "3", "1", "2"}, want: 3},
		{args: []any{"sadd", "s", "2", "4", "4"}, want: 1},
		{args: []any{"sadd", "str", "a"}, wantErr: "WRONGTYPE"},
		{args: []any{"smembers", "s"}, want: []string{"1", "2", "3", "4"}},
		{args: []any{"smembers", "nokey"}, want: []string{}},
		{args: []any{"smembers", "str"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"scard", "s"}, want: 4},
		{args: []any{"scard", "nokey"}, want: 0},
		{args: []any{"scard", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"sismember", "s", "2"}, want: 1},
		{args: []any{"sismember", "s", "9"}, want: 0},
		{args: []any{"sismember", "nokey", "9"}, want: 0},
		{args: []any{"sismember", "str", "9"}, wantErr: "WRONGTYPE"},
		{args: []any{"smismember", "s", "2", "9", "3"}, want: []any{1, 0, 1}},
		{args: []any{"smismember", "nokey", "2"}, want: []any{0}},
		{args: []any{"smismember", "s"}, wantErr: "ERR wrong number of arguments for 'smismember' command"},
		{args: []any{"smismember", "str", "2"}, wantErr: "WRONGTYPE"},
		{args: []any{"srem", "s", "1", "9"}, want: 1},
		{args: []any{"srem", "nokey", "1"}, want: 0},
		{args: []any{"srem", "str", "1"}, wantErr: "WRONGTYPE"},
		{args: []any{"sadd", "gone", "a"}, want: 1},
		{args: []any{"srem", "gone", "a"}, want: 1},
		{args: []any{"get", "gone"}, want: nil}, // deleted, not an empty set
		// Intset-like members list in numeric order, as Redis's intsets do.
		{args: []any{"sadd", "ints", "10", "-5", "0", "7", "-100"}, want: 5},
		{args: []any{"smembers", "ints"}, want: []string{"-100", "-5", "0", "7", "10"}},
		{args: []any{"sadd", "nonint", "01", "1", "+1", "-0"}, want: 4},
		{args: []any{"scard", "nonint"}, want: 4},
		// SINTER / SUNION / SDIFF
		{args: []any{"sadd", "s2", "3", "4", "5", "-7"}, want: 4},
		{args: []any{"sinter", "s", "s2"}, want: []string{"3", "4"}},
		{args: []any{"sinter", "s", "s2", "nokey"}, want: []string{}},
		{args: []any{"sinter", "s"}, want: []string{"2", "3", "4"}},
		{args: []any{"sinter", "s", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"sinter", "nokey", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"sunion", "s", "s2"}, want: []string{"-7", "2", "3", "4", "5"}},
		{args: []any{"sunion", "s", "nokey"}, want: []string{"2", "3", "4"}},
		{args: []any{"sunion", "nokey"}, want: []string{}},
		{args: []any{"sunion", "nokey", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"sdiff", "s", "s2"}, want: []string{"2"}},
		{args: []any{"sdiff", "s2", "s"}, want: []string{"-7", "5"}},
		{args: []any{"sdiff", "s", "s"}, want: []string{}},
		{args: []any{"sdiff", "nokey", "s"}, want: []string{}},
		{args: []any{"sdiff", "nokey", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"sdiff", "s", "nokey"}, want: []string{"2", "3", "4"}},
		// *STORE: overwrite (any type), delete when empty.
		{args: []any{"sinterstore", "d", "s", "s2"}, want: 2},
		{args: []any{"smembers", "d"}, want: []string{"3", "4"}},
		{args: []any{"sinterstore", "d", "s", "nokey"}, want: 0},
		{args: []any{"get", "d"}, want: nil},
		{args: []any{"sinterstore", "d", "nokey"}, want: 0},
		{args: []any{"sinterstore", "d", "s", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"sinterstore", "d"}, wantErr: "ERR wrong number of arguments for 'sinterstore' command"},
		{args: []any{"set", "strdst", "v"}, want: "OK"},
		{args: []any{"sunionstore", "strdst", "s", "s2"}, want: 5},
		{args: []any{"smembers", "strdst"}, want: []string{"-7", "2", "3", "4", "5"}},
		{args: []any{"sdiffstore", "strdst", "s", "s"}, want: 0},
		{args: []any{"get", "strdst"}, want: nil},
		{args: []any{"sdiffstore", "dd", "s", "s2"}, want: 1},
		{args: []any{"smembers", "dd"}, want: []string{"2"}},
		{args: []any{"sdiffstore", "s", "s", "dd"}, want: 2}, // destination among the sources
		{args: []any{"smembers", "s"}, want: []string{"3", "4"}},
		{args: []any{"sunionstore", "u", "nokey"}, want: 0},
		{args: []any{"sunionstore", "u", "str"}, wantErr: "WRONGTYPE"},
		// SINTERCARD
		{args: []any{"sintercard", "2", "s", "s2"}, want: 2},
		{args: []any{"sintercard", "2", "s", "s2", "limit", "1"}, want: 1},
		{args: []any{"sintercard", "2", "s", "s2", "LIMIT", "0"}, want: 2},
		{args: []any{"sintercard", "2", "s", "s2", "limit", "100"}, want: 2},
		{args: []any{"sintercard", "1", "s", "limit", "1", "limit", "0"}, want: 2},
		{args: []any{"sintercard", "2", "s", "nokey"}, want: 0},
		{args: []any{"sintercard", "0", "s"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"sintercard", "-1", "s"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"sintercard", "x", "s"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"sintercard", "3", "s", "s2"}, wantErr: "ERR Number of keys can't be greater than number of args"},
		{args: []any{"sintercard", "1", "s", "limit", "-1"}, wantErr: "ERR LIMIT can't be negative"},
		{args: []any{"sintercard", "1", "s", "limit", "x"}, wantErr: "ERR LIMIT can't be negative"},
		{args: []any{"sintercard", "1", "s", "limit"}, wantErr: "ERR syntax error"},
		{args: []any{"sintercard", "1", "s", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"sintercard", "2", "nokey", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"sintercard", "1"}, wantErr: "ERR wrong number of arguments for 'sintercard' command"},
		// SMOVE
		{args: []any{"sadd", "src", "a", "b"}, want: 2},
		{args: []any{"smove", "src", "dst", "a"}, want: 1},
		{args: []any{"smove", "src", "dst", "a"}, want: 0},
		{args: []any{"smove", "src", "src", "b"}, want: 1},
		{args: []any{"smove", "src", "src", "zz"}, want: 0},
		{args: []any{"smove", "nokey", "str", "a"}, want: 0}, // missing source wins over a bad destination
		{args: []any{"smove", "str", "dst", "a"}, wantErr: "WRONGTYPE"},
		{args: []any{"smove", "src", "str", "zz"}, wantErr: "WRONGTYPE"},
		{args: []any{"sadd", "dst", "b"}, want: 1},
		{args: []any{"smove", "src", "dst", "b"}, want: 1}, // already in dst
		{args: []any{"get", "src"}, want: nil},
		{args: []any{"scard", "dst"}, want: 2},
		{args: []any{"smismember", "dst", "a", "b"}, want: []any{1, 1}},
		// SPOP / SRANDMEMBER argument handling and edge cases
		{args: []any{"spop", "nokey"}, want: nil},
		{args: []any{"spop", "nokey", "3"}, want: []string{}},
		{args: []any{"spop", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"spop", "str", "1"}, wantErr: "WRONGTYPE"},
		{args: []any{"spop", "s", "-1"}, wantErr: "ERR value is out of range, must be positive"},
		{args: []any{"spop", "s", "x"}, wantErr: "ERR value is out of range, must be positive"},
		{args: []any{"spop", "s", "1", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"spop", "s", "0"}, want: []string{}},
		{args: []any{"srandmember", "nokey"}, want: nil},
		{args: []any{"srandmember", "nokey", "3"}, want: []string{}},
		{args: []any{"srandmember", "nokey", "-3"}, want: []string{}},
		{args: []any{"srandmember", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"srandmember", "str", "3"}, wantErr: "WRONGTYPE"},
		{args: []any{"srandmember", "s", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"srandmember", "s", "+1"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"srandmember", "s", "-9223372036854775808"}, wantErr: "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{args: []any{"srandmember", "s", "1", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"srandmember", "s", "0"}, want: []string{}},
		{args: []any{"srandmember", "s", "100"}, want: []string{"3", "4"}},
		{args: []any{"sadd", "one", "x"}, want: 1},
		{args: []any{"spop", "one"}, want: "x"},
		{args: []any{"get", "one"}, want: nil},
		{args: []any{"sadd", "ten", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, want: 10},
		{args: []any{"spop", "ten", "100"}, want: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}},
		{args: []any{"get", "ten"}, want: nil},
		// SSCAN
		{args: []any{"sscan", "ints", "0"}, want: []any{"0", []string{"-100", "-5", "0", "7", "10"}}},
		{args: []any{"sscan", "ints", "0", "match", "-*", "count", "1"}, want: []any{"0", []string{"-100", "-5"}}},
		{args: []any{"sscan", "ints", "0", "match", "1*", "match", "*"}, want: []any{"0", []string{"-100", "-5", "0", "7", "10"}}},
		{args: []any{"sscan", "ints", ""}, want: []any{"0", []string{"-100", "-5", "0", "7", "10"}}},
		{args: []any{"sscan", "ints", "0", "count", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"sscan", "ints", "0", "count", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"sscan", "ints", "0", "match"}, wantErr: "ERR syntax error"},
		{args: []any{"sscan", "ints", "0", "foo", "bar"}, wantErr: "ERR syntax error"},
		{args: []any{"sscan", "ints", "x"}, wantErr: "ERR invalid cursor"},
		{args: []any{"sscan", "ints", " 1"}, wantErr: "ERR invalid cursor"},
		{args: []any{"sscan", "ints", "18446744073709551616"}, wantErr: "ERR invalid cursor"},
		{args: []any{"sscan", "nokey", "0", "foo"}, want: []any{"0", []string{}}}, // options unchecked
		{args: []any{"sscan", "nokey", "x"}, wantErr: "ERR invalid cursor"},
		{args: []any{"sscan", "str", "0"}, wantErr: "WRONGTYPE"},
		{args: []any{"sscan", "ints"}, wantErr: "ERR wrong number of arguments for 'sscan' command"},
	})
}

func TestSetNonIntegerOrder(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	c.SAdd(ctx, "a", "x", "y", "z", "1")
	c.SAdd(ctx, "b", "y", "z", "w")
	for _, tc := range []struct {
		args []any
		want []string
	}{
		{[]any{"smembers", "a"}, []string{"1", "x", "y", "z"}},
		{[]any{"sinter", "a", "b"}, []string{"y", "z"}},
		{[]any{"sunion", "a", "b"}, []string{"1", "w", "x", "y", "z"}},
		{[]any{"sdiff", "a", "b"}, []string{"1", "x"}},
		{[]any{"srandmember", "a", "10"}, []string{"1", "x", "y", "z"}},
	} {
		if got := sortedReply(t, c, tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.args, got, tc.want)
		}
	}
	v, err := c.Do(ctx, "sscan", "a", "0", "match", "[xy]").Slice()
	if err != nil || v[0] != "0" {
		t.Fatalf("sscan: %v %v", v, err)
	}
	got := []string{v[1].([]any)[0].(string), v[1].([]any)[1].(string)}
	slices.Sort(got)
	if len(v[1].([]any)) != 2 || !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("sscan match: %v", v)
	}
}

func TestSetRandom(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	members := make([]any, 0, 300)
	for i := range 300 {
		members = append(members, "m"+strconv.Itoa(i))
	}
	c.SAdd(ctx, "big", members...)
	in := func(m string) bool { return c.SIsMember(ctx, "big", m).Val() }
	for _, n := range []int{1, 5, 100, 200, 299} {
		got := c.SRandMemberN(ctx, "big", int64(n)).Val()
		if len(got) != n {
			t.Fatalf("srandmember %d: got %d members", n, len(got))
		}
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m] || !in(m) {
				t.Fatalf("srandmember %d: duplicate or foreign member %q", n, m)
			}
			seen[m] = true
		}
	}
	got := c.SRandMemberN(ctx, "big", -1000).Val()
	if len(got) != 1000 {
		t.Fatalf("srandmember -1000: %d members", len(got))
	}
	distinct := map[string]bool{}
	for _, m := range got {
		distinct[m] = true
	}
	if len(distinct) < 100 { // 1000 draws from 300 members
		t.Fatalf("srandmember -1000: only %d distinct members", len(distinct))
	}
	c.SAdd(ctx, "small", "a")
	if v := c.SRandMemberN(ctx, "small", -5).Val(); !slices.Equal(v, []string{"a", "a", "a", "a", "a"}) {
		t.Fatalf("srandmember small -5: %v", v)
	}
	if v := c.SRandMember(ctx, "big").Val(); !in(v) {
		t.Fatalf("srandmember: %q", v)
	}
	// Every member of a small set comes up.
	c.SAdd(ctx, "abc", "a", "b", "c")
	hits := map[string]int{}
	for range 300 {
		hits[c.SRandMember(ctx, "abc").Val()]++
	}
	if len(hits) != 3 || hits["a"] < 30 || hits["b"] < 30 || hits["c"] < 30 {
		t.Fatalf("srandmember distribution: %v", hits)
	}

	// SPOP removes exactly what it returns.
	total := 300
	for _, n := range []int{1, 10, 150, 100} {
		popped := c.SPopN(ctx, "big", int64(n)).Val()
		if len(popped) != n {
			t.Fatalf("spop %d: got %d", n, len(popped))
		}
		for _, m := range popped {
			if in(m) {
				t.Fatalf("spop %d: %q still a member", n, m)
			}
		}
		total -= n
		if card := c.SCard(ctx, "big").Val(); card != int64(total) {
			t.Fatalf("after spop %d: scard %d, want %d", n, card, total)
		}
	}
	v := c.SPop(ctx, "big").Val()
	if v == "" || in(v) || c.SCard(ctx, "big").Val() != int64(total-1) {
		t.Fatalf("spop: %q", v)
	}
	rest := c.SPopN(ctx, "big", 1000).Val()
	if len(rest) != total-1 || c.Get(ctx, "big").Err() != redis.Nil {
		t.Fatalf("spop all: %d members, key left behind", len(rest))
	}
}

func TestSetRESP3Types(t *testing.T) {
	_, addr := startServer(t)
	r := setsDial(t, addr, true)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sadd", "s", "2", "1"}, ":2"},
		{[]string{"smembers", "s"}, `~["1","2"]`},
		{[]string{"smembers", "nokey"}, "~[]"},
		{[]string{"sinter", "s", "s"}, `~["1","2"]`},
		{[]string{"sinter", "s", "nokey"}, "~[]"},
		{[]string{"sunion", "s", "nokey"}, `~["1","2"]`},
		{[]string{"sdiff", "s", "nokey"}, `~["1","2"]`},
		{[]string{"srandmember", "s", "5"}, `*["1","2"]`},
		{[]string{"srandmember", "nokey", "5"}, `*[]`},
		{[]string{"srandmember", "nokey"}, "_"},
		{[]string{"spop", "nokey"}, "_"},
		{[]string{"spop", "nokey", "2"}, "~[]"},
		{[]string{"spop", "s", "0"}, "~[]"},
		{[]string{"smismember", "s", "1", "x"}, "*[:1,:0]"},
		{[]string{"sscan", "s", "0"}, `*["0",*["1","2"]]`},
		{[]string{"spop", "s", "5"}, `~["1","2"]`},
	} {
		if got := r.do(t, tc.args...); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.args, got, tc.want)
		}
	}
	r2 := setsDial(t, addr, false)
	r2.do(t, "sadd", "s", "1")
	if got := r2.do(t, "smembers", "s"); got != `*["1"]` {
		t.Errorf("RESP2 smembers: %s", got)
	}
	if got := r2.do(t, "spop", "nokey"); got != "$-1" {
		t.Errorf("RESP2 spop: %s", got)
	}
}

func TestSetPropagation(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	feed := captureWrites(s, false)
	check := func(args []any, want ...string) {
		t.Helper()
		c.Do(ctx, args...)
		got := feed.take()
		if !slices.Equal(got, want) {
			t.Errorf("%v propagated %q, want %q", args, got, want)
		}
	}
	check([]any{"sadd", "s", "a", "b"}, "sadd s a b")
	check([]any{"sadd", "s", "a"})
	check([]any{"srem", "s", "zz"})
	check([]any{"srem", "s", "a", "zz"}, "srem s a zz")
	check([]any{"spop", "s"}, "SREM s b")
	check([]any{"spop", "s"})
	check([]any{"sadd", "s", "1", "2", "3"}, "sadd s 1 2 3")
	c.Do(ctx, "spop", "s", "2")
	got := feed.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "SREM s ") || len(strings.Fields(got[0])) != 4 {
		t.Errorf("spop 2 propagated %q", got)
	}
	check([]any{"spop", "s", "5"}, "DEL s")
	check([]any{"spop", "s", "5"})
	check([]any{"sadd", "a", "1"}, "sadd a 1")
	check([]any{"smove", "a", "b", "9"})
	check([]any{"smove", "a", "b", "1"}, "smove a b 1")
	check([]any{"sinterstore", "d", "b", "b"}, "sinterstore d b b")
	check([]any{"sinterstore", "d", "nokey"}, "sinterstore d nokey")
	check([]any{"sinterstore", "d", "nokey"})
	check([]any{"sunionstore", "d", "b"}, "sunionstore d b")
	check([]any{"sdiffstore", "d", "b", "b"}, "sdiffstore d b b")
	check([]any{"sintercard", "1", "b"})
	check([]any{"srandmember", "b"})
	check([]any{"sadd", "str2", "x", "y"}, "sadd str2 x y")
	check([]any{"spop", "str2", "1", "1"})
}

func TestSetExpiredKeys(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.SAdd(ctx, "e", "a", "b")
	c.SAdd(ctx, "live", "a")
	expireNow(t, s, 0, "e")
	run(t, c, []step{
		{args: []any{"scard", "e"}, want: 0},
		{args: []any{"sismember", "e", "a"}, want: 0},
		{args: []any{"sinter", "live", "e"}, want: []string{}},
		{args: []any{"sunion", "live", "e"}, want: []string{"a"}},
		{args: []any{"sadd", "e", "c"}, want: 1},
		{args: []any{"smembers", "e"}, want: []string{"c"}},
	})
	expireNow(t, s, 0, "e")
	run(t, c, []step{
		{args: []any{"smove", "e", "live", "c"}, want: 0},
		{args: []any{"spop", "e"}, want: nil},
		{args: []any{"sunionstore", "e", "live"}, want: 1},
		{args: []any{"smembers", "e"}, want: []string{"a"}},
	})
}

func TestSetConcurrent(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	c := newClient(t, addr)
	const n = 200
	members := make([]any, n)
	for i := range members {
		members[i] = i
	}
	c.SAdd(ctx, "{x}a", members...)
	// Members bounce between two sets; none is lost or duplicated.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newClient(t, addr)
			for i := range 100 {
				m := strconv.Itoa((w*37 + i) % n)
				if i%2 == 0 {
					cl.SMove(ctx, "{x}a", "{x}b", m)
				} else {
					cl.SMove(ctx, "{x}b", "{x}a", m)
				}
				cl.SInterCard(ctx, 0, "{x}a", "{x}b")
				cl.SUnionStore(ctx, "{x}u", "{x}a", "{x}b")
			}
		}()
	}
	wg.Wait()
	a, b := c.SCard(ctx, "{x}a").Val(), c.SCard(ctx, "{x}b").Val()
	if a+b != n {
		t.Fatalf("members lost: %d + %d != %d", a, b, n)
	}
	if inter := c.SInterCard(ctx, 0, "{x}a", "{x}b").Val(); inter != 0 {
		t.Fatalf("member in both sets: %d", inter)
	}
	if u := c.SCard(ctx, "{x}u").Val(); u != n {
		t.Fatalf("union %d, want %d", u, n)
	}
	// Concurrent SPOPs hand out each member once.
	var mu sync.Mutex
	seen := map[string]bool{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newClient(t, addr)
			for {
				v, err := cl.SPopN(ctx, "{x}u", 3).Result()
				if err != nil || len(v) == 0 {
					return
				}
				mu.Lock()
				for _, m := range v {
					if seen[m] {
						t.Errorf("member %s popped twice", m)
					}
					seen[m] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("popped %d members, want %d", len(seen), n)
	}
}

func TestSetGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", false}, // as stringmatchlen; SCAN skips a lone "*"
		{"*", "abc", true},
		{"", "", true},
		{"", "a", false},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*c", "abc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"?", "", false},
		{"a*c*", "abxcz", true},
		{"**a**", "xxa", true},
		{"[abc]", "b", true},
		{"[abc]", "d", false},
		{"[^abc]", "d", true},
		{"[^abc]", "a", false},
		{"[a-c]x", "bx", true},
		{"[c-a]x", "bx", true},
		{"[a-c]", "d", false},
		{"[\\]]", "]", true},
		{"[-]", "-", true},
		{"[a-]", "-", false}, // a range a..] in Redis
		{"[a-]", "^", true},
		{"[a", "a", true},
		{"[", "a", false},
		{"[^", "a", true},
		{"\\*", "*", true},
		{"\\*", "a", false},
		{"a\\", "a\\", true},
		{"\\\\", "\\", true},
		{"*[", "ab", false},
		{"h[ae]llo", "hello", true},
		{"h*llo", "heeeello", true},
		{"*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 60), false},
	} {
		if got := globMatch([]byte(tc.pat), tc.s); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestSetStrictInt(t *testing.T) {
	for _, tc := range []struct {
		s  string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"-1", -1, true}, {"123", 123, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {"01", 0, false},
		{"-0", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1.0", 0, false},
		{"99999999999999999999", 0, false}, {"abc", 0, false},
	} {
		n, ok := keyspace.ParseInt([]byte(tc.s))
		if ok != tc.ok || n != tc.n {
			t.Errorf("keyspace.ParseInt(%q) = %d, %v; want %d, %v", tc.s, n, ok, tc.n, tc.ok)
		}
	}
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"0", true}, {"", true}, {"+5", true}, {"-1", true},
		{"18446744073709551615", true}, {"18446744073709551616", false},
		{" 1", false}, {"1 ", false}, {"x", false}, {"-", false}, {"0x10", false},
	} {
		if _, ok := setsParseCursor([]byte(tc.s)); ok != tc.ok {
			t.Errorf("setsParseCursor(%q) ok=%v, want %v", tc.s, ok, tc.ok)
		}
	}
}

// TestSetLargeOrder checks sets beyond the intset size list every member.
func TestSetLargeOrder(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	var members []any
	for i := range setsIntsetMax + 10 {
		members = append(members, i)
	}
	c.SAdd(ctx, "big", members...)
	got := c.SMembers(ctx, "big").Val()
	if len(got) != len(members) {
		t.Fatalf("smembers: %d members", len(got))
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[m] = true
	}
	if len(seen) != len(members) {
		t.Fatalf("smembers: duplicates")
	}
}

func TestSetInterCardInMulti(t *testing.T) {
	c, ctx := setup(t)
	c.SAdd(ctx, "a", "1", "2", "3")
	c.SAdd(ctx, "b", "2", "3", "4")
	var card, bad *redis.Cmd
	var sinter *redis.StringSliceCmd
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		card = p.Do(ctx, "sintercard", "2", "a", "b", "limit", "1")
		bad = p.Do(ctx, "sintercard", "0", "a")
		sinter = p.SInter(ctx, "a", "b")
		p.SInterStore(ctx, "d", "a", "b")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "numkeys should be greater than 0") {
		t.Fatalf("exec error %v", err)
	}
	if v, _ := card.Int64(); v != 1 {
		t.Fatalf("sintercard in multi: %v", card)
	}
	if bad.Err() == nil {
		t.Fatalf("bad sintercard in multi succeeded")
	}
	if v := sinter.Val(); !slices.Equal(v, []string{"2", "3"}) {
		t.Fatalf("sinter in multi: %v", v)
	}
	if v := c.SCard(ctx, "d").Val(); v != 2 {
		t.Fatalf("sinterstore in multi: %d", v)
	}
}
