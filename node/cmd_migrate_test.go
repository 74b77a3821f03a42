package node

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// TestMigrateSideBySide runs one MIGRATE script from a warden source and
// from a real redis-server source, each into a real redis-server target
// (one with requirepass, for the AUTH options), and compares every reply,
// the keys left on each source and what each target received.
func TestMigrateSideBySide(t *testing.T) {
	ctx := context.Background()
	_, waddr := startServer(t)
	wsrc := newClient(t, waddr)
	rsrc := redistest.Start(t, "").Client(t, 0)
	wdst, rdst := redistest.Start(t, ""), redistest.Start(t, "")
	wauth, rauth := redistest.Start(t, ""), redistest.Start(t, "")
	for _, a := range []*redistest.Server{wauth, rauth} {
		if err := a.Client(t, 0).ConfigSet(ctx, "requirepass", "pw").Err(); err != nil {
			t.Fatal(err)
		}
	}
	dead := closedPort(t)

	type side struct {
		src       *redis.Client
		dst, auth *redistest.Server
	}
	sides := []side{{wsrc, wdst, wauth}, {rsrc, rdst, rauth}}
	script := func(s side) []string {
		host, port, _ := net.SplitHostPort(s.dst.Addr)
		_, aport, _ := net.SplitHostPort(s.auth.Addr)
		var out []string
		step := func(args ...any) {
			v, err := s.src.Do(ctx, args...).Result()
			shown := args[min(3, len(args)):] // not the sides' own ports
			if err != nil {
				out = append(out, fmt.Sprintf("%v -> err %v", shown, err))
			} else {
				out = append(out, fmt.Sprintf("%v -> %v", shown, v))
			}
		}
		s.src.FlushAll(ctx)
		s.src.Set(ctx, "a", "1", 0)
		s.src.Set(ctx, "b", "2", 0)
		s.src.RPush(ctx, "l", "x", "y")
		s.src.Set(ctx, "ttl", "v", 0)
		s.src.PExpire(ctx, "ttl", 100*time.Hour)
		s.src.HSet(ctx, "h", "f", "v")
		s.src.Set(ctx, "busy", "src", 0)
		s.dst.Client(t, 0).Set(ctx, "busy", "dst", 0)
		s.dst.Client(t, 0).Set(ctx, "k2", "old", 0)
		s.src.Set(ctx, "k2", "new", 0)

		step("migrate", host, port, "a", 0, 5000)
		step("migrate", host, port, "nokey", 0, 5000)
		step("migrate", host, port, "l", 3, 5000, "copy")
		step("migrate", host, port, "ttl", 0, 5000)
		step("migrate", host, port, "busy", 0, 5000)
		step("migrate", host, port, "k2", 0, 5000, "replace")
		step("migrate", host, port, "", 0, 5000, "keys", "b", "h", "missing")
		step("migrate", host, port, "", 0, 5000, "keys")
		step("migrate", host, port, "x", 0, 5000, "keys", "b")
		step("migrate", host, port, "a", 0, 5000, "bogus")
		step("migrate", host, port, "a", 0, 5000, "auth")
		step("migrate", host, port, "a", 0, 5000, "auth2", "u")
		step("migrate", host, port, "a", "notadb", 5000)
		step("migrate", host, port, "a", 0, "x")
		step("migrate", host, port, "a")
		s.src.Set(ctx, "p", "1", 0)
		step("migrate", host, aport, "p", 0, 5000)
		step("migrate", host, aport, "p", 0, 5000, "auth", "wrong")
		step("migrate", host, aport, "p", 0, 5000, "auth", "pw")
		s.src.Set(ctx, "p2", "1", 0)
		step("migrate", host, aport, "p2", 0, 5000, "auth2", "default", "pw")
		s.src.Set(ctx, "d", "1", 0)
		step("migrate", host, dead, "d", 0, 1000)

		keys, _ := s.src.Keys(ctx, "*").Result()
		slices.Sort(keys)
		out = append(out, "source keys "+strings.Join(keys, ","))
		for _, db := range []int{0, 3} {
			out = append(out, fmt.Sprintf("target db %d: %s", db, redistest.Dump(t, s.dst.Addr, 4)))
		}
		dc := s.dst.Client(t, 0)
		ttl := dc.PTTL(ctx, "ttl").Val()
		out = append(out, fmt.Sprintf("target ttl kept: %v", ttl > 99*time.Hour && ttl <= 100*time.Hour))
		ac := newClient(t, s.auth.Addr, func(o *redis.Options) { o.Password = "pw" })
		akeys, _ := ac.Keys(ctx, "*").Result()
		slices.Sort(akeys)
		out = append(out, "auth target keys "+strings.Join(akeys, ","))
		return out
	}
	got, want := script(sides[0]), script(sides[1])
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("step %d:\nwarden %s\nredis  %s", i, g, w)
		}
	}
}

// TestMigratePropagatesDel checks MIGRATE reaches the AOF and replicas as a
// DEL of exactly the keys the target acknowledged, and COPY as nothing.
func TestMigratePropagatesDel(t *testing.T) {
	ctx := context.Background()
	s, addr := startServer(t)
	c := newClient(t, addr)
	dst := redistest.Start(t, "")
	dst.Client(t, 0).Set(ctx, "busy", "x", 0)
	host, port, _ := net.SplitHostPort(dst.Addr)
	for _, k := range []string{"a", "b", "busy", "c"} {
		c.Set(ctx, k, "v", 0)
	}
	feed := captureWrites(s, true)
	err := c.Do(ctx, "migrate", host, port, "", 0, 5000, "keys", "a", "busy", "b").Err()
	if err == nil || !strings.HasPrefix(err.Error(), "ERR Target instance replied with error: BUSYKEY") {
		t.Fatalf("MIGRATE with a busy key: %v", err)
	}
	if got := feed.take(); !slices.Equal(got, []string{"0:DEL a b"}) {
		t.Fatalf("MIGRATE propagated %q, want the acknowledged keys' DEL", got)
	}
	if err := c.Do(ctx, "migrate", host, port, "c", 0, 5000, "copy", "replace").Err(); err != nil {
		t.Fatal(err)
	}
	if got := feed.take(); len(got) != 0 {
		t.Fatalf("MIGRATE COPY propagated %q", got)
	}
	if n := c.Exists(ctx, "a", "b", "busy", "c").Val(); n != 2 {
		t.Fatalf("%d of busy, c left on the source, want 2", n)
	}
}

// TestMigrateIntoWarden has a real redis-server MIGRATE keys into warden (as
// redis-cli --cluster import and key moves between servers do), over one
// cached connection, into two databases.
func TestMigrateIntoWarden(t *testing.T) {
	ctx := context.Background()
	_, addr := startServer(t)
	w := newClient(t, addr)
	src := redistest.Start(t, "").Client(t, 0)
	host, port, _ := net.SplitHostPort(addr)
	for i := range 50 {
		src.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
		src.SAdd(ctx, fmt.Sprintf("s%d", i), "a", i)
	}
	for i := range 50 {
		if err := src.Do(ctx, "migrate", host, port, fmt.Sprintf("k%d", i), 0, 5000).Err(); err != nil {
			t.Fatalf("MIGRATE k%d into warden: %v", i, err)
		}
		if err := src.Do(ctx, "migrate", host, port, fmt.Sprintf("s%d", i), 1, 5000).Err(); err != nil {
			t.Fatalf("MIGRATE s%d into warden: %v", i, err)
		}
	}
	if n := src.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys left on the source", n)
	}
	if n := w.DBSize(ctx).Val(); n != 50 {
		t.Fatalf("warden db 0 has %d keys, want 50", n)
	}
	w1 := newClient(t, addr, func(o *redis.Options) { o.DB = 1 })
	if m := w1.SMembers(ctx, "s7").Val(); len(m) != 2 {
		t.Fatalf("s7 on warden: %v", m)
	}
	// The cached connection: one client from the source, not 100.
	var fromSource int
	for _, line := range strings.Split(w.ClientList(ctx).Val(), "\n") {
		if strings.Contains(line, "cmd=restore") {
			fromSource++
		}
	}
	if fromSource != 1 {
		t.Fatalf("%d source connections on warden, want the one cached connection", fromSource)
	}
}

// TestAskingRestoreAskingSideBySide: outside cluster mode ASKING is refused
// and RESTORE-ASKING is RESTORE, as in Redis; COMMAND INFO agrees for all
// three commands.
func TestAskingRestoreAskingSideBySide(t *testing.T) {
	p := newPair(t)
	p.both(t, "set", "s", "hello")
	payload := p.r.mustDo(t, "dump", "s").Str
	p.same(t, cmds(
		"asking",
		"asking x",
		"restore-asking k 0",
		"command info asking restore-asking migrate",
		"command getkeys migrate h 1 k 0 10",
	)...)
	p.same(t,
		[]string{"restore-asking", "k", "0", payload},
		[]string{"restore-asking", "k", "0", payload},
		[]string{"get", "k"},
		[]string{"command", "getkeys", "migrate", "h", "1", "", "0", "10", "keys", "a", "b", "c"},
		[]string{"command", "getkeys", "migrate", "h", "1", "", "0", "10", "auth", "pw", "keys", "a", "b"},
		[]string{"command", "getkeys", "migrate", "h", "1", "", "0", "10", "keys"},
	)
}
