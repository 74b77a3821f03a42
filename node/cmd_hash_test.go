package node

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestHashCommands(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "str", "x"}, want: "OK"},
		// HSET / HMSET / HSETNX / HGET / HMGET
		{args: []any{"hset", "h", "f", "v"}, want: 1},
		{args: []any{"hset", "h", "f", "v2", "g", "w"}, want: 1},
		{args: []any{"hset", "h", "a"}, wantErr: "ERR wrong number of arguments for 'hset' command"},
		{args: []any{"hset", "h", "a", "1", "b"}, wantErr: "ERR wrong number of arguments for 'hset' command"},
		{args: []any{"hmset", "h", "a", "1", "b"}, wantErr: "ERR wrong number of arguments for 'hmset' command"},
		{args: []any{"hset", "str", "a", "b"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"hmset", "str", "a", "b"}, wantErr: "WRONGTYPE"},
		{args: []any{"hmset", "h", "a", "1", "b", "2"}, want: "OK"},
		{args: []any{"hget", "h", "f"}, want: "v2"},
		{args: []any{"hget", "h", "nofield"}, want: nil},
		{args: []any{"hget", "nokey", "f"}, want: nil},
		{args: []any{"hget", "str", "f"}, wantErr: "WRONGTYPE"},
		{args: []any{"hmget", "h", "f", "a", "nofield"}, want: []any{"v2", "1", nil}},
		{args: []any{"hmget", "nokey", "a", "b"}, want: []any{nil, nil}},
		{args: []any{"hmget", "str", "a"}, wantErr: "WRONGTYPE"},
		{args: []any{"hmget", "h"}, wantErr: "ERR wrong number of arguments for 'hmget' command"},
		{args: []any{"hsetnx", "h", "f", "x"}, want: 0},
		{args: []any{"hsetnx", "h", "n", "x"}, want: 1},
		{args: []any{"hsetnx", "new", "n", "x"}, want: 1},
		{args: []any{"hget", "new", "n"}, want: "x"},
		{args: []any{"hsetnx", "str", "a", "b"}, wantErr: "WRONGTYPE"},
		{args: []any{"hset", "h", "empty", ""}, want: 1},
		{args: []any{"hget", "h", "empty"}, want: ""},
		// HDEL / HEXISTS / HLEN / HSTRLEN
		{args: []any{"hdel", "h", "n", "nofield"}, want: 1},
		{args: []any{"hdel", "h", "n"}, want: 0},
		{args: []any{"hdel", "nokey", "a"}, want: 0},
		{args: []any{"hdel", "str", "a"}, wantErr: "WRONGTYPE"},
		{args: []any{"hdel", "h"}, wantErr: "ERR wrong number of arguments for 'hdel' command"},
		{args: []any{"hdel", "new", "n"}, want: 1},
		{args: []any{"get", "new"}, want: nil}, // the emptied hash is gone
		{args: []any{"hexists", "h", "f"}, want: 1},
		{args: []any{"hexists", "h", "zz"}, want: 0},
		{args: []any{"hexists", "nokey", "f"}, want: 0},
		{args: []any{"hexists", "str", "f"}, wantErr: "WRONGTYPE"},
		{args: []any{"hlen", "h"}, want: 5},
		{args: []any{"hlen", "nokey"}, want: 0},
		{args: []any{"hlen", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"hstrlen", "h", "f"}, want: 2},
		{args: []any{"hstrlen", "h", "zz"}, want: 0},
		{args: []any{"hstrlen", "nokey", "f"}, want: 0},
		{args: []any{"hstrlen", "str", "f"}, wantErr: "WRONGTYPE"},
		// HGETALL / HKEYS / HVALS
		{args: []any{"hset", "one", "k", "v"}, want: 1},
		{args: []any{"hgetall", "one"}, want: []string{"k", "v"}},
		{args: []any{"hkeys", "one"}, want: []string{"k"}},
		{args: []any{"hvals", "one"}, want: []string{"v"}},
		{args: []any{"hgetall", "nokey"}, want: []string{}},
		{args: []any{"hkeys", "nokey"}, want: []string{}},
		{args: []any{"hvals", "nokey"}, want: []string{}},
		{args: []any{"hgetall", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"hkeys", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"hvals", "str"}, wantErr: "WRONGTYPE"},
		// HINCRBY
		{args: []any{"hincrby", "h", "i", "5"}, want: 5},
		{args: []any{"hincrby", "h", "i", "-10"}, want: -5},
		{args: []any{"hincrby", "h", "f", "1"}, wantErr: "ERR hash value is not an integer"},
		{args: []any{"hincrby", "h", "i", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"hincrby", "h", "i", "+1"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"hincrby", "h", "i", "1.5"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"hincrby", "h", "i", "9223372036854775807"}, want: 9223372036854775802},
		{args: []any{"hincrby", "h", "i", "10"}, wantErr: "ERR increment or decrement would overflow"},
		{args: []any{"hset", "h", "m", "-9223372036854775808"}, want: 1},
		{args: []any{"hincrby", "h", "m", "-1"}, wantErr: "ERR increment or decrement would overflow"},
		{args: []any{"hincrby", "h", "m", "0"}, want: -9223372036854775808},
		{args: []any{"hset", "h", "z", "01", "p", "+1", "sp", " 1"}, want: 3},
		{args: []any{"hincrby", "h", "z", "1"}, wantErr: "ERR hash value is not an integer"},
		{args: []any{"hincrby", "h", "p", "1"}, wantErr: "ERR hash value is not an integer"},
		{args: []any{"hincrby", "h", "sp", "1"}, wantErr: "ERR hash value is not an integer"},
		{args: []any{"hincrby", "str", "f", "1"}, wantErr: "WRONGTYPE"},
		{args: []any{"hincrby", "str", "f", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"hincrby", "fresh", "f", "7"}, want: 7},
		{args: []any{"hget", "fresh", "f"}, want: "7"},
		// HINCRBYFLOAT (long double arithmetic and formatting, as Redis)
		{args: []any{"hincrbyfloat", "h", "fl", "10.5"}, want: "10.5"},
		{args: []any{"hincrbyfloat", "h", "fl", "0.1"}, want: "10.6"},
		{args: []any{"hincrbyfloat", "h", "fl2", "0.1"}, want: "0.1"},
		{args: []any{"hincrbyfloat", "h", "fl2", "0.2"}, want: "0.3"},
		{args: []any{"hincrbyfloat", "h", "fl3", "5.0e3"}, want: "5000"},
		{args: []any{"hincrbyfloat", "h", "fl3", "-5000"}, want: "0"},
		{args: []any{"hincrbyfloat", "h", "fl3", "-0.0"}, want: "0"},
		{args: []any{"hincrbyfloat", "h", "fl4", "1.23456789012345678901234"}, want: "1.23456789012345679"},
		{args: []any{"hincrbyfloat", "h", "fl5", ".5"}, want: "0.5"},
		{args: []any{"hincrbyfloat", "h", "fl5", "5."}, want: "5.5"},
		{args: []any{"hincrbyfloat", "h", "fl5", "0x1p3"}, want: "13.5"},
		{args: []any{"hincrbyfloat", "h", "fl6", "-0.00000000000000001"}, want: "-0.00000000000000001"},
		{args: []any{"hincrbyfloat", "h", "fl7", "1e-4000"}, want: "0"},
		{args: []any{"hincrbyfloat", "h", "fl8", "123456789012345678901234567890"}, want: "123456789012345678899921813504"},
		{args: []any{"hincrbyfloat", "h", "big", "1e308"}, want: "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"},
		{args: []any{"hincrbyfloat", "h", "i", "1.5"}, want: "9223372036854775803.5"},
		{args: []any{"hincrbyfloat", "h", "fl", "1e"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", "1p3"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", "1_0"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", " 1"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", "1 "}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", ""}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", "nan"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", "1e5000"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", "1e-5000"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "h", "fl", "inf"}, wantErr: "ERR value is NaN or Infinity"},
		{args: []any{"hincrbyfloat", "h", "fl", "-Infinity"}, wantErr: "ERR value is NaN or Infinity"},
		{args: []any{"hincrbyfloat", "h", "f", "1"}, wantErr: "ERR hash value is not a float"},
		{args: []any{"hset", "h", "infv", "inf"}, want: 1},
		{args: []any{"hincrbyfloat", "h", "infv", "1"}, wantErr: "ERR increment would produce NaN or Infinity"},
		{args: []any{"hincrbyfloat", "h", "p", "1"}, want: "2"}, // strtold takes "+1"
		{args: []any{"hset", "h", "max", "1.18973149535723176502e+4932"}, want: 1},
		{args: []any{"hincrbyfloat", "h", "max", "1e4932"}, wantErr: "ERR increment would produce NaN or Infinity"},
		{args: []any{"hincrbyfloat", "str", "f", "1"}, wantErr: "WRONGTYPE"},
		{args: []any{"hincrbyfloat", "str", "f", "x"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"hincrbyfloat", "nokey2", "f", "inf"}, wantErr: "ERR value is NaN or Infinity"},
		{args: []any{"hlen", "nokey2"}, want: 0},
		// HSCAN
		{args: []any{"hscan", "one", "0"}, want: []any{"0", []string{"k", "v"}}},
		{args: []any{"hscan", "one", "0", "match", "k*", "count", "5"}, want: []any{"0", []string{"k", "v"}}},
		{args: []any{"hscan", "one", "0", "match", "v*"}, want: []any{"0", []string{}}},
		{args: []any{"hscan", "one", ""}, want: []any{"0", []string{"k", "v"}}},
		{args: []any{"hscan", "one", "0", "count", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"hscan", "one", "0", "count", "-5"}, wantErr: "ERR syntax error"},
		{args: []any{"hscan", "one", "0", "count", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"hscan", "one", "0", "match"}, wantErr: "ERR syntax error"},
		{args: []any{"hscan", "one", "0", "novalues"}, wantErr: "ERR syntax error"}, // not in 7.0
		{args: []any{"hscan", "one", "x"}, wantErr: "ERR invalid cursor"},
		{args: []any{"hscan", "one", "-"}, wantErr: "ERR invalid cursor"},
		{args: []any{"hscan", "nokey", "0", "foo"}, want: []any{"0", []string{}}},
		{args: []any{"hscan", "nokey", "bad"}, wantErr: "ERR invalid cursor"},
		{args: []any{"hscan", "str", "0"}, wantErr: "WRONGTYPE"},
		{args: []any{"hscan", "one"}, wantErr: "ERR wrong number of arguments for 'hscan' command"},
		// HRANDFIELD
		{args: []any{"hrandfield", "nokey"}, want: nil},
		{args: []any{"hrandfield", "nokey", "5"}, want: []string{}},
		{args: []any{"hrandfield", "nokey", "5", "withvalues"}, want: []string{}},
		{args: []any{"hrandfield", "str"}, wantErr: "WRONGTYPE"},
		{args: []any{"hrandfield", "str", "5"}, wantErr: "WRONGTYPE"},
		{args: []any{"hrandfield", "one"}, want: "k"},
		{args: []any{"hrandfield", "one", "1"}, want: []string{"k"}},
		{args: []any{"hrandfield", "one", "5"}, want: []string{"k"}},
		{args: []any{"hrandfield", "one", "-3"}, want: []string{"k", "k", "k"}},
		{args: []any{"hrandfield", "one", "-2", "WITHVALUES"}, want: []string{"k", "v", "k", "v"}},
		{args: []any{"hrandfield", "one", "5", "withvalues"}, want: []string{"k", "v"}},
		{args: []any{"hrandfield", "one", "0"}, want: []string{}},
		{args: []any{"hrandfield", "one", "0", "withvalues"}, want: []string{}},
		{args: []any{"hrandfield", "one", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"hrandfield", "one", "x", "y", "z"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"hrandfield", "one", "1", "x"}, wantErr: "ERR syntax error"},
		{args: []any{"hrandfield", "one", "1", "withvalues", "x"}, wantErr: "ERR syntax error"},
		{args: []any{"hrandfield", "one", "-9223372036854775808"}, wantErr: "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{args: []any{"hrandfield", "one", "9223372036854775807", "withvalues"}, wantErr: "ERR value is out of range"},
		{args: []any{"hrandfield", "one", "-4611686018427387904", "withvalues"}, wantErr: "ERR value is out of range"},
		{args: []any{"hrandfield", "one", "4611686018427387903", "withvalues"}, want: []string{"k", "v"}},
	})
}

func TestHashGetAllUnordered(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	c.HSet(ctx, "h", "a", "1", "b", "2", "c", "3")
	all := c.HGetAll(ctx, "h").Val()
	if len(all) != 3 || all["a"] != "1" || all["b"] != "2" || all["c"] != "3" {
		t.Fatalf("hgetall: %v", all)
	}
	if got := sortedReply(t, c, "hkeys", "h"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("hkeys: %v", got)
	}
	if got := sortedReply(t, c, "hvals", "h"); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Fatalf("hvals: %v", got)
	}
	keys, cursor := c.HScan(ctx, "h", 0, "[ab]", 10).Val()
	if cursor != 0 || len(keys) != 4 {
		t.Fatalf("hscan: %v %d", keys, cursor)
	}
	for i := 0; i < len(keys); i += 2 {
		if all[keys[i]] != keys[i+1] || keys[i] == "c" {
			t.Fatalf("hscan pairs: %v", keys)
		}
	}
}

func TestHashRandField(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	var args []any
	for i := range 300 {
		args = append(args, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	c.HSet(ctx, "h", args...)
	for _, n := range []int{1, 5, 100, 299, 300, 1000} {
		kv, err := c.Do(ctx, "hrandfield", "h", n, "withvalues").StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		want := min(n, 300)
		if len(kv) != 2*want {
			t.Fatalf("hrandfield %d withvalues: %d elements", n, len(kv))
		}
		seen := map[string]bool{}
		for i := 0; i < len(kv); i += 2 {
			f, v := kv[i], kv[i+1]
			if seen[f] || "v"+strings.TrimPrefix(f, "f") != v {
				t.Fatalf("hrandfield %d: bad or repeated pair %s=%s", n, f, v)
			}
			seen[f] = true
		}
	}
	fields, _ := c.Do(ctx, "hrandfield", "h", -500).StringSlice()
	if len(fields) != 500 {
		t.Fatalf("hrandfield -500: %d", len(fields))
	}
	c.HSet(ctx, "abc", "a", "1", "b", "2", "c", "3")
	hits := map[string]int{}
	for range 300 {
		hits[c.HRandField(ctx, "abc", 1).Val()[0]]++
	}
	if len(hits) != 3 || hits["a"] < 30 || hits["b"] < 30 || hits["c"] < 30 {
		t.Fatalf("hrandfield distribution: %v", hits)
	}
}

func TestHashRESP3Types(t *testing.T) {
	_, addr := startServer(t)
	r := setsDial(t, addr, true)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hset", "h", "k", "v"}, ":1"},
		{[]string{"hgetall", "h"}, `%["k","v"]`},
		{[]string{"hgetall", "nokey"}, "%[]"},
		{[]string{"hkeys", "nokey"}, "*[]"},
		{[]string{"hget", "h", "x"}, "_"},
		{[]string{"hmget", "h", "k", "x"}, `*["v",_]`},
		{[]string{"hrandfield", "h", "2", "withvalues"}, `*[*["k","v"]]`},
		{[]string{"hrandfield", "h", "-2", "withvalues"}, `*[*["k","v"],*["k","v"]]`},
		{[]string{"hrandfield", "h", "-2"}, `*["k","k"]`},
		{[]string{"hrandfield", "nokey"}, "_"},
		{[]string{"hrandfield", "nokey", "2", "withvalues"}, "*[]"},
		{[]string{"hscan", "h", "0"}, `*["0",*["k","v"]]`},
		{[]string{"hincrbyfloat", "h", "f", "1.5"}, `"1.5"`},
	} {
		if got := r.do(t, tc.args...); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.args, got, tc.want)
		}
	}
	r2 := setsDial(t, addr, false)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hgetall", "h"}, `*[`},
		{[]string{"hrandfield", "h", "-2", "withvalues"}, `*["`},
		{[]string{"hget", "h", "x"}, "$-1"},
	} {
		if got := r2.do(t, tc.args...); !strings.HasPrefix(got, tc.want) {
			t.Errorf("RESP2 %v: got %s, want prefix %s", tc.args, got, tc.want)
		}
	}
}

func TestHashPropagation(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	feed := captureWrites(s, false)
	for _, tc := range []struct {
		args []any
		want []string
	}{
		{[]any{"hset", "h", "a", "1"}, []string{"hset h a 1"}},
		{[]any{"hset", "h", "a", "1"}, []string{"hset h a 1"}},
		{[]any{"hmset", "h", "b", "2"}, []string{"hmset h b 2"}},
		{[]any{"hsetnx", "h", "b", "3"}, nil},
		{[]any{"hsetnx", "h", "c", "3"}, []string{"hsetnx h c 3"}},
		{[]any{"hdel", "h", "zz"}, nil},
		{[]any{"hdel", "h", "c", "zz"}, []string{"hdel h c zz"}},
		{[]any{"hincrby", "h", "a", "2"}, []string{"hincrby h a 2"}},
		{[]any{"hincrby", "h", "a", "x"}, nil},
		{[]any{"hincrbyfloat", "h", "a", "0.5"}, []string{"HSET h a 3.5"}},
		{[]any{"hincrbyfloat", "h", "a", "x"}, nil},
		{[]any{"hget", "h", "a"}, nil},
		{[]any{"hrandfield", "h", "2"}, nil},
		{[]any{"hscan", "h", "0"}, nil},
	} {
		c.Do(ctx, tc.args...)
		if got := feed.take(); !slices.Equal(got, tc.want) {
			t.Errorf("%v propagated %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestHashExpiredKeys(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.HSet(ctx, "e", "a", "1")
	expireNow(t, s, 0, "e")
	run(t, c, []step{
		{args: []any{"hget", "e", "a"}, want: nil},
		{args: []any{"hlen", "e"}, want: 0},
		{args: []any{"hgetall", "e"}, want: []string{}},
		{args: []any{"hincrby", "e", "a", "5"}, want: 5},
		{args: []any{"hgetall", "e"}, want: []string{"a", "5"}},
	})
}

func TestHashStoredValuesDoNotAlias(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	// Many pipelined commands reuse the connection's read buffer: stored
	// fields and values must be copies.
	pipe := c.Pipeline()
	for i := range 100 {
		pipe.HSet(ctx, "h", "f"+strconv.Itoa(i), strings.Repeat(strconv.Itoa(i%10), 20))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	all := c.HGetAll(ctx, "h").Val()
	for i := range 100 {
		if all["f"+strconv.Itoa(i)] != strings.Repeat(strconv.Itoa(i%10), 20) {
			t.Fatalf("field f%d corrupted: %q", i, all["f"+strconv.Itoa(i)])
		}
	}
}

func TestHashConcurrentIncr(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newClient(t, addr)
			for range 100 {
				cl.HIncrBy(ctx, "h", "n", 1)
				cl.HIncrByFloat(ctx, "h", "f", 0.5)
				cl.HSet(ctx, "h", "x", "y")
				cl.HDel(ctx, "h", "x")
			}
		}()
	}
	wg.Wait()
	c := newClient(t, addr)
	if n := c.HGet(ctx, "h", "n").Val(); n != "800" {
		t.Fatalf("hincrby total %s, want 800", n)
	}
	if f := c.HGet(ctx, "h", "f").Val(); f != "400" {
		t.Fatalf("hincrbyfloat total %s, want 400", f)
	}
}

// Fields come back in one stable order, insertion order as Redis's listpack
// keeps it, so HKEYS and HVALS pair up.
func TestHashFieldOrder(t *testing.T) {
	c, ctx := setup(t)
	var fields []string
	for i := 0; i < 50; i++ {
		f := "f" + strconv.Itoa(49-i)
		fields = append(fields, f)
		c.HSet(ctx, "h", f, "v"+f)
	}
	c.HSet(ctx, "h", "f10", "vf10") // an update keeps its position
	keys := c.HKeys(ctx, "h").Val()
	vals := c.HVals(ctx, "h").Val()
	if len(keys) != 50 || len(vals) != 50 {
		t.Fatalf("HKEYS %d, HVALS %d", len(keys), len(vals))
	}
	for i, f := range fields {
		if keys[i] != f || vals[i] != "v"+f {
			t.Fatalf("position %d: field %q value %q, want %q", i, keys[i], vals[i], f)
		}
	}
	all := c.Do(ctx, "hgetall", "h").Val().([]any)
	for i, f := range fields {
		if all[2*i] != f {
			t.Fatalf("HGETALL position %d = %v, want %s", i, all[2*i], f)
		}
	}
}
