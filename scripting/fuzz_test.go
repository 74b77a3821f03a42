package scripting

import (
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// callLib runs a library function on data in a bare state: a Lua error
// (RaiseError, ArgError) is a fine outcome for bad input, a Go panic is not.
func callLib(t *testing.T, open func(*lua.LState) *lua.LTable, name string, args ...lua.LValue) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	fn := open(L).RawGetString(name)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*lua.ApiError); !ok {
				t.Fatalf("%s panicked: %v", name, r)
			}
		}
	}()
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), lua.MultRet)
}

func FuzzCJSONDecode(f *testing.F) {
	for _, s := range []string{`[1,2,null,{"a":[true,false]}]`, `{"a":"\u00e9\ud83d\ude00"}`, `"x`, `[[[[`, `-1e400`, `{"a":1,}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		callLib(t, openCJSON, "decode", lua.LString(s))
	})
}

func FuzzMsgpackUnpack(f *testing.F) {
	for _, s := range []string{"\x93\x01\x02\xa1a", "\xdd\xff\xff\xff\xff", "\xdf\x00\x00\x00\x10", "\xcb\x00", "\x81\xc0\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		callLib(t, openMsgpack, "unpack", lua.LString(s))
		callLib(t, openMsgpack, "unpack_one", lua.LString(s))
	})
}

func FuzzStruct(f *testing.F) {
	f.Add(">I2", "\x01\x02")
	f.Add("<i4 b B c0", "\xfb\xff\xff\xff\xff\xff\x03abc")
	f.Add("s d f c5 x", "ab\x00")
	f.Add("i9 !4 =", "")
	f.Fuzz(func(t *testing.T, format, data string) {
		callLib(t, openStruct, "unpack", lua.LString(format), lua.LString(data))
		callLib(t, openStruct, "size", lua.LString(format))
		callLib(t, openStruct, "pack", lua.LString(format), lua.LNumber(1), lua.LString(data), lua.LNumber(-2))
	})
}

// FuzzRESPToLua feeds arbitrary bytes as a command's reply.
func FuzzRESPToLua(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":5\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n:1\r\n$1\r\na\r\n", "%1\r\n+a\r\n:1\r\n", "~1\r\n+a\r\n", ",1.5\r\n", "#t\r\n", "(123\r\n", "=7\r\ntxt:abc\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n", "*9999999\r\n", "$99\r\nab\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		v, _ := respToLua(L, []byte(s))
		// And back out, in both protocols.
		for _, p := range []int{2, 3} {
			w := replyWriter{clientResp: p, scriptResp: 3}
			w.value(v, 0)
		}
	})
}

// FuzzScript compiles and runs arbitrary scripts without a host: any
// outcome but a crash or a hang is fine (loops are cut by a kill).
func FuzzScript(f *testing.F) {
	for _, s := range []string{"return 1", "return {1,{2}}", "x=", "#!lua flags=no-writes\nreturn 1", "return cjson.encode({a={1,2}})", "local t = setmetatable({}, {__index=function(t,k) return k end}) return t.x", "return string.rep('a', 10)"} {
		f.Add(s)
	}
	e := New()
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Contains(body, "while") || strings.Contains(body, "repeat") || strings.Contains(body, "for") || strings.Contains(body, "rep") || strings.Contains(body, "function") || strings.Contains(body, "goto") {
			return // unbounded loops, recursion or memory: not what this checks
		}
		s, _ := e.Load([]byte(body))
		if s == nil {
			return
		}
		res := e.Eval(s, &Request{Proto: 3, Host: nilHost{}})
		if strings.Contains(res.Err, "runtime error") || strings.Contains(res.Err, "panic") {
			t.Fatalf("script %q: %s", body, res.Err)
		}
	})
}

type nilHost struct{}

func (nilHost) Call([][]byte, int, int) []byte { return []byte("-ERR no host\r\n") }
func (nilHost) Allowed([][]byte) (bool, bool)  { return false, false }

// lineInt parses what strconv.ParseInt parses (the node's integers), and
// gives 0 for anything else.
func TestLineInt(t *testing.T) {
	for _, c := range []string{"0", "-0", "7", "-7", "123456789012345678", "-123456789012345678",
		"1234567890123456789", "9223372036854775807", "-9223372036854775808", "", "-", "12x", "x"} {
		want, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			want = 0
		}
		if got := lineInt([]byte(c)); got != want {
			t.Errorf("lineInt(%q) = %d, want %d", c, got, want)
		}
	}
}
