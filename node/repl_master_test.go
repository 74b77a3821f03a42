package node

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

var offsetRe = regexp.MustCompile(`master_repl_offset:(\d+)`)

func replOffsetOf(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	m := offsetRe.FindStringSubmatch(c.Info(context.Background(), "replication").Val())
	if m == nil {
		return -1
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// A real redis-server replicates from a warden master: the snapshot, then
// the stream, key by key equal.
func TestReplicationRedisReplicaOfWarden(t *testing.T) {
	s, addr := startServer(t, "save", "")
	master := newClient(t, addr)
	ctx := context.Background()
	fillAllTypes(t, addr)
	master.Set(ctx, "before", "sync", time.Hour)

	rs, replica := redisReplicaOf(t, addr)

	sync := func(what string) {
		t.Helper()
		waitFor(t, func() bool {
			want := replOffsetOf(t, master)
			return want >= 0 && replOffsetOf(t, replica) == want
		}, what)
		if got, want := redistest.Dump(t, rs.Addr, 4), dumpAll(t, addr); got != want {
			t.Fatalf("%s: replica differs from master:\nmaster:\n%s\nreplica:\n%s", what, want, got)
		}
	}
	sync("initial synchronization")

	// The stream: every type, other databases, transactions, expiry.
	c3 := newClient(t, addr, func(o *redis.Options) { o.DB = 3 })
	for i := 0; i < 200; i++ {
		master.Incr(ctx, "counter")
		c3.RPush(ctx, "list3", i)
		master.HSet(ctx, "hash", "f"+strconv.Itoa(i), i)
	}
	master.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx", "1", 0)
		p.ZAdd(ctx, "zset", redis.Z{Score: 9, Member: "tx"})
		p.Select(ctx, 2) // a transaction that switches databases
		p.Set(ctx, "tx-db2", "2", 0)
		return nil
	})
	master.Set(ctx, "after-tx", "x", 0) // and the stream goes on after it
	master.Del(ctx, "str")
	master.Set(ctx, "short", "x", 20*time.Millisecond)
	waitFor(t, func() bool { return master.Exists(ctx, "short").Val() == 0 }, "short to expire")
	sync("streamed writes")

	if r := master.Do(ctx, "role").Val().([]any); r[0] != "master" || len(r[2].([]any)) != 1 {
		t.Fatalf("ROLE = %v", r)
	}
	info := master.Info(ctx, "replication").Val()
	if !strings.Contains(info, "connected_slaves:1") || !strings.Contains(info, "state=online") {
		t.Fatalf("INFO replication:\n%s", info)
	}
	if n, err := master.Do(ctx, "wait", "1", "5000").Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 = %d, %v", n, err)
	}
	if n, _ := master.Do(ctx, "wait", "2", "100").Int(); n != 1 {
		t.Fatalf("WAIT 2 with one replica = %d, want 1 after the timeout", n)
	}
	if n := s.stats.syncFull.Load(); n != 1 {
		t.Fatalf("sync_full = %d", n)
	}

	// A dropped link resumes with a partial resync from the backlog.
	if err := master.Do(ctx, "client", "kill", "type", "replica").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		master.Set(ctx, "after-drop:"+strconv.Itoa(i), i, 0)
	}
	waitFor(t, func() bool { return s.stats.syncPartialOK.Load() == 1 }, "a partial resync")
	sync("after the partial resync")
	if n := s.stats.syncFull.Load(); n != 1 {
		t.Fatalf("sync_full = %d after reconnecting, want still 1", n)
	}
}

func TestReplicationMinReplicasAndWait(t *testing.T) {
	c, ctx := setup(t, "save", "")
	if n, err := c.Do(ctx, "wait", "0", "0").Int(); err != nil || n != 0 {
		t.Fatalf("WAIT 0 0 = %d %v", n, err)
	}
	if n, _ := c.Do(ctx, "wait", "1", "50").Int(); n != 0 {
		t.Fatalf("WAIT 1 without replicas = %d", n)
	}
	if err := c.ConfigSet(ctx, "min-replicas-to-write", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err == nil || err.Error() != "NOREPLICAS Not enough good replicas to write." {
		t.Fatalf("write without replicas: %v", err)
	}
	if err := c.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatalf("reads must work: %v", err)
	}
	c.ConfigSet(ctx, "min-replicas-to-write", "0")
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("write after lowering min-replicas-to-write: %v", err)
	}
}

// A gap larger than the backlog cannot be filled from it: the replica gets a
// full resync instead of a partial one.
func TestReplicationGapBeyondBacklog(t *testing.T) {
	s, addr := startServer(t, "save", "", "repl-backlog-size", "16384")
	master := newClient(t, addr)
	ctx := context.Background()
	rs, replica := redisReplicaOf(t, addr, "--enable-debug-command", "yes")
	master.Set(ctx, "first", "1", 0)
	// Hold the replica still while its link is cut and the master writes
	// four times the backlog.
	done := make(chan struct{})
	go func() {
		defer close(done)
		replica.Do(context.Background(), "debug", "sleep", "1")
	}()
	rs.WaitAsleep(t)
	master.Do(ctx, "client", "kill", "type", "replica")
	big := strings.Repeat("x", 1024)
	for i := 0; i < 64; i++ {
		master.Set(ctx, "big"+strconv.Itoa(i), big, 0)
	}
	<-done
	waitFor(t, func() bool { return s.stats.syncFull.Load() == 2 }, "a second full resync")
	if n := s.stats.syncPartialOK.Load(); n != 0 {
		t.Fatalf("sync_partial_ok = %d, want 0", n)
	}
	if n := s.stats.syncPartialErr.Load(); n != 1 {
		t.Fatalf("sync_partial_err = %d, want 1", n)
	}
	waitFor(t, func() bool { return replica.Exists(ctx, "big63").Val() == 1 }, "the replica to catch up")
}

func TestReplicationBacklogTTL(t *testing.T) {
	s, addr := startServer(t, "save", "", "repl-backlog-ttl", "1")
	master := newClient(t, addr)
	ctx := context.Background()
	rs, _ := redisReplicaOf(t, addr)
	if !strings.Contains(master.Info(ctx, "replication").Val(), "repl_backlog_active:1") {
		t.Fatal("no backlog with a replica attached")
	}
	rs.Stop(t)
	waitFor(t, func() bool { return !s.repl.active.Load() }, "the backlog to be freed after repl-backlog-ttl")
	if !strings.Contains(master.Info(ctx, "replication").Val(), "repl_backlog_active:0") {
		t.Fatal("INFO still reports a backlog")
	}
}
