package scripting

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ---- struct (Roberto Ierusalimschy's struct library, as Redis bundles
// it): pack, unpack, size. Alignment ('!') is accepted and ignored.

type structFmt struct {
	f      string
	i      int
	little bool
}

// next returns the next option and its size argument (-1 when absent).
func (s *structFmt) next() (byte, int) {
	for s.i < len(s.f) {
		c := s.f[s.i]
		s.i++
		switch c {
		case ' ':
			continue
		case '<':
			s.little = true
			continue
		case '>':
			s.little = false
			continue
		case '=':
			s.little = true
			continue
		case '!':
			s.num()
			continue
		}
		return c, s.num()
	}
	return 0, -1
}

func (s *structFmt) num() int {
	if s.i >= len(s.f) || s.f[s.i] < '0' || s.f[s.i] > '9' {
		return -1
	}
	n := 0
	for s.i < len(s.f) && s.f[s.i] >= '0' && s.f[s.i] <= '9' {
		n = n*10 + int(s.f[s.i]-'0')
		s.i++
		if n > 1<<20 {
			break
		}
	}
	return n
}

func intSize(c byte, n int) int {
	switch c {
	case 'b', 'B':
		return 1
	case 'h', 'H':
		return 2
	case 'l', 'L', 'T':
		return 8
	case 'i', 'I':
		if n < 0 {
			return 4
		}
		return n
	}
	return 0
}

func openStruct(L *lua.LState) *lua.LTable {
	fns := map[string]lua.LGFunction{"pack": structPack, "unpack": structUnpack, "size": structSize}
	return L.SetFuncs(L.CreateTable(0, 3), fns)
}

func structPack(L *lua.LState) int {
	sf := structFmt{f: L.CheckString(1), little: true}
	var out []byte
	arg := 2
	for {
		c, n := sf.next()
		if c == 0 {
			break
		}
		switch c {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			size := intSize(c, n)
			if size < 1 || size > 8 {
				L.RaiseError("integral size %d is larger than limit of 8", size)
			}
			v := uint64(int64(float64(L.CheckNumber(arg))))
			arg++
			b := make([]byte, size)
			for k := 0; k < size; k++ {
				if sf.little {
					b[k] = byte(v >> (8 * k))
				} else {
					b[size-1-k] = byte(v >> (8 * k))
				}
			}
			out = append(out, b...)
		case 'f', 'd':
			f := float64(L.CheckNumber(arg))
			arg++
			var b []byte
			var order binary.AppendByteOrder = binary.BigEndian
			if sf.little {
				order = binary.LittleEndian
			}
			if c == 'f' {
				b = order.AppendUint32(nil, math.Float32bits(float32(f)))
			} else {
				b = order.AppendUint64(nil, math.Float64bits(f))
			}
			out = append(out, b...)
		case 'x':
			out = append(out, 0)
		case 's':
			out = append(out, L.CheckString(arg)...)
			out = append(out, 0)
			arg++
		case 'c':
			s := L.CheckString(arg)
			arg++
			if n <= 0 {
				n = len(s)
			}
			if len(s) < n {
				L.ArgError(arg-1, "string too short")
			}
			out = append(out, s[:n]...)
		default:
			L.RaiseError("invalid format option '%c'", c)
		}
	}
	L.Push(lua.LString(out))
	return 1
}

func structUnpack(L *lua.LState) int {
	sf := structFmt{f: L.CheckString(1), little: true}
	data := L.CheckString(2)
	pos := L.OptInt(3, 1) - 1
	if pos < 0 || pos > len(data) {
		L.ArgError(3, "offset out of range")
	}
	count := 0
	var last lua.LNumber
	for {
		c, n := sf.next()
		if c == 0 {
			break
		}
		need := func(k int) {
			if pos+k > len(data) || k < 0 {
				L.ArgError(2, "data string too short")
			}
		}
		switch c {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			size := intSize(c, n)
			if size < 1 || size > 8 {
				L.RaiseError("integral size %d is larger than limit of 8", size)
			}
			need(size)
			var v uint64
			for k := 0; k < size; k++ {
				var b byte
				if sf.little {
					b = data[pos+k]
				} else {
					b = data[pos+size-1-k]
				}
				v |= uint64(b) << (8 * k)
			}
			var num lua.LNumber
			if c == 'b' || c == 'h' || c == 'l' || c == 'i' {
				shift := 64 - 8*size
				num = lua.LNumber(int64(v<<shift) >> shift)
			} else {
				num = lua.LNumber(v)
			}
			last = num
			L.Push(num)
			pos += size
		case 'f', 'd':
			var order binary.ByteOrder = binary.BigEndian
			if sf.little {
				order = binary.LittleEndian
			}
			if c == 'f' {
				need(4)
				L.Push(lua.LNumber(math.Float32frombits(order.Uint32([]byte(data[pos : pos+4])))))
				pos += 4
			} else {
				need(8)
				L.Push(lua.LNumber(math.Float64frombits(order.Uint64([]byte(data[pos : pos+8])))))
				pos += 8
			}
		case 'x':
			need(1)
			pos++
			continue
		case 's':
			end := strings.IndexByte(data[pos:], 0)
			if end < 0 {
				L.RaiseError("unfinished string in data")
			}
			L.Push(lua.LString(data[pos : pos+end]))
			pos += end + 1
		case 'c':
			if n <= 0 {
				n = int(last)
			}
			need(n)
			L.Push(lua.LString(data[pos : pos+n]))
			pos += n
		default:
			L.RaiseError("invalid format option '%c'", c)
		}
		count++
	}
	L.Push(lua.LNumber(pos + 1))
	return count + 1
}

func structSize(L *lua.LState) int {
	sf := structFmt{f: L.CheckString(1), little: true}
	total := 0
	for {
		c, n := sf.next()
		if c == 0 {
			break
		}
		switch c {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			total += intSize(c, n)
		case 'f':
			total += 4
		case 'd':
			total += 8
		case 'x':
			total++
		case 'c':
			if n < 0 {
				n = 1
			}
			total += n
		case 's':
			L.RaiseError("options 'c0' - 's' have undefined sizes")
		default:
			L.RaiseError("invalid format option '%c'", c)
		}
	}
	L.Push(lua.LNumber(total))
	return 1
}

// ---- cmsgpack (lua-cmsgpack as Redis bundles it): pack, unpack.

func openMsgpack(L *lua.LState) *lua.LTable {
	fns := map[string]lua.LGFunction{
		"pack":   msgpackPack,
		"unpack": func(L *lua.LState) int { return msgpackUnpack(L, -1, false) },
		"unpack_one": func(L *lua.LState) int {
			return msgpackUnpack(L, 1, true)
		},
		"unpack_limit": func(L *lua.LState) int {
			return msgpackUnpack(L, L.CheckInt(2), true)
		},
	}
	t := L.SetFuncs(L.CreateTable(0, 6), fns)
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	return t
}

func msgpackPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(0, "MessagePack pack needs input.")
	}
	var out []byte
	for i := 1; i <= n; i++ {
		out = mpEncode(out, L.Get(i), 0)
	}
	L.Push(lua.LString(out))
	return 1
}

func mpEncode(b []byte, v lua.LValue, depth int) []byte {
	switch v := v.(type) {
	case lua.LBool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(v)
		if f == math.Trunc(f) && !math.IsInf(f, 0) && math.Abs(f) < 1<<63 {
			n := int64(f)
			switch {
			case n >= 0 && n < 128:
				return append(b, byte(n))
			case n < 0 && n >= -32:
				return append(b, byte(n))
			case n >= 0 && n <= math.MaxUint8:
				return append(b, 0xcc, byte(n))
			case n >= 0 && n <= math.MaxUint16:
				return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
			case n >= 0 && n <= math.MaxUint32:
				return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
			case n >= 0:
				return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
			case n >= math.MinInt8:
				return append(b, 0xd0, byte(n))
			case n >= math.MinInt16:
				return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
			case n >= math.MinInt32:
				return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
			default:
				return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
			}
		}
		if float64(float32(f)) == f {
			return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(float32(f)))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
	case lua.LString:
		n := len(v)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= math.MaxUint8:
			b = append(b, 0xd9, byte(n))
		case n <= math.MaxUint16:
			b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
		}
		return append(b, v...)
	case *lua.LTable:
		if depth > 16 { // lua-cmsgpack's LUACMSGPACK_MAX_NESTING
			return append(b, 0xc0)
		}
		// An array when keys are exactly 1..n.
		n, count := 0, 0
		isArray := true
		v.ForEach(func(k, _ lua.LValue) {
			count++
			if num, ok := k.(lua.LNumber); !ok || float64(num) != math.Trunc(float64(num)) || num < 1 {
				isArray = false
			} else if int(num) > n {
				n = int(num)
			}
		})
		if isArray && n == count {
			b = mpHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = mpEncode(b, v.RawGetInt(i), depth+1)
			}
			return b
		}
		b = mpHeader(b, count, 0x80, 0xde, 0xdf)
		type kv struct{ k, v lua.LValue }
		var kvs []kv
		v.ForEach(func(k, val lua.LValue) { kvs = append(kvs, kv{k, val}) })
		for _, p := range kvs {
			b = mpEncode(b, p.k, depth+1)
			b = mpEncode(b, p.v, depth+1)
		}
		return b
	}
	return append(b, 0xc0)
}

func mpHeader(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

func msgpackUnpack(L *lua.LState, limit int, withOffset bool) int {
	s := L.CheckString(1)
	off := 0
	if withOffset {
		off = L.OptInt(3, 0)
	}
	d := mpDecoder{L: L, s: s, i: off}
	count := 0
	for d.i < len(s) && (limit < 0 || count < limit) {
		v := d.value(0)
		if d.bad {
			L.RaiseError("Missing bytes in input.")
		}
		L.Push(v)
		count++
	}
	if withOffset {
		next := d.i
		if next >= len(s) {
			next = -1
		}
		L.Insert(lua.LNumber(next), L.GetTop()-count+1)
		return count + 1
	}
	return count
}

type mpDecoder struct {
	L   *lua.LState
	s   string
	i   int
	bad bool
}

func (d *mpDecoder) take(n int) string {
	if n < 0 || d.i+n > len(d.s) {
		d.bad = true
		d.i = len(d.s)
		return ""
	}
	r := d.s[d.i : d.i+n]
	d.i += n
	return r
}

func (d *mpDecoder) u(n int) uint64 {
	b := d.take(n)
	var v uint64
	for i := 0; i < len(b); i++ {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func (d *mpDecoder) value(depth int) lua.LValue {
	if d.bad || depth > 1000 {
		d.bad = true
		return lua.LNil
	}
	c := d.take(1)
	if d.bad {
		return lua.LNil
	}
	t := c[0]
	switch {
	case t < 0x80:
		return lua.LNumber(t)
	case t >= 0xe0:
		return lua.LNumber(int8(t))
	case t&0xf0 == 0x80:
		return d.mapN(int(t&0x0f), depth)
	case t&0xf0 == 0x90:
		return d.arrayN(int(t&0x0f), depth)
	case t&0xe0 == 0xa0:
		return lua.LString(d.take(int(t & 0x1f)))
	}
	switch t {
	case 0xc0:
		return lua.LNil
	case 0xc2:
		return lua.LFalse
	case 0xc3:
		return lua.LTrue
	case 0xcc, 0xcd, 0xce, 0xcf:
		return lua.LNumber(d.u(1 << (t - 0xcc)))
	case 0xd0:
		return lua.LNumber(int8(d.u(1)))
	case 0xd1:
		return lua.LNumber(int16(d.u(2)))
	case 0xd2:
		return lua.LNumber(int32(d.u(4)))
	case 0xd3:
		return lua.LNumber(int64(d.u(8)))
	case 0xca:
		return lua.LNumber(math.Float32frombits(uint32(d.u(4))))
	case 0xcb:
		return lua.LNumber(math.Float64frombits(d.u(8)))
	case 0xd9, 0xc4:
		return lua.LString(d.take(int(d.u(1))))
	case 0xda, 0xc5:
		return lua.LString(d.take(int(d.u(2))))
	case 0xdb, 0xc6:
		return lua.LString(d.take(int(d.u(4))))
	case 0xdc:
		return d.arrayN(int(d.u(2)), depth)
	case 0xdd:
		return d.arrayN(int(d.u(4)), depth)
	case 0xde:
		return d.mapN(int(d.u(2)), depth)
	case 0xdf:
		return d.mapN(int(d.u(4)), depth)
	}
	return lua.LNil
}

func (d *mpDecoder) arrayN(n int, depth int) lua.LValue {
	if n > len(d.s)-d.i { // every element takes a byte: no huge tables
		d.bad = true
		return lua.LNil
	}
	t := d.L.CreateTable(n, 0)
	for i := 1; i <= n && !d.bad; i++ {
		t.RawSetInt(i, d.value(depth+1))
	}
	return t
}

func (d *mpDecoder) mapN(n int, depth int) lua.LValue {
	if 2*n > len(d.s)-d.i {
		d.bad = true
		return lua.LNil
	}
	t := d.L.CreateTable(0, n)
	for i := 0; i < n && !d.bad; i++ {
		k := d.value(depth + 1)
		v := d.value(depth + 1)
		if k != lua.LNil {
			t.RawSet(k, v)
		}
	}
	return t
}
