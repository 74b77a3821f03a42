package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/acl"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/node/config"
)

// normACL makes an ACL rule line comparable with redis-server's: Redis
// emits the single-command rules after the categories in its command
// dict's order, which is random per process, so runs of them are sorted.
// Only order is normalized, and rules naming commands Redis 7.0 does not
// have (warden's own, such as Valkey 9's CLUSTER MIGRATESLOTS) are left
// out; every other token must be there.
func normACL(s string) string {
	toks := strings.Split(s, " ")
	out := make([]string, 0, len(toks))
	var run []string
	flush := func() {
		sort.Strings(run)
		out = append(out, run...)
		run = run[:0]
	}
	for _, tok := range toks {
		bare := strings.Trim(tok, "()")
		if (strings.HasPrefix(bare, "+") || strings.HasPrefix(bare, "-")) && !strings.HasPrefix(bare[1:], "@") && bare == tok {
			if redisLacksSubcommand(bare[1:]) {
				continue
			}
			run = append(run, tok)
			continue
		}
		flush()
		out = append(out, tok)
	}
	flush()
	return strings.Join(out, " ")
}

// redisLacksSubcommand reports whether name is "container|sub" for a
// subcommand Redis 7.0 does not have (not a first-argument rule such as
// +select|0, whose command has no subcommands).
func redisLacksSubcommand(name string) bool {
	parent, _, ok := strings.Cut(name, "|")
	if _, known := serverCmdTable[name]; known || !ok {
		return false
	}
	for n := range serverCmdTable {
		if strings.HasPrefix(n, parent+"|") {
			return true
		}
	}
	return false
}

func normReply(v respVal) string {
	if v.Kind == '$' || v.Kind == '+' {
		return string(v.Kind) + normACL(v.Str)
	}
	if len(v.Elems) > 0 {
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = normReply(e)
		}
		return string(v.Kind) + "[" + strings.Join(parts, ", ") + "]"
	}
	return v.String()
}

// sameACL is pair.same with single-command order normalized.
func (p *pair) sameACL(t *testing.T, cmds ...[]string) {
	t.Helper()
	for _, args := range cmds {
		got, want := p.w.mustDo(t, args...), p.r.mustDo(t, args...)
		if normReply(got) != normReply(want) {
			t.Errorf("%q:\n warden %.600s\n redis  %.600s", strings.Join(args, " "), got, want)
		}
	}
}

// TestACLSideBySide runs the same ACL commands, and the same commands as
// limited users, on warden and redis-server 7.0 and compares every reply.
func TestACLSideBySide(t *testing.T) {
	p := newPair(t)
	p.sameACL(t, cmds(
		"ACL LIST",
		"ACL USERS",
		"ACL WHOAMI",
		"ACL SETUSER u1",
		"ACL LIST",
		"ACL SETUSER u1 on >p1 ~foo* %R~bar %W~baz &ch* +get +@hash -hdel +select|0",
		"ACL GETUSER u1",
		"ACL SETUSER u2 +@all -get allkeys allchannels",
		"ACL GETUSER u2",
		"ACL SETUSER u3 +config|get +client -client|kill nopass on",
		"ACL SETUSER u4 +@read -@string +@geo -georadius on resetpass",
		"ACL SETUSER u5 +@all -@dangerous -@admin +config|get ~* &*",
		"ACL SETUSER u6 +@write +@read -@keyspace +del",
		"ACL SETUSER u7 -@all +@slow -@admin",
		"ACL SETUSER u8 allcommands -debug -acl|setuser %RW~rw %R~r",
		"ACL SETUSER u9 reset",
		"ACL SETUSER u10 skip-sanitize-payload nocommands +@pubsub",
		"ACL LIST",
		"ACL USERS",
		"ACL SETUSER bad +nosuch",
		"ACL SETUSER bad foo",
		"ACL SETUSER bad +@nosuch",
		"ACL SETUSER bad %X~a",
		"ACL SETUSER bad allkeys ~a",
		"ACL SETUSER bad &* &a",
		"ACL SETUSER bad <nope",
		"ACL SETUSER bad #abc",
		"ACL SETUSER bad +config|get|x",
		"ACL SETUSER bad +select|",
		"ACL SETUSER bad -select|0",
		"ACL GETUSER bad",
		"ACL DRYRUN u1 get foo",
		"ACL DRYRUN u1 get nope",
		"ACL DRYRUN u1 hget foo1 f",
		"ACL DRYRUN u1 hdel foo1 f",
		"ACL DRYRUN u1 set foo v",
		"ACL DRYRUN u1 select 0",
		"ACL DRYRUN u1 select 1",
		"ACL DRYRUN u8 get r",
		"ACL DRYRUN u8 set r v",
		"ACL DRYRUN u8 set rw v",
		"ACL DRYRUN u8 debug object x",
		"ACL DRYRUN u8 acl setuser x",
		"ACL DRYRUN u10 publish chan m",
		"ACL DRYRUN nouser get a",
		"ACL DRYRUN u1 nosuch",
		"ACL DRYRUN u1 get",
		"ACL CAT",
		"ACL CAT nosuch",
		"ACL GENPASS 0",
		"ACL GENPASS 5000",
		"ACL GENPASS x",
		"ACL DELUSER default",
		"ACL DELUSER nouser u9 u10",
		"ACL USERS",
		"ACL LOAD",
		"ACL SAVE",
		"ACL LOG x",
		"ACL LOG RESET",
		"ACL NOSUCH",
		"CLIENT KILL USER nouser",
		"CLIENT KILL USER u1",
	)...)
	// RESP3: GETUSER is a map with a set of flags.
	p.both(t, "HELLO", "3")
	p.sameACL(t, cmds("ACL GETUSER u1", "ACL GETUSER u2", "ACL GETUSER nouser")...)
	p.both(t, "HELLO", "2")
	if got := p.w.mustDo(t, "ACL", "GENPASS", "5"); len(got.Str) != 2 {
		t.Errorf("ACL GENPASS 5 = %q, want 2 hex digits", got.Str)
	}
	if got := p.w.mustDo(t, "ACL", "GENPASS"); len(got.Str) != 64 {
		t.Errorf("ACL GENPASS = %q, want 64 hex digits", got.Str)
	}
	// A selector: the root allows nothing, the selector SET on x*.
	p.sameACL(t, cmds(
		"ACL SETUSER sel on >pw ~k* +get (+set ~x*)",
		"ACL GETUSER sel",
		"ACL DRYRUN sel set x1 v",
		"ACL DRYRUN sel set k1 v",
		"ACL DRYRUN sel get x1",
		"ACL SETUSER sel clearselectors",
		"ACL DRYRUN sel set x1 v",
		"ACL SETUSER sel (+set ~x*",
	)...)

	// Limited users on connections of their own.
	p.both(t, "ACL", "SETUSER", "lim", "on", ">pw", "~k*", "%R~ro*", "&c*", "+get", "+set", "+config|get", "+publish", "+subscribe", "+psubscribe", "+multi", "+exec", "+select|0")
	p.both(t, "SET", "k1", "v")
	lw, lr := dialResp(t, p.wAddr(t)), dialResp(t, p.rAddr(t))
	lp := &pair{w: lw, r: lr}
	lp.same(t, cmds(
		"AUTH lim wrong",
		"AUTH nouser pw",
		"AUTH lim pw",
		"ACL WHOAMI",
		"GET k1",
		"GET other",
		"SET ro1 v",
		"GET ro1",
		"HGET k1 f",
		"CONFIG SET maxmemory 1",
		"PUBLISH x y",
		"PUBLISH c1 y",
		"SELECT 0",
		"SELECT 1",
		"MULTI",
		"GET k1",
		"GET other",
		"EXEC",
		"AUTH default nopass-any",
		"ACL WHOAMI",
	)...)
	// ACL LOG: the same entries (ages and client details differ).
	p.sameLog(t)

	// HELLO AUTH.
	hw, hr := dialResp(t, p.wAddr(t)), dialResp(t, p.rAddr(t))
	hp := &pair{w: hw, r: hr}
	hp.same(t, cmds(
		"HELLO 2 AUTH lim wrong",
		"HELLO 2 AUTH lim pw SETNAME x y",
		"ACL WHOAMI",
	)...)
	gotW, gotR := hw.mustDo(t, "HELLO", "2", "AUTH", "lim", "pw"), hr.mustDo(t, "HELLO", "2", "AUTH", "lim", "pw")
	if gotW.isErr() || gotR.isErr() {
		t.Fatalf("HELLO AUTH: warden %v, redis %v", gotW, gotR)
	}
	hp.same(t, cmds("ACL WHOAMI", "GET other", "CLIENT ID")[:2]...)

	// EXEC checks each queued command again; scripts check as the caller.
	p.both(t, "ACL", "SETUSER", "mx", "on", ">pw", "~*", "&*", "+get", "+set", "+multi", "+exec", "+eval", "+publish")
	mw, mr := dialResp(t, p.wAddr(t)), dialResp(t, p.rAddr(t))
	mp := &pair{w: mw, r: mr}
	mp.same(t, cmds("AUTH mx pw", "MULTI", "GET k", "SET k v", "GET k")...)
	p.both(t, "ACL", "SETUSER", "mx", "-get", "resetkeys", "%R~k")
	mp.same(t, cmds("EXEC")...)
	mp.same(t, [][]string{
		{"EVAL", "return redis.pcall('get', 'k')", "0"},
		{"EVAL", "return redis.pcall('set', 'k', 'v')", "0"},
		{"EVAL", "return redis.pcall('hset', 'k', 'f', 'v')", "0"},
		{"EVAL", "return redis.pcall('publish', 'c', 'm')", "0"},
		{"EVAL", "return redis.acl_check_cmd('get', 'k')", "0"},
		{"EVAL", "return redis.acl_check_cmd('set', 'k', 'v')", "0"},
		{"EVAL", "return redis.acl_check_cmd('set', 'x', 'v')", "0"},
	}...)
	p.sameLog(t)

	// Deleting a user closes its connections.
	p.both(t, "ACL", "DELUSER", "lim")
	for _, c := range []*respClient{hw} {
		if _, err := c.do(10*time.Second, "PING"); err == nil {
			// One reply may still be in flight; the next read must fail.
			if _, err := c.do(10*time.Second, "PING"); err == nil {
				t.Errorf("a connection of a deleted user still works")
			}
		}
	}
}

// wAddr and rAddr return the pair's server addresses.
func (p *pair) wAddr(t *testing.T) string { return p.w.c.RemoteAddr().String() }
func (p *pair) rAddr(t *testing.T) string { return p.r.c.RemoteAddr().String() }

// sameLog compares ACL LOG on both servers, field by field, without
// age-seconds and client-info (times, ids and ports differ).
func (p *pair) sameLog(t *testing.T) {
	t.Helper()
	strip := func(v respVal) []string {
		var out []string
		for _, e := range v.Elems {
			var f []string
			for i := 0; i+1 < len(e.Elems); i += 2 {
				k := e.Elems[i].Str
				if k == "age-seconds" || k == "client-info" {
					f = append(f, k)
					continue
				}
				f = append(f, k+"="+e.Elems[i+1].String())
			}
			out = append(out, strings.Join(f, " "))
		}
		return out
	}
	w, r := strip(p.w.mustDo(t, "ACL", "LOG")), strip(p.r.mustDo(t, "ACL", "LOG"))
	if !slices.Equal(w, r) {
		t.Errorf("ACL LOG:\n warden %q\n redis  %q", w, r)
	}
	if len(w) == 0 {
		t.Error("ACL LOG is empty after refusals")
	}
	w, r = strip(p.w.mustDo(t, "ACL", "LOG", "2")), strip(p.r.mustDo(t, "ACL", "LOG", "2"))
	if !slices.Equal(w, r) {
		t.Errorf("ACL LOG 2:\n warden %q\n redis  %q", w, r)
	}
}

// TestACLCategoriesMatchRedis: every category lists the same commands as
// Redis 7.0 (ACL CAT <cat>), and every command warden has carries the
// categories COMMAND INFO reports on redis-server.
func TestACLCategoriesMatchRedis(t *testing.T) {
	rs := redistest.Start(t, "")
	srv, addr := startServer(t, "save", "")
	w, r := dialResp(t, addr), dialResp(t, rs.Addr)
	set := func(v respVal) []string {
		var out []string
		for _, e := range v.Elems {
			out = append(out, e.Str)
		}
		sort.Strings(out)
		return out
	}
	cats := set(r.mustDo(t, "ACL", "CAT"))
	if got := set(w.mustDo(t, "ACL", "CAT")); !slices.Equal(got, cats) || len(cats) != 21 {
		t.Fatalf("ACL CAT: warden %q, redis %q", got, cats)
	}
	for _, cat := range cats {
		got, want := set(w.mustDo(t, "ACL", "CAT", cat)), set(r.mustDo(t, "ACL", "CAT", cat))
		if !slices.Equal(got, want) {
			t.Errorf("ACL CAT %s:\n warden %q\n redis  %q", cat, got, want)
		}
	}
	// Every command warden registers has an ACL ID and the categories
	// redis-server reports for it.
	cat := srv.acl.Catalog()
	check := func(c *Command) {
		id, ok := cat.ID(c.Name)
		if !ok || id != c.aclID {
			t.Errorf("command %q: no ACL id (or a stale one)", c.Name)
			return
		}
		info := r.mustDo(t, append([]string{"COMMAND", "INFO"}, strings.Split(c.Name, "|")...)...)
		if c.Subs == nil && strings.Contains(c.Name, "|") {
			info = r.mustDo(t, "COMMAND", "INFO", c.Name)
		}
		if len(info.Elems) == 0 || info.Elems[0].Null || len(info.Elems[0].Elems) < 7 {
			return // a command redis-server 7.0 does not have
		}
		var want []string
		for _, e := range info.Elems[0].Elems[6].Elems {
			want = append(want, strings.TrimPrefix(e.Str, "@"))
		}
		got := cat.Categories(id)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("command %q categories: warden %q, redis %q", c.Name, got, want)
		}
	}
	for _, c := range srv.cmds {
		check(c)
		for _, sub := range c.Subs {
			check(sub)
		}
	}
}

// TestACLGoRedisLimitedUser: go-redis clients logging in as limited users
// get what the rules allow and Redis's NOPERM errors for the rest.
func TestACLGoRedisLimitedUser(t *testing.T) {
	_, addr := startServer(t, "save", "")
	ctx := context.Background()
	admin := newClient(t, addr)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "&news.*", "+@read", "+@write", "-@dangerous", "+@pubsub", "+@connection").Err())
	must(admin.Do(ctx, "ACL", "SETUSER", "reader", "on", ">rpw", "%R~*", "+@read", "+@connection", "+acl|whoami").Err())
	must(admin.Set(ctx, "secret", "s", 0).Err())

	app := newClient(t, addr, func(o *redis.Options) { o.Username, o.Password = "app", "apppw" })
	must(app.Set(ctx, "app:1", "v", 0).Err())
	if v, err := app.Get(ctx, "app:1").Result(); err != nil || v != "v" {
		t.Fatalf("GET app:1 = %q, %v", v, err)
	}
	if err := app.Get(ctx, "secret").Err(); err == nil || err.Error() != "NOPERM this user has no permissions to access one of the keys used as arguments" {
		t.Fatalf("GET secret: %v", err)
	}
	if err := app.FlushAll(ctx).Err(); err == nil || err.Error() != "NOPERM this user has no permissions to run the 'flushall' command" {
		t.Fatalf("FLUSHALL: %v", err)
	}
	if err := app.Publish(ctx, "other", "m").Err(); err == nil || !strings.Contains(err.Error(), "channels used as arguments") {
		t.Fatalf("PUBLISH other: %v", err)
	}
	must(app.Publish(ctx, "news.a", "m").Err())
	if err := app.MSet(ctx, "app:2", "x", "secret", "y").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("MSET with a forbidden key: %v", err)
	}
	if v, _ := admin.Get(ctx, "secret").Result(); v != "s" {
		t.Fatalf("a refused MSET wrote: secret = %q", v)
	}
	sub := app.Subscribe(ctx, "nope")
	if _, err := sub.Receive(ctx); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("SUBSCRIBE nope: %v", err)
	}
	sub.Close()

	// Revoking a subscribed channel disconnects the subscriber.
	sub2 := app.Subscribe(ctx, "news.x")
	if _, err := sub2.Receive(ctx); err != nil {
		t.Fatalf("SUBSCRIBE news.x: %v", err)
	}
	must(admin.Do(ctx, "ACL", "SETUSER", "app", "resetchannels", "&other").Err())
	if _, err := sub2.ReceiveTimeout(ctx, 10*time.Second); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("a subscriber to a revoked channel was not disconnected: %v", err)
	}
	sub2.Close()

	reader := newClient(t, addr, func(o *redis.Options) { o.Username, o.Password = "reader", "rpw" })
	if v, err := reader.Get(ctx, "secret").Result(); err != nil || v != "s" {
		t.Fatalf("reader GET = %q, %v", v, err)
	}
	if err := reader.Set(ctx, "secret", "x", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("reader SET: %v", err)
	}
	if who, err := reader.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != "reader" {
		t.Fatalf("ACL WHOAMI = %q, %v", who, err)
	}
	bad := newClient(t, addr, func(o *redis.Options) { o.Username, o.Password = "reader", "nope" })
	if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
	// CLIENT LIST names the user.
	list, err := admin.ClientList(ctx).Result()
	must(err)
	if !strings.Contains(list, "user=reader") || !strings.Contains(list, "user=app") {
		t.Fatalf("CLIENT LIST does not name the users:\n%s", list)
	}
	if n, err := admin.ClientKillByFilter(ctx, "USER", "reader").Result(); err != nil || n < 1 {
		t.Fatalf("CLIENT KILL USER reader = %d, %v", n, err)
	}
	if list, _ := admin.ClientList(ctx).Result(); strings.Contains(list, "user=reader") {
		t.Fatalf("CLIENT KILL USER left a reader connection:\n%s", list)
	}
}

// TestACLRequirepassIsDefaultUser: requirepass is the default user's
// password, both ways go-redis logs in.
func TestACLRequirepassIsDefaultUser(t *testing.T) {
	_, addr := startServer(t, "save", "", "requirepass", "s3cret")
	ctx := context.Background()
	c := newClient(t, addr, func(o *redis.Options) { o.Password = "s3cret" })
	info, err := c.Do(ctx, "ACL", "GETUSER", "default").Result()
	if err != nil {
		t.Fatal(err)
	}
	fields := info.([]any)
	m := map[any]any{}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i]] = fields[i+1]
	}
	if pw := m["passwords"].([]any); len(pw) != 1 || pw[0] != acl.HashPassword([]byte("s3cret")) {
		t.Fatalf("default passwords: %v", pw)
	}
	u := newClient(t, addr, func(o *redis.Options) { o.Username, o.Password = "default", "s3cret" })
	if err := u.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "requirepass", "").Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Do(ctx, "ACL", "LIST").StringSlice(); len(got) != 1 || got[0] != "user default on nopass ~* &* +@all" {
		t.Fatalf("after CONFIG SET requirepass '': %q", got)
	}
	anon := newClient(t, addr)
	if err := anon.Ping(ctx).Err(); err != nil {
		t.Fatalf("no password: %v", err)
	}
	if err := anon.Do(ctx, "AUTH", "x").Err(); err == nil || !strings.Contains(err.Error(), "without any password configured") {
		t.Fatalf("AUTH x without a password: %v", err)
	}
}

// startWithConfig runs a node configured through config.Load, as the
// binary is (repeated "user" directives, aclfile).
func startWithConfig(t *testing.T, file string, args ...string) (*Server, string, error) {
	t.Helper()
	cfg := config.New()
	base := []string{"--port", "0", "--dir", t.TempDir(), "--save", ""}
	if err := cfg.Load(file, append(base, args...)); err != nil {
		return nil, "", err
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, "", err
	}
	return s, serveUntilCleanup(t, s), nil
}

// TestACLConfigUsers: "user" lines in the config file define users; with
// an aclfile too the node refuses to start, as Redis does.
func TestACLConfigUsers(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "warden.conf")
	os.WriteFile(conf, []byte("user alice on >apw ~a* +get +set +acl +config|rewrite\nuser default off\n"), 0o600)
	_, addr, err := startWithConfig(t, conf)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	anon := newClient(t, addr)
	if err := anon.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("default off: PING = %v", err)
	}
	alice := newClient(t, addr, func(o *redis.Options) { o.Username, o.Password = "alice", "apw" })
	if err := alice.Set(ctx, "a1", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := alice.Set(ctx, "b1", "v", 0).Err(); err == nil {
		t.Fatal("alice wrote b1")
	}
	// CONFIG REWRITE writes the current users; a restart has them.
	if v := dialAuthed(t, addr, "alice", "apw").mustDo(t, "ACL", "SETUSER", "carol", "on", ">cpw", "+@read", "~c*"); v.isErr() {
		t.Fatal(v)
	}
	before := dialAuthed(t, addr, "alice", "apw").mustDo(t, "ACL", "LIST")
	if v := dialAuthed(t, addr, "alice", "apw").mustDo(t, "CONFIG", "REWRITE"); v.isErr() {
		t.Fatal(v)
	}
	_, addr2, err := startWithConfig(t, conf)
	if err != nil {
		t.Fatal(err)
	}
	if after := dialAuthed(t, addr2, "alice", "apw").mustDo(t, "ACL", "LIST"); after.String() != before.String() {
		t.Fatalf("after CONFIG REWRITE and a restart: %v, before %v", after, before)
	}
	os.WriteFile(filepath.Join(dir, "users.acl"), nil, 0o600)
	if _, _, err := startWithConfig(t, conf, "--aclfile", filepath.Join(dir, "users.acl")); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("user directives and aclfile: %v", err)
	}
	os.WriteFile(conf, []byte("user bob on +nosuch\n"), 0o600)
	if _, _, err := startWithConfig(t, conf); err == nil || !strings.Contains(err.Error(), "Unknown command or category name in ACL") {
		t.Fatalf("bad user directive: %v", err)
	}
}

// TestACLFileLoadSave: the aclfile round trip (ACL SAVE writes what ACL
// LIST shows; a restart loads it), and ACL LOAD errors naming the line,
// identical to redis-server's.
func TestACLFileLoadSave(t *testing.T) {
	wdir, rdir := t.TempDir(), t.TempDir()
	wfile, rfile := filepath.Join(wdir, "users.acl"), filepath.Join(rdir, "users.acl")
	initial := "user default on nopass ~* &* +@all\nuser a on >x ~k* +get\n"
	for _, f := range []string{wfile, rfile} {
		if err := os.WriteFile(f, []byte(initial), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rs := redistest.Start(t, rdir, "--aclfile", rfile)
	_, addr, err := startWithConfig(t, "", "--aclfile", wfile)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{w: dialResp(t, addr), r: dialResp(t, rs.Addr)}
	p.sameACL(t, cmds(
		"ACL LIST",
		"ACL SETUSER b on >y %R~r* &c +@hash -hdel (+set ~s*)",
		"ACL SAVE",
		"ACL LOAD",
		"ACL LIST",
	)...)
	saved, err := os.ReadFile(wfile)
	if err != nil {
		t.Fatal(err)
	}
	list := p.w.mustDo(t, "ACL", "LIST")
	var lines []string
	for _, e := range list.Elems {
		lines = append(lines, e.Str)
	}
	if string(saved) != strings.Join(lines, "\n")+"\n" {
		t.Fatalf("ACL SAVE wrote:\n%s\nACL LIST:\n%s", saved, strings.Join(lines, "\n"))
	}
	// A restart on the saved file has the same users.
	_, addr2, err := startWithConfig(t, "", "--aclfile", wfile)
	if err != nil {
		t.Fatal(err)
	}
	if got := dialResp(t, addr2).mustDo(t, "ACL", "LIST"); got.String() != list.String() {
		t.Fatalf("after restart: %v, saved %v", got, list)
	}
	// ACL LOAD errors name the file and line; nothing changes.
	bad := "user default on nopass ~* &* +@all\nuser a on >x ~* +get\nuser b on +nosuch\nuser c foo\nbogus line\nuser\nuser a on\nuser d on #abc\n"
	os.WriteFile(wfile, []byte(bad), 0o600)
	os.WriteFile(rfile, []byte(bad), 0o600)
	gw, gr := p.w.mustDo(t, "ACL", "LOAD"), p.r.mustDo(t, "ACL", "LOAD")
	if strings.ReplaceAll(gw.Str, wfile, "F") != strings.ReplaceAll(gr.Str, rfile, "F") || !gw.isErr() {
		t.Fatalf("ACL LOAD errors:\n warden %v\n redis  %v", gw, gr)
	}
	p.sameACL(t, cmds("ACL LIST")...)
	// A client of a user the load replaced is disconnected (Redis 7.0
	// frees every previous user).
	os.WriteFile(wfile, []byte("user b on >y +@all ~*\n"), 0o600)
	bc := dialResp(t, addr)
	if v := bc.mustDo(t, "AUTH", "b", "y"); v.isErr() {
		t.Fatal(v)
	}
	if v := bc.mustDo(t, "HSET", "h", "f", "v"); !v.isErr() {
		t.Fatal("b wrote h before the load")
	}
	if v := p.w.mustDo(t, "ACL", "LOAD"); v.isErr() {
		t.Fatal(v)
	}
	if v, err := bc.do(10*time.Second, "HSET", "h", "f", "v"); err == nil {
		t.Fatalf("a connection of a replaced user survived ACL LOAD: %v", v)
	}
	ctx := context.Background()
	b2 := newClient(t, addr, func(o *redis.Options) { o.Username, o.Password = "b", "y" })
	if err := b2.HSet(ctx, "h", "f", "v").Err(); err != nil {
		t.Fatalf("b with the loaded rules: %v", err)
	}
}

// TestACLMasterUser: a replica authenticates to its master as an ACL user
// (masteruser/masterauth) that may run only the replication commands.
func TestACLMasterUser(t *testing.T) {
	_, maddr := startServer(t, "save", "", "requirepass", "adminpw")
	ctx := context.Background()
	m := newClient(t, maddr, func(o *redis.Options) { o.Password = "adminpw" })
	if err := m.Do(ctx, "ACL", "SETUSER", "repl", "on", ">replpw", "+psync", "+replconf", "+ping", "+sync").Err(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(maddr, ":")
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+port, "masteruser", "repl", "masterauth", "replpw")
	r := newClient(t, raddr)
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := r.Get(ctx, "k").Result()
		if err == nil && v == "v" {
			break
		}
		if time.Now().After(deadline) {
			info, _ := r.Info(ctx, "replication").Result()
			t.Fatalf("replica never got k (%q, %v):\n%s", v, err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for {
		if v, _ := r.Get(ctx, "k2").Result(); v == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stream did not reach the replica")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The replication user can do nothing else.
	ru := newClient(t, maddr, func(o *redis.Options) { o.Username, o.Password = "repl", "replpw" })
	if err := ru.Get(ctx, "k").Err(); err == nil || err.Error() != "NOPERM this user has no permissions to run the 'get' command" {
		t.Fatalf("repl user GET: %v", err)
	}
}

// dialAuthed is dialResp logged in as user.
func dialAuthed(t *testing.T, addr, user, pass string) *respClient {
	t.Helper()
	c := dialResp(t, addr)
	if v := c.mustDo(t, "AUTH", user, pass); v.isErr() {
		t.Fatalf("AUTH %s: %v", user, v)
	}
	return c
}

// TestACLKeyPermMatchesKeySpecs: the precomputed key access of every
// command gives, for every sample invocation of multiCases, what the key
// specs give per key (COMMAND GETKEYSANDFLAGS's flags).
func TestACLKeyPermMatchesKeySpecs(t *testing.T) {
	srv, _ := startServer(t, "save", "")
	for name, cases := range multiCases {
		cmd := srv.lookupCommandName(name)
		if cmd == nil || !cmd.aclKeyUniform {
			continue
		}
		for _, argv := range cases {
			args := make([][]byte, len(argv))
			for i, a := range argv {
				args[i] = []byte(a)
			}
			if cmd.Subs != nil || (cmd.Arity > 0 && len(args) != cmd.Arity) || len(args) < -cmd.Arity {
				continue
			}
			keys := cmd.keys(args, nil)
			for i, k := range aclKeys(nil, cmd, args) {
				if string(args[k.Pos]) != string(keys[i]) {
					t.Errorf("%q key %d at position %d is %q, want %q", argv, i, k.Pos, args[k.Pos], keys[i])
				}
				if want := specPerm(keyFlags(cmd, cmdKeySpecs(cmd), args, k.Pos)); want != k.Perm {
					t.Errorf("%q key at %d: precomputed access %d, key specs %d", argv, k.Pos, k.Perm, want)
				}
			}
		}
	}
}
