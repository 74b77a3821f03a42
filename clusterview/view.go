// Package clusterview renders Redis Cluster's CLUSTER replies (NODES,
// INFO, SLOTS, SHARDS, REPLICAS) from a slot table, in Redis 7.0's exact
// formats. It is pure: liveness and offsets come in as functions, so the
// data node, the control plane and tests render the same text.
package clusterview

import (
	"fmt"
	"net"
	"strings"

	"github.com/wardenkv/warden/slotmap"
)

// Health is a node's failure state as this node sees it.
type Health int

const (
	Alive Health = iota
	PFail        // suspected: CLUSTER NODES flag fail?
	Fail         // agreed failed: flag fail
)

// Live reports a node's health by its human name.
type Live func(name string) Health

// AllAlive is a Live for tests and for nodes without a failure detector.
func AllAlive(string) Health { return Alive }

// role returns the shard a node belongs to and whether it masters it.
func role(t *slotmap.Table, i int) (*slotmap.Shard, bool) {
	for s := range t.Shards {
		sh := &t.Shards[s]
		if sh.Master == i {
			return sh, true
		}
		for _, r := range sh.Replicas {
			if r == i {
				return sh, false
			}
		}
	}
	return nil, false
}

// isIP reports whether host is an address rather than a name: Redis
// prints a hostname after the address only when one is announced.
func isIP(host string) bool { return net.ParseIP(host) != nil }

// NodeLine is one CLUSTER NODES line (without the newline) for node i.
// nowMs stamps other nodes' pong-recv field (Redis: last pong, unix ms).
func NodeLine(t *slotmap.Table, i int, live Live, nowMs int64) string {
	n := &t.Nodes[i]
	sh, master := role(t, i)
	var flags []string
	if i == t.Self {
		flags = append(flags, "myself")
	}
	masterID := "-"
	switch {
	case sh != nil && master:
		flags = append(flags, "master")
	case sh != nil:
		flags = append(flags, "slave")
		if m := t.MasterOf(shardIndex(t, sh)); m != nil {
			masterID = m.ID
		}
	default:
		flags = append(flags, "noflags")
	}
	link := "connected"
	switch live(n.Name) {
	case Fail:
		flags = append(flags, "fail")
		link = "disconnected"
	case PFail:
		flags = append(flags, "fail?")
	}
	if n.Port == 0 {
		flags = append(flags, "noaddr")
	}
	epoch := uint64(0)
	if sh != nil {
		epoch = sh.Epoch
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:%d@%d", n.ID, n.Host, n.Port, n.CPort)
	if !isIP(n.Host) && n.Host != "" {
		b.WriteString("," + n.Host)
	}
	pong := nowMs
	if i == t.Self {
		pong = 0
	}
	fmt.Fprintf(&b, " %s %s 0 %d %d %s", strings.Join(flags, ","), masterID, pong, epoch, link)
	if sh != nil && master {
		for _, r := range sh.Slots {
			b.WriteString(" " + r.String())
		}
	}
	// Migration markers, on this node's own line only, as Redis prints them.
	if sh != nil && master && i == t.Self {
		for _, s := range sortedKeys(t.Migrating) {
			if dst := t.MasterOf(shardByID(t, t.Migrating[s])); dst != nil && shardIndex(t, sh) == t.Owner(s) {
				fmt.Fprintf(&b, " [%d->-%s]", s, dst.ID)
			}
		}
		for _, s := range sortedKeys(t.Importing) {
			if src := t.MasterOf(shardByID(t, t.Importing[s])); src != nil && t.Migrating[s] == sh.ID && shardIndex(t, sh) != t.Owner(s) {
				fmt.Fprintf(&b, " [%d-<-%s]", s, src.ID)
			}
		}
	}
	return b.String()
}

func sortedKeys(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func shardIndex(t *slotmap.Table, sh *slotmap.Shard) int {
	for i := range t.Shards {
		if &t.Shards[i] == sh {
			return i
		}
	}
	return slotmap.NoShard
}

func shardByID(t *slotmap.Table, id int) int {
	for i := range t.Shards {
		if t.Shards[i].ID == id {
			return i
		}
	}
	return slotmap.NoShard
}

// Nodes is CLUSTER NODES: one line per node, each ending in "\n".
func Nodes(t *slotmap.Table, live Live, nowMs int64) string {
	var b strings.Builder
	for i := range t.Nodes {
		b.WriteString(NodeLine(t, i, live, nowMs))
		b.WriteByte('\n')
	}
	return b.String()
}

// Find returns the index of the node with cluster id id, or -1.
func Find(t *slotmap.Table, id string) int {
	for i := range t.Nodes {
		if t.Nodes[i].ID == id {
			return i
		}
	}
	return -1
}

// Replicas is CLUSTER REPLICAS id: the NODES lines of its replicas, or
// Redis's error for an unknown node or one that is not a master.
func Replicas(t *slotmap.Table, id string, live Live, nowMs int64) ([]string, error) {
	i := Find(t, id)
	if i < 0 {
		return nil, fmt.Errorf("ERR Unknown node %s", id)
	}
	sh, master := role(t, i)
	if sh == nil || !master {
		return nil, fmt.Errorf("ERR The specified node is not a master")
	}
	out := []string{}
	for _, r := range sh.Replicas {
		out = append(out, NodeLine(t, r, live, nowMs))
	}
	return out, nil
}

// State is cluster_state: "fail" when some slot is unassigned or its
// shard has no live master (cluster-require-full-coverage yes, as Redis).
func State(t *slotmap.Table, live Live) string {
	if t.Assigned() < slotmap.NumSlots {
		return "fail"
	}
	for i := range t.Shards {
		if len(t.Shards[i].Slots) == 0 {
			continue
		}
		m := t.MasterOf(i)
		if m == nil || live(m.Name) == Fail {
			return "fail"
		}
	}
	return "ok"
}

// Info is CLUSTER INFO.
func Info(t *slotmap.Table, live Live) string {
	assigned, pfail, fail := 0, 0, 0
	size := 0
	for i := range t.Shards {
		sh := &t.Shards[i]
		n := 0
		for _, r := range sh.Slots {
			n += r.End - r.Start + 1
		}
		if n == 0 {
			continue
		}
		size++
		assigned += n
		if m := t.MasterOf(i); m != nil {
			switch live(m.Name) {
			case PFail:
				pfail += n
			case Fail:
				fail += n
			}
		}
	}
	myEpoch := uint64(0)
	if t.Self >= 0 {
		if sh, _ := role(t, t.Self); sh != nil {
			myEpoch = sh.Epoch
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster_state:%s\r\n", State(t, live))
	fmt.Fprintf(&b, "cluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\ncluster_slots_pfail:%d\r\ncluster_slots_fail:%d\r\n",
		assigned, assigned-pfail-fail, pfail, fail)
	fmt.Fprintf(&b, "cluster_known_nodes:%d\r\ncluster_size:%d\r\ncluster_current_epoch:%d\r\ncluster_my_epoch:%d\r\n",
		len(t.Nodes), size, t.Epoch, myEpoch)
	b.WriteString("cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n")
	return b.String()
}

// Endpoint is one node in a CLUSTER SLOTS range.
type Endpoint struct {
	Host, ID string
	Port     int
	Hostname string // "" unless the announce host is a name
}

// SlotRange is one CLUSTER SLOTS entry: master first, then replicas.
type SlotRange struct {
	Start, End int
	Nodes      []Endpoint
}

func endpoint(n *slotmap.Node) Endpoint {
	e := Endpoint{Host: n.Host, ID: n.ID, Port: n.Port}
	if !isIP(n.Host) {
		e.Hostname = n.Host
	}
	return e
}

// Slots is CLUSTER SLOTS: each range of each shard with a master, its
// master then its live replicas (Redis omits failed replicas).
func Slots(t *slotmap.Table, live Live) []SlotRange {
	var out []SlotRange
	for i := range t.Shards {
		sh := &t.Shards[i]
		m := t.MasterOf(i)
		if m == nil {
			continue
		}
		nodes := []Endpoint{endpoint(m)}
		for _, r := range sh.Replicas {
			if live(t.Nodes[r].Name) != Fail {
				nodes = append(nodes, endpoint(&t.Nodes[r]))
			}
		}
		for _, r := range sh.Slots {
			out = append(out, SlotRange{Start: r.Start, End: r.End, Nodes: nodes})
		}
	}
	return out
}

// ShardNode is one node of a CLUSTER SHARDS entry.
type ShardNode struct {
	Endpoint
	Role   string // master, replica
	Offset int64
	Health string // online, failed, loading
}

// ShardView is one CLUSTER SHARDS entry.
type ShardView struct {
	Slots []slotmap.Range
	Nodes []ShardNode
}

// Shards is CLUSTER SHARDS. offset gives a node's replication offset.
func Shards(t *slotmap.Table, live Live, offset func(name string) int64) []ShardView {
	var out []ShardView
	for i := range t.Shards {
		sh := &t.Shards[i]
		v := ShardView{Slots: sh.Slots}
		add := func(idx int, role string) {
			n := &t.Nodes[idx]
			h := "online"
			if live(n.Name) == Fail {
				h = "failed"
			}
			v.Nodes = append(v.Nodes, ShardNode{Endpoint: endpoint(n), Role: role, Offset: offset(n.Name), Health: h})
		}
		if sh.Master >= 0 {
			add(sh.Master, "master")
		}
		for _, r := range sh.Replicas {
			add(r, "replica")
		}
		if len(v.Nodes) == 0 {
			continue // a shard added but not yet joined, or removed: Redis lists none such
		}
		out = append(out, v)
	}
	return out
}
