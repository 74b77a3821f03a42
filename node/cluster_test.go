package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/clusterview"
	"github.com/wardenkv/warden/node/config"
	"github.com/wardenkv/warden/slotmap"
)

// fakeCluster stands in for the control plane.
type fakeCluster struct {
	master  atomic.Bool
	epoch   atomic.Uint64
	refusal atomic.Pointer[string]
}

func (f *fakeCluster) WriteRefusal() string {
	if !f.master.Load() {
		return "READONLY You can't write against a read only replica."
	}
	if p := f.refusal.Load(); p != nil {
		return *p
	}
	return ""
}
func (f *fakeCluster) MasterEpoch() (bool, uint64)      { return f.master.Load(), f.epoch.Load() }
func (f *fakeCluster) MyID() string                     { return "n1" }
func (f *fakeCluster) Name() string                     { return "n1" }
func (f *fakeCluster) Health(string) clusterview.Health { return clusterview.Alive }
func (f *fakeCluster) Offset(string) int64              { return 0 }
func (f *fakeCluster) Failover(context.Context, bool) error {
	return errors.New("no leader")
}
func (f *fakeCluster) HandOff(context.Context) error { return errors.New("no leader") }

func (f *fakeCluster) refuse(msg string) { f.refusal.Store(&msg) }

// startClusterServer is startServer in cluster mode with fc as the control plane.
func startClusterServer(t *testing.T, fc Cluster) (*Server, string) {
	t.Helper()
	cfg := config.New()
	for _, kv := range [][2]string{{"port", "0"}, {"dir", t.TempDir()}, {"save", ""}, {"repl-diskless-sync-delay", "0"}} {
		if err := cfg.Set(kv[0], kv[1], false); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.SetCluster(fc)
	// One node mastering every slot, as the control plane would publish.
	s.SetSlotTable(slotmap.NewTable(1, []slotmap.Shard{{ID: 0, Master: 0, Epoch: 1, Slots: []slotmap.Range{{Start: 0, End: slotmap.NumSlots - 1}}}},
		[]slotmap.Node{{ID: "n1", Name: "n1", Host: "127.0.0.1", Port: 1, CPort: 2}}, 0))
	serveUntilCleanup(t, s)
	return s, s.Addr().String()
}

// The control plane's fence refuses writes with its error and lets reads
// through.
func TestClusterWriteFence(t *testing.T) {
	fc := &fakeCluster{}
	fc.master.Store(true)
	_, addr := startClusterServer(t, fc)
	c := newClient(t, addr, func(o *redis.Options) { o.MaxRetries = -1 })
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	fc.refuse("CLUSTERDOWN fenced for the test")
	if err := c.Set(ctx, "k", "w", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "CLUSTERDOWN fenced") {
		t.Fatalf("SET under the fence: %v", err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET under the fence = %q, %v", v, err)
	}
	if v := c.Info(ctx, "cluster").Val(); !strings.Contains(v, "cluster_enabled:1") {
		t.Fatalf("INFO cluster: %q", v)
	}
	if v, err := c.Do(ctx, "CLUSTER", "MYID").Text(); err != nil || v != "n1" {
		t.Fatalf("CLUSTER MYID = %q, %v", v, err)
	}
	if v, err := c.Do(ctx, "CLUSTER", "NODES").Text(); err != nil || !strings.Contains(v, "myself,master") {
		t.Fatalf("CLUSTER NODES = %q, %v", v, err)
	}
	if err := c.Do(ctx, "CLUSTER", "FAILOVER").Err(); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("CLUSTER FAILOVER on a master: %v", err)
	}
	if err := c.Do(ctx, "CLUSTER", "FAILOVER", "BOGUS").Err(); err == nil || !strings.Contains(err.Error(), "syntax") {
		t.Fatalf("CLUSTER FAILOVER BOGUS: %v", err)
	}
}

func TestClusterCommandsStandalone(t *testing.T) {
	_, addr := startServer(t, "save", "")
	c := newClient(t, addr)
	for _, sub := range []string{"MYID", "INFO", "NODES", "FAILOVER"} {
		err := c.Do(context.Background(), "CLUSTER", sub).Err()
		if err == nil || err.Error() != "ERR This instance has cluster support disabled" {
			t.Fatalf("CLUSTER %s standalone: %v", sub, err)
		}
	}
}

// A replica refuses the stream of a master the record no longer names (or
// names at an older epoch); it links up once the master is current.
func TestClusterReplicaRefusesStaleEpochMaster(t *testing.T) {
	mfc := &fakeCluster{}
	mfc.epoch.Store(2)
	_, maddr := startClusterServer(t, mfc)
	m := newClient(t, maddr)
	ctx := context.Background()
	if err := m.Set(ctx, "k", "v", 0).Err(); err == nil {
		t.Fatal("a node the record does not name master took a write")
	}

	rfc := &fakeCluster{}
	rfc.epoch.Store(3)
	r, raddr := startClusterServer(t, rfc)
	host, port, _ := net.SplitHostPort(maddr)
	p, _ := strconv.Atoi(port)
	r.Follow(host, p)
	rc := newClient(t, raddr)
	waitFor(t, func() bool {
		return strings.Contains(rc.Info(ctx, "replication").Val(), "master refused epoch 3")
	}, "the stale master to be refused")
	if _, up := r.Following(); up {
		t.Fatal("link up with a stale master")
	}

	mfc.master.Store(true) // still epoch 2 < 3: refused
	mfc.epoch.Store(3)     // now current
	waitFor(t, func() bool { _, up := r.Following(); return up }, "the link to the current master")
	if err := m.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return rc.Get(ctx, "k").Val() == "v" }, "the write to replicate")
}

// Demotion disconnects normal clients, not replicas.
func TestKillNormalClientsKeepsReplicas(t *testing.T) {
	s, maddr := startServer(t, "save", "")
	_, port, _ := strings.Cut(maddr, ":")
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+port)
	rc := newClient(t, raddr)
	ctx := context.Background()
	waitFor(t, func() bool { return strings.Contains(rc.Info(ctx, "replication").Val(), "master_link_status:up") }, "link up")
	plain, err := net.Dial("tcp", maddr)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	plain.Write([]byte("PING\r\n"))
	buf := make([]byte, 16)
	if _, err := plain.Read(buf); err != nil {
		t.Fatal(err)
	}
	if n := s.KillNormalClients(); n < 1 {
		t.Fatalf("killed %d clients, want the plain one", n)
	}
	if _, err := plain.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("plain client still connected: %v", err)
	}
	m := newClient(t, maddr)
	m.Set(ctx, "after", "1", 0)
	waitFor(t, func() bool { return rc.Get(ctx, "after").Val() == "1" }, "replication to continue")
}
