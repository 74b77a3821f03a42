package scripting

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// rand48 is Redis's redisLrand48 (rand.c): the 48-bit LCG that
// math.random uses, never reseeded between scripts in 7.0.
type rand48 struct {
	mu sync.Mutex
	x  uint64
}

func (r *rand48) init() { r.x = 0x1234ABCD330E }

func (r *rand48) next() int32 {
	r.mu.Lock()
	r.x = (0x5DEECE66D*r.x + 0xB) & (1<<48 - 1)
	v := int32(r.x >> 17)
	r.mu.Unlock()
	return v
}

func (r *rand48) seed(s int32) {
	r.mu.Lock()
	r.x = uint64(uint32(s))<<16 | 0x330E
	r.mu.Unlock()
}

func (e *Engine) mathRandom(L *lua.LState) int {
	const max = math.MaxInt32
	r := float64(e.rnd.next()%max) / max
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := L.CheckInt(1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (e *Engine) mathRandomseed(L *lua.LState) int {
	e.rnd.seed(int32(L.CheckInt(1)))
	return 0
}

// ---- bit (LuaBitOp): 32-bit operations on numbers.

func toBit(L *lua.LState, i int) int32 {
	f := float64(L.CheckNumber(i))
	// LuaBitOp normalizes by adding 2^52+2^51: round half to even, mod 2^32.
	f = math.RoundToEven(f)
	return int32(uint32(int64(math.Mod(f, 4294967296))))
}

func openBit(L *lua.LState) *lua.LTable {
	push := func(L *lua.LState, v int32) int { L.Push(lua.LNumber(v)); return 1 }
	fold := func(op func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := toBit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = op(v, toBit(L, i))
			}
			return push(L, v)
		}
	}
	fns := map[string]lua.LGFunction{
		"tobit": func(L *lua.LState) int { return push(L, toBit(L, 1)) },
		"bnot":  func(L *lua.LState) int { return push(L, ^toBit(L, 1)) },
		"band":  fold(func(a, b int32) int32 { return a & b }),
		"bor":   fold(func(a, b int32) int32 { return a | b }),
		"bxor":  fold(func(a, b int32) int32 { return a ^ b }),
		"lshift": func(L *lua.LState) int {
			return push(L, int32(uint32(toBit(L, 1))<<(uint32(toBit(L, 2))&31)))
		},
		"rshift": func(L *lua.LState) int {
			return push(L, int32(uint32(toBit(L, 1))>>(uint32(toBit(L, 2))&31)))
		},
		"arshift": func(L *lua.LState) int {
			return push(L, toBit(L, 1)>>(uint32(toBit(L, 2))&31))
		},
		"rol": func(L *lua.LState) int {
			x, n := uint32(toBit(L, 1)), uint32(toBit(L, 2))&31
			return push(L, int32(x<<n|x>>((32-n)&31)))
		},
		"ror": func(L *lua.LState) int {
			x, n := uint32(toBit(L, 1)), uint32(toBit(L, 2))&31
			return push(L, int32(x>>n|x<<((32-n)&31)))
		},
		"bswap": func(L *lua.LState) int {
			x := uint32(toBit(L, 1))
			return push(L, int32(x>>24|(x>>8)&0xff00|(x&0xff00)<<8|x<<24))
		},
		"tohex": func(L *lua.LState) int {
			x := uint32(toBit(L, 1))
			n := 8
			if L.GetTop() >= 2 {
				n = int(toBit(L, 2))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n, digits = -n, "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[x&15]
				x >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	return L.SetFuncs(L.CreateTable(0, len(fns)), fns)
}

// ---- cjson (lua-cjson 2.1 as Redis bundles it).

// jsonNull is cjson.null.
var jsonNull = &lua.LUserData{}

func openCJSON(L *lua.LState) *lua.LTable {
	cfg := func(L *lua.LState) int { return 0 }
	fns := map[string]lua.LGFunction{
		"encode":                  cjsonEncode,
		"decode":                  cjsonDecode,
		"encode_keep_buffer":      cfg,
		"encode_max_depth":        cfg,
		"decode_max_depth":        cfg,
		"encode_number_precision": cfg,
		"encode_sparse_array":     cfg,
		"encode_invalid_numbers":  cfg,
		"decode_invalid_numbers":  cfg,
	}
	t := L.SetFuncs(L.CreateTable(0, len(fns)+3), fns)
	t.RawSetString("null", jsonNull)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

func cjsonEncode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	var sb strings.Builder
	if err := jsonEncode(&sb, L.Get(1), 0); err != "" {
		L.RaiseError("Cannot serialise %s", err)
	}
	L.Push(lua.LString(sb.String()))
	return 1
}

func jsonEncode(sb *strings.Builder, v lua.LValue, depth int) string {
	if depth > 1000 {
		return "table: excessive nesting"
	}
	switch v := v.(type) {
	case lua.LBool:
		if v {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case *lua.LNilType:
		sb.WriteString("null")
	case lua.LNumber:
		f := float64(v)
		if math.IsInf(f, 0) || f != f {
			return "number: must not be NaN or Inf"
		}
		sb.WriteString(formatNumber(f))
	case lua.LString:
		jsonString(sb, string(v))
	case *lua.LUserData:
		if v == jsonNull {
			sb.WriteString("null")
			return ""
		}
		return "userdata: type not supported"
	case *lua.LTable:
		// An array when every key is a positive integer (lua-cjson's
		// lua_array_length), allowing some sparseness as its defaults do.
		maxIdx, items, isArray := 0, 0, true
		v.ForEach(func(k, _ lua.LValue) {
			n, ok := k.(lua.LNumber)
			if !ok || float64(n) != math.Floor(float64(n)) || n < 1 {
				isArray = false
				return
			}
			items++
			if int(n) > maxIdx {
				maxIdx = int(n)
			}
		})
		if isArray && maxIdx > 10 && maxIdx > items*2 {
			return "table: excessively sparse array"
		}
		if isArray && items > 0 {
			sb.WriteByte('[')
			for i := 1; i <= maxIdx; i++ {
				if i > 1 {
					sb.WriteByte(',')
				}
				if err := jsonEncode(sb, v.RawGetInt(i), depth+1); err != "" {
					return err
				}
			}
			sb.WriteByte(']')
			return ""
		}
		sb.WriteByte('{')
		first := true
		var ferr string
		v.ForEach(func(k, val lua.LValue) {
			if ferr != "" {
				return
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			switch k := k.(type) {
			case lua.LString:
				jsonString(sb, string(k))
			case lua.LNumber:
				jsonString(sb, formatNumber(float64(k)))
			default:
				ferr = "table key must be a number or string"
				return
			}
			sb.WriteByte(':')
			ferr = jsonEncode(sb, val, depth+1)
		})
		if ferr != "" {
			return ferr
		}
		sb.WriteByte('}')
	default:
		return v.Type().String() + ": type not supported"
	}
	return ""
}

func jsonString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '/':
			sb.WriteString(`\/`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(sb, `\u%04x`, c)
			} else {
				sb.WriteByte(c)
			}
		}
	}
	sb.WriteByte('"')
}

func cjsonDecode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	d := jsonDecoder{L: L, s: L.CheckString(1)}
	v := d.value(0)
	d.ws()
	if d.err == "" && d.i < len(d.s) {
		d.fail("the end")
	}
	if d.err != "" {
		L.RaiseError("%s", d.err)
	}
	L.Push(v)
	return 1
}

type jsonDecoder struct {
	L   *lua.LState
	s   string
	i   int
	err string
}

func (d *jsonDecoder) fail(expected string) {
	if d.err != "" {
		return
	}
	found := "end of input"
	if d.i < len(d.s) {
		found = "'" + d.s[d.i:d.i+1] + "'"
	}
	d.err = fmt.Sprintf("Expected %s but found invalid token at character %d", expected, d.i+1)
	_ = found
}

func (d *jsonDecoder) ws() {
	for d.i < len(d.s) && strings.IndexByte(" \t\r\n", d.s[d.i]) >= 0 {
		d.i++
	}
}

func (d *jsonDecoder) value(depth int) lua.LValue {
	d.ws()
	if d.err != "" {
		return lua.LNil
	}
	if depth > 1000 {
		d.err = "Found too many nested data structures (1001) at character " + strconv.Itoa(d.i+1)
		return lua.LNil
	}
	if d.i >= len(d.s) {
		d.fail("value")
		return lua.LNil
	}
	switch c := d.s[d.i]; {
	case c == '{':
		d.i++
		t := d.L.CreateTable(0, 4)
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return t
		}
		for d.err == "" {
			d.ws()
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				d.fail("object key string")
				return lua.LNil
			}
			k := d.str()
			d.ws()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				d.fail("colon")
				return lua.LNil
			}
			d.i++
			t.RawSetString(k, d.value(depth+1))
			d.ws()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == '}' {
				d.i++
				return t
			}
			d.fail("comma or object end")
		}
		return lua.LNil
	case c == '[':
		d.i++
		t := d.L.CreateTable(4, 0)
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return t
		}
		for n := 1; d.err == ""; n++ {
			t.RawSetInt(n, d.value(depth+1))
			d.ws()
			if d.i < len(d.s) && d.s[d.i] == ',' {
				d.i++
				continue
			}
			if d.i < len(d.s) && d.s[d.i] == ']' {
				d.i++
				return t
			}
			d.fail("comma or array end")
		}
		return lua.LNil
	case c == '"':
		return lua.LString(d.str())
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return lua.LTrue
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return lua.LFalse
	case strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return jsonNull
	case c == '-' || c >= '0' && c <= '9':
		j := d.i
		for j < len(d.s) && strings.IndexByte("+-0123456789.eE", d.s[j]) >= 0 {
			j++
		}
		f, err := strconv.ParseFloat(d.s[d.i:j], 64)
		if err != nil {
			d.fail("value")
			return lua.LNil
		}
		d.i = j
		return lua.LNumber(f)
	}
	d.fail("value")
	return lua.LNil
}

func (d *jsonDecoder) str() string {
	d.i++ // opening quote
	var sb strings.Builder
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return sb.String()
		case c == '\\' && d.i+1 < len(d.s):
			d.i++
			switch e := d.s[d.i]; e {
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				if d.i+4 >= len(d.s) {
					d.fail("unicode escape")
					return ""
				}
				n, err := strconv.ParseUint(d.s[d.i+1:d.i+5], 16, 32)
				if err != nil {
					d.fail("unicode escape")
					return ""
				}
				d.i += 4
				r := rune(n)
				if r >= 0xD800 && r < 0xDC00 && d.i+6 < len(d.s) && d.s[d.i+1] == '\\' && d.s[d.i+2] == 'u' {
					if lo, err := strconv.ParseUint(d.s[d.i+3:d.i+7], 16, 32); err == nil {
						r = 0x10000 + (r-0xD800)<<10 + (rune(lo) - 0xDC00)
						d.i += 6
					}
				}
				var buf [4]byte
				sb.Write(buf[:utf8.EncodeRune(buf[:], r)])
			default:
				sb.WriteByte(e)
			}
			d.i++
		default:
			sb.WriteByte(c)
			d.i++
		}
	}
	d.fail("string end")
	return ""
}
