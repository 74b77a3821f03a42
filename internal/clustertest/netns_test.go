package clustertest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Two standalone nodes in their own namespaces: the root namespace reaches
// both over the bridge, n2 replicates from n1 across it, Partition(n2)
// stops the stream and node-to-node dials while the test's clients still
// get through, and Heal lets the stream resume.
func TestNetnsPartition(t *testing.T) {
	c := Start(t, Options{Nodes: 2, Standalone: true, Netns: true})
	ctx := context.Background()
	n1, n2 := c.Node("n1"), c.Node("n2")
	for _, n := range c.Nodes {
		if ip := net.ParseIP(n.Host); ip == nil || ip.IsLoopback() || n.ns == "" {
			t.Fatalf("%s: host %q ns %q: want its own namespace address", n.ID, n.Host, n.ns)
		}
	}
	if n1.Host == n2.Host {
		t.Fatalf("both nodes at %s", n1.Host)
	}
	c1, c2 := n1.Client(), n2.Client()
	if err := c2.ReplicaOf(ctx, n1.Host, strconv.Itoa(n1.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 30*time.Second, "n2 to replicate a key from n1 across the bridge", func() bool {
		return c2.Get(ctx, "before").Val() == "1"
	})
	if !canDial(t, n2, n1) {
		t.Fatal("n2 cannot dial n1 before any partition")
	}

	c.Partition(n2)
	if !n2.Partitioned() {
		t.Fatal("n2 not marked partitioned")
	}
	if err := c1.Set(ctx, "during", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if canDial(t, n2, n1) || canDial(t, n1, n2) {
		t.Fatal("a node dials the other through the partition")
	}
	// canDial took over a second: the key would have streamed by now.
	if v := c2.Get(ctx, "during").Val(); v != "" {
		t.Fatalf("n2 got a write made during the partition: %q", v)
	}

	c.Heal(n2)
	if !canDial(t, n2, n1) {
		t.Fatal("n2 cannot dial n1 after Heal")
	}
	WaitFor(t, 30*time.Second, "the stream to n2 to resume after Heal", func() bool {
		return c2.Get(ctx, "during").Val() == "1"
	})

	// One direction of one link: n2 drops what n1 sends it.
	if at := c.CutLinks(n2, 20*time.Millisecond, Cut{Peer: n1, In: true}); len(at) != 1 || !n2.Partitioned() {
		t.Fatalf("CutLinks: rules in at %v, partitioned %v", at, n2.Partitioned())
	}
	if canDial(t, n1, n2) {
		t.Fatal("n1 dials n2 through the cut")
	}
	c.Heal(n2)
	if !canDial(t, n1, n2) {
		t.Fatal("n1 cannot dial n2 after Heal")
	}

	// The processes live in their namespaces and signals still reach them.
	n1.Stop()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := c1.Ping(short).Err(); err == nil {
		t.Fatal("stopped namespaced node answers PING")
	}
	n1.Cont()
	n1.Kill()
	n1.Restart(t)
	if err := c1.Ping(ctx).Err(); err != nil {
		t.Fatalf("restarted namespaced node: %v", err)
	}
}

// canDial reports whether a PING from inside from's namespace reaches
// to's RESP port within a second.
func canDial(t *testing.T, from, to *Node) bool {
	t.Helper()
	pre, err := from.nsPrefix()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(pre, "timeout", "1", "redis-cli", "-h", to.Host, "-p", strconv.Itoa(to.Port), "PING")
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 124 {
			return false // timed out: the packets were dropped
		}
		t.Fatalf("redis-cli from %s to %s: %v: %s", from.ID, to.ID, err, out)
	}
	return strings.TrimSpace(string(out)) == "PONG"
}
