package node

import (
	"math"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerBitOps(t table) {
	const g = "bitmap"
	t.add(
		&Command{Name: "bitop", Arity: -4, Flags: fWrite | fDenyOOM, FirstKey: 2, LastKey: -1, Run: cmdBitOp, Group: g},
		&Command{Name: "bitfield", Arity: -2, Flags: fWrite | fDenyOOM, FirstKey: 1, Run: func(c *Ctx) { bitfieldGeneric(c, false) }, Group: g},
		&Command{Name: "bitfield_ro", Arity: -2, Flags: fReadonly | fFast, FirstKey: 1, Run: func(c *Ctx) { bitfieldGeneric(c, true) }, Group: g},
	)
}

func cmdBitOp(c *Ctx) {
	op := c.Args[1]
	var kind byte
	switch {
	case eq(op, "and"):
		kind = '&'
	case eq(op, "or"):
		kind = '|'
	case eq(op, "xor"):
		kind = '^'
	case eq(op, "not"):
		kind = '~'
	default:
		c.Err(errSyntax)
		return
	}
	if kind == '~' && len(c.Args) != 4 {
		c.Err("ERR BITOP NOT must be called with a single source key.")
		return
	}
	srcs := make([][]byte, 0, len(c.Args)-3)
	maxLen := 0
	for _, key := range c.Args[3:] {
		o, ok := c.ReadType(key, keyspace.TString)
		if !ok {
			return
		}
		var v []byte
		if o != nil {
			v = o.Str
		}
		srcs = append(srcs, v)
		maxLen = max(maxLen, len(v))
	}
	dst := c.Args[2]
	if maxLen == 0 {
		if c.DB.Delete(dst) {
			c.PropagateArgs()
			c.notify(keyevents.Generic, "del", dst)
		}
		c.Int(0)
		return
	}
	res := make([]byte, maxLen)
	copy(res, srcs[0])
	switch kind {
	case '~':
		for i := range res {
			res[i] = ^res[i]
		}
	default:
		for _, s := range srcs[1:] {
			for i := range res {
				var b byte
				if i < len(s) {
					b = s[i]
				}
				switch kind {
				case '&':
					res[i] &= b
				case '|':
					res[i] |= b
				case '^':
					res[i] ^= b
				}
			}
		}
	}
	// setKey: the old value and its TTL go.
	c.DB.Set(dst, &keyspace.Object{Type: keyspace.TString, Str: res, LRU: keyspace.LRUClock()})
	c.PropagateArgs()
	c.notify(keyevents.String, "set", dst)
	c.Int(int64(maxLen))
}

const (
	bfWrap = iota
	bfSat
	bfFail
)

type bitfieldOp struct {
	offset   uint64
	i64      int64
	op       byte // 'g' GET, 's' SET, 'i' INCRBY
	overflow int
	bits     uint64
	signed   bool
}

const errBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

func bitfieldGeneric(c *Ctx, ro bool) {
	var ops []bitfieldOp
	overflow := bfWrap
	readonly := true
	var highest uint64
	for j := 2; j < len(c.Args); j++ {
		rem := len(c.Args) - j - 1
		sub := c.Args[j]
		var op byte
		switch {
		case eq(sub, "get") && rem >= 2:
			op = 'g'
		case eq(sub, "set") && rem >= 3:
			op = 's'
		case eq(sub, "incrby") && rem >= 3:
			op = 'i'
		case eq(sub, "overflow") && rem >= 1:
			j++
			switch t := c.Args[j]; {
			case eq(t, "wrap"):
				overflow = bfWrap
			case eq(t, "sat"):
				overflow = bfSat
			case eq(t, "fail"):
				overflow = bfFail
			default:
				c.Err("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			c.Err(errSyntax)
			return
		}
		t := c.Args[j+1]
		if len(t) == 0 || (t[0] != 'i' && t[0] != 'u') {
			c.Err(errBitfieldType)
			return
		}
		signed := t[0] == 'i'
		nbits, ok := keyspace.ParseInt(t[1:])
		if !ok || nbits < 1 || (signed && nbits > 64) || (!signed && nbits > 63) {
			c.Err(errBitfieldType)
			return
		}
		offArg := c.Args[j+2]
		hash := len(offArg) > 0 && offArg[0] == '#'
		if hash {
			offArg = offArg[1:]
		}
		off, ok := keyspace.ParseInt(offArg)
		if ok && hash {
			off *= nbits // wraps like Redis's long long multiply
		}
		if !ok || off < 0 || (!c.cl.internal && off>>3 >= c.maxBulkLen()) {
			c.Err("ERR bit offset is not an integer or out of range")
			return
		}
		var i64 int64
		if op != 'g' {
			readonly = false
			if end := uint64(off) + uint64(nbits) - 1; end > highest {
				highest = end
			}
			if i64, ok = c.ParseInt(c.Args[j+3]); !ok {
				return
			}
		}
		ops = append(ops, bitfieldOp{offset: uint64(off), i64: i64, op: op, overflow: overflow, bits: uint64(nbits), signed: signed})
		if op == 'g' {
			j += 2
		} else {
			j += 3
		}
	}
	key := c.Args[1]
	var o *keyspace.Object
	if readonly {
		var ok bool
		if o, ok = c.ReadType(key, keyspace.TString); !ok {
			return
		}
	} else {
		if ro {
			c.Err("ERR BITFIELD_RO only supports the GET subcommand")
			return
		}
		var ok bool
		if o, ok = c.WriteType(key, keyspace.TString); !ok {
			return
		}
		need := int(highest>>3) + 1
		if o == nil {
			o = &keyspace.Object{Type: keyspace.TString, Str: make([]byte, need), LRU: keyspace.LRUClock()}
			c.DB.Set(key, o)
		} else if len(o.Str) < need {
			o.Str = append(o.Str, make([]byte, need-len(o.Str))...)
		}
	}
	c.Array(len(ops))
	changes := 0
	for _, op := range ops {
		if op.op == 'g' {
			var buf [9]byte
			var src []byte
			if o != nil {
				src = o.Str
			}
			b := op.offset >> 3
			if b < uint64(len(src)) {
				copy(buf[:], src[b:])
			}
			v := getUnsignedBitfield(buf[:], op.offset-b*8, op.bits)
			if op.signed {
				c.Int(signExtend(v, op.bits))
			} else {
				c.Int(int64(v))
			}
			continue
		}
		changes++
		if op.signed {
			old := signExtend(getUnsignedBitfield(o.Str, op.offset, op.bits), op.bits)
			var newv, ret int64
			var of bool
			if op.op == 'i' {
				wrapped, ov := checkSignedOverflow(old, op.i64, op.bits, op.overflow)
				newv, of = old+op.i64, ov != 0
				if of {
					newv = wrapped
				}
				ret = newv
			} else {
				wrapped, ov := checkSignedOverflow(op.i64, 0, op.bits, op.overflow)
				newv, of = op.i64, ov != 0
				if of {
					newv = wrapped
				}
				ret = old
			}
			if of && op.overflow == bfFail {
				c.Null()
				continue
			}
			c.Int(ret)
			setUnsignedBitfield(o.Str, op.offset, op.bits, uint64(newv))
			continue
		}
		old := getUnsignedBitfield(o.Str, op.offset, op.bits)
		var newv, ret uint64
		var of bool
		if op.op == 'i' {
			wrapped, ov := checkUnsignedOverflow(old, op.i64, op.bits, op.overflow)
			newv, of = old+uint64(op.i64), ov != 0
			if of {
				newv = wrapped
			}
			ret = newv
		} else {
			wrapped, ov := checkUnsignedOverflow(uint64(op.i64), 0, op.bits, op.overflow)
			newv, of = uint64(op.i64), ov != 0
			if of {
				newv = wrapped
			}
			ret = old
		}
		if of && op.overflow == bfFail {
			c.Null()
			continue
		}
		c.Int(int64(ret))
		setUnsignedBitfield(o.Str, op.offset, op.bits, newv)
	}
	if changes > 0 {
		c.DB.Touch(key)
		c.PropagateArgs()
		c.notify(keyevents.String, "setbit", key)
	}
}

func getUnsignedBitfield(p []byte, offset, bits uint64) uint64 {
	var v uint64
	for range bits {
		b := offset >> 3
		var bv uint64
		if b < uint64(len(p)) {
			bv = uint64(p[b]>>(7-offset&7)) & 1
		}
		v = v<<1 | bv
		offset++
	}
	return v
}

func signExtend(v, bits uint64) int64 {
	if bits < 64 && v&(1<<(bits-1)) != 0 {
		v |= math.MaxUint64 << bits
	}
	return int64(v)
}

func setUnsignedBitfield(p []byte, offset, bits, value uint64) {
	for j := range bits {
		bv := byte(0)
		if value&(1<<(bits-1-j)) != 0 {
			bv = 1
		}
		b := offset >> 3
		bit := 7 - offset&7
		p[b] = p[b]&^(1<<bit) | bv<<bit
		offset++
	}
}

// checkUnsignedOverflow is Redis's checkUnsignedBitfieldOverflow: the
// direction of an overflow (1, -1, 0) and the value WRAP or SAT gives.
func checkUnsignedOverflow(value uint64, incr int64, bits uint64, ow int) (uint64, int) {
	maxv := uint64(1)<<bits - 1
	if bits == 64 {
		maxv = math.MaxUint64
	}
	maxincr := int64(maxv - value)
	minincr := -int64(value)
	wrap := func() uint64 { return (value + uint64(incr)) &^ (math.MaxUint64 << bits) }
	if value > maxv || (incr > 0 && incr > maxincr) {
		switch ow {
		case bfWrap:
			return wrap(), 1
		case bfSat:
			return maxv, 1
		}
		return 0, 1
	}
	if incr < 0 && incr < minincr {
		switch ow {
		case bfWrap:
			return wrap(), 1
		case bfSat:
			return 0, -1
		}
		return 0, -1
	}
	return 0, 0
}

// checkSignedOverflow is Redis's checkSignedBitfieldOverflow.
func checkSignedOverflow(value, incr int64, bits uint64, ow int) (int64, int) {
	maxv := int64(1)<<(bits-1) - 1
	if bits == 64 {
		maxv = math.MaxInt64
	}
	minv := -maxv - 1
	maxincr := int64(uint64(maxv) - uint64(value))
	minincr := minv - value
	wrap := func() int64 {
		r := uint64(value) + uint64(incr)
		if bits < 64 {
			mask := uint64(math.MaxUint64) << bits
			if r&(1<<(bits-1)) != 0 {
				r |= mask
			} else {
				r &^= mask
			}
		}
		return int64(r)
	}
	if value > maxv || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
		switch ow {
		case bfWrap:
			return wrap(), 1
		case bfSat:
			return maxv, 1
		}
		return 0, 1
	}
	if value < minv || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
		switch ow {
		case bfWrap:
			return wrap(), 1
		case bfSat:
			return minv, -1
		}
		return 0, -1
	}
	return 0, 0
}
