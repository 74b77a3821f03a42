package scripting

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// redisLib builds the redis table scripts see.
func (v *vm) redisLib() *lua.LTable {
	L := v.L
	t := L.CreateTable(0, 32)
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return v.call(L, true) },
		"pcall":              func(L *lua.LState) int { return v.call(L, false) },
		"error_reply":        errorReply,
		"status_reply":       statusReply,
		"sha1hex":            sha1hex,
		"log":                v.logFn,
		"setresp":            v.setResp,
		"set_repl":           v.setRepl,
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"acl_check_cmd":      v.aclCheckCmd,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(Version))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(VersionNum))
	for name, n := range map[string]int{
		"LOG_DEBUG": LogDebug, "LOG_VERBOSE": LogVerbose, "LOG_NOTICE": LogNotice, "LOG_WARNING": LogWarning,
		"REPL_NONE": ReplNone, "REPL_AOF": ReplAOF, "REPL_SLAVE": ReplSlave, "REPL_REPLICA": ReplSlave, "REPL_ALL": ReplAll,
	} {
		t.RawSetString(name, lua.LNumber(n))
	}
	return t
}

// raise raises an error table {err=msg} as Redis's luaPushError + luaError.
func raise(L *lua.LState, msg string) {
	L.Error(errTable(L, msg), 0)
}

// errTable builds Redis's error table from "-CODE msg", "CODE msg" (with a
// code) or a bare message (which gets ERR), as luaPushErrorBuff.
func errTable(L *lua.LState, msg string) *lua.LTable {
	code := "ERR"
	if strings.HasPrefix(msg, "-") {
		if c, m, ok := strings.Cut(msg[1:], " "); ok {
			code, msg = c, m
		} else {
			msg = msg[1:]
		}
	}
	msg = strings.TrimRight(msg, "\r\n")
	t := L.CreateTable(0, 3)
	t.RawSetString("err", lua.LString(code+" "+msg))
	return t
}

// call is redis.call (raise) and redis.pcall.
func (v *vm) call(L *lua.LState, raiseErr bool) int {
	n := L.GetTop()
	if n == 0 {
		msg := "Please specify at least one argument for this redis lib call"
		if raiseErr {
			raise(L, msg)
		}
		L.Push(errTable(L, msg))
		return 1
	}
	if v.host == nil {
		raise(L, "redis.call/pcall can only be called inside a script invocation")
	}
	// One allocation for all the arguments' bytes: a fresh arena per call,
	// as commands may keep their arguments (SET keeps the value).
	size := 0
	for i := 1; i <= n; i++ {
		if s, ok := L.Get(i).(lua.LString); ok {
			size += len(s)
		} else {
			size += 24
		}
	}
	arena := make([]byte, 0, size)
	argv := v.argvBuf[:0]
	for i := 1; i <= n; i++ {
		start := len(arena)
		switch a := L.Get(i).(type) {
		case lua.LString:
			arena = append(arena, a...)
			argv = append(argv, arena[start:len(arena):len(arena)])
		case lua.LNumber:
			arena = appendNumberArg(arena, float64(a))
			argv = append(argv, arena[start:len(arena):len(arena)])
		default:
			msg := "Lua redis lib command arguments must be strings or integers"
			if raiseErr {
				raise(L, msg)
			}
			L.Push(errTable(L, msg))
			return 1
		}
	}
	reply := v.host.Call(argv, v.resp, v.repl)
	clear(argv)
	v.argvBuf = argv[:0]
	if len(reply) > 0 && reply[0] == '-' {
		end := strings.IndexByte(string(reply), '\r')
		if end < 0 {
			end = len(reply)
		}
		t := errTable(L, string(reply[:end]))
		if raiseErr {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	val, _ := respToLua(L, reply)
	L.Push(val)
	return 1
}

// appendNumberArg formats a number argument as Redis 7.0 does ("%.17g").
func appendNumberArg(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e17 {
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// aclCheckCmd is redis.acl_check_cmd.
func (v *vm) aclCheckCmd(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		raise(L, "Please specify at least one argument for this redis lib call")
	}
	if v.host == nil {
		raise(L, "redis.acl_check_cmd can only be called inside a script invocation")
	}
	argv := make([][]byte, n)
	if _, ok := L.Get(1).(lua.LString); !ok {
		raise(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	for i := 1; i <= n; i++ {
		argv[i-1] = []byte(lua.LVAsString(L.Get(i)))
	}
	allowed, ok := v.host.Allowed(argv)
	if !ok {
		raise(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LBool(allowed))
	return 1
}

func errorReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(errTable(L, "wrong number or type of arguments"))
		return 1
	}
	s := L.ToString(1)
	if !strings.HasPrefix(s, "-") {
		s = "-" + s
	}
	L.Push(errTable(L, s))
	return 1
}

func statusReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(errTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("ok", L.Get(1))
	L.Push(t)
	return 1
}

func sha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		raise(L, "wrong number of arguments")
	}
	L.Push(lua.LString(SHA1Hex([]byte(L.ToString(1)))))
	return 1
}

func (v *vm) logFn(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		raise(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		raise(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < LogDebug || level > LogWarning {
		raise(L, "Invalid debug level.")
	}
	parts := make([]string, 0, n-1)
	for i := 2; i <= n; i++ {
		parts = append(parts, lua.LVAsString(L.Get(i)))
	}
	if fn := v.e.Log; fn != nil {
		fn(level, strings.Join(parts, " "))
	}
	return 0
}

func (v *vm) setResp(L *lua.LState) int {
	if L.GetTop() != 1 {
		raise(L, "redis.setresp() requires one argument.")
	}
	n := L.CheckInt(1)
	if n != 2 && n != 3 {
		raise(L, "RESP version must be 2 or 3.")
	}
	v.resp = n
	return 0
}

func (v *vm) setRepl(L *lua.LState) int {
	if v.host == nil {
		raise(L, "redis.set_repl can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		raise(L, "redis.set_repl() requires one argument.")
	}
	n := L.CheckInt(1)
	if n&^ReplAll != 0 {
		raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	v.repl = n
	return 0
}
