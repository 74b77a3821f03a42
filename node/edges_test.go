package node

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/redistest"
)

// Integer edges: the extremes of int64 and one past them.
const (
	i64Max  = "9223372036854775807"
	i64Min  = "-9223372036854775808"
	i64NMax = "-9223372036854775807"
	i64Over = "9223372036854775808"
	u64Max  = "18446744073709551615"
	u64Over = "18446744073709551616"
)

// How two replies are compared: exactly, as sets (random order), or by
// shape only (random content).
const (
	cmpExact = iota
	cmpSorted
	cmpShape
	cmpAny // only "no internal error": the reply is the implementation's own
)

type edgeCase struct {
	args []string
	cmp  int
}

func ec(args ...string) edgeCase { return edgeCase{args: args} }

func ecSorted(args ...string) edgeCase { return edgeCase{args: args, cmp: cmpSorted} }

func ecShape(args ...string) edgeCase { return edgeCase{args: args, cmp: cmpShape} }

func ecAny(args ...string) edgeCase { return edgeCase{args: args, cmp: cmpAny} }

// edgeSetup is run on both servers first. Keys: s = "hello", n = "10", l
// and its copies = [a b c d e], z and its copies = {a:1 .. e:5}, st and its
// copies = {a b c}, h = {f: v, g: 1}.
var edgeSetup = [][]string{
	{"FLUSHALL"},
	{"SET", "s", "hello"}, {"SET", "n", "10"}, {"SET", "fl", "1.5"},
	{"RPUSH", "l", "a", "b", "c", "d", "e"},
	{"RPUSH", "l2", "a", "b", "c", "d", "e"}, {"RPUSH", "l3", "a", "b", "c", "d", "e"},
	{"RPUSH", "l4", "a", "b", "c", "d", "e"}, {"RPUSH", "l5", "a", "b", "c", "d", "e"},
	{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	{"ZADD", "z2", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	{"ZADD", "z3", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
	{"SADD", "st", "a", "b", "c"}, {"SADD", "st2", "a", "b", "c"},
	{"RPUSH", "l6", "a", "b"}, {"RPUSH", "l7", "a", "b"},
	{"ZADD", "z4", "1", "a", "2", "b"}, {"ZADD", "z5", "1", "a", "2", "b"},
	{"HSET", "h", "f", "v", "g", "1"},
}

// edgeCases are the offset, length, count and time arguments at their
// extremes, for every command that does arithmetic on them.
var edgeCases = []edgeCase{
	// SETRANGE: offset + length past proto-max-bulk-len or int64.
	ec("SETRANGE", "s", i64Max, "A"),
	ec("SETRANGE", "s", "9223372036854775806", "AB"),
	ec("SETRANGE", "s", "536870912", "A"),
	ec("SETRANGE", "s", "536870911", "AB"),
	ec("SETRANGE", "s", i64Max, ""),
	ec("SETRANGE", "s", "-1", "A"),
	ec("SETRANGE", "s", i64Min, "A"),
	ec("SETRANGE", "s", i64Over, "A"),
	ec("SETRANGE", "nokey", i64Max, ""),
	ec("SETRANGE", "nokey", i64Max, "A"),
	ec("SETRANGE", "nokey", "536870911", "AB"),
	ec("EXISTS", "nokey"),
	ec("SETRANGE", "l", i64Max, "A"),
	ec("SETRANGE", "s", "1", ""),
	ec("SETRANGE", "s", "5", "!"),
	ec("GET", "s"),
	// GETRANGE / SUBSTR.
	ec("GETRANGE", "s", "0", i64Max),
	ec("GETRANGE", "s", i64Min, i64Max),
	ec("GETRANGE", "s", i64Max, i64Min),
	ec("GETRANGE", "s", "-1", i64Min),
	ec("GETRANGE", "s", i64Min, "-1"),
	ec("GETRANGE", "s", i64Min, i64Min),
	ec("GETRANGE", "s", i64Max, i64Max),
	ec("GETRANGE", "s", "5", "5"),
	ec("GETRANGE", "s", "4", i64Max),
	ec("GETRANGE", "s", "0", "-7"),
	ec("GETRANGE", "s", "-100", "-100"),
	ec("GETRANGE", "s", "0", i64Over),
	ec("GETRANGE", "nokey", "0", i64Max),
	ec("SUBSTR", "s", i64Min, i64Max),
	ec("SUBSTR", "s", "-3", i64Max),
	// SETBIT / GETBIT: offsets are bits, bounded by proto-max-bulk-len.
	ec("SETBIT", "bits", i64Max, "1"),
	ec("SETBIT", "bits", "4294967296", "1"),
	ec("SETBIT", "bits", "-1", "1"),
	ec("SETBIT", "bits", i64Over, "1"),
	ec("SETBIT", "bits", "7", "2"),
	ec("SETBIT", "bits", "7", "1"),
	ec("GETBIT", "bits", i64Max),
	ec("GETBIT", "bits", "4294967296"),
	ec("GETBIT", "bits", "4294967295"),
	ec("GETBIT", "bits", "-1"),
	ec("GETBIT", "bits", "7"),
	ec("GETBIT", "nokey", "4294967295"),
	// BITCOUNT / BITPOS ranges, BYTE and BIT.
	ec("BITCOUNT", "s", "0", i64Max),
	ec("BITCOUNT", "s", i64Min, i64Max),
	ec("BITCOUNT", "s", i64Max, i64Min),
	ec("BITCOUNT", "s", i64Min, i64Min),
	ec("BITCOUNT", "s", i64Max, i64Max),
	ec("BITCOUNT", "s", "-1", i64Min),
	ec("BITCOUNT", "s", i64Min, "-1", "BIT"),
	ec("BITCOUNT", "s", "0", i64Max, "BIT"),
	ec("BITCOUNT", "s", i64Max, i64Max, "BIT"),
	ec("BITCOUNT", "s", i64Min, i64Min, "BIT"),
	ec("BITCOUNT", "s", "-3", "-1", "BIT"),
	ec("BITCOUNT", "s", i64Min, i64Max, "BYTE"),
	ec("BITCOUNT", "s", "0", i64Over),
	ec("BITCOUNT", "s", "0"),
	ec("BITCOUNT", "s", "0", "1", "BITS"),
	ec("BITCOUNT", "nokey", i64Min, i64Max, "BIT"),
	ec("BITPOS", "s", "1", i64Min),
	ec("BITPOS", "s", "1", i64Max),
	ec("BITPOS", "s", "0", i64Max),
	ec("BITPOS", "s", "1", i64Min, i64Max),
	ec("BITPOS", "s", "0", i64Min, i64Max),
	ec("BITPOS", "s", "1", i64Max, i64Min),
	ec("BITPOS", "s", "0", "0", i64Max, "BIT"),
	ec("BITPOS", "s", "1", i64Min, i64Min, "BIT"),
	ec("BITPOS", "s", "1", "-1", i64Min, "BIT"),
	ec("BITPOS", "s", "0", "2", "-1", "BIT"),
	ec("BITPOS", "s", "1", i64Min, i64Max, "BIT"),
	ec("BITPOS", "s", "0", i64Max, i64Max, "BIT"),
	ec("BITPOS", "s", "1", "-2", "-1", "BYTE"),
	ec("BITPOS", "s", "2"),
	ec("BITPOS", "s", "1", i64Over),
	ec("BITPOS", "nokey", "0", i64Max),
	ec("BITPOS", "nokey", "1", i64Min, i64Max, "BIT"),
	// Counters.
	ec("INCRBY", "n", i64Max),
	ec("INCRBY", "n", i64Min),
	ec("DECRBY", "n", i64Min),
	ec("DECRBY", "n", i64Max),
	ec("INCRBY", "n", i64Over),
	ec("SET", "big", i64Max),
	ec("INCR", "big"),
	ec("INCRBY", "big", "0"),
	ec("DECRBY", "big", "-1"),
	ec("SET", "small", i64Min),
	ec("DECR", "small"),
	ec("DECRBY", "small", "1"),
	ec("INCRBY", "small", "-1"),
	ec("INCRBY", "small", i64Max),
	ec("GET", "small"),
	ec("SET", "over", i64Over),
	ec("INCR", "over"),
	ec("INCRBYFLOAT", "fl", "1e308"),
	ec("INCRBYFLOAT", "fl", "1e308"),
	ec("INCRBYFLOAT", "fl", "inf"),
	ec("INCRBYFLOAT", "fl", "nan"),
	ec("INCRBYFLOAT", "fl", "1e400"),
	ec("HINCRBY", "h", "g", i64Max),
	ec("HINCRBY", "h", "g", i64Min),
	ec("HINCRBY", "h", "g", i64NMax),
	ec("HINCRBY", "h", "g", "-3"),
	ec("HINCRBY", "h", "g", i64Over),
	ec("HINCRBYFLOAT", "h", "g", "1e308"),
	ec("HINCRBYFLOAT", "h", "g", "1e308"),
	ec("HGET", "h", "g"),
	// Expiry times that overflow in seconds, milliseconds or now+ttl.
	ec("SET", "e", "v", "EX", i64Max),
	ec("SET", "e", "v", "PX", i64Max),
	ec("SET", "e", "v", "EX", "9223372036854775"),
	ec("SET", "e", "v", "EX", "9223372036854776"),
	ec("SET", "e", "v", "PX", "9223372036854775000"),
	ec("SET", "e", "v", "EXAT", i64Max),
	ec("SET", "e", "v", "PXAT", i64Max),
	ec("SET", "e", "v", "EX", "0"),
	ec("SET", "e", "v", "EX", "-1"),
	ec("SET", "e", "v", "EX", i64Min),
	ec("SET", "e", "v", "PXAT", i64Min),
	ec("SET", "e", "v", "EX", i64Over),
	ec("SETEX", "e", i64Max, "v"),
	ec("SETEX", "e", "0", "v"),
	ec("SETEX", "e", i64Min, "v"),
	ec("PSETEX", "e", i64Max, "v"),
	ec("PSETEX", "e", "-5", "v"),
	ec("EXISTS", "e"),
	ec("GETEX", "s", "EX", i64Max),
	ec("GETEX", "s", "PX", i64Max),
	ec("GETEX", "s", "EXAT", i64Max),
	ec("GETEX", "s", "PXAT", i64Max),
	ec("GETEX", "s", "EX", "0"),
	ec("GETEX", "s", "EX", i64Min),
	ec("GETEX", "nokey", "EX", i64Max),
	ec("GETEX", "nokey", "EX", "0"),
	ec("GETEX", "l", "EX", i64Max),
	ec("EXPIRE", "s", i64Max),
	ec("EXPIRE", "s", "9223372036854775"),
	ec("EXPIRE", "s", i64Min),
	ec("EXPIRE", "s", i64Over),
	ec("PEXPIRE", "s", i64Max),
	ec("PEXPIRE", "s", i64Min),
	ec("EXPIREAT", "s", i64Max),
	ec("EXPIREAT", "s", "9223372036854775"),
	ec("EXPIREAT", "s", i64Min),
	ec("EXPIRE", "nokey", i64Max),
	ec("PEXPIREAT", "s", i64Max),
	ec("PEXPIRETIME", "s"),
	ec("EXPIRETIME", "s"),
	ec("PEXPIREAT", "s", "9223372036854775806", "GT"),
	ec("EXPIRE", "s", "100", "LT"),
	ec("TTL", "s"),
	ec("PERSIST", "s"),
	ec("RESTORE", "r", i64Max, "x"),
	ec("RESTORE", "r", "-1", "x"),
	// Lists: indexes at the extremes.
	ec("LRANGE", "l", i64Min, i64Max),
	ec("LRANGE", "l", i64Max, i64Min),
	ec("LRANGE", "l", "-1", i64Max),
	ec("LRANGE", "l", i64Min, "-1"),
	ec("LRANGE", "l", i64Min, i64Min),
	ec("LRANGE", "l", i64Max, i64Max),
	ec("LRANGE", "l", "-5", "-5"),
	ec("LRANGE", "l", "-6", "-6"),
	ec("LRANGE", "l", "0", i64Over),
	ec("LRANGE", "nol", i64Min, i64Max),
	ec("LINDEX", "l", i64Max),
	ec("LINDEX", "l", i64Min),
	ec("LINDEX", "l", "-5"),
	ec("LINDEX", "l", "-6"),
	ec("LINDEX", "l", i64Over),
	ec("LSET", "l", i64Max, "x"),
	ec("LSET", "l", i64Min, "x"),
	ec("LSET", "l", "-5", "x"),
	ec("LSET", "nol", "0", "x"),
	ec("LTRIM", "l2", i64Min, i64Max),
	ec("LRANGE", "l2", "0", "-1"),
	ec("LTRIM", "l2", "-1", i64Max),
	ec("LRANGE", "l2", "0", "-1"),
	ec("LTRIM", "l3", i64Max, i64Min),
	ec("EXISTS", "l3"),
	ec("LTRIM", "l4", i64Min, i64Min),
	ec("LRANGE", "l4", "0", "-1"),
	ec("LPOS", "l", "b", "RANK", i64Min),
	ec("LPOS", "l", "b", "RANK", i64NMax),
	ec("LPOS", "l", "b", "RANK", i64Max),
	ec("LPOS", "l", "b", "RANK", "0"),
	ec("LPOS", "l", "b", "COUNT", i64Max),
	ec("LPOS", "l", "b", "COUNT", "-1"),
	ec("LPOS", "l", "b", "COUNT", i64Min),
	ec("LPOS", "l", "b", "MAXLEN", i64Max),
	ec("LPOS", "l", "b", "MAXLEN", "-1"),
	ec("LPOS", "l", "b", "MAXLEN", i64Min),
	ec("LPOS", "l", "b", "RANK", "-1", "COUNT", "0", "MAXLEN", i64Max),
	ec("LINSERT", "l", "BEFORE", "nope", "x"),
	ec("LREM", "l", i64Min, "zz"),
	ec("LREM", "l", i64Max, "zz"),
	ec("LPOP", "l", "-1"),
	ec("LPOP", "l", i64Min),
	ec("LPOP", "l", i64Over),
	ec("RPOP", "l", "0"),
	ec("LPOP", "nol", i64Max),
	ec("LPOP", "l5", i64Max),
	ec("EXISTS", "l5"),
	ec("LMPOP", "1", "l", "LEFT", "COUNT", "0"),
	ec("LMPOP", "1", "l", "LEFT", "COUNT", "-1"),
	ec("LMPOP", "1", "l", "LEFT", "COUNT", i64Min),
	ec("LMPOP", "1", "nol", "LEFT", "COUNT", i64Max),
	ec("LMPOP", "1", "l6", "LEFT", "COUNT", i64Max),
	ec("BLMPOP", "0", "1", "l7", "RIGHT", "COUNT", i64Max),
	ec("ZMPOP", "1", "z4", "MAX", "COUNT", i64Max),
	ec("BZMPOP", "0", "1", "z5", "MIN", "COUNT", i64Max),
	ec("LPOS", "l", "b", "COUNT", "0", "MAXLEN", "0"),
	ec("CLIENT", "LIST", "ID", i64Max),
	ec("CLIENT", "LIST", "ID", "0"),
	ec("CLIENT", "LIST", "ID", i64Over),
	ec("LMPOP", i64Max, "l", "LEFT"),
	ec("LMPOP", i64Min, "l", "LEFT"),
	ec("LMPOP", "0", "l", "LEFT"),
	ec("BLMPOP", "0", i64Max, "l", "LEFT"),
	ec("BLPOP", "nol", i64Max),
	ec("BLPOP", "nol", "1e300"),
	ec("BLPOP", "nol", "-1"),
	ec("BLPOP", "nol", "inf"),
	ec("BLPOP", "nol", "nan"),
	ec("BLMOVE", "nol", "d", "LEFT", "LEFT", i64Max),
	ec("BZPOPMIN", "noz", "1e300"),
	ec("WAIT", "0", i64Max),
	ec("WAIT", "0", "-1"),
	ec("WAIT", i64Max, "1"),
	ec("WAIT", i64Min, "1"),
	// Sorted sets.
	ec("ZRANGE", "z", i64Min, i64Max),
	ec("ZRANGE", "z", i64Max, i64Min),
	ec("ZRANGE", "z", "-1", i64Max, "WITHSCORES"),
	ec("ZRANGE", "z", i64Min, i64Min),
	ec("ZRANGE", "z", "0", i64Over),
	ec("ZREVRANGE", "z", i64Min, i64Max),
	ec("ZREVRANGE", "z", i64Max, i64Max),
	ec("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", i64Max, i64Max),
	ec("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", i64Min, i64Min),
	ec("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", i64Min),
	ec("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"),
	ec("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"),
	ec("ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "1", i64Max),
	ec("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", i64Max, "1"),
	ec("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "2", i64Max),
	ec("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", i64Min),
	ec("ZRANGEBYLEX", "z", "-", "+", "LIMIT", i64Max, i64Max),
	ec("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "3", i64Min),
	ec("ZRANGESTORE", "zd", "z", i64Min, i64Max),
	ec("ZRANGESTORE", "zd", "z", "-inf", "+inf", "BYSCORE", "LIMIT", i64Max, "1"),
	ec("ZCOUNT", "z", i64Min, i64Max),
	ec("ZREMRANGEBYRANK", "z", i64Max, i64Min),
	ec("ZREMRANGEBYRANK", "z", i64Max, i64Max),
	ec("ZREMRANGEBYRANK", "z2", i64Min, "-5"),
	ec("ZRANGE", "z2", "0", "-1"),
	ec("ZREMRANGEBYRANK", "z2", i64Min, i64Max),
	ec("EXISTS", "z2"),
	ec("ZADD", "z", "1e400", "x"),
	ec("ZADD", "z", "inf", "x"),
	ec("ZINCRBY", "z", "-inf", "x"),
	ec("ZADD", "z", "INCR", "-inf", "x"),
	ec("ZADD", "z", "INCR", "nan", "x"),
	ec("ZSCORE", "z", "x"),
	ec("ZPOPMIN", "z", "-1"),
	ec("ZPOPMIN", "z", i64Min),
	ec("ZPOPMAX", "z", "0"),
	ec("ZPOPMIN", "z3", i64Max),
	ec("EXISTS", "z3"),
	ec("ZMPOP", "1", "z", "MIN", "COUNT", "0"),
	ec("ZMPOP", "1", "z", "MIN", "COUNT", i64Min),
	ec("ZMPOP", "1", "noz", "MIN", "COUNT", i64Max),
	ec("ZMPOP", i64Max, "z", "MIN"),
	ec("ZINTERCARD", "1", "z", "LIMIT", i64Max),
	ec("ZINTERCARD", "1", "z", "LIMIT", "-1"),
	ec("ZINTERCARD", "1", "z", "LIMIT", i64Min),
	ec("ZINTERCARD", i64Max, "z"),
	ec("ZINTERCARD", "0", "z"),
	ec("ZUNION", i64Max, "z"),
	ec("ZUNION", i64Min, "z"),
	ec("ZUNIONSTORE", "zd", i64Max, "z"),
	ec("ZINTER", "1", "z", "WEIGHTS", "1e400"),
	ec("ZDIFF", i64Max, "z"),
	// numkeys past int32 or int64: key extraction (before the handler)
	// must not wrap or index out of range.
	ec("ZUNION", "4294967297", "z"),
	ec("ZUNIONSTORE", "zd", "4294967297", "z"),
	ec("ZINTER", i64Min, "z"),
	ec("ZINTERCARD", "18446744073709551617", "z"),
	ec("LMPOP", "4294967297", "l", "LEFT"),
	ec("ZMPOP", "4294967297", "z", "MIN"),
	ec("SINTERCARD", "4294967297", "st"),
	ec("BZMPOP", "0", "4294967297", "z", "MIN"),
	// Redis's GETKEYS casts numkeys to int (4294967297 reads as 1);
	// warden's key extraction is the one it locks with.
	ecAny("COMMAND", "GETKEYS", "ZUNIONSTORE", "zd", i64Max, "z"),
	ec("COMMAND", "GETKEYS", "ZUNIONSTORE", "zd", "4294967297", "z"),
	ec("COMMAND", "GETKEYS", "LMPOP", i64Min, "l", "LEFT"),
	ecAny("COMMAND", "GETKEYS", "SINTERCARD", "4294967297", "st"),
	ec("COMMAND", "GETKEYS", "BLMPOP", "0", i64Max, "l", "LEFT"),
	ec("COMMAND", "GETKEYS", "ZDIFF", "-1", "z"),
	// Random members: counts at the extremes.
	ec("SRANDMEMBER", "st", i64Min),
	ecSorted("SRANDMEMBER", "st", i64Max),
	ec("SRANDMEMBER", "st", i64Over),
	ec("SRANDMEMBER", "nos", i64Min),
	ec("HRANDFIELD", "h", i64Min),
	ec("HRANDFIELD", "h", i64NMax, "WITHVALUES"),
	ec("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
	ecSorted("HRANDFIELD", "h", i64Max),
	ec("HRANDFIELD", "h", i64Max, "WITHVALUES", "x"),
	ec("HRANDFIELD", "noh", i64Min),
	ec("ZRANDMEMBER", "z", i64Min),
	ec("ZRANDMEMBER", "z", i64NMax, "WITHSCORES"),
	ecSorted("ZRANDMEMBER", "z", i64Max),
	ecShape("ZRANDMEMBER", "z", "-3"),
	ecShape("SRANDMEMBER", "st", "-1000"),
	ecShape("HRANDFIELD", "h", "-1000", "WITHVALUES"),
	ecShape("ZRANDMEMBER", "z", "-1000", "WITHSCORES"),
	ec("ZRANDMEMBER", "noz", i64Min),
	ec("SPOP", "st", "-1"),
	ec("SPOP", "st", i64Min),
	ec("SPOP", "st", i64Over),
	ecSorted("SPOP", "st2", i64Max),
	ec("EXISTS", "st2"),
	ec("SINTERCARD", "1", "st", "LIMIT", i64Max),
	ec("SINTERCARD", "1", "st", "LIMIT", "-1"),
	ec("SINTERCARD", "1", "st", "LIMIT", i64Min),
	ec("SINTERCARD", i64Max, "st"),
	ec("SINTERCARD", "0", "st"),
	// Cursors and COUNT.
	// Cursors are the implementation's own: same shape, same errors.
	ecShape("SCAN", u64Max),
	ec("SCAN", u64Over),
	ecShape("SCAN", "-1"),
	ec("SCAN", "0", "COUNT", "0"),
	ec("SCAN", "0", "COUNT", "-1"),
	ec("SCAN", "0", "COUNT", i64Min),
	ec("SCAN", "0", "COUNT", i64Over),
	ecSorted("SSCAN", "st", "0", "COUNT", i64Max),
	ec("SSCAN", "st", u64Over),
	ec("HSCAN", "h", "0", "COUNT", "0"),
	ec("ZSCAN", "z", "0", "COUNT", i64Min),
	// Database indexes.
	ec("SELECT", i64Max),
	ec("SELECT", "-1"),
	ec("SELECT", "2147483648"),
	ec("SWAPDB", i64Max, "0"),
	ec("SWAPDB", "0", i64Min),
	ec("MOVE", "s", i64Max),
	ec("MOVE", "s", "-1"),
	ec("COPY", "s", "d", "DB", i64Max),
	ec("COPY", "s", "d", "DB", "-1"),
	// Connection.
	ec("CLIENT", "KILL", "ID", i64Max),
	ec("CLIENT", "KILL", "ID", i64Min),
	ec("CLIENT", "KILL", "ID", "0"),
	ec("CLIENT", "KILL", "ID", i64Over),
	ec("CLIENT", "NO-EVICT", "maybe"),
	ec("OBJECT", "FREQ", "s"),
	// DEBUG POPULATE: Redis's errors, key and value shapes.
	ec("DEBUG", "POPULATE", "-1"),
	ec("DEBUG", "POPULATE", "x"),
	ec("DEBUG", "POPULATE", i64Min),
	ec("DEBUG", "POPULATE", "1", "k", "-1"),
	ec("DEBUG", "POPULATE", "1", "k", i64Over),
	ec("DEBUG", "POPULATE", "2", "pk", "0"),
	ec("GET", "pk:1"),
	ec("DEBUG", "POPULATE", "1", "pv", "20"),
	ec("GET", "pv:0"),
	ec("DEBUG", "POPULATE", "1", "pw", "3"),
	ec("GET", "pw:0"),
	ec("DEBUG", "POPULATE", "1", strings.Repeat("p", 200), "3"),
	ec("KEYS", "ppp*"),
	ec("DEBUG", "POPULATE", "3"),
	ec("MGET", "key:0", "key:2", "key:3"),
	ec("DEBUG", "SLEEP", "-1"),
	ec("DEBUG", "SLEEP", "0"),
	// APPEND/SETRANGE/SETBIT under a small proto-max-bulk-len.
	ec("CONFIG", "SET", "proto-max-bulk-len", "1mb"),
	ec("SETRANGE", "pm", "1048575", "A"),
	ec("STRLEN", "pm"),
	ec("APPEND", "pm", "B"),
	ec("SETRANGE", "pm", "1048576", "A"),
	ec("SETRANGE", "pm", "1048575", "AB"),
	ec("SETRANGE", "pm", "1048575", "B"),
	ec("SETRANGE", "pm", i64Max, ""),
	ec("SETBIT", "pm2", "8388608", "1"),
	ec("SETBIT", "pm2", "8388607", "1"),
	ec("GETBIT", "pm2", "8388608"),
	ec("STRLEN", "pm2"),
	ec("APPEND", "pm2", ""),
	ec("CONFIG", "SET", "proto-max-bulk-len", "512mb"),
	ec("APPEND", "pm", "B"),
	ec("STRLEN", "pm"),
}

// Every edge argument gets byte-identical replies from warden and a real
// redis-server 7.0.15, and none is an internal error (a recovered panic).
func TestEdgeArgumentsMatchRedis(t *testing.T) {
	_, addr := startServer(t, "save", "", "enable-debug-command", "yes")
	rs := redistest.Start(t, "", "--enable-debug-command", "yes")
	wc, rc := dialResp(t, addr), dialResp(t, rs.Addr)
	for _, cmd := range edgeSetup {
		for _, c := range []*respClient{wc, rc} {
			if v := c.mustDo(t, cmd...); v.isErr() {
				t.Fatalf("%q: %v", cmd, v)
			}
		}
	}
	for _, tc := range edgeCases {
		label := strings.Join(tc.args, " ")
		if len(label) > 80 {
			label = label[:80] + "..."
		}
		got := wc.mustDo(t, tc.args...)
		want := rc.mustDo(t, tc.args...)
		if strings.Contains(got.String(), "internal error") {
			t.Errorf("%s: %v", label, got)
			continue
		}
		if tc.cmp == cmpAny {
			continue
		}
		g, w := canonical(got, tc.cmp), canonical(want, tc.cmp)
		if g != w {
			t.Errorf("%s:\n  warden %s\n  redis  %s", label, g, w)
		}
	}
	// RESTORE's TTL, IDLETIME and FREQ at the edges, with a payload of
	// Redis's own DUMP.
	payload := rc.mustDo(t, "DUMP", "n").Str
	for _, args := range [][]string{
		{"RESTORE", "r1", i64Max, payload},
		{"EXISTS", "r1"},
		{"RESTORE", "r2", i64Max, payload, "ABSTTL"},
		{"EXISTS", "r2"},
		{"EXPIRETIME", "r2"},
		{"RESTORE", "r3", i64Min, payload},
		{"RESTORE", "r4", "0", payload, "IDLETIME", i64Max},
		{"RESTORE", "r4", "0", payload, "IDLETIME", "-1"},
		{"RESTORE", "r4", "0", payload, "IDLETIME", i64Over},
		{"RESTORE", "r5", "0", payload, "FREQ", "256"},
		{"RESTORE", "r5", "0", payload, "FREQ", i64Min},
		{"RESTORE", "r6", "1", payload, "ABSTTL"},
		{"EXISTS", "r6"},
		{"HELLO", i64Max},
		{"HELLO", i64Min},
		{"HELLO", "2", "AUTH", "default"},
		{"DEBUG", "SLEEP", "1e-300"},
	} {
		got, want := wc.mustDo(t, args...), rc.mustDo(t, args...)
		label := strings.ReplaceAll(strings.Join(args, " "), payload, "<payload>")
		if strings.Contains(got.String(), "internal error") || got.String() != want.String() {
			t.Errorf("%s:\n  warden %s\n  redis  %s", label, got, want)
		}
	}
	// Both data sets end the same.
	if g, w := redistest.Dump(t, addr, 1), redistest.Dump(t, rs.Addr, 1); g != w {
		t.Errorf("data sets differ:\nwarden:\n%s\nredis:\n%s", g, w)
	}
}

// canonical renders a reply for comparison under mode.
func canonical(v respVal, mode int) string {
	switch mode {
	case cmpSorted: // nested arrays too (a SCAN reply's elements)
		if v.Elems == nil {
			return v.String()
		}
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = canonical(e, mode)
		}
		slices.Sort(parts)
		return string(v.Kind) + "{" + strings.Join(parts, " ") + "}"
	case cmpShape:
		if v.isErr() {
			return v.String()
		}
		kinds := make([]byte, len(v.Elems))
		for i, e := range v.Elems {
			kinds[i] = e.Kind
		}
		return string(v.Kind) + string(kinds)
	}
	return v.String()
}

// A negative count asks for that many draws with repeats: the reply grows
// with the count, not the key, and Redis builds it until the OOM killer
// ends it. Warden refuses a reply estimated past proto-max-bulk-len, and
// still answers large sane ones.
func TestRandomMembersReplyBounded(t *testing.T) {
	_, addr := startServer(t, "save", "")
	c := dialResp(t, addr)
	for _, cmd := range [][]string{
		{"SADD", "st", "a", "b", "c"}, {"HSET", "h", "f", "v"}, {"ZADD", "z", "1", "a"},
	} {
		c.mustDo(t, cmd...)
	}
	for _, cmd := range [][]string{
		{"SRANDMEMBER", "st", i64NMax},
		{"HRANDFIELD", "h", i64NMax},
		{"HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"},
		{"ZRANDMEMBER", "z", i64NMax},
		{"ZRANDMEMBER", "z", "-4611686018427387903", "WITHSCORES"},
		{"SRANDMEMBER", "st", "-100000000"}, // ~1 GB of "$1\r\na\r\n"
	} {
		if got := c.mustDo(t, cmd...).String(); got != "-ERR value is out of range" {
			t.Errorf("%q = %s", cmd, got)
		}
	}
	// 100k draws (~1 MB) are answered in full.
	for _, cmd := range [][]string{
		{"SRANDMEMBER", "st", "-100000"},
		{"HRANDFIELD", "h", "-100000", "WITHVALUES"},
		{"ZRANDMEMBER", "z", "-100000", "WITHSCORES"},
	} {
		v := c.mustDo(t, cmd...)
		want := 100000
		if len(cmd) == 4 {
			want *= 2
		}
		if v.isErr() || len(v.Elems) != want {
			t.Errorf("%q: %d elements, %v", cmd, len(v.Elems), v.isErr())
		}
	}
}

// sweepValues replace one argument at a time in TestEdgeSweepNoPanic.
var sweepValues = []string{i64Max, i64Min, i64Over, u64Over, "-1", "0", "4294967297", "-4294967297",
	"1e400", "inf", "-inf", "nan", "", "(", "[", "+inf", "(1e400", strings.Repeat("9", 40)}

// sweepSkip are commands whose edge values legitimately block or loop for
// as long as asked (DEBUG SLEEP/POPULATE, WAIT, blocking pops), end or
// change the connection, or start a replication stream.
var sweepSkip = map[string]bool{
	"debug": true, "wait": true, "shutdown": true, "quit": true, "reset": true,
	"subscribe": true, "psubscribe": true, "ssubscribe": true, "sync": true, "psync": true,
	"hello": true, "replicaof": true, "slaveof": true,
}

// Every registered command, with each of its plausible arguments replaced
// in turn by an edge value: no reply is an internal error (a recovered
// panic), and the server keeps answering.
func TestEdgeSweepNoPanic(t *testing.T) {
	srv, addr := startServer(t, "save", "")
	c := dialResp(t, addr)
	var names []string
	for name, cmd := range srv.cmds {
		names = append(names, name)
		for sub := range cmd.Subs {
			names = append(names, name+"|"+sub)
		}
	}
	slices.Sort(names)
	sent := 0
	for _, name := range names {
		cmd := srv.cmds[strings.Split(name, "|")[0]]
		if sweepSkip[cmd.Name] || cmd.Flags&fBlocking != 0 {
			continue
		}
		for _, argv := range multiCases[name] {
			resetData(t, c)
			for i := 1; i < len(argv); i++ {
				if strings.Contains(name, "|") && i == 1 {
					continue // the subcommand's name
				}
				for _, v := range sweepValues {
					args := slices.Clone(argv)
					args[i] = v
					got, err := c.do(20*time.Second, args...)
					if err != nil {
						t.Fatalf("%q: %v (a hang or a closed connection)", args, err)
					}
					if strings.Contains(got.String(), "internal error") {
						t.Errorf("%q: %v", args, got)
					}
					sent++
				}
			}
		}
	}
	if sent < 1000 {
		t.Fatalf("only %d commands swept", sent)
	}
	t.Logf("%d edge commands sent", sent)
	checkServing(t, addr, "the sweep")
}
