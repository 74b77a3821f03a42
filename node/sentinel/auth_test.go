package sentinel

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// withPassword is an Auth whose password the test can change, as CONFIG
// SET changes requirepass.
func withPassword(p string, guarded bool) (Auth, *atomic.Pointer[string]) {
	var cur atomic.Pointer[string]
	cur.Store(&p)
	return Auth{Password: func() string { return *cur.Load() }, Guarded: guarded}, &cur
}

func (v *fakeView) failoverList() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.failovers...)
}

// startAuthServer is startServer with an access policy.
func startAuthServer(t *testing.T, v View, a Auth) *Server {
	t.Helper()
	s, _ := startServer(t, v)
	s.SetAuth(a) // before any client connects
	return s
}

// With requirepass, the listener answers exactly as a real Redis 7.0
// Sentinel with the same requirepass: NOAUTH to everything but AUTH and
// HELLO (after the unknown-command and arity errors), Redis's AUTH and
// HELLO AUTH errors, and everything once authenticated.
func TestAuthMatchesRealSentinel(t *testing.T) {
	a := redistest.Start(t, "")
	aAddr := addrOf(t, a)
	real := startRealSentinel(t, aAddr, "requirepass sp")
	v := &fakeView{id: "n1", ckquorum: "OK 1 usable Sentinels. Quorum and failover authorization can be reached"}
	v.masters = []Master{{Name: "mymaster", ID: "a", Addr: aAddr, RunID: "run-a", Quorum: 2, DownAfterMs: 5000}}
	auth, _ := withPassword("sp", false)
	s := startAuthServer(t, v, auth)

	before := [][]string{
		{"PING"}, {"SENTINEL", "masters"}, {"SENTINEL", "get-master-addr-by-name", "mymaster"},
		{"SENTINEL", "replicas", "mymaster"}, {"SENTINEL", "failover", "mymaster"}, {"SENTINEL", "reset", "*"},
		{"SENTINEL", "set", "mymaster", "quorum", "1"}, {"SENTINEL", "remove", "mymaster"},
		{"SENTINEL", "monitor", "x", "127.0.0.1", "1", "1"}, {"SENTINEL", "myid"},
		{"foo"}, {"SENTINEL"}, {"SENTINEL", "foo"}, {"SENTINEL", "get-master-addr-by-name"},
		{"AUTH"}, {"AUTH", "x"}, {"AUTH", "default", "x"}, {"AUTH", "foo", "sp"}, {"AUTH", "a", "b", "c"},
		{"HELLO", "2", "AUTH", "default", "x"}, {"HELLO", "2"}, {"HELLO", "3"}, {"HELLO"}, {"HELLO", "x"}, {"HELLO", "4"},
		{"SUBSCRIBE", "x"}, {"INFO"}, {"ROLE"}, {"CLIENT", "ID"}, {"COMMAND", "COUNT"},
	}
	realConn, ourConn := dialRaw(t, real), dialRaw(t, s.Addr().String())
	for _, args := range before {
		want, got := realConn.do(args...), ourConn.do(args...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("before AUTH %q: listener %#v, real Sentinel %#v", args, got, want)
		}
	}
	if len(v.failoverList()) != 0 {
		t.Fatalf("SENTINEL FAILOVER before AUTH ran: %q", v.failoverList())
	}
	for _, args := range [][]string{{"AUTH", "sp"}, {"PING"}, {"SENTINEL", "get-master-addr-by-name", "mymaster"}, {"AUTH", "default", "sp"}, {"AUTH", "x"}, {"PING"}} {
		want, got := realConn.do(args...), ourConn.do(args...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: listener %#v, real Sentinel %#v", args, got, want)
		}
	}
	// HELLO AUTH on a fresh connection: the same map but the client id.
	realConn, ourConn = dialRaw(t, real), dialRaw(t, s.Addr().String())
	want, _ := realConn.do("HELLO", "2", "AUTH", "default", "sp").([]any)
	got, _ := ourConn.do("HELLO", "2", "AUTH", "default", "sp").([]any)
	if len(want) != 12 || len(got) != 12 {
		t.Fatalf("HELLO 2 AUTH: listener %#v, real %#v", got, want)
	}
	want[7], got[7] = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HELLO 2 AUTH: listener %#v, real %#v", got, want)
	}
	if w, g := realConn.do("PING"), ourConn.do("PING"); g != w || g != status("PONG") {
		t.Errorf("PING after HELLO AUTH: listener %#v, real %#v", g, w)
	}
}

// State-changing SENTINEL subcommands: refused before AUTH when a password
// is set, refused outright in a guarded listener without a password, run
// after AUTH.
func TestAuthGuardsStateChanges(t *testing.T) {
	mutators := [][]string{{"SENTINEL", "FAILOVER", "mymaster"}, {"SENTINEL", "RESET", "*"},
		{"SENTINEL", "SET", "mymaster", "quorum", "1"}, {"SENTINEL", "REMOVE", "mymaster"},
		{"SENTINEL", "MONITOR", "x", "127.0.0.1", "6379", "2"}}
	readers := [][]string{{"SENTINEL", "get-master-addr-by-name", "mymaster"}, {"SENTINEL", "masters"}, {"SENTINEL", "replicas", "mymaster"}}

	t.Run("guarded without password", func(t *testing.T) {
		v := sampleView()
		auth, _ := withPassword("", true)
		s := startAuthServer(t, v, auth)
		c := dialRaw(t, s.Addr().String())
		for _, args := range mutators {
			got, ok := c.do(args...).(respErr)
			if !ok || !strings.HasPrefix(string(got), "NOPERM SENTINEL "+strings.ToUpper(args[1])+" is refused") || !strings.Contains(string(got), "sentinel-requirepass") {
				t.Errorf("%q = %#v, want NOPERM naming sentinel-requirepass", args, got)
			}
		}
		// AUTH default <anything> succeeds (no password) but does not
		// lift the guard: there is nothing to authenticate against.
		if got := c.do("AUTH", "default", "x"); got != status("OK") {
			t.Fatalf("AUTH default x = %#v", got)
		}
		if got, ok := c.do("SENTINEL", "FAILOVER", "mymaster").(respErr); !ok || !strings.HasPrefix(string(got), "NOPERM") {
			t.Errorf("SENTINEL FAILOVER after AUTH default = %#v", got)
		}
		for _, args := range readers {
			if got := c.do(args...); reflect.TypeOf(got) != reflect.TypeOf([]any{}) {
				t.Errorf("%q = %#v, want an array", args, got)
			}
		}
		if len(v.failoverList()) != 0 {
			t.Fatalf("a refused SENTINEL FAILOVER ran: %q", v.failoverList())
		}
	})

	t.Run("password", func(t *testing.T) {
		v := sampleView()
		auth, _ := withPassword("sp", true)
		s := startAuthServer(t, v, auth)
		c := dialRaw(t, s.Addr().String())
		for _, args := range append(append([][]string{}, mutators...), readers...) {
			if got := c.do(args...); got != respErr(errNoAuth) {
				t.Errorf("%q before AUTH = %#v, want NOAUTH", args, got)
			}
		}
		if got := c.do("AUTH", "wrong"); got != respErr(errWrongPass) {
			t.Fatalf("AUTH wrong = %#v", got)
		}
		if got := c.do("SENTINEL", "FAILOVER", "mymaster"); got != respErr(errNoAuth) {
			t.Fatalf("SENTINEL FAILOVER after a wrong AUTH = %#v", got)
		}
		if len(v.failoverList()) != 0 {
			t.Fatalf("SENTINEL FAILOVER before AUTH ran: %q", v.failoverList())
		}
		if got := c.do("AUTH", "sp"); got != status("OK") {
			t.Fatalf("AUTH sp = %#v", got)
		}
		if got := c.do("SENTINEL", "FAILOVER", "mymaster"); got != status("OK") {
			t.Fatalf("SENTINEL FAILOVER after AUTH = %#v", got)
		}
		if !reflect.DeepEqual(v.failoverList(), []string{"mymaster"}) {
			t.Fatalf("failovers = %q, want [mymaster]", v.failoverList())
		}
		// RESET logs the client out, as Redis's.
		if got := c.do("RESET"); got != status("RESET") {
			t.Fatalf("RESET = %#v", got)
		}
		if got := c.do("PING"); got != respErr(errNoAuth) {
			t.Fatalf("PING after RESET = %#v, want NOAUTH", got)
		}
	})

	t.Run("password set at run time", func(t *testing.T) {
		auth, cur := withPassword("", false)
		s := startAuthServer(t, sampleView(), auth)
		old := dialRaw(t, s.Addr().String())
		if got := old.do("PING"); got != status("PONG") {
			t.Fatalf("PING = %#v", got)
		}
		p := "new"
		cur.Store(&p)
		// As Redis: a connection made without a password stays
		// authenticated; new ones need AUTH.
		if got := old.do("PING"); got != status("PONG") {
			t.Errorf("PING on the old connection = %#v", got)
		}
		fresh := dialRaw(t, s.Addr().String())
		if got := fresh.do("PING"); got != respErr(errNoAuth) {
			t.Errorf("PING on a new connection = %#v, want NOAUTH", got)
		}
		if got := fresh.do("AUTH", "default", "new"); got != status("OK") {
			t.Errorf("AUTH default new = %#v", got)
		}
	})
}

// go-redis's FailoverClient finds the master through a listener with a
// password when given SentinelPassword, and fails with NOAUTH without it;
// redis-cli -a authenticates too.
func TestAuthGoRedisAndRedisCLI(t *testing.T) {
	m := redistest.Start(t, "")
	v := sampleView()
	v.masters = v.masters[:1]
	v.masters[0].Addr, v.masters[0].Replicas = addrOf(t, m), nil
	auth, _ := withPassword("sp", true)
	s := startAuthServer(t, v, auth)
	ctx := context.Background()

	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{s.Addr().String()},
		SentinelPassword: "sp", MaxRetries: -1, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { fc.Close() })
	if err := fc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("FailoverClient with SentinelPassword: %v", err)
	}
	if got, err := m.Client(t, 0).Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("the write did not reach the master the listener named: %q %v", got, err)
	}

	bad := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{s.Addr().String()},
		MaxRetries: -1, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { bad.Close() })
	if err := bad.Set(ctx, "k", "w", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("FailoverClient without SentinelPassword: %v, want NOAUTH", err)
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr().String(), Password: "wrong", MaxRetries: -1})
	t.Cleanup(func() { sc.Close() })
	if err := sc.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("sentinel client with a wrong password: %v, want WRONGPASS", err)
	}

	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed: the redis-cli half is skipped")
	}
	host, port, _ := net.SplitHostPort(s.Addr().String())
	out, _ := exec.Command("redis-cli", "-h", host, "-p", port, "SENTINEL", "FAILOVER", "mymaster").CombinedOutput()
	if !strings.Contains(string(out), "NOAUTH Authentication required.") {
		t.Errorf("redis-cli SENTINEL FAILOVER without -a: %q", out)
	}
	out, err := exec.Command("redis-cli", "-h", host, "-p", port, "--no-auth-warning", "-a", "sp", "SENTINEL", "FAILOVER", "mymaster").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Errorf("redis-cli -a sp SENTINEL FAILOVER: %q %v", out, err)
	}
	if !reflect.DeepEqual(v.failoverList(), []string{"mymaster"}) {
		t.Errorf("failovers = %q, want exactly the authenticated one", v.failoverList())
	}
}

// Before AUTH the listener holds a client to Redis's unauthenticated
// limits (10 arguments, 16 KB per argument), so nobody can make it buffer
// much without the password; after AUTH the same input is read.
func TestUnauthenticatedInputLimits(t *testing.T) {
	auth, _ := withPassword("pw", false)
	s := startAuthServer(t, sampleView(), auth)
	send := func(t *testing.T, input string) (string, bool) {
		t.Helper()
		nc, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := nc.Write([]byte(input)); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(nc)
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("no reply to %.40q: %v", input, err)
		}
		_, err = rd.ReadByte() // closed after a protocol error
		return strings.TrimSpace(line), err != nil
	}
	many := "*11\r\n" + strings.Repeat("$1\r\nx\r\n", 11)
	if got, closed := send(t, many); got != "-ERR Protocol error: unauthenticated multibulk length" || !closed {
		t.Errorf("11 arguments before AUTH = %q (closed %v)", got, closed)
	}
	big := "*2\r\n$4\r\nPING\r\n$20000\r\n"
	if got, closed := send(t, big); got != "-ERR Protocol error: unauthenticated bulk length" || !closed {
		t.Errorf("a 20000-byte argument before AUTH = %q (closed %v)", got, closed)
	}
	// Authenticated, the same 20 KB argument is read and answered.
	arg := strings.Repeat("x", 20000)
	authed := "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n" + arg + "\r\n"
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	nc.Write([]byte(authed))
	rd := bufio.NewReader(nc)
	if line, _ := rd.ReadString('\n'); strings.TrimSpace(line) != "+OK" {
		t.Fatalf("AUTH pw = %q", line)
	}
	if line, _ := rd.ReadString('\n'); strings.HasPrefix(line, "-ERR Protocol error") {
		t.Fatalf("a 20000-byte argument after AUTH = %q", line)
	}
}
