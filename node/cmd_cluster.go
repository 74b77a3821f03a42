package node

import (
	"context"
	"time"
)

// CLUSTER answers from the control plane's record (MYID, INFO, NODES) and
// asks it for manual failovers; slot commands belong to the cluster issue.
func registerCluster(t table) {
	const g = "cluster"
	f := fStale | fLoading
	t.add(&Command{Name: "cluster", Arity: -2, Group: g, Subs: subs(
		&Command{Name: "myid", Arity: 2, Flags: f, Run: cmdClusterMyID, Group: g},
		&Command{Name: "info", Arity: 2, Flags: f, Run: cmdClusterInfo, Group: g},
		&Command{Name: "nodes", Arity: 2, Flags: f, Run: cmdClusterNodes, Group: g},
		&Command{Name: "failover", Arity: -2, Flags: fAdmin | fStale, Run: cmdClusterFailover, Group: g},
		&Command{Name: "help", Arity: 2, Flags: f, Run: cmdClusterHelp, Group: g},
	)})
}

// clusterOf replies the standalone error and returns nil outside cluster mode.
func clusterOf(c *Ctx) Cluster {
	if c.s.cluster == nil {
		c.Err("ERR This instance has cluster support disabled")
	}
	return c.s.cluster
}

func cmdClusterMyID(c *Ctx) {
	if cl := clusterOf(c); cl != nil {
		c.BulkString(cl.MyID())
	}
}

func cmdClusterInfo(c *Ctx) {
	if cl := clusterOf(c); cl != nil {
		c.Verbatim(cl.ClusterInfo())
	}
}

func cmdClusterNodes(c *Ctx) {
	if cl := clusterOf(c); cl != nil {
		c.Verbatim(cl.ClusterNodes())
	}
}

// cmdClusterFailover runs on a replica, as in Redis: it asks the control
// plane to hand this replica its shard, waiting for the switch.
func cmdClusterFailover(c *Ctx) {
	cl := clusterOf(c)
	if cl == nil {
		return
	}
	force := false
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 3 && (eq(c.Args[2], "force") || eq(c.Args[2], "takeover")):
		force = true
	default:
		c.Err(errSyntax)
		return
	}
	if !c.s.isReplica() {
		c.Err("ERR You should send CLUSTER FAILOVER to a replica")
		return
	}
	failover := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return cl.Failover(ctx, force)
	}
	if c.InMulti() {
		// The switch needs this replica to catch up, which takes partition
		// locks EXEC holds: reply as Redis does (OK: accepted) and ask
		// once EXEC has released them.
		c.OK()
		c.afterUnlock(func() {
			if err := failover(); err != nil {
				c.s.log.Warn("CLUSTER FAILOVER from a transaction failed", "err", err)
			}
		})
		return
	}
	if err := failover(); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.OK()
}

func cmdClusterHelp(c *Ctx) {
	if clusterOf(c) == nil { // standalone: HELP too answers the error, as in Redis
		return
	}
	serverHelp(c, "cluster",
		"FAILOVER [FORCE|TAKEOVER]",
		"    Promote this replica (gracefully, through the control plane).",
		"INFO",
		"    Return information about the cluster.",
		"MYID",
		"    Return the node id.",
		"NODES",
		"    Return cluster configuration seen by node.")
}
