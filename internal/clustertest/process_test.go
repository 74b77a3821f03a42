package clustertest

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestBinaryBuildsOnce(t *testing.T) {
	a, b := Binary(t), Binary(t)
	if a != b {
		t.Fatalf("two builds: %s and %s", a, b)
	}
	out, err := exec.Command(a, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "warden ") {
		t.Fatalf("warden version: %v: %q", err, out)
	}
}

// Standalone processes on loopback: distinct ports, reachable with
// go-redis, and every signal the harness sends does what it says.
func TestStandaloneLifecycle(t *testing.T) {
	c := Start(t, Options{Nodes: 2, Standalone: true})
	ctx := context.Background()
	n1, n2 := c.Node("n1"), c.Node("n2")
	if n1 == nil || n2 == nil || len(c.Nodes) != 2 {
		t.Fatalf("nodes: %v", c.Nodes)
	}
	seen := map[int]bool{}
	for _, n := range c.Nodes {
		for _, p := range []int{n.Port, n.RaftPort, n.GossipPort, n.HTTPPort, n.SentinelPort} {
			if seen[p] {
				t.Fatalf("port %d handed out twice", p)
			}
			seen[p] = true
		}
	}
	cl := n1.Client()
	if err := cl.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v := n2.Client().Get(ctx, "k").Val(); v != "" {
		t.Fatalf("n2 shares n1's keyspace: %q", v)
	}

	n1.Stop()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := n1.Client().Ping(short).Err()
	cancel()
	if err == nil || !n1.Running() || !n1.Stopped() {
		t.Fatalf("stopped node: PING %v, running %v, stopped %v", err, n1.Running(), n1.Stopped())
	}
	n1.Cont()
	if err := n1.Client().Ping(ctx).Err(); err != nil || n1.Stopped() {
		t.Fatalf("continued node: PING %v, stopped %v", err, n1.Stopped())
	}

	n1.Kill()
	if n1.Running() {
		t.Fatal("killed node still running")
	}
	if err := n1.Client().Ping(ctx).Err(); err == nil {
		t.Fatal("killed node answers PING")
	}
	n1.Restart(t)
	if err := cl.Ping(ctx).Err(); err != nil { // the old client reconnects: same port
		t.Fatalf("restarted node: %v", err)
	}
	if got := strings.Count(readFile(t, n1.LogPath), "=== clustertest: start n1"); got != 2 {
		t.Fatalf("log has %d start lines, want 2 (appended across restarts)", got)
	}

	// Term on a stopped node still ends it (SIGCONT follows).
	n2.Stop()
	n2.Term()
	if n2.Running() {
		t.Fatal("terminated node still running")
	}
}

// A node added later gets its own ports and directory and is reachable.
func TestStandaloneAdd(t *testing.T) {
	c := Start(t, Options{Nodes: 1, Standalone: true})
	n := c.Add(t, "extra")
	if n.Port == c.Nodes[0].Port || n.Dir == c.Nodes[0].Dir || c.Node("extra") != n {
		t.Fatalf("added node %+v clashes with %+v", n, c.Nodes[0])
	}
	if err := n.Client().Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

// The command line carries every cluster flag of the brief.
func TestClusterArgs(t *testing.T) {
	c := &Cluster{opts: Options{Shards: 2, DownAfterMs: 300, LeaseMs: 200, Args: []string{"--x", "y"}}}
	n := &Node{ID: "n1", Host: "127.0.0.1", Port: 1, RaftPort: 2, GossipPort: 3, HTTPPort: 4, SentinelPort: 5, Dir: "/d", LogPath: "/d/warden.log"}
	got := strings.Join(c.args(n, "--peers", "n1=127.0.0.1:2"), " ")
	want := `server --port 1 --bind 127.0.0.1 --dir /d --save  --appendonly no --logfile /d/warden.log --repl-diskless-sync-delay 0 ` +
		`--node-id n1 --raft-addr 127.0.0.1:2 --gossip-addr 127.0.0.1:3 --http-addr 127.0.0.1:4 ` +
		`--sentinel-port 5 --announce-host 127.0.0.1 --shards 2 --down-after-milliseconds 300 ` +
		`--master-lease-ms 200 --x y --peers n1=127.0.0.1:2`
	if got != want {
		t.Fatalf("args:\n got %s\nwant %s", got, want)
	}
}

// A node that dies because its port was taken is told apart (Add then
// starts it again on fresh ports).
func TestPortTakenIsRecognised(t *testing.T) {
	c := Start(t, Options{Nodes: 1, Standalone: true})
	n := c.Nodes[0]
	n.Kill()
	ln, err := net.Listen("tcp", n.Addr())
	if err != nil {
		t.Fatalf("hold %s: %v", n.Addr(), err)
	}
	defer ln.Close()
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	err = n.awaitReady(time.Now().Add(readyTimeout))
	if !errors.Is(err, errPortTaken) {
		t.Fatalf("awaitReady = %v, want errPortTaken", err)
	}
}
