package node

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

func waitLinkUp(t *testing.T, c *redis.Client) {
	t.Helper()
	waitFor(t, func() bool {
		return strings.Contains(c.Info(context.Background(), "replication").Val(), "master_link_status:up")
	}, "the replica's master link")
}

// waitInSync waits until replica's offset equals master's and the data sets
// match.
func waitInSync(t *testing.T, master, replica *redis.Client, masterAddr, replicaAddr, what string) {
	t.Helper()
	waitFor(t, func() bool {
		want := replOffsetOf(t, master)
		return want >= 0 && replOffsetOf(t, replica) == want
	}, what)
	if got, want := redistest.Dump(t, replicaAddr, 4), redistest.Dump(t, masterAddr, 4); got != want {
		t.Fatalf("%s: replica differs from master:\nmaster:\n%s\nreplica:\n%s", what, want, got)
	}
}

// warden follows a real redis-server: snapshot, stream, READONLY.
func TestReplicationWardenReplicaOfRedis(t *testing.T) {
	rs := redistest.Start(t, "", "--repl-diskless-sync-delay", "0")
	master := rs.Client(t, 0)
	ctx := context.Background()
	fillAllTypes(t, rs.Addr)
	_, addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+rs.Port)
	replica := newClient(t, addr)
	waitLinkUp(t, replica)
	waitInSync(t, master, replica, rs.Addr, addr, "initial synchronization")
	for i := 0; i < 100; i++ {
		master.Incr(ctx, "counter")
		master.HSet(ctx, "h2", "f"+strconv.Itoa(i), i)
	}
	master.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Select(ctx, 3)
		p.RPush(ctx, "l3", "x", "y")
		return nil
	})
	master.Set(ctx, "short", "x", 20*time.Millisecond)
	waitFor(t, func() bool { return master.Exists(ctx, "short").Val() == 0 }, "expiry on the master")
	waitInSync(t, master, replica, rs.Addr, addr, "streamed writes")
	if err := replica.Set(ctx, "k", "v", 0).Err(); err == nil || err.Error() != "READONLY You can't write against a read only replica." {
		t.Fatalf("write on the replica: %v", err)
	}
	role := replica.Do(ctx, "role").Val().([]any)
	if role[0] != "slave" || role[3] != "connected" {
		t.Fatalf("ROLE on the replica = %v", role)
	}
}

// warden to warden: partial resync after a dropped link, then promotion of
// one replica and a sibling that continues from it without a full sync.
func TestReplicationWardenToWarden(t *testing.T) {
	ms, maddr := startServer(t, "save", "")
	master := newClient(t, maddr)
	ctx := context.Background()
	fillAllTypes(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	r1s, r1addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	r2s, r2addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	r1, r2 := newClient(t, r1addr), newClient(t, r2addr)
	waitLinkUp(t, r1)
	waitLinkUp(t, r2)
	waitInSync(t, master, r1, maddr, r1addr, "replica 1 synchronized")
	waitInSync(t, master, r2, maddr, r2addr, "replica 2 synchronized")
	if n := ms.stats.syncFull.Load(); n != 2 {
		t.Fatalf("sync_full = %d, want 2", n)
	}

	// Drop the links; the writes meanwhile come from the backlog.
	master.Do(ctx, "client", "kill", "type", "replica")
	for i := 0; i < 100; i++ {
		master.Set(ctx, "gap"+strconv.Itoa(i), i, 0)
	}
	waitFor(t, func() bool { return ms.stats.syncPartialOK.Load() == 2 }, "two partial resyncs")
	waitInSync(t, master, r1, maddr, r1addr, "replica 1 after the partial resync")
	if n := ms.stats.syncFull.Load(); n != 2 {
		t.Fatalf("sync_full = %d after the partial resyncs, want 2", n)
	}

	// Promote replica 1 and point replica 2 at it: the replid2 path.
	if err := r1.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	if err := r1.Set(ctx, "after-promotion", "yes", 0).Err(); err != nil {
		t.Fatalf("write on the promoted replica: %v", err)
	}
	_, r1port, _ := strings.Cut(r1addr, ":")
	if err := r2.Do(ctx, "replicaof", "127.0.0.1", r1port).Err(); err != nil {
		t.Fatal(err)
	}
	waitLinkUp(t, r2)
	waitInSync(t, r1, r2, r1addr, r2addr, "replica 2 following the promoted node")
	if full, partial := r1s.stats.syncFull.Load(), r1s.stats.syncPartialOK.Load(); full != 0 || partial != 1 {
		t.Fatalf("promoted node served sync_full=%d sync_partial_ok=%d, want 0 and 1", full, partial)
	}
	_ = r2s
}

// A replica with the wrong masterauth reports the link down and never serves
// the master's data.
func TestReplicationWrongMasterauth(t *testing.T) {
	_, maddr := startServer(t, "save", "", "requirepass", "right")
	master := newClient(t, maddr, func(o *redis.Options) { o.Password = "right" })
	ctx := context.Background()
	master.Set(ctx, "secret", "data", 0)
	_, mport, _ := strings.Cut(maddr, ":")
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport, "masterauth", "wrong")
	replica := newClient(t, raddr)
	waitFor(t, func() bool {
		return strings.Contains(replica.Info(ctx, "replication").Val(), "master_link_down_reason")
	}, "the failed link to be reported")
	info := replica.Info(ctx, "replication").Val()
	if !strings.Contains(info, "master_link_status:down") || !strings.Contains(info, "AUTH") {
		t.Fatalf("INFO replication with a wrong masterauth:\n%s", info)
	}
	if v := replica.Get(ctx, "secret").Val(); v != "" {
		t.Fatalf("replica serves the master's data: %q", v)
	}
}

// WAIT counts replicas that acknowledged the caller's writes; a paused
// replica makes it time out with the smaller count. min-replicas-to-write
// refuses writes until enough replicas are attached.
func TestReplicationWaitAndMinReplicas(t *testing.T) {
	_, maddr := startServer(t, "save", "")
	// One connection: WAIT concerns the writes of the connection it runs on.
	master := newClient(t, maddr, func(o *redis.Options) { o.PoolSize = 1 })
	ctx := context.Background()
	if err := master.ConfigSet(ctx, "min-replicas-to-write", "2").Err(); err != nil {
		t.Fatal(err)
	}
	if err := master.Set(ctx, "k", "v", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOREPLICAS") {
		t.Fatalf("write with no replicas: %v", err)
	}
	_, mport, _ := strings.Cut(maddr, ":")
	a := redistest.Start(t, "", "--replicaof", "127.0.0.1", mport)
	b := redistest.Start(t, "", "--replicaof", "127.0.0.1", mport, "--enable-debug-command", "yes")
	ca, cb := a.Client(t, 0), b.Client(t, 0)
	waitLinkUp(t, ca)
	waitLinkUp(t, cb)
	waitFor(t, func() bool { return master.Set(ctx, "k", "v", 0).Err() == nil }, "writes accepted with two replicas")
	if n, err := master.Do(ctx, "wait", "2", "5000").Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 = %d %v", n, err)
	}
	if n, _ := master.Do(ctx, "wait", "0", "0").Int(); n != 2 {
		t.Fatalf("WAIT 0 = %d, want the 2 replicas that already acknowledged", n)
	}
	// Pause replica b (Redis is single-threaded: DEBUG SLEEP stops it).
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := cb.Do(context.Background(), "debug", "sleep", "1.5").Err(); err != nil {
			t.Errorf("DEBUG SLEEP on the replica: %v", err)
		}
	}()
	b.WaitAsleep(t)
	master.ConfigSet(ctx, "min-replicas-to-write", "0")
	master.Incr(ctx, "counter")
	start := time.Now()
	n, err := master.Do(ctx, "wait", "2", "300").Int()
	if err != nil || n != 1 || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("WAIT 2 300 with one replica paused = %d %v after %v, want 1 after the timeout", n, err, time.Since(start))
	}
	<-done
	if n, _ := master.Do(ctx, "wait", "2", "5000").Int(); n != 2 {
		t.Fatalf("WAIT 2 after the pause = %d", n)
	}
}

// A replica of a replica receives the master's stream unchanged: same
// offsets, same data.
func TestReplicationChained(t *testing.T) {
	_, maddr := startServer(t, "save", "")
	master := newClient(t, maddr)
	ctx := context.Background()
	fillAllTypes(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	_, r1addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	r1 := newClient(t, r1addr)
	waitLinkUp(t, r1)
	_, r1port, _ := strings.Cut(r1addr, ":")
	_, r2addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+r1port)
	r2 := newClient(t, r2addr)
	waitLinkUp(t, r2)
	for i := 0; i < 100; i++ {
		master.RPush(ctx, "chain", i)
	}
	waitInSync(t, master, r1, maddr, r1addr, "first replica")
	waitInSync(t, master, r2, maddr, r2addr, "replica of the replica")
}

// A replica of a replica sees its master's stream and nothing else: the
// middle replica never pings its own replicas (as Redis), or their offsets
// would run ahead of the master's for good.
func TestChainedReplicaAddsNoPings(t *testing.T) {
	_, maddr := startServer(t, "save", "", "repl-ping-replica-period", "1")
	master := newClient(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	_, r1addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport, "repl-ping-replica-period", "1")
	r1 := newClient(t, r1addr)
	waitLinkUp(t, r1)
	_, r1port, _ := strings.Cut(r1addr, ":")
	_, r2addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+r1port)
	r2 := newClient(t, r2addr)
	waitLinkUp(t, r2)
	// The master's own pings mark the passing periods: let three go by,
	// in each of which the middle replica could have pinged too.
	start := replOffsetOf(t, master)
	ping := int64(len("*1\r\n$4\r\nPING\r\n"))
	waitFor(t, func() bool { return replOffsetOf(t, master) >= start+3*ping }, "three of the master's pings")
	waitInSync(t, master, r1, maddr, r1addr, "first replica")
	waitInSync(t, master, r2, maddr, r2addr, "replica of the replica")
}

func TestReplicationServeStaleData(t *testing.T) {
	// A master that does not exist: the link stays down.
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 1", "replica-serve-stale-data", "no")
	c := newClient(t, raddr)
	ctx := context.Background()
	if err := c.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "MASTERDOWN") {
		t.Fatalf("read with the link down and replica-serve-stale-data no: %v", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING must still work: %v", err)
	}
	if !strings.Contains(c.Info(ctx, "replication").Val(), "master_link_status:down") {
		t.Fatal("INFO does not report the link down")
	}
}
