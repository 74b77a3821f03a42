package sentinel

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// sentinelClient is go-redis's Sentinel client on default options: it opens
// with HELLO 3, which the listener refuses, and goes on in RESP2 as with a
// Redis that lacks RESP3.
func sentinelClient(t *testing.T, s *Server) *redis.SentinelClient {
	t.Helper()
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr().String(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGoRedisSentinelClient(t *testing.T) {
	v := sampleView()
	s, _ := startServer(t, v)
	c := sentinelClient(t, s)
	ctx := context.Background()

	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Errorf("Ping = %q, %v", got, err)
	}
	if got, err := c.GetMasterAddrByName(ctx, "mymaster").Result(); err != nil || !reflect.DeepEqual(got, []string{"127.0.0.1", "6379"}) {
		t.Errorf("GetMasterAddrByName(mymaster) = %q, %v", got, err)
	}
	if got, err := c.GetMasterAddrByName(ctx, "nope").Result(); !errors.Is(err, redis.Nil) {
		t.Errorf("GetMasterAddrByName(nope) = %q, %v; want redis.Nil", got, err)
	}
	m, err := c.Master(ctx, "mymaster").Result()
	if err != nil || m["ip"] != "127.0.0.1" || m["port"] != "6379" || m["flags"] != "master" || m["num-slaves"] != "2" {
		t.Errorf("Master = %v, %v", m, err)
	}
	if _, err := c.Master(ctx, "nope").Result(); err == nil || err.Error() != errNoSuchMaster {
		t.Errorf("Master(nope) error = %v", err)
	}
	if ms, err := c.Masters(ctx).Result(); err != nil || len(ms) != 3 {
		t.Errorf("Masters = %v, %v", ms, err)
	}

	// What go-redis's FailoverClient does with SENTINEL REPLICAS (its
	// parseReplicaAddrs): keep the ones not flagged s_down, o_down or
	// disconnected.
	rs, err := c.Replicas(ctx, "mymaster").Result()
	if err != nil || len(rs) != 2 {
		t.Fatalf("Replicas = %v, %v", rs, err)
	}
	var usable []string
	for _, r := range rs {
		down := false
		for _, f := range strings.Split(r["flags"], ",") {
			down = down || f == "s_down" || f == "o_down" || f == "disconnected"
		}
		if !down {
			usable = append(usable, net.JoinHostPort(r["ip"], r["port"]))
		}
	}
	if !reflect.DeepEqual(usable, []string{"127.0.0.1:6380"}) {
		t.Errorf("usable replicas = %q, want [127.0.0.1:6380]", usable)
	}

	// discoverSentinels reads ip and port.
	ss, err := c.Sentinels(ctx, "mymaster").Result()
	if err != nil || len(ss) != 2 || ss[0]["ip"] != "127.0.0.1" || ss[0]["port"] != "26380" {
		t.Errorf("Sentinels = %v, %v", ss, err)
	}
	if got, err := c.CkQuorum(ctx, "mymaster").Result(); err != nil || got != v.ckquorum {
		t.Errorf("CkQuorum = %q, %v", got, err)
	}
	if got, err := c.Failover(ctx, "mymaster").Result(); err != nil || got != "OK" {
		t.Errorf("Failover = %q, %v", got, err)
	}
	v.mu.Lock()
	v.failoverErr = errors.New("NOGOODSLAVE No suitable replica to promote")
	v.mu.Unlock()
	if _, err := c.Failover(ctx, "mymaster").Result(); err == nil || err.Error() != "NOGOODSLAVE No suitable replica to promote" {
		t.Errorf("Failover with no good replica: error %v", err)
	}
	if got, err := c.Reset(ctx, "*").Result(); err != nil || got != 0 {
		t.Errorf("Reset = %d, %v", got, err)
	}
	if got, err := c.FlushConfig(ctx).Result(); err != nil || got != "OK" {
		t.Errorf("FlushConfig = %q, %v", got, err)
	}
	if _, err := c.Monitor(ctx, "x", "127.0.0.1", "1", "1").Result(); err == nil {
		t.Error("Monitor succeeded; the control plane owns the topology")
	}

	// Raw commands, as tools without typed helpers send them: through the
	// Sentinel client and through a plain client's Do.
	do := func(args ...any) *redis.Cmd {
		cmd := redis.NewCmd(ctx, args...)
		c.Process(ctx, cmd)
		return cmd
	}
	plain := redis.NewClient(&redis.Options{Addr: s.Addr().String(), MaxRetries: -1})
	defer plain.Close()
	for _, tc := range []struct {
		args []any
		want any
	}{
		{[]any{"SENTINEL", "MYID"}, "n1"},
		{[]any{"SENTINEL", "get-master-addr-by-name", "mymaster-1"}, []any{"10.0.0.2", "7000"}},
		{[]any{"ROLE"}, []any{"sentinel", []any{"mymaster", "mymaster-1", "mymaster-2"}}},
		{[]any{"CLIENT", "SETNAME", "x"}, "OK"},
		{[]any{"COMMAND", "COUNT"}, int64(len(commands))},
	} {
		if got, err := do(tc.args...).Result(); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Process%v = %#v, %v; want %#v", tc.args, got, err, tc.want)
		}
		if got, err := plain.Do(ctx, tc.args...).Result(); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Do%v = %#v, %v; want %#v", tc.args, got, err, tc.want)
		}
	}
	if _, err := plain.Do(ctx, "SENTINEL", "SLAVES", "mymaster").Slice(); err != nil {
		t.Errorf("SENTINEL SLAVES: %v", err)
	}
	if got, err := do("INFO", "sentinel").Text(); err != nil || !strings.Contains(got, "master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=2,sentinels=3") {
		t.Errorf("INFO sentinel = %q, %v", got, err)
	}
	if _, err := plain.Do(ctx, "GET", "k").Result(); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command 'GET'") {
		t.Errorf("GET error = %v", err)
	}
}

// TestGoRedisPubSub: the channels go-redis's FailoverClient subscribes to,
// plus patterns, through go-redis's PubSub.
func TestGoRedisPubSub(t *testing.T) {
	s, _ := startServer(t, sampleView())
	c := sentinelClient(t, s)
	ctx := context.Background()

	ps := c.Subscribe(ctx, "+switch-master", "+replica-reconf-done")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // first confirmation
		t.Fatal(err)
	}
	pps := c.PSubscribe(ctx, "+switch-*")
	defer pps.Close()
	if _, err := pps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "both subscriptions", func() bool {
		return subscribers(s, "+replica-reconf-done") == 1 && patternSubscribers(s, "+switch-*") == 1
	})

	msg := "mymaster 127.0.0.1 6379 127.0.0.1 6380"
	if n := s.Publish("+switch-master", msg); n != 2 {
		t.Errorf("Publish(+switch-master) reached %d subscriptions, want 2 (channel + pattern)", n)
	}
	ch := ps.Channel()
	got := recvMsg(t, ch)
	if got.Channel != "+switch-master" || got.Payload != msg {
		t.Errorf("message = %+v", got)
	}
	pgot := recvMsg(t, pps.Channel())
	if pgot.Pattern != "+switch-*" || pgot.Channel != "+switch-master" || pgot.Payload != msg {
		t.Errorf("pattern message = %+v", pgot)
	}
	if n := s.Publish("+replica-reconf-done", "slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6380"); n != 1 {
		t.Errorf("Publish(+replica-reconf-done) reached %d, want 1", n)
	}
	if got := recvMsg(t, ch); got.Channel != "+replica-reconf-done" {
		t.Errorf("message = %+v", got)
	}
	// go-redis health-checks a PubSub with PING while subscribed.
	if err := ps.Ping(ctx); err != nil {
		t.Errorf("PubSub Ping: %v", err)
	}
	if err := ps.Unsubscribe(ctx, "+switch-master"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the unsubscription", func() bool { return subscribers(s, "+switch-master") == 0 })
	if n := s.Publish("+switch-master", msg); n != 1 {
		t.Errorf("after UNSUBSCRIBE Publish reached %d, want 1 (the pattern)", n)
	}
	ps.Close()
	pps.Close()
	waitFor(t, 30*time.Second, "disconnected subscribers to be dropped", func() bool { return s.Publish("+switch-master", msg) == 0 })
}

func recvMsg(t *testing.T, ch <-chan *redis.Message) *redis.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no message in 30s")
		return nil
	}
}

func subscribers(s *Server, channel string) int {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.channels[channel])
}

func patternSubscribers(s *Server, pattern string) int {
	s.ps.mu.RLock()
	defer s.ps.mu.RUnlock()
	return len(s.ps.patterns[pattern])
}

// TestSubscribedMode: RESP2 subscribed-mode rules, with a raw client.
func TestSubscribedMode(t *testing.T) {
	s, _ := startServer(t, sampleView())
	c := dialRaw(t, s.Addr().String())

	// A pipeline: the reply before SUBSCRIBE must come first.
	c.writeRaw(encode("PING") + encode("SUBSCRIBE", "a", "b") + encode("PSUBSCRIBE", "x*") + encode("PING") +
		encode("PING", "hi") + encode("ROLE") + encode("GET", "k"))
	for i, want := range []any{
		status("PONG"),
		[]any{"subscribe", "a", int64(1)},
		[]any{"subscribe", "b", int64(2)},
		[]any{"psubscribe", "x*", int64(3)},
		[]any{"pong", ""},
		[]any{"pong", "hi"},
		respErr("ERR Can't execute 'role': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"),
		respErr("ERR unknown command 'GET', with args beginning with: 'k' "),
	} {
		got, err := c.read()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("reply %d = %#v, %v; want %#v", i, got, err, want)
		}
	}
	if n := s.Publish("a", "hello"); n != 1 {
		t.Errorf("Publish(a) = %d", n)
	}
	if n := s.Publish("xyz", "p"); n != 1 {
		t.Errorf("Publish(xyz) = %d", n)
	}
	for _, want := range []any{[]any{"message", "a", "hello"}, []any{"pmessage", "x*", "xyz", "p"}} {
		if got, err := c.read(); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, %v; want %#v", got, err, want)
		}
	}
	c.writeRaw(encode("UNSUBSCRIBE") + encode("PUNSUBSCRIBE") + encode("PING") + encode("SENTINEL", "MYID"))
	for i, want := range []any{
		[]any{"unsubscribe", "a", int64(2)},
		[]any{"unsubscribe", "b", int64(1)},
		[]any{"punsubscribe", "x*", int64(0)},
		status("PONG"), // out of subscribed mode
		"n1",
	} {
		if got, err := c.read(); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("reply %d = %#v, %v; want %#v", i, got, err, want)
		}
	}
	if n := s.Publish("a", "gone"); n != 0 {
		t.Errorf("Publish after UNSUBSCRIBE = %d", n)
	}

	// QUIT while subscribed: +OK, then the connection closes.
	c.writeRaw(encode("SUBSCRIBE", "a") + encode("QUIT") + encode("PING"))
	for _, want := range []any{[]any{"subscribe", "a", int64(1)}, status("OK")} {
		if got, err := c.read(); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, %v; want %#v", got, err, want)
		}
	}
	if got, err := c.read(); err == nil {
		t.Fatalf("after QUIT read %#v, want the connection closed", got)
	}
	waitFor(t, 30*time.Second, "the QUIT client to be dropped", func() bool { return s.Publish("a", "x") == 0 })

	// QUIT outside subscribed mode.
	c2 := dialRaw(t, s.Addr().String())
	c2.writeRaw(encode("QUIT") + encode("PING"))
	if got, err := c2.read(); err != nil || got != status("OK") {
		t.Fatalf("QUIT = %#v, %v", got, err)
	}
	if got, err := c2.read(); err == nil {
		t.Fatalf("after QUIT read %#v, want the connection closed", got)
	}
}

// TestRedisCLI runs the real redis-cli against the listener.
func TestRedisCLI(t *testing.T) {
	bin, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools): interop test skipped")
	}
	s, _ := startServer(t, sampleView())
	port := portOf(t, s)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SENTINEL", "get-master-addr-by-name", "mymaster"}, "127.0.0.1\n6379\n"},
		{[]string{"SENTINEL", "get-master-addr-by-name", "nope"}, "\n"},
		{[]string{"PING"}, "PONG\n"},
		{[]string{"SENTINEL", "myid"}, "n1\n"},
		{[]string{"ROLE"}, "sentinel\nmymaster\nmymaster-1\nmymaster-2\n"},
		{[]string{"SENTINEL", "bogus"}, "ERR unknown subcommand 'bogus'. Try SENTINEL HELP.\n\n"},
	} {
		out, err := exec.Command(bin, append([]string{"-h", "127.0.0.1", "-p", port}, tc.args...)...).CombinedOutput()
		if err != nil || string(out) != tc.want {
			t.Errorf("redis-cli %q = %q, %v; want %q", tc.args, out, err, tc.want)
		}
	}
	out, err := exec.Command(bin, "-h", "127.0.0.1", "-p", port, "INFO", "sentinel").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=2,sentinels=3") {
		t.Errorf("redis-cli INFO sentinel = %q, %v", out, err)
	}
}
