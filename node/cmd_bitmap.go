package node

import (
	"encoding/binary"
	"math/bits"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerBitmaps(t table) {
	const g = "bitmap"
	t.add(
		&Command{Name: "setbit", Arity: 4, Flags: fWrite | fDenyOOM, FirstKey: 1, Run: cmdSetBit, Group: g},
		&Command{Name: "getbit", Arity: 3, Flags: fReadonly | fFast, FirstKey: 1, Run: cmdGetBit, Group: g},
		&Command{Name: "bitcount", Arity: -2, Flags: fReadonly, FirstKey: 1, Run: cmdBitCount, Group: g},
		&Command{Name: "bitpos", Arity: -3, Flags: fReadonly, FirstKey: 1, Run: cmdBitPos, Group: g},
	)
}

// bitmapOffsetArg parses a bit offset: 0 <= offset < proto-max-bulk-len*8.
func (c *Ctx) bitmapOffsetArg(b []byte) (int64, bool) {
	n, ok := keyspace.ParseInt(b)
	if !ok || n < 0 || (!c.cl.internal && n>>3 >= c.maxBulkLen()) {
		c.Err("ERR bit offset is not an integer or out of range")
		return 0, false
	}
	return n, true
}

func cmdSetBit(c *Ctx) {
	key := c.Args[1]
	off, ok := c.bitmapOffsetArg(c.Args[2])
	if !ok {
		return
	}
	on, ok := keyspace.ParseInt(c.Args[3])
	if !ok || on&^1 != 0 {
		c.Err("ERR bit is not an integer or out of range")
		return
	}
	o, ok := c.WriteType(key, keyspace.TString)
	if !ok {
		return
	}
	byteIdx := int(off >> 3)
	mask := byte(1) << (7 - uint(off&7))
	if o == nil {
		buf := make([]byte, byteIdx+1)
		if on == 1 {
			buf[byteIdx] = mask
		}
		c.DB.Set(key, &keyspace.Object{Type: keyspace.TString, Str: buf, LRU: keyspace.LRUClock()})
		c.PropagateArgs()
		c.notify(keyevents.String, "setbit", key)
		c.Int(0)
		return
	}
	changed := false
	if need := byteIdx + 1; need > len(o.Str) {
		if need <= cap(o.Str) {
			old := len(o.Str)
			o.Str = o.Str[:need]
			clear(o.Str[old:])
		} else {
			o.Str = append(o.Str, make([]byte, need-len(o.Str))...)
		}
		changed = true
	}
	old := o.Str[byteIdx]&mask != 0
	if old != (on == 1) {
		o.Str[byteIdx] ^= mask
		changed = true
	}
	if changed { // Redis 7.0.15 signals the key only then (WATCH, tracking)
		c.DB.Touch(key)
		c.PropagateArgs()
		c.notify(keyevents.String, "setbit", key)
	}
	if old {
		c.Int(1)
	} else {
		c.Int(0)
	}
}

func cmdGetBit(c *Ctx) {
	off, ok := c.bitmapOffsetArg(c.Args[2])
	if !ok {
		return
	}
	v, _, ok := c.readString(c.Args[1])
	if !ok {
		return
	}
	i := off >> 3
	if i < int64(len(v)) && v[i]&(1<<(7-uint(off&7))) != 0 {
		c.Int(1)
		return
	}
	c.Int(0)
}

// bitmapRangeArgs converts BITCOUNT / BITPOS start and end (already parsed)
// to an inclusive bit range, as Redis clamps them; ok=false for an empty
// range.
func bitmapRange(start, end, strlen int64, isBit bool) (from, to int64, ok bool) {
	total := strlen
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 0, 0, false
	}
	if isBit {
		return start, end, true
	}
	return start << 3, end<<3 | 7, true
}

// bitmapUnit parses the optional BYTE|BIT argument.
func (c *Ctx) bitmapUnit(b []byte) (isBit, ok bool) {
	switch {
	case eq(b, "bit"):
		return true, true
	case eq(b, "byte"):
		return false, true
	}
	c.Err(errSyntax)
	return false, false
}

// bitmapPopcount counts the set bits of p.
func bitmapPopcount(p []byte) int64 {
	n := 0
	for len(p) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	for _, b := range p {
		n += bits.OnesCount8(b)
	}
	return int64(n)
}

// bitmapCount counts the set bits of p in the inclusive bit range.
func bitmapCount(p []byte, from, to int64) int64 {
	fb, lb := from>>3, to>>3
	n := bitmapPopcount(p[fb : lb+1])
	// Drop the bits of the edge bytes outside the range.
	if head := from & 7; head != 0 {
		n -= int64(bits.OnesCount8(p[fb] >> (8 - head)))
	}
	if tail := 7 - to&7; tail != 0 {
		n -= int64(bits.OnesCount8(p[lb] & (1<<tail - 1)))
	}
	return n
}

func cmdBitCount(c *Ctx) {
	v, found, ok := c.readString(c.Args[1])
	if !ok {
		return
	}
	if !found {
		c.Int(0)
		return
	}
	switch len(c.Args) {
	case 2:
		c.Int(bitmapPopcount(v))
		return
	case 4, 5:
	default:
		c.Err(errSyntax)
		return
	}
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	end, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	isBit := false
	if len(c.Args) == 5 {
		if isBit, ok = c.bitmapUnit(c.Args[4]); !ok {
			return
		}
	}
	if start < 0 && end < 0 && start > end {
		c.Int(0)
		return
	}
	from, to, nonEmpty := bitmapRange(start, end, int64(len(v)), isBit)
	if !nonEmpty {
		c.Int(0)
		return
	}
	c.Int(bitmapCount(v, from, to))
}

// bitmapFind returns the index of the first bit equal to bit in the
// inclusive bit range of p, or -1.
func bitmapFind(p []byte, from, to int64, bit bool) int64 {
	var skip byte // a byte holding no wanted bit
	if !bit {
		skip = 0xff
	}
	want := func(b byte, i int64) bool { return (b&(0x80>>(i&7)) != 0) == bit }
	i := from
	// Head: bit by bit up to a byte boundary.
	for ; i <= to && i&7 != 0; i++ {
		if want(p[i>>3], i) {
			return i
		}
	}
	// Whole bytes, eight at a time while they hold nothing wanted.
	skip64 := uint64(0)
	if !bit {
		skip64 = ^uint64(0)
	}
	for i+64 <= to+1 && binary.LittleEndian.Uint64(p[i>>3:]) == skip64 {
		i += 64
	}
	for i+8 <= to+1 && p[i>>3] == skip {
		i += 8
	}
	for ; i <= to; i++ {
		if want(p[i>>3], i) {
			return i
		}
	}
	return -1
}

func cmdBitPos(c *Ctx) {
	b, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if b != 0 && b != 1 {
		c.Err("ERR The bit argument must be 1 or 0.")
		return
	}
	bit := b == 1
	v, found, ok := c.readString(c.Args[1])
	if !ok {
		return
	}
	if !found {
		if bit {
			c.Int(-1)
		} else {
			c.Int(0)
		}
		return
	}
	strlen := int64(len(v))
	start, end := int64(0), strlen-1
	isBit, endGiven := false, false
	switch len(c.Args) {
	case 3:
	case 4, 5, 6:
		if start, ok = c.ParseInt(c.Args[3]); !ok {
			return
		}
		if len(c.Args) == 6 {
			if isBit, ok = c.bitmapUnit(c.Args[5]); !ok {
				return
			}
		}
		if len(c.Args) >= 5 {
			if end, ok = c.ParseInt(c.Args[4]); !ok {
				return
			}
			endGiven = true
		}
	default:
		c.Err(errSyntax)
		return
	}
	from, to, nonEmpty := bitmapRange(start, end, strlen, isBit)
	if !nonEmpty {
		c.Int(-1)
		return
	}
	pos := bitmapFind(v, from, to, bit)
	if pos == -1 && !bit && !endGiven {
		// Without an explicit end the string counts as padded with zeros.
		pos = to + 1
	}
	c.Int(pos)
}
