package scripting

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tidwall/match"
	lua "github.com/yuin/gopher-lua"
)

// Library is one FUNCTION LOAD unit: its code and the functions its code
// registered.
type Library struct {
	Name      string
	Code      string
	Functions map[string]*Function
	proto     *lua.FunctionProto
}

// Function is one registered function.
type Function struct {
	Name  string
	Desc  string // "" when not given
	Flags Flags
	Lib   *Library
}

// libraries is the engine's function registry. gen changes with every
// change; a VM reloads the libraries' code when its copy is older.
type libraries struct {
	mu    sync.RWMutex
	libs  map[string]*Library
	funcs map[string]*Function
	gen   atomic.Int64
}

func newLibraries() *libraries {
	return &libraries{libs: map[string]*Library{}, funcs: map[string]*Function{}}
}

// FunctionLoad compiles and registers a library (FUNCTION LOAD); it returns
// the library name or Redis's error text.
func (e *Engine) FunctionLoad(code string, replace bool) (string, string) {
	name, _, errText := parseLibraryMeta(code)
	if errText != "" {
		return "", errText
	}
	l := e.libs
	l.mu.RLock()
	_, exists := l.libs[name]
	l.mu.RUnlock()
	if exists && !replace {
		return "", "ERR Library '" + name + "' already exists"
	}
	lib, errText := e.compileLibrary(code)
	if errText != "" {
		return "", errText
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	libs, funcs, errText := install(l.libs, []*Library{lib}, replace)
	if errText != "" {
		return "", errText
	}
	l.libs, l.funcs = libs, funcs
	l.gen.Add(1)
	return name, ""
}

// compileLibrary compiles code and runs it to collect its functions.
func (e *Engine) compileLibrary(code string) (*Library, string) {
	name, body, errText := parseLibraryMeta(code)
	if errText != "" {
		return nil, errText
	}
	proto, err := compile([]byte(body), "user_function")
	if err != nil {
		return nil, "ERR Error compiling function: " + err.Error()
	}
	lib := &Library{Name: name, Code: code, Functions: map[string]*Function{}, proto: proto}
	v := e.getVM()
	errText = v.loadLibrary(lib)
	e.putVM(v)
	if errText != "" {
		return nil, "ERR Error registering functions: " + errText
	}
	if len(lib.Functions) == 0 {
		return nil, "ERR No functions registered"
	}
	return lib, ""
}

// install returns cur with add installed (replacing same-named libraries
// when replace), or Redis's error; cur is not modified.
func install(cur map[string]*Library, add []*Library, replace bool) (map[string]*Library, map[string]*Function, string) {
	libs := make(map[string]*Library, len(cur)+len(add))
	for k, v := range cur {
		libs[k] = v
	}
	for _, lib := range add {
		if libs[lib.Name] != nil && !replace {
			return nil, nil, "ERR Library '" + lib.Name + "' already exists"
		}
		libs[lib.Name] = lib
	}
	funcs := map[string]*Function{}
	for _, lib := range libs {
		for fn, f := range lib.Functions {
			if funcs[fn] != nil {
				return nil, nil, "ERR Function " + fn + " already exists"
			}
			funcs[fn] = f
		}
	}
	return libs, funcs, ""
}

// RestoreLibraries installs libraries from their code (FUNCTION RESTORE,
// an RDB's functions) with policy "append", "replace" or "flush".
func (e *Engine) RestoreLibraries(codes []string, policy string) string {
	add := make([]*Library, 0, len(codes))
	seen := map[string]bool{}
	for _, code := range codes {
		lib, errText := e.compileLibrary(code)
		if errText != "" {
			return errText
		}
		if seen[lib.Name] {
			return "ERR Library '" + lib.Name + "' already exists"
		}
		seen[lib.Name] = true
		add = append(add, lib)
	}
	l := e.libs
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.libs
	if policy == "flush" {
		cur = nil
	}
	libs, funcs, errText := install(cur, add, policy == "replace")
	if errText != "" {
		return errText
	}
	l.libs, l.funcs = libs, funcs
	l.gen.Add(1)
	return ""
}

// parseLibraryMeta reads the "#!lua name=<lib>" first line.
func parseLibraryMeta(code string) (name, body, errText string) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "ERR Missing library metadata"
	}
	line, rest, _ := strings.Cut(code, "\n")
	parts := strings.Split(line[2:], " ")
	if parts[0] != "lua" {
		if len(parts) > 0 && parts[0] != "" && len(parts) >= 2 {
			return "", "", "ERR Engine '" + parts[0] + "' not found"
		}
		return "", "", "ERR Invalid library metadata"
	}
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		v, ok := strings.CutPrefix(p, "name=")
		if !ok || name != "" {
			return "", "", "ERR Invalid library metadata"
		}
		name = v
	}
	if name == "" {
		return "", "", "ERR Invalid library metadata"
	}
	if !validName(name) {
		return "", "", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	}
	return name, "\n" + rest, ""
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// loadLibrary runs lib's code in this VM with the load-time API,
// collecting the functions it registers (with their callbacks, into v).
func (v *vm) loadLibrary(lib *Library) string {
	L := v.L
	v.scriptGlobals(false)
	v.lib = lib
	v.fmt.RawSetString("__index", v.loadAPI)
	defer func() {
		v.lib = nil
		v.fmt.RawSetString("__index", v.env)
		L.SetTop(0)
	}()
	fn := L.NewFunctionFromProto(lib.proto)
	fn.Env = v.fenv
	L.Push(fn)
	if err := L.PCall(0, 0, v.handler); err != nil {
		var msg string
		if ae, ok := err.(*lua.ApiError); ok {
			if t, ok := ae.Object.(*lua.LTable); ok {
				msg = lua.LVAsString(t.RawGetString("err"))
			} else {
				msg = ae.Object.String()
			}
		} else {
			msg = err.Error()
		}
		return msg
	}
	return ""
}

// registerFunction is redis.register_function (only while loading).
func (v *vm) registerFunction(L *lua.LState) int {
	if v.lib == nil {
		raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	var name string
	var cb *lua.LFunction
	var flags Flags
	var desc string
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			raise(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var bad string
		t.ForEach(func(k, val lua.LValue) {
			if bad != "" {
				return
			}
			switch lua.LVAsString(k) {
			case "function_name":
				s, ok := val.(lua.LString)
				if !ok {
					bad = "function_name argument given to redis.register_function must be a string"
				}
				name = string(s)
			case "description":
				s, ok := val.(lua.LString)
				if !ok {
					bad = "description argument given to redis.register_function must be a string"
				}
				desc = string(s)
			case "callback":
				f, ok := val.(*lua.LFunction)
				if !ok {
					bad = "callback argument given to redis.register_function must be a function"
				}
				cb = f
			case "flags":
				ft, ok := val.(*lua.LTable)
				if !ok {
					bad = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				ft.ForEach(func(_, fv lua.LValue) {
					found := false
					for _, n := range flagNames {
						if lua.LVAsString(fv) == n.name {
							flags |= n.f
							found = true
						}
					}
					if !found && bad == "" {
						bad = "unknown flag given"
					}
				})
			default:
				bad = "unknown argument given to redis.register_function"
			}
		})
		if bad != "" {
			raise(L, bad)
		}
		if name == "" {
			raise(L, "redis.register_function must get a function name argument")
		}
		if cb == nil {
			raise(L, "redis.register_function must get a callback argument")
		}
	case 2:
		s, ok := L.Get(1).(lua.LString)
		if !ok {
			raise(L, "function_name argument given to redis.register_function must be a string")
		}
		f, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			raise(L, "callback argument given to redis.register_function must be a function")
		}
		name, cb = string(s), f
	default:
		raise(L, "wrong number of arguments to redis.register_function")
	}
	if !validName(name) {
		raise(L, "Function names can only contain letters, numbers, or underscores(_) and must be at least one character long")
	}
	if _, dup := v.lib.Functions[name]; dup {
		raise(L, "Function already exists in the library")
	}
	v.lib.Functions[name] = &Function{Name: name, Desc: desc, Flags: flags, Lib: v.lib}
	v.callbacks[name] = cb
	return 0
}

// LookupFunction returns the function called name, or nil.
func (e *Engine) LookupFunction(name string) *Function {
	e.libs.mu.RLock()
	defer e.libs.mu.RUnlock()
	return e.libs.funcs[name]
}

// FCall runs a registered function.
func (e *Engine) FCall(f *Function, req *Request) Result {
	v := e.getVM()
	cb := v.callback(f.Name)
	if cb == nil { // deleted meanwhile (cannot happen under the node's lock)
		e.putVM(v)
		return Result{Err: "ERR Function not found"}
	}
	return e.runIn(v, cb, f.Name, req)
}

// callback returns this VM's callback of function name, reloading every
// library if they changed since it last did.
func (v *vm) callback(name string) *lua.LFunction {
	l := v.e.libs
	if g := l.gen.Load(); g != v.libGen {
		l.mu.RLock()
		libs := make([]*Library, 0, len(l.libs))
		for _, lib := range l.libs {
			libs = append(libs, lib)
		}
		l.mu.RUnlock()
		v.callbacks = map[string]*lua.LFunction{}
		for _, lib := range libs {
			// A copy: registration must not touch the shared library.
			cp := &Library{Name: lib.Name, Functions: map[string]*Function{}, proto: lib.proto}
			v.loadLibrary(cp)
		}
		v.libGen = g
	}
	return v.callbacks[name]
}

// FunctionDelete removes a library.
func (e *Engine) FunctionDelete(name string) string {
	l := e.libs
	l.mu.Lock()
	defer l.mu.Unlock()
	lib := l.libs[name]
	if lib == nil {
		return "ERR Library not found"
	}
	for fn := range lib.Functions {
		delete(l.funcs, fn)
	}
	delete(l.libs, name)
	l.gen.Add(1)
	return ""
}

// FunctionFlush removes every library.
func (e *Engine) FunctionFlush() {
	l := e.libs
	l.mu.Lock()
	l.libs = map[string]*Library{}
	l.funcs = map[string]*Function{}
	l.gen.Add(1)
	l.mu.Unlock()
}

// Libraries returns the libraries whose name matches pattern ("" for all),
// sorted by name.
func (e *Engine) Libraries(pattern string) []*Library {
	l := e.libs
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []*Library
	for _, lib := range l.libs {
		if pattern == "" || match.Match(lib.Name, pattern) {
			out = append(out, lib)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FunctionCounts returns the number of libraries and functions.
func (e *Engine) FunctionCounts() (libs, funcs int) {
	l := e.libs
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.libs), len(l.funcs)
}

// SortedFunctions returns lib's functions by name.
func (lib *Library) SortedFunctions() []*Function {
	out := make([]*Function, 0, len(lib.Functions))
	for _, f := range lib.Functions {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
