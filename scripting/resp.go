package scripting

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/wardenkv/warden/keyspace"
	lua "github.com/yuin/gopher-lua"
)

// Conversion between RESP replies and Lua values, as Redis 7.0's
// script_lua.c does it.

var lvOK lua.LValue = lua.LString("OK")

// lineInt parses a RESP line's integer as Redis's string2ll does (the
// node writes them well formed; anything else is 0), without making a
// string of it.
func lineInt(line []byte) int64 {
	n, _ := keyspace.ParseInt(line)
	return n
}

// respToLua parses one RESP reply from b and returns it as the Lua value
// redis.call returns, with the unparsed rest of b. Malformed input (which
// the node never produces) ends as nil.
func respToLua(L *lua.LState, b []byte) (lua.LValue, []byte) {
	if len(b) < 3 {
		return lua.LNil, nil
	}
	line, rest, ok := bytes.Cut(b[1:], []byte("\r\n"))
	if !ok {
		return lua.LNil, nil
	}
	switch b[0] {
	case ':':
		return lua.LNumber(lineInt(line)), rest
	case '$', '=':
		n := int(lineInt(line))
		if n < 0 {
			return lua.LFalse, rest
		}
		if n > len(rest)-2 {
			return lua.LNil, nil
		}
		s := rest[:n]
		rest = rest[n+2:]
		if b[0] == '=' { // verbatim: "txt:..."
			t := L.CreateTable(0, 1)
			v := L.CreateTable(0, 2)
			if len(s) >= 4 {
				v.RawSetString("format", lua.LString(s[:3]))
				v.RawSetString("string", lua.LString(s[4:]))
			}
			t.RawSetString("verbatim_string", v)
			return t, rest
		}
		return lua.LString(s), rest
	case '+':
		t := L.CreateTable(0, 1)
		v := lvOK // the usual status: no string made per call
		if string(line) != "OK" {
			v = lua.LString(line)
		}
		t.RawSetString("ok", v)
		return t, rest
	case '-':
		t := L.CreateTable(0, 1)
		t.RawSetString("err", lua.LString(line))
		return t, rest
	case '*', '~':
		n := int(lineInt(line))
		if n < 0 {
			return lua.LFalse, rest
		}
		if n > len(rest) { // each element takes bytes: a bad count
			return lua.LNil, nil
		}
		t := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			var v lua.LValue
			v, rest = respToLua(L, rest)
			if b[0] == '~' {
				if v != lua.LNil {
					t.RawSet(v, lua.LTrue)
				}
			} else {
				t.RawSetInt(i, v)
			}
		}
		if b[0] == '~' {
			w := L.CreateTable(0, 1)
			w.RawSetString("set", t)
			return w, rest
		}
		return t, rest
	case '%':
		n := int(lineInt(line))
		if n < 0 || n > len(rest) {
			return lua.LNil, nil
		}
		t := L.CreateTable(0, n)
		for i := 0; i < n; i++ {
			var k, v lua.LValue
			k, rest = respToLua(L, rest)
			v, rest = respToLua(L, rest)
			if k != lua.LNil {
				t.RawSet(k, v)
			}
		}
		w := L.CreateTable(0, 1)
		w.RawSetString("map", t)
		return w, rest
	case '_':
		return lua.LNil, rest
	case '#':
		return lua.LBool(len(line) > 0 && line[0] == 't'), rest
	case ',':
		f, _ := parseDouble(string(line))
		t := L.CreateTable(0, 1)
		t.RawSetString("double", lua.LNumber(f))
		return t, rest
	case '(':
		t := L.CreateTable(0, 1)
		t.RawSetString("big_number", lua.LString(line))
		return t, rest
	case '|': // attribute: skipped, the reply follows
		n := int(lineInt(line))
		if n < 0 || n > len(rest) {
			return lua.LNil, nil
		}
		for i := 0; i < 2*n; i++ {
			_, rest = respToLua(L, rest)
		}
		return respToLua(L, rest)
	}
	return lua.LNil, nil
}

func parseDouble(s string) (float64, bool) {
	switch s {
	case "inf":
		return math.Inf(1), true
	case "-inf":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// replyWriter encodes a script's return value for the calling client, as
// Redis's luaReplyToRedisReply: clientResp is the caller's protocol,
// scriptResp what the script chose with redis.setresp.
type replyWriter struct {
	b          []byte
	clientResp int
	scriptResp int
}

func (w *replyWriter) null() {
	if w.clientResp == 3 {
		w.b = append(w.b, "_\r\n"...)
	} else {
		w.b = append(w.b, "$-1\r\n"...)
	}
}

func (w *replyWriter) header(c byte, n int) {
	w.b = append(w.b, c)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *replyWriter) bulk(s string) {
	w.header('$', len(s))
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

func (w *replyWriter) integer(n int64) {
	w.b = append(w.b, ':')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

// errorLine writes an error reply; Redis turns newlines into spaces.
func (w *replyWriter) errorLine(msg string) {
	w.b = append(w.b, '-')
	w.b = append(w.b, oneLine(msg)...)
	w.b = append(w.b, '\r', '\n')
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

func (w *replyWriter) double(f float64) {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	default:
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	if w.clientResp == 3 {
		w.b = append(w.b, ',')
		w.b = append(w.b, s...)
		w.b = append(w.b, '\r', '\n')
		return
	}
	w.bulk(s)
}

// toInt truncates a Lua number as C's (long long) cast does.
func toInt(n lua.LNumber) int64 {
	f := float64(n)
	switch {
	case f != f:
		return math.MinInt64
	case f >= 9.223372036854775807e18, f < -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

// value writes v; depth bounds recursion (Redis errors out on deep
// nesting; a self-referencing table must not recurse forever).
func (w *replyWriter) value(v lua.LValue, depth int) {
	if depth > 1000 {
		w.errorLine("ERR reached lua stack limit")
		return
	}
	switch v := v.(type) {
	case lua.LString:
		w.bulk(string(v))
	case lua.LBool:
		switch {
		case w.scriptResp == 2 && bool(v):
			w.integer(1)
		case w.scriptResp == 2:
			w.null()
		case w.clientResp == 3 && bool(v):
			w.b = append(w.b, "#t\r\n"...)
		case w.clientResp == 3:
			w.b = append(w.b, "#f\r\n"...)
		case bool(v):
			w.integer(1)
		default:
			w.integer(0)
		}
	case lua.LNumber:
		w.integer(toInt(v))
	case *lua.LTable:
		w.table(v, depth)
	default:
		w.null()
	}
}

func (w *replyWriter) table(t *lua.LTable, depth int) {
	if e, ok := t.RawGetString("err").(lua.LString); ok {
		w.errorLine(string(e))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.b = append(w.b, '+')
		w.b = append(w.b, oneLine(string(s))...)
		w.b = append(w.b, '\r', '\n')
		return
	}
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.double(float64(d))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		if w.clientResp == 3 {
			w.b = append(w.b, '(')
			w.b = append(w.b, oneLine(string(s))...)
			w.b = append(w.b, '\r', '\n')
		} else {
			w.bulk(string(s))
		}
		return
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		var keys, vals []lua.LValue
		m.ForEach(func(k, v lua.LValue) { keys, vals = append(keys, k), append(vals, v) })
		if w.clientResp == 3 {
			w.header('%', len(keys))
		} else {
			w.header('*', 2*len(keys))
		}
		for i := range keys {
			w.value(keys[i], depth+1)
			w.value(vals[i], depth+1)
		}
		return
	}
	if s, ok := t.RawGetString("set").(*lua.LTable); ok {
		var keys []lua.LValue
		s.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
		if w.clientResp == 3 {
			w.header('~', len(keys))
		} else {
			w.header('*', len(keys))
		}
		for _, k := range keys {
			w.value(k, depth+1)
		}
		return
	}
	if vs, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, _ := vs.RawGetString("format").(lua.LString)
		s, _ := vs.RawGetString("string").(lua.LString)
		if w.clientResp == 3 {
			w.header('=', len(s)+4)
			w.b = append(w.b, f...)
			w.b = append(w.b, ':')
			w.b = append(w.b, s...)
			w.b = append(w.b, '\r', '\n')
		} else {
			w.bulk(string(s))
		}
		return
	}
	// An array: elements 1..n up to the first nil.
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.header('*', n)
	for i := 1; i <= n; i++ {
		w.value(t.RawGetInt(i), depth+1)
	}
}
