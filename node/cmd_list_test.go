package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	listErrRank = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	listWT      = "WRONGTYPE Operation against a key holding the wrong kind of value"
)

func TestListPushPop(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "s", "str"}, want: "OK"},
		{args: []any{"lpush", "l", "a", "b", "c"}, want: 3},
		{args: []any{"lrange", "l", "0", "-1"}, want: []string{"c", "b", "a"}},
		{args: []any{"rpush", "l", "d", "e"}, want: 5},
		{args: []any{"lrange", "l", "0", "-1"}, want: []string{"c", "b", "a", "d", "e"}},
		{args: []any{"lpush", "l"}, wantErr: "ERR wrong number of arguments for 'lpush' command"},
		{args: []any{"rpush"}, wantErr: "ERR wrong number of arguments for 'rpush' command"},
		{args: []any{"lpush", "s", "a"}, wantErr: listWT},
		{args: []any{"rpush", "s", "a"}, wantErr: listWT},
		{args: []any{"lpushx", "nokey", "a"}, want: 0},
		{args: []any{"rpushx", "nokey", "a"}, want: 0},
		{args: []any{"lpushx", "s", "a"}, wantErr: listWT},
		{args: []any{"rpushx", "s", "a"}, wantErr: listWT},
		{args: []any{"lpushx", "l", "z", "y"}, want: 7},
		{args: []any{"rpushx", "l", "f"}, want: 8},
		{args: []any{"lrange", "l", "0", "-1"}, want: []string{"y", "z", "c", "b", "a", "d", "e", "f"}},
		{args: []any{"llen", "l"}, want: 8},
		{args: []any{"llen", "nokey"}, want: 0},
		{args: []any{"llen", "s"}, wantErr: listWT},
		// LPOP / RPOP without count.
		{args: []any{"lpop", "l"}, want: "y"},
		{args: []any{"rpop", "l"}, want: "f"},
		{args: []any{"lpop", "nokey"}, want: nil},
		{args: []any{"rpop", "nokey"}, want: nil},
		{args: []any{"lpop", "s"}, wantErr: listWT},
		// With count: null array for a missing key, empty array for 0.
		{args: []any{"lpop", "nokey", "0"}, want: nil},
		{args: []any{"lpop", "nokey", "2"}, want: nil},
		{args: []any{"lpop", "l", "0"}, want: []string{}},
		{args: []any{"rpop", "l", "0"}, want: []string{}},
		{args: []any{"lpop", "l", "2"}, want: []string{"z", "c"}},
		{args: []any{"rpop", "l", "2"}, want: []string{"e", "d"}},
		{args: []any{"lpop", "l", "-1"}, wantErr: errNotPositive},
		{args: []any{"lpop", "nokey", "-1"}, wantErr: errNotPositive},
		{args: []any{"lpop", "s", "-1"}, wantErr: errNotPositive},
		{args: []any{"lpop", "l", "abc"}, wantErr: errNotPositive},
		{args: []any{"lpop", "l", "1.5"}, wantErr: errNotPositive},
		{args: []any{"lpop", "l", "99999999999999999999"}, wantErr: errNotPositive},
		{args: []any{"lpop", "s", "0"}, wantErr: listWT},
		{args: []any{"lpop", "l", "1", "2"}, wantErr: "ERR wrong number of arguments for 'lpop' command"},
		{args: []any{"rpop", "l", "1", "2"}, wantErr: "ERR wrong number of arguments for 'rpop' command"},
		{args: []any{"lpop"}, wantErr: "ERR wrong number of arguments for 'lpop' command"},
		// Popping the last elements deletes the key.
		{args: []any{"rpop", "l", "100"}, want: []string{"a", "b"}},
		{args: []any{"llen", "l"}, want: 0},
		{args: []any{"lpushx", "l", "a"}, want: 0},
		{args: []any{"rpush", "l", "a"}, want: 1},
		{args: []any{"lpop", "l"}, want: "a"},
		{args: []any{"rpushx", "l", "a"}, want: 0},
		// Empty elements are elements.
		{args: []any{"rpush", "e", "", ""}, want: 2},
		{args: []any{"lrange", "e", "0", "-1"}, want: []string{"", ""}},
		{args: []any{"lpop", "e"}, want: ""},
		{args: []any{"rpop", "e", "3"}, want: []string{""}},
		{args: []any{"llen", "e"}, want: 0},
	})
}

func TestListRangeIndexSet(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "s", "str"}, want: "OK"},
		{args: []any{"rpush", "l", "a", "b", "c"}, want: 3},
		{args: []any{"lrange", "l", "0", "-1"}, want: []string{"a", "b", "c"}},
		{args: []any{"lrange", "l", "-100", "100"}, want: []string{"a", "b", "c"}},
		{args: []any{"lrange", "l", "1", "1"}, want: []string{"b"}},
		{args: []any{"lrange", "l", "-2", "-1"}, want: []string{"b", "c"}},
		{args: []any{"lrange", "l", "-2", "-3"}, want: []string{}},
		{args: []any{"lrange", "l", "2", "1"}, want: []string{}},
		{args: []any{"lrange", "l", "3", "10"}, want: []string{}},
		{args: []any{"lrange", "l", "0", "9223372036854775807"}, want: []string{"a", "b", "c"}},
		{args: []any{"lrange", "l", "-9223372036854775808", "-1"}, want: []string{"a", "b", "c"}},
		{args: []any{"lrange", "l", "a", "1"}, wantErr: errNotInt},
		{args: []any{"lrange", "l", "0", "b"}, wantErr: errNotInt},
		{args: []any{"lrange", "nokey", "0", "-1"}, want: []string{}},
		{args: []any{"lrange", "nokey", "a", "b"}, wantErr: errNotInt},
		{args: []any{"lrange", "s", "0", "-1"}, wantErr: listWT},
		{args: []any{"lrange", "s", "a", "1"}, wantErr: errNotInt},
		{args: []any{"lrange", "l", "0"}, wantErr: "ERR wrong number of arguments for 'lrange' command"},
		// LINDEX: a missing key answers nil before the index is parsed.
		{args: []any{"lindex", "l", "0"}, want: "a"},
		{args: []any{"lindex", "l", "-1"}, want: "c"},
		{args: []any{"lindex", "l", "-3"}, want: "a"},
		{args: []any{"lindex", "l", "3"}, want: nil},
		{args: []any{"lindex", "l", "-4"}, want: nil},
		{args: []any{"lindex", "l", "-9223372036854775808"}, want: nil},
		{args: []any{"lindex", "l", "abc"}, wantErr: errNotInt},
		{args: []any{"lindex", "nokey", "0"}, want: nil},
		{args: []any{"lindex", "nokey", "abc"}, want: nil},
		{args: []any{"lindex", "s", "0"}, wantErr: listWT},
		{args: []any{"lindex", "s", "abc"}, wantErr: listWT},
		// LSET: key first, then type, then index.
		{args: []any{"lset", "l", "0", "A"}, want: "OK"},
		{args: []any{"lset", "l", "-1", "C"}, want: "OK"},
		{args: []any{"lrange", "l", "0", "-1"}, want: []string{"A", "b", "C"}},
		{args: []any{"lset", "l", "3", "x"}, wantErr: "ERR index out of range"},
		{args: []any{"lset", "l", "-4", "x"}, wantErr: "ERR index out of range"},
		{args: []any{"lset", "l", "9223372036854775807", "x"}, wantErr: "ERR index out of range"},
		{args: []any{"lset", "l", "abc", "x"}, wantErr: errNotInt},
		{args: []any{"lset", "nokey", "0", "x"}, wantErr: errNoSuchKey},
		{args: []any{"lset", "nokey", "abc", "x"}, wantErr: errNoSuchKey},
		{args: []any{"lset", "s", "0", "x"}, wantErr: listWT},
		{args: []any{"lset", "s", "abc", "x"}, wantErr: listWT},
		{args: []any{"lset", "l", "1", ""}, want: "OK"},
		{args: []any{"lindex", "l", "1"}, want: ""},
	})
}

func TestListRemTrimInsert(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "s", "str"}, want: "OK"},
		{args: []any{"rpush", "r1", "a", "b", "a", "c", "a", "d", "a"}, want: 7},
		{args: []any{"lrem", "r1", "2", "a"}, want: 2},
		{args: []any{"lrange", "r1", "0", "-1"}, want: []string{"b", "c", "a", "d", "a"}},
		{args: []any{"rpush", "r2", "a", "b", "a", "c", "a", "d", "a"}, want: 7},
		{args: []any{"lrem", "r2", "-2", "a"}, want: 2},
		{args: []any{"lrange", "r2", "0", "-1"}, want: []string{"a", "b", "a", "c", "d"}},
		{args: []any{"rpush", "r3", "a", "b", "a", "c", "a"}, want: 5},
		{args: []any{"lrem", "r3", "0", "a"}, want: 3},
		{args: []any{"lrange", "r3", "0", "-1"}, want: []string{"b", "c"}},
		{args: []any{"lrem", "r3", "0", "zz"}, want: 0},
		{args: []any{"lrem", "r3", "5", "b"}, want: 1},
		{args: []any{"lrem", "r3", "-5", "c"}, want: 1},
		{args: []any{"llen", "r3"}, want: 0},
		{args: []any{"rpush", "r4", "a", "a"}, want: 2},
		{args: []any{"lrem", "r4", "-9223372036854775808", "a"}, want: 2},
		{args: []any{"llen", "r4"}, want: 0},
		{args: []any{"lrem", "r1", "abc", "a"}, wantErr: errNotInt},
		{args: []any{"lrem", "nokey", "0", "a"}, want: 0},
		{args: []any{"lrem", "nokey", "abc", "a"}, wantErr: errNotInt},
		{args: []any{"lrem", "s", "0", "a"}, wantErr: listWT},
		{args: []any{"lrem", "s", "abc", "a"}, wantErr: errNotInt},
		// LTRIM.
		{args: []any{"rpush", "t", "a", "b", "c", "d", "e", "f"}, want: 6},
		{args: []any{"ltrim", "t", "1", "-2"}, want: "OK"},
		{args: []any{"lrange", "t", "0", "-1"}, want: []string{"b", "c", "d", "e"}},
		{args: []any{"ltrim", "t", "0", "100"}, want: "OK"},
		{args: []any{"lrange", "t", "0", "-1"}, want: []string{"b", "c", "d", "e"}},
		{args: []any{"ltrim", "t", "-3", "1"}, want: "OK"},
		{args: []any{"lrange", "t", "0", "-1"}, want: []string{"c"}},
		{args: []any{"rpush", "t", "x", "y"}, want: 3},
		{args: []any{"ltrim", "t", "-9223372036854775808", "9223372036854775807"}, want: "OK"},
		{args: []any{"lrange", "t", "0", "-1"}, want: []string{"c", "x", "y"}},
		{args: []any{"ltrim", "t", "a", "1"}, wantErr: errNotInt},
		{args: []any{"ltrim", "t", "0", "b"}, wantErr: errNotInt},
		{args: []any{"ltrim", "nokey", "0", "1"}, want: "OK"},
		{args: []any{"ltrim", "nokey", "a", "1"}, wantErr: errNotInt},
		{args: []any{"ltrim", "s", "0", "1"}, wantErr: listWT},
		{args: []any{"ltrim", "s", "a", "1"}, wantErr: errNotInt},
		{args: []any{"ltrim", "t", "2", "1"}, want: "OK"},
		{args: []any{"llen", "t"}, want: 0},
		{args: []any{"rpush", "t", "a"}, want: 1},
		{args: []any{"ltrim", "t", "1", "-1"}, want: "OK"},
		{args: []any{"llen", "t"}, want: 0},
		// LINSERT.
		{args: []any{"rpush", "i", "a", "b"}, want: 2},
		{args: []any{"linsert", "i", "before", "b", "X"}, want: 3},
		{args: []any{"linsert", "i", "AFTER", "b", "Y"}, want: 4},
		{args: []any{"linsert", "i", "Before", "a", "Z"}, want: 5},
		{args: []any{"linsert", "i", "after", "Y", "W"}, want: 6},
		{args: []any{"lrange", "i", "0", "-1"}, want: []string{"Z", "a", "X", "b", "Y", "W"}},
		{args: []any{"linsert", "i", "after", "zz", "Y"}, want: -1},
		{args: []any{"linsert", "i", "middle", "a", "Y"}, wantErr: errSyntax},
		{args: []any{"linsert", "nokey", "before", "a", "Y"}, want: 0},
		{args: []any{"linsert", "nokey", "middle", "a", "Y"}, wantErr: errSyntax},
		{args: []any{"linsert", "s", "before", "a", "Y"}, wantErr: listWT},
		{args: []any{"linsert", "s", "middle", "a", "Y"}, wantErr: errSyntax},
		{args: []any{"linsert", "i", "before", "a"}, wantErr: "ERR wrong number of arguments for 'linsert' command"},
	})
}

func TestListPos(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "s", "str"}, want: "OK"},
		{args: []any{"rpush", "l", "a", "b", "a", "c", "a"}, want: 5},
		{args: []any{"lpos", "l", "a"}, want: 0},
		{args: []any{"lpos", "l", "c"}, want: 3},
		{args: []any{"lpos", "l", "zz"}, want: nil},
		{args: []any{"lpos", "l", "zz", "count", "0"}, want: []any{}},
		{args: []any{"lpos", "l", "a", "rank", "2"}, want: 2},
		{args: []any{"lpos", "l", "a", "rank", "-1"}, want: 4},
		{args: []any{"lpos", "l", "a", "rank", "-2", "maxlen", "3"}, want: 2},
		{args: []any{"lpos", "l", "a", "rank", "4"}, want: nil},
		{args: []any{"lpos", "l", "a", "count", "0"}, want: []any{0, 2, 4}},
		{args: []any{"lpos", "l", "a", "count", "2"}, want: []any{0, 2}},
		{args: []any{"lpos", "l", "a", "rank", "-1", "count", "2"}, want: []any{4, 2}},
		{args: []any{"lpos", "l", "a", "rank", "2", "count", "0"}, want: []any{2, 4}},
		{args: []any{"lpos", "l", "a", "count", "0", "maxlen", "3"}, want: []any{0, 2}},
		{args: []any{"lpos", "l", "a", "count", "1", "maxlen", "1"}, want: []any{0}},
		{args: []any{"lpos", "l", "b", "maxlen", "1"}, want: nil},
		{args: []any{"lpos", "l", "a", "maxlen", "0"}, want: 0},
		{args: []any{"lpos", "l", "a", "RANK", "1", "COUNT", "1", "MAXLEN", "0"}, want: []any{0}},
		{args: []any{"lpos", "l", "a", "rank", "1", "rank", "3"}, want: 4},
		{args: []any{"lpos", "l", "a", "count", "0", "count", "1"}, want: []any{0}},
		{args: []any{"lpos", "l", "a", "rank", "9223372036854775807"}, want: nil},
		{args: []any{"lpos", "l", "a", "rank", "-9223372036854775807", "count", "1"}, want: []any{}},
		// Redis's arithmetic wraps for the most negative rank.
		{args: []any{"lpos", "l", "a", "rank", "-9223372036854775808"}, want: 4},
		{args: []any{"lpos", "l", "a", "rank", "-9223372036854775808", "count", "1"}, want: []any{4, 2, 0}},
		{args: []any{"lpos", "l", "a", "rank", "0"}, wantErr: listErrRank},
		{args: []any{"lpos", "nokey", "a", "rank", "0"}, wantErr: listErrRank},
		{args: []any{"lpos", "s", "a", "rank", "0"}, wantErr: listErrRank},
		{args: []any{"lpos", "l", "a", "rank", "abc"}, wantErr: errNotInt},
		{args: []any{"lpos", "l", "a", "rank", "99999999999999999999"}, wantErr: errNotInt},
		{args: []any{"lpos", "l", "a", "count", "-1"}, wantErr: "ERR COUNT can't be negative"},
		{args: []any{"lpos", "l", "a", "count", "abc"}, wantErr: "ERR COUNT can't be negative"},
		{args: []any{"lpos", "l", "a", "maxlen", "-1"}, wantErr: "ERR MAXLEN can't be negative"},
		{args: []any{"lpos", "l", "a", "maxlen", "1.5"}, wantErr: "ERR MAXLEN can't be negative"},
		{args: []any{"lpos", "l", "a", "foo", "1"}, wantErr: errSyntax},
		{args: []any{"lpos", "l", "a", "rank"}, wantErr: errSyntax},
		{args: []any{"lpos", "nokey", "a"}, want: nil},
		{args: []any{"lpos", "nokey", "a", "count", "0"}, want: []any{}},
		{args: []any{"lpos", "s", "a"}, wantErr: listWT},
		{args: []any{"lpos", "l"}, wantErr: "ERR wrong number of arguments for 'lpos' command"},
	})
}

func TestListMove(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "s", "str"}, want: "OK"},
		{args: []any{"rpush", "a", "1", "2", "3"}, want: 3},
		{args: []any{"lmove", "a", "b", "left", "right"}, want: "1"},
		{args: []any{"lmove", "a", "b", "RIGHT", "LEFT"}, want: "3"},
		{args: []any{"lrange", "b", "0", "-1"}, want: []string{"3", "1"}},
		{args: []any{"lmove", "a", "b", "left", "left"}, want: "2"},
		{args: []any{"llen", "a"}, want: 0},
		{args: []any{"lrange", "b", "0", "-1"}, want: []string{"2", "3", "1"}},
		{args: []any{"lmove", "b", "b", "left", "right"}, want: "2"},
		{args: []any{"lrange", "b", "0", "-1"}, want: []string{"3", "1", "2"}},
		{args: []any{"rpoplpush", "b", "b"}, want: "2"},
		{args: []any{"lrange", "b", "0", "-1"}, want: []string{"2", "3", "1"}},
		{args: []any{"rpoplpush", "b", "c"}, want: "1"},
		{args: []any{"lrange", "c", "0", "-1"}, want: []string{"1"}},
		// A one-element list moved onto itself survives.
		{args: []any{"lmove", "c", "c", "left", "left"}, want: "1"},
		{args: []any{"lrange", "c", "0", "-1"}, want: []string{"1"}},
		// Missing source: nil, whatever the destination.
		{args: []any{"lmove", "nokey", "s", "left", "left"}, want: nil},
		{args: []any{"rpoplpush", "nokey", "s"}, want: nil},
		{args: []any{"lmove", "s", "b", "left", "left"}, wantErr: listWT},
		{args: []any{"lmove", "b", "s", "left", "left"}, wantErr: listWT},
		{args: []any{"rpoplpush", "s", "b"}, wantErr: listWT},
		{args: []any{"rpoplpush", "b", "s"}, wantErr: listWT},
		{args: []any{"lrange", "b", "0", "-1"}, want: []string{"2", "3"}},
		{args: []any{"lmove", "b", "x", "up", "left"}, wantErr: errSyntax},
		{args: []any{"lmove", "nokey", "x", "left", "down"}, wantErr: errSyntax},
		{args: []any{"lmove", "b", "x", "left"}, wantErr: "ERR wrong number of arguments for 'lmove' command"},
		{args: []any{"rpoplpush", "b"}, wantErr: "ERR wrong number of arguments for 'rpoplpush' command"},
	})
}

func TestListMPop(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "s", "str"}, want: "OK"},
		{args: []any{"rpush", "l", "a", "b", "c", "d", "e"}, want: 5},
		{args: []any{"lmpop", "1", "l", "left"}, want: []any{"l", []any{"a"}}},
		{args: []any{"lmpop", "1", "l", "RIGHT", "COUNT", "2"}, want: []any{"l", []any{"e", "d"}}},
		{args: []any{"lmpop", "2", "nokey", "l", "left", "count", "10"}, want: []any{"l", []any{"b", "c"}}},
		{args: []any{"llen", "l"}, want: 0},
		{args: []any{"lmpop", "1", "nokey", "left"}, want: nil},
		{args: []any{"lmpop", "2", "nokey", "s", "left"}, wantErr: listWT},
		{args: []any{"lmpop", "2", "s", "nokey", "left"}, wantErr: listWT},
		{args: []any{"rpush", "l", "x"}, want: 1},
		{args: []any{"lmpop", "2", "l", "s", "left"}, want: []any{"l", []any{"x"}}},
		{args: []any{"lmpop", "0", "l", "left"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"lmpop", "-1", "l", "left"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"lmpop", "abc", "l", "left"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"lmpop", "99999999999999999999", "l", "left"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"lmpop", "2", "l", "left"}, wantErr: errSyntax},
		{args: []any{"lmpop", "9223372036854775807", "l", "left"}, wantErr: errSyntax},
		{args: []any{"lmpop", "1", "l", "middle"}, wantErr: errSyntax},
		{args: []any{"lmpop", "1", "l", "left", "count", "0"}, wantErr: "ERR count should be greater than 0"},
		{args: []any{"lmpop", "1", "l", "left", "count", "-1"}, wantErr: "ERR count should be greater than 0"},
		{args: []any{"lmpop", "1", "l", "left", "count", "abc"}, wantErr: "ERR count should be greater than 0"},
		{args: []any{"lmpop", "1", "s", "left", "count", "0"}, wantErr: "ERR count should be greater than 0"},
		{args: []any{"lmpop", "1", "l", "left", "count", "1", "count", "2"}, wantErr: errSyntax},
		{args: []any{"lmpop", "1", "l", "left", "count"}, wantErr: errSyntax},
		{args: []any{"lmpop", "1", "l", "left", "foo"}, wantErr: errSyntax},
		{args: []any{"lmpop", "1", "l"}, wantErr: "ERR wrong number of arguments for 'lmpop' command"},
	})
}

// TestListBlockingImmediate covers the blocking commands when they need not
// block: served at once, errors, and inside MULTI.
func TestListBlockingImmediate(t *testing.T) {
	c, ctx := setup(t)
	run(t, c, []step{
		{args: []any{"set", "s", "str"}, want: "OK"},
		{args: []any{"rpush", "l", "a", "b", "c", "d"}, want: 4},
		{args: []any{"blpop", "nokey", "l", "0"}, want: []any{"l", "a"}},
		{args: []any{"brpop", "l", "nokey", "0"}, want: []any{"l", "d"}},
		{args: []any{"blpop", "l", "s", "0"}, want: []any{"l", "b"}},
		{args: []any{"blpop", "nokey", "s", "0"}, wantErr: listWT},
		{args: []any{"blpop", "s", "0.01"}, wantErr: listWT},
		{args: []any{"brpoplpush", "l", "l", "0"}, want: "c"},
		{args: []any{"blmove", "l", "m", "left", "left", "0"}, want: "c"},
		{args: []any{"llen", "l"}, want: 0},
		{args: []any{"blmpop", "0", "2", "nokey", "m", "right", "count", "5"}, want: []any{"m", []any{"c"}}},
		{args: []any{"llen", "m"}, want: 0},
		{args: []any{"brpoplpush", "s", "x", "0"}, wantErr: listWT},
		{args: []any{"rpush", "l", "a"}, want: 1},
		{args: []any{"brpoplpush", "l", "s", "0"}, wantErr: listWT},
		{args: []any{"blmove", "l", "s", "left", "left", "0"}, wantErr: listWT},
		{args: []any{"blmpop", "0.01", "2", "nokey", "s", "left"}, wantErr: listWT},
		// Timeouts.
		{args: []any{"blpop", "nokey", "-1"}, wantErr: errNegTimeout},
		{args: []any{"blpop", "nokey", "abc"}, wantErr: errTimeout},
		{args: []any{"blpop", "nokey", "nan"}, wantErr: errTimeout},
		{args: []any{"blpop", "s", "abc"}, wantErr: errTimeout},
		{args: []any{"brpop", "nokey", "-0.5"}, wantErr: errNegTimeout},
		{args: []any{"brpoplpush", "s", "x", "abc"}, wantErr: errTimeout},
		{args: []any{"blmove", "s", "x", "left", "left", "abc"}, wantErr: errTimeout},
		{args: []any{"blmpop", "-1", "1", "s", "left"}, wantErr: errNegTimeout},
		{args: []any{"blmpop", "abc", "1", "s", "left"}, wantErr: errTimeout},
		// Argument syntax is checked before the timeout by BLMOVE / BLMPOP.
		{args: []any{"blmove", "s", "x", "up", "left", "abc"}, wantErr: errSyntax},
		{args: []any{"blmpop", "abc", "1", "s", "up"}, wantErr: errSyntax},
		{args: []any{"blmpop", "abc", "1", "s", "left", "count", "0"}, wantErr: "ERR count should be greater than 0"},
		{args: []any{"blmpop", "abc", "0", "s", "left"}, wantErr: "ERR numkeys should be greater than 0"},
		{args: []any{"blmpop", "0", "5", "s", "left"}, wantErr: errSyntax},
		{args: []any{"blpop", "k"}, wantErr: "ERR wrong number of arguments for 'blpop' command"},
		{args: []any{"blmpop", "0", "1", "k"}, wantErr: "ERR wrong number of arguments for 'blmpop' command"},
		// Short timeouts expire with nil.
		{args: []any{"blpop", "nokey", "0.01"}, want: nil},
		{args: []any{"brpop", "nokey", "0.01"}, want: nil},
		{args: []any{"brpoplpush", "nokey", "x", "0.01"}, want: nil},
		{args: []any{"blmove", "nokey", "x", "left", "right", "0.01"}, want: nil},
		{args: []any{"blmpop", "0.01", "1", "nokey", "left"}, want: nil},
	})
	// Inside MULTI nothing blocks: the timeout reply comes at once.
	c.RPush(ctx, "m", "a", "b", "c")
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "blpop", "nokey", "0")
		p.Do(ctx, "brpoplpush", "nokey", "x", "0")
		p.Do(ctx, "blmove", "nokey", "x", "left", "right", "0")
		p.Do(ctx, "blmpop", "0", "1", "nokey", "left")
		p.Do(ctx, "brpop", "m", "0")
		p.Do(ctx, "blmpop", "0", "1", "m", "left", "count", "5")
		return nil
	})
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds[:4] {
		if err := cmd.Err(); err != redis.Nil {
			t.Errorf("MULTI cmd %d: got %v, want nil", i, err)
		}
	}
	if v, _ := cmds[4].(*redis.Cmd).Result(); !equalReply(v, []any{"m", "c"}) {
		t.Errorf("BRPOP in MULTI: got %#v", v)
	}
	if v, _ := cmds[5].(*redis.Cmd).Result(); !equalReply(v, []any{"m", []any{"a", "b"}}) {
		t.Errorf("BLMPOP in MULTI: got %#v", v)
	}
}

func TestListRESP3(t *testing.T) {
	_, addr := startServer(t)
	c := newClient(t, addr, func(o *redis.Options) { o.Protocol = 3 })
	ctx := context.Background()
	c.RPush(ctx, "l", "a", "b")
	for _, args := range [][]any{
		{"lpop", "nokey"}, {"lpop", "nokey", "2"}, {"lindex", "nokey", "0"}, {"lpos", "nokey", "a"},
		{"lmpop", "1", "nokey", "left"}, {"blpop", "nokey", "0.01"}, {"blmove", "nokey", "x", "left", "left", "0.01"},
		{"blmpop", "0.01", "1", "nokey", "left"},
	} {
		if v, err := do(ctx, c, args...); err != redis.Nil {
			t.Errorf("%v: got (%#v, %v), want RESP3 null", args, v, err)
		}
	}
	if v, err := do(ctx, c, "lmpop", "1", "l", "left", "count", "5"); err != nil || !equalReply(v, []any{"l", []any{"a", "b"}}) {
		t.Errorf("LMPOP: got (%#v, %v)", v, err)
	}
}

// TestListExpired: an expired list is a missing key.
func TestListExpired(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.RPush(ctx, "l", "a", "b")
	tx := s.Store().Lock1(0, []byte("l"))
	tx.DB(0).SetExpire([]byte("l"), time.Now().UnixMilli()-1)
	tx.Unlock()
	run(t, c, []step{
		{args: []any{"llen", "l"}, want: 0},
		{args: []any{"lpushx", "l", "x"}, want: 0},
		{args: []any{"lpop", "l"}, want: nil},
		{args: []any{"lrange", "l", "0", "-1"}, want: []string{}},
		{args: []any{"rpush", "l", "c"}, want: 1},
		{args: []any{"lrange", "l", "0", "-1"}, want: []string{"c"}},
	})
	tx = s.Store().Lock1(0, []byte("l"))
	o := tx.DB(0).Get([]byte("l"))
	exp := o.Expire
	tx.Unlock()
	if exp != 0 {
		t.Errorf("recreated list kept the old TTL: %v", exp)
	}
}

type listResult struct {
	v   any
	err error
}

// listGo runs a command on its own client in the background.
func listGo(t *testing.T, addr string, args ...any) (<-chan listResult, *redis.Client) {
	c := newClient(t, addr)
	ch := make(chan listResult, 1)
	go func() {
		v, err := do(context.Background(), c, args...)
		ch <- listResult{v, err}
	}()
	return ch, c
}

func listRecv(t *testing.T, ch <-chan listResult) listResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("blocked client was not served")
	}
	return listResult{}
}

func TestListBlockingWake(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	ch, _ := listGo(t, addr, "blpop", "k1", "k2", "0")
	waitBlocked(t, s, 1)
	if n := c.LPush(ctx, "k2", "v").Val(); n != 1 {
		t.Fatalf("LPUSH: %d", n)
	}
	if r := listRecv(t, ch); r.err != nil || !equalReply(r.v, []any{"k2", "v"}) {
		t.Fatalf("BLPOP: got (%#v, %v)", r.v, r.err)
	}
	waitBlocked(t, s, 0)
	if n := c.LLen(ctx, "k2").Val(); n != 0 {
		t.Fatal("served element still in the list")
	}
	// BRPOP and BLMPOP are woken the same way, with the pushed side.
	ch, _ = listGo(t, addr, "brpop", "k3", "0")
	waitBlocked(t, s, 1)
	c.RPush(ctx, "k3", "a", "b")
	if r := listRecv(t, ch); r.err != nil || !equalReply(r.v, []any{"k3", "b"}) {
		t.Fatalf("BRPOP: got (%#v, %v)", r.v, r.err)
	}
	ch, _ = listGo(t, addr, "blmpop", "0", "2", "k4", "k3", "left", "count", "5")
	waitBlocked(t, s, 0)
	if r := listRecv(t, ch); r.err != nil || !equalReply(r.v, []any{"k3", []any{"a"}}) {
		t.Fatalf("BLMPOP: got (%#v, %v)", r.v, r.err)
	}
	ch, _ = listGo(t, addr, "blmpop", "0", "2", "k4", "k5", "right", "count", "2")
	waitBlocked(t, s, 1)
	c.RPush(ctx, "k5", "x", "y", "z")
	if r := listRecv(t, ch); r.err != nil || !equalReply(r.v, []any{"k5", []any{"z", "y"}}) {
		t.Fatalf("BLMPOP: got (%#v, %v)", r.v, r.err)
	}
	if got := c.LRange(ctx, "k5", 0, -1).Val(); len(got) != 1 || got[0] != "x" {
		t.Fatalf("k5 after BLMPOP: %v", got)
	}
}

func TestListBlockingFIFO(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	var chans []<-chan listResult
	for i := 1; i <= 3; i++ {
		ch, _ := listGo(t, addr, "blpop", "q", "0")
		chans = append(chans, ch)
		waitBlocked(t, s, int64(i)) // registered in this order
	}
	c.RPush(ctx, "q", "a", "b", "c", "d")
	for i, want := range []string{"a", "b", "c"} {
		if r := listRecv(t, chans[i]); r.err != nil || !equalReply(r.v, []any{"q", want}) {
			t.Fatalf("client %d: got (%#v, %v), want %s", i+1, r.v, r.err, want)
		}
	}
	if got := c.LRange(ctx, "q", 0, -1).Val(); len(got) != 1 || got[0] != "d" {
		t.Fatalf("left in list: %v", got)
	}
	waitBlocked(t, s, 0)
}

func TestListBlockingTimeout(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	for _, args := range [][]any{
		{"blpop", "nokey", "0.1"},
		{"brpoplpush", "nokey", "x", "0.1"},
		{"blmpop", "0.1", "1", "nokey", "left"},
	} {
		start := time.Now()
		v, err := do(ctx, c, args...)
		el := time.Since(start)
		if err != redis.Nil {
			t.Errorf("%v: got (%#v, %v), want nil", args, v, err)
		}
		// Not before the timeout; the upper bound only tells a hang from
		// a busy machine.
		if el < 90*time.Millisecond || el > 30*time.Second {
			t.Errorf("%v: returned after %v, want after the 100ms timeout", args, el)
		}
		t.Logf("%v: returned after %v (timeout 100ms)", args, el)
	}
	waitBlocked(t, s, 0)
	// A timed-out client no longer takes elements.
	c.RPush(ctx, "nokey", "v")
	if got := c.LRange(ctx, "nokey", 0, -1).Val(); len(got) != 1 {
		t.Fatalf("element lost after timeouts: %v", got)
	}
}

func TestListBlockingMove(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	ch, _ := listGo(t, addr, "blmove", "src", "dst", "left", "right", "0")
	waitBlocked(t, s, 1)
	c.RPush(ctx, "dst", "old")
	c.RPush(ctx, "src", "a", "b")
	if r := listRecv(t, ch); r.err != nil || r.v != "a" {
		t.Fatalf("BLMOVE: got (%#v, %v)", r.v, r.err)
	}
	if got := c.LRange(ctx, "dst", 0, -1).Val(); strings.Join(got, ",") != "old,a" {
		t.Fatalf("dst: %v", got)
	}
	if got := c.LRange(ctx, "src", 0, -1).Val(); strings.Join(got, ",") != "b" {
		t.Fatalf("src: %v", got)
	}
	// A chain: BRPOPLPUSH feeds a list another client waits on.
	ch1, _ := listGo(t, addr, "brpoplpush", "s1", "s2", "0")
	waitBlocked(t, s, 1)
	ch2, _ := listGo(t, addr, "blpop", "s2", "0")
	waitBlocked(t, s, 2)
	c.LPush(ctx, "s1", "x")
	if r := listRecv(t, ch1); r.err != nil || r.v != "x" {
		t.Fatalf("BRPOPLPUSH: got (%#v, %v)", r.v, r.err)
	}
	if r := listRecv(t, ch2); r.err != nil || !equalReply(r.v, []any{"s2", "x"}) {
		t.Fatalf("BLPOP on destination: got (%#v, %v)", r.v, r.err)
	}
	// The same key as source and destination.
	ch, _ = listGo(t, addr, "blmove", "r", "r", "right", "left", "0")
	waitBlocked(t, s, 1)
	c.RPush(ctx, "r", "only")
	if r := listRecv(t, ch); r.err != nil || r.v != "only" {
		t.Fatalf("BLMOVE r r: got (%#v, %v)", r.v, r.err)
	}
	if got := c.LRange(ctx, "r", 0, -1).Val(); strings.Join(got, ",") != "only" {
		t.Fatalf("r: %v", got)
	}
}

// A blocked BLMOVE whose destination holds another type when served gets
// WRONGTYPE and the element goes to the next client, as in Redis 7.0.
func TestListBlockingMoveWrongTypeDst(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.Set(ctx, "dst", "str", 0)
	ch1, _ := listGo(t, addr, "blmove", "src", "dst", "left", "right", "0")
	waitBlocked(t, s, 1)
	ch2, _ := listGo(t, addr, "blpop", "src", "0")
	waitBlocked(t, s, 2)
	c.RPush(ctx, "src", "x")
	if r := listRecv(t, ch1); r.err == nil || r.err.Error() != listWT {
		t.Fatalf("BLMOVE: got (%#v, %v), want WRONGTYPE", r.v, r.err)
	}
	if r := listRecv(t, ch2); r.err != nil || !equalReply(r.v, []any{"src", "x"}) {
		t.Fatalf("BLPOP: got (%#v, %v)", r.v, r.err)
	}
}

func TestListBlockingMultiExec(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	ch, _ := listGo(t, addr, "blpop", "k", "0")
	waitBlocked(t, s, 1)
	conn := c.Conn()
	defer conn.Close()
	cdo := func(args ...any) (any, error) {
		cmd := redis.NewCmd(ctx, args...)
		conn.Process(ctx, cmd)
		return cmd.Result()
	}
	if _, err := cdo("multi"); err != nil {
		t.Fatal(err)
	}
	if v, err := cdo("lpush", "k", "a", "b"); err != nil || v != "QUEUED" {
		t.Fatalf("queued LPUSH: %v %v", v, err)
	}
	select {
	case r := <-ch:
		t.Fatalf("served before EXEC: %#v", r)
	default:
	}
	v, err := cdo("exec")
	if err != nil || !equalReply(v, []any{2}) {
		t.Fatalf("EXEC: %#v %v", v, err)
	}
	if r := listRecv(t, ch); r.err != nil || !equalReply(r.v, []any{"k", "b"}) {
		t.Fatalf("BLPOP: got (%#v, %v)", r.v, r.err)
	}
	// A push and a pop in the same transaction: the blocked client gets
	// what is left after EXEC.
	ch, _ = listGo(t, addr, "blpop", "k2", "0")
	waitBlocked(t, s, 1)
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, "k2", "x", "y")
		p.LPop(ctx, "k2")
		return nil
	})
	if err != nil || cmds[1].(*redis.StringCmd).Val() != "x" {
		t.Fatalf("transaction: %v %v", cmds, err)
	}
	if r := listRecv(t, ch); r.err != nil || !equalReply(r.v, []any{"k2", "y"}) {
		t.Fatalf("BLPOP: got (%#v, %v)", r.v, r.err)
	}
	if n := c.LLen(ctx, "k").Val(); n != 1 {
		t.Fatalf("k length %d, want 1", n)
	}
}

// A client that closed its connection while blocked must not take an
// element: it stays for the next waiter or in the list.
func TestListBlockedClosedConn(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	chDead, dead := listGo(t, addr, "blpop", "k", "0")
	waitBlocked(t, s, 1)
	chLive, _ := listGo(t, addr, "blpop", "k", "0")
	waitBlocked(t, s, 2)
	dead.Close()
	if r := listRecv(t, chDead); r.err == nil {
		t.Fatalf("closed client got a reply: %#v", r.v)
	}
	c.RPush(ctx, "k", "v1")
	if r := listRecv(t, chLive); r.err != nil || !equalReply(r.v, []any{"k", "v1"}) {
		t.Fatalf("live client: got (%#v, %v)", r.v, r.err)
	}
	waitBlocked(t, s, 0)

	// Alone: the element stays in the list.
	chDead, dead = listGo(t, addr, "brpoplpush", "k", "d", "0")
	waitBlocked(t, s, 1)
	dead.Close()
	listRecv(t, chDead)
	c.RPush(ctx, "k", "v2")
	if got := c.LRange(ctx, "k", 0, -1).Val(); strings.Join(got, ",") != "v2" {
		t.Fatalf("k: %v", got)
	}
	if n := c.LLen(ctx, "d").Val(); n != 0 {
		t.Fatalf("moved to d for a closed client")
	}
}

// TestListPropagation checks that every write is propagated once, with a
// deterministic argv, and no-ops not at all.
func TestListPropagation(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	take := captureWrites(s, false).take
	expect := func(want ...string) {
		t.Helper()
		g := take()
		if strings.Join(g, "|") != strings.Join(want, "|") {
			t.Errorf("propagated %q, want %q", g, want)
		}
	}
	c.Set(ctx, "s", "str", 0)
	take()
	for _, args := range [][]any{
		{"rpush", "l", "a", "b", "c", "d", "e", "f"},
		{"lpop", "l"},
		{"rpop", "l", "2"},
		{"lset", "l", "0", "B"},
		{"linsert", "l", "after", "B", "X"},
		{"lrem", "l", "1", "X"},
		{"ltrim", "l", "0", "1"},
		{"lmove", "l", "m", "left", "right"},
		{"rpoplpush", "m", "l"},
		{"lmpop", "2", "nokey", "l", "right", "count", "5"},
		{"rpush", "l", "a", "b"},
		{"blpop", "l", "0"},
		{"blmove", "l", "m", "right", "left", "0"},
		{"brpoplpush", "m", "l", "0"},
		{"blmpop", "0", "1", "l", "left", "count", "3"},
	} {
		c.Do(ctx, args...)
	}
	expect(
		"rpush l a b c d e f",
		"lpop l",
		"rpop l 2",
		"lset l 0 B",
		"linsert l after B X",
		"lrem l 1 X",
		"ltrim l 0 1",
		"lmove l m left right",
		"rpoplpush m l",
		"RPOP l 2",
		"rpush l a b",
		"LPOP l",
		"LMOVE l m RIGHT LEFT",
		"RPOPLPUSH m l",
		"LPOP l 1",
	)
	// Writes that change nothing propagate nothing.
	c.RPush(ctx, "e", "a", "b")
	expect("rpush e a b")
	for _, args := range [][]any{
		{"lpop", "nokey"}, {"rpop", "e", "0"}, {"lpushx", "nokey", "a"}, {"lrem", "e", "0", "zz"},
		{"ltrim", "e", "0", "-1"}, {"ltrim", "nokey", "0", "1"}, {"linsert", "e", "before", "zz", "a"},
		{"lmove", "nokey", "m", "left", "left"}, {"lmpop", "1", "nokey", "left"}, {"lset", "nokey", "0", "a"},
		{"blpop", "nokey", "0.01"}, {"lpush", "s", "x"},
	} {
		c.Do(ctx, args...)
	}
	expect()
	// Served blocked clients propagate the non-blocking equivalent, after
	// the push that woke them.
	ch, _ := listGo(t, addr, "brpop", "w", "0")
	waitBlocked(t, s, 1)
	c.LPush(ctx, "w", "1")
	listRecv(t, ch)
	ch, _ = listGo(t, addr, "blmove", "w", "w2", "left", "left", "0")
	waitBlocked(t, s, 1)
	c.LPush(ctx, "w", "2")
	listRecv(t, ch)
	ch, _ = listGo(t, addr, "blmpop", "0", "1", "w", "right", "count", "9")
	waitBlocked(t, s, 1)
	c.LPush(ctx, "w", "3", "4")
	listRecv(t, ch)
	expect(
		"lpush w 1", "RPOP w",
		"lpush w 2", "LMOVE w w2 LEFT LEFT",
		"lpush w 3 4", "RPOP w 2",
	)
}

// TestListValuesNotAliased: pipelined commands share the server's read
// buffer, so stored elements must be copies.
func TestListValuesNotAliased(t *testing.T) {
	c, ctx := setup(t)
	p := c.Pipeline()
	for i := 0; i < 50; i++ {
		p.RPush(ctx, "l", strings.Repeat(string(rune('a'+i%26)), 10))
		p.LInsert(ctx, "l", "before", strings.Repeat(string(rune('a'+i%26)), 10), strings.Repeat("X", 5))
		p.LSet(ctx, "l", 0, "first")
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	got := c.LRange(ctx, "l", 0, -1).Val()
	if len(got) != 100 || got[0] != "first" {
		t.Fatalf("len %d first %q", len(got), got[0])
	}
	for i := 1; i < len(got); i++ {
		if got[i] != strings.Repeat("X", 5) && strings.Trim(got[i], got[i][:1]) != "" {
			t.Fatalf("corrupted element %d: %q", i, got[i])
		}
	}
}
