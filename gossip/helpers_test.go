package gossip

import (
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testDownAfter = 300 * time.Millisecond

// detectGoal is the detection time aimed at (3×DownAfter; ~250ms is
// typical). It is logged, never asserted: a starved machine takes longer.
const detectGoal = 3 * testDownAfter

// patience bounds every wait for a condition: generous, because a test must
// pass on a busy 2-core machine running -race; a healthy run takes a fraction.
const patience = 30 * time.Second

// testNode is a detector plus the Meta its Local() returns, changeable by the test.
type testNode struct {
	*Detector
	mu   sync.Mutex
	meta Meta
}

func (n *testNode) id() string { return n.cfg.NodeID }

func (n *testNode) setOffset(off int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.meta.Offset = off
}

func (n *testNode) wantMeta() Meta {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.meta
}

// testLogger is silent unless GOSSIP_DEBUG is set.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("GOSSIP_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// startNode starts a detector on a free loopback port. Cleanup crashes it
// rather than Close: memberlist's Leave races with its own refute
// (hashicorp/memberlist#272), which -race reports when nodes of a cluster
// being torn down suspect each other.
func startNode(t *testing.T, id string, shard int, key []byte) *testNode {
	t.Helper()
	n := &testNode{meta: Meta{
		ID: id, Role: "replica", Shard: shard, Epoch: 7, Offset: 100,
		Priority: 100, RunID: "run-" + id, RedisAddr: "127.0.0.1:6" + id[1:] + "00", LinkUp: true,
	}}
	d, err := Start(Config{
		NodeID:    id,
		BindAddr:  "127.0.0.1:0",
		SecretKey: key,
		DownAfter: testDownAfter,
		Local:     n.wantMeta,
		Logger:    testLogger(t),
	})
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	n.Detector = d
	t.Cleanup(func() { _ = d.crash() })
	return n
}

// startCluster starts n1..nk, joins them through n1 (each is also given its
// own address, which Join must skip) and waits until all see all alive.
func startCluster(t *testing.T, k int, key []byte) []*testNode {
	t.Helper()
	var nodes []*testNode
	for i := 1; i <= k; i++ {
		nodes = append(nodes, startNode(t, fmt.Sprintf("n%d", i), i%2, key))
	}
	for _, n := range nodes[1:] {
		mustJoin(t, n, nodes[0].selfAddr, n.selfAddr)
	}
	for _, n := range nodes {
		el := waitFor(t, n.id()+" to see all members alive", func() bool { return allAlive(n.Detector, nodes) })
		t.Logf("%s saw all %d members alive after %v", n.id(), k, el)
	}
	return nodes
}

// mustJoin joins n through addrs, retrying as the control plane does: a
// push/pull times out after DownAfter (300ms here), which a starved
// machine can miss. Every failed attempt is logged.
func mustJoin(t *testing.T, n *testNode, addrs ...string) {
	t.Helper()
	waitFor(t, n.id()+" to join through "+strings.Join(addrs, ","), func() bool {
		err := n.Join(addrs)
		if err != nil {
			t.Logf("%s join (will retry): %v", n.id(), err)
		}
		return err == nil
	})
}

// allAlive: d sees exactly nodes, all alive, each with the Meta and address
// that node currently has.
func allAlive(d *Detector, nodes []*testNode) bool {
	ms := d.Members()
	if len(ms) != len(nodes) {
		return false
	}
	for i, m := range ms {
		n := nodes[i]
		if m.ID != n.id() || m.State != StateAlive || !reflect.DeepEqual(m.Meta, n.wantMeta()) || m.Addr != n.selfAddr {
			return false
		}
	}
	return true
}

// mlDown reports whether memberlist has declared id dead or left.
func (d *Detector) mlDown(id string) bool {
	d.tab.mu.Lock()
	defer d.tab.mu.Unlock()
	p, ok := d.tab.peers[id]
	return ok && p.ml == mlDown
}

// silence stops d's reports while memberlist keeps answering probes, like a
// node whose control loop is wedged. Close becomes a no-op; memberlist is shut
// down at cleanup.
func (d *Detector) silence(t *testing.T) {
	d.closeOnce.Do(func() { close(d.stop); <-d.done })
	t.Cleanup(func() { _ = d.ml.Shutdown() })
}

func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > patience {
			t.Fatalf("timed out after %v waiting for %s", patience, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// logDetection records how long a detection took against the 3×DownAfter
// goal: a figure to read, not a pass/fail condition.
func logDetection(t *testing.T, what string, took time.Duration) {
	t.Helper()
	if took > detectGoal {
		t.Logf("%s took %v: over the %v goal (loaded machine?)", what, took, detectGoal)
		return
	}
	t.Logf("%s took %v", what, took)
}
