package node

import (
	"testing"
	"time"
)

func TestStrings(t *testing.T) {
	c, ctx := setup(t)
	run(t, c, []step{
		{args: []any{"get", "nokey"}, want: nil},
		{args: []any{"set", "k", "v"}, want: "OK"},
		{args: []any{"get", "k"}, want: "v"},
		{args: []any{"set", "k", "v2", "nx"}, want: nil},
		{args: []any{"set", "k", "v2", "xx", "get"}, want: "v"},
		{args: []any{"set", "k2", "v", "xx"}, want: nil},
		{args: []any{"set", "k", "v", "nx", "xx"}, wantErr: "ERR syntax error"},
		{args: []any{"set", "k", "v", "ex", "0"}, wantErr: "ERR invalid expire time in 'set' command"},
		{args: []any{"set", "k", "v", "ex", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"set", "k", "v", "ex", "10", "px", "100"}, wantErr: "ERR syntax error"},
		{args: []any{"set"}, wantErr: "ERR wrong number of arguments for 'set' command"},
		{args: []any{"strlen", "k"}, want: 2},
		{args: []any{"append", "k", "xyz"}, want: 5},
		{args: []any{"getrange", "k", "0", "-1"}, want: "v2xyz"},
		{args: []any{"getrange", "k", "-3", "-2"}, want: "xy"},
		{args: []any{"getrange", "k", "10", "20"}, want: ""},
		{args: []any{"setrange", "k", "1", "ZZ"}, want: 5},
		{args: []any{"get", "k"}, want: "vZZyz"},
		{args: []any{"setrange", "pad", "3", "a"}, want: 4},
		{args: []any{"get", "pad"}, want: "\x00\x00\x00a"},
		{args: []any{"setrange", "k", "-1", "a"}, wantErr: "ERR offset is out of range"},
		{args: []any{"incr", "n"}, want: 1},
		{args: []any{"incrby", "n", "41"}, want: 42},
		{args: []any{"decr", "n"}, want: 41},
		{args: []any{"decrby", "n", "1"}, want: 40},
		{args: []any{"incr", "k"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"set", "big", "9223372036854775807"}, want: "OK"},
		{args: []any{"incr", "big"}, wantErr: "ERR increment or decrement would overflow"},
		{args: []any{"incrbyfloat", "f", "10.5"}, want: "10.5"},
		{args: []any{"incrbyfloat", "f", "0.1"}, want: "10.6"},
		{args: []any{"set", "g", "0.1"}, want: "OK"},
		{args: []any{"incrbyfloat", "g", "0.2"}, want: "0.3"}, // long double, as Redis
		{args: []any{"incrbyfloat", "g", "inf"}, wantErr: "ERR increment would produce NaN or Infinity"},
		{args: []any{"incrby", "n", "+1"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"incrby", "n", "01"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"incrbyfloat", "f", "abc"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"mset", "a", "1", "b", "2"}, want: "OK"},
		{args: []any{"mset", "a", "1", "b"}, wantErr: "ERR wrong number of arguments for 'mset' command"},
		{args: []any{"mget", "a", "b", "nokey"}, want: []any{"1", "2", nil}},
		{args: []any{"msetnx", "a", "1", "c", "3"}, want: 0},
		{args: []any{"msetnx", "c", "3", "d", "4"}, want: 1},
		{args: []any{"getset", "a", "x"}, want: "1"},
		{args: []any{"getdel", "a"}, want: "x"},
		{args: []any{"getdel", "a"}, want: nil},
		{args: []any{"setnx", "a", "1"}, want: 1},
		{args: []any{"setnx", "a", "2"}, want: 0},
		{args: []any{"setex", "e", "100", "v"}, want: "OK"},
		{args: []any{"setex", "e", "-1", "v"}, wantErr: "ERR invalid expire time in 'setex' command"},
		{args: []any{"psetex", "e2", "100000", "v"}, want: "OK"},
		{args: []any{"getex", "e", "persist"}, want: "v"},
		{args: []any{"getex", "e", "px", "5000"}, want: "v"},
		{args: []any{"getex", "e", "bad"}, wantErr: "ERR syntax error"},
		{args: []any{"substr", "k", "0", "1"}, want: "vZ"},
	})
	// TTL handling through the keyspace: a PX key disappears.
	if err := c.Set(ctx, "short", "v", 30*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.Exists(ctx, "short").Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("key with 30ms TTL still exists after 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// KEEPTTL keeps, plain SET drops the TTL.
	c.Set(ctx, "t", "1", time.Hour)
	c.Do(ctx, "set", "t", "2", "keepttl")
	if ttl := c.PTTL(ctx, "t").Val(); ttl <= 0 {
		t.Fatalf("KEEPTTL lost the TTL: %v", ttl)
	}
}
