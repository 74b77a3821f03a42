package sentinel

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/internal/testhost"
)

// startRealSentinel runs `redis-server <conf> --sentinel` monitoring
// mymaster at master, with extra config lines; it is killed at cleanup.
func startRealSentinel(t *testing.T, master Addr, extra ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed (apt-get install redis-server): comparison with a real Sentinel skipped")
	}
	port := deadAddr(t).Port
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf") // Sentinel rewrites it: must be writable
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster %s %d 2\nsentinel down-after-milliseconds mymaster 5000\n",
		port, dir, master.Host, master.Port)
	for _, l := range extra {
		text += l + "\n"
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out testhost.LogBuffer
	cmd := exec.Command(bin, conf, "--sentinel")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a real sentinel: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	// NOAUTH is an answer too (a Sentinel with requirepass).
	for err := c.Ping(context.Background()).Err(); err != nil && !strings.HasPrefix(err.Error(), "NOAUTH"); err = c.Ping(context.Background()).Err() {
		if time.Now().After(deadline) {
			t.Fatalf("the real sentinel on %s did not answer PING:\n%s", addr, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr
}

// TestMatchesRealSentinel sends the same commands to a real Redis 7.0
// Sentinel and to the listener (with a view of the same topology: master A,
// replica B, one other sentinel) and compares the replies: exactly where
// they do not depend on live state, by shape or by field names where they
// do.
func TestMatchesRealSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the comparison waits seconds for a real Sentinel's discovery")
	}
	a := redistest.Start(t, "")
	b := redistest.Start(t, "", "--replicaof", "127.0.0.1", a.Port)
	aAddr, bAddr := addrOf(t, a), addrOf(t, b)
	real1 := startRealSentinel(t, aAddr)
	real2 := startRealSentinel(t, aAddr)

	// Wait until the real sentinel knows the replica and the other sentinel.
	rc := redis.NewSentinelClient(&redis.Options{Addr: real1, MaxRetries: -1})
	defer rc.Close()
	ctx := context.Background()
	waitFor(t, 30*time.Second, "the real sentinel to discover the replica and the other sentinel", func() bool {
		m, err := rc.Master(ctx, "mymaster").Result()
		rs, _ := rc.Replicas(ctx, "mymaster").Result()
		return err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "1" && len(rs) == 1 && rs[0]["flags"] == "slave" && rs[0]["master-link-status"] == "ok"
	})

	host, port, _ := net.SplitHostPort(real2)
	p2, _ := strconv.Atoi(port)
	v := &fakeView{id: "n1", peers: []Peer{{ID: "n2", Addr: Addr{host, p2}}}, ckquorum: "OK 2 usable Sentinels. Quorum and failover authorization can be reached"}
	v.masters = []Master{{
		Name: "mymaster", ID: "a", Addr: aAddr, RunID: "run-a", Quorum: 2, DownAfterMs: 5000,
		Replicas: []Replica{{ID: "b", Addr: bAddr, RunID: "run-b", LinkUp: true, Priority: 100}},
	}}
	s, _ := startServer(t, v)

	realConn, ourConn := dialRaw(t, real1), dialRaw(t, s.Addr().String())

	exact := [][]string{
		{"PING"}, {"PING", "hi"}, {"PING", "a", "b"},
		{"SENTINEL", "get-master-addr-by-name", "mymaster"},
		{"SENTINEL", "get-master-addr-by-name", "nope"},
		{"SENTINEL", "get-master-addr-by-name"},
		{"SENTINEL", "master", "nope"}, {"SENTINEL", "master", "a", "b"},
		{"SENTINEL", "replicas", "nope"}, {"SENTINEL", "slaves", "nope"}, {"SENTINEL", "sentinels", "nope"},
		{"SENTINEL", "ckquorum", "nope"}, {"SENTINEL", "failover", "nope"},
		{"SENTINEL", "reset"}, {"SENTINEL", "reset", "nope"}, {"SENTINEL", "masters", "x"}, {"SENTINEL", "myid", "x"},
		{"SENTINEL", "monitor", "a"},
		{"SENTINEL"}, {"SENTINEL", "bogus"}, {"SENTINEL", "BoGuS", "x"},
		{"foo"}, {"GET", "x"}, {"SET", "k", "v", "with", "more", "args"},
		{"ROLE"}, {"ROLE", "x"}, {"INFO", "bogus"},
		{"SUBSCRIBE"}, {"PSUBSCRIBE"}, {"UNSUBSCRIBE"}, {"PUNSUBSCRIBE"},
		{"HELLO", "x"}, {"HELLO", "4"}, {"HELLO", "2", "bogus"}, {"HELLO", "2", "setname"}, {"HELLO", "2", "AUTH", "bob", "pw"},
		{"AUTH", "pw"}, {"AUTH", "default", "pw"}, {"AUTH", "bob", "pw"},
		{"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "a b"}, {"CLIENT", "SETNAME", "watcher"}, {"CLIENT", "GETNAME"},
		{"CLIENT", "SETNAME"}, {"CLIENT", "bogus"},
		{"COMMAND", "bogus"}, {"COMMAND", "INFO", "get"},
	}
	for _, args := range exact {
		want, got := realConn.do(args...), ourConn.do(args...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: listener %#v, real Sentinel %#v", args, got, want)
		}
	}

	// UNSUBSCRIBE of two channels (not subscribed to): two replies.
	realConn.writeRaw(encode("UNSUBSCRIBE", "a", "b"))
	ourConn.writeRaw(encode("UNSUBSCRIBE", "a", "b"))
	for range 2 {
		want, err1 := realConn.read()
		got, err2 := ourConn.read()
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("UNSUBSCRIBE a b: listener %#v (%v), real Sentinel %#v (%v)", got, err2, want, err1)
		}
	}

	shaped := [][]string{
		{"SENTINEL", "myid"}, {"SENTINEL", "ckquorum", "mymaster"},
		{"SENTINEL", "help"}, {"COMMAND", "COUNT"}, {"CLIENT", "ID"}, {"INFO"},
	}
	for _, args := range shaped {
		want, got := shape(realConn.do(args...)), shape(ourConn.do(args...))
		if want != got {
			t.Errorf("%q: listener's reply is %s, real Sentinel's %s", args, got, want)
		}
	}

	// HELLO 2: the same map but the client id.
	want, _ := realConn.do("HELLO", "2").([]any)
	got, _ := ourConn.do("HELLO", "2").([]any)
	if len(want) != 12 || len(got) != 12 {
		t.Fatalf("HELLO 2: listener %#v, real %#v", got, want)
	}
	want[7], got[7] = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HELLO 2: listener %#v, real %#v", got, want)
	}

	// Field names of the instance listings.
	for _, args := range [][]string{{"SENTINEL", "master", "mymaster"}, {"SENTINEL", "masters"},
		{"SENTINEL", "replicas", "mymaster"}, {"SENTINEL", "slaves", "mymaster"}, {"SENTINEL", "sentinels", "mymaster"}} {
		w, g := realConn.do(args...), ourConn.do(args...)
		if args[1] != "master" { // a list of instances: compare the first
			wl, gl := w.([]any), g.([]any)
			if len(wl) != 1 || len(gl) != 1 {
				t.Fatalf("%q: listener %d entries, real %d", args, len(gl), len(wl))
			}
			w, g = wl[0], gl[0]
		}
		if wn, gn := fieldNames(t, w), fieldNames(t, g); !reflect.DeepEqual(gn, wn) {
			t.Errorf("%q fields:\nlistener %q\nreal     %q", args, gn, wn)
		}
		wm, gm := fieldMap(t, w), fieldMap(t, g)
		for _, k := range []string{"name", "ip", "port", "flags", "num-slaves", "num-other-sentinels", "quorum",
			"role-reported", "master-host", "master-port", "master-link-status", "slave-priority"} {
			if k == "name" && args[1] == "sentinels" {
				continue // a real Sentinel is named by its 40-hex id
			}
			if wm[k] != gm[k] {
				t.Errorf("%q %s: listener %q, real %q", args, k, gm[k], wm[k])
			}
		}
	}

	// INFO sentinel: the same keys and the same master line.
	wi, gi := realConn.do("INFO", "sentinel").(string), ourConn.do("INFO", "sentinel").(string)
	if wi != gi {
		t.Errorf("INFO sentinel:\nlistener %q\nreal     %q", gi, wi)
	}
	wk, gk := infoKeys(realConn.do("INFO", "server").(string)), infoKeys(ourConn.do("INFO", "server").(string))
	for _, k := range gk {
		if !contains(wk, k) && k != "warden_node_id" {
			t.Errorf("INFO server has %q, which Redis does not", k)
		}
	}

	// Subscribed mode.
	for _, args := range [][]string{{"SUBSCRIBE", "a"}, {"ROLE"}, {"SENTINEL", "myid"}, {"PING"}, {"PING", "x"}, {"UNSUBSCRIBE"}, {"PING"}} {
		want, got := realConn.do(args...), ourConn.do(args...)
		if !reflect.DeepEqual(got, want) && !(args[0] == "SENTINEL" && shape(got) == shape(want)) {
			t.Errorf("subscribed %q: listener %#v, real Sentinel %#v", args, got, want)
		}
	}
}

// shape describes a reply's types, not its values.
func shape(v any) string {
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + shape(v[0]) + "...]"
	case string:
		return "bulk"
	case status:
		return "status"
	case respErr:
		return "error " + string(v)
	case int64:
		return "int"
	}
	return fmt.Sprintf("%T", v)
}

func infoKeys(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\r\n") {
		if k, _, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") {
			out = append(out, k)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
