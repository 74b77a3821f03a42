package node

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A panic inside a command is answered with -ERR, releases the command's
// locks and leaves the server serving.
func TestPanicRecovery(t *testing.T) {
	s, addr := startServer(t)
	s.cmds["testpanic"] = &Command{Name: "testpanic", Arity: 2, Flags: fWrite, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(c *Ctx) { panic("boom") }}
	c := newClient(t, addr)
	ctx := context.Background()
	err := c.Do(ctx, "testpanic", "k").Err()
	if err == nil || !strings.HasPrefix(err.Error(), "ERR internal error") {
		t.Fatalf("panicking command replied %v", err)
	}
	// The key's partition must have been unlocked.
	done := make(chan error, 1)
	go func() { done <- c.Set(ctx, "k", "v", 0).Err() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SET on the panicked command's key hung: lock not released")
	}
}

func TestDispatchErrors(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"nosuch", "a", "b"}, wantErr: "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' "},
		{args: []any{"get"}, wantErr: "ERR wrong number of arguments for 'get' command"},
		{args: []any{"GeT", "x"}, want: nil}, // names are case-insensitive
		{args: []any{"ping", "a", "b"}, wantErr: "ERR wrong number of arguments for 'ping' command"},
	})
}

func TestAuthAndHello(t *testing.T) {
	_, addr := startServer(t, "requirepass", "pw")
	ctx := context.Background()
	c := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
	run(t, c, []step{
		{args: []any{"get", "x"}, wantErr: "NOAUTH Authentication required."},
		{args: []any{"auth", "wrong"}, wantErr: "WRONGPASS invalid username-password pair or user is disabled."},
		{args: []any{"auth", "nobody", "pw"}, wantErr: "WRONGPASS"},
		{args: []any{"auth", "pw"}, want: "OK"},
		{args: []any{"get", "x"}, want: nil},
		{args: []any{"auth", "default", "pw"}, want: "OK"},
		{args: []any{"hello", "4"}, wantErr: "NOPROTO unsupported protocol version"},
		{args: []any{"select", "16"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"select", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"echo", "hi"}, want: "hi"},
		{args: []any{"ping", "hi"}, want: "hi"},
	})
	// go-redis authenticates with HELLO 3 AUTH and speaks RESP3.
	c3 := newClient(t, addr, func(o *redis.Options) { o.Protocol = 3; o.Password = "pw" })
	m, err := c3.Do(ctx, "hello", "3").Result()
	if err != nil {
		t.Fatal(err)
	}
	hm, ok := m.(map[any]any)
	if !ok || hm["server"] != "redis" || hm["proto"] != int64(3) || hm["role"] != "master" {
		t.Fatalf("HELLO 3 = %#v", m)
	}
	// No password configured: AUTH says so.
	c2, _ := setup(t)
	run(t, c2, []step{{args: []any{"auth", "x"}, wantErr: "ERR AUTH <password> called without any password configured"}})
}

func TestSelectIsolatesDatabases(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	c0 := newClient(t, addr)
	c1 := newClient(t, addr, func(o *redis.Options) { o.DB = 1 })
	c0.Set(ctx, "k", "zero", 0)
	c1.Set(ctx, "k", "one", 0)
	if v := c0.Get(ctx, "k").Val(); v != "zero" {
		t.Fatalf("db0 k = %q", v)
	}
	if v := c1.Get(ctx, "k").Val(); v != "one" {
		t.Fatalf("db1 k = %q", v)
	}
}

func TestQuitAndReset(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	conn := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
	run(t, conn, []step{
		{args: []any{"select", "3"}, want: "OK"},
		{args: []any{"set", "k", "in-db3"}, want: "OK"},
		{args: []any{"multi"}, want: "OK"},
		{args: []any{"reset"}, want: "RESET"},
		{args: []any{"get", "k"}, want: nil}, // back in db 0, MULTI dropped
		{args: []any{"exec"}, wantErr: "ERR EXEC without MULTI"},
	})
	if err := conn.Do(ctx, "quit").Err(); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
}

// A blocked client that hangs up stops counting as blocked at once (its
// goroutine and queue entries are released), without waiting for a push.
func TestBlockedClientHangup(t *testing.T) {
	s, addr := startServer(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$4\r\nwait\r\n$1\r\n0\r\n"))
	waitFor(t, func() bool { return s.stats.blockedClients.Load() == 1 }, "client to block")
	conn.Close()
	waitFor(t, func() bool { return s.stats.blockedClients.Load() == 0 }, "hung-up client to be released")
	c := newClient(t, addr)
	ctx := context.Background()
	c.RPush(ctx, "wait", "kept")
	if n := c.LLen(ctx, "wait").Val(); n != 1 {
		t.Fatalf("element handed to a hung-up client: llen = %d", n)
	}
}

// waitFor polls cond until it holds or 30 s pass (generous: a full sync
// under -race on a busy 2-core machine took over 10 s).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
