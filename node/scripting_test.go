package node

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/scripting"
)

// scriptCorpus is run on warden and on a real redis-server 7.0, one
// command at a time on a fresh pair of data sets, and every reply (value or
// error text) must be the same. Each entry is one command's arguments.
var scriptCorpus = [][]any{
	// Lua → RESP conversion.
	{"eval", "return 1.9", 0},
	{"eval", "return -3.9", 0},
	{"eval", "return {1,2,3,'x',nil,5}", 0},
	{"eval", "return {true,false,1.5,-3.9,'s'}", 0},
	{"eval", "return true", 0},
	{"eval", "return false", 0},
	{"eval", "return nil", 0},
	{"eval", "return {}", 0},
	{"eval", "return {1, {2, {3, {'deep'}}}}", 0},
	{"eval", "local t = {} ; t[1]='a'; t[3]='c'; return t", 0},
	{"eval", "return {err='bad thing'}", 0},
	{"eval", "return {err='MYCODE bad thing'}", 0},
	{"eval", "return {ok='FINE'}", 0},
	{"eval", "return {ok='multi\\nline'}", 0},
	{"eval", "return {err='multi\\nline'}", 0},
	{"eval", "return redis.error_reply('MY err')", 0},
	{"eval", "return redis.error_reply('oops')", 0},
	{"eval", "return redis.error_reply('-X y')", 0},
	{"eval", "return redis.error_reply(1)", 0},
	{"eval", "return redis.status_reply('FINE')", 0},
	{"eval", "return redis.status_reply()", 0},
	{"eval", "return {double=1.5}", 0},
	{"eval", "return {big_number='123456789012345678901234567890'}", 0},
	{"eval", "return {map={a=1}}", 0},
	{"eval", "return {set={a=true}}", 0},
	{"eval", "return 9007199254740993", 0},
	{"eval", "return 1e300", 0},
	{"eval", "return -0.5", 0},
	{"eval", "return 'a' .. 1", 0},
	// RESP → Lua conversion.
	{"eval", "redis.call('set','k','v'); return redis.call('get','k')", 0},
	{"eval", "return redis.call('get','nokey')", 0},
	{"eval", "return type(redis.call('get','nokey'))", 0},
	{"eval", "return redis.call('set','k','v')", 0},
	{"eval", "local r = redis.call('set','k','v'); return r.ok", 0},
	{"eval", "redis.call('rpush','l','a','b','c'); return redis.call('lrange','l',0,-1)", 0},
	{"eval", "return redis.call('incrby','n', 5)", 0},
	{"eval", "return redis.call('incrbyfloat','f', 1.5)", 0},
	{"eval", "return redis.call('incrby','n', 2.5)", 0},
	{"eval", "return redis.pcall('incr', 'l')", 0},
	{"eval", "redis.call('rpush','l','a'); return redis.pcall('incr', 'l')", 0},
	{"eval", "redis.call('rpush','l','a'); local e = redis.pcall('incr', 'l'); return e.err", 0},
	{"eval", "redis.call('rpush','l','a'); return redis.call('incr', 'l')", 0},
	{"eval", "redis.call('hset','h','f','v'); return redis.call('hgetall','h')", 0},
	{"eval", "redis.setresp(3); redis.call('hset','h','f','v'); local r = redis.call('hgetall','h'); return r.map.f", 0},
	{"eval", "redis.setresp(3); return redis.call('hgetall','h')", 0},
	{"eval", "redis.setresp(3); return redis.call('get','nokey')", 0},
	{"eval", "redis.setresp(3); return type(redis.call('get','nokey'))", 0},
	{"eval", "redis.setresp(3); redis.call('sadd','s','m'); return redis.call('smembers','s')", 0},
	{"eval", "redis.setresp(3); redis.call('zadd','z',1.5,'m'); local r = redis.call('zscore','z','m'); return r.double", 0},
	{"eval", "redis.setresp(3); return redis.call('exists','x') == 0", 0},
	{"eval", "redis.setresp(3); return true", 0},
	{"eval", "redis.setresp(3); return false", 0},
	{"eval", "redis.setresp(4)", 0},
	{"eval", "redis.setresp()", 0},
	// Commands that see a whole database or all of them, from a script.
	{"eval", "redis.call('flushall'); redis.call('set','k1','v'); local r = redis.call('keys','*'); return {r, redis.call('dbsize')}", 0},
	{"eval", "redis.call('select', 2); redis.call('set','in2','v'); redis.call('swapdb', 0, 2); redis.call('select', 0); return redis.call('get', 'in2')", 0},
	{"eval", "redis.call('swapdb', 0, 2); redis.call('flushdb'); return redis.call('dbsize')", 0},
	{"eval", "return redis.call('scan', 0, 'count', 100)", 0},
	// KEYS and ARGV.
	{"eval", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", 2, "k1", "k2", "a1", "a2"},
	{"eval", "return redis.call('set', KEYS[1], ARGV[1])", 1, "key", "val"},
	{"eval", "return 1", 2, "a"},
	{"eval", "return 1", -1},
	{"eval", "return 1", "abc"},
	{"eval", "return 1"},
	// Errors.
	{"eval", "return x", 0},
	{"eval", "x=1", 0},
	{"eval", "local t = {}; t.x = 1; return t.x", 0},
	{"eval", "redis.x = 1", 0},
	{"eval", "_G.x = 1", 0},
	{"eval", "return redis.call('nocmd')", 0},
	{"eval", "return redis.call('set','a')", 0},
	{"eval", "return redis.pcall('set','a')", 0},
	{"eval", "return redis.call()", 0},
	{"eval", "return redis.pcall()", 0},
	{"eval", "return redis.call('get', {})", 0},
	{"eval", "return error('boom')", 0},
	{"eval", "return error({err='TABLE boom'})", 0},
	{"eval", "\n\nreturn error('line three')", 0},
	{"eval", "local function f() error('inner') end\nf()", 0},
	{"eval", "return redis.call('eval','return 1',0)", 0},
	{"eval", "return redis.call('subscribe','x')", 0},
	{"eval", "return redis.call('multi')", 0},
	{"eval", "return redis.call('config')", 0},
	{"eval", "return redis.call('config', 'nosuch')", 0},
	{"eval", "return redis.call('client', 'list')", 0},
	{"evalsha", "ffffffffffffffffffffffffffffffffffffffff", 0},
	{"evalsha", "short", 0},
	{"eval_ro", "return redis.call('set','a','1')", 0},
	{"eval_ro", "return redis.call('get','a')", 0},
	{"eval_ro", "return redis.pcall('del','a')", 0},
	// Sandbox and libraries.
	{"eval", "return os.time()", 0},
	{"eval", "return loadfile", 0},
	{"eval", "return dofile", 0},
	{"eval", "return require", 0},
	{"eval", "return io", 0},
	{"eval", "return type(print)", 0},
	{"eval", "return type(debug)", 0},
	{"eval", "return type(setfenv)", 0},
	{"eval", "return type(getfenv)", 0},
	{"eval", "return type(newproxy)", 0},
	{"eval", "return type(package)", 0},
	{"eval", "return type(module)", 0},
	{"eval", "return {type(loadstring), type(load), type(gcinfo), type(collectgarbage), _VERSION}", 0},
	{"eval", "return loadstring('return 1 + 1')()", 0},
	{"eval", "return loadstring('x = 1')()", 0},
	{"eval", "return loadstring('return x')()", 0},
	{"eval", "rawset(_G, 'x', 1)", 0},
	{"eval", "rawset(redis, 'call', 1)", 0},
	{"eval", "return type(getmetatable(''))", 0},
	{"eval", "getmetatable('').__index.upper = 1", 0},
	{"eval", "setmetatable(_G, {})", 0},
	{"eval", "return ('abc'):upper()", 0},
	{"eval", "local t = setmetatable({}, {__index = function(t, k) return k .. '!' end}); return rawset(t, 'a', 1).a .. t.b", 0},
	// Nothing above leaked into the sandbox of later scripts.
	{"eval", "return x", 0},
	{"eval", "return redis.call('ping')", 0},
	{"eval", "return redis.REDIS_VERSION", 0},
	{"eval", "return redis.REDIS_VERSION_NUM", 0},
	{"eval", "return redis.sha1hex('')", 0},
	{"eval", "return redis.sha1hex('hello')", 0},
	{"eval", "return redis.sha1hex()", 0},
	{"eval", "return redis.replicate_commands()", 0},
	{"eval", "return redis.acl_check_cmd('get','a')", 0},
	{"eval", "return redis.acl_check_cmd('config','get')", 0},
	{"eval", "return redis.acl_check_cmd('nocmd')", 0},
	{"eval", "return redis.acl_check_cmd('config','nosub')", 0},
	{"eval", "return redis.acl_check_cmd(1)", 0},
	{"eval", "return redis.acl_check_cmd()", 0},
	{"eval", "redis.set_repl(redis.REPL_ALL); return 1", 0},
	{"eval", "redis.set_repl(99)", 0},
	{"eval", "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", 0},
	{"eval", "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", 0},
	{"eval", "redis.log(redis.LOG_WARNING, 'from a script')", 0},
	{"eval", "redis.log()", 0},
	{"eval", "redis.log('x', 'y')", 0},
	{"eval", "redis.log(99, 'y')", 0},
	{"eval", "return bit.band(7,3)", 0},
	{"eval", "return {bit.bor(1,2,4), bit.bxor(5,1), bit.bnot(0), bit.lshift(1,31), bit.rshift(-1,28), bit.arshift(-16,2)}", 0},
	{"eval", "return {bit.tohex(255), bit.tohex(-1, -4), bit.tobit(4294967297), bit.rol(1, 33), bit.ror(1,1), bit.bswap(0x12345678)}", 0},
	{"eval", "return cjson.encode({1,2,{a=1}})", 0},
	{"eval", "return cjson.encode({a={b='x/y\"z'}})", 0},
	{"eval", "return cjson.encode({})", 0},
	{"eval", "return cjson.encode(1.5)", 0},
	{"eval", "return cjson.encode(0.1)", 0},
	{"eval", "return cjson.encode('\\n\\t')", 0},
	{"eval", "return cjson.decode('[1,2,null,{\"a\":[true,false]}]')[4].a[1]", 0},
	{"eval", "return cjson.decode('{\"a\":\"\\\\u00e9\"}').a", 0},
	{"eval", "return cjson.decode('[1,2,3]')", 0},
	{"eval", "return cjson.encode(cjson.decode('{\"a\":null}'))", 0},
	{"eval", "return cjson.decode('3.5')", 0},
	{"eval", "return tostring(cjson.null)", 0},
	{"eval", "return struct.pack('>I2', 258)", 0},
	{"eval", "return {struct.unpack('>I2', struct.pack('>I2', 258))}", 0},
	{"eval", "return {struct.unpack('<i4 b B', struct.pack('<i4 b B', -5, -1, 255))}", 0},
	{"eval", "return struct.size('>I2i4d')", 0},
	{"eval", "return cmsgpack.pack({1,2,'a'})", 0},
	{"eval", "return cmsgpack.pack(1, 300, -1, -100, 70000, 'str', true, false)", 0},
	{"eval", "return cmsgpack.unpack(cmsgpack.pack({1,2,{3,'x'}}))", 0},
	{"eval", "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', 3))}", 0},
	{"eval", "return table.getn({1,2})", 0},
	{"eval", "return string.format('%d %s %5.2f', 3, 'x', 1.5)", 0},
	{"eval", "return tostring(0.1)", 0},
	{"eval", "return tostring(1/3)", 0},
	{"eval", "return tostring(100)", 0},
	{"eval", "return tonumber('0x10')", 0},
	{"eval", "return {math.random(100), math.random(100), math.random(5, 10)}", 0},
	{"eval", "return tostring(math.random())", 0},
	{"eval", "math.randomseed(7); return {math.random(1000), math.random(1000)}", 0},
	{"eval", "return math.floor(3.7)", 0},
	{"eval", "return string.rep('ab', 3)", 0},
	{"eval", "return unpack({1,2,3})", 0},
	{"eval", "return pcall(redis.call, 'nocmd')", 0},
	{"eval", "local ok, err = pcall(function() error({err='x'}) end); return {type(err), err}", 0},
	{"eval", "local ok, err = pcall(function() error('plain') end); return {type(err), err}", 0},
	{"eval", "return {pcall(function() return 1, 2 end)}", 0},
	{"eval", "return select('#', 1, 2, 3)", 0},
	{"eval", "local ok, err = pcall(function() error('x') end); return {ok, err}", 0},
	{"eval", "local ok, err = pcall(function() redis.call('nocmd') end); return {tostring(ok), err.err}", 0},
	{"eval", "return type(coroutine)", 0},
	// Shebang scripts.
	{"eval", "#!lua\nreturn 1", 0},
	{"eval", "#!lua flags=no-writes\nreturn redis.call('get','k')", 0},
	{"eval", "#!lua flags=no-writes\nreturn redis.call('set','k','v')", 0},
	{"eval", "#!lua flags=bogus\nreturn 1", 0},
	{"eval", "#!lua foo=bar\nreturn 1", 0},
	{"eval", "#!nolua\nreturn 1", 0},
	{"eval_ro", "#!lua\nreturn 1", 0},
	{"eval_ro", "#!lua flags=no-writes\nreturn 1", 0},
	{"eval", "#!lua\nreturn x", 0},
	// SCRIPT.
	{"script", "load", "return 'loaded'"},
	{"evalsha", "a3e1d6b0adaa2fbd0da5a7a8bcb4b4f6fe5d27d7", 0},
	{"script", "exists", "a3e1d6b0adaa2fbd0da5a7a8bcb4b4f6fe5d27d7", "ffffffffffffffffffffffffffffffffffffffff"},
	{"script", "load", "return +"},
	{"script", "flush", "bogus"},
	{"script", "kill"},
	{"script", "nosuch"},
	{"script"},
	{"function", "kill"},
	// Functions.
	{"function", "load", "return 1"},
	{"function", "load", "#!lua"},
	{"function", "load", "#!lua name=a foo=b"},
	{"function", "load", "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return redis.call('set', keys[1], args[1]) end)\nredis.register_function{function_name='f2', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}"},
	{"function", "load", "#!lua name=lib1\nx="},
	{"function", "load", "#!lua name=lib2\nlocal a = 1"},
	{"function", "load", "#!lua name=lib3\nredis.register_function('f1', function() return 1 end)"},
	{"function", "load", "#!lua name=lib4\nredis.call('ping')"},
	{"function", "load", "#!lua name=lib4\nredis.register_function('x', function() return 1 end, 5)"},
	{"function", "load", "#!lua name=lib4\nredis.register_function{function_name='y', callback=function() return 1 end, flags={'bad'}}"},
	{"function", "load", "bogus", "#!lua name=lib5\nredis.register_function('f5', function() return 1 end)"},
	{"fcall", "nofn", 0},
	{"fcall_ro", "f1", 1, "k", "v"},
	{"fcall", "f1", 1, "k", "v"},
	{"fcall_ro", "f2", 1, "k"},
	{"fcall", "f2", 1, "k"},
	{"fcall", "f1", -1},
	{"function", "load", "replace", "#!lua name=lib1\nredis.register_function('f9', function() return 9 end)"},
	{"function", "list"},
	{"function", "list", "withcode"},
	{"function", "list", "libraryname", "lib*"},
	{"function", "list", "libraryname", "nomatch"},
	{"function", "list", "libraryname"},
	{"function", "list", "bogus"},
	{"fcall", "f9", 0},
	{"fcall", "f1", 0},
	{"function", "stats"},
	{"function", "delete", "nolib"},
	{"function", "delete", "lib1"},
	{"function", "flush", "bogus"},
	{"function", "restore", "bogus"},
	{"function", "restore", "bogus", "nopolicy"},
	// MULTI with a script.
	{"multi"},
	{"eval", "return redis.call('incr', KEYS[1])", 1, "ctr"},
	// KEYS and ARGV are new tables for each run (warden reuses them
	// unless a script changed more than their arrays).
	{"eval", "KEYS.x = 1; table.insert(KEYS, 'q'); setmetatable(ARGV, {__index = function() return 'y' end}); return #KEYS", 1, "a", "b"},
	{"eval", "return {tostring(KEYS.x), tostring(ARGV.z), #KEYS, #ARGV, tostring(getmetatable(ARGV))}", 0},
	{"eval", "KEYS[5] = 'e'; return KEYS[5]", 2, "a", "b"},
	{"eval", "return {#KEYS, tostring(KEYS[5]), KEYS[1]}", 1, "k"},
	// Functions and their libraries' loading code see no KEYS or ARGV
	// global, even on a VM an EVAL ran on just before.
	{"function", "load", "replace", "#!lua name=kl\nredis.register_function('kf', function(keys, args) return type(KEYS) .. type(ARGV) end)"},
	{"eval", "return #KEYS", 1, "a"},
	{"fcall", "kf", 0},
	{"eval", "return #ARGV", 0, "a"},
	{"function", "load", "replace", "#!lua name=kl2\nlocal t = type(KEYS)\nredis.register_function('kf2', function() return t end)"},
	{"eval", "return KEYS[1]", 1, "k"},
	{"incr", "ctr"},
	{"exec"},
}

// TestScriptsSideBySide runs scriptCorpus on warden and on redis-server in
// both protocols and compares every reply.
func TestScriptsSideBySide(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rs := redistest.Start(t, "")
			_, addr := startServer(t)
			opt := func(o *redis.Options) { o.Protocol = proto }
			w := newClient(t, addr, opt)
			r := newClient(t, rs.Addr, opt)
			ctx := context.Background()
			for _, args := range scriptCorpus {
				want := render(r.Do(ctx, args...).Result())
				got := render(w.Do(ctx, args...).Result())
				if got != want {
					t.Errorf("%q:\n  warden %s\n  redis  %s", args, got, want)
				}
			}
		})
	}
}

func render(v any, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%#v", v)
}

// The compile errors of gopher-lua's parser differ from Lua 5.1's in the
// message; the shape is Redis's.
func TestScriptCompileError(t *testing.T) {
	c, ctx := setup(t)
	_, err := do(ctx, c, "eval", "syntax error here", 0)
	if err == nil || !strings.HasPrefix(err.Error(), "ERR Error compiling script (new function): user_script:1: ") {
		t.Fatalf("compile error = %v", err)
	}
}

func scriptSHA(body string) string { return scripting.SHA1Hex([]byte(body)) }

// The scripting commands' registration agrees with Redis's metadata:
// COMMAND INFO (arity, flags, key positions, ACL categories, key specs,
// subcommands) and COMMAND GETKEYS are the same as redis-server's, and the
// flags dispatch acts on match the metadata table's.
func TestScriptingCommandMetadata(t *testing.T) {
	rs := redistest.Start(t, "")
	s, addr := startServer(t)
	w, r := newClient(t, addr), newClient(t, rs.Addr)
	ctx := context.Background()
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "script", "function"} {
		want := render(sortSubcommands(r.Do(ctx, "command", "info", name).Result()))
		got := render(sortSubcommands(w.Do(ctx, "command", "info", name).Result()))
		if name == "script" { // warden has no SCRIPT DEBUG (the Lua debugger)
			want = strings.Replace(want, `[]interface {}{"script|debug", 3, []interface {}{"noscript"}, 0, 0, 0, []interface {}{"@slow", "@scripting"}, []interface {}{}, []interface {}{}, []interface {}{}}, `, "", 1)
		}
		if got != want {
			t.Errorf("COMMAND INFO %s:\n  warden %s\n  redis  %s", name, got, want)
		}
	}
	for _, args := range [][]any{
		{"command", "getkeys", "eval", "return 1", 2, "a", "b", "c"},
		{"command", "getkeys", "fcall", "f", 1, "a", "b"},
		{"command", "getkeys", "eval", "return 1", 0},
		{"command", "getkeys", "evalsha_ro", "x", 5, "a"},
	} {
		if got, want := render(w.Do(ctx, args...).Result()), render(r.Do(ctx, args...).Result()); got != want {
			t.Errorf("%v:\n  warden %s\n  redis  %s", args, got, want)
		}
	}
	modeled := map[string]Flags{"write": fWrite, "readonly": fReadonly, "denyoom": fDenyOOM, "noscript": fNoScript,
		"stale": fStale, "loading": fLoading, "skip_monitor": fSkipMonitor, "allow_busy": fAllowBusy}
	var check func(cmd *Command)
	check = func(cmd *Command) {
		meta := serverCmdTable[cmd.Name].flags
		for word, f := range modeled {
			if (cmd.Flags&f != 0) != strings.Contains(" "+meta+" ", " "+word+" ") {
				t.Errorf("%s: flag %s registered %v, metadata %q", cmd.Name, word, cmd.Flags&f != 0, meta)
			}
		}
		for _, sub := range cmd.Subs {
			check(sub)
		}
	}
	for _, name := range []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "script", "function"} {
		check(s.cmds[name])
	}
}

// sortSubcommands orders a COMMAND INFO reply's subcommand entries by name
// (Redis lists them in its dict's order).
func sortSubcommands(v any, err error) (any, error) {
	if entries, ok := v.([]any); ok {
		for _, e := range entries {
			if fields, ok := e.([]any); ok && len(fields) == 10 {
				if subs, ok := fields[9].([]any); ok {
					sort.Slice(subs, func(i, j int) bool {
						return fmt.Sprint(subs[i].([]any)[0]) < fmt.Sprint(subs[j].([]any)[0])
					})
				}
			}
		}
	}
	return v, err
}
