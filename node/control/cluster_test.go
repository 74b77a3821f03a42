package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
)

// These tests run real warden processes (internal/clustertest) on loopback
// and fault them: kill -9, SIGSTOP, network partitions.

// quietLogger drops go-redis's own log lines: a failover client logs every
// refused dial while the master is down.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietLogger{}) }

func statusOf(t testing.TB, n *clustertest.Node) clustertest.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatalf("status of %s: %v", n.ID, err)
	}
	return st
}

// role asks a node itself (ROLE), not the record.
func role(n *clustertest.Node) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := n.Client().Do(ctx, "ROLE").Slice()
	if err != nil || len(v) == 0 {
		return ""
	}
	s, _ := v[0].(string)
	return s
}

func TestClusterBootstrapAgreesAndJoins(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	m := c.Master(t, 0)
	// Every node reports the same leader, master, epoch and membership.
	c.WaitFor(t, 30*time.Second, "all nodes agree on /status", func() bool {
		var first string
		for _, n := range c.Nodes {
			st, err := n.Status(context.Background())
			if err != nil || st.Leader.NodeID == "" || len(st.Shards) != 1 {
				return false
			}
			key := fmt.Sprintf("%s/%s/%d/%d", st.Leader.NodeID, st.Shards[0].Master, st.Epoch, len(st.Members))
			if first == "" {
				first = key
			} else if key != first {
				return false
			}
		}
		return true
	})
	st := statusOf(t, m)
	if got := st.Shards[0].Master; got != m.ID || len(st.Shards[0].Replicas) != 2 {
		t.Fatalf("shard 0 = %+v, want master %s with 2 replicas", st.Shards[0], m.ID)
	}
	ctx := context.Background()
	if err := m.Client().Set(ctx, "before-join", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}

	n4 := c.Add(t, "n4")
	n5 := c.Add(t, "n5", "--voter", "no")
	for _, n := range []*clustertest.Node{n4, n5} {
		c.WaitFor(t, 15*time.Second, n.ID+" replicates the master", func() bool {
			v, err := n.Client().Get(ctx, "before-join").Result()
			return err == nil && v == "1" && role(n) == "slave"
		})
	}
	st = statusOf(t, n5)
	if st.Member("n4") == nil || !st.Member("n4").Voter {
		t.Fatalf("n4 should be a voter: %+v", st.Members)
	}
	if st.Member("n5") == nil || st.Member("n5").Voter {
		t.Fatalf("n5 should be a non-voter: %+v", st.Members)
	}
	if r := st.Shards[0].Replicas; !slices.Contains(r, "n4") || !slices.Contains(r, "n5") {
		t.Fatalf("joined nodes are not replicas of shard 0: %v", r)
	}
	// Operators' views of the same record: the CLI, metrics, CLUSTER NODES.
	out, err := exec.Command(clustertest.Binary(t), "status", "--http", strings.TrimPrefix(n5.HTTP(), "http://")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), m.ID) || !strings.Contains(string(out), "n4") {
		t.Fatalf("warden status: %v\n%s", err, out)
	}
	t.Logf("warden status:\n%s", out)
	resp, err := http.Get(m.HTTP() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"warden_raft_term ", `warden_role{role="master"} 1`, "warden_config_epoch ", "warden_replica_lag_bytes{"} {
		if !strings.Contains(string(metrics), want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	nodes, err := n4.Client().Do(ctx, "CLUSTER", "NODES").Text()
	if err != nil || !strings.Contains(nodes, "myself,slave "+m.ID) || strings.Count(nodes, "\n") != 5 {
		t.Fatalf("CLUSTER NODES on n4: %v\n%s", err, nodes)
	}
	// Restarting with the same --peers list is harmless.
	m2 := c.Node("n2")
	m2.Restart(t)
	c.WaitFor(t, 15*time.Second, "n2 ready after restart", func() bool {
		st, err := m2.Status(ctx)
		return err == nil && st.Leader.NodeID != "" && len(st.Members) == 5
	})
}

// writer writes increasing keys; each SET is followed by WAIT 1 and only
// writes a replica acknowledged are recorded as acked, along with the
// longest time between two acknowledgements (the pause a client saw).
type writer struct {
	mu      sync.Mutex
	acked   []string
	last    time.Time
	longest time.Duration
	errs    atomic.Int64
	n       atomic.Int64
}

func (w *writer) run(ctx context.Context, c *clustertest.Cluster, prefix string) {
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("%s:%d", prefix, i)
		m := currentMaster(c)
		if m == nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		cl := m.Client()
		cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := cl.Set(cctx, key, "v", 0).Err()
		var n int64
		if err == nil {
			n, err = cl.Do(cctx, "WAIT", 1, 200).Int64()
		}
		cancel()
		if err != nil || n < 1 {
			w.errs.Add(1)
			continue
		}
		w.n.Add(1)
		w.mu.Lock()
		w.acked = append(w.acked, key)
		now := time.Now()
		if !w.last.IsZero() {
			w.longest = max(w.longest, now.Sub(w.last))
		}
		w.last = now
		w.mu.Unlock()
	}
}

// currentMaster is the node a running node's record names master.
func currentMaster(c *clustertest.Cluster) *clustertest.Node {
	for _, n := range c.Nodes {
		if !n.Running() || n.Stopped() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		st, err := n.Status(ctx)
		cancel()
		if err == nil && len(st.Shards) > 0 && st.Shards[0].Master != "" {
			if m := c.Node(st.Shards[0].Master); m != nil && m.Running() {
				return m
			}
		}
	}
	return nil
}

// firstWrite polls every surviving node with a SET until one accepts it
// and returns that node.
func firstWrite(t testing.TB, c *clustertest.Cluster, dead *clustertest.Node, timeout time.Duration) *clustertest.Node {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, n := range c.Nodes {
			if n == dead || !n.Running() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			err := n.Client().Set(ctx, "probe", "1", 0).Err()
			cancel()
			if err == nil {
				return n
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no node accepted a write within %v of the kill", timeout)
	return nil
}

func TestKillMasterFailoverTimes(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	const kills = 10
	var times []time.Duration
	for k := range kills {
		m := c.Master(t, 0)
		ctx, cancel := context.WithCancel(context.Background())
		w := &writer{}
		done := make(chan struct{})
		go func() { defer close(done); w.run(ctx, c, fmt.Sprintf("k%d", k)) }()
		c.WaitFor(t, 30*time.Second, "writes acknowledged before the kill", func() bool { return w.n.Load() >= 20 })

		m.Kill()
		start := time.Now()
		nm := firstWrite(t, c, m, 30*time.Second)
		took := time.Since(start)
		times = append(times, took)
		t.Logf("kill %d: %s -> %s, first write accepted after %v", k+1, m.ID, nm.ID, took)
		c.WaitFor(t, 30*time.Second, "writes resume on the new master", func() bool { return w.n.Load() >= 40 })
		cancel()
		<-done

		// No write acknowledged with WAIT 1 is lost.
		w.mu.Lock()
		acked := slices.Clone(w.acked)
		w.mu.Unlock()
		pipe := nm.Client().Pipeline()
		cmds := make([]*redis.IntCmd, len(acked))
		for i, key := range acked {
			cmds[i] = pipe.Exists(context.Background(), key)
		}
		if _, err := pipe.Exec(context.Background()); err != nil {
			t.Fatalf("read back: %v", err)
		}
		for i, cmd := range cmds {
			if cmd.Val() != 1 {
				t.Fatalf("kill %d: acknowledged write %s lost on new master %s", k+1, acked[i], nm.ID)
			}
		}

		// The old master comes back as a replica of the new one.
		m.Restart(t)
		c.WaitFor(t, 20*time.Second, m.ID+" rejoins as a replica with the data", func() bool {
			if role(m) != "slave" {
				return false
			}
			n, err := m.Client().Exists(context.Background(), acked[len(acked)-1]).Result()
			return err == nil && n == 1
		})
	}
	sorted := slices.Clone(times)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	med := sorted[len(sorted)/2]
	t.Logf("FAILOVER kill -9 master -> first accepted write: median %v, max %v over %d kills (all: %v)",
		med, sorted[len(sorted)-1], kills, times)
	// The 2 s goal is a figure (bench/), not a condition a busy machine
	// can be held to: every kill above already had to fail over.
	if med > 2*time.Second {
		t.Logf("median failover %v is over the 2 s goal (loaded machine?)", med)
	}
}

func TestKillReplicaKeepsMasterWriting(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	m := c.Master(t, 0)
	var r *clustertest.Node
	for _, n := range c.Nodes {
		if n != m {
			r = n
			break
		}
	}
	r.Kill()
	c.WaitFor(t, 30*time.Second, r.ID+" shown as fail", func() bool {
		st, err := m.Status(context.Background())
		return err == nil && st.Member(r.ID) != nil && st.Member(r.ID).State == "fail"
	})
	// With one replica down the lease rests on the one heartbeat path left:
	// on a starved machine a late heartbeat lets it lapse for a moment and
	// the master fences (CLUSTERDOWN) until the next renews it, which is the
	// fence working. The master must take the write once renewed; any other
	// refusal, or none accepted within the deadline, fails.
	ctx := context.Background()
	fenced := 0
	c.WaitFor(t, 30*time.Second, m.ID+" to take a write with "+r.ID+" down", func() bool {
		err := m.Client().Set(ctx, "still", "writing", 0).Err()
		if err != nil && !strings.HasPrefix(err.Error(), "CLUSTERDOWN") {
			t.Fatalf("master refused a write with one replica down: %v", err)
		}
		if err != nil {
			fenced++
		}
		return err == nil
	})
	if fenced > 0 {
		t.Logf("the master fenced %d writes (lease lapsed for a moment) before taking one", fenced)
	}
	if st := statusOf(t, m); st.Shards[0].Master != m.ID {
		t.Fatalf("a replica's death changed the master: %+v", st.Shards[0])
	}
	r.Restart(t)
	c.WaitFor(t, 15*time.Second, r.ID+" back and caught up", func() bool {
		v, err := r.Client().Get(ctx, "still").Result()
		return err == nil && v == "writing"
	})
}

// SIGSTOP the master for longer than its lease, both when it is the Raft
// leader (a deposed leader must not trust heartbeat answers that were in
// flight when it stopped) and when it is a follower (it must not trust
// messages that queued up while it was stopped).
func TestSigstopMasterIsFencedAndRejoins(t *testing.T) {
	for _, leader := range []bool{true, false} {
		t.Run(fmt.Sprintf("leader=%v", leader), func(t *testing.T) { sigstopMaster(t, leader) })
	}
}

// placeMaster makes shard 0's master the Raft leader (or not) with a
// manual failover, and returns it.
func placeMaster(t *testing.T, c *clustertest.Cluster, onLeader bool) *clustertest.Node {
	t.Helper()
	m := c.Master(t, 0)
	st := statusOf(t, m)
	if (st.Leader.NodeID == m.ID) == onLeader {
		return m
	}
	target := ""
	for _, id := range st.Shards[0].Replicas {
		if (id == st.Leader.NodeID) == onLeader {
			target = id
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	code, body, err := m.Post(ctx, "/failover?shard=0&target="+target)
	if err != nil {
		t.Fatal(err)
	}
	if code != 200 {
		t.Fatalf("failover to %s: %d %s", target, code, body)
	}
	m = c.Master(t, 0)
	if (statusOf(t, m).Leader.NodeID == m.ID) != onLeader {
		t.Fatalf("master %s: leader placement did not take", m.ID)
	}
	return m
}

func sigstopMaster(t *testing.T, onLeader bool) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	m := placeMaster(t, c, onLeader)
	ctx := context.Background()
	// A plain client connected to the master before it is demoted.
	held := m.Client()
	if err := held.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	nm := firstWrite(t, c, m, 30*time.Second)
	if nm == m {
		t.Fatal("the stopped master cannot have answered")
	}
	if err := nm.Client().Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Fatal(err)
	}
	m.Cont()
	// Its lease expired while it was stopped: the very first write it
	// sees after waking must be refused, and it must become a replica.
	err := m.Client().Set(ctx, "k", "stale", 0).Err()
	if err == nil {
		t.Fatal("the old master accepted a write after SIGCONT")
	}
	t.Logf("old master's answer right after SIGCONT: %v", err)
	c.WaitFor(t, 15*time.Second, m.ID+" rejoins as replica", func() bool {
		v, err := m.Client().Get(ctx, "k").Result()
		return role(m) == "slave" && err == nil && v == "after"
	})
	assertOneMaster(t, c)
}

// assertOneMaster checks that exactly one running node says ROLE master.
func assertOneMaster(t testing.TB, c *clustertest.Cluster) {
	t.Helper()
	var masters []string
	for _, n := range c.Nodes {
		if n.Running() && role(n) == "master" {
			masters = append(masters, n.ID)
		}
	}
	if len(masters) != 1 {
		t.Fatalf("masters = %v, want exactly one", masters)
	}
}

func TestPartitionedMasterStopsWritesAndHeals(t *testing.T) {
	for _, leader := range []bool{true, false} {
		t.Run(fmt.Sprintf("leader=%v", leader), func(t *testing.T) { partitionMaster(t, leader) })
	}
}

func partitionMaster(t *testing.T, onLeader bool) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Netns: true})
	m := placeMaster(t, c, onLeader)
	ctx := context.Background()
	// No retries: go-redis retries CLUSTERDOWN/READONLY with backoff, which
	// would blur the moment the fence went up.
	cl := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { cl.Close() })
	if err := cl.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Partition(m)
	start := time.Now()
	// The test client still reaches the old master; it must refuse writes
	// within its lease (750 ms by default).
	var fencedAfter time.Duration
	c.WaitFor(t, 30*time.Second, "partitioned master refuses writes", func() bool {
		err := cl.Set(ctx, "k", "minority", 0).Err()
		if err != nil && (strings.HasPrefix(err.Error(), "CLUSTERDOWN") || strings.HasPrefix(err.Error(), "READONLY")) {
			fencedAfter = time.Since(start)
			return true
		}
		return false
	})
	t.Logf("partitioned master fenced after %v", fencedAfter)
	nm := firstWrite(t, c, m, 30*time.Second)
	promotedAfter := time.Since(start)
	t.Logf("majority promoted %s; first write accepted %v after the partition", nm.ID, promotedAfter)
	if promotedAfter < fencedAfter {
		t.Fatalf("new master took writes (%v) before the old one was fenced (%v)", promotedAfter, fencedAfter)
	}
	if err := nm.Client().Set(ctx, "k", "majority", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Heal(m)
	c.WaitFor(t, 20*time.Second, "old master rejoins as replica", func() bool {
		v, err := m.Client().Get(ctx, "k").Result()
		return role(m) == "slave" && err == nil && v == "majority"
	})
	assertOneMaster(t, c)
}

func TestFailoverClientSurvivesFailover(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	m := c.Master(t, 0)
	var sentinels []string
	for _, n := range c.Nodes {
		sentinels = append(sentinels, n.SentinelAddr())
	}
	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: sentinels,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
		// go-redis retries a refused dial 5 times with backoff by default;
		// when the dead master was also the sentinel it asked, that alone
		// costs seconds before it asks another sentinel.
		DialerRetries: 1, MaxRetries: -1})
	t.Cleanup(func() { fc.Close() })
	ctx := context.Background()
	if err := fc.Set(ctx, "fc", 0, 0).Err(); err != nil {
		t.Fatalf("failover client before the kill: %v", err)
	}
	m.Kill()
	start := time.Now()
	var firstOK time.Duration
	errs := 0
	for i := 1; ; i++ {
		err := fc.Incr(ctx, "fc").Err()
		if err == nil {
			firstOK = time.Since(start)
			break
		}
		errs++
		if time.Since(start) > 30*time.Second {
			t.Fatalf("failover client never recovered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("failover client: first successful write %v after the kill (%d errors during the switch)", firstOK, errs)
	for i := 0; i < 100; i++ { // after the switch: no more errors
		if err := fc.Incr(ctx, "fc").Err(); err != nil {
			t.Fatalf("error after the switch: %v", err)
		}
	}
	nm := currentMaster(c)
	if v, err := nm.Client().Get(ctx, "fc").Int(); err != nil || v < 101 {
		t.Fatalf("new master %s has fc=%d (%v), want >= 101", nm.ID, v, err)
	}
	if addr, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", fmt.Sprint(nm.SentinelPort),
		"SENTINEL", "get-master-addr-by-name", "mymaster").Output(); err != nil || !strings.Contains(string(addr), fmt.Sprint(nm.Port)) {
		t.Fatalf("redis-cli SENTINEL get-master-addr-by-name = %q (%v), want port %d", addr, err, nm.Port)
	}
	m.Restart(t)
	c.WaitFor(t, 15*time.Second, m.ID+" is a replica", func() bool { return role(m) == "slave" })
}

func TestManualFailover(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	ctx := context.Background()

	failover := func(how string, do func(m *clustertest.Node) error) {
		m := c.Master(t, 0)
		epoch := statusOf(t, m).Epoch
		wctx, cancel := context.WithCancel(ctx)
		w := &writer{}
		done := make(chan struct{})
		go func() { defer close(done); w.run(wctx, c, how) }()
		c.WaitFor(t, 30*time.Second, "writes flowing", func() bool { return w.n.Load() >= 20 })
		// A plain client on the master about to be demoted gets disconnected.
		held, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		start := time.Now()
		if err := do(m); err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		c.WaitFor(t, 15*time.Second, how+": a new master", func() bool {
			st, err := m.Status(ctx)
			return err == nil && st.Shards[0].Master != m.ID && st.Epoch > epoch
		})
		t.Logf("%s: switched in %v", how, time.Since(start))
		n0 := w.n.Load()
		c.WaitFor(t, 30*time.Second, how+": writes resume", func() bool { return w.n.Load() >= n0+20 })
		cancel()
		<-done
		nm := currentMaster(c)
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, key := range w.acked {
			if n, err := nm.Client().Exists(ctx, key).Result(); err != nil || n != 1 {
				t.Fatalf("%s: acknowledged write %s lost (%v)", how, key, err)
			}
		}
		c.WaitFor(t, 30*time.Second, how+": old master is a replica", func() bool { return role(m) == "slave" })
		held.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := held.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("%s: a client of the demoted master was not disconnected: %v", how, err)
		}
	}

	failover("http", func(m *clustertest.Node) error {
		resp, err := http.Post(c.Nodes[0].HTTP()+"/failover?shard=0", "", nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("POST /failover: %s", resp.Status)
		}
		return nil
	})
	failover("sentinel", func(m *clustertest.Node) error {
		out, err := exec.Command("redis-cli", "-p", fmt.Sprint(c.Nodes[1].SentinelPort), "SENTINEL", "FAILOVER", "mymaster").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			return fmt.Errorf("SENTINEL FAILOVER: %q %v", out, err)
		}
		return nil
	})
	failover("cluster-failover", func(m *clustertest.Node) error {
		for _, n := range c.Nodes {
			if n != m {
				return n.Client().Do(ctx, "CLUSTER", "FAILOVER").Err()
			}
		}
		return errors.New("no replica")
	})
}

// The cluster secret guards Raft, gossip and /join: a node with the wrong
// one is never admitted, an unauthenticated /join is refused, and the
// cluster with the right one works as usual.
func TestClusterSecret(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Args: []string{"--cluster-secret", "s3cret"}})
	m := c.Master(t, 0)
	resp, err := http.Post(m.HTTP()+"/join", "application/json",
		strings.NewReader(`{"id":"x","raft_addr":"127.0.0.1:1","redis_addr":"127.0.0.1:2","voter":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated /join: %s, want 401", resp.Status)
	}
	intruder := c.AddAsync(t, "n4", "--cluster-secret", "wrong")
	ctx := context.Background()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if ok, _ := intruder.Ready(ctx); ok {
			t.Fatal("a node with the wrong secret became ready")
		}
		if st := statusOf(t, m); st.Member("n4") != nil || len(st.Members) != 3 {
			t.Fatalf("a node with the wrong secret was admitted: %+v", st.Members)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := m.Client().Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, _ := intruder.Client().Get(ctx, "k").Result(); v == "v" {
		t.Fatal("the intruder got the data")
	}
}

// The Raft leader is also the master (as after bootstrap): killing it loses
// both at once; a new leader is elected and promotes a replica.
func TestKillLeaderThatIsMaster(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	m := placeMaster(t, c, true)
	ctx := context.Background()
	if err := m.Client().Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Client().Do(ctx, "WAIT", 2, 2000).Result(); err != nil {
		t.Fatal(err)
	}
	m.Kill()
	start := time.Now()
	nm := firstWrite(t, c, m, 30*time.Second)
	t.Logf("leader+master %s killed: %s took writes after %v", m.ID, nm.ID, time.Since(start))
	st := statusOf(t, nm)
	if st.Leader.NodeID == "" || st.Leader.NodeID == m.ID || st.Shards[0].Master != nm.ID {
		t.Fatalf("after the kill: leader %q, master %q", st.Leader.NodeID, st.Shards[0].Master)
	}
	if v, err := nm.Client().Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("new master lost k: %q %v", v, err)
	}
}
