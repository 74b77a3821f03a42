package node

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerHashes(t table) {
	const g = "hash"
	wf, r, rf := fWrite|fDenyOOM|fFast, fReadonly, fReadonly|fFast
	t.add(
		&Command{Name: "hset", Arity: -4, Flags: wf, FirstKey: 1, Run: cmdHSet, Group: g},
		&Command{Name: "hmset", Arity: -4, Flags: wf, FirstKey: 1, Run: cmdHSet, Group: g},
		&Command{Name: "hsetnx", Arity: 4, Flags: wf, FirstKey: 1, Run: cmdHSetNX, Group: g},
		&Command{Name: "hget", Arity: 3, Flags: rf, FirstKey: 1, Run: cmdHGet, Group: g},
		&Command{Name: "hmget", Arity: -3, Flags: rf, FirstKey: 1, Run: cmdHMGet, Group: g},
		&Command{Name: "hgetall", Arity: 2, Flags: r, FirstKey: 1, Run: cmdHGetAll, Group: g},
		&Command{Name: "hkeys", Arity: 2, Flags: r, FirstKey: 1, Run: cmdHKeys, Group: g},
		&Command{Name: "hvals", Arity: 2, Flags: r, FirstKey: 1, Run: cmdHVals, Group: g},
		&Command{Name: "hdel", Arity: -3, Flags: fWrite | fFast, FirstKey: 1, Run: cmdHDel, Group: g},
		&Command{Name: "hexists", Arity: 3, Flags: rf, FirstKey: 1, Run: cmdHExists, Group: g},
		&Command{Name: "hlen", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdHLen, Group: g},
		&Command{Name: "hstrlen", Arity: 3, Flags: rf, FirstKey: 1, Run: cmdHStrlen, Group: g},
		&Command{Name: "hincrby", Arity: 4, Flags: wf, FirstKey: 1, Run: cmdHIncrBy, Group: g},
		&Command{Name: "hincrbyfloat", Arity: 4, Flags: wf, FirstKey: 1, Run: cmdHIncrByFloat, Group: g},
		&Command{Name: "hscan", Arity: -3, Flags: r, FirstKey: 1, Run: cmdHScan, Group: g},
		&Command{Name: "hrandfield", Arity: -2, Flags: r, FirstKey: 1, Run: cmdHRandField, Group: g},
	)
}

// hashWrite returns the hash at key for a write, creating (but not yet
// storing) an empty one when missing: created reports that the caller must
// store it with hashStore. ok=false after a WRONGTYPE reply.
func (c *Ctx) hashWrite(key []byte) (h *keyspace.Hash, created, ok bool) {
	o, ok := c.WriteType(key, keyspace.THash)
	if !ok {
		return nil, false, false
	}
	if o == nil {
		return keyspace.NewHash(0), true, true
	}
	return o.Hash(), false, true
}

// hashStore stores a newly created hash, or records the in-place change.
func (c *Ctx) hashStore(key []byte, h *keyspace.Hash, created bool) {
	if created {
		c.DB.Set(key, &keyspace.Object{Type: keyspace.THash, Val: h, LRU: keyspace.LRUClock()})
		return
	}
	c.DB.Touch(key)
}

// hashRead returns the hash at key (nil when missing); ok=false after a
// WRONGTYPE reply.
func (c *Ctx) hashRead(key []byte) (*keyspace.Hash, bool) {
	o, ok := c.ReadType(key, keyspace.THash)
	if !ok || o == nil {
		return nil, ok
	}
	return o.Hash(), true
}

func cmdHSet(c *Ctx) {
	if len(c.Args)%2 == 1 {
		c.Err("ERR wrong number of arguments for '" + c.cmd.Name + "' command")
		return
	}
	key := c.Args[1]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	added := 0
	for i := 2; i < len(c.Args); i += 2 {
		if h.Set(c.Args[i], c.Args[i+1]) {
			added++
		}
	}
	c.hashStore(key, h, created)
	c.PropagateArgs()
	c.notify(keyevents.Hash, "hset", key)
	if c.cmd.Name == "hmset" {
		c.OK()
		return
	}
	c.Int(int64(added))
}

func cmdHSetNX(c *Ctx) {
	key := c.Args[1]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	if _, exists := h.Get(c.Args[2]); exists {
		c.Int(0)
		return
	}
	h.Set(c.Args[2], c.Args[3])
	c.hashStore(key, h, created)
	c.PropagateArgs()
	c.notify(keyevents.Hash, "hset", key)
	c.Int(1)
}

func cmdHGet(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if !ok {
		return
	}
	v, found := h.Get(c.Args[2])
	c.bulkOrNull(v, found)
}

func cmdHMGet(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if !ok {
		return
	}
	c.Array(len(c.Args) - 2)
	for _, f := range c.Args[2:] {
		v, found := h.Get(f)
		c.bulkOrNull(v, found)
	}
}

func cmdHGetAll(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if !ok {
		return
	}
	c.Map(h.Len())
	h.Range(func(f string, v []byte) bool {
		c.BulkString(f)
		c.Bulk(v)
		return true
	})
}

func cmdHKeys(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if !ok {
		return
	}
	c.Array(h.Len())
	h.Range(func(f string, _ []byte) bool {
		c.BulkString(f)
		return true
	})
}

func cmdHVals(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if !ok {
		return
	}
	c.Array(h.Len())
	h.Range(func(_ string, v []byte) bool {
		c.Bulk(v)
		return true
	})
}

func cmdHDel(c *Ctx) {
	c.removeMembers(keyspace.THash, func(o *keyspace.Object, f []byte) bool { return o.Hash().Delete(f) })
}

func cmdHExists(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if !ok {
		return
	}
	if _, found := h.Get(c.Args[2]); found {
		c.Int(1)
	} else {
		c.Int(0)
	}
}

func cmdHLen(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if ok {
		c.Int(int64(h.Len()))
	}
}

func cmdHStrlen(c *Ctx) {
	h, ok := c.hashRead(c.Args[1])
	if ok {
		v, _ := h.Get(c.Args[2])
		c.Int(int64(len(v)))
	}
}

func cmdHIncrBy(c *Ctx) {
	incr, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	key, field := c.Args[1], c.Args[2]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	var cur int64
	if v, exists := h.Get(field); exists {
		n, ok := keyspace.ParseInt(v)
		if !ok {
			c.Err("ERR hash value is not an integer")
			return
		}
		cur = n
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.Err(errOverflow)
		return
	}
	cur += incr
	var buf [24]byte
	h.Set(field, strconv.AppendInt(buf[:0], cur, 10))
	c.hashStore(key, h, created)
	c.PropagateArgs()
	c.notify(keyevents.Hash, "hincrby", key)
	c.Int(cur)
}

// Redis does HINCRBYFLOAT in long double (x87 80-bit: 64-bit mantissa,
// 15-bit exponent); big.Float with 64 bits of precision reproduces its
// results, range and "%.17Lf" formatting exactly.
const (
	hashLDPrec   = 64
	hashLDMaxExp = 16384  // LDBL_MAX < 2^16384
	hashLDMinExp = -16444 // below the smallest denormal strtold gives 0/ERANGE
	hashLDMaxLen = 5 * 1024
)

// hashParseLD parses like Redis's string2ld (strtold): ok=false for what
// Redis refuses; inf=true for infinities (which strtold accepts).
func hashParseLD(b []byte) (f *big.Float, inf, ok bool) {
	if len(b) == 0 || len(b) >= hashLDMaxLen {
		return nil, false, false
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return nil, false, false
	}
	s := string(b)
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	lower := strings.ToLower(body)
	if lower == "inf" || lower == "infinity" {
		return nil, true, true
	}
	hex := strings.HasPrefix(lower, "0x")
	for i := 0; i < len(lower); i++ {
		ch := lower[i]
		switch {
		case ch >= '0' && ch <= '9', ch == '.', ch == '+', ch == '-':
		case ch == 'e' && !hex:
		case hex && (i == 1 || ch == 'p' || ch >= 'a' && ch <= 'f'):
		default:
			return nil, false, false
		}
	}
	base := 10
	if hex {
		base = 0
	}
	f, _, err := new(big.Float).SetPrec(hashLDPrec).Parse(s, base)
	if err != nil || f.IsInf() {
		return nil, false, false
	}
	if f.Sign() != 0 {
		exp := f.MantExp(nil)
		if exp > hashLDMaxExp || exp < hashLDMinExp {
			return nil, false, false
		}
	}
	return f, false, true
}

// hashFormatLD formats like Redis's ld2string(LD_STR_HUMAN): "%.17Lf" with
// trailing zeros (and a bare dot) removed, "-0" as "0".
func hashFormatLD(f *big.Float) []byte {
	b := f.Append(nil, 'f', 17)
	if i := len(b) - 1; i > 0 {
		for b[i] == '0' {
			i--
		}
		if b[i] == '.' {
			i--
		}
		b = b[:i+1]
	}
	if len(b) == 2 && b[0] == '-' && b[1] == '0' {
		b = b[1:]
	}
	return b
}

func cmdHIncrByFloat(c *Ctx) {
	incr, inf, ok := hashParseLD(c.Args[3])
	if !ok {
		c.Err(errNotFloat)
		return
	}
	if inf {
		c.Err("ERR value is NaN or Infinity")
		return
	}
	key, field := c.Args[1], c.Args[2]
	h, created, ok := c.hashWrite(key)
	if !ok {
		return
	}
	cur := new(big.Float).SetPrec(hashLDPrec)
	if v, exists := h.Get(field); exists {
		f, inf, ok := hashParseLD(v)
		if !ok {
			c.Err("ERR hash value is not a float")
			return
		}
		if inf {
			c.Err("ERR increment would produce NaN or Infinity")
			return
		}
		cur.Set(f)
	}
	cur.Add(cur, incr)
	if cur.Sign() != 0 && cur.MantExp(nil) > hashLDMaxExp {
		c.Err("ERR increment would produce NaN or Infinity")
		return
	}
	val := hashFormatLD(cur)
	h.Set(field, val)
	c.hashStore(key, h, created)
	c.Propagate([]byte("HSET"), key, field, val)
	c.notify(keyevents.Hash, "hincrbyfloat", key)
	c.Bulk(val)
}

func cmdHScan(c *Ctx) {
	o, pattern, ok := c.scanStart(keyspace.THash)
	if !ok {
		return
	}
	h := o.Hash()
	c.Array(2)
	c.BulkString("0")
	if pattern == nil {
		c.Array(2 * h.Len())
		h.Range(func(f string, v []byte) bool {
			c.BulkString(f)
			c.Bulk(v)
			return true
		})
		return
	}
	var fields []string
	var vals [][]byte
	h.Range(func(f string, v []byte) bool {
		if globMatch(pattern, f) {
			fields, vals = append(fields, f), append(vals, v)
		}
		return true
	})
	c.Array(2 * len(fields))
	for i, f := range fields {
		c.BulkString(f)
		c.Bulk(vals[i])
	}
}

func cmdHRandField(c *Ctx) {
	key := c.Args[1]
	if len(c.Args) == 2 {
		h, ok := c.hashRead(key)
		if !ok {
			return
		}
		if h.Len() == 0 {
			c.Null()
			return
		}
		f, _ := h.At(rand.IntN(h.Len()))
		c.BulkString(f)
		return
	}
	n, ok := c.setsCountArg(c.Args[2])
	if !ok {
		return
	}
	withValues := false
	if len(c.Args) > 4 || (len(c.Args) == 4 && !eq(c.Args[3], "withvalues")) {
		c.Err(errSyntax)
		return
	}
	if len(c.Args) == 4 {
		withValues = true
		if n < -math.MaxInt64/2 || n > math.MaxInt64/2 {
			c.Err("ERR value is out of range")
			return
		}
	}
	h, ok := c.hashRead(key)
	if !ok {
		return
	}
	if h.Len() == 0 || n == 0 {
		c.Array(0)
		return
	}
	// Random picks by position: a packed hash finds a position by a scan,
	// so its entries are listed once (at most 128) instead of per draw.
	size, at := h.Len(), h.At
	if packed, _ := h.Packed(); packed {
		fs, vs := make([]string, 0, size), make([][]byte, 0, size)
		h.Range(func(f string, v []byte) bool {
			fs, vs = append(fs, f), append(vs, v)
			return true
		})
		at = func(i int) (string, []byte) { return fs[i], vs[i] }
	}
	pairs := withValues && c.resp3()
	header := func(n int) {
		if withValues && !pairs {
			n *= 2
		}
		c.Array(n)
	}
	emit := func(f string, v []byte) {
		if pairs {
			c.Array(2)
		}
		c.BulkString(f)
		if withValues {
			c.Bulk(v)
		}
	}
	switch {
	case n < 0: // repeats allowed: independent uniform draws
		bulks := 1
		if withValues {
			bulks = 2
		}
		if c.randRepliesTooBig(-n, bulks, func() int {
			f, v := at(rand.IntN(size))
			if withValues {
				return len(f) + len(v)
			}
			return len(f)
		}) {
			return
		}
		header(int(-n))
		for range -n {
			emit(at(rand.IntN(size)))
		}
	case n >= int64(size):
		header(size)
		h.Range(func(f string, v []byte) bool {
			emit(f, v)
			return true
		})
	default: // distinct fields
		idx := hashSample(size, int(n))
		header(len(idx))
		for _, i := range idx {
			emit(at(i))
		}
	}
}

// hashSample returns k distinct positions of [0, n) chosen uniformly: a
// shuffled prefix when k is a large share of n, else rejection sampling.
func hashSample(n, k int) []int {
	if k*3 > n {
		return rand.Perm(n)[:k]
	}
	seen := make(map[int]struct{}, k)
	out := make([]int, 0, k)
	for len(out) < k {
		i := rand.IntN(n)
		if _, dup := seen[i]; !dup {
			seen[i] = struct{}{}
			out = append(out, i)
		}
	}
	return out
}
