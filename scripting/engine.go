// Package scripting runs Redis Lua scripts (EVAL) and functions (FCALL)
// on gopher-lua, a Lua 5.1 VM: the sandbox, the redis.* API, Redis 7.0's
// RESP↔Lua conversion rules, the script cache and the function libraries.
//
// The node stays outside: it gives every run a Host, through which the
// script's redis.call runs a command as a client inside the script's locked
// context and gets the RESP reply back. The node also serializes runs (one
// script at a time, as in Redis), so a VM sees one run at a time.
package scripting

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Version is the Redis version scripts see (redis.REDIS_VERSION).
const (
	Version    = "7.0.15"
	VersionNum = 0x07000f
)

// Host is the node's side of one run.
type Host interface {
	// Call runs argv as a command of the script, replying in protocol
	// resp (2 or 3), and returns the encoded RESP reply. Refusals (unknown
	// command, write in a read-only script...) come back as error replies.
	// repl is the script's redis.set_repl flags (ReplAll by default).
	Call(argv [][]byte, resp int, repl int) []byte
	// Allowed reports whether argv names a command (and subcommand) the
	// script's user may run (redis.acl_check_cmd); ok is false when there
	// is no such command.
	Allowed(argv [][]byte) (allowed, ok bool)
}

// Replication flags of redis.set_repl.
const (
	ReplNone  = 0
	ReplAOF   = 1
	ReplSlave = 2
	ReplAll   = 3
)

// Log levels of redis.log.
const (
	LogDebug = iota
	LogVerbose
	LogNotice
	LogWarning
)

// Flags are a script's shebang flags or a function's registered flags.
type Flags uint8

const (
	FlagNoWrites Flags = 1 << iota
	FlagAllowOOM
	FlagAllowStale
	FlagNoCluster
	FlagAllowCrossSlot
	// FlagCompat marks an EVAL script without a shebang (Redis's
	// SCRIPT_FLAG_EVAL_COMPAT_MODE): the old rules apply.
	FlagCompat
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagNoWrites, "no-writes"}, {FlagAllowOOM, "allow-oom"}, {FlagAllowStale, "allow-stale"},
	{FlagNoCluster, "no-cluster"}, {FlagAllowCrossSlot, "allow-cross-slot-keys"},
}

// Names returns the flag names in Redis's order.
func (f Flags) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Script is a compiled EVAL script.
type Script struct {
	SHA   string
	Body  []byte
	Flags Flags
	proto *lua.FunctionProto
}

// Engine owns the script cache, the function libraries and a pool of VMs.
type Engine struct {
	// Log receives redis.log lines.
	Log func(level int, msg string)

	mu      sync.RWMutex
	scripts map[string]*Script
	cacheSz atomic.Int64 // bytes of script bodies (used_memory_scripts_eval)

	libs *libraries

	// VMs are kept (a free list, not a sync.Pool, which the garbage
	// collector empties): a new one costs the libraries and sandbox setup.
	vmMu sync.Mutex
	vms  []*vm
	rnd  rand48

	cur atomic.Pointer[Run]
}

// New returns an empty engine.
func New() *Engine {
	e := &Engine{scripts: map[string]*Script{}, libs: newLibraries()}
	e.rnd.init()
	return e
}

const maxIdleVMs = 4

func (e *Engine) getVM() *vm {
	e.vmMu.Lock()
	if n := len(e.vms); n > 0 {
		v := e.vms[n-1]
		e.vms = e.vms[:n-1]
		e.vmMu.Unlock()
		return v
	}
	e.vmMu.Unlock()
	return e.newVM()
}

func (e *Engine) putVM(v *vm) {
	e.vmMu.Lock()
	if len(e.vms) < maxIdleVMs {
		e.vms = append(e.vms, v)
		v = nil
	}
	e.vmMu.Unlock()
	if v != nil {
		v.L.Close()
	}
}

// SHA1Hex returns the hex SHA1 of b, the name of a script.
func SHA1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// Lookup returns the cached script with sha (any case), or nil.
func (e *Engine) Lookup(sha []byte) *Script {
	if len(sha) != 40 {
		return nil
	}
	e.mu.RLock()
	s := e.scripts[string(sha)] // no allocation: the common, lower-case form
	e.mu.RUnlock()
	if s == nil && strings.ContainsAny(string(sha), "ABCDEF") {
		e.mu.RLock()
		s = e.scripts[strings.ToLower(string(sha))]
		e.mu.RUnlock()
	}
	return s
}

// Load compiles body and caches it (EVAL, SCRIPT LOAD); errText is Redis's
// error text when it does not compile.
func (e *Engine) Load(body []byte) (s *Script, errText string) {
	sha := SHA1Hex(body)
	e.mu.RLock()
	s = e.scripts[sha]
	e.mu.RUnlock()
	if s != nil {
		return s, ""
	}
	flags, code, errText := parseShebang(body)
	if errText != "" {
		return nil, errText
	}
	proto, err := compile(code, "user_script")
	if err != nil {
		return nil, "ERR Error compiling script (new function): " + err.Error()
	}
	s = &Script{SHA: sha, Body: append([]byte(nil), body...), Flags: flags, proto: proto}
	e.mu.Lock()
	if old := e.scripts[sha]; old != nil {
		s = old
	} else {
		e.scripts[sha] = s
		e.cacheSz.Add(int64(len(body)))
	}
	e.mu.Unlock()
	return s, ""
}

// Flush empties the script cache (SCRIPT FLUSH).
func (e *Engine) Flush() {
	e.mu.Lock()
	e.scripts = map[string]*Script{}
	e.cacheSz.Store(0)
	e.mu.Unlock()
}

// NumScripts and CacheBytes are for INFO memory.
func (e *Engine) NumScripts() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.scripts)
}

func (e *Engine) CacheBytes() int64 { return e.cacheSz.Load() }

// parseShebang reads "#!lua flags=a,b" as Redis 7.0 does; the shebang line
// is blanked (its newline kept) so line numbers stay right.
func parseShebang(body []byte) (Flags, []byte, string) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return FlagCompat, body, ""
	}
	line := body
	rest := []byte(nil)
	if i := strings.IndexByte(string(body), '\n'); i >= 0 {
		line, rest = body[:i], body[i:]
	}
	parts := strings.Split(string(line[2:]), " ")
	if parts[0] != "lua" {
		return 0, nil, fmt.Sprintf("ERR Unexpected engine in script shebang: #!%s", parts[0])
	}
	var flags Flags
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		v, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return 0, nil, fmt.Sprintf("ERR Unknown lua shebang option: %s", p)
		}
		for _, f := range strings.Split(v, ",") {
			if f == "" {
				continue
			}
			found := false
			for _, n := range flagNames {
				if n.name == f {
					flags |= n.f
					found = true
				}
			}
			if !found {
				return 0, nil, fmt.Sprintf("ERR Unexpected flag in script shebang: %s", f)
			}
		}
	}
	return flags, rest, ""
}

// compile parses and compiles code, formatting errors as Lua 5.1 does
// ("user_script:1: <message> near '<token>'") as far as gopher-lua tells.
func compile(code []byte, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(string(code)), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			msg := pe.Message
			if msg == "syntax error" || msg == "parse error" || msg == "" {
				// gopher-lua's yacc parser cannot say what it expected;
				// Lua 5.1's most common wording for a token out of place.
				msg = "unexpected symbol"
			}
			if msg == "unterminated string" {
				msg = "unfinished string"
			}
			if pe.Token != "" {
				return nil, fmt.Errorf("%s:%d: %s near '%s'", name, pe.Pos.Line, msg, pe.Token)
			}
			return nil, fmt.Errorf("%s:%d: %s", name, pe.Pos.Line, msg)
		}
		return nil, err
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// No compat "arg" table for the main chunk: gopher-lua would build
	// one (a table with a hash part) on every run; scripts use KEYS/ARGV.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	return proto, nil
}

// Run is one running script or function, visible to SCRIPT KILL and BUSY.
type Run struct {
	Start    time.Time
	Function bool // FCALL (FUNCTION KILL), not EVAL (SCRIPT KILL)
	Name     string
	Command  [][]byte // FUNCTION STATS: the FCALL's arguments
	wrote    atomic.Bool
	killed   atomic.Bool
	aborted  atomic.Bool
	kill     *killCtx
}

// NoteWrite records that the running script wrote (it cannot be killed).
func (r *Run) NoteWrite() { r.wrote.Store(true) }

// Wrote reports whether the running script has written.
func (r *Run) Wrote() bool { return r.wrote.Load() }

// Current returns the running script, or nil.
func (e *Engine) Current() *Run { return e.cur.Load() }

// Kill stops the running script for SCRIPT KILL (function false) or
// FUNCTION KILL (true); it returns Redis's error text, or "".
func (e *Engine) Kill(function bool) string {
	r := e.cur.Load()
	switch {
	case r == nil:
		return "NOTBUSY No scripts in execution right now."
	case r.wrote.Load():
		return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	case !function && r.Function:
		return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	case function && !r.Function:
		return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	}
	r.killed.Store(true)
	r.kill.cancel()
	return ""
}

// Abort stops the running script whatever it did (SHUTDOWN NOSAVE, the
// server closing): its result says Aborted, and its writes must not be
// propagated (the process is going away, as Redis's would).
func (e *Engine) Abort() {
	if r := e.cur.Load(); r != nil {
		r.aborted.Store(true)
		r.killed.Store(true)
		r.kill.cancel()
	}
}

// killCtx is the VM's context: gopher-lua polls Done every 64
// instructions; cancel makes the running script raise an error.
type killCtx struct {
	mu sync.Mutex
	ch chan struct{}
}

func newKillCtx() *killCtx { return &killCtx{ch: make(chan struct{})} }

func (k *killCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (k *killCtx) Done() <-chan struct{}       { return k.ch }
func (k *killCtx) Value(any) any               { return nil }
func (k *killCtx) Err() error {
	select {
	case <-k.ch:
		return errKilled
	default:
		return nil
	}
}

func (k *killCtx) cancel() {
	k.mu.Lock()
	select {
	case <-k.ch:
	default:
		close(k.ch)
	}
	k.mu.Unlock()
}

var errKilled = errors.New("Script killed by user with SCRIPT KILL...")

var _ context.Context = (*killCtx)(nil)

// Request is one EVAL/FCALL.
type Request struct {
	Keys, Args [][]byte
	ReadOnly   bool // EVAL_RO, FCALL_RO, no-writes
	Proto      int  // the caller's RESP version, for the reply
	Command    [][]byte
	Host       Host
	// ReplyBuf, when set, is where the reply is appended (a buffer the
	// caller reuses once it has sent the reply).
	ReplyBuf []byte
}

// Result is a run's reply: raw RESP, or an error text (without '-').
type Result struct {
	Reply []byte
	Err   string
	// Aborted: stopped by Abort; drop its writes.
	Aborted bool
}

// Eval runs a cached script.
func (e *Engine) Eval(s *Script, req *Request) Result {
	return e.run(e.getVM(), s.proto, nil, s.SHA, false, req)
}

func (e *Engine) runIn(v *vm, fn *lua.LFunction, name string, req *Request) Result {
	return e.run(v, nil, fn, name, true, req)
}

// run runs a script (proto) or a function's callback (fn) in v, which it
// returns to the pool.
func (e *Engine) run(v *vm, proto *lua.FunctionProto, fn *lua.LFunction, name string, function bool, req *Request) Result {
	if v.kill.Err() != nil { // killed last time: a fresh channel
		v.kill = newKillCtx()
		v.L.SetContext(v.kill)
	}
	r := &Run{Start: time.Now(), Function: function, Name: name, Command: req.Command, kill: v.kill}
	v.host, v.req, v.resp, v.repl, v.run = req.Host, req, 2, ReplAll, r
	e.cur.Store(r)
	defer func() {
		e.cur.Store(nil)
		v.host, v.req, v.run = nil, nil, nil
		if v.L.GetTop() != 0 {
			v.L.SetTop(0)
		}
		e.putVM(v)
	}()
	L := v.L
	if fn == nil {
		v.scriptGlobals(true)
		fillTable(v.keys, req.Keys)
		fillTable(v.argv, req.Args)
		fn = L.NewFunctionFromProto(proto)
		fn.Env = v.env
		L.Push(fn)
		err := L.PCall(0, 1, v.handler)
		res := v.result(err, name)
		v.keys = v.reusable(v.keys, "KEYS")
		v.argv = v.reusable(v.argv, "ARGV")
		return res
	}
	v.scriptGlobals(false)
	L.Push(fn)
	L.Push(stringTable(L, req.Keys))
	L.Push(stringTable(L, req.Args))
	err := L.PCall(2, 1, v.handler)
	return v.result(err, name)
}

// scriptGlobals makes KEYS and ARGV globals (on: for an EVAL script) or
// removes them: a function, or a library's loading code, finds no such
// global, as in Redis, whatever ran on the VM before.
func (v *vm) scriptGlobals(on bool) {
	if v.keysSet == on {
		return
	}
	v.keysSet = on
	var keys, argv lua.LValue = lua.LNil, lua.LNil
	if on {
		keys, argv = v.keys, v.argv
	}
	v.G.RawSetString("KEYS", keys)
	v.G.RawSetString("ARGV", argv)
}

// reusable returns t, the KEYS or ARGV table of the run that ended, for
// the next run, or a fresh table (set as global name) when the script
// gave t fields or a metatable that the next run must not see: Redis
// makes both tables anew for each run.
func (v *vm) reusable(t *lua.LTable, name string) *lua.LTable {
	if !t.HasHashPart() && t.Metatable == lua.LNil {
		return t
	}
	t = v.L.CreateTable(8, 0)
	v.G.RawSetString(name, t)
	return t
}

// fillTable makes t the array of bs: KEYS and ARGV tables are reused from
// run to run (a script cannot keep them: it cannot create globals, and
// reusable replaces one it changed beyond its array).
func fillTable(t *lua.LTable, bs [][]byte) *lua.LTable {
	for i, b := range bs {
		t.RawSetInt(i+1, lua.LString(b))
	}
	for n := t.MaxN(); n > len(bs); n-- {
		t.RawSetInt(n, lua.LNil)
	}
	return t
}

func stringTable(L *lua.LState, bs [][]byte) *lua.LTable {
	t := L.CreateTable(len(bs), 0)
	for i, b := range bs {
		t.RawSetInt(i+1, lua.LString(b))
	}
	return t
}

// result turns the script's outcome into the reply, as luaCallFunction.
func (v *vm) result(err error, name string) Result {
	L := v.L
	if err != nil {
		L.SetTop(0)
		var obj lua.LValue = lua.LString(err.Error())
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			obj = ae.Object
		}
		t, ok := obj.(*lua.LTable)
		if !ok {
			return Result{Err: "ERR Error running script " + name + ", " + truncate(obj.String(), 100)}
		}
		msg := lua.LVAsString(t.RawGetString("err"))
		if v.run.killed.Load() {
			// Redis's hook raises the same text for SCRIPT and FUNCTION KILL.
			msg = "ERR Script killed by user with SCRIPT KILL..."
		}
		src := lua.LVAsString(t.RawGetString("source"))
		line := lua.LVAsString(t.RawGetString("line"))
		if line != "" && src != "" {
			msg += " script: " + name + ", on " + src + ":" + line + "."
		}
		return Result{Err: oneLine(msg), Aborted: v.run.aborted.Load()}
	}
	ret := L.Get(-1)
	L.Pop(1)
	w := replyWriter{b: v.req.ReplyBuf[:0], clientResp: v.req.Proto, scriptResp: v.resp}
	w.value(ret, 0)
	if len(w.b) > 0 && w.b[0] == '-' {
		return Result{Err: string(w.b[1 : len(w.b)-2])}
	}
	return Result{Reply: w.b}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// vm is one Lua state with the sandbox and libraries loaded.
type vm struct {
	e       *Engine
	L       *lua.LState
	G       *lua.LTable // the real globals
	env     *lua.LTable // what scripts see: read-only proxy of G
	handler *lua.LFunction
	kill    *killCtx

	host Host
	req  *Request
	run  *Run
	resp int
	repl int
	// lib collects register_function calls while a library loads.
	lib *Library
	// Functions: fenv is their globals, reading through fmt.__index to
	// loadAPI while a library loads and to env when they run.
	fenv, fmt, loadAPI *lua.LTable
	callbacks          map[string]*lua.LFunction
	libGen             int64
	keys, argv         *lua.LTable
	keysSet            bool // KEYS and ARGV are globals (scriptGlobals)
	argvBuf            [][]byte
	// protected are the sandbox's tables: rawset and setmetatable refuse
	// them as Redis 7.0's read-only tables do.
	protected map[*lua.LTable]bool
}

func (e *Engine) newVM() *vm {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 1024, RegistrySize: 1024 * 4})
	v := &vm{e: e, L: L, kill: newKillCtx(), keys: L.CreateTable(8, 0), argv: L.CreateTable(8, 0), protected: map[*lua.LTable]bool{}}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine}, {lua.DebugLibName, lua.OpenDebug},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	G := L.G.Global
	v.G = G
	// Redis 7.0's deny list (luaRemoveUnsupportedFunctions and the
	// libraries it does not load).
	for _, name := range []string{"dofile", "loadfile", "require", "module", "_printregs", "newproxy", "print", "getfenv", "setfenv", "debug", "package"} {
		G.RawSetString(name, lua.LNil)
	}
	G.RawSetString("_VERSION", lua.LString("Lua 5.1"))
	G.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 }))
	G.RawSetString("tostring", L.NewFunction(luaToString))
	G.RawSetString("pcall", L.NewFunction(v.pcall))
	math := G.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(e.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(e.mathRandomseed))
	G.RawSetString("redis", v.redisLib())
	G.RawSetString("cjson", openCJSON(L))
	G.RawSetString("bit", openBit(L))
	G.RawSetString("struct", openStruct(L))
	G.RawSetString("cmsgpack", openMsgpack(L))
	// Read-only sandbox (Redis 7.0's lua_enablereadonlytable): library
	// tables become proxies, globals cannot be created, and reading an
	// unknown global is an error.
	for _, name := range []string{"redis", "cjson", "bit", "struct", "cmsgpack", "string", "table", "math", "coroutine"} {
		if t, ok := G.RawGetString(name).(*lua.LTable); ok {
			G.RawSetString(name, readOnly(L, t, v.protected))
		}
	}
	gmt := L.CreateTable(0, 1)
	gmt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	}))
	L.SetMetatable(G, gmt)
	v.env = readOnly(L, G, v.protected)
	G.RawSetString("_G", v.env)
	v.protected[gmt] = true
	// Strings' metatable: methods through the read-only string table, and
	// getmetatable('') gives a read-only view.
	if smt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		smt.RawSetString("__index", G.RawGetString("string"))
		v.protected[smt] = true
		smt.RawSetString("__metatable", readOnly(L, smt, v.protected))
	}
	base := map[string]lua.LGFunction{
		"rawset": func(L *lua.LState) int {
			t := L.CheckTable(1)
			if v.protected[t] {
				L.Error(lua.LString("Attempt to modify a readonly table"), 0)
			}
			L.RawSet(t, L.CheckAny(2), L.CheckAny(3))
			L.Push(t)
			return 1
		},
		"setmetatable": func(L *lua.LState) int {
			t := L.CheckTable(1)
			if v.protected[t] {
				L.Error(lua.LString("Attempt to modify a readonly table"), 0)
			}
			mt := L.Get(2)
			if mt != lua.LNil && mt.Type() != lua.LTTable {
				L.TypeError(2, lua.LTTable)
			}
			if cur, ok := t.Metatable.(*lua.LTable); ok && cur.RawGetString("__metatable") != lua.LNil {
				L.RaiseError("cannot change a protected metatable")
			}
			L.SetMetatable(t, mt)
			L.Push(t)
			return 1
		},
	}
	for name, fn := range base {
		G.RawSetString(name, L.NewFunction(fn))
	}
	// Code compiled by loadstring/load runs in the sandbox too (gopher-lua
	// would give it the raw globals), named as Lua 5.1 names it.
	for _, name := range []string{"loadstring", "load"} {
		orig := G.RawGetString(name)
		isLoadstring := name == "loadstring"
		G.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			n := L.GetTop()
			if isLoadstring && n == 1 {
				L.Push(lua.LString(chunkID(L.CheckString(1))))
				n = 2
			}
			args := make([]lua.LValue, n)
			for i := range args {
				args[i] = L.Get(i + 1)
			}
			L.SetTop(0)
			L.Push(orig)
			for _, a := range args {
				L.Push(a)
			}
			L.Call(n, lua.MultRet)
			if fn, ok := L.Get(1).(*lua.LFunction); ok {
				fn.Env = v.env
			}
			return L.GetTop()
		}))
	}
	v.handler = L.NewFunction(errorHandler)
	// The library loading API (FUNCTION LOAD): redis.register_function,
	// redis.log and constants, nothing else.
	full := v.G.RawGetString("redis").(*lua.LTable).Metatable.(*lua.LTable).RawGetString("__index").(*lua.LTable)
	lr := L.CreateTable(0, 16)
	lr.RawSetString("register_function", L.NewFunction(v.registerFunction))
	full.ForEach(func(k, val lua.LValue) {
		name := lua.LVAsString(k)
		if name == "log" || name == "setresp" || strings.HasPrefix(name, "LOG_") || strings.HasPrefix(name, "REDIS_VERSION") {
			lr.RawSet(k, val)
		}
	})
	lr = readOnly(L, lr, v.protected)
	lrmt := L.CreateTable(0, 1)
	lrmt.RawSetString("__index", gmt.RawGetString("__index"))
	api := L.CreateTable(0, 1)
	api.RawSetString("redis", lr)
	L.SetMetatable(api, lrmt)
	// A missing redis.* field or global while loading is an error, as in
	// Redis ("Script attempted to access nonexistent global variable").
	lrTarget := lr.Metatable.(*lua.LTable).RawGetString("__index").(*lua.LTable)
	L.SetMetatable(lrTarget, lrmt)
	v.loadAPI = api
	v.fenv = L.CreateTable(0, 0)
	v.fmt = L.CreateTable(0, 3)
	v.fmt.RawSetString("__index", v.env)
	v.fmt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}))
	v.fmt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(v.fenv, v.fmt)
	v.protected[v.fenv], v.protected[v.fmt], v.protected[api], v.protected[lrmt] = true, true, true, true
	v.callbacks = map[string]*lua.LFunction{}
	L.SetContext(v.kill)
	return v
}

// chunkID is Lua 5.1's name for a chunk loaded from a string:
// [string "first line..."].
func chunkID(code string) string {
	line, _, cut := strings.Cut(code, "\n")
	if len(line) > 45 {
		line, cut = line[:45], true
	}
	if cut {
		line += "..."
	}
	return `[string "` + line + `"]`
}

// readOnly returns a proxy of t that reads through to it and refuses
// writes with Redis 7.0's error.
func readOnly(L *lua.LState, t *lua.LTable, protected map[*lua.LTable]bool) *lua.LTable {
	p := L.CreateTable(0, 0)
	if protected != nil {
		protected[p], protected[t] = true, true
	}
	mt := L.CreateTable(0, 3)
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}))
	mt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(p, mt)
	return p
}

// errorHandler is Redis's __redis__err__handler: a string error becomes
// {err='ERR <msg>'}, and the Lua frame that raised it is noted as source
// and line.
func errorHandler(L *lua.LState) int {
	obj := L.Get(1)
	t, ok := obj.(*lua.LTable)
	if !ok {
		t = L.CreateTable(0, 3)
		msg := obj.String()
		if obj == lua.LNil {
			msg = "nil"
		}
		t.RawSetString("err", lua.LString("ERR "+msg))
	}
	if t.RawGetString("source") == lua.LNil {
		for level := 0; level < 64; level++ {
			dbg, ok := L.GetStack(level)
			if !ok {
				break
			}
			if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
				break
			}
			if dbg.What == "G" || dbg.CurrentLine <= 0 {
				continue
			}
			src := "@" + dbg.Source
			if code, ok := strings.CutPrefix(dbg.Source, `[string "`); ok {
				src = strings.TrimSuffix(code, `"]`) // Lua's source is the code itself
			}
			t.RawSetString("source", lua.LString(src))
			t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
			break
		}
	}
	L.Push(t)
	return 1
}

// pcall is Redis 7.0's luaRedisPcall: an error table caught becomes its
// err string. A killed script's error is not catchable.
func (v *vm) pcall(L *lua.LState) int {
	n := L.GetTop()
	if n < 1 {
		L.ArgError(1, "value expected")
	}
	if err := L.PCall(n-1, lua.MultRet, nil); err != nil {
		if v.run != nil && v.run.killed.Load() {
			L.RaiseError("Script killed by user")
		}
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		if t, ok := obj.(*lua.LTable); ok {
			if s, ok := t.RawGetString("err").(lua.LString); ok {
				obj = s
			}
		}
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// luaToString is tostring with Lua 5.1's number format ("%.14g").
func luaToString(L *lua.LState) int {
	v := L.CheckAny(1)
	if v == jsonNull {
		L.Push(lua.LString("userdata: (nil)"))
		return 1
	}
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(formatNumber(float64(n))))
		return 1
	}
	if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
		L.Push(mt)
		L.Push(v)
		L.Call(1, 1)
		return 1
	}
	L.Push(lua.LString(v.String()))
	return 1
}

// formatNumber is C's "%.14g", Lua 5.1's LUAI_NUMFFORMAT.
func formatNumber(f float64) string {
	switch {
	case f != f:
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}
