package node

import (
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerStrings(t table) {
	const g = "string"
	w, r, wd := fWrite, fReadonly|fFast, fWrite|fDenyOOM
	t.add(
		&Command{Name: "get", Arity: 2, Flags: r, FirstKey: 1, Run: cmdGet, Group: g},
		&Command{Name: "set", Arity: -3, Flags: wd, FirstKey: 1, Run: cmdSet, Group: g},
		&Command{Name: "setnx", Arity: 3, Flags: wd | fFast, FirstKey: 1, Run: cmdSetNX, Group: g},
		&Command{Name: "setex", Arity: 4, Flags: wd, FirstKey: 1, Run: cmdSetEX, Group: g},
		&Command{Name: "psetex", Arity: 4, Flags: wd, FirstKey: 1, Run: cmdPSetEX, Group: g},
		&Command{Name: "mget", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Run: cmdMGet, Group: g},
		&Command{Name: "mset", Arity: -3, Flags: wd, FirstKey: 1, LastKey: -1, Step: 2, Run: cmdMSet, Group: g},
		&Command{Name: "msetnx", Arity: -3, Flags: wd, FirstKey: 1, LastKey: -1, Step: 2, Run: cmdMSetNX, Group: g},
		&Command{Name: "getset", Arity: 3, Flags: wd | fFast, FirstKey: 1, Run: cmdGetSet, Group: g},
		&Command{Name: "getdel", Arity: 2, Flags: w | fFast, FirstKey: 1, Run: cmdGetDel, Group: g},
		&Command{Name: "getex", Arity: -2, Flags: w | fFast, FirstKey: 1, Run: cmdGetEx, Group: g},
		&Command{Name: "append", Arity: 3, Flags: wd | fFast, FirstKey: 1, Run: cmdAppend, Group: g},
		&Command{Name: "strlen", Arity: 2, Flags: r, FirstKey: 1, Run: cmdStrlen, Group: g},
		&Command{Name: "incr", Arity: 2, Flags: wd | fFast, FirstKey: 1, Run: cmdIncr, Group: g},
		&Command{Name: "decr", Arity: 2, Flags: wd | fFast, FirstKey: 1, Run: cmdDecr, Group: g},
		&Command{Name: "incrby", Arity: 3, Flags: wd | fFast, FirstKey: 1, Run: cmdIncrBy, Group: g},
		&Command{Name: "decrby", Arity: 3, Flags: wd | fFast, FirstKey: 1, Run: cmdDecrBy, Group: g},
		&Command{Name: "incrbyfloat", Arity: 3, Flags: wd | fFast, FirstKey: 1, Run: cmdIncrByFloat, Group: g},
		&Command{Name: "getrange", Arity: 4, Flags: fReadonly, FirstKey: 1, Run: cmdGetRange, Group: g},
		&Command{Name: "substr", Arity: 4, Flags: fReadonly, FirstKey: 1, Run: cmdGetRange, Group: g},
		&Command{Name: "setrange", Arity: 4, Flags: wd, FirstKey: 1, Run: cmdSetRange, Group: g},
	)
}

// maxBulkLen is proto-max-bulk-len: the largest string a client may build.
func (c *Ctx) maxBulkLen() int64 { return c.s.protoMaxBulkLen.Load() }

// checkStringLength refuses a string of size+add bytes past
// proto-max-bulk-len, overflow included, as Redis's checkStringLength does.
// Internal clients (AOF replay, the master's stream) apply what was
// accepted.
func (c *Ctx) checkStringLength(size, add int64) bool {
	if c.cl.internal {
		return true
	}
	if total := size + add; total < size || total > c.maxBulkLen() {
		c.Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
		return false
	}
	return true
}

// readString returns a string key's value; ok=false after a WRONGTYPE reply.
func (c *Ctx) readString(key []byte) ([]byte, bool, bool) {
	v, t, found := c.DB.GetString(key)
	c.countRead(key, found)
	if found && t != keyspace.TString {
		c.Err(errWrongType)
		return nil, false, false
	}
	return v, found, true
}

func cmdGet(c *Ctx) {
	v, found, ok := c.readString(c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.Null()
		return
	}
	c.Bulk(v)
}

// expireArg parses a relative (EX/PX) or absolute (EXAT/PXAT) expire
// argument to absolute unix ms; cmd names the command for the error text.
func (c *Ctx) expireArg(arg []byte, unit time.Duration, absolute bool, cmd string) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok {
		c.Err(errNotInt)
		return 0, false
	}
	bad := func() (int64, bool) {
		c.Err("ERR invalid expire time in '" + cmd + "' command")
		return 0, false
	}
	if n <= 0 {
		return bad()
	}
	if unit == time.Second {
		if n > math.MaxInt64/1000 {
			return bad()
		}
		n *= 1000
	}
	if !absolute {
		if n > math.MaxInt64-c.DB.Now() {
			return bad()
		}
		n += c.DB.Now()
	}
	return n, true
}

func cmdSet(c *Ctx) {
	key, val := c.Args[1], c.Args[2]
	var nx, xx, get, keepTTL bool
	var expire int64
	seenExpire := false
	for i := 3; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case eq(a, "nx") && !xx:
			nx = true
		case eq(a, "xx") && !nx:
			xx = true
		case eq(a, "get"):
			get = true
		case eq(a, "keepttl") && !seenExpire:
			keepTTL, seenExpire = true, true
		case (eq(a, "ex") || eq(a, "px") || eq(a, "exat") || eq(a, "pxat")) && !seenExpire && i+1 < len(c.Args):
			unit := time.Millisecond
			if eq(a, "ex") || eq(a, "exat") {
				unit = time.Second
			}
			abs := eq(a, "exat") || eq(a, "pxat")
			at, ok := c.expireArg(c.Args[i+1], unit, abs, "set")
			if !ok {
				return
			}
			expire, seenExpire = at, true
			i++
		default:
			c.Err(errSyntax)
			return
		}
	}
	var cur []byte
	var curType keyspace.Type
	var exists bool
	if nx || xx || get { // a plain SET needs no lookup: SetString expires an expired key itself
		cur, curType, exists = c.DB.GetString(key)
	}
	if get && exists && curType != keyspace.TString {
		c.Err(errWrongType)
		return
	}
	var oldVal []byte
	if get && exists {
		oldVal = append([]byte(nil), cur...)
	}
	if (nx && exists) || (xx && !exists) {
		if get {
			c.bulkOrNull(oldVal, exists)
		} else {
			c.Null()
		}
		return
	}
	c.DB.SetString(key, val, expire, keepTTL)
	switch {
	case expire != 0:
		c.Propagate(argSET, key, val, argPXAT, []byte(strconv.FormatInt(expire, 10)))
	case keepTTL:
		c.Propagate(argSET, key, val, argKEEPTTL)
	default:
		c.Propagate(argSET, key, val)
	}
	c.notify(keyevents.String, "set", key)
	if expire != 0 {
		c.notify(keyevents.Generic, "expire", key)
	}
	if get {
		c.bulkOrNull(oldVal, exists)
		return
	}
	c.OK()
}

func (c *Ctx) bulkOrNull(b []byte, found bool) {
	if !found {
		c.Null()
		return
	}
	c.Bulk(b)
}

func cmdSetNX(c *Ctx) {
	if c.DB.Get(c.Args[1]) != nil {
		c.Int(0)
		return
	}
	c.DB.SetString(c.Args[1], c.Args[2], 0, false)
	c.Propagate(argSET, c.Args[1], c.Args[2])
	c.notify(keyevents.String, "set", c.Args[1])
	c.Int(1)
}

func setWithTTL(c *Ctx, unit time.Duration, name string) {
	at, ok := c.expireArg(c.Args[2], unit, false, name)
	if !ok {
		return
	}
	c.DB.SetString(c.Args[1], c.Args[3], at, false)
	c.Propagate(argSET, c.Args[1], c.Args[3], argPXAT, []byte(strconv.FormatInt(at, 10)))
	c.notify(keyevents.String, "set", c.Args[1])
	c.notify(keyevents.Generic, "expire", c.Args[1])
	c.OK()
}

func cmdSetEX(c *Ctx)  { setWithTTL(c, time.Second, "setex") }
func cmdPSetEX(c *Ctx) { setWithTTL(c, time.Millisecond, "psetex") }

func cmdMGet(c *Ctx) {
	c.Array(len(c.Args) - 1)
	for _, k := range c.Args[1:] {
		v, t, found := c.DB.GetString(k)
		c.countRead(k, found)
		if !found || t != keyspace.TString {
			c.Null()
			continue
		}
		c.Bulk(v)
	}
}

func cmdMSet(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.Err("ERR wrong number of arguments for 'mset' command")
		return
	}
	for i := 1; i < len(c.Args); i += 2 {
		c.DB.SetString(c.Args[i], c.Args[i+1], 0, false)
		c.notify(keyevents.String, "set", c.Args[i])
	}
	c.PropagateArgs()
	c.OK()
}

func cmdMSetNX(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.Err("ERR wrong number of arguments for 'msetnx' command")
		return
	}
	for i := 1; i < len(c.Args); i += 2 {
		if c.DB.Get(c.Args[i]) != nil {
			c.Int(0)
			return
		}
	}
	for i := 1; i < len(c.Args); i += 2 {
		c.DB.SetString(c.Args[i], c.Args[i+1], 0, false)
		c.notify(keyevents.String, "set", c.Args[i])
	}
	c.PropagateArgs()
	c.Int(1)
}

func cmdGetSet(c *Ctx) {
	o, ok := c.WriteType(c.Args[1], keyspace.TString)
	if !ok {
		return
	}
	var old []byte
	if o != nil {
		old = append([]byte(nil), o.Str...)
	}
	c.DB.SetString(c.Args[1], c.Args[2], 0, false)
	c.Propagate(argSET, c.Args[1], c.Args[2])
	c.notify(keyevents.String, "set", c.Args[1])
	c.bulkOrNull(old, o != nil)
}

func cmdGetDel(c *Ctx) {
	v, found, ok := c.readString(c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.Null()
		return
	}
	c.Bulk(v) // written to the reply buffer before the value is dropped
	c.DB.Delete(c.Args[1])
	c.Propagate([]byte("DEL"), c.Args[1])
	c.notify(keyevents.Generic, "del", c.Args[1])
}

func cmdGetEx(c *Ctx) {
	key := c.Args[1]
	var expire int64
	var opt, optArg []byte
	persist, set := false, false
	for i := 2; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case eq(a, "persist") && !set:
			persist, set = true, true
		case (eq(a, "ex") || eq(a, "px") || eq(a, "exat") || eq(a, "pxat")) && !set && i+1 < len(c.Args):
			opt, optArg, set = a, c.Args[i+1], true
			i++
		default:
			c.Err(errSyntax)
			return
		}
	}
	v, found, ok := c.readString(key)
	if !ok {
		return
	}
	if !found {
		c.Null()
		return
	}
	// Redis validates the time only once the key is known to be a string.
	if opt != nil {
		unit := time.Millisecond
		if eq(opt, "ex") || eq(opt, "exat") {
			unit = time.Second
		}
		if expire, ok = c.expireArg(optArg, unit, eq(opt, "exat") || eq(opt, "pxat"), "getex"); !ok {
			return
		}
	}
	c.Bulk(v)
	switch {
	case persist:
		if o := c.DB.Get(key); o.Expire != 0 {
			c.DB.SetExpire(key, 0)
			c.Propagate([]byte("PERSIST"), key)
			c.notify(keyevents.Generic, "persist", key)
		}
	case expire != 0 && expire <= c.DB.Now(): // Redis deletes at once
		c.DB.Delete(key)
		c.Propagate([]byte("DEL"), key)
		c.notify(keyevents.Generic, "del", key)
	case expire != 0:
		c.DB.SetExpire(key, expire)
		c.Propagate([]byte("PEXPIREAT"), key, []byte(strconv.FormatInt(expire, 10)))
		c.notify(keyevents.Generic, "expire", key)
	}
}

func cmdAppend(c *Ctx) {
	o, ok := c.WriteType(c.Args[1], keyspace.TString)
	if !ok {
		return
	}
	if o == nil {
		c.DB.SetString(c.Args[1], c.Args[2], 0, false)
		c.PropagateArgs()
		c.notify(keyevents.String, "append", c.Args[1])
		c.Int(int64(len(c.Args[2])))
		return
	}
	if !c.checkStringLength(int64(len(o.Str)), int64(len(c.Args[2]))) {
		return
	}
	o.Str = append(o.Str, c.Args[2]...)
	c.DB.Touch(c.Args[1])
	c.PropagateArgs()
	c.notify(keyevents.String, "append", c.Args[1])
	c.Int(int64(len(o.Str)))
}

func cmdStrlen(c *Ctx) {
	v, _, ok := c.readString(c.Args[1])
	if ok {
		c.Int(int64(len(v)))
	}
}

// incrBy adds delta to the integer stored at key.
func incrBy(c *Ctx, delta int64) {
	key := c.Args[1]
	v, t, found := c.DB.GetString(key)
	if found && t != keyspace.TString {
		c.Err(errWrongType)
		return
	}
	var cur int64
	if found {
		n, ok := keyspace.ParseInt(v)
		if !ok {
			c.Err(errNotInt)
			return
		}
		cur = n
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		c.Err(errOverflow)
		return
	}
	cur += delta
	val := strconv.AppendInt(c.idBuf[:0], cur, 10) // (SetString copies it)
	c.DB.SetString(key, val, 0, true)
	c.PropagateArgs()
	c.notify(keyevents.String, "incrby", key)
	c.Int(cur)
}

func cmdIncr(c *Ctx) { incrBy(c, 1) }
func cmdDecr(c *Ctx) { incrBy(c, -1) }

func cmdIncrBy(c *Ctx) {
	if n, ok := c.ParseInt(c.Args[2]); ok {
		incrBy(c, n)
	}
}

func cmdDecrBy(c *Ctx) {
	n, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if n == math.MinInt64 {
		c.Err("ERR decrement would overflow")
		return
	}
	incrBy(c, -n)
}

// cmdIncrByFloat works in long double precision, as Redis does, so results
// such as 0.1+0.2 = "0.3" match (see hashParseLD).
func cmdIncrByFloat(c *Ctx) {
	key := c.Args[1]
	o, ok := c.WriteType(key, keyspace.TString)
	if !ok {
		return
	}
	cur := new(big.Float).SetPrec(hashLDPrec)
	infinite := false
	if o != nil {
		f, inf, ok := hashParseLD(o.Str)
		if !ok {
			c.Err(errNotFloat)
			return
		}
		if inf {
			infinite = true
		} else {
			cur.Set(f)
		}
	}
	incr, inf, ok := hashParseLD(c.Args[2])
	if !ok {
		c.Err(errNotFloat)
		return
	}
	if infinite || inf {
		c.Err("ERR increment would produce NaN or Infinity")
		return
	}
	cur.Add(cur, incr)
	if cur.Sign() != 0 && cur.MantExp(nil) > hashLDMaxExp {
		c.Err("ERR increment would produce NaN or Infinity")
		return
	}
	val := hashFormatLD(cur)
	c.DB.SetString(key, val, 0, true)
	c.Propagate(argSET, key, val, argKEEPTTL)
	c.notify(keyevents.String, "incrbyfloat", key)
	c.Bulk(val)
}

func cmdGetRange(c *Ctx) {
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	end, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	v, _, ok := c.readString(c.Args[1])
	if !ok {
		return
	}
	// Redis 7.0's arithmetic, quirks included: a negative end below the
	// start of the string clamps to 0 (GETRANGE s -100 -100 is "h").
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.BulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.BulkString("")
		return
	}
	c.Bulk(v[start : end+1])
}

func cmdSetRange(c *Ctx) {
	key, val := c.Args[1], c.Args[3]
	off, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if off < 0 {
		c.Err("ERR offset is out of range")
		return
	}
	o, ok := c.WriteType(key, keyspace.TString)
	if !ok {
		return
	}
	// As Redis: setting nothing answers the length without a size check;
	// anything else is checked (offset+length may overflow) before the
	// key is created.
	if len(val) == 0 {
		if o == nil {
			c.Int(0)
		} else {
			c.Int(int64(len(o.Str)))
		}
		return
	}
	if !c.checkStringLength(off, int64(len(val))) {
		return
	}
	if o == nil {
		o = &keyspace.Object{Type: keyspace.TString, LRU: keyspace.LRUClock()}
		c.DB.Set(key, o)
		o = c.DB.Get(key)
	}
	if len(val) > 0 {
		need := int(off) + len(val)
		if need > len(o.Str) {
			o.Str = append(o.Str, make([]byte, need-len(o.Str))...)
		}
		copy(o.Str[off:], val)
		c.DB.Touch(key)
		c.PropagateArgs()
		c.notify(keyevents.String, "setrange", key)
	}
	c.Int(int64(len(o.Str)))
}
