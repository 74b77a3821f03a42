package node

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/wardenkv/warden/clusterview"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/slotmap"
)

// CLUSTER answers from the slot table the control plane publishes
// (rendered by clusterview) and asks the control plane for manual
// failovers. Topology changes go through the Raft record, so the
// commands that edit a node's own view in Redis are refused with the
// warden way.
func registerCluster(t table) {
	const g = "cluster"
	f := fStale | fLoading
	refused := func(name, why string) *Command {
		return &Command{Name: name, Arity: -2, Flags: fAdmin | fStale | fNoScript, Group: g, Run: func(c *Ctx) {
			if clusterOf(c) != nil {
				c.Err("ERR CLUSTER " + upper(name) + " is not supported: " + why)
			}
		}}
	}
	const slotsWhy = "warden assigns slots in its Raft record (--shards at bootstrap; slot migration through the control plane)"
	t.add(&Command{Name: "cluster", Arity: -2, Group: g, Subs: subs(
		&Command{Name: "myid", Arity: 2, Flags: f, Run: cmdClusterMyID, Group: g},
		&Command{Name: "myshardid", Arity: 2, Flags: f, Run: cmdClusterMyShardID, Group: g},
		&Command{Name: "info", Arity: 2, Flags: f, Run: cmdClusterInfo, Group: g},
		&Command{Name: "nodes", Arity: 2, Flags: f, Run: cmdClusterNodes, Group: g},
		&Command{Name: "slots", Arity: 2, Flags: f, Run: cmdClusterSlots, Group: g},
		&Command{Name: "shards", Arity: 2, Flags: f, Run: cmdClusterShards, Group: g},
		&Command{Name: "replicas", Arity: 3, Flags: fAdmin | fStale, Run: cmdClusterReplicas, Group: g},
		&Command{Name: "slaves", Arity: 3, Flags: fAdmin | fStale, Run: cmdClusterReplicas, Group: g},
		&Command{Name: "count-failure-reports", Arity: 3, Flags: fAdmin | fStale, Run: cmdClusterFailureReports, Group: g},
		&Command{Name: "links", Arity: 2, Flags: f, Run: cmdClusterLinks, Group: g},
		&Command{Name: "keyslot", Arity: 3, Flags: fStale, Run: cmdClusterKeySlot, Group: g},
		&Command{Name: "countkeysinslot", Arity: 3, Flags: fStale | fAllKeys, Run: cmdClusterCountKeys, Group: g},
		&Command{Name: "getkeysinslot", Arity: 4, Flags: fStale | fAllKeys, Run: cmdClusterGetKeys, Group: g},
		&Command{Name: "failover", Arity: -2, Flags: fAdmin | fStale, Run: cmdClusterFailover, Group: g},
		&Command{Name: "help", Arity: 2, Flags: f, Run: cmdClusterHelp, Group: g},
		&Command{Name: "migrateslots", Arity: -6, Flags: fAdmin | fNoScript, Run: cmdClusterMigrateSlots, Group: g},
		&Command{Name: "getslotmigrations", Arity: 2, Flags: fAdmin | fStale, Run: cmdClusterGetSlotMigrations, Group: g},
		&Command{Name: "cancelslotmigrations", Arity: 2, Flags: fAdmin | fNoScript, Run: cmdClusterCancelSlotMigrations, Group: g},
		&Command{Name: "syncslots", Arity: -3, Flags: fAdmin | fNoScript, Run: cmdClusterSyncSlots, Group: g},
		// A peer's fanout of PUBLISH (warden's stand-in for the cluster bus).
		&Command{Name: "publish-local", Arity: 4, Flags: fAdmin | fNoScript | fStale | fLoading, Run: cmdClusterPublishLocal, Group: g},
		refused("reset", "a node's place is kept in the Raft record; remove a node through the control plane"),
		refused("addslots", slotsWhy),
		refused("addslotsrange", slotsWhy),
		refused("delslots", slotsWhy),
		refused("delslotsrange", slotsWhy),
		refused("setslot", slotsWhy),
		refused("meet", "nodes join with --join (or --peers at bootstrap)"),
		refused("forget", "nodes are removed through the control plane's record"),
		refused("replicate", "the control plane places replicas (--replicas-per-shard)"),
	)})
	// READONLY/READWRITE: a replica serves this client's reads of its
	// shard's slots (cluster mode only, as in Redis).
	t.add(
		&Command{Name: "readonly", Arity: 1, Flags: fFast | fLoading | fStale, Run: cmdReadOnly, Group: g},
		&Command{Name: "readwrite", Arity: 1, Flags: fFast | fLoading | fStale, Run: cmdReadWrite, Group: g},
	)
}

func upper(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if 'a' <= ch && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	return string(b)
}

// clusterOf replies the standalone error and returns nil outside cluster mode.
func clusterOf(c *Ctx) Cluster {
	if c.s.cluster == nil {
		c.Err("ERR This instance has cluster support disabled")
	}
	return c.s.cluster
}

// tableOf returns the slot table, or nil after replying the error.
func tableOf(c *Ctx) (Cluster, *slotmap.Table) {
	cl := clusterOf(c)
	if cl == nil {
		return nil, nil
	}
	t := c.s.SlotTable()
	if t == nil {
		c.Err("CLUSTERDOWN The cluster record is not known yet")
	}
	return cl, t
}

func cmdReadOnly(c *Ctx) {
	if clusterOf(c) != nil {
		c.cl.readOnlyCluster = true
		c.OK()
	}
}

func cmdReadWrite(c *Ctx) {
	if clusterOf(c) != nil {
		c.cl.readOnlyCluster = false
		c.OK()
	}
}

func cmdClusterMyID(c *Ctx) {
	if cl := clusterOf(c); cl != nil {
		c.BulkString(cl.MyID())
	}
}

// shardID is a shard's 40-hex id (CLUSTER MYSHARDID, SHARDS), derived from
// the shard's number so every node names it alike.
func shardID(id int) string {
	h := sha1.Sum([]byte("warden-shard:" + strconv.Itoa(id)))
	return hex.EncodeToString(h[:])
}

func cmdClusterMyShardID(c *Ctx) {
	_, t := tableOf(c)
	if t == nil {
		return
	}
	n := t.SelfNode()
	if n == nil || n.Shard < 0 {
		c.Err("ERR this node is not placed in a shard yet")
		return
	}
	c.BulkString(shardID(n.Shard))
}

func nowMs() int64 { return time.Now().UnixMilli() }

func cmdClusterInfo(c *Ctx) {
	if cl, t := tableOf(c); t != nil {
		c.Verbatim(clusterview.Info(t, cl.Health))
	}
}

func cmdClusterNodes(c *Ctx) {
	if cl, t := tableOf(c); t != nil {
		c.Verbatim(clusterview.Nodes(t, cl.Health, nowMs()))
	}
}

func (c *Ctx) clusterEndpoint(e clusterview.Endpoint) {
	c.Array(4)
	c.BulkString(e.Host)
	c.Int(int64(e.Port))
	c.BulkString(e.ID)
	if e.Hostname == "" {
		c.Map(0)
		return
	}
	c.Map(1)
	c.BulkString("hostname")
	c.BulkString(e.Hostname)
}

func cmdClusterSlots(c *Ctx) {
	cl, t := tableOf(c)
	if t == nil {
		return
	}
	rs := clusterview.Slots(t, cl.Health)
	c.Array(len(rs))
	for _, r := range rs {
		c.Array(2 + len(r.Nodes))
		c.Int(int64(r.Start))
		c.Int(int64(r.End))
		for _, e := range r.Nodes {
			c.clusterEndpoint(e)
		}
	}
}

func cmdClusterShards(c *Ctx) {
	cl, t := tableOf(c)
	if t == nil {
		return
	}
	shards := clusterview.Shards(t, cl.Health, cl.Offset)
	c.Array(len(shards))
	for _, sh := range shards {
		c.Map(2)
		c.BulkString("slots")
		c.Array(2 * len(sh.Slots))
		for _, r := range sh.Slots {
			c.Int(int64(r.Start))
			c.Int(int64(r.End))
		}
		c.BulkString("nodes")
		c.Array(len(sh.Nodes))
		for _, n := range sh.Nodes {
			fields := 7
			if n.Hostname != "" {
				fields++
			}
			c.Map(fields)
			c.BulkString("id")
			c.BulkString(n.ID)
			c.BulkString("port")
			c.Int(int64(n.Port))
			c.BulkString("ip")
			c.BulkString(n.Host)
			c.BulkString("endpoint")
			c.BulkString(n.Host)
			if n.Hostname != "" {
				c.BulkString("hostname")
				c.BulkString(n.Hostname)
			}
			c.BulkString("role")
			c.BulkString(n.Role)
			c.BulkString("replication-offset")
			c.Int(n.Offset)
			c.BulkString("health")
			c.BulkString(n.Health)
		}
	}
}

func cmdClusterReplicas(c *Ctx) {
	cl, t := tableOf(c)
	if t == nil {
		return
	}
	lines, err := clusterview.Replicas(t, string(c.Args[2]), cl.Health, nowMs())
	if err != nil {
		c.Err(err.Error())
		return
	}
	c.BulkStrings(lines)
}

// cmdClusterFailureReports: failure reports are gossip's business in
// warden and are not counted per reporter; a known node has none to show.
func cmdClusterFailureReports(c *Ctx) {
	_, t := tableOf(c)
	if t == nil {
		return
	}
	if clusterview.Find(t, string(c.Args[2])) < 0 {
		c.Err("ERR Unknown node " + string(c.Args[2]))
		return
	}
	c.Int(0)
}

// cmdClusterLinks: warden has no cluster bus (Raft and gossip carry the
// record and failure detection), so there are no bus links to list.
func cmdClusterLinks(c *Ctx) {
	if clusterOf(c) != nil {
		c.Array(0)
	}
}

func cmdClusterKeySlot(c *Ctx) {
	if clusterOf(c) != nil {
		c.Int(int64(slotmap.Slot(c.Args[2])))
	}
}

func cmdClusterCountKeys(c *Ctx) {
	if clusterOf(c) == nil {
		return
	}
	n, ok := keyspace.ParseInt(c.Args[2])
	if !ok {
		c.Err(errNotInt)
		return
	}
	if n < 0 || n >= slotmap.NumSlots {
		c.Err("ERR Invalid slot")
		return
	}
	c.Int(int64(c.DB.SlotLen(int(n))))
}

func cmdClusterGetKeys(c *Ctx) {
	if clusterOf(c) == nil {
		return
	}
	slot, ok1 := keyspace.ParseInt(c.Args[2])
	count, ok2 := keyspace.ParseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.Err(errNotInt)
		return
	}
	if slot < 0 || slot >= slotmap.NumSlots || count < 0 {
		c.Err("ERR Invalid slot or number of keys")
		return
	}
	c.BulkStrings(c.DB.SlotKeys(int(slot), int(min(count, 1<<30))))
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
		"COUNTKEYSINSLOT <slot>",
		"    Return the number of keys in <slot>.",
		"COUNT-FAILURE-REPORTS <node-id>",
		"    Return number of failure reports for <node-id>.",
		"FAILOVER [FORCE|TAKEOVER]",
		"    Promote this replica (gracefully, through the control plane).",
		"GETKEYSINSLOT <slot> <count>",
		"    Return key names stored by current node in a slot.",
		"INFO",
		"    Return information about the cluster.",
		"KEYSLOT <key>",
		"    Return the hash slot for <key>.",
		"LINKS",
		"    Return information about all network links between this node and its peers.",
		"MYID",
		"    Return the node id.",
		"MYSHARDID",
		"    Return the node's shard id.",
		"NODES",
		"    Return cluster configuration seen by node.",
		"REPLICAS <node-id>",
		"    Return <node-id> replicas.",
		"SHARDS",
		"    Return information about slot range mappings and the nodes associated with them.",
		"SLAVES <node-id>",
		"    Return <node-id> replicas.",
		"SLOTS",
		"    Return information about slots range mappings. Each range is made of:",
		"    start, end, master and replicas IP addresses, ports and ids")
}
