// Package clustertest runs real warden processes for tests: a cluster of
// nodes on loopback ports, or each node in its own network namespace so a
// test can partition it. It is for tests only.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	masterTimeout = 20 * time.Second // Master: nodes to agree and the master to take a write
	logTailLines  = 60               // per node, dumped when a test fails
	probeKey      = "clustertest:probe"
)

// Options shape a cluster. Zero values take defaults.
type Options struct {
	Nodes       int      // voters n1..nN, bootstrapped together with --peers (default 3)
	Shards      int      // --shards (default 1)
	DownAfterMs int      // --down-after-milliseconds (0: the binary's default)
	LeaseMs     int      // --master-lease-ms (0: the binary's default)
	Args        []string // extra flags for every node, after the harness's own
	// Secret is every node's --cluster-secret. Nodes on loopback may run
	// without one; Netns nodes listen on bridge addresses, so they get
	// DefaultSecret when Secret is empty (and --protected-mode no, as
	// their replicas and the test's clients connect from other addresses).
	Secret string
	// Password is every node's --requirepass; the harness's own clients
	// (Client, readiness, Master's probe) authenticate with it.
	Password string
	// Netns runs each node in its own network namespace behind a bridge,
	// so Partition can cut it off. Needs root; the test is skipped otherwise.
	Netns bool
	// Docker runs each node as a container of a docker compose project
	// (image Image, DefaultImage if empty) on a network of its own: Kill,
	// Stop/Cont, Term are docker kill, pause/unpause, kill -s TERM;
	// Partition is docker network disconnect (the test's clients lose the
	// node too); CutLinks and NetnsExec enter the container's namespace.
	// Needs root, the docker CLI, docker-compose and the image; skipped
	// otherwise, saying why.
	Docker bool
	Image  string
	// Standalone runs plain warden servers without any cluster flag
	// (readiness is PING instead of /readyz), for testing the harness.
	Standalone bool
	// TLS runs every node with TLS only on its RESP port (Node.Port is its
	// tls-port), tls-replication and tls-cluster, over certificates made
	// for the test; the harness's clients use TLS too (Cluster.TLSConfig).
	TLS bool
	// BaseDir, when set, holds the node directories (<BaseDir>/<id>)
	// instead of a temporary directory: a caller may mount a small
	// filesystem there first (the fault suite fills one to inject a full
	// disk). The caller removes it.
	BaseDir string
}

// Cluster is a set of warden processes started by Start. Its methods are
// meant for the test's goroutine; Nodes is not guarded.
type Cluster struct {
	Nodes []*Node

	t    testing.TB // the test that owns the processes
	opts Options
	bin  string
	base string   // node dirs live under it
	net  *network // nil unless Options.Netns
	// docker runs the nodes as containers (Options.Docker), else nil
	docker *compose
	tls    *clusterTLS

	portsMu   sync.Mutex
	usedPorts map[int]bool // every port given to a node of this cluster

	mu      sync.Mutex
	closers []io.Closer
}

// DefaultSecret is the cluster secret of Netns clusters that name none.
const DefaultSecret = "clustertest-secret"

// Secret is the cluster's --cluster-secret ("" for none), which POST
// /join and /failover must be signed with (httpapi.SignRequest).
func (c *Cluster) Secret() string { return c.opts.Secret }

// Start runs o.Nodes voters n1..nN bootstrapped with --peers and waits
// until every one answers /readyz with 200. The processes are killed at
// cleanup; if the test failed, the tail of each node's log is logged first.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	c := StartAsync(t, o)
	deadline := time.Now().Add(readyTimeout)
	for _, n := range c.Nodes {
		n.waitReady(t, deadline)
	}
	return c
}

// StartAsync is Start without waiting for readiness, for a test that
// faults the cluster while it forms.
func StartAsync(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	if o.Shards <= 0 {
		o.Shards = 1
	}
	if (o.Netns || o.Docker) && o.Secret == "" && !o.Standalone {
		o.Secret = DefaultSecret
	}
	base := o.BaseDir
	if base == "" {
		base = t.TempDir()
	}
	c := &Cluster{t: t, opts: o, bin: Binary(t), base: base}
	if o.Netns {
		// Registered before c.cleanup, so it runs after the processes are gone.
		c.net = newNetwork(t)
	}
	if o.Docker {
		c.docker = newCompose(t, base, o.Image)
	}
	if o.TLS {
		c.tls = newClusterTLS(t)
	}
	t.Cleanup(c.cleanup)
	var peers []string
	for i := 1; i <= o.Nodes; i++ {
		n := c.newNode(t, "n"+strconv.Itoa(i))
		c.Nodes = append(c.Nodes, n)
		peers = append(peers, n.ID+"="+n.RaftAddr())
	}
	for _, n := range c.Nodes {
		n.Args = c.args(n, "--peers", strings.Join(peers, ","))
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Add starts a new node that joins through a running node's HTTP API
// (--join), with extra flags (say "--voter", "no"), and waits until it is
// ready.
// A loopback node that died because another process took one of its
// ports before it bound them (freePorts cannot hold them for the child)
// is given fresh ports and started again: it had not joined yet.
func (c *Cluster) Add(t testing.TB, id string, args ...string) *Node {
	t.Helper()
	n := c.AddAsync(t, id, args...)
	for attempt := 1; ; attempt++ {
		err := n.awaitReady(time.Now().Add(readyTimeout))
		if err == nil {
			return n
		}
		if !errors.Is(err, errPortTaken) || c.net != nil || c.docker != nil || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("clustertest: %s: a port was taken before it bound it; starting it again on fresh ports", id)
		ports, perr := c.freshPorts(5)
		if perr != nil {
			t.Fatal(perr)
		}
		n.Port, n.RaftPort, n.GossipPort, n.HTTPPort, n.SentinelPort = ports[0], ports[1], ports[2], ports[3], ports[4]
		n.Args = c.args(n, append([]string{"--join", n.joinVia}, args...)...)
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
}

// AddAsync is Add without waiting for readiness, for a node expected never
// to be admitted (a wrong cluster secret, say).
func (c *Cluster) AddAsync(t testing.TB, id string, args ...string) *Node {
	t.Helper()
	if c.Node(id) != nil {
		t.Fatalf("clustertest: Add %s: a node with that id exists", id)
	}
	reach := c.reachable()
	if len(reach) == 0 {
		t.Fatalf("clustertest: Add %s: no reachable node to join through", id)
	}
	n := c.newNode(t, id)
	n.joinVia = reach[0].HTTP()
	n.Args = c.args(n, append([]string{"--join", n.joinVia}, args...)...)
	c.Nodes = append(c.Nodes, n)
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	return n
}

// Node returns the node with this id, or nil.
func (c *Cluster) Node(id string) *Node {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// newNode picks the node's address and ports and makes its directory.
func (c *Cluster) newNode(t testing.TB, id string) *Node {
	t.Helper()
	dir := filepath.Join(c.base, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("clustertest: node dir: %v", err)
	}
	n := &Node{ID: id, Dir: dir, LogPath: filepath.Join(dir, "warden.log"), c: c}
	if c.net != nil || c.docker != nil {
		// A namespace of its own: the well-known ports are all free.
		if c.net != nil {
			n.ns, n.Host = c.net.addNode(t, id)
		} else {
			n.Host = c.docker.addNode(id)
		}
		n.Port, n.RaftPort, n.GossipPort, n.HTTPPort, n.SentinelPort = 6379, 7000, 7946, 8080, 26379
		return n
	}
	ports, err := c.freshPorts(5)
	if err != nil {
		t.Fatal(err)
	}
	n.Host = "127.0.0.1"
	n.Port, n.RaftPort, n.GossipPort, n.HTTPPort, n.SentinelPort = ports[0], ports[1], ports[2], ports[3], ports[4]
	return n
}

// args is the node's command line: the harness's flags, then extra
// (--peers or --join and the caller's), then Options.Args.
func (c *Cluster) args(n *Node, extra ...string) []string {
	a := []string{"server",
		"--port", strconv.Itoa(n.Port), "--bind", n.Host, "--dir", n.Dir,
		"--save", "", "--appendonly", "no", "--logfile", n.LogPath,
		// Replicas full-sync at once (Redis's default waits 5 s for more).
		"--repl-diskless-sync-delay", "0"}
	if !c.opts.Standalone {
		a = append(a,
			"--node-id", n.ID,
			"--raft-addr", n.RaftAddr(),
			"--gossip-addr", net.JoinHostPort(n.Host, strconv.Itoa(n.GossipPort)),
			"--http-addr", net.JoinHostPort(n.Host, strconv.Itoa(n.HTTPPort)),
			"--sentinel-port", strconv.Itoa(n.SentinelPort),
			"--announce-host", n.Host,
			"--shards", strconv.Itoa(c.opts.Shards))
		if c.opts.DownAfterMs > 0 {
			a = append(a, "--down-after-milliseconds", strconv.Itoa(c.opts.DownAfterMs))
		}
		if c.opts.LeaseMs > 0 {
			a = append(a, "--master-lease-ms", strconv.Itoa(c.opts.LeaseMs))
		}
		if c.opts.Secret != "" {
			a = append(a, "--cluster-secret", c.opts.Secret)
		}
	}
	if c.opts.Password != "" {
		a = append(a, "--requirepass", c.opts.Password)
	}
	if c.net != nil || c.docker != nil {
		a = append(a, "--protected-mode", "no")
	}
	a = append(a, c.tlsArgs(n)...)
	// Per-node flags come last so they override the cluster-wide ones.
	a = append(a, c.opts.Args...)
	if !c.opts.Standalone {
		a = append(a, extra...)
	}
	return a
}

// reachable returns the nodes that run, are not stopped and not partitioned.
func (c *Cluster) reachable() []*Node {
	var ns []*Node
	for _, n := range c.Nodes {
		if n.Running() && !n.Stopped() && !n.Partitioned() {
			ns = append(ns, n)
		}
	}
	return ns
}

// WaitFor polls cond every 20ms until it holds, failing the test with what
// after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitFor is the package's WaitFor.
func (c *Cluster) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	WaitFor(t, timeout, what, cond)
}

// Master waits until the reachable nodes (running, not stopped, not
// partitioned: the others cannot know) all name the same master for the
// shard in /status, and that node accepts a write (SET then DEL of
// clustertest:probe), and returns it.
func (c *Cluster) Master(t testing.TB, shard int) *Node {
	t.Helper()
	deadline := time.Now().Add(masterTimeout)
	for {
		n, why := c.agreedMaster(shard)
		if n != nil {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("clustertest: no agreed, writable master for shard %d within %v: %s", shard, masterTimeout, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// agreedMaster returns the master every reachable node names, if it takes
// a write, or why not.
func (c *Cluster) agreedMaster(shard int) (*Node, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	master := ""
	var views []string
	for _, n := range c.reachable() {
		st, err := n.Status(ctx)
		if err != nil {
			return nil, err.Error()
		}
		m := ""
		if sh := st.Shard(shard); sh != nil {
			m = sh.Master
		}
		views = append(views, n.ID+" says "+strconv.Quote(m))
		if m == "" || (master != "" && m != master) {
			return nil, strings.Join(views, ", ")
		}
		master = m
	}
	if master == "" {
		return nil, "no reachable node"
	}
	n := c.Node(master)
	if n == nil || !n.Running() || n.Stopped() || n.Partitioned() {
		return nil, fmt.Sprintf("all name %s, which is not a reachable node of this cluster", master)
	}
	cl := redis.NewClient(&redis.Options{Addr: n.Addr(), Password: c.opts.Password, DialTimeout: time.Second, MaxRetries: -1, ContextTimeoutEnabled: true,
		TLSConfig: c.TLSConfig()})
	defer cl.Close()
	if err := cl.Set(ctx, probeKey, n.ID, 0).Err(); err != nil {
		return nil, fmt.Sprintf("all name %s, SET there: %v", master, err)
	}
	if err := cl.Del(ctx, probeKey).Err(); err != nil {
		return nil, fmt.Sprintf("all name %s, DEL there: %v", master, err)
	}
	return n, ""
}

// Partition drops all traffic between n and the other nodes; the test's
// own clients (from the bridge address) still reach it. Needs Netns.
func (c *Cluster) Partition(n *Node) { c.setPartition(n, true) }

// Heal undoes Partition.
func (c *Cluster) Heal(n *Node) { c.setPartition(n, false) }

// Cut is one direction of one link, as seen from the node being cut:
// In drops what it receives from Peer, else what it sends to Peer.
type Cut struct {
	Peer *Node
	In   bool
}

// CutLinks puts cuts into n's firewall one at a time, gap apart, as real
// links fail, and returns when each rule was in (from the start). n
// counts as partitioned from then on; Heal clears every cut. Needs Netns
// or Docker.
func (c *Cluster) CutLinks(n *Node, gap time.Duration, cuts ...Cut) []time.Duration {
	if c.net == nil && c.docker == nil {
		c.t.Errorf("clustertest: cut %s: the cluster was not started with Options.Netns or Docker", n.ID)
		return nil
	}
	pre, err := n.nsPrefix()
	if err != nil {
		c.t.Errorf("clustertest: cut %s: %v", n.ID, err)
		return nil
	}
	var as []*armed
	defer func() {
		for _, a := range as {
			if a != nil {
				a.abort()
			}
		}
	}()
	for _, ct := range cuts {
		chain := "OUTPUT"
		if ct.In {
			chain = "INPUT"
		}
		a, err := arm(pre, cutArgs(chain, ct.Peer.Host))
		if err != nil {
			c.t.Errorf("clustertest: cut %s: %v", n.ID, err)
			return nil
		}
		as = append(as, a)
	}
	n.mu.Lock()
	n.partitioned = true
	n.mu.Unlock()
	var at []time.Duration
	start := time.Now()
	for i, a := range as {
		if i > 0 { // gap after the previous rule went in, however long that took
			time.Sleep(gap)
		}
		as[i] = nil
		if err := a.fire(); err != nil {
			c.t.Errorf("clustertest: cut %s: %v", n.ID, err)
		}
		at = append(at, time.Since(start))
	}
	return at
}

func (c *Cluster) setPartition(n *Node, on bool) {
	if c.docker != nil {
		if err := c.dockerPartition(n, on); err != nil {
			c.t.Errorf("clustertest: partition %s (%v): %v", n.ID, on, err)
			return
		}
		n.mu.Lock()
		n.partitioned = on
		n.mu.Unlock()
		return
	}
	if c.net == nil {
		c.t.Errorf("clustertest: Partition/Heal %s: the cluster was not started with Options.Netns", n.ID)
		return
	}
	if err := c.net.partition(n.ns, on); err != nil {
		c.t.Errorf("clustertest: partition %s (%v): %v", n.ID, on, err)
		return
	}
	n.mu.Lock()
	n.partitioned = on
	n.mu.Unlock()
}

func (c *Cluster) addCloser(cl io.Closer) {
	c.mu.Lock()
	c.closers = append(c.closers, cl)
	c.mu.Unlock()
}

// cleanup logs each node's log tail if the test failed, closes clients and
// kills the processes.
func (c *Cluster) cleanup() {
	if c.t.Failed() {
		for _, n := range c.Nodes {
			c.t.Logf("--- %s (%s) log tail ---\n%s", n.ID, n.Addr(), n.LogTail(logTailLines))
		}
	}
	c.mu.Lock()
	for _, cl := range c.closers {
		cl.Close()
	}
	c.closers = nil
	c.mu.Unlock()
	for _, n := range c.Nodes {
		n.Kill()
	}
}
