package control_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
)

// TestRejoinedMasterRestartKeepsWaitAckedWrites is the jepsen seed 104
// loss, step by step with real processes (appendonly yes, as the suite
// runs, with appendfsync always so that no write is lost to fsync): a node
// is down while writes are WAIT-acknowledged without it, restarts and
// rejoins by a full sync, is made master, and is killed and restarted
// before down-after, the record still naming it. Its AOF must hold what
// the full sync loaded: before the fix it held its own old data set plus
// the stream after the sync, so the restart brought back a data set
// without the writes made in its absence, and the replicas full-synced
// from it.
func TestRejoinedMasterRestartKeepsWaitAckedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("three manual failovers and three restarts take tens of seconds")
	}
	ctx := context.Background()
	// Failure detection slow enough that the master restarted at the end
	// is back before anyone could be promoted in its place.
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, DownAfterMs: 3000,
		Args: []string{"--appendonly", "yes", "--appendfsync", "always"}})
	linked := func() bool {
		m := c.Master(t, 0)
		if role(m) != "master" {
			return false
		}
		for _, n := range c.Nodes {
			if n != m && infoField(n, "replication", "master_link_status") != "up" {
				return false
			}
		}
		return true
	}
	// write SETs prefix:0..n-1 on the shard's master, each acknowledged
	// by WAIT by at least want replicas.
	write := func(prefix string, n int, want int64) {
		t.Helper()
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("%s:%d", prefix, i)
			c.WaitFor(t, 30*time.Second, "an acknowledged write of "+key, func() bool {
				cl := c.Master(t, 0).Client()
				if err := cl.Set(ctx, key, prefix, 0).Err(); err != nil {
					return false
				}
				acks, err := cl.Wait(ctx, int(want), 2*time.Second).Result()
				return err == nil && acks >= want
			})
		}
	}
	// makeMaster hands the shard to n (CLUSTER FAILOVER on n).
	makeMaster := func(n *clustertest.Node) {
		t.Helper()
		c.WaitFor(t, 60*time.Second, n.ID+" to become master (CLUSTER FAILOVER)", func() bool {
			if c.Master(t, 0) == n && role(n) == "master" {
				return true
			}
			n.Client().Do(ctx, "CLUSTER", "FAILOVER")
			return false
		})
	}
	c.WaitFor(t, 30*time.Second, "both replicas linked", linked)
	write("before", 20, 2)

	var node *clustertest.Node // the node that will be away
	for _, n := range c.Nodes {
		if n != c.Master(t, 0) {
			node = n
			break
		}
	}
	node.Kill() // a replica: nothing fails over
	write("absent", 20, 1)
	node.Restart(t) // from its AOF, with a fresh replid: a full sync
	c.WaitFor(t, 30*time.Second, node.ID+" to resync", func() bool {
		m := c.Master(t, 0)
		return linked() && infoField(node, "replication", "master_repl_offset") == infoField(m, "replication", "master_repl_offset")
	})
	write("after", 20, 2)

	makeMaster(node)
	node.Kill()
	node.Restart(t) // back from its AOF before down-after: still master
	c.WaitFor(t, 60*time.Second, "a master with both replicas linked", linked)
	m := c.Master(t, 0)
	if m != node {
		t.Logf("%s was failed over while it restarted (the check below still holds)", node.ID)
	}
	for _, prefix := range []string{"before", "absent", "after"} {
		for i := 0; i < 20; i++ {
			key := fmt.Sprintf("%s:%d", prefix, i)
			if v, err := m.Client().Get(ctx, key).Result(); err != nil || v != prefix {
				t.Fatalf("WAIT-acknowledged %s lost on the master %s after %s's restart: %q %v\n%s",
					key, m.ID, node.ID, v, err, node.LogTail(40))
			}
		}
	}
}
