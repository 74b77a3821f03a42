package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/push"
	"github.com/wardenkv/warden/internal/redistest"
)

// trackSession is a set of named raw connections to one server, used to
// replay a scripted sequence and write down everything each connection
// received: replies and the invalidations pushed to it.
type trackSession struct {
	t     *testing.T
	conns map[string]*respClient
	ids   map[string]string // connection name -> CLIENT ID
	order []string
	subs  map[string]bool // RESP2 subscribed: PING answers ["pong", ""]
}

func newTrackSession(t *testing.T, addr string, names ...string) *trackSession {
	ts := &trackSession{t: t, conns: map[string]*respClient{}, ids: map[string]string{}, subs: map[string]bool{}}
	for _, n := range names {
		rc := dialResp(t, addr)
		ts.conns[n] = rc
		ts.ids[n] = rc.mustDo(t, "CLIENT", "ID").Str
		ts.order = append(ts.order, n)
	}
	return ts
}

// expand replaces "@name" arguments with that connection's id.
func (ts *trackSession) expand(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if id, ok := ts.ids[strings.TrimPrefix(a, "@")]; ok && strings.HasPrefix(a, "@") {
			a = id
		}
		out[i] = a
	}
	return out
}

// send writes a command on conn and returns its reply as text, with the
// pushes that arrived before it listed first.
func (ts *trackSession) send(conn string, args ...string) string {
	ts.t.Helper()
	rc := ts.conns[conn]
	rc.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := rc.c.Write(respCommand(ts.expand(args)...)); err != nil {
		ts.t.Fatal(err)
	}
	return ts.readReply(conn, args)
}

func (ts *trackSession) readReply(conn string, args []string) string {
	ts.t.Helper()
	rc := ts.conns[conn]
	var pushes []string
	for {
		v, err := readResp(rc.r)
		if err != nil {
			ts.t.Fatalf("%s: %v", conn, err)
		}
		if v.Kind == '>' || ts.subs[conn] && v.Kind == '*' && len(v.Elems) > 0 && v.Elems[0].Str == "message" {
			pushes = append(pushes, ts.normalize(nil, v.String()))
			continue
		}
		s := ts.normalize(args, v.String())
		if len(pushes) > 0 {
			s = "push " + strings.Join(pushes, " ") + " then " + s
		}
		return s
	}
}

// normalize replaces the connections' ids by @name where replies carry
// one: GETREDIR, TRACKINGINFO's redirect, HELLO's id, CLIENT INFO's redir.
func (ts *trackSession) normalize(args []string, s string) string {
	for n, id := range ts.ids {
		if s == ":"+id && len(args) == 2 && strings.EqualFold(args[1], "getredir") {
			return "@" + n
		}
		s = strings.ReplaceAll(s, "redir="+id+" ", "redir=@"+n+" ")
		s = strings.ReplaceAll(s, "\"redirect\" :"+id+"]", "\"redirect\" @"+n+"]")
		s = strings.ReplaceAll(s, "\"redirect\" :"+id+" ", "\"redirect\" @"+n+" ")
		s = strings.ReplaceAll(s, "\"id\" :"+id+" ", "\"id\" @"+n+" ")
		s = strings.ReplaceAll(s, "\"tracking-redir-broken\" :"+id+"]", "\"tracking-redir-broken\" @"+n+"]")
	}
	return s
}

// sync has every connection answer a PING and returns what each was pushed
// before the answer.
func (ts *trackSession) sync() string {
	ts.t.Helper()
	var b strings.Builder
	for _, n := range ts.order {
		r := ts.send(n, "PING")
		if i := strings.Index(r, " then "); i >= 0 {
			fmt.Fprintf(&b, " %s<%s>", n, r[:i])
		}
	}
	return b.String()
}

// trackStep is one line of a scripted sequence: conn runs args, then
// every connection syncs (PING) and what was pushed to it is written down. Special
// args: "#sleep ms", "#info" (INFO's tracking counters), "#flags" (flags
// and redir of the connection's CLIENT INFO), "#subscribe".
type trackStep struct {
	conn string
	args []string
}

func ts(conn string, args ...string) trackStep { return trackStep{conn, args} }

func (ts *trackSession) run(steps []trackStep) []string {
	var out []string
	for _, st := range steps {
		var r string
		// "!conn": no sync after the step (it would end CLIENT CACHING's
		// one-command scope, or be queued by MULTI).
		nosync := strings.HasPrefix(st.conn, "!")
		st.conn = strings.TrimPrefix(st.conn, "!")
		switch st.args[0] {
		case "#sleep":
			ms, _ := strconv.Atoi(st.args[1])
			time.Sleep(time.Duration(ms) * time.Millisecond)
			r = "slept"
		case "#info":
			info, err := strconv.Unquote(ts.send(st.conn, "INFO", "everything"))
			if err != nil {
				ts.t.Fatal(err)
			}
			var f []string
			for _, l := range strings.Split(info, "\n") {
				if strings.HasPrefix(l, "tracking_") {
					f = append(f, strings.TrimSpace(l))
				}
			}
			r = strings.Join(f, " ")
		case "#flags":
			line := ts.send(st.conn, "CLIENT", "INFO")
			var f []string
			for _, w := range strings.Fields(strings.Trim(line, "\"")) {
				if strings.HasPrefix(w, "flags=") || strings.HasPrefix(w, "redir=") {
					f = append(f, w)
				}
			}
			r = ts.normalize(nil, strings.Join(f, " ")+" ")
		case "#subscribe":
			r = ts.send(st.conn, "SUBSCRIBE", "__redis__:invalidate")
			ts.subs[st.conn] = true
		case "#close":
			ts.conns[st.conn].close()
			delete(ts.conns, st.conn)
			for i, n := range ts.order {
				if n == st.conn {
					ts.order = append(ts.order[:i:i], ts.order[i+1:]...)
					break
				}
			}
			time.Sleep(100 * time.Millisecond) // the server notices the close
			r = "closed"
		default:
			r = ts.send(st.conn, st.args...)
		}
		sync := ""
		if !nosync {
			sync = ts.sync()
		}
		out = append(out, fmt.Sprintf("%s %q -> %s |%s", st.conn, st.args, r, sync))
	}
	return out
}

// compareTracking replays steps on warden and on a real redis-server and
// compares the transcripts line by line.
func compareTracking(t *testing.T, names []string, steps []trackStep, directives ...string) {
	t.Helper()
	rs := redistest.Start(t, "", directives...)
	var wdirs []string
	for i := 0; i+1 < len(directives); i += 2 {
		wdirs = append(wdirs, strings.TrimPrefix(directives[i], "--"), directives[i+1])
	}
	_, addr := startServer(t, wdirs...)
	want := newTrackSession(t, rs.Addr, names...).run(steps)
	got := newTrackSession(t, addr, names...).run(steps)
	if testing.Verbose() {
		t.Log("\n" + strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\n warden: %s\n  redis: %s", i, got[i], want[i])
		}
	}
}

func TestTrackingSideBySideRESP3(t *testing.T) {
	steps := []trackStep{
		ts("r", "HELLO", "3", "SETNAME", "r"),
		ts("r", "CLIENT", "GETREDIR"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "#flags"),
		ts("r", "CLIENT", "TRACKING", "ON"),
		ts("r", "CLIENT", "GETREDIR"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "#flags"),
		ts("r", "GET", "a"),
		ts("r", "MGET", "b", "c"),
		ts("w", "#info"),
		ts("w", "SET", "a", "1"),
		ts("w", "SET", "a", "2"), // no longer tracked: nothing
		ts("w", "MSET", "b", "1", "c", "2"),
		// The client's own writes: the invalidation follows the reply.
		ts("r", "GET", "a"),
		ts("r", "SET", "a", "3"),
		ts("r", "INCR", "a"),
		// Expiry (lazy or active) invalidates.
		ts("w", "SET", "e", "1", "PX", "50"),
		ts("r", "GET", "e"),
		ts("w", "#sleep", "300"),
		ts("w", "GET", "e"),
		// MULTI/EXEC of another client, and of the tracking client itself.
		ts("r", "MGET", "a", "b", "h"),
		ts("!w", "MULTI"),
		ts("!w", "SET", "a", "x"),
		ts("!w", "HSET", "h", "f", "v"),
		ts("w", "EXEC"),
		ts("r", "GET", "a"),
		ts("!r", "MULTI"),
		ts("!r", "GET", "a"),
		ts("!r", "APPEND", "a", "y"),
		ts("r", "EXEC"),
		// Scripts: writes invalidate, reads register the caller.
		ts("r", "GET", "s"),
		ts("w", "EVAL", "redis.call('set', KEYS[1], 'v') return 1", "1", "s"),
		ts("r", "EVAL", "return redis.call('get', KEYS[1])", "1", "s2"),
		ts("w", "SET", "s2", "x"),
		ts("r", "EVAL_RO", "return redis.call('get', KEYS[1])", "1", "s3"),
		ts("w", "SET", "s3", "x"),
		// Other commands that modify.
		ts("r", "MGET", "a", "b", "l", "z"),
		ts("w", "DEL", "a"),
		ts("w", "RENAME", "b", "b2"),
		ts("w", "RPUSH", "l", "1"),
		ts("w", "ZADD", "z", "1", "m"),
		ts("r", "GET", "b2"),
		ts("w", "EXPIRE", "b2", "100"),
		ts("w", "#info"),
		// Flushes: a null for every tracking client, the table empties.
		ts("r", "GET", "f"),
		ts("w", "FLUSHDB"),
		ts("w", "#info"),
		ts("r", "FLUSHALL"),
		// NOLOOP in default mode.
		ts("r", "CLIENT", "TRACKING", "ON", "NOLOOP"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "GET", "n"),
		ts("r", "SET", "n", "1"),
		ts("r", "GET", "n"),
		ts("w", "SET", "n", "2"),
		// Switching modes.
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST"),
		ts("r", "CLIENT", "TRACKING", "OFF"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "CLIENT", "GETREDIR"),
		ts("w", "SET", "n", "3"), // r read n while tracking: off now, nothing
		// BCAST with prefixes.
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "#flags"),
		ts("w", "#info"),
		ts("w", "SET", "user:1", "a"),
		ts("w", "MSET", "obj:2", "x", "user:3", "y", "other", "z", "user:0", "q"),
		ts("w", "SET", "nope", "1"),
		ts("r", "SET", "user:9", "self"),
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "us"),
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:1:x"),
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "sess:"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "CLIENT", "TRACKING", "ON"),
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"),
		ts("w", "DEL", "user:1", "obj:2", "sess:1"),
		ts("r", "CLIENT", "TRACKING", "OFF"),
		// BCAST NOLOOP, the whole keyspace.
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"),
		ts("w", "#info"),
		ts("r", "SET", "k1", "1"),
		ts("w", "SET", "k2", "1"),
		ts("r", "MSET", "k1", "2", "k3", "3"),
		ts("r", "CLIENT", "TRACKING", "OFF"),
		// OPTIN.
		ts("r", "CLIENT", "TRACKING", "ON", "OPTIN"),
		ts("r", "CLIENT", "CACHING", "NO"),
		ts("r", "GET", "o1"),
		ts("!r", "CLIENT", "CACHING", "YES"),
		ts("!r", "CLIENT", "TRACKINGINFO"),
		ts("r", "GET", "o2"),
		ts("r", "GET", "o3"),
		ts("!r", "CLIENT", "CACHING", "YES"),
		ts("!r", "MULTI"),
		ts("!r", "GET", "o4"),
		ts("!r", "GET", "o5"),
		ts("r", "EXEC"),
		ts("!r", "CLIENT", "CACHING", "YES"),
		ts("!r", "MULTI"),
		ts("!r", "GET", "o6"),
		ts("r", "EXEC"),
		ts("r", "GET", "o7"),
		ts("w", "MSET", "o1", "a", "o2", "b", "o3", "c", "o4", "d", "o5", "e", "o6", "f", "o7", "g"),
		ts("r", "CLIENT", "TRACKING", "ON", "OPTOUT"),
		ts("r", "CLIENT", "TRACKING", "OFF"),
		// OPTOUT.
		ts("r", "CLIENT", "TRACKING", "ON", "OPTOUT"),
		ts("r", "CLIENT", "CACHING", "YES"),
		ts("r", "GET", "p1"),
		ts("!r", "CLIENT", "CACHING", "NO"),
		ts("!r", "CLIENT", "TRACKINGINFO"),
		ts("r", "GET", "p2"),
		ts("r", "GET", "p3"),
		ts("w", "MSET", "p1", "a", "p2", "b", "p3", "c"),
		ts("r", "CLIENT", "TRACKING", "OFF"),
		// Errors.
		ts("r", "CLIENT", "CACHING", "YES"),
		ts("r", "CLIENT", "CACHING", "maybe"),
		ts("r", "CLIENT", "CACHING"),
		ts("r", "CLIENT", "CACHING", "YES", "NO"),
		ts("r", "CLIENT", "TRACKING"),
		ts("r", "CLIENT", "TRACKING", "MAYBE"),
		ts("r", "CLIENT", "TRACKING", "ON", "FOO"),
		ts("r", "CLIENT", "TRACKING", "ON", "PREFIX"),
		ts("r", "CLIENT", "TRACKING", "ON", "PREFIX", "a"),
		ts("r", "CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "OPTOUT"),
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "99999"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "x1"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "@w", "REDIRECT", "@w"),
		ts("r", "CLIENT", "TRACKING", "MAYBE", "REDIRECT", "99999"),
		ts("r", "CLIENT", "TRACKING", "OFF", "BCAST"),
		ts("r", "CLIENT", "TRACKINGINFO", "x"),
		ts("r", "CLIENT", "GETREDIR", "x"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("w", "#info"),
		ts("w", "CONFIG", "GET", "tracking-table-max-keys"),
		ts("w", "CONFIG", "SET", "tracking-table-max-keys", "-1"),
		ts("w", "CONFIG", "SET", "tracking-table-max-keys", "x"),
		ts("w", "CONFIG", "SET", "tracking-table-max-keys", "10"),
		ts("w", "CONFIG", "GET", "tracking-table-max-keys"),
		// RESET turns tracking off.
		ts("r", "CLIENT", "TRACKING", "ON", "BCAST"),
		ts("r", "RESET"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("w", "SET", "after-reset", "1"),
		ts("w", "#info"),
	}
	compareTracking(t, []string{"r", "w"}, steps)
}

// TestTrackingSideBySideRedirect: RESP2 with REDIRECT to a connection
// subscribed to __redis__:invalidate, a RESP3 redirect target, and a
// redirect target that goes away.
func TestTrackingSideBySideRedirect(t *testing.T) {
	steps := []trackStep{
		ts("sub", "#subscribe"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "@sub"),
		ts("r", "CLIENT", "GETREDIR"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "#flags"),
		ts("r", "GET", "a"),
		ts("r", "MGET", "b", "c"),
		ts("w", "MSET", "a", "1", "b", "2"),
		ts("r", "GET", "a"),
		ts("r", "SET", "a", "2"),
		ts("w", "FLUSHALL"),
		// BCAST through the redirect.
		ts("r", "CLIENT", "TRACKING", "OFF"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "@sub", "BCAST", "PREFIX", "x"),
		ts("w", "MSET", "x1", "1", "x2", "2", "y", "3"),
		// A RESP2 target that is not subscribed receives nothing.
		ts("r", "CLIENT", "TRACKING", "OFF"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "@w"),
		ts("r", "GET", "q"),
		ts("w", "SET", "q", "1"),
		// A RESP3 target gets invalidate pushes.
		ts("r3", "HELLO", "3", "SETNAME", "r3"),
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "@r3"),
		ts("r", "GET", "q"),
		ts("w", "SET", "q", "2"),
		// The target goes away: the redirect is broken.
		ts("r", "CLIENT", "TRACKING", "ON", "REDIRECT", "@sub"),
		ts("r", "GET", "q"),
		ts("sub", "#close"),
		ts("w", "SET", "q", "3"),
		ts("r", "CLIENT", "TRACKINGINFO"),
		ts("r", "#flags"),
		// In RESP3 the tracking client itself is told.
		ts("r3", "CLIENT", "TRACKING", "ON", "REDIRECT", "@w"),
		ts("r3", "GET", "q"),
		ts("w", "#close"),
		ts("r", "SET", "q", "4"),
		ts("r3", "CLIENT", "TRACKINGINFO"),
		ts("r3", "#flags"),
		ts("r", "#info"),
	}
	compareTracking(t, []string{"sub", "r", "w", "r3"}, steps)
}

// TestTrackingSideBySideMaxKeys: over tracking-table-max-keys, the next
// command evicts keys from the table and invalidates them (which key is
// random in both servers: only how many is compared).
func TestTrackingSideBySideMaxKeys(t *testing.T) {
	rs := redistest.Start(t, "")
	_, addr := startServer(t)
	for _, a := range []string{rs.Addr, addr} {
		s := newTrackSession(t, a, "r", "w")
		s.run([]trackStep{
			ts("w", "CONFIG", "SET", "tracking-table-max-keys", "3"),
			ts("r", "HELLO", "3"),
			ts("r", "CLIENT", "TRACKING", "ON"),
			ts("r", "MGET", "m1", "m2", "m3", "m4", "m5"),
		})
		// The previous step's sync ran a command: the table is at the limit.
		info := s.run([]trackStep{ts("w", "#info")})[0]
		if !strings.Contains(info, "tracking_total_keys:3 ") {
			t.Errorf("%s: after eviction: %s", a, info)
		}
		// Two keys were evicted, and the reader was told about them.
		got := s.run([]trackStep{ts("w", "MSET", "m1", "a", "m2", "b", "m3", "c", "m4", "d", "m5", "e")})[0]
		if n := strings.Count(got, "invalidate"); n != 3 {
			t.Errorf("%s: %d invalidations for the 3 keys left, want 3: %s", a, n, got)
		}
	}
}

// trackingRESP3Client returns a go-redis RESP3 client on one connection
// that collects the keys of invalidate pushes.
func trackingRESP3Client(t *testing.T, addr string) (*redis.Client, *invalidations) {
	t.Helper()
	c := newClient(t, addr, func(o *redis.Options) { o.Protocol = 3; o.PoolSize = 1; o.MinIdleConns = 0 })
	inv := &invalidations{}
	if err := c.RegisterPushNotificationHandler("invalidate", inv, false); err != nil {
		t.Fatal(err)
	}
	return c, inv
}

// invalidations collects invalidate pushes: the keys, "<null>" for a flush.
type invalidations struct {
	mu   sync.Mutex
	keys []string
}

func (inv *invalidations) HandlePushNotification(_ context.Context, _ push.NotificationHandlerContext, n []any) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if len(n) < 2 || n[1] == nil {
		inv.keys = append(inv.keys, "<null>")
		return nil
	}
	if ks, ok := n[1].([]any); ok {
		for _, k := range ks {
			inv.keys = append(inv.keys, fmt.Sprint(k))
		}
	}
	return nil
}

func (inv *invalidations) take() []string {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	k := inv.keys
	inv.keys = nil
	return k
}

// waitInvalidations pings c (which reads pending pushes) until want keys
// arrived, in order.
func waitInvalidations(t *testing.T, c *redis.Client, inv *invalidations, want ...string) {
	t.Helper()
	ctx := context.Background()
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		got = append(got, inv.take()...)
		if len(got) < len(want) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	// A few more round trips: nothing unexpected follows.
	for range 3 {
		c.Ping(ctx)
		got = append(got, inv.take()...)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("invalidations %q, want %q", got, want)
	}
}

// TestTrackingGoRedisRESP3 drives client-side caching through go-redis in
// RESP3, against warden and (the same expectations) a real redis-server.
func TestTrackingGoRedisRESP3(t *testing.T) {
	rs := redistest.Start(t, "")
	_, addr := startServer(t)
	for name, a := range map[string]string{"redis": rs.Addr, "warden": addr} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c, inv := trackingRESP3Client(t, a)
			w := newClient(t, a)
			if err := c.Do(ctx, "CLIENT", "TRACKING", "ON").Err(); err != nil {
				t.Fatal(err)
			}
			c.Get(ctx, "k1")
			c.HGetAll(ctx, "h1")
			w.Set(ctx, "k1", "v", 0)
			w.HSet(ctx, "h1", "f", "v")
			waitInvalidations(t, c, inv, "k1", "h1")
			// Expiry.
			w.Set(ctx, "e", "v", 100*time.Millisecond)
			c.Get(ctx, "e")
			waitInvalidations(t, c, inv, "e")
			// Flush.
			c.Get(ctx, "k1")
			w.FlushAll(ctx)
			waitInvalidations(t, c, inv, "<null>")
			// NOLOOP: own writes are not reported, others' are.
			c.Do(ctx, "CLIENT", "TRACKING", "ON", "NOLOOP")
			c.Get(ctx, "n")
			c.Set(ctx, "n", "1", 0)
			c.Get(ctx, "n")
			w.Set(ctx, "n", "2", 0)
			waitInvalidations(t, c, inv, "n")
			c.Do(ctx, "CLIENT", "TRACKING", "OFF")
			// BCAST with a prefix.
			if err := c.Do(ctx, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:").Err(); err != nil {
				t.Fatal(err)
			}
			w.MSet(ctx, "p:1", "a", "q:1", "b", "p:2", "c")
			waitInvalidations(t, c, inv, "p:1", "p:2")
			st := w.Info(ctx, "everything").Val()
			if !strings.Contains(st, "tracking_clients:1") || !strings.Contains(st, "tracking_total_prefixes:1") {
				t.Fatalf("INFO: %s", st)
			}
		})
	}
}

// TestTrackingGoRedisRedirectRESP2: a RESP2 client redirects to a go-redis
// subscriber of __redis__:invalidate.
func TestTrackingGoRedisRedirectRESP2(t *testing.T) {
	rs := redistest.Start(t, "")
	_, addr := startServer(t)
	for name, a := range map[string]string{"redis": rs.Addr, "warden": addr} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			subc := newClient(t, a)
			ps := subc.Subscribe(ctx, "__redis__:invalidate")
			t.Cleanup(func() { ps.Close() })
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			// The subscriber's id: the one connection of the PubSub.
			var subID int64
			for _, cl := range strings.Split(subc.ClientList(ctx).Val(), "\n") {
				if strings.Contains(cl, "sub=1") {
					f := strings.Fields(cl)[0]
					subID, _ = strconv.ParseInt(strings.TrimPrefix(f, "id="), 10, 64)
				}
			}
			if subID == 0 {
				t.Fatal("subscriber not found in CLIENT LIST")
			}
			c := newClient(t, a, func(o *redis.Options) { o.PoolSize = 1 })
			if err := c.Do(ctx, "CLIENT", "TRACKING", "ON", "REDIRECT", subID).Err(); err != nil {
				t.Fatal(err)
			}
			if got := c.Do(ctx, "CLIENT", "GETREDIR").Val(); got != subID {
				t.Fatalf("GETREDIR %v, want %d", got, subID)
			}
			c.Get(ctx, "a")
			c.MGet(ctx, "b", "c")
			w := newClient(t, a)
			w.MSet(ctx, "a", "1", "c", "2")
			ch := ps.Channel()
			var got []string
			timeout := time.After(20 * time.Second)
			for len(got) < 2 {
				select {
				case m := <-ch:
					if m.Channel != "__redis__:invalidate" {
						t.Fatalf("message on %q", m.Channel)
					}
					got = append(got, m.PayloadSlice...)
				case <-timeout:
					t.Fatalf("invalidations %q, want a and c", got)
				}
			}
			if strings.Join(got, ",") != "a,c" {
				t.Fatalf("invalidations %q, want a,c", got)
			}
		})
	}
}

// TestTrackingSideBySideWrites: every family's writes invalidate (and the
// writes that change nothing do not), compared with redis-server.
func TestTrackingSideBySideWrites(t *testing.T) {
	setup := [][]string{
		{"SET", "s", "hello"}, {"SET", "n", "10"}, {"RPUSH", "l", "a", "b", "c"},
		{"HSET", "h", "f", "v", "g", "1"}, {"SADD", "st", "a", "b"}, {"SADD", "one", "m"}, {"ZADD", "z", "1", "a", "2", "b"},
		{"XADD", "x", "1-1", "f", "v"}, {"PFADD", "hll", "a"}, {"SET", "bits", "a"},
		{"GEOADD", "geo", "13.36", "38.11", "p"},
	}
	writes := [][]string{
		{"SETRANGE", "s", "1", "E"}, {"APPEND", "s", "!"}, {"GETSET", "s", "x"}, {"GETDEL", "s"},
		{"SET", "s", "y", "NX"}, {"SET", "s", "z", "XX"}, {"GETEX", "s", "EX", "100"}, {"PERSIST", "s"},
		{"INCRBY", "n", "2"}, {"INCRBYFLOAT", "n", "1.5"}, {"DECR", "nonum"},
		{"LPUSH", "l", "z"}, {"LPOP", "l"}, {"LSET", "l", "0", "q"}, {"LREM", "l", "0", "nothere"}, {"LTRIM", "l", "0", "0"},
		{"LMOVE", "l", "l2", "LEFT", "RIGHT"}, {"RPOPLPUSH", "l2", "l"}, {"LINSERT", "l", "BEFORE", "q", "p"},
		{"HSET", "h", "f", "v"}, {"HSETNX", "h", "f", "w"}, {"HINCRBY", "h", "g", "1"}, {"HDEL", "h", "nope"}, {"HDEL", "h", "f"},
		{"SADD", "st", "a"}, {"SADD", "st", "c"}, {"SREM", "st", "a"}, {"SPOP", "one"}, {"SMOVE", "st", "st2", "b"},
		{"SINTERSTORE", "st3", "st", "st2"}, {"SUNIONSTORE", "st3", "st", "st2"},
		{"ZADD", "z", "1", "a"}, {"ZADD", "z", "5", "a"}, {"ZINCRBY", "z", "1", "b"}, {"ZREM", "z", "nope"}, {"ZPOPMIN", "z"},
		{"ZREMRANGEBYSCORE", "z", "-inf", "+inf"}, {"ZUNIONSTORE", "z2", "1", "z"},
		{"XADD", "x", "2-1", "f", "v"}, {"XTRIM", "x", "MAXLEN", "0"}, {"XDEL", "x", "1-1"}, {"XGROUP", "CREATE", "x", "g", "0"}, {"XGROUP", "SETID", "x", "g", "1-1"}, {"XGROUP", "CREATE", "xm", "g", "$", "MKSTREAM"},
		{"PFADD", "hll", "a"}, {"PFADD", "hll", "b"}, {"PFMERGE", "hll2", "hll"},
		{"SETBIT", "bits", "0", "1"}, {"SETBIT", "bits", "0", "1"}, {"SETBIT", "bits", "1", "1"}, {"SETBIT", "bits", "100", "0"}, {"BITOP", "NOT", "bits2", "bits"},
		{"GEOADD", "geo", "13.36", "38.11", "p"}, {"GEOADD", "geo", "15.08", "37.50", "q"},
		{"COPY", "geo", "geo2"}, {"RENAME", "geo2", "geo3"}, {"RENAMENX", "geo3", "geo"}, {"MOVE", "geo3", "1"},
		{"EXPIRE", "h", "100"}, {"EXPIRE", "nope", "100"}, {"PEXPIRE", "h", "0"}, {"UNLINK", "st", "nope"},
		{"SORT", "l", "ALPHA", "STORE", "l3"}, {"RESTORE", "s", "0", "\x00\x01a\n\x00\xbe\xe6,\xee\x93\x1f\x97\x13", "REPLACE"},
		{"SWAPDB", "0", "1"},
	}
	keys := []string{"s", "n", "nonum", "l", "l2", "l3", "h", "st", "st2", "st3", "one", "z", "z2", "x", "xm", "hll", "hll2", "bits", "bits2", "geo", "geo2", "geo3", "nope"}
	var steps []trackStep
	steps = append(steps, ts("r", "HELLO", "3"), ts("r", "CLIENT", "TRACKING", "ON"))
	for _, s := range setup {
		steps = append(steps, ts("w", s...))
	}
	for _, w := range writes {
		steps = append(steps, ts("r", append([]string{"EXISTS"}, keys...)...), ts("w", w...))
	}
	compareTracking(t, []string{"r", "w"}, steps)
}

// cacheReader is a RESP3 connection keeping a client-side cache the way a
// caching client library does: values from GET replies, dropped on
// invalidate pushes, read in the order the server sent them.
type cacheReader struct {
	rc    *respClient
	cache map[string]string
	optin bool
}

func (cr *cacheReader) frame(t *testing.T) respVal {
	for {
		v, err := readResp(cr.rc.r)
		if err != nil {
			t.Error(err)
			return respVal{Kind: '-', Str: err.Error()}
		}
		if v.Kind != '>' {
			return v
		}
		if len(v.Elems) == 2 && v.Elems[0].Str == "invalidate" {
			if v.Elems[1].Null {
				clear(cr.cache)
			}
			for _, k := range v.Elems[1].Elems {
				delete(cr.cache, k.Str)
			}
		}
	}
}

func (cr *cacheReader) do(t *testing.T, args ...string) respVal {
	cr.rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := cr.rc.c.Write(respCommand(args...)); err != nil {
		t.Error(err)
		return respVal{}
	}
	return cr.frame(t)
}

func (cr *cacheReader) get(t *testing.T, key string) {
	if _, ok := cr.cache[key]; ok {
		return
	}
	if cr.optin {
		cr.do(t, "CLIENT", "CACHING", "YES")
	}
	v := cr.do(t, "GET", key)
	if !v.Null && v.Kind == '$' {
		cr.cache[key] = v.Str
	}
}

// TestTrackingCacheCoherence: readers cache what they read while writers
// change the keys with plain commands, MULTI/EXEC and scripts; once the
// writers are done, no cache may hold a value the server no longer has (an
// invalidation lost, or overtaking the reply it invalidates).
func TestTrackingCacheCoherence(t *testing.T) {
	_, addr := startServer(t)
	keys := []string{"c:0", "c:1", "c:2", "c:3", "c:4", "c:5"}
	modes := [][]string{{}, {}, {"BCAST", "PREFIX", "c:"}, {"OPTIN"}, {"NOLOOP"}}
	var readers []*cacheReader
	for _, m := range modes {
		cr := &cacheReader{rc: dialResp(t, addr), cache: map[string]string{}, optin: len(m) == 1 && m[0] == "OPTIN"}
		cr.do(t, "HELLO", "3")
		if v := cr.do(t, append([]string{"CLIENT", "TRACKING", "ON"}, m...)...); v.Kind != '+' {
			t.Fatalf("%v: %v", m, v)
		}
		readers = append(readers, cr)
	}
	const rounds = 400
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rc := dialResp(t, addr)
			for i := 0; i < rounds; i++ {
				k, v := keys[(i*7+w)%len(keys)], strconv.Itoa(w*100000+i)
				var err error
				switch w {
				case 0:
					_, err = rc.do(30*time.Second, "SET", k, v)
				case 1:
					rc.do(30*time.Second, "MULTI")
					rc.do(30*time.Second, "SET", k, v)
					rc.do(30*time.Second, "APPEND", keys[(i+1)%len(keys)], "x")
					_, err = rc.do(30*time.Second, "EXEC")
				case 2:
					_, err = rc.do(30*time.Second, "EVAL", "redis.call('set', KEYS[1], ARGV[1]) return 1", "1", k, v)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	for i, cr := range readers {
		wg.Add(1)
		go func(i int, cr *cacheReader) {
			defer wg.Done()
			for n := 0; n < rounds*2; n++ {
				k := keys[(n*5+i)%len(keys)]
				cr.get(t, k)
				if i == 4 && n%10 == 0 { // NOLOOP: its own writes must drop its own cache
					cr.do(t, "SET", k, "self"+strconv.Itoa(n))
					delete(cr.cache, k)
				}
			}
		}(i, cr)
	}
	wg.Wait()
	check := dialResp(t, addr)
	for i, cr := range readers {
		cr.do(t, "PING") // every invalidation of the writes is queued before its answer
		for k, v := range cr.cache {
			if got := check.mustDo(t, "GET", k); got.Str != v {
				t.Errorf("reader %d (%v): cached %s=%q, server has %q", i, modes[i], k, v, got.Str)
			}
		}
	}
}

// TestTrackingOnReplica: clients tracking on a warden replica are
// invalidated by the master's writes (default and BCAST), expiries included.
func TestTrackingOnReplica(t *testing.T) {
	_, maddr := startServer(t, "save", "")
	_, mport, _ := strings.Cut(maddr, ":")
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	ctx := context.Background()
	master, replica := newClient(t, maddr), newClient(t, raddr)
	waitLinkUp(t, replica)
	c, inv := trackingRESP3Client(t, raddr)
	if err := c.Do(ctx, "CLIENT", "TRACKING", "ON").Err(); err != nil {
		t.Fatal(err)
	}
	master.Set(ctx, "a", "1", 0)
	master.Set(ctx, "e", "1", 200*time.Millisecond)
	waitFor(t, func() bool { return replica.Exists(ctx, "a", "e").Val() == 2 }, "the keys on the replica")
	c.Get(ctx, "a")
	c.Get(ctx, "e")
	master.Set(ctx, "a", "2", 0)
	waitInvalidations(t, c, inv, "a")
	waitFor(t, func() bool { return master.Exists(ctx, "e").Val() == 0 }, "expiry on the master")
	waitInvalidations(t, c, inv, "e") // the master's DEL
	b, binv := trackingRESP3Client(t, raddr)
	if err := b.Do(ctx, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:").Err(); err != nil {
		t.Fatal(err)
	}
	master.MSet(ctx, "p:1", "x", "q:1", "y")
	waitInvalidations(t, b, binv, "p:1")
}
