package slotmap

import (
	"net"
	"strconv"
)

// NoShard marks a slot no shard owns.
const NoShard = -1

// Node is one cluster node as the slot table shows it.
type Node struct {
	ID    string // 40-hex cluster node id (CLUSTER MYID)
	Name  string // human node id (--node-id)
	Host  string // announce host
	Port  int    // RESP port
	CPort int    // cluster bus port as CLUSTER NODES shows it (warden: the Raft port)
	Shard int    // NoShard until placed

	addr string // host:port, made once by NewTable
}

// Addr is host:port.
func (n *Node) Addr() string {
	if n.addr != "" {
		return n.addr
	}
	return net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
}

// Shard is one replication group and the slots it owns.
type Shard struct {
	ID       int
	Name     string // Sentinel name
	Epoch    uint64 // config epoch of its master
	Master   int    // index into Table.Nodes, -1 while none
	Replicas []int  // indexes into Table.Nodes
	Slots    []Range
	// Down: the publisher's failure detector holds the master failed
	// (set before the table is published; routing answers CLUSTERDOWN).
	Down bool
}

// Table is an immutable snapshot of slot ownership, built once per change
// of the record and shared by every command: never modify one after
// NewTable returns it.
type Table struct {
	Epoch  uint64 // cluster config epoch
	Shards []Shard
	Nodes  []Node // sorted by Name
	Self   int    // index of this node in Nodes, -1 when not in the record

	owner [NumSlots]int16 // shard per slot, NoShard if none
	// mine is this node's shard index (NoShard if none); master whether
	// it masters it. Derived once: Route reads them on every command.
	mine   int
	master bool
	// Migrating and Importing mark slots in an atomic migration (slot →
	// the other shard); routing answers TRYAGAIN for multi-key commands
	// on them once migrations exist.
	Migrating map[int]int
	Importing map[int]int
}

// NewTable indexes shards and nodes. Slots claimed by two shards go to the
// first (the record never does this; the table must still be total).
func NewTable(epoch uint64, shards []Shard, nodes []Node, self int) *Table {
	t := &Table{Epoch: epoch, Shards: shards, Nodes: nodes, Self: self}
	for i := range nodes {
		nodes[i].addr = net.JoinHostPort(nodes[i].Host, strconv.Itoa(nodes[i].Port))
	}
	for i := range t.owner {
		t.owner[i] = NoShard
	}
	for i, sh := range shards {
		for _, r := range sh.Slots {
			for s := max(r.Start, 0); s <= r.End && s < NumSlots; s++ {
				if t.owner[s] == NoShard {
					t.owner[s] = int16(i)
				}
			}
		}
	}
	t.mine, t.master = t.findSelfShard()
	return t
}

// Owner returns the index in Shards of the shard owning slot, or NoShard.
func (t *Table) Owner(slot int) int {
	if slot < 0 || slot >= NumSlots {
		return NoShard
	}
	return int(t.owner[slot])
}

// MasterOf returns the master of shard index i, or nil.
func (t *Table) MasterOf(i int) *Node {
	if i < 0 || i >= len(t.Shards) || t.Shards[i].Master < 0 {
		return nil
	}
	return &t.Nodes[t.Shards[i].Master]
}

// SelfNode returns this node, or nil.
func (t *Table) SelfNode() *Node {
	if t.Self < 0 || t.Self >= len(t.Nodes) {
		return nil
	}
	return &t.Nodes[t.Self]
}

// findSelfShard returns the index of this node's shard and whether it is its master.
func (t *Table) findSelfShard() (int, bool) {
	n := t.SelfNode()
	if n == nil {
		return NoShard, false
	}
	for i := range t.Shards {
		if t.Shards[i].ID == n.Shard {
			return i, t.Shards[i].Master == t.Self
		}
	}
	return NoShard, false
}

// Assigned counts the slots some shard owns.
func (t *Table) Assigned() int {
	n := 0
	for _, o := range t.owner {
		if o != NoShard {
			n++
		}
	}
	return n
}

// RouteFlags describe the command and the connection being routed.
type RouteFlags uint8

const (
	// Read: the command only reads, so a replica may serve it.
	Read RouteFlags = 1 << iota
	// ReadOnlyConn: the client sent READONLY.
	ReadOnlyConn
)

// Kind is a routing decision.
type Kind uint8

const (
	Serve       Kind = iota // run it here
	Moved                   // -MOVED slot addr
	CrossSlot               // keys in several slots
	ClusterDown             // the slot's shard has no master
	Unbound                 // no shard owns the slot
	TryAgain                // multi-key command on a slot being migrated (later)
)

// Decision is Route's answer.
type Decision struct {
	Kind Kind
	Slot int
	Addr string // the owning master, for Moved
}

// Error is the Redis error reply for d ("" for Serve).
func (d Decision) Error() string {
	switch d.Kind {
	case Moved:
		return "MOVED " + strconv.Itoa(d.Slot) + " " + d.Addr
	case CrossSlot:
		return "CROSSSLOT Keys in request don't hash to the same slot"
	case ClusterDown:
		return "CLUSTERDOWN The cluster is down"
	case Unbound:
		return "CLUSTERDOWN Hash slot not served"
	case TryAgain:
		return "TRYAGAIN Multiple keys request during rehashing of slot"
	}
	return ""
}

// Route decides where a command with keys runs, as Redis Cluster's
// getNodeByQuery: every key in one slot (else CROSSSLOT); served here when
// this node masters the slot's shard, or replicates it and the client
// asked for READONLY reads; otherwise MOVED to the slot's master. A
// command without keys is served anywhere.
func (t *Table) Route(keys [][]byte, f RouteFlags) Decision {
	if len(keys) == 0 {
		return Decision{Kind: Serve, Slot: -1}
	}
	slot := Slot(keys[0])
	if t.Owner(slot) == NoShard { // Redis answers this before looking at more keys
		return Decision{Kind: Unbound, Slot: slot}
	}
	for _, k := range keys[1:] {
		if Slot(k) != slot {
			return Decision{Kind: CrossSlot, Slot: slot}
		}
	}
	return t.RouteSlot(slot, f)
}

// RouteSlot is Route for a command whose keys all hash to slot.
func (t *Table) RouteSlot(slot int, f RouteFlags) Decision {
	owner := t.Owner(slot)
	if owner == NoShard {
		return Decision{Kind: Unbound, Slot: slot}
	}
	m := t.MasterOf(owner)
	if m == nil || t.Shards[owner].Down {
		return Decision{Kind: ClusterDown, Slot: slot}
	}
	if t.mine == owner && (t.master || f&(Read|ReadOnlyConn) == Read|ReadOnlyConn) {
		return Decision{Kind: Serve, Slot: slot}
	}
	return Decision{Kind: Moved, Slot: slot, Addr: m.Addr()}
}
