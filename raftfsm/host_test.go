package raftfsm

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

const clusterWait = 30 * time.Second

// testLogWriter sends raft's log lines to t.Log until the test ends;
// raft's goroutines may still write after that, which t.Log forbids.
type testLogWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// freeAddr finds a loopback port nobody listens on: listen on :0, close.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type testHost struct {
	t      *testing.T
	cfg    HostConfig
	h      *Host
	closed bool
}

func (th *testHost) id() string { return th.cfg.ID }

func openHost(t *testing.T, cfg HostConfig) *testHost {
	t.Helper()
	h, err := Open(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.ID, err)
	}
	th := &testHost{t: t, cfg: cfg, h: h}
	t.Cleanup(th.close)
	return th
}

func (th *testHost) close() {
	if th.closed {
		return
	}
	th.closed = true
	if err := th.h.Close(); err != nil {
		th.t.Errorf("close %s: %v", th.id(), err)
	}
}

// reopen starts the host again from its directory with its config.
func (th *testHost) reopen(t *testing.T) *testHost {
	t.Helper()
	if !th.closed {
		t.Fatalf("reopen of running host %s", th.id())
	}
	return openHost(t, th.cfg)
}

func hostConfig(t *testing.T, id, addr, secret string, peers []raft.Server, log *slog.Logger) HostConfig {
	return HostConfig{
		ID: id, Dir: t.TempDir(), Bind: addr, Secret: secret, Peers: peers,
		DownAfter: 2 * time.Second, Logger: log,
	}
}

// startCluster opens n voters that bootstrap together from one peer list.
func startCluster(t *testing.T, n int, secret string, log *slog.Logger) []*testHost {
	t.Helper()
	spec := ""
	addrs := make([]string, n)
	for i := range n {
		addrs[i] = freeAddr(t)
		if i > 0 {
			spec += ","
		}
		spec += fmt.Sprintf("n%d=%s", i+1, addrs[i])
	}
	peers, err := ParsePeers(spec)
	if err != nil {
		t.Fatal(err)
	}
	hosts := make([]*testHost, n)
	for i := range n {
		hosts[i] = openHost(t, hostConfig(t, fmt.Sprintf("n%d", i+1), addrs[i], secret, peers, log))
	}
	return hosts
}

func running(hosts []*testHost) []*testHost {
	var out []*testHost
	for _, h := range hosts {
		if !h.closed {
			out = append(out, h)
		}
	}
	return out
}

// waitLeader waits until exactly one running host leads and every other
// running host follows it.
func waitLeader(t *testing.T, hosts []*testHost) *testHost {
	t.Helper()
	var leader *testHost
	waitFor(t, clusterWait, "one leader followed by all", func() bool {
		leader = nil
		live := running(hosts)
		for _, h := range live {
			if h.h.Raft.State() == raft.Leader {
				if leader != nil {
					return false
				}
				leader = h
			}
		}
		if leader == nil {
			return false
		}
		for _, h := range live {
			if _, id := h.h.Raft.LeaderWithID(); string(id) != leader.id() {
				return false
			}
		}
		// Right after an election a loaded machine can still depose the
		// new leader: only one that has committed an entry counts.
		return leader.h.Raft.Barrier(2*time.Second).Error() == nil
	})
	return leader
}

// waitConverged waits until every running host's FSM equals want, all at
// one index: want's, or later when only marks followed (Apply appends a
// mark behind each command to tell followers of its commit).
func waitConverged(t *testing.T, hosts []*testHost, want *State) {
	t.Helper()
	w := *want
	w.Index = 0
	waitFor(t, clusterWait, fmt.Sprintf("all FSMs at one index from %d, equal to the leader's", want.Index), func() bool {
		var idx uint64
		for i, h := range running(hosts) {
			got := *h.h.FSM.State()
			if got.Index < want.Index || (i > 0 && got.Index != idx) {
				return false
			}
			idx, got.Index = got.Index, 0
			if !reflect.DeepEqual(&got, &w) {
				return false
			}
		}
		return true
	})
}

func mustApply(t *testing.T, h *testHost, c Command) {
	t.Helper()
	if err := h.h.Apply(c, 5*time.Second); err != nil {
		t.Fatalf("apply %s on %s: %v", c.Op, h.id(), err)
	}
}

func TestHostClusterReplicatesFailsOverAndRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node raft cluster; skipped in -short")
	}
	log := testLogger(t)
	hosts := startCluster(t, 3, "s3cret", log)
	leader := waitLeader(t, hosts)

	mustApply(t, leader, Command{Op: OpInit, Name: "mymaster", Shards: 1, ReplicasPerShard: 2})
	for _, h := range hosts {
		mustApply(t, leader, Command{Op: OpAddNode, Node: testNode(h.id(), "127.0.0.1")})
	}
	want := leader.h.FSM.State()
	if len(want.Nodes) != 3 || want.Shards[0].Master != "n1" || want.Epoch != 1 {
		t.Fatalf("leader state after setup: %+v", want)
	}
	waitConverged(t, hosts, want)

	// Followers refuse writes; the caller forwards to the leader.
	for _, h := range hosts {
		if h == leader {
			continue
		}
		err := h.h.Apply(Command{Op: OpAddNode, Node: testNode("x", "x")}, time.Second)
		if !errors.Is(err, raft.ErrNotLeader) {
			t.Fatalf("Apply on follower %s: %v, want raft.ErrNotLeader", h.id(), err)
		}
	}
	// The FSM's verdict comes back through Host.Apply.
	err := leader.h.Apply(Command{Op: OpSetMaster, Shard: 0, ID: "n2", PrevEpoch: 0}, 5*time.Second)
	if !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("stale set_master through raft: %v, want ErrStaleEpoch", err)
	}

	// Snapshot everywhere, then log one more entry past the snapshot.
	snapState := leader.h.FSM.State()
	waitConverged(t, hosts, snapState)
	for _, h := range hosts {
		if err := h.h.Raft.Snapshot().Error(); err != nil {
			t.Fatalf("snapshot on %s: %v", h.id(), err)
		}
	}
	mustApply(t, leader, Command{Op: OpSetMaster, Shard: 0, ID: "n2", PrevEpoch: 1})
	waitConverged(t, hosts, leader.h.FSM.State())

	// Lose the leader: the other two elect one that can commit.
	old := leader
	old.close()
	leader = waitLeader(t, hosts)
	if leader == old {
		t.Fatal("closed host still leader")
	}
	mustApply(t, leader, Command{Op: OpAddNode, Node: testNode("d5", "127.0.0.2")})
	want = leader.h.FSM.State()
	if want.Nodes["d5"] == nil || want.Shards[0].Master != "n2" || want.Failovers != 1 {
		t.Fatalf("state after leader change: %+v", want)
	}
	waitConverged(t, hosts, want)

	// Restart the old leader with the same peers: no second bootstrap, and
	// its snapshot is restored before it hears from anyone.
	var idx int
	for i, h := range hosts {
		if h == old {
			idx = i
		}
	}
	hosts[idx] = old.reopen(t)
	if got := hosts[idx].h.FSM.State(); got.Index < snapState.Index || len(got.Nodes) < 3 {
		t.Fatalf("restarted host did not restore its snapshot: index %d nodes %d", got.Index, len(got.Nodes))
	}
	waitConverged(t, hosts, want)
	cf := hosts[idx].h.Raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		t.Fatal(err)
	}
	if n := len(cf.Configuration().Servers); n != 3 {
		t.Fatalf("restarted host sees %d servers, want 3", n)
	}
	leader = waitLeader(t, hosts)
	mustApply(t, leader, Command{Op: OpAddNode, Node: testNode("d6", "127.0.0.3")})
	want = leader.h.FSM.State()
	waitConverged(t, hosts, want)

	// Stop everyone and start again: the record comes back from disk alone
	// (snapshot plus the log after it), and the cluster commits again.
	for _, h := range hosts {
		h.close()
	}
	for i, h := range hosts {
		hosts[i] = h.reopen(t)
	}
	leader = waitLeader(t, hosts)
	waitConverged(t, hosts, want)
	mustApply(t, leader, Command{Op: OpRemoveNode, ID: "d6"})
	want = leader.h.FSM.State()
	if want.Nodes["d6"] != nil || want.Nodes["d5"] == nil {
		t.Fatalf("state after full restart: %+v", want.Nodes)
	}
	waitConverged(t, hosts, want)
}

func TestHostForeignSecretNeverReceivesLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a five-node raft cluster; skipped in -short")
	}
	log := testLogger(t)
	hosts := startCluster(t, 3, "right", log)
	leader := waitLeader(t, hosts)

	// Neither joiner bootstraps: they wait to be added.
	bad := openHost(t, hostConfig(t, "n4", freeAddr(t), "wrong", nil, log))
	good := openHost(t, hostConfig(t, "n5", freeAddr(t), "right", nil, log))
	if err := leader.h.Raft.AddVoter("n4", raft.ServerAddress(bad.cfg.Bind), 0, 5*time.Second).Error(); err != nil {
		t.Fatalf("AddVoter n4: %v", err) // 3 of 4 voters still commit
	}
	if err := leader.h.Raft.AddNonvoter("n5", raft.ServerAddress(good.cfg.Bind), 0, 5*time.Second).Error(); err != nil {
		t.Fatalf("AddNonvoter n5: %v", err)
	}
	mustApply(t, leader, Command{Op: OpInit, Name: "m", Shards: 1})
	mustApply(t, leader, Command{Op: OpAddNode, Node: testNode("n1", "127.0.0.1")})
	want := leader.h.FSM.State()
	waitConverged(t, append(hosts, good), want)
	// One more round trip, so the leader has had every chance to reach n4.
	mustApply(t, leader, Command{Op: OpAddNode, Node: testNode("n2", "127.0.0.1")})
	want = leader.h.FSM.State()
	waitConverged(t, append(hosts, good), want)

	if got := bad.h.FSM.State(); got.Index != 0 || len(got.Nodes) != 0 || len(got.Shards) != 0 {
		t.Fatalf("host with the wrong secret applied entries: %+v", got)
	}
	if li := bad.h.Raft.LastIndex(); li != 0 {
		t.Fatalf("host with the wrong secret stored log up to %d", li)
	}
	if good.h.Raft.State() != raft.Follower {
		t.Fatalf("non-voter state %v", good.h.Raft.State())
	}
	if err := good.h.Apply(Command{Op: OpInit}, time.Second); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("Apply on the non-voter: %v, want raft.ErrNotLeader", err)
	}
}

func TestOpenFailsOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := hostConfig(t, "n1", ln.Addr().String(), "s", nil, testLogger(t))
	if h, err := Open(cfg); err == nil {
		h.Close()
		t.Fatal("Open on a port in use succeeded")
	}
	// The bolt file was released: a second Open on the same dir works.
	cfg.Bind = freeAddr(t)
	openHost(t, cfg)
}
