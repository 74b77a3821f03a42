package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// rawConn speaks RESP directly, to check frames byte for byte.
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReader(c)}
}

func respCommand(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

func (rc *rawConn) send(args ...string) {
	rc.t.Helper()
	if _, err := rc.c.Write(respCommand(args...)); err != nil {
		rc.t.Fatal(err)
	}
}

// expect reads exactly len(want) bytes and compares them with want.
func (rc *rawConn) expect(want string) {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	n, err := io.ReadFull(rc.r, got)
	if err != nil || string(got) != want {
		rc.t.Fatalf("read %q (err %v), want %q", got[:n], err, want)
	}
}

// do sends a command and checks the reply bytes.
func (rc *rawConn) do(want string, args ...string) {
	rc.t.Helper()
	rc.send(args...)
	rc.expect(want)
}

func frame(kind string, parts ...string) string {
	b := kind + strconv.Itoa(len(parts)) + "\r\n"
	for _, p := range parts {
		if strings.HasPrefix(p, ":") || p == "$-1" || p == "_" {
			b += p + "\r\n"
			continue
		}
		b += "$" + strconv.Itoa(len(p)) + "\r\n" + p + "\r\n"
	}
	return b
}

func TestPubsubFramesRESP2(t *testing.T) {
	_, addr := startServer(t)
	sub := dialRaw(t, addr)
	pub := newClient(t, addr)
	ctx := context.Background()

	sub.send("SUBSCRIBE", "a", "b")
	sub.expect(frame("*", "subscribe", "a", ":1") + frame("*", "subscribe", "b", ":2"))
	sub.do(frame("*", "psubscribe", "p*", ":3"), "PSUBSCRIBE", "p*")
	sub.do("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n", "GET", "x")
	sub.do(frame("*", "pong", ""), "PING")
	sub.do(frame("*", "pong", "hi"), "PING", "hi")

	if n := pub.Publish(ctx, "a", "hello").Val(); n != 1 {
		t.Fatalf("PUBLISH a = %d, want 1", n)
	}
	sub.expect(frame("*", "message", "a", "hello"))
	if n := pub.Publish(ctx, "pq", "x").Val(); n != 1 {
		t.Fatalf("PUBLISH pq = %d, want 1", n)
	}
	sub.expect(frame("*", "pmessage", "p*", "pq", "x"))
	// A channel matching both a subscription and a pattern gets both.
	sub.do(frame("*", "subscribe", "pz", ":4"), "SUBSCRIBE", "pz")
	if n := pub.Publish(ctx, "pz", "y").Val(); n != 2 {
		t.Fatalf("PUBLISH pz = %d, want 2", n)
	}
	sub.expect(frame("*", "message", "pz", "y") + frame("*", "pmessage", "p*", "pz", "y"))
	if n := pub.Publish(ctx, "nobody", "y").Val(); n != 0 {
		t.Fatalf("PUBLISH nobody = %d, want 0", n)
	}

	sub.do(frame("*", "unsubscribe", "a", ":3")+frame("*", "unsubscribe", "zz", ":3"), "UNSUBSCRIBE", "a", "zz")
	sub.send("UNSUBSCRIBE")
	sub.expect(frame("*", "unsubscribe", "b", ":2") + frame("*", "unsubscribe", "pz", ":1"))
	sub.do(frame("*", "unsubscribe", "$-1", ":1"), "UNSUBSCRIBE")
	sub.do(frame("*", "punsubscribe", "p*", ":0"), "PUNSUBSCRIBE")
	// Out of subscribed mode: ordinary commands and replies again.
	sub.do("$-1\r\n", "GET", "x")
	sub.do("+PONG\r\n", "PING")
	sub.do(frame("*", "punsubscribe", "$-1", ":0"), "PUNSUBSCRIBE")
	// Duplicate subscriptions count once.
	sub.do(frame("*", "subscribe", "a", ":1")+frame("*", "subscribe", "a", ":1"), "SUBSCRIBE", "a", "a")
	sub.do(frame("*", "punsubscribe", "x", ":1"), "PUNSUBSCRIBE", "x")
	// RESET leaves subscribed mode without unsubscribe frames.
	sub.do("+RESET\r\n", "RESET")
	sub.do("$-1\r\n", "GET", "x")
	if n := pub.Publish(ctx, "a", "gone").Val(); n != 0 {
		t.Fatalf("PUBLISH after RESET = %d, want 0", n)
	}
	sub.do("-ERR wrong number of arguments for 'subscribe' command\r\n", "SUBSCRIBE")
}

func TestPubsubPipelineOrder(t *testing.T) {
	_, addr := startServer(t)
	sub := dialRaw(t, addr)
	// Replies queued before SUBSCRIBE in the same pipeline come first.
	sub.c.Write(append(append(respCommand("SET", "k", "v"), respCommand("SUBSCRIBE", "c")...), respCommand("PING")...))
	sub.expect("+OK\r\n" + frame("*", "subscribe", "c", ":1") + frame("*", "pong", ""))
	sub.c.Write(append(respCommand("UNSUBSCRIBE"), respCommand("GET", "k")...))
	sub.expect(frame("*", "unsubscribe", "c", ":0") + "$1\r\nv\r\n")
}

func TestPubsubFramesRESP3(t *testing.T) {
	_, addr := startServer(t)
	sub := dialRaw(t, addr)
	pub := newClient(t, addr)
	ctx := context.Background()
	sub.send("HELLO", "3")
	sub.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := sub.r.ReadString('\n')
	if line != "%7\r\n" {
		t.Fatalf("HELLO 3 reply starts %q", line)
	}
	for i := 0; i < 14; i++ { // 7 key/value pairs; values are one line or bulk
		l, _ := sub.r.ReadString('\n')
		if strings.HasPrefix(l, "$") {
			sub.r.ReadString('\n')
		}
	}
	sub.do(frame(">", "subscribe", "a", ":1"), "SUBSCRIBE", "a")
	sub.do("_\r\n", "GET", "x") // allowed in RESP3
	sub.do("+PONG\r\n", "PING")
	pub.Publish(ctx, "a", "m")
	sub.expect(frame(">", "message", "a", "m"))
	sub.do(frame(">", "psubscribe", "*", ":2"), "PSUBSCRIBE", "*")
	pub.Publish(ctx, "b", "m2")
	sub.expect(frame(">", "pmessage", "*", "b", "m2"))
	sub.do(frame(">", "unsubscribe", "a", ":1")+frame(">", "unsubscribe", "b", ":1"), "UNSUBSCRIBE", "a", "b")
	sub.do(frame(">", "unsubscribe", "_", ":1"), "UNSUBSCRIBE")
	sub.do(frame(">", "ssubscribe", "s", ":1"), "SSUBSCRIBE", "s")
	if n := pub.SPublish(ctx, "s", "sm").Val(); n != 1 {
		t.Fatalf("SPUBLISH = %d, want 1", n)
	}
	sub.expect(frame(">", "smessage", "s", "sm"))
	sub.do(frame(">", "punsubscribe", "*", ":0"), "PUNSUBSCRIBE")
	sub.do(frame(">", "sunsubscribe", "s", ":0"), "SUNSUBSCRIBE")
	sub.do("_\r\n", "GET", "x")
}

// TestPubsubFanout: one publisher, five go-redis subscribers (three on the
// channel, two on patterns): every message reaches each in order.
func TestPubsubFanout(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	pub := newClient(t, addr)
	const n = 500
	type subscriber struct {
		ps      *redis.PubSub
		pattern bool
	}
	var subsList []subscriber
	for i := 0; i < 5; i++ {
		c := newClient(t, addr)
		var ps *redis.PubSub
		if i < 3 {
			ps = c.Subscribe(ctx, "news.sport")
		} else if i == 3 {
			ps = c.PSubscribe(ctx, "news.*")
		} else {
			ps = c.PSubscribe(ctx, "news.[sx]port")
		}
		t.Cleanup(func() { ps.Close() })
		if _, err := ps.Receive(ctx); err != nil { // the confirmation
			t.Fatal(err)
		}
		subsList = append(subsList, subscriber{ps, i >= 3})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(subsList))
	for i, s := range subsList {
		wg.Add(1)
		go func(i int, s subscriber) {
			defer wg.Done()
			for k := 0; k < n; k++ {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				m, err := s.ps.ReceiveMessage(ctx)
				cancel()
				if err != nil {
					errs <- fmt.Errorf("subscriber %d message %d: %v", i, k, err)
					return
				}
				if want := "msg-" + strconv.Itoa(k); m.Payload != want || m.Channel != "news.sport" || (m.Pattern != "") != s.pattern {
					errs <- fmt.Errorf("subscriber %d got %+v, want payload %s", i, m, want)
					return
				}
			}
		}(i, s)
	}
	for k := 0; k < n; k++ {
		got, err := pub.Publish(ctx, "news.sport", "msg-"+strconv.Itoa(k)).Result()
		if err != nil || got != 5 {
			t.Fatalf("PUBLISH %d = %d, %v; want 5", k, got, err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPubsubRESP3Client(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	c := newClient(t, addr, func(o *redis.Options) { o.Protocol = 3 })
	pub := newClient(t, addr)
	ps := c.Subscribe(ctx, "ch")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if n := pub.Publish(ctx, "ch", strconv.Itoa(i)).Val(); n != 1 {
			t.Fatalf("PUBLISH = %d", n)
		}
	}
	for i := 0; i < 10; i++ {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil || m.Payload != strconv.Itoa(i) {
			t.Fatalf("message %d: %+v %v", i, m, err)
		}
	}
	// Ordinary commands still work on the RESP3 client's other connections.
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestPubsubIntrospection(t *testing.T) {
	s, addr := startServer(t)
	ctx := context.Background()
	c := newClient(t, addr)
	a := dialRaw(t, addr)
	b := dialRaw(t, addr)
	a.send("SUBSCRIBE", "news", "sport")
	a.expect(frame("*", "subscribe", "news", ":1") + frame("*", "subscribe", "sport", ":2"))
	a.do(frame("*", "psubscribe", "n*", ":3"), "PSUBSCRIBE", "n*")
	b.do(frame("*", "subscribe", "news", ":1"), "SUBSCRIBE", "news")
	b.do(frame("*", "psubscribe", "n*", ":2"), "PSUBSCRIBE", "n*")
	b.do(frame("*", "ssubscribe", "sh", ":1"), "SSUBSCRIBE", "sh")
	run(t, c, []step{
		{args: []any{"pubsub", "channels"}, want: []string{"news", "sport"}},
		{args: []any{"pubsub", "channels", "n*"}, want: []string{"news"}},
		{args: []any{"pubsub", "channels", "a", "b"}, wantErr: "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP."},
		{args: []any{"pubsub", "numsub", "news", "sport", "none"}, want: []any{"news", int64(2), "sport", int64(1), "none", int64(0)}},
		{args: []any{"pubsub", "numsub"}, want: []any{}},
		{args: []any{"pubsub", "numpat"}, want: 1},
		{args: []any{"pubsub", "numpat", "x"}, wantErr: "ERR wrong number of arguments for 'pubsub|numpat' command"},
		{args: []any{"pubsub", "shardchannels"}, want: []string{"sh"}},
		{args: []any{"pubsub", "shardnumsub", "sh"}, want: []any{"sh", int64(1)}},
		{args: []any{"pubsub"}, wantErr: "ERR wrong number of arguments for 'pubsub' command"},
		{args: []any{"pubsub", "foo"}, wantErr: "ERR unknown subcommand 'foo'. Try PUBSUB HELP."},
		{args: []any{"publish", "a"}, wantErr: "ERR wrong number of arguments for 'publish' command"},
		{args: []any{"publish", "news", "m"}, want: 4},
	})
	a.expect(frame("*", "message", "news", "m") + frame("*", "pmessage", "n*", "news", "m"))
	help, err := c.Do(ctx, "pubsub", "help").StringSlice()
	if err != nil || len(help) != 14 || help[len(help)-1] != "    Prints this help." {
		t.Fatalf("PUBSUB HELP = %q, %v", help, err)
	}
	info := c.Info(ctx, "stats").Val()
	for _, f := range []string{"pubsub_channels:2\r\n", "pubsub_patterns:1\r\n", "pubsubshard_channels:1\r\n"} {
		if !strings.Contains(info, f) {
			t.Errorf("INFO stats lacks %q", f)
		}
	}
	list := c.ClientList(ctx).Val()
	if !strings.Contains(list, "flags=P db=0 sub=2 psub=1 ssub=0") || !strings.Contains(list, "flags=P db=0 sub=1 psub=1 ssub=1") {
		t.Errorf("CLIENT LIST lacks subscription counts:\n%s", list)
	}
	typed, _ := c.Do(ctx, "client", "list", "type", "pubsub").Text()
	if strings.Count(typed, "\n") != 2 {
		t.Errorf("CLIENT LIST TYPE pubsub:\n%s", typed)
	}
	// A subscriber that disconnects leaves no trace.
	b.c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := c.PubSubNumSub(ctx, "news").Val()["news"]; n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("disconnected subscriber still counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, pats, shards := s.hub.counts(); pats != 1 || shards != 0 {
		t.Fatalf("hub counts after disconnect: patterns %d shards %d", pats, shards)
	}
}

// TestPubsubSlowSubscriber: a subscriber that never reads does not block the
// publisher, and is dropped once its output passes the pubsub limit.
func TestPubsubSlowSubscriber(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	pub := newClient(t, addr)
	slow := dialRaw(t, addr)
	slow.do(frame("*", "subscribe", "c", ":1"), "SUBSCRIBE", "c")
	payload := strings.Repeat("x", 1<<20)
	start := time.Now()
	for i := 0; i < 48; i++ {
		if err := pub.Publish(ctx, "c", payload).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A publisher blocked on the subscriber's full socket would wait for
	// ever: its client's read timeout fails the Publish above. How long 48
	// MB took is a figure (a busy machine with -race: tens of seconds).
	t.Logf("48 publishes of 1 MB took %v", time.Since(start))
	deadline := time.Now().Add(30 * time.Second)
	for pub.PubSubNumSub(ctx, "c").Val()["c"] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("subscriber over the output limit was not dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPubsubMatch(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "anything", true},
		{"*", "", false}, // as Redis's stringmatchlen
		{"", "", true},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h*llo", "heeeello", true},
		{"h*llo", "hello!", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hbllo", true},
		{"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{`h[\]]llo`, "h]llo", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"news.*", "news.sport", true},
		{"**x", "abx", true},
		{"h[a", "ha", true},
		{"h[a", "hb", false},
		{"*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 60), false},
		// Checked against redis-server 7.0.15 (PUBSUB CHANNELS).
		{"h[a", "hab", false},
		{"[", "x", false},
		{`x\`, `x\`, true},
		{`x\`, "x", false},
		{"h[^", "hx", true},
		{"a[-z]", "a-", true},
	}
	for _, tc := range cases {
		if got := globMatch([]byte(tc.pat), []byte(tc.s)); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

// TestPubsubConcurrent: publishers and (un)subscribers race; run with -race.
func TestPubsubConcurrent(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		pub := newClient(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := pub.Publish(ctx, "ch", "m").Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 4; i++ {
		c := newClient(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				ps := c.Subscribe(ctx, "ch")
				if _, err := ps.Receive(ctx); err != nil {
					t.Error(err)
				}
				ps.PSubscribe(ctx, "c*")
				ps.Unsubscribe(ctx)
				ps.PUnsubscribe(ctx)
				ps.Close()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
}
