package node

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerZSets(t table) {
	const g = "sorted-set"
	r, rf := fReadonly, fReadonly|fFast
	w, wf, wd := fWrite, fWrite|fFast, fWrite|fDenyOOM
	t.add(
		&Command{Name: "zadd", Arity: -4, Flags: wd | fFast, FirstKey: 1, Run: cmdZAdd, Group: g},
		&Command{Name: "zincrby", Arity: 4, Flags: wd | fFast, FirstKey: 1, Run: cmdZIncrBy, Group: g},
		&Command{Name: "zrem", Arity: -3, Flags: wf, FirstKey: 1, Run: cmdZRem, Group: g},
		&Command{Name: "zscore", Arity: 3, Flags: rf, FirstKey: 1, Run: cmdZScore, Group: g},
		&Command{Name: "zmscore", Arity: -3, Flags: rf, FirstKey: 1, Run: cmdZMScore, Group: g},
		&Command{Name: "zcard", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdZCard, Group: g},
		&Command{Name: "zcount", Arity: 4, Flags: rf, FirstKey: 1, Run: cmdZCount, Group: g},
		&Command{Name: "zlexcount", Arity: 4, Flags: rf, FirstKey: 1, Run: cmdZLexCount, Group: g},
		&Command{Name: "zrange", Arity: -4, Flags: r, FirstKey: 1, Run: cmdZRange, Group: g},
		&Command{Name: "zrangestore", Arity: -5, Flags: wd, FirstKey: 1, LastKey: 2, Run: cmdZRangeStore, Group: g},
		&Command{Name: "zrevrange", Arity: -4, Flags: r, FirstKey: 1, Run: cmdZRevRange, Group: g},
		&Command{Name: "zrangebyscore", Arity: -4, Flags: r, FirstKey: 1, Run: cmdZRangeByScore, Group: g},
		&Command{Name: "zrevrangebyscore", Arity: -4, Flags: r, FirstKey: 1, Run: cmdZRevRangeByScore, Group: g},
		&Command{Name: "zrangebylex", Arity: -4, Flags: r, FirstKey: 1, Run: cmdZRangeByLex, Group: g},
		&Command{Name: "zrevrangebylex", Arity: -4, Flags: r, FirstKey: 1, Run: cmdZRevRangeByLex, Group: g},
		&Command{Name: "zrank", Arity: 3, Flags: rf, FirstKey: 1, Run: cmdZRank, Group: g},
		&Command{Name: "zrevrank", Arity: 3, Flags: rf, FirstKey: 1, Run: cmdZRevRank, Group: g},
		&Command{Name: "zpopmin", Arity: -2, Flags: wf, FirstKey: 1, Run: cmdZPopMin, Group: g},
		&Command{Name: "zpopmax", Arity: -2, Flags: wf, FirstKey: 1, Run: cmdZPopMax, Group: g},
		&Command{Name: "bzpopmin", Arity: -3, Flags: wf | fNoScript | fBlocking, FirstKey: 1, LastKey: -2, Run: cmdBZPopMin, Group: g},
		&Command{Name: "bzpopmax", Arity: -3, Flags: wf | fNoScript | fBlocking, FirstKey: 1, LastKey: -2, Run: cmdBZPopMax, Group: g},
		&Command{Name: "bzmpop", Arity: -5, Flags: w | fBlocking, KeyFn: zsetKeysAt(2, false), Run: cmdBZMPop, Group: g},
		&Command{Name: "zmpop", Arity: -4, Flags: w, KeyFn: zsetKeysAt(1, false), Run: cmdZMPop, Group: g},
		&Command{Name: "zremrangebyrank", Arity: 4, Flags: w, FirstKey: 1, Run: cmdZRemRangeByRank, Group: g},
		&Command{Name: "zremrangebyscore", Arity: 4, Flags: w, FirstKey: 1, Run: cmdZRemRangeByScore, Group: g},
		&Command{Name: "zremrangebylex", Arity: 4, Flags: w, FirstKey: 1, Run: cmdZRemRangeByLex, Group: g},
		&Command{Name: "zunionstore", Arity: -4, Flags: wd, FirstKey: 1, KeyFn: zsetKeysAt(2, true), Run: cmdZUnionStore, Group: g},
		&Command{Name: "zinterstore", Arity: -4, Flags: wd, FirstKey: 1, KeyFn: zsetKeysAt(2, true), Run: cmdZInterStore, Group: g},
		&Command{Name: "zdiffstore", Arity: -4, Flags: wd, FirstKey: 1, KeyFn: zsetKeysAt(2, true), Run: cmdZDiffStore, Group: g},
		&Command{Name: "zunion", Arity: -3, Flags: r, KeyFn: zsetKeysAt(1, false), Run: cmdZUnion, Group: g},
		&Command{Name: "zinter", Arity: -3, Flags: r, KeyFn: zsetKeysAt(1, false), Run: cmdZInter, Group: g},
		&Command{Name: "zdiff", Arity: -3, Flags: r, KeyFn: zsetKeysAt(1, false), Run: cmdZDiff, Group: g},
		&Command{Name: "zintercard", Arity: -3, Flags: r, KeyFn: zsetKeysAt(1, false), Run: cmdZInterCard, Group: g},
		&Command{Name: "zscan", Arity: -3, Flags: r, FirstKey: 1, Run: cmdZScan, Group: g},
		&Command{Name: "zrandmember", Arity: -2, Flags: r, FirstKey: 1, Run: cmdZRandMember, Group: g},
	)
}

// zsetKeysAt returns the KeyFn of commands whose keys follow a numkeys
// argument at index idx (preceded by the destination key args[1] when
// withDest). It tolerates any argument vector: a bad numkeys yields only the
// keys that are certain, and the handler replies the error.
func zsetKeysAt(idx int, withDest bool) func(args [][]byte) [][]byte {
	return func(args [][]byte) [][]byte {
		var keys [][]byte
		if withDest && len(args) > 1 {
			keys = append(keys, args[1])
		}
		if idx >= len(args) {
			return keys
		}
		n, ok := keyspace.ParseInt(args[idx])
		if !ok || n < 1 {
			return keys
		}
		if avail := int64(len(args) - idx - 1); n > avail {
			n = avail
		}
		return append(keys, args[idx+1:idx+1+int(n)]...)
	}
}

// ---- number formatting and parsing ----

// zsetStrtod converts all of b like C's strtod (hex floats without an
// exponent included). ok is false unless b is one well-formed number;
// overflow gives ±Inf with rangeErr, underflow 0 with rangeErr.
func zsetStrtod(b []byte) (f float64, ok, rangeErr bool) {
	s := string(b)
	if strings.IndexByte(s, '_') >= 0 {
		return 0, false, false
	}
	t := strings.TrimLeft(s, "+-")
	if len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && !strings.ContainsAny(t, "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			return f, true, true
		}
		return 0, false, false
	}
	if f == 0 {
		// strtod reports ERANGE when a non-zero mantissa rounds to zero.
		hex := len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')
		body := t
		if hex {
			body = t[2:]
		}
		for i := 0; i < len(body); i++ {
			ch := body[i]
			if hex && (ch == 'p' || ch == 'P') || !hex && (ch == 'e' || ch == 'E') {
				break
			}
			if ch >= '1' && ch <= '9' || hex && (ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F') {
				return 0, true, true
			}
		}
	}
	return f, true, false
}

// zsetParseDouble parses a score, increment or weight as Redis's
// getDoubleFromObject: no spaces, no NaN, no overflow or underflow.
func zsetParseDouble(b []byte) (float64, bool) {
	if len(b) == 0 || zsetIsSpace(b[0]) {
		return 0, false
	}
	f, ok, rangeErr := zsetStrtod(b)
	if !ok || rangeErr || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func zsetIsSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'
}

// zsetRangeItem parses one end of a score range as zslParseRange: "(" makes
// it exclusive; the rest goes through strtod, so "" is 0, leading spaces and
// overflow (±inf) are accepted, NaN is not.
func zsetRangeItem(b []byte) (f float64, ex, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, ex, true
	}
	i := 0
	for i < len(b) && zsetIsSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return 0, ex, false
	}
	f, ok, _ = zsetStrtod(b[i:])
	if !ok || math.IsNaN(f) {
		return 0, ex, false
	}
	return f, ex, true
}

const (
	errZSetMinMaxFloat = "ERR min or max is not a float"
	errZSetMinMaxLex   = "ERR min or max not valid string range item"
)

// zsetScoreRange parses min and max or replies the error.
func (c *Ctx) zsetScoreRange(minb, maxb []byte) (keyspace.ScoreRange, bool) {
	var r keyspace.ScoreRange
	var ok1, ok2 bool
	r.Min, r.MinEx, ok1 = zsetRangeItem(minb)
	r.Max, r.MaxEx, ok2 = zsetRangeItem(maxb)
	if !ok1 || !ok2 {
		c.Err(errZSetMinMaxFloat)
		return r, false
	}
	return r, true
}

// zsetLexRange parses a lex range ("-", "+", "[x", "(x") or replies the error.
func (c *Ctx) zsetLexRange(minb, maxb []byte) (keyspace.LexRange, bool) {
	var r keyspace.LexRange
	var minus, plus, ok1, ok2 bool
	r.Min, r.MinEx, minus, plus, ok1 = zsetLexBound(minb)
	r.MinInf, r.MinPosInf = minus, plus
	r.Max, r.MaxEx, minus, plus, ok2 = zsetLexBound(maxb)
	r.MaxInf, r.MaxNegInf = plus, minus
	if !ok1 || !ok2 {
		c.Err(errZSetMinMaxLex)
		return r, false
	}
	return r, true
}

// zsetLexBound parses one end of a lex range: "-" or "+" alone, or a member
// after "[" (inclusive) or "(" (exclusive).
func zsetLexBound(b []byte) (member string, exclusive, minus, plus, ok bool) {
	switch {
	case len(b) == 0:
		return "", false, false, false, false
	case b[0] == '-' || b[0] == '+':
		return "", false, b[0] == '-', b[0] == '+', len(b) == 1
	case b[0] == '(' || b[0] == '[':
		return string(b[1:]), b[0] == '(', false, false, true
	}
	return "", false, false, false, false
}

// zsetClampInt converts an int64 offset or limit to int (64-bit anyway).
func zsetClampInt(n int64) int { return int(max(min(n, math.MaxInt), math.MinInt)) }

// zsetRead returns the sorted set at key for a read command: nil when
// missing, ok=false after a WRONGTYPE reply.
func (c *Ctx) zsetRead(key []byte) (*keyspace.ZSet, bool) {
	o, ok := c.ReadType(key, keyspace.TZSet)
	if !ok || o == nil {
		return nil, ok
	}
	return o.ZSet(), true
}

func newZSetObject() *keyspace.Object {
	return &keyspace.Object{Type: keyspace.TZSet, Val: keyspace.NewZSet(), LRU: keyspace.LRUClock()}
}

// ---- ZADD / ZINCRBY / ZREM ----

func cmdZAdd(c *Ctx)    { zaddGeneric(c, false) }
func cmdZIncrBy(c *Ctx) { zaddGeneric(c, true) }

// zaddGeneric is Redis's zaddGenericCommand: ZINCRBY is ZADD INCR, options
// included (so "ZINCRBY key nx member" is a syntax error as in Redis).
func zaddGeneric(c *Ctx, incr bool) {
	key := c.Args[1]
	var nx, xx, gt, lt, ch bool
	i := 2
flags:
	for ; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case eq(a, "nx"):
			nx = true
		case eq(a, "xx"):
			xx = true
		case eq(a, "ch"):
			ch = true
		case eq(a, "incr"):
			incr = true
		case eq(a, "gt"):
			gt = true
		case eq(a, "lt"):
			lt = true
		default:
			break flags
		}
	}
	elements := len(c.Args) - i
	if elements%2 != 0 || elements == 0 {
		c.Err(errSyntax)
		return
	}
	elements /= 2
	if nx && xx {
		c.Err("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.Err("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && elements > 1 {
		c.Err("ERR INCR option supports a single increment-element pair")
		return
	}
	var sbuf [8]float64
	scores := sbuf[:0]
	for j := 0; j < elements; j++ {
		f, ok := zsetParseDouble(c.Args[i+2*j])
		if !ok {
			c.Err(errNotFloat)
			return
		}
		scores = append(scores, f)
	}
	o, ok := c.WriteType(key, keyspace.TZSet)
	if !ok {
		return
	}
	if o == nil {
		if xx {
			if incr {
				c.Null()
			} else {
				c.Int(0)
			}
			return
		}
		c.DB.Set(key, newZSetObject())
		o = c.DB.Get(key)
	}
	z := o.ZSet()
	added, updated, processed := 0, 0, 0
	var score float64
	for j := 0; j < elements; j++ {
		member := c.Args[i+2*j+1]
		score = scores[j]
		cur, exists := z.ScoreOf(member)
		if !exists {
			if xx {
				continue
			}
			z.Set(member, score)
			added++
			processed++
			continue
		}
		if nx {
			continue
		}
		if incr {
			score += cur
			if math.IsNaN(score) {
				c.Err("ERR resulting score is not a number (NaN)")
				return
			}
		}
		if (lt && score >= cur) || (gt && score <= cur) {
			continue
		}
		processed++
		if score != cur {
			z.Set(member, score)
			updated++
		}
	}
	if added+updated > 0 {
		c.DB.Touch(key)
		if added > 0 {
			c.DB.Signal(key)
		}
		if incr {
			// The increment is applied: replicas just set the result.
			var buf [40]byte
			c.Propagate([]byte("ZADD"), key, appendDouble(buf[:0], score), c.Args[i+1])
		} else {
			c.PropagateArgs()
		}
		c.notify(keyevents.ZSet, zaddEvent(incr), key)
	}
	switch {
	case incr && processed > 0:
		c.Double(score)
	case incr:
		c.Null()
	case ch:
		c.Int(int64(added + updated))
	default:
		c.Int(int64(added))
	}
}

func cmdZRem(c *Ctx) {
	c.removeMembers(keyspace.TZSet, func(o *keyspace.Object, m []byte) bool { return o.ZSet().Delete(m) })
}

// ---- point reads ----

func cmdZScore(c *Ctx) {
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.Null()
		return
	}
	s, found := z.ScoreOf(c.Args[2])
	if !found {
		c.Null()
		return
	}
	c.Double(s)
}

func cmdZMScore(c *Ctx) {
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	c.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z == nil {
			c.Null()
			continue
		}
		if s, found := z.ScoreOf(m); found {
			c.Double(s)
		} else {
			c.Null()
		}
	}
}

func cmdZCard(c *Ctx) {
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	c.Int(int64(z.Len()))
}

func cmdZCount(c *Ctx) {
	r, ok := c.zsetScoreRange(c.Args[2], c.Args[3])
	if !ok {
		return
	}
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	c.Int(int64(z.CountScore(r)))
}

func cmdZLexCount(c *Ctx) {
	r, ok := c.zsetLexRange(c.Args[2], c.Args[3])
	if !ok {
		return
	}
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.Int(0)
		return
	}
	c.Int(int64(z.CountLex(r)))
}

func cmdZRank(c *Ctx)    { zrankGeneric(c, false) }
func cmdZRevRank(c *Ctx) { zrankGeneric(c, true) }

func zrankGeneric(c *Ctx, reverse bool) {
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.Null()
		return
	}
	rank, found := z.RankOf(c.Args[2], reverse)
	if !found {
		c.Null()
		return
	}
	c.Int(int64(rank))
}

// ---- ranges ----

type zrangeType int

const (
	zrangeAuto zrangeType = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

type zrangeDir int

const (
	zrangeDirAuto zrangeDir = iota
	zrangeForward
	zrangeReverse
)

func cmdZRange(c *Ctx)      { zrangeGeneric(c, 1, nil, zrangeAuto, zrangeDirAuto) }
func cmdZRevRange(c *Ctx)   { zrangeGeneric(c, 1, nil, zrangeRank, zrangeReverse) }
func cmdZRangeStore(c *Ctx) { zrangeGeneric(c, 2, c.Args[1], zrangeAuto, zrangeDirAuto) }
func cmdZRangeByScore(c *Ctx) {
	zrangeGeneric(c, 1, nil, zrangeScore, zrangeForward)
}
func cmdZRevRangeByScore(c *Ctx) {
	zrangeGeneric(c, 1, nil, zrangeScore, zrangeReverse)
}
func cmdZRangeByLex(c *Ctx)    { zrangeGeneric(c, 1, nil, zrangeLex, zrangeForward) }
func cmdZRevRangeByLex(c *Ctx) { zrangeGeneric(c, 1, nil, zrangeLex, zrangeReverse) }

// zrangeGeneric is Redis 7.0's zrangeGenericCommand: every Z*RANGE* form and
// ZRANGESTORE (dst != nil). The result is a run of consecutive ranks, so
// each form costs O(log n + returned).
func zrangeGeneric(c *Ctx, argStart int, dst []byte, kind zrangeType, dir zrangeDir) {
	key := c.Args[argStart]
	minIdx, maxIdx := argStart+1, argStart+2
	store := dst != nil
	withScores := false
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(c.Args); j++ {
		a := c.Args[j]
		left := len(c.Args) - j - 1
		switch {
		case !store && eq(a, "withscores"):
			withScores = true
		case eq(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = c.ParseInt(c.Args[j+1]); !ok {
				return
			}
			if limit, ok = c.ParseInt(c.Args[j+2]); !ok {
				return
			}
			j += 2
		case dir == zrangeDirAuto && eq(a, "rev"):
			dir = zrangeReverse
		case kind == zrangeAuto && eq(a, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && eq(a, "byscore"):
			kind = zrangeScore
		default:
			c.Err(errSyntax)
			return
		}
	}
	if dir == zrangeDirAuto {
		dir = zrangeForward
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && kind == zrangeLex {
		c.Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	reverse := dir == zrangeReverse
	if reverse && kind != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var sr keyspace.ScoreRange
	var lr keyspace.LexRange
	var ok bool
	switch kind {
	case zrangeRank:
		if start, ok = c.ParseInt(c.Args[minIdx]); !ok {
			return
		}
		if end, ok = c.ParseInt(c.Args[maxIdx]); !ok {
			return
		}
	case zrangeScore:
		if sr, ok = c.zsetScoreRange(c.Args[minIdx], c.Args[maxIdx]); !ok {
			return
		}
	case zrangeLex:
		if lr, ok = c.zsetLexRange(c.Args[minIdx], c.Args[maxIdx]); !ok {
			return
		}
	}
	z, ok := c.zsetRead(key)
	if !ok {
		return
	}
	// The result is n consecutive entries walking from ascending rank
	// begin (towards lower ranks when reverse).
	begin, n := 0, 0
	if z != nil {
		length := int64(z.Len())
		switch kind {
		case zrangeRank:
			if s, e, nonEmpty := clampRange(start, end, length); nonEmpty {
				n = int(e - s + 1)
				begin = int(s)
				if reverse {
					begin = int(length - 1 - s)
				}
			}
		case zrangeScore:
			first, count := z.ScoreSpan(sr)
			if offset >= 0 && offset < int64(count) {
				n = count - int(offset)
				if limit >= 0 && limit < int64(n) {
					n = int(limit)
				}
				begin = first + int(offset)
				if reverse {
					begin = first + count - 1 - int(offset)
				}
			}
		case zrangeLex:
			// Walks like Redis (exact even on mixed scores).
			begin, n = z.LexSelect(lr, reverse, zsetClampInt(offset), zsetClampInt(limit))
		}
	}
	switch {
	case store:
		zsetStoreRange(c, dst, z, begin, n, reverse)
	case n == 0:
		c.Array(0)
	default:
		c.zsetReplyRange(z, begin, n, reverse, withScores)
	}
}

// zsetReplyRange replies n entries walking from ascending rank begin:
// members, or member/score pairs (flat in RESP2, nested in RESP3).
func (c *Ctx) zsetReplyRange(z *keyspace.ZSet, begin, n int, reverse, withScores bool) {
	nested := withScores && c.resp3()
	if withScores && !nested {
		c.Array(2 * n)
	} else {
		c.Array(n)
	}
	it := z.IterAt(begin, reverse)
	for i := 0; i < n && it.Valid(); i++ {
		if nested {
			c.Array(2)
		}
		c.BulkString(it.Member())
		if withScores {
			c.Double(it.Score())
		}
		it.Next()
	}
}

// zsetStoreRange is ZRANGESTORE's result handler: the selected entries
// replace dst, or dst is deleted when there are none.
func zsetStoreRange(c *Ctx, dst []byte, z *keyspace.ZSet, begin, n int, reverse bool) {
	if n == 0 {
		c.zsetStoreEmpty(dst)
		return
	}
	o := newZSetObject()
	out := o.ZSet()
	it := z.IterAt(begin, reverse)
	for i := 0; i < n && it.Valid(); i++ {
		out.Add(it.Member(), it.Score()) // member strings are immutable: shared
		it.Next()
	}
	c.zsetStore(dst, o)
}

// zsetStore replaces dst with the non-empty result o, as setKey does (any
// old value and TTL go), and replies its cardinality.
func (c *Ctx) zsetStore(dst []byte, o *keyspace.Object) {
	c.DB.Set(dst, o)
	c.DB.Signal(dst)
	c.PropagateArgs()
	c.notify(keyevents.ZSet, zstoreEvent(c.cmd.Name), dst)
	c.Int(int64(o.ZSet().Len()))
}

// zsetStoreEmpty handles an empty result for a *STORE command: dst is
// deleted and 0 replied.
func (c *Ctx) zsetStoreEmpty(dst []byte) {
	if c.DB.Delete(dst) {
		c.PropagateArgs()
		c.notify(keyevents.Generic, "del", dst)
	}
	c.Int(0)
}

// ---- ZREMRANGEBY* ----

func cmdZRemRangeByRank(c *Ctx)  { zremrangeGeneric(c, zrangeRank) }
func cmdZRemRangeByScore(c *Ctx) { zremrangeGeneric(c, zrangeScore) }
func cmdZRemRangeByLex(c *Ctx)   { zremrangeGeneric(c, zrangeLex) }

func zremrangeGeneric(c *Ctx, kind zrangeType) {
	key := c.Args[1]
	var start, end int64
	var sr keyspace.ScoreRange
	var lr keyspace.LexRange
	var ok bool
	switch kind {
	case zrangeRank:
		if start, ok = c.ParseInt(c.Args[2]); !ok {
			return
		}
		if end, ok = c.ParseInt(c.Args[3]); !ok {
			return
		}
	case zrangeScore:
		if sr, ok = c.zsetScoreRange(c.Args[2], c.Args[3]); !ok {
			return
		}
	default:
		if lr, ok = c.zsetLexRange(c.Args[2], c.Args[3]); !ok {
			return
		}
	}
	o, ok := c.WriteType(key, keyspace.TZSet)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	z := o.ZSet()
	first, n := 0, 0
	switch kind {
	case zrangeRank:
		if s, e, nonEmpty := clampRange(start, end, int64(z.Len())); nonEmpty {
			first, n = int(s), int(e-s+1)
		}
	case zrangeScore:
		first, n = z.ScoreSpan(sr)
	default:
		first, n = z.LexSelect(lr, false, 0, -1)
	}
	if n > 0 {
		n = z.DeleteRankRange(first, first+n-1)
		c.DB.Touch(key)
		c.DB.DeleteIfEmpty(key, o)
		c.PropagateArgs()
		c.notify(keyevents.ZSet, c.cmd.Name, key)
		c.notifyEmptied(key, o)
	}
	c.Int(int64(n))
}

// ---- pops ----

// zsetPop removes up to count entries from the low (or high when max) end
// of the set at key and returns them in pop order.
func zsetPop(v keyspace.View, key []byte, o *keyspace.Object, max bool, count int64) []keyspace.ZEntry {
	z := o.ZSet()
	n := int(min(count, int64(z.Len())))
	es := z.ByRank(0, n-1, max)
	if max {
		z.DeleteRankRange(z.Len()-n, z.Len()-1)
	} else {
		z.DeleteRankRange(0, n-1)
	}
	v.Touch(key)
	v.DeleteIfEmpty(key, o)
	return es
}

// zsetPopName is the command a pop is replicated as.
func zsetPopName(max bool) []byte {
	if max {
		return []byte("ZPOPMAX")
	}
	return []byte("ZPOPMIN")
}

// zsetReplyPairs replies popped entries as member/score pairs: flat, or
// nested [member, score] arrays.
func (c *Ctx) zsetReplyPairs(es []keyspace.ZEntry, nested bool) {
	if nested {
		c.Array(len(es))
	} else {
		c.Array(2 * len(es))
	}
	for _, e := range es {
		if nested {
			c.Array(2)
		}
		c.BulkString(e.Member)
		c.Double(e.Score)
	}
}

func cmdZPopMin(c *Ctx) { zpopGeneric(c, false) }
func cmdZPopMax(c *Ctx) { zpopGeneric(c, true) }

func zpopGeneric(c *Ctx, max bool) {
	if len(c.Args) > 3 {
		c.Err(errSyntax)
		return
	}
	key := c.Args[1]
	count := int64(-1)
	if len(c.Args) == 3 {
		n, ok := c.ParsePositive(c.Args[2], errNotPositive)
		if !ok {
			return
		}
		count = n
	}
	o, ok := c.WriteType(key, keyspace.TZSet)
	if !ok {
		return
	}
	if o == nil || count == 0 {
		c.Array(0)
		return
	}
	nested := c.resp3() && count != -1
	es := zsetPop(c.DB, key, o, max, max64(count, 1))
	c.PropagateArgs()
	c.s.notifyZPop(c.DB.ID(), key, o, max)
	c.zsetReplyPairs(es, nested)
}

// zsetPopResult is what a pop served to a blocked client hands over.
type zsetPopResult struct {
	key string
	es  []keyspace.ZEntry
}

func cmdBZPopMin(c *Ctx) { bzpopGeneric(c, false) }
func cmdBZPopMax(c *Ctx) { bzpopGeneric(c, true) }

func bzpopGeneric(c *Ctx, max bool) {
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	reply := func(c *Ctx, res any) {
		if res == nil {
			c.NullArray()
			return
		}
		r := res.(*zsetPopResult)
		c.Array(3)
		c.BulkString(r.key)
		c.BulkString(r.es[0].Member)
		c.Double(r.es[0].Score)
	}
	for _, k := range keys {
		o := c.DB.Get(k)
		if o == nil {
			continue
		}
		if o.Type != keyspace.TZSet {
			c.Err(errWrongType)
			return
		}
		es := zsetPop(c.DB, k, o, max, 1)
		c.Propagate(zsetPopName(max), k)
		c.s.notifyZPop(c.DB.ID(), k, o, max)
		reply(c, &zsetPopResult{key: string(k), es: es})
		return
	}
	if c.InMulti() {
		c.NullArray()
		return
	}
	c.Block(timeout, keys, nil, zsetReady, zsetServePop(c.s, max, -1), reply)
}

// zsetReady reports whether a blocked pop can be served from key.
func zsetReady(v keyspace.View, key []byte) bool {
	o := v.Get(key)
	return o != nil && o.Type == keyspace.TZSet && o.Len() > 0
}

// zsetServePop pops for a blocked client and replicates it as ZPOPMIN/ZPOPMAX
// key [count] (count < 0: without COUNT).
func zsetServePop(s *Server, max bool, count int64) func(v keyspace.View, key []byte) any {
	return func(v keyspace.View, key []byte) any {
		o := v.Get(key)
		es := zsetPop(v, key, o, max, max64(count, 1))
		argv := [][]byte{zsetPopName(max), key}
		if count >= 0 {
			argv = append(argv, strconv.AppendInt(nil, count, 10))
		}
		s.propagate(v.ID(), argv)
		s.notifyZPop(v.ID(), key, o, max)
		return &zsetPopResult{key: string(key), es: es}
	}
}

func max64(a, b int64) int64 { return max(a, b) }

// zmpopArgs parses [B]ZMPOP's numkeys, MIN|MAX and COUNT as Redis 7.0 does.
func (c *Ctx) zmpopArgs(numIdx int) (keys [][]byte, max bool, count int64, ok bool) {
	numkeys, ok := keyspace.ParseInt(c.Args[numIdx])
	if !ok || numkeys < 1 {
		c.Err("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	if numkeys >= int64(len(c.Args)-numIdx-1) {
		c.Err(errSyntax)
		return nil, false, 0, false
	}
	whereIdx := numIdx + int(numkeys) + 1
	switch w := c.Args[whereIdx]; {
	case eq(w, "min"):
	case eq(w, "max"):
		max = true
	default:
		c.Err(errSyntax)
		return nil, false, 0, false
	}
	count = -1
	for j := whereIdx + 1; j < len(c.Args); j++ {
		if count == -1 && eq(c.Args[j], "count") && j+1 < len(c.Args) {
			j++
			n, ok := keyspace.ParseInt(c.Args[j])
			if !ok || n < 1 {
				c.Err("ERR count should be greater than 0")
				return nil, false, 0, false
			}
			count = n
			continue
		}
		c.Err(errSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return c.Args[numIdx+1 : whereIdx], max, count, true
}

// zsetReplyMPop writes [key, [[member, score], ...]] or the null array.
func (c *Ctx) zsetReplyMPop(res any) {
	if res == nil {
		c.NullArray()
		return
	}
	r := res.(*zsetPopResult)
	c.Array(2)
	c.BulkString(r.key)
	c.zsetReplyPairs(r.es, true)
}

func cmdZMPop(c *Ctx) {
	keys, max, count, ok := c.zmpopArgs(1)
	if !ok {
		return
	}
	for _, k := range keys {
		o, ok := c.WriteType(k, keyspace.TZSet)
		if !ok {
			return
		}
		if o == nil {
			continue
		}
		es := zsetPop(c.DB, k, o, max, count)
		c.Propagate(zsetPopName(max), k, strconv.AppendInt(nil, count, 10))
		c.s.notifyZPop(c.DB.ID(), k, o, max)
		c.zsetReplyMPop(&zsetPopResult{key: string(k), es: es})
		return
	}
	c.NullArray()
}

func cmdBZMPop(c *Ctx) {
	keys, max, count, ok := c.zmpopArgs(2)
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeout(c.Args[1])
	if !ok {
		return
	}
	for _, k := range keys {
		o := c.DB.Get(k)
		if o == nil {
			continue
		}
		if o.Type != keyspace.TZSet {
			c.Err(errWrongType)
			return
		}
		es := zsetPop(c.DB, k, o, max, count)
		c.Propagate(zsetPopName(max), k, strconv.AppendInt(nil, count, 10))
		c.s.notifyZPop(c.DB.ID(), k, o, max)
		c.zsetReplyMPop(&zsetPopResult{key: string(k), es: es})
		return
	}
	if c.InMulti() {
		c.NullArray()
		return
	}
	c.Block(timeout, keys, nil, zsetReady, zsetServePop(c.s, max, count),
		func(c *Ctx, res any) { c.zsetReplyMPop(res) })
}

// ---- ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD ----

type zsetOp int

const (
	zsetOpUnion zsetOp = iota
	zsetOpInter
	zsetOpDiff
)

// zsetOpSrc is one input: a sorted set, a set (every member scores 1), or
// nothing (missing key).
type zsetOpSrc struct {
	z      *keyspace.ZSet
	s      keyspace.Set
	weight float64
}

func (s *zsetOpSrc) len() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.s != nil:
		return len(s.s)
	}
	return 0
}

func (s *zsetOpSrc) find(m string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score(m)
	case s.s != nil:
		_, ok := s.s[m]
		return 1, ok
	}
	return 0, false
}

// each calls fn for every member until it returns false.
func (s *zsetOpSrc) each(fn func(m string, score float64) bool) {
	switch {
	case s.z != nil:
		for it := s.z.IterAt(0, false); it.Valid(); it.Next() {
			if !fn(it.Member(), it.Score()) {
				return
			}
		}
	case s.s != nil:
		for m := range s.s {
			if !fn(m, 1) {
				return
			}
		}
	}
}

const (
	zsetAggSum = iota
	zsetAggMin
	zsetAggMax
)

func zsetAggregate(target *float64, val float64, agg int) {
	switch agg {
	case zsetAggSum:
		*target += val
		// inf + -inf is NaN: Redis's convention makes it 0.
		if math.IsNaN(*target) {
			*target = 0
		}
	case zsetAggMin:
		if val < *target {
			*target = val
		}
	case zsetAggMax:
		if val > *target {
			*target = val
		}
	}
}

func cmdZUnionStore(c *Ctx) { zsetOpGeneric(c, "zunionstore", c.Args[1], 2, zsetOpUnion, false) }
func cmdZInterStore(c *Ctx) { zsetOpGeneric(c, "zinterstore", c.Args[1], 2, zsetOpInter, false) }
func cmdZDiffStore(c *Ctx)  { zsetOpGeneric(c, "zdiffstore", c.Args[1], 2, zsetOpDiff, false) }
func cmdZUnion(c *Ctx)      { zsetOpGeneric(c, "zunion", nil, 1, zsetOpUnion, false) }
func cmdZInter(c *Ctx)      { zsetOpGeneric(c, "zinter", nil, 1, zsetOpInter, false) }
func cmdZDiff(c *Ctx)       { zsetOpGeneric(c, "zdiff", nil, 1, zsetOpDiff, false) }
func cmdZInterCard(c *Ctx)  { zsetOpGeneric(c, "zintercard", nil, 1, zsetOpInter, true) }

// zsetOpGeneric is Redis 7.0's zunionInterDiffGenericCommand.
func zsetOpGeneric(c *Ctx, name string, dst []byte, numIdx int, op zsetOp, cardOnly bool) {
	setnum, ok := c.ParseInt(c.Args[numIdx])
	if !ok {
		return
	}
	if setnum < 1 {
		c.Err("ERR at least 1 input key is needed for '" + name + "' command")
		return
	}
	if setnum > int64(len(c.Args)-numIdx-1) {
		c.Err(errSyntax)
		return
	}
	n := int(setnum)
	var sbuf [4]zsetOpSrc
	src := sbuf[:0]
	for _, k := range c.Args[numIdx+1 : numIdx+1+n] {
		s := zsetOpSrc{weight: 1}
		if o := c.Read(k); o != nil {
			switch o.Type {
			case keyspace.TZSet:
				s.z = o.ZSet()
			case keyspace.TSet:
				s.s = o.SetView()
			default:
				c.Err(errWrongType)
				return
			}
		}
		src = append(src, s)
	}
	agg := zsetAggSum
	withScores := false
	var limit int64
	for j := numIdx + 1 + n; j < len(c.Args); {
		a := c.Args[j]
		remaining := len(c.Args) - j
		switch {
		case op != zsetOpDiff && !cardOnly && remaining >= n+1 && eq(a, "weights"):
			j++
			for i := range src {
				w, ok := zsetParseDouble(c.Args[j])
				if !ok {
					c.Err("ERR weight value is not a float")
					return
				}
				src[i].weight = w
				j++
			}
		case op != zsetOpDiff && !cardOnly && remaining >= 2 && eq(a, "aggregate"):
			switch v := c.Args[j+1]; {
			case eq(v, "sum"):
				agg = zsetAggSum
			case eq(v, "min"):
				agg = zsetAggMin
			case eq(v, "max"):
				agg = zsetAggMax
			default:
				c.Err(errSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && eq(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && eq(a, "limit"):
			l, ok := c.ParsePositive(c.Args[j+1], "ERR LIMIT can't be negative")
			if !ok {
				return
			}
			limit = l
			j += 2
		default:
			c.Err(errSyntax)
			return
		}
	}
	if op != zsetOpDiff {
		// Smallest inputs first, as Redis (its qsort is a stable merge sort).
		slices.SortStableFunc(src, func(a, b zsetOpSrc) int { return cmp.Compare(a.len(), b.len()) })
	}
	var res []keyspace.ZEntry
	switch op {
	case zsetOpInter:
		card := int64(0)
		if src[0].len() == 0 {
			if cardOnly {
				c.Int(0)
				return
			}
			break
		}
		src[0].each(func(m string, s0 float64) bool {
			score := src[0].weight * s0
			if math.IsNaN(score) {
				score = 0
			}
			for j := 1; j < len(src); j++ {
				v, found := src[j].find(m)
				if !found {
					return true
				}
				zsetAggregate(&score, v*src[j].weight, agg)
			}
			if cardOnly {
				card++
				return limit == 0 || card < limit
			}
			res = append(res, keyspace.ZEntry{Member: m, Score: score})
			return true
		})
		if cardOnly {
			c.Int(card)
			return
		}
	case zsetOpUnion:
		acc := make(map[string]float64, src[len(src)-1].len())
		for i := range src {
			src[i].each(func(m string, s float64) bool {
				score := src[i].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if cur, found := acc[m]; found {
					zsetAggregate(&cur, score, agg)
					acc[m] = cur
				} else {
					acc[m] = score
				}
				return true
			})
		}
		res = make([]keyspace.ZEntry, 0, len(acc))
		for m, s := range acc {
			res = append(res, keyspace.ZEntry{Member: m, Score: s})
		}
	case zsetOpDiff:
		src[0].each(func(m string, s float64) bool {
			for j := 1; j < len(src); j++ {
				if _, found := src[j].find(m); found {
					return true
				}
			}
			res = append(res, keyspace.ZEntry{Member: m, Score: s})
			return true
		})
	}
	slices.SortFunc(res, func(a, b keyspace.ZEntry) int {
		switch {
		case a.Score < b.Score:
			return -1
		case a.Score > b.Score:
			return 1
		}
		return strings.Compare(a.Member, b.Member)
	})
	if dst != nil {
		if len(res) == 0 {
			c.zsetStoreEmpty(dst)
			return
		}
		o := newZSetObject()
		z := o.ZSet()
		for _, e := range res {
			z.Add(e.Member, e.Score)
		}
		c.zsetStore(dst, o)
		return
	}
	nested := withScores && c.resp3()
	if withScores && !nested {
		c.Array(2 * len(res))
	} else {
		c.Array(len(res))
	}
	for _, e := range res {
		if nested {
			c.Array(2)
		}
		c.BulkString(e.Member)
		if withScores {
			c.Double(e.Score)
		}
	}
}

// ---- ZSCAN / ZRANDMEMBER ----

// cmdZScan returns every matching member in one call with cursor 0, as
// Redis does for small (listpack) sorted sets.
func cmdZScan(c *Ctx) {
	o, pat, ok := c.scanStart(keyspace.TZSet)
	if !ok {
		return
	}
	z := o.ZSet()
	var out []keyspace.ZEntry
	for it := z.IterAt(0, false); it.Valid(); it.Next() {
		if pat == nil || globMatch(pat, it.Member()) {
			out = append(out, keyspace.ZEntry{Member: it.Member(), Score: it.Score()})
		}
	}
	c.Array(2)
	c.BulkString("0")
	c.Array(2 * len(out))
	var buf [40]byte
	for _, e := range out {
		c.BulkString(e.Member)
		c.Bulk(zsetAppendScanScore(buf[:0], e.Score))
	}
}

// zsetAppendScanScore formats a score as ZSCAN returns it (Redis's
// d2string): integral values within ±2^62 as integers, others as %.17g.
func zsetAppendScanScore(dst []byte, f float64) []byte {
	const lim = float64(math.MaxInt64 / 2)
	if f >= -lim && f <= lim && f == math.Trunc(f) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return appendDouble(dst, f)
}

func cmdZRandMember(c *Ctx) {
	key := c.Args[1]
	if len(c.Args) >= 3 {
		l, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		if l == math.MinInt64 {
			c.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
			return
		}
		withScores := false
		if len(c.Args) > 4 || (len(c.Args) == 4 && !eq(c.Args[3], "withscores")) {
			c.Err(errSyntax)
			return
		} else if len(c.Args) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				c.Err("ERR value is out of range")
				return
			}
		}
		zrandmemberCount(c, key, l, withScores)
		return
	}
	z, ok := c.zsetRead(key)
	if !ok {
		return
	}
	if z == nil {
		c.Null()
		return
	}
	c.BulkString(z.At(rand.IntN(z.Len())).Member)
}

func zrandmemberCount(c *Ctx, key []byte, l int64, withScores bool) {
	z, ok := c.zsetRead(key)
	if !ok {
		return
	}
	if z == nil || l == 0 {
		c.Array(0)
		return
	}
	size := z.Len()
	nested := withScores && c.resp3()
	header := func(n int) {
		if withScores && !nested {
			c.Array(2 * n)
		} else {
			c.Array(n)
		}
	}
	emit := func(e keyspace.ZEntry) {
		if nested {
			c.Array(2)
		}
		c.BulkString(e.Member)
		if withScores {
			c.Double(e.Score)
		}
	}
	// Negative count: l picks with repetition, in random order.
	if l < 0 || l == 1 {
		n := l
		if n < 0 {
			n = -n
		}
		bulks := 1
		if withScores {
			bulks = 2
		}
		if c.randRepliesTooBig(n, bulks, func() int {
			e := z.At(rand.IntN(size))
			if withScores {
				return len(e.Member) + 17 // a score is up to 17 significant digits
			}
			return len(e.Member)
		}) {
			return
		}
		header(int(n))
		for ; n > 0; n-- {
			emit(z.At(rand.IntN(size)))
		}
		return
	}
	// Whole set requested: all of it, from the highest rank down (Redis
	// iterates sets from the tail).
	if l >= int64(size) {
		header(size)
		for it := z.IterAt(size-1, true); it.Valid(); it.Next() {
			emit(keyspace.ZEntry{Member: it.Member(), Score: it.Score()})
		}
		return
	}
	// l distinct members.
	count := int(l)
	ranks := make([]int, 0, count)
	if count*3 > size {
		// Large share: shuffle the ranks and keep a prefix.
		all := make([]int, size)
		for i := range all {
			all[i] = i
		}
		for i := 0; i < count; i++ {
			j := i + rand.IntN(size-i)
			all[i], all[j] = all[j], all[i]
		}
		ranks = append(ranks, all[:count]...)
	} else {
		seen := make(map[int]struct{}, count)
		for len(ranks) < count {
			r := rand.IntN(size)
			if _, dup := seen[r]; !dup {
				seen[r] = struct{}{}
				ranks = append(ranks, r)
			}
		}
	}
	if count*3 <= size && size <= 128 && z.MaxMemberLen() <= 64 {
		// Redis samples few members of small (listpack) sets in set order.
		slices.Sort(ranks)
	}
	header(count)
	for _, r := range ranks {
		emit(z.At(r))
	}
}
