package node

import (
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ---- helpers (zset-prefixed: other families share the package) ----

// zsetSetup returns a client for a fresh server or, when
// WARDEN_ZSET_REDIS names a real Redis 7.0 (host:port), for that server
// after FLUSHALL: the reply tables can be validated against Redis itself.
func zsetSetup(t *testing.T, opts ...func(*redis.Options)) (*redis.Client, context.Context) {
	t.Helper()
	ctx := context.Background()
	if addr := os.Getenv("WARDEN_ZSET_REDIS"); addr != "" {
		c := newClient(t, addr, opts...)
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		return c, ctx
	}
	_, addr := startServer(t)
	return newClient(t, addr, opts...), ctx
}

const zsetWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

// ---- tests ----

func TestZAdd(t *testing.T) {
	c, _ := zsetSetup(t)
	run(t, c, []step{
		{args: []any{"zadd", "z"}, wantErr: "ERR wrong number of arguments for 'zadd' command"},
		{args: []any{"zadd", "z", "1", "a", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"zadd", "z", "nx", "xx"}, wantErr: "ERR syntax error"},
		{args: []any{"zadd", "z", "nx", "xx", "1", "a"}, wantErr: "ERR XX and NX options at the same time are not compatible"},
		{args: []any{"zadd", "z", "nx", "xx", "x", "a"}, wantErr: "ERR XX and NX options at the same time are not compatible"},
		{args: []any{"zadd", "z", "gt", "lt", "1", "a"}, wantErr: "ERR GT, LT, and/or NX options at the same time are not compatible"},
		{args: []any{"zadd", "z", "gt", "nx", "1", "a"}, wantErr: "ERR GT, LT, and/or NX options at the same time are not compatible"},
		{args: []any{"zadd", "z", "incr", "1", "a", "2", "b"}, wantErr: "ERR INCR option supports a single increment-element pair"},
		{args: []any{"zadd", "z", "incr", "1", "a", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"zadd", "z", "x", "a"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zadd", "z", "nan", "a"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zadd", "z", "1e400", "a"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zadd", "z", "1e-400", "a"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zadd", "z", " 1", "a"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zadd", "z", "1_0", "a"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zcard", "z"}, want: 0},
		{args: []any{"zadd", "z", "1", "a", "2", "b", "0x10", "h", "-0", "n"}, want: 4},
		{args: []any{"zscore", "z", "h"}, want: "16"},
		{args: []any{"zscore", "z", "n"}, want: "0"}, // -0 is stored as 0
		{args: []any{"zadd", "z", "1", "a", "3", "b", "4", "c"}, want: 1},
		{args: []any{"zadd", "z", "ch", "5", "a", "3", "b", "9", "d"}, want: 2},
		{args: []any{"zadd", "z", "nx", "0", "a", "1", "e"}, want: 1},
		{args: []any{"zscore", "z", "a"}, want: "5"},
		{args: []any{"zadd", "z", "xx", "ch", "6", "a", "1", "nope"}, want: 1},
		{args: []any{"zscore", "z", "nope"}, want: nil},
		{args: []any{"zadd", "z", "gt", "ch", "4", "a", "7", "b", "1", "f"}, want: 2},
		{args: []any{"zadd", "z", "lt", "ch", "5", "a", "8", "b"}, want: 1},
		{args: []any{"zrange", "z", "0", "-1", "withscores"}, want: []any{"n", "0", "e", "1", "f", "1", "c", "4", "a", "5", "b", "7", "d", "9", "h", "16"}},
		// INCR: the new score, or nil when an option stops it.
		{args: []any{"zadd", "z", "incr", "1.1", "a"}, want: "6.0999999999999996"},
		{args: []any{"zadd", "z", "nx", "incr", "1", "a"}, want: nil},
		{args: []any{"zadd", "z", "xx", "incr", "1", "new"}, want: nil},
		{args: []any{"zadd", "z", "gt", "incr", "-1", "a"}, want: nil},
		{args: []any{"zadd", "z", "lt", "incr", "-1", "a"}, want: "5.0999999999999996"},
		{args: []any{"zadd", "z", "incr", "0", "a"}, want: "5.0999999999999996"},
		{args: []any{"zadd", "z", "incr", "inf", "a"}, want: "inf"},
		{args: []any{"zadd", "z", "incr", "-inf", "a"}, wantErr: "ERR resulting score is not a number (NaN)"},
		{args: []any{"zscore", "z", "a"}, want: "inf"},
		{args: []any{"zadd", "nokey", "xx", "1", "a"}, want: 0},
		{args: []any{"zadd", "nokey", "xx", "incr", "1", "a"}, want: nil},
		{args: []any{"zcard", "nokey"}, want: 0},
		// ZINCRBY shares ZADD's parser.
		{args: []any{"zincrby", "z", "x", "b"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zincrby", "z", "nx", "b"}, wantErr: "ERR syntax error"},
		{args: []any{"zincrby", "z", "1", "b", "c"}, wantErr: "ERR wrong number of arguments for 'zincrby' command"},
		{args: []any{"zincrby", "z", "0.5", "b"}, want: "7.5"},
		{args: []any{"zincrby", "zi", "0.1", "m"}, want: "0.10000000000000001"},
		{args: []any{"zincrby", "zi", "0.2", "m"}, want: "0.30000000000000004"},
		{args: []any{"zincrby", "z", "-inf", "a"}, wantErr: "ERR resulting score is not a number (NaN)"},
		// Scores print as Redis 7.0 does (%.17g).
		{args: []any{"zadd", "f", "1.1", "a", "1e20", "b", "3.0", "c", "123456789012345678", "d", "1e-5", "e"}, want: 5},
		{args: []any{"zmscore", "f", "a", "b", "c", "d", "e", "x"}, want: []any{"1.1000000000000001", "1e+20", "3", "1.2345678901234568e+17", "1.0000000000000001e-05", nil}},
		{args: []any{"zmscore", "nokey", "a", "b"}, want: []any{nil, nil}},
		{args: []any{"zscore", "nokey", "a"}, want: nil},
		{args: []any{"zrem", "f", "a", "x", "b"}, want: 2},
		{args: []any{"zrem", "f", "x"}, want: 0},
		{args: []any{"zrem", "nokey", "x"}, want: 0},
		{args: []any{"zrem", "f", "c", "d", "e"}, want: 3},
		{args: []any{"exists", "f"}, want: 0},
		// Wrong types.
		{args: []any{"set", "s", "v"}, want: "OK"},
		{args: []any{"zadd", "s", "1", "a"}, wantErr: zsetWrongType},
		{args: []any{"zadd", "s", "x", "a"}, wantErr: "ERR value is not a valid float"},
		{args: []any{"zincrby", "s", "1", "a"}, wantErr: zsetWrongType},
		{args: []any{"zrem", "s", "a"}, wantErr: zsetWrongType},
		{args: []any{"zscore", "s", "a"}, wantErr: zsetWrongType},
		{args: []any{"zmscore", "s", "a"}, wantErr: zsetWrongType},
		{args: []any{"zcard", "s"}, wantErr: zsetWrongType},
		{args: []any{"zrank", "s", "a"}, wantErr: zsetWrongType},
	})
}

func TestZRange(t *testing.T) {
	c, _ := zsetSetup(t)
	run(t, c, []step{
		{args: []any{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"}, want: 5},
		{args: []any{"zrange", "z", "0", "-1"}, want: []string{"a", "b", "c", "d", "e"}},
		{args: []any{"zrange", "z", "-2", "-1", "withscores"}, want: []string{"d", "4", "e", "5"}},
		{args: []any{"zrange", "z", "-100", "1"}, want: []string{"a", "b"}},
		{args: []any{"zrange", "z", "3", "100"}, want: []string{"d", "e"}},
		{args: []any{"zrange", "z", "2", "1"}, want: []string{}},
		{args: []any{"zrange", "z", "5", "10"}, want: []string{}},
		{args: []any{"zrange", "z", "-9223372036854775808", "9223372036854775807"}, want: []string{"a", "b", "c", "d", "e"}},
		{args: []any{"zrange", "z", "0", "1", "rev"}, want: []string{"e", "d"}},
		{args: []any{"zrange", "z", "x", "1"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"zrange", "z", "+0", "1"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"zrange", "z", "00", "1"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"zrange", "z", "0", "1", "limit", "0", "1"}, wantErr: "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"},
		{args: []any{"zrange", "z", "0", "1", "limit", "0", "-1"}, want: []string{"a", "b"}},
		{args: []any{"zrange", "z", "0", "1", "limit", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"zrange", "z", "-", "+", "bylex", "withscores"}, wantErr: "ERR syntax error, WITHSCORES not supported in combination with BYLEX"},
		{args: []any{"zrange", "z", "0", "1", "byscore", "bylex"}, wantErr: "ERR syntax error"},
		{args: []any{"zrange", "z", "0", "1", "rev", "rev"}, wantErr: "ERR syntax error"},
		{args: []any{"zrange", "z", "(1", "3", "byscore", "withscores"}, want: []string{"b", "2", "c", "3"}},
		{args: []any{"zrange", "z", "+inf", "(2", "byscore", "rev", "limit", "1", "2"}, want: []string{"d", "c"}},
		{args: []any{"zrange", "nokey", "0", "1"}, want: []string{}},
		{args: []any{"zrange", "nokey", "a", "b", "byscore"}, wantErr: "ERR min or max is not a float"},
		{args: []any{"zrevrange", "z", "0", "1", "withscores"}, want: []string{"e", "5", "d", "4"}},
		{args: []any{"zrevrange", "z", "-1", "-1"}, want: []string{"a"}},
		{args: []any{"zrevrange", "z", "0", "1", "rev"}, wantErr: "ERR syntax error"},
		{args: []any{"zrevrange", "z", "0", "1", "limit", "1", "1"}, wantErr: "ERR syntax error, LIMIT is only supported"},
		// BYSCORE forms.
		{args: []any{"zrangebyscore", "z", "-inf", "+inf", "limit", "1", "2"}, want: []string{"b", "c"}},
		{args: []any{"zrangebyscore", "z", "-inf", "+inf", "limit", "-1", "2"}, want: []string{}},
		{args: []any{"zrangebyscore", "z", "-inf", "+inf", "limit", "3", "-1"}, want: []string{"d", "e"}},
		{args: []any{"zrangebyscore", "z", "-inf", "+inf", "limit", "1", "0"}, want: []string{}},
		{args: []any{"zrangebyscore", "z", "(1", "(3"}, want: []string{"b"}},
		{args: []any{"zrangebyscore", "z", "", "("}, want: []string{}},
		{args: []any{"zrangebyscore", "z", " 4", "1e400"}, want: []string{"d", "e"}},
		{args: []any{"zrangebyscore", "z", "3", "1"}, want: []string{}},
		{args: []any{"zrangebyscore", "z", "(2", "(2"}, want: []string{}},
		{args: []any{"zrangebyscore", "z", "abc", "1"}, wantErr: "ERR min or max is not a float"},
		{args: []any{"zrangebyscore", "z", "(nan", "1"}, wantErr: "ERR min or max is not a float"},
		{args: []any{"zrangebyscore", "z", "1", "2", "rev"}, wantErr: "ERR syntax error"},
		{args: []any{"zrevrangebyscore", "z", "+inf", "-inf", "withscores", "limit", "1", "2"}, want: []string{"d", "4", "c", "3"}},
		{args: []any{"zrevrangebyscore", "z", "1", "3"}, want: []string{}},
		{args: []any{"zcount", "z", "(1", "+inf"}, want: 4},
		{args: []any{"zcount", "z", "x", "1"}, wantErr: "ERR min or max is not a float"},
		{args: []any{"zcount", "nokey", "x", "1"}, wantErr: "ERR min or max is not a float"},
		{args: []any{"zcount", "nokey", "1", "2"}, want: 0},
		// BYLEX forms.
		{args: []any{"zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"}, want: 5},
		{args: []any{"zrangebylex", "l", "-", "+"}, want: []string{"a", "b", "c", "d", "e"}},
		{args: []any{"zrangebylex", "l", "[b", "(d"}, want: []string{"b", "c"}},
		{args: []any{"zrangebylex", "l", "(b", "[b"}, want: []string{}},
		{args: []any{"zrangebylex", "l", "-", "+", "limit", "1", "2"}, want: []string{"b", "c"}},
		{args: []any{"zrangebylex", "l", "-", "+", "limit", "-1", "2"}, want: []string{}},
		{args: []any{"zrangebylex", "l", "+", "-"}, want: []string{}},
		{args: []any{"zrangebylex", "l", "[", "+"}, want: []string{"a", "b", "c", "d", "e"}},
		{args: []any{"zrangebylex", "l", "a", "c"}, wantErr: "ERR min or max not valid string range item"},
		{args: []any{"zrangebylex", "l", "+a", "c"}, wantErr: "ERR min or max not valid string range item"},
		{args: []any{"zrevrangebylex", "l", "(d", "-", "limit", "1", "5"}, want: []string{"b", "a"}},
		{args: []any{"zrange", "l", "[d", "[b", "bylex", "rev"}, want: []string{"d", "c", "b"}},
		{args: []any{"zlexcount", "l", "[b", "+"}, want: 4},
		{args: []any{"zlexcount", "l", "-", "(b"}, want: 1},
		{args: []any{"zlexcount", "l", "x", "+"}, wantErr: "ERR min or max not valid string range item"},
		{args: []any{"zlexcount", "nokey", "-", "+"}, want: 0},
		// Ranks.
		{args: []any{"zrank", "z", "c"}, want: 2},
		{args: []any{"zrevrank", "z", "c"}, want: 2},
		{args: []any{"zrevrank", "z", "a"}, want: 4},
		{args: []any{"zrank", "z", "x"}, want: nil},
		{args: []any{"zrank", "nokey", "x"}, want: nil},
		{args: []any{"zrank", "z", "c", "withscore"}, wantErr: "ERR wrong number of arguments for 'zrank' command"},
		// ZRANGESTORE.
		{args: []any{"zrangestore", "d", "z", "1", "2"}, want: 2},
		{args: []any{"zrange", "d", "0", "-1", "withscores"}, want: []string{"b", "2", "c", "3"}},
		{args: []any{"zrangestore", "d", "z", "(2", "+inf", "byscore", "limit", "1", "5"}, want: 2},
		{args: []any{"zrange", "d", "0", "-1"}, want: []string{"d", "e"}},
		{args: []any{"zrangestore", "d", "l", "[c", "-", "bylex", "rev", "limit", "0", "2"}, want: 2},
		{args: []any{"zrange", "d", "0", "-1"}, want: []string{"b", "c"}},
		{args: []any{"zrangestore", "d", "z", "0", "1", "withscores"}, wantErr: "ERR syntax error"},
		{args: []any{"zrangestore", "d", "z", "5", "6"}, want: 0},
		{args: []any{"exists", "d"}, want: 0},
		{args: []any{"set", "s", "v"}, want: "OK"},
		{args: []any{"zrangestore", "d", "s", "0", "1"}, wantErr: zsetWrongType},
		{args: []any{"zrangestore", "s", "z", "0", "0"}, want: 1},
		{args: []any{"type", "s"}, want: "zset"},
		{args: []any{"zrangestore", "z", "z", "1", "2"}, want: 2},
		{args: []any{"zrange", "z", "0", "-1"}, want: []string{"b", "c"}},
		{args: []any{"zrangestore", "s", "nokey", "0", "-1"}, want: 0},
		{args: []any{"exists", "s"}, want: 0},
		// ZREMRANGEBY*.
		{args: []any{"zadd", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"}, want: 6},
		{args: []any{"zremrangebyrank", "r", "0", "0"}, want: 1},
		{args: []any{"zremrangebyrank", "r", "-2", "-1"}, want: 2},
		{args: []any{"zremrangebyrank", "r", "5", "10"}, want: 0},
		{args: []any{"zremrangebyrank", "r", "x", "0"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"zremrangebyscore", "r", "(2", "3"}, want: 1},
		{args: []any{"zremrangebyscore", "r", "x", "3"}, wantErr: "ERR min or max is not a float"},
		{args: []any{"zrange", "r", "0", "-1"}, want: []string{"b", "d"}},
		{args: []any{"zremrangebylex", "r", "-", "(c"}, want: 1},
		{args: []any{"zremrangebylex", "r", "a", "c"}, wantErr: "ERR min or max not valid string range item"},
		{args: []any{"zremrangebyscore", "r", "-inf", "+inf"}, want: 1},
		{args: []any{"exists", "r"}, want: 0},
		{args: []any{"zremrangebyrank", "nokey", "0", "-1"}, want: 0},
		{args: []any{"zadd", "s2", "1", "a"}, want: 1},
		{args: []any{"set", "s2", "v"}, want: "OK"},
		{args: []any{"zremrangebyrank", "s2", "0", "-1"}, wantErr: zsetWrongType},
		{args: []any{"zremrangebylex", "s2", "-", "+"}, wantErr: zsetWrongType},
		{args: []any{"zrange", "s2", "0", "-1"}, wantErr: zsetWrongType},
		{args: []any{"zrangebyscore", "s2", "0", "1"}, wantErr: zsetWrongType},
		{args: []any{"zcount", "s2", "0", "1"}, wantErr: zsetWrongType},
		{args: []any{"zlexcount", "s2", "-", "+"}, wantErr: zsetWrongType},
	})
}

// TestZRangeLexMixedScores pins Redis's (listpack) answers for lex ranges
// over members with different scores.
func TestZRangeLexMixedScores(t *testing.T) {
	c, _ := zsetSetup(t)
	run(t, c, []step{
		{args: []any{"zadd", "m", "-1", "h", "0", "e", "1", "b", "2", "a", "3", "d", "4", "c"}, want: 6},
		{args: []any{"zrangebylex", "m", "-", "[c"}, want: []string{}},
		{args: []any{"zrangebylex", "m", "[b", "+"}, want: []string{"h", "e", "b", "a", "d", "c"}},
		{args: []any{"zrangebylex", "m", "[c", "[f", "limit", "2", "3"}, want: []string{}},
		{args: []any{"zrevrangebylex", "m", "[e", "[a"}, want: []string{}},
		{args: []any{"zrevrangebylex", "m", "[h", "[b", "limit", "1", "3"}, want: []string{"d"}},
		{args: []any{"zrangebylex", "m", "[a", "[h", "limit", "1", "3"}, want: []string{"e", "b", "a"}},
		{args: []any{"zlexcount", "m", "[a", "[f"}, want: 0},
		{args: []any{"zlexcount", "m", "[a", "[h"}, want: 6},
		{args: []any{"zremrangebylex", "m", "[e", "[h"}, want: 0},
		{args: []any{"zlexcount", "m", "[b", "[z"}, want: 6},
	})
}

func TestZPop(t *testing.T) {
	c, _ := zsetSetup(t)
	run(t, c, []step{
		{args: []any{"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"}, want: 5},
		{args: []any{"zpopmin", "z"}, want: []any{"a", "1"}},
		{args: []any{"zpopmax", "z"}, want: []any{"e", "5"}},
		{args: []any{"zpopmin", "z", "0"}, want: []any{}},
		{args: []any{"zpopmax", "z", "2"}, want: []any{"d", "4", "c", "3"}},
		{args: []any{"zpopmin", "z", "x"}, wantErr: "ERR value is out of range, must be positive"},
		{args: []any{"zpopmin", "z", "-1"}, wantErr: "ERR value is out of range, must be positive"},
		{args: []any{"zpopmin", "z", "1", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"zpopmin", "z", "10"}, want: []any{"b", "2"}},
		{args: []any{"exists", "z"}, want: 0},
		{args: []any{"zpopmin", "z"}, want: []any{}},
		{args: []any{"zpopmin", "z", "3"}, want: []any{}},
		{args: []any{"set", "s", "v"}, want: "OK"},
		{args: []any{"zpopmin", "s"}, wantErr: zsetWrongType},
		{args: []any{"zpopmin", "s", "0"}, wantErr: zsetWrongType},
		// ZMPOP.
		{args: []any{"zadd", "z", "1", "a", "2", "b", "3", "c"}, want: 3},
		{args: []any{"zmpop", "0", "z", "min"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"zmpop", "x", "z", "min"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"zmpop", "2", "z", "min"}, wantErr: "ERR syntax error"},
		{args: []any{"zmpop", "1", "z", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"zmpop", "1", "z", "min", "count", "0"}, wantErr: "ERR count should be greater than 0"},
		{args: []any{"zmpop", "1", "z", "min", "count", "1", "count", "1"}, wantErr: "ERR syntax error"},
		{args: []any{"zmpop", "1", "z", "min", "count"}, wantErr: "ERR syntax error"},
		{args: []any{"zmpop", "1", "z", "min"}, want: []any{"z", []any{[]any{"a", "1"}}}},
		{args: []any{"zmpop", "2", "nokey", "z", "MAX", "COUNT", "5"}, want: []any{"z", []any{[]any{"c", "3"}, []any{"b", "2"}}}},
		{args: []any{"zmpop", "2", "nokey", "z", "min"}, want: nil},
		{args: []any{"zmpop", "2", "nokey", "s", "min"}, wantErr: zsetWrongType},
		{args: []any{"zadd", "z", "1", "a"}, want: 1},
		{args: []any{"zmpop", "2", "z", "s", "min"}, want: []any{"z", []any{[]any{"a", "1"}}}},
		// Non-blocking paths of the blocking forms.
		{args: []any{"zadd", "z", "1", "a", "2", "b", "3", "c"}, want: 3},
		{args: []any{"bzpopmin", "nokey", "z", "0"}, want: []any{"z", "a", "1"}},
		{args: []any{"bzpopmax", "z", "0"}, want: []any{"z", "c", "3"}},
		{args: []any{"bzpopmin", "s", "z", "0"}, wantErr: zsetWrongType},
		{args: []any{"bzpopmin", "z", "x"}, wantErr: "ERR timeout is not a float or out of range"},
		{args: []any{"bzpopmin", "z", "-1"}, wantErr: "ERR timeout is negative"},
		{args: []any{"bzmpop", "0", "2", "nokey", "z", "max", "count", "3"}, want: []any{"z", []any{[]any{"b", "2"}}}},
		{args: []any{"bzmpop", "x", "1", "z", "min"}, wantErr: "ERR timeout is not a float or out of range"},
		{args: []any{"bzmpop", "x", "0", "z", "min"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"bzmpop", "0.01", "1", "z", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"bzpopmin", "nokey", "0.01"}, want: nil},
		{args: []any{"bzmpop", "0.01", "1", "nokey", "min"}, want: nil},
	})
}

func TestZSetOps(t *testing.T) {
	c, _ := zsetSetup(t)
	run(t, c, []step{
		{args: []any{"zadd", "a", "1", "x", "2", "y", "3", "z"}, want: 3},
		{args: []any{"zadd", "b", "2", "y", "3", "z", "4", "w"}, want: 3},
		{args: []any{"sadd", "s", "y", "z", "q"}, want: 3},
		{args: []any{"set", "str", "v"}, want: "OK"},
		{args: []any{"zunion", "0", "a"}, wantErr: "ERR at least 1 input key is needed for 'zunion' command"},
		{args: []any{"zunionstore", "d", "0", "a"}, wantErr: "ERR at least 1 input key is needed for 'zunionstore' command"},
		{args: []any{"zinter", "-1", "a"}, wantErr: "ERR at least 1 input key is needed for 'zinter' command"},
		{args: []any{"zintercard", "0", "a"}, wantErr: "ERR at least 1 input key is needed for 'zintercard' command"},
		{args: []any{"zdiffstore", "d", "0", "a"}, wantErr: "ERR at least 1 input key is needed for 'zdiffstore' command"},
		{args: []any{"zunion", "x", "a"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"zunion", "3", "a"}, wantErr: "ERR syntax error"},
		{args: []any{"zunion", "1", "a", "weights", "x"}, wantErr: "ERR weight value is not a float"},
		{args: []any{"zunion", "1", "a", "weights", "1", "2"}, wantErr: "ERR syntax error"},
		{args: []any{"zunion", "1", "a", "aggregate", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"zunion", "2", "a", "str", "weights", "x"}, wantErr: zsetWrongType},
		{args: []any{"zunionstore", "d", "1", "a", "withscores"}, wantErr: "ERR syntax error"},
		{args: []any{"zdiff", "1", "a", "weights", "1"}, wantErr: "ERR syntax error"},
		{args: []any{"zintercard", "1", "a", "limit", "-1"}, wantErr: "ERR LIMIT can't be negative"},
		{args: []any{"zintercard", "1", "a", "limit", "x"}, wantErr: "ERR LIMIT can't be negative"},
		{args: []any{"zintercard", "1", "a", "withscores"}, wantErr: "ERR syntax error"},
		{args: []any{"zunion", "2", "a", "b", "withscores"}, want: []string{"x", "1", "w", "4", "y", "4", "z", "6"}},
		{args: []any{"zunion", "3", "a", "b", "s", "weights", "1", "2", "3", "aggregate", "max", "withscores"}, want: []string{"x", "1", "q", "3", "y", "4", "z", "6", "w", "8"}},
		{args: []any{"zunion", "2", "a", "nokey"}, want: []string{"x", "y", "z"}},
		{args: []any{"zinter", "3", "a", "b", "s", "withscores"}, want: []string{"y", "5", "z", "7"}},
		{args: []any{"zinter", "2", "a", "b", "aggregate", "min", "withscores"}, want: []string{"y", "2", "z", "3"}},
		{args: []any{"zinter", "2", "a", "nokey"}, want: []string{}},
		{args: []any{"zinter", "2", "a", "a", "weights", "1", "2", "withscores"}, want: []string{"x", "3", "y", "6", "z", "9"}},
		{args: []any{"zdiff", "2", "a", "b", "withscores"}, want: []string{"x", "1"}},
		{args: []any{"zdiff", "2", "s", "a", "withscores"}, want: []string{"q", "1"}},
		{args: []any{"zdiff", "2", "nokey", "a"}, want: []string{}},
		{args: []any{"zintercard", "2", "a", "b"}, want: 2},
		{args: []any{"zintercard", "2", "a", "b", "limit", "1"}, want: 1},
		{args: []any{"zintercard", "2", "a", "nokey"}, want: 0},
		{args: []any{"zunionstore", "d", "2", "a", "b", "weights", "2", "1"}, want: 4},
		{args: []any{"zrange", "d", "0", "-1", "withscores"}, want: []string{"x", "2", "w", "4", "y", "6", "z", "9"}},
		{args: []any{"zinterstore", "d", "2", "a", "b"}, want: 2},
		{args: []any{"zdiffstore", "d", "2", "a", "b"}, want: 1},
		{args: []any{"zrange", "d", "0", "-1", "withscores"}, want: []string{"x", "1"}},
		{args: []any{"zinterstore", "d", "2", "a", "nokey"}, want: 0},
		{args: []any{"exists", "d"}, want: 0},
		{args: []any{"zunionstore", "str", "1", "s"}, want: 3},
		{args: []any{"type", "str"}, want: "zset"},
		{args: []any{"zunionstore", "a", "2", "a", "b"}, want: 4},
		{args: []any{"zrange", "a", "0", "-1", "withscores"}, want: []string{"x", "1", "w", "4", "y", "4", "z", "6"}},
		// inf + -inf sums to 0; 0 * inf weights to 0.
		{args: []any{"zadd", "ia", "inf", "m", "-inf", "n"}, want: 2},
		{args: []any{"zadd", "ib", "-inf", "m", "inf", "n"}, want: 2},
		{args: []any{"zunion", "2", "ia", "ib", "withscores"}, want: []string{"m", "0", "n", "0"}},
		{args: []any{"zinter", "2", "ia", "ib", "weights", "0", "1", "withscores"}, want: []string{"m", "-inf", "n", "inf"}},
		{args: []any{"zinter", "2", "ia", "ib", "weights", "1", "0", "aggregate", "max", "withscores"}, want: []string{"n", "-inf", "m", "inf"}},
	})
}

func TestZScanRandMember(t *testing.T) {
	c, ctx := zsetSetup(t)
	run(t, c, []step{
		{args: []any{"zadd", "z", "1.5", "hello", "2", "hallo", "3", "hxllo", "1e17", "big", "4", "h"}, want: 5},
		{args: []any{"zscan", "z", "0"}, want: []any{"0", []any{"hello", "1.5", "hallo", "2", "hxllo", "3", "h", "4", "big", "100000000000000000"}}},
		{args: []any{"zscan", "z", "0", "match", "h?llo", "count", "100"}, want: []any{"0", []any{"hello", "1.5", "hallo", "2", "hxllo", "3"}}},
		{args: []any{"zscan", "z", "0", "match", "h[^e]llo"}, want: []any{"0", []any{"hallo", "2", "hxllo", "3"}}},
		{args: []any{"zscan", "z", "abc"}, wantErr: "ERR invalid cursor"},
		{args: []any{"zscan", "z", "0", "count", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"zscan", "z", "0", "count", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"zscan", "z", "0", "type", "zset"}, wantErr: "ERR syntax error"},
		{args: []any{"zscan", "nokey", "0", "bogus"}, want: []any{"0", []any{}}},
		{args: []any{"set", "s", "v"}, want: "OK"},
		{args: []any{"zscan", "s", "0"}, wantErr: zsetWrongType},
		{args: []any{"zrandmember", "s"}, wantErr: zsetWrongType},
		{args: []any{"zrandmember", "nokey"}, want: nil},
		{args: []any{"zrandmember", "nokey", "3"}, want: []string{}},
		{args: []any{"zrandmember", "z", "0"}, want: []string{}},
		{args: []any{"zrandmember", "z", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"zrandmember", "z", "-9223372036854775808"}, wantErr: "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{args: []any{"zrandmember", "z", "4611686018427387904", "withscores"}, wantErr: "ERR value is out of range"},
		{args: []any{"zrandmember", "z", "1", "withscore"}, wantErr: "ERR syntax error"},
		{args: []any{"zrandmember", "z", "1", "withscores", "x"}, wantErr: "ERR syntax error"},
		// The whole set: from the highest score down, as Redis iterates.
		{args: []any{"zrandmember", "z", "100", "withscores"}, want: []string{"big", "1e+17", "h", "4", "hxllo", "3", "hallo", "2", "hello", "1.5"}},
	})
	members := map[string]bool{"hello": true, "hallo": true, "hxllo": true, "big": true, "h": true}
	for i := 0; i < 20; i++ {
		one := c.Do(ctx, "zrandmember", "z").Val().(string)
		if !members[one] {
			t.Fatalf("zrandmember returned %q", one)
		}
		uniq := c.ZRandMember(ctx, "z", 3).Val()
		if len(uniq) != 3 || uniq[0] == uniq[1] || uniq[1] == uniq[2] || uniq[0] == uniq[2] {
			t.Fatalf("zrandmember 3 not distinct: %v", uniq)
		}
		rep := c.ZRandMember(ctx, "z", -8).Val()
		if len(rep) != 8 {
			t.Fatalf("zrandmember -8 returned %d", len(rep))
		}
		for _, m := range append(uniq, rep...) {
			if !members[m] {
				t.Fatalf("zrandmember returned %q", m)
			}
		}
		withs := c.Do(ctx, "zrandmember", "z", "-2", "withscores").Val().([]any)
		if len(withs) != 4 {
			t.Fatalf("zrandmember -2 withscores: %v", withs)
		}
	}
	// Few members of a small set come in set order, as from a listpack.
	ten := make([]redis.Z, 10)
	for i := range ten {
		ten[i] = redis.Z{Score: float64(i), Member: string(rune('a' + i))}
	}
	c.ZAdd(ctx, "ten", ten...)
	for i := 0; i < 20; i++ {
		got := c.ZRandMember(ctx, "ten", 3).Val()
		if len(got) != 3 || !slices.IsSorted(got) || got[0] == got[1] || got[1] == got[2] {
			t.Fatalf("zrandmember ten 3 = %v, want 3 distinct in set order", got)
		}
	}
}

// TestZRESP3 checks RESP3 reply types: doubles, nested pairs, flat pops.
func TestZRESP3(t *testing.T) {
	c, _ := zsetSetup(t, func(o *redis.Options) { o.Protocol = 3 })
	run(t, c, []step{
		{args: []any{"zadd", "z", "1.5", "a", "2", "b", "3", "c"}, want: 3},
		{args: []any{"zscore", "z", "a"}, want: 1.5},
		{args: []any{"zscore", "z", "x"}, want: nil},
		{args: []any{"zincrby", "z", "1", "c"}, want: 4.0},
		{args: []any{"zadd", "z", "incr", "0.5", "b"}, want: 2.5},
		{args: []any{"zmscore", "z", "a", "x"}, want: []any{1.5, nil}},
		{args: []any{"zrange", "z", "0", "-1", "withscores"}, want: []any{[]any{"a", 1.5}, []any{"b", 2.5}, []any{"c", 4.0}}},
		{args: []any{"zrange", "z", "0", "0"}, want: []any{"a"}},
		{args: []any{"zrangebyscore", "z", "2", "+inf", "withscores", "limit", "0", "1"}, want: []any{[]any{"b", 2.5}}},
		{args: []any{"zunion", "1", "z", "withscores"}, want: []any{[]any{"a", 1.5}, []any{"b", 2.5}, []any{"c", 4.0}}},
		{args: []any{"zrandmember", "z", "5", "withscores"}, want: []any{[]any{"c", 4.0}, []any{"b", 2.5}, []any{"a", 1.5}}},
		{args: []any{"zscan", "z", "0"}, want: []any{"0", []any{"a", "1.5", "b", "2.5", "c", "4"}}},
		{args: []any{"zpopmin", "z"}, want: []any{"a", 1.5}},
		{args: []any{"zpopmin", "z", "1"}, want: []any{[]any{"b", 2.5}}},
		{args: []any{"zadd", "z", "1", "a"}, want: 1},
		{args: []any{"zmpop", "1", "z", "max"}, want: []any{"z", []any{[]any{"c", 4.0}}}},
		{args: []any{"bzpopmin", "z", "0"}, want: []any{"z", "a", 1.0}},
		{args: []any{"bzpopmin", "z", "0.01"}, want: nil},
		{args: []any{"zadd", "inf", "inf", "p", "-inf", "n"}, want: 2},
		{args: []any{"zrange", "inf", "0", "-1", "withscores"}, want: []any{[]any{"n", math.Inf(-1)}, []any{"p", math.Inf(1)}}},
	})
}

// TestZBlocking covers clients parked in BZPOPMIN/BZPOPMAX/BZMPOP and woken
// by writes from other clients.
func TestZBlocking(t *testing.T) {
	s, addr := startServer(t)
	ctx := context.Background()
	writer := newClient(t, addr)
	feed := captureWrites(s, false)

	type result struct {
		v   any
		err error
	}
	block := func(args ...any) chan result {
		ch := make(chan result, 1)
		c := newClient(t, addr)
		go func() {
			v, err := c.Do(ctx, args...).Result()
			ch <- result{v, err}
		}()
		return ch
	}
	get := func(ch chan result) result {
		t.Helper()
		select {
		case r := <-ch:
			return r
		case <-time.After(30 * time.Second):
			t.Fatal("blocked client never answered")
		}
		return result{}
	}

	// BZPOPMIN woken by ZADD from another client.
	ch := block("bzpopmin", "k1", "k2", "0")
	waitBlocked(t, s, 1)
	feed.take()
	if err := writer.ZAdd(ctx, "k2", redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 1, Member: "a"}).Err(); err != nil {
		t.Fatal(err)
	}
	if r := get(ch); r.err != nil || !equalReply(r.v, []any{"k2", "a", "1"}) {
		t.Fatalf("bzpopmin woken: %#v %v", r.v, r.err)
	}
	waitBlocked(t, s, 0)
	if got := feed.take(); !slices.Equal(got, []string{"zadd k2 2 b 1 a", "ZPOPMIN k2"}) {
		t.Fatalf("propagated %q", got)
	}
	if got := writer.ZRange(ctx, "k2", 0, -1).Val(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("k2 after pop: %v", got)
	}

	// Two waiters on one key are served oldest first; BZPOPMAX pops the top.
	writer.Del(ctx, "k2")
	first := block("bzpopmax", "q", "0")
	waitBlocked(t, s, 1)
	second := block("bzmpop", "0", "1", "q", "min", "count", "5")
	waitBlocked(t, s, 2)
	feed.take()
	writer.ZAdd(ctx, "q", redis.Z{Score: 1, Member: "x"}, redis.Z{Score: 2, Member: "y"}, redis.Z{Score: 3, Member: "z"})
	if r := get(first); r.err != nil || !equalReply(r.v, []any{"q", "z", "3"}) {
		t.Fatalf("first waiter: %#v %v", r.v, r.err)
	}
	if r := get(second); r.err != nil || !equalReply(r.v, []any{"q", []any{[]any{"x", "1"}, []any{"y", "2"}}}) {
		t.Fatalf("second waiter: %#v %v", r.v, r.err)
	}
	waitBlocked(t, s, 0)
	if got := feed.take(); !slices.Equal(got, []string{"zadd q 1 x 2 y 3 z", "ZPOPMAX q", "ZPOPMIN q 5"}) {
		t.Fatalf("propagated %q", got)
	}
	if n := writer.Exists(ctx, "q").Val(); n != 0 {
		t.Fatal("emptied zset still exists")
	}

	// A ZUNIONSTORE / ZINCRBY creating the key wakes waiters too.
	ch = block("bzpopmin", "u", "0")
	waitBlocked(t, s, 1)
	writer.ZAdd(ctx, "src", redis.Z{Score: 7, Member: "m"})
	writer.ZUnionStore(ctx, "u", &redis.ZStore{Keys: []string{"src"}})
	if r := get(ch); r.err != nil || !equalReply(r.v, []any{"u", "m", "7"}) {
		t.Fatalf("woken by zunionstore: %#v %v", r.v, r.err)
	}
	ch = block("bzmpop", "0", "2", "nothing", "i", "max")
	waitBlocked(t, s, 1)
	writer.ZIncrBy(ctx, "i", 2.5, "m")
	if r := get(ch); r.err != nil || !equalReply(r.v, []any{"i", []any{[]any{"m", "2.5"}}}) {
		t.Fatalf("woken by zincrby: %#v %v", r.v, r.err)
	}

	// A key of another type does not wake the waiter; a timeout replies nil.
	ch = block("bzpopmin", "t", "0.2")
	waitBlocked(t, s, 1)
	writer.Set(ctx, "t", "string", 0)
	if r := get(ch); r.err != redis.Nil {
		t.Fatalf("timeout: %#v %v", r.v, r.err)
	}

	// Inside MULTI the blocking forms never block.
	c := newClient(t, addr)
	pipe := c.TxPipeline()
	pop := pipe.Do(ctx, "bzpopmin", "none", "0")
	mpop := pipe.Do(ctx, "bzmpop", "0", "1", "none", "min")
	pipe.Exec(ctx)
	if pop.Err() != redis.Nil || mpop.Err() != redis.Nil {
		t.Fatalf("in MULTI: %v %v", pop.Err(), mpop.Err())
	}
}

// TestZBlockingRace has many poppers and pushers: every element is popped
// exactly once.
func TestZBlockingRace(t *testing.T) {
	s, addr := startServer(t)
	ctx := context.Background()
	const poppers, perPopper = 4, 25
	var wg sync.WaitGroup
	got := make(chan string, poppers*perPopper)
	for i := 0; i < poppers; i++ {
		c := newClient(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perPopper; j++ {
				v, err := c.BZPopMin(ctx, 5*time.Second, "ra", "rb").Result()
				if err != nil {
					t.Error(err)
					return
				}
				got <- v.Member.(string)
			}
		}()
	}
	w := newClient(t, addr)
	for i := 0; i < poppers*perPopper; i++ {
		key := "ra"
		if i%2 == 1 {
			key = "rb"
		}
		w.ZAdd(ctx, key, redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)})
	}
	wg.Wait()
	close(got)
	seen := map[string]bool{}
	for m := range got {
		if seen[m] {
			t.Fatalf("%s popped twice", m)
		}
		seen[m] = true
	}
	if len(seen) != poppers*perPopper {
		t.Fatalf("popped %d, want %d", len(seen), poppers*perPopper)
	}
	waitBlocked(t, s, 0)
}

// TestZPropagation checks every write is propagated once with a
// deterministic argv, and no-ops not at all.
func TestZPropagation(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	feed := captureWrites(s, false)
	cases := []struct {
		args []any
		want []string
	}{
		{[]any{"zadd", "z", "1", "a", "2", "b", "3", "c"}, []string{"zadd z 1 a 2 b 3 c"}},
		{[]any{"zadd", "z", "1", "a"}, nil},
		{[]any{"zadd", "z", "nx", "5", "a"}, nil},
		{[]any{"zadd", "z", "incr", "1.1", "a"}, []string{"ZADD z 2.1000000000000001 a"}},
		{[]any{"zadd", "z", "xx", "incr", "1", "nope"}, nil},
		{[]any{"zincrby", "z", "0.5", "b"}, []string{"ZADD z 2.5 b"}},
		{[]any{"zincrby", "z", "0", "b"}, nil},
		{[]any{"zrem", "z", "nope"}, nil},
		{[]any{"zrem", "z", "c", "nope"}, []string{"zrem z c nope"}},
		{[]any{"zpopmin", "z"}, []string{"zpopmin z"}},
		{[]any{"zpopmin", "z", "0"}, nil},
		{[]any{"zadd", "z", "1", "a", "3", "c", "4", "d"}, []string{"zadd z 1 a 3 c 4 d"}},
		{[]any{"zmpop", "1", "z", "max"}, []string{"ZPOPMAX z 1"}},
		{[]any{"bzpopmin", "z", "0"}, []string{"ZPOPMIN z"}},
		{[]any{"bzmpop", "0", "1", "z", "min", "count", "9"}, []string{"ZPOPMIN z 9"}},
		{[]any{"zadd", "z", "1", "a", "2", "b", "3", "c"}, []string{"zadd z 1 a 2 b 3 c"}},
		{[]any{"zremrangebyscore", "z", "10", "20"}, nil},
		{[]any{"zremrangebyscore", "z", "3", "3"}, []string{"zremrangebyscore z 3 3"}},
		{[]any{"zremrangebyrank", "z", "5", "6"}, nil},
		{[]any{"zremrangebylex", "z", "[zz", "+"}, nil},
		{[]any{"zrangestore", "d", "z", "0", "-1"}, []string{"zrangestore d z 0 -1"}},
		{[]any{"zrangestore", "d", "z", "5", "6"}, []string{"zrangestore d z 5 6"}},
		{[]any{"zrangestore", "d", "z", "5", "6"}, nil},
		{[]any{"zunionstore", "d", "1", "z"}, []string{"zunionstore d 1 z"}},
		{[]any{"zinterstore", "e", "2", "z", "nokey"}, nil},
		{[]any{"zrange", "z", "0", "-1"}, nil},
		{[]any{"zscore", "z", "a"}, nil},
	}
	for _, tc := range cases {
		if err := c.Do(ctx, tc.args...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got := feed.take(); !slices.Equal(got, tc.want) {
			t.Errorf("%v propagated %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestZExpired checks that expired sorted sets behave as missing keys.
func TestZExpired(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	for _, k := range []string{"e1", "e2", "e3", "e4", "e5"} {
		c.ZAdd(ctx, k, redis.Z{Score: 1, Member: "a"})
		expireNow(t, s, 0, k)
	}
	run(t, c, []step{
		{args: []any{"zcard", "e1"}, want: 0},
		{args: []any{"zscore", "e1", "a"}, want: nil},
		{args: []any{"zrange", "e1", "0", "-1"}, want: []string{}},
		{args: []any{"zadd", "e2", "xx", "2", "a"}, want: 0},
		{args: []any{"zadd", "e3", "2", "b"}, want: 1},
		{args: []any{"zrange", "e3", "0", "-1"}, want: []string{"b"}},
		{args: []any{"ttl", "e3"}, want: -1},
		{args: []any{"zpopmin", "e4"}, want: []any{}},
		{args: []any{"zunion", "2", "e5", "e3"}, want: []string{"b"}},
		{args: []any{"bzpopmin", "e5", "0.01"}, want: nil},
	})
}

// TestZLarge exercises sets past the listpack thresholds (skiplist paths)
// and checks rank arithmetic against expected values.
func TestZLarge(t *testing.T) {
	c, ctx := zsetSetup(t)
	const n = 1000
	zs := make([]redis.Z, n)
	lex := make([]redis.Z, n)
	for i := range zs {
		zs[i] = redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)}
		lex[i] = redis.Z{Score: 0, Member: string(rune('a'+i%26)) + strconv.Itoa(1000+i)}
	}
	c.ZAdd(ctx, "big", zs...)
	c.ZAdd(ctx, "lex", lex...)
	if r := c.ZRank(ctx, "big", "m777").Val(); r != 777 {
		t.Fatalf("zrank %d", r)
	}
	if r := c.ZRevRank(ctx, "big", "m777").Val(); r != n-1-777 {
		t.Fatalf("zrevrank %d", r)
	}
	if got := c.ZRangeByScore(ctx, "big", &redis.ZRangeBy{Min: "(500", Max: "+inf", Offset: 10, Count: 3}).Val(); !slices.Equal(got, []string{"m511", "m512", "m513"}) {
		t.Fatalf("zrangebyscore: %v", got)
	}
	if got := c.ZRevRangeByScore(ctx, "big", &redis.ZRangeBy{Min: "-inf", Max: "(500", Offset: 10, Count: 2}).Val(); !slices.Equal(got, []string{"m489", "m488"}) {
		t.Fatalf("zrevrangebyscore: %v", got)
	}
	if got := c.ZCount(ctx, "big", "100", "(200").Val(); got != 100 {
		t.Fatalf("zcount %d", got)
	}
	if got := c.ZLexCount(ctx, "lex", "[b", "(c").Val(); got != 39 {
		t.Fatalf("zlexcount %d", got)
	}
	if got := c.ZRangeByLex(ctx, "lex", &redis.ZRangeBy{Min: "(b1001", Max: "+", Count: 2}).Val(); !slices.Equal(got, []string{"b1027", "b1053"}) {
		t.Fatalf("zrangebylex %v", got)
	}
	if got := c.ZRemRangeByRank(ctx, "big", 100, 199).Val(); got != 100 {
		t.Fatalf("zremrangebyrank %d", got)
	}
	if got := c.ZRemRangeByScore(ctx, "big", "(900", "+inf").Val(); got != 99 {
		t.Fatalf("zremrangebyscore %d", got)
	}
	if got := c.ZCard(ctx, "big").Val(); got != n-199 {
		t.Fatalf("zcard %d", got)
	}
	if r := c.ZRank(ctx, "big", "m777").Val(); r != 677 {
		t.Fatalf("zrank after removals %d", r)
	}
	if got := c.ObjectEncoding(ctx, "big").Val(); got != "skiplist" {
		t.Fatalf("encoding %q", got)
	}
	popped := c.ZPopMax(ctx, "big", 2).Val()
	if len(popped) != 2 || popped[0].Member != "m900" || popped[1].Member != "m899" {
		t.Fatalf("zpopmax %v", popped)
	}
}
