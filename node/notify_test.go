package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/keyevents"
)

// eventPair is warden and a real redis-server 7.0, each with a command
// client and a PSUBSCRIBE __key*__:* subscriber.
type eventPair struct {
	cmd [2]*redis.Client
	sub [2]*redis.PubSub
}

func newEventPair(t *testing.T, flags string) *eventPair {
	t.Helper()
	rs := redistest.Start(t, "", "--enable-debug-command", "yes")
	_, addr := startServer(t, "save", "", "enable-debug-command", "yes")
	ctx := context.Background()
	p := &eventPair{}
	for i, a := range []string{addr, rs.Addr} {
		p.cmd[i] = newClient(t, a)
		if err := p.cmd[i].ConfigSet(ctx, "notify-keyspace-events", flags).Err(); err != nil {
			t.Fatalf("config set %q: %v", flags, err)
		}
		p.sub[i] = newClient(t, a).PSubscribe(ctx, "__key*__:*")
		t.Cleanup(func() { p.sub[i].Close() })
		if _, err := p.sub[i].Receive(ctx); err != nil { // the subscription reply
			t.Fatal(err)
		}
	}
	return p
}

// events runs lines on both servers (replies are not compared here) and
// returns what each subscriber received, as "channel message", up to an
// end marker published last.
func (p *eventPair) events(t *testing.T, lines ...string) (warden, redis_ []string) {
	t.Helper()
	ctx := context.Background()
	var out [2][]string
	for i := range 2 {
		for _, l := range lines {
			if l == "#sleep" { // let the keys with a 1 ms TTL pass it
				time.Sleep(20 * time.Millisecond)
				continue
			}
			args := notifyArgs(l)
			if args[0] == "#restore" { // #restore dst src ttl [opts]: RESTORE dst with DUMP src
				payload, err := p.cmd[i].Dump(ctx, args[2].(string)).Result()
				if err != nil {
					t.Fatalf("dump for %q: %v", l, err)
				}
				args = append([]any{"restore", args[1], args[3], payload}, args[4:]...)
			}
			p.cmd[i].Do(ctx, args...) // errors are part of the corpus
			// A marker after each command shows, in a difference, which
			// command published what.
			p.cmd[i].Publish(ctx, "__key_mark__:x", l)
		}
		out[i] = eventsUntilEnd(t, p.cmd[i], p.sub[i], fmt.Sprintf("server %d", i))
	}
	return out[0], out[1]
}

// eventsUntilEnd publishes an end marker through pub and returns what sub
// received before it, as "channel payload" lines ("> command" for the
// per-command marks the side-by-side corpus publishes).
func eventsUntilEnd(t *testing.T, pub *redis.Client, sub *redis.PubSub, who string) []string {
	t.Helper()
	pub.Publish(context.Background(), "__key_end__:x", "end")
	ch := sub.Channel()
	deadline := time.After(30 * time.Second)
	var got []string
	for {
		select {
		case m := <-ch:
			switch m.Channel {
			case "__key_end__:x":
				return got
			case "__key_mark__:x":
				got = append(got, "> "+m.Payload)
			default:
				got = append(got, m.Channel+" "+m.Payload)
			}
		case <-deadline:
			t.Fatalf("no end marker from %s; got %q", who, got)
		}
	}
}

func (p *eventPair) same(t *testing.T, lines ...string) {
	t.Helper()
	p.compare(t, false, lines...)
}

// compare is same; quiet allows both servers to publish nothing (flags
// without a class).
func (p *eventPair) compare(t *testing.T, quiet bool, lines ...string) {
	t.Helper()
	w, r := p.events(t, lines...)
	if testing.Verbose() {
		t.Logf("redis published:\n  %s", strings.Join(r, "\n  "))
	}
	events := 0
	for _, e := range r {
		if !strings.HasPrefix(e, "> ") {
			events++
		}
	}
	if events == 0 && !quiet {
		t.Errorf("redis published nothing for %q: the case tests nothing", lines)
	}
	if strings.Join(w, "\n") != strings.Join(r, "\n") {
		t.Errorf("events differ for %q\n warden:\n  %s\n redis:\n  %s", lines, strings.Join(w, "\n  "), strings.Join(r, "\n  "))
	}
}

var notifyCorpus = map[string][]string{
	"strings": {
		"set s1 v", "set s1 v2 ex 100", "set s1 v3 keepttl", "set s1 v get", "setnx s1 x", "setnx s2 x",
		"setex s3 100 v", "psetex s4 100000 v", "mset m1 a m2 b", "msetnx m3 a m4 b", "msetnx m3 a m5 b",
		"getset s1 g", "getdel s2", "getdel nosuch", "getex s1 ex 100", "getex s1 persist", "getex s1 pxat 1",
		"append a1 x", "append a1 y", "incr i1", "decr i1", "incrby i1 5", "decrby i1 2", "incrbyfloat f1 1.5",
		"setrange r1 2 x", "setrange r1 0 ''", "setrange nosuch2 0 ''", "setbit b1 3 1", "setbit b1 3 1",
		"bitfield bf set u8 0 255 get u8 0", "bitfield bf get u8 0", "bitop and bd b1 bf", "bitop and bd nosuch nosuch2",
		"pfadd h1 a b c", "pfadd h1 a", "pfadd h2 x", "pfmerge h3 h1 h2", "pfcount h1", "pfadd h4", "pfadd h4", "pfdebug todense h1",
		"pfdebug getreg h2", "pfmerge h5", "pfmerge h5",
		"set wrongtype x", "lpush wrongtype a",
	},
	"generic": {
		"set k1 v", "set k2 v", "del k1 k2 k3", "set k1 v", "unlink k1", "set k1 v", "rename k1 k2", "rename k2 k2",
		"set k3 v", "renamenx k2 k3", "renamenx k2 k4", "move k4 1", "set k5 v", "copy k5 k6", "copy k5 k6 replace", "copy k5 k7 db 2",
		"expire k5 100", "pexpire k5 100000", "expireat k5 99999999999", "persist k5", "persist k5", "expire k5 0",
		"set k8 v", "expire k8 -1", "set k9 v", "pexpireat k9 1", "expire nosuch 10",
		"rpush l1 c b a", "sort l1 alpha store l2", "sort nosuch store l2", "sort l1 alpha store l3 limit 5 5",
	},
	"lists": {
		"lpush l a b c", "rpush l d", "lpushx l e", "rpushx nosuch x", "lpop l", "rpop l", "lpop l 2",
		"rpush l2 a b c d e f", "linsert l2 before c x", "linsert l2 after nope y", "lset l2 0 z", "lrem l2 1 z",
		"ltrim l2 1 2", "ltrim l2 5 10", "rpush l3 a b", "lmove l3 l4 left right", "rpoplpush l3 l4", "lmove l4 l4 left left",
		"rpush l5 1 2 3", "lmpop 1 l5 right count 5", "rpush l6 x", "blpop l6 1", "rpush l7 y", "brpoplpush l7 l8 1", "blmove l8 l9 left left 1",
	},
	"hashes": {
		"hset h f v g w", "hset h f v2", "hsetnx h f x", "hsetnx h n x", "hmset h a 1", "hincrby h a 2", "hincrbyfloat h a 1.5",
		"hdel h f", "hdel h nosuch", "hdel h g n a", "hdel nosuch f",
	},
	"sets": {
		"sadd s a b c", "sadd s a", "srem s a", "srem s zz", "spop s", "sadd s2 x y", "smove s2 s3 x", "smove s2 s3 y", "smove nosuch s3 q",
		"sadd a 1 2 3", "sadd b 2 3 4", "sinterstore d a b", "sunionstore d a b", "sdiffstore d a b", "sinterstore d a nosuch", "sinterstore d a nosuch",
		"sadd p 1 2 3", "spop p 2", "spop p 5", "sintercard 2 a b",
	},
	"zsets": {
		"zadd z 1 a 2 b 3 c", "zadd z 1 a", "zadd z incr 5 a", "zincrby z 2 b", "zrem z a", "zrem z nosuch",
		"zadd z2 1 a 2 b 3 c 4 d 5 e 6 f", "zremrangebyscore z2 1 2", "zremrangebyrank z2 0 0", "zadd lx 0 a 0 b 0 c",
		"zremrangebylex lx [a [b", "zpopmin z2", "zpopmax z2 2", "zpopmin z2 5",
		"zadd y1 1 a 2 b", "zadd y2 2 b 3 c", "zunionstore yu 2 y1 y2", "zinterstore yi 2 y1 y2", "zdiffstore yd 2 y1 y2",
		"zrangestore yr y1 0 -1", "zinterstore yi 2 y1 nosuch", "zadd y3 1 x", "bzpopmin y3 1", "zadd y4 1 x 2 y", "zmpop 1 y4 min count 5",
		"geoadd g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "geosearchstore gs g fromlonlat 15 37 byradius 200 km",
		"georadius g 15 37 200 km store gr", "georadiusbymember g Palermo 300 km storedist grm", "georadius g 0 0 1 km store gr",
		"geosearchstore gs g frommember Palermo byradius 1 m storedist", "zadd y5 1 x", "bzpopmax y5 1", "zadd y6 1 x 2 y", "zpopmax y6",
	},
	"streams": {
		"xadd x 1-1 f v", "xadd x 2-1 f v", "xadd x maxlen 1 3-1 f v", "xadd x nomkstream 4-1 f v", "xadd nosuch nomkstream 1-1 f v",
		"xtrim x maxlen 0", "xadd x 5-1 f v", "xdel x 5-1", "xdel x 9-9", "xadd x 6-1 f v",
		"xgroup create x g 0", "xgroup create y g $ mkstream", "xgroup createconsumer x g c1", "xgroup createconsumer x g c1",
		"xreadgroup group g c2 count 1 streams x >", "xclaim x g c3 0 6-1", "xautoclaim x g c4 0 0", "xgroup delconsumer x g c1",
		"xgroup setid x g 0", "xsetid x 9-9", "xack x g 6-1", "xgroup destroy x g",
	},
	"reads": {
		"get nosuch", "mget nosuch nosuch2", "set present v", "get present", "hget nosuch f", "lrange nosuch 0 -1", "smembers nosuch",
		"zrange nosuch 0 -1", "xrange nosuch - +", "exists nosuch present", "type nosuch", "ttl nosuch", "pttl nosuch", "strlen nosuch",
		"getrange nosuch 0 1", "dump nosuch", "object encoding nosuch", "pfcount nosuch", "sort nosuch", "scard nosuch", "zscore nosuch m",
		"hgetall nosuch", "xlen nosuch", "lindex nosuch 0", "llen nosuch", "sismember nosuch m", "zcard nosuch", "getex nosuch",
		"touch nosuch", "xread streams nosuch 0", "getbit nosuch 1", "bitcount nosuch", "lpos nosuch a", "hrandfield nosuch",
		"srandmember nosuch", "zrandmember nosuch", "geopos nosuch m", "lcs nosuch nosuch2", "substr nosuch 0 1", "hexists nosuch f",
		"sunion nosuch nosuch2", "zunion 1 nosuch", "sintercard 1 nosuch", "sort_ro nosuch", "bitfield_ro nosuch get u8 0", "randomkey",
	},
	"edges": {
		"set d1 v", "#restore d2 d1 0", "#restore d2 d1 0", "#restore d2 d1 0 replace", "#restore d2 d1 1 replace absttl", "#restore d3 d1 100000",
		"rpush dl a b", "#restore dl2 dl 0", "del dl",
		"set e3 v", "getex e3 exat 1", "zadd zz nx 1 a", "zadd zz xx 2 a", "zadd zz xx 2 a", "zadd zz gt ch 1 a", "zadd zz lt 1 a",
		"zadd zz incr nx 1 a", "hset hh f v", "hincrbyfloat hh n 1e3", "smove s s x", "sadd s x", "smove s s x", "rpoplpush rl rl",
		"rpush rl a", "rpoplpush rl rl", "lset nosuch 0 x", "linsert nosuch before a b", "incrbyfloat nf x", "incr nan", "set big 99999999999999999999",
		"incr big", "expire big 10 nx", "expire big 20 nx", "expire big 5 gt", "expire big 30 gt", "pexpire big 25000 lt", "pexpire big 99000 lt", "persist nosuch",
		"setrange big 30 x", "append big ''", "del nosuch", "unlink nosuch big", "copy nosuch x", "rename nosuch x", "move nosuch 1",
		"set sw v", "swapdb 0 1", "swapdb 0 1", "flushdb", "set fa v", "flushall", "set after v",
	},
	"scripts": {
		"eval redis.call([[set]],KEYS[1],[[1]]);redis.call([[incr]],KEYS[1]);redis.call([[del]],KEYS[1]) 1 e1",
		"eval redis.call([[lpush]],KEYS[1],[[a]]);return(redis.pcall([[incr]],KEYS[1])) 1 e2",
		"@function|load|#!lua name=nlib\nredis.register_function('nf', function(k) redis.call('hset', k[1], 'f', 'v') end)", "fcall nf 1 e3", "function delete nlib", "function flush",
		"@eval|redis.call('set', KEYS[1], 'x'); redis.call('expire', KEYS[1], 100); redis.call('rename', KEYS[1], KEYS[2])|2|{e}4|{e}5",
		"multi", "set t1 v", "lpush t2 a", "del t1", "exec",
	},
}

// TestNotifyEventsSideBySide runs a corpus of writes of every family on
// warden and redis-server with notify-keyspace-events KEA and compares the
// exact sequence of keyspace and keyevent messages.
func TestNotifyEventsSideBySide(t *testing.T) {
	for _, flags := range []string{"KEA", "KEAn"} {
		for name, lines := range notifyCorpus {
			t.Run(flags+"/"+name, func(t *testing.T) {
				newEventPair(t, flags).same(t, lines...)
			})
		}
	}
}

// TestNotifyEventsRestrictedFlags checks that only the classes set publish,
// and only on the channels (K, E) set.
func TestNotifyEventsRestrictedFlags(t *testing.T) {
	var all []string
	for _, name := range []string{"generic", "strings", "lists", "hashes", "sets", "zsets", "streams", "reads"} {
		all = append(all, notifyCorpus[name]...)
	}
	all = append(all, "debug set-active-expire 0", "set xx v px 1", "#sleep", "get xx", "debug set-active-expire 1")
	for _, flags := range []string{"Kl", "Eg$", "Ex", "En", "Kh", "Es", "Kzt", "KEm", "gK", "E"} {
		t.Run(flags, func(t *testing.T) {
			newEventPair(t, flags).compare(t, flags == "E", all...)
		})
	}
}

// TestNotifyExpired covers expired events from lazy expiry (a GET of a key
// whose TTL passed) and from the active expire cycle.
func TestNotifyExpired(t *testing.T) {
	p := newEventPair(t, "KEA")
	ctx := context.Background()
	// Lazy: keys expire while nothing touches them, then a read reclaims
	// them. The active cycle could reclaim them first; both publish the same
	// expired events, so the sequences still compare.
	p.same(t, "debug set-active-expire 0", "set lz v px 1", "#sleep", "get lz", "set lz2 v px 1", "#sleep", "set lz2 w", "debug set-active-expire 1")
	for i := range 2 {
		p.cmd[i].Set(ctx, "act", "v", time.Millisecond)
	}
	for i, name := range []string{"warden", "redis"} {
		ch := p.sub[i].Channel()
		deadline := time.After(30 * time.Second)
		var got []string
	wait:
		for {
			select {
			case m := <-ch:
				got = append(got, m.Channel+" "+m.Payload)
				if m.Channel == "__keyevent@0__:expired" && m.Payload == "act" {
					break wait
				}
			case <-deadline:
				t.Fatalf("%s: no active expired event; got %q", name, got)
			}
		}
		want := []string{"__keyspace@0__:act set", "__keyevent@0__:set act", "__keyspace@0__:act expire", "__keyevent@0__:expire act", "__keyspace@0__:act expired", "__keyevent@0__:expired act"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

// TestNotifyBlockedServes compares the events of blocked clients served by
// a later write (the pop, move or group read runs in the writer's turn).
func TestNotifyBlockedServes(t *testing.T) {
	cases := []struct {
		setup    []string
		blocking string
		trigger  []string
	}{
		{nil, "blpop bl 0", []string{"rpush bl x y"}},
		{nil, "brpop bl2 bl3 0", []string{"lpush bl3 x"}},
		{nil, "blmove bm bmd left right 0", []string{"rpush bm x"}},
		{nil, "brpoplpush bm2 bm2 0", []string{"rpush bm2 x"}},
		{nil, "blmpop 0 1 bp right count 5", []string{"rpush bp a b"}},
		{nil, "bzpopmin bz 0", []string{"zadd bz 1 a"}},
		{nil, "bzmpop 0 1 bz2 max count 3", []string{"zadd bz2 1 a 2 b"}},
		{[]string{"xgroup create bs g $ mkstream"}, "xreadgroup group g newc block 0 streams bs >", []string{"xadd bs 1-1 f v"}},
	}
	for _, tc := range cases {
		t.Run(tc.blocking, func(t *testing.T) {
			p := newEventPair(t, "KEAn")
			ctx := context.Background()
			var out [2][]string
			for i := range 2 {
				for _, l := range tc.setup {
					p.cmd[i].Do(ctx, notifyArgs(l)...)
				}
				blocker := p.cmd[i].Conn()
				done := make(chan error, 1)
				go func() { done <- blocker.Do(ctx, notifyArgs(tc.blocking)...).Err() }()
				waitBlockedClients(t, p.cmd[i], 1)
				for _, l := range tc.trigger {
					p.cmd[i].Do(ctx, notifyArgs(l)...)
				}
				if err := <-done; err != nil {
					t.Fatalf("%s: %v", tc.blocking, err)
				}
				blocker.Close()
			}
			w, r := p.events(t)
			out[0], out[1] = w, r
			if strings.Join(out[0], "\n") != strings.Join(out[1], "\n") {
				t.Errorf("events differ\n warden:\n  %s\n redis:\n  %s", strings.Join(out[0], "\n  "), strings.Join(out[1], "\n  "))
			}
			if len(out[1]) == 0 {
				t.Fatal("redis published nothing: the case tests nothing")
			}
		})
	}
}

// notifyArgs splits a corpus line into a command: on spaces, or on "|"
// when the line starts with "@" (for arguments holding spaces).
func notifyArgs(l string) []any {
	var args []any
	fields := strings.Fields(l)
	if strings.HasPrefix(l, "@") {
		fields = strings.Split(l[1:], "|")
	}
	for _, f := range fields {
		args = append(args, f)
	}
	return args
}

// waitBlockedClients waits until INFO reports n blocked clients.
func waitBlockedClients(t *testing.T, c *redis.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	want := fmt.Sprintf("blocked_clients:%d\r", n)
	for time.Now().Before(deadline) {
		if info, _ := c.Info(context.Background(), "clients").Result(); strings.Contains(info, want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("never saw %d blocked clients", n)
}

// TestNotifyConfigSideBySide compares CONFIG SET notify-keyspace-events
// (accepted values, errors) and the form CONFIG GET shows with redis-server.
func TestNotifyConfigSideBySide(t *testing.T) {
	p := newPair(t)
	var steps [][]string
	for _, v := range []string{"KEA", "Egx", "gxE", "K$lshzxetdEg", "KEAm", "En", "Kl", "Eg$", "Ex", "m", "AAAA", "tz", "d", "e",
		"Q", "KEA ", "k", "a", "1", "", "Kx", "Ehsz"} {
		steps = append(steps, []string{"config", "set", "notify-keyspace-events", v}, []string{"config", "get", "notify-keyspace-events"})
	}
	// Several at once: a bad value fails the whole CONFIG SET.
	steps = append(steps, []string{"config", "set", "notify-keyspace-events", "KEA", "hz", "11"}, []string{"config", "get", "notify-keyspace-events"},
		[]string{"config", "set", "notify-keyspace-events", "Kl", "hz", "x"}, []string{"config", "get", "notify-keyspace-events"},
		[]string{"config", "set", "hz", "12", "notify-keyspace-events", "QQ"}, []string{"config", "get", "notify-keyspace-events"})
	p.same(t, steps...)
}

// TestNotifyConfigTakesEffect checks that CONFIG SET switches publication
// on and off at once, and that a config-file value applies at startup.
func TestNotifyConfigTakesEffect(t *testing.T) {
	_, addr := startServer(t, "save", "", "notify-keyspace-events", "Eg$")
	ctx := context.Background()
	c := newClient(t, addr)
	sub := newClient(t, addr).PSubscribe(ctx, "__key*__:*")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if v := c.ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]; v != "g$E" {
		t.Fatalf("startup value shown as %q, want g$E", v)
	}
	c.Set(ctx, "a", "1", 0)                          // published (Eg$ from startup)
	c.ConfigSet(ctx, "notify-keyspace-events", "")   // off
	c.Set(ctx, "b", "1", 0)                          // not published
	c.ConfigSet(ctx, "notify-keyspace-events", "Kg") // keyspace channel, generic only
	c.Set(ctx, "c", "1", 0)                          // not published: $ is off
	c.Del(ctx, "c")                                  // published
	got := eventsUntilEnd(t, c, sub, "the server")
	want := []string{"__keyevent@0__:set a", "__keyspace@0__:c del"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestNotifyOnReplica checks that a replica publishes the events of the
// writes it applies from its master, as a Redis replica does (and "del",
// not "expired", for a key its master expired), side by side with a
// redis-server master and replica. The masters publish nothing here.
func TestNotifyOnReplica(t *testing.T) {
	rm := redistest.Start(t, "", "--enable-debug-command", "yes")
	rr := redistest.Start(t, "", "--replicaof", "127.0.0.1", rm.Port)
	_, wmAddr := startServer(t, "save", "", "enable-debug-command", "yes")
	_, wmPort, _ := strings.Cut(wmAddr, ":")
	_, wrAddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+wmPort)
	ctx := context.Background()
	p := &eventPair{}
	replicas := [2]*redis.Client{newClient(t, wrAddr), newClient(t, rr.Addr)}
	for i, m := range []string{wmAddr, rm.Addr} {
		p.cmd[i] = newClient(t, m)
		waitLinkUp(t, replicas[i])
		if err := replicas[i].ConfigSet(ctx, "notify-keyspace-events", "KEA").Err(); err != nil {
			t.Fatal(err)
		}
		p.sub[i] = newClient(t, replicas[i].Options().Addr).PSubscribe(ctx, "__key*__:*")
		t.Cleanup(func() { p.sub[i].Close() })
		if _, err := p.sub[i].Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	lines := []string{"set a 1", "set b 2 ex 100", "incr a", "lpush l x y", "rpop l", "rpop l", "hset h f v", "sadd s m", "zadd z 1 m",
		"xadd x 1-1 f v", "rename a a2", "del b", "expire a2 100", "persist a2",
		"eval redis.call([[set]],KEYS[1],[[1]]);redis.call([[incr]],KEYS[1]);redis.call([[del]],KEYS[1]) 1 e1",
		"multi", "set t1 v", "lpush t2 a", "exec",
		"debug set-active-expire 0", "set gone v px 1", "#sleep", "get gone", "debug set-active-expire 1"}
	var out [2][]string
	for i := range 2 {
		for _, l := range lines {
			if l == "#sleep" {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			p.cmd[i].Do(ctx, notifyArgs(l)...)
		}
		if n, err := p.cmd[i].Do(ctx, "wait", "1", "30000").Int(); err != nil || n != 1 {
			t.Fatalf("WAIT: %v %v", n, err)
		}
		out[i] = eventsUntilEnd(t, replicas[i], p.sub[i], fmt.Sprintf("replica %d", i))
	}
	if strings.Join(out[0], "\n") != strings.Join(out[1], "\n") {
		t.Errorf("replica events differ\n warden:\n  %s\n redis:\n  %s", strings.Join(out[0], "\n  "), strings.Join(out[1], "\n  "))
	}
	if len(out[1]) == 0 {
		t.Fatal("the redis replica published nothing")
	}
}

// TestNotifyEvictedHook checks the evicted event the eviction loop
// publishes through notifyEvicted: only with the e class, on both channels.
func TestNotifyEvictedHook(t *testing.T) {
	s, addr := startServer(t, "save", "", "notify-keyspace-events", "KEe")
	ctx := context.Background()
	c := newClient(t, addr)
	sub := newClient(t, addr).PSubscribe(ctx, "__key*__:*")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "k", "v", 0) // $ is off: not published
	s.notifyEvicted(2, []byte("k"))
	c.ConfigSet(ctx, "notify-keyspace-events", "KEg")
	s.notifyEvicted(0, []byte("k2")) // e is off now
	got := eventsUntilEnd(t, c, sub, "the server")
	want := []string{"__keyspace@2__:k evicted", "__keyevent@2__:evicted k"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// BenchmarkNotify measures what a write pays for its event: off (the
// default: one atomic load) and on with nobody subscribed.
func BenchmarkNotify(b *testing.B) {
	s, _ := startServer(b, "save", "")
	key := []byte("some:key:1234")
	b.Run("off", func(b *testing.B) {
		c := &Ctx{s: s}
		for b.Loop() {
			c.notify(keyevents.String, "set", key)
		}
	})
	b.Run("on-no-subscribers", func(b *testing.B) {
		if err := s.notif.set("KEA"); err != nil {
			b.Fatal(err)
		}
		defer s.notif.set("")
		for b.Loop() {
			s.publishKeyEvent(keyevents.String, "set", key, 0)
		}
	})
}
