// Package raftfsm is warden's replicated control-plane record: which nodes
// exist, which node is master of each shard at which epoch, and which shard
// owns which slots. The Raft log is the only writer; every node applies it
// and reconciles itself to the result.
package raftfsm

import (
	"fmt"
	"slices"
	"sort"

	"github.com/wardenkv/warden/slotmap"
)

// Node is one registered warden node.
type Node struct {
	ID           string `json:"id"`
	RaftAddr     string `json:"raft_addr"`
	GossipAddr   string `json:"gossip_addr"`
	HTTPAddr     string `json:"http_addr"`
	RedisAddr    string `json:"redis_addr"`    // announce host:port for RESP
	SentinelAddr string `json:"sentinel_addr"` // announce host:port, "" when off
	Host         string `json:"host"`          // announce host (placement spreads hosts)
	Voter        bool   `json:"voter"`
	Priority     int    `json:"priority"` // replica-priority: lower wins, 0 never promoted
	Shard        int    `json:"shard"`    // -1 until placed
	// ClusterID is the node's persistent 40-hex id (CLUSTER MYID), kept
	// under its dir; ID stays the human name.
	ClusterID string `json:"cluster_id,omitempty"`
}

// Handoff is a graceful (manual) failover in progress: the master has been
// told to stop taking writes until Target has caught up.
type Handoff struct {
	Target   string `json:"target"`
	Deadline int64  `json:"deadline"` // unix ms; past it the leader aborts
}

// Shard is one replication group.
type Shard struct {
	ID       int             `json:"id"`
	Name     string          `json:"name"`
	Master   string          `json:"master"` // node id, "" while none
	Replicas []string        `json:"replicas"`
	Epoch    uint64          `json:"epoch"` // config epoch at which Master was named
	Slots    []slotmap.Range `json:"slots"`
	Handoff  *Handoff        `json:"handoff,omitempty"`
	// Unsynced: Master was promoted without ever having synced from the
	// master it replaced (see Command.Unsynced).
	Unsynced bool `json:"unsynced,omitempty"`
	// Removed: retired by shard_remove (shards.go); it keeps its id.
	Removed bool `json:"removed,omitempty"`
}

// State is the whole replicated record.
type State struct {
	Epoch            uint64           `json:"epoch"` // cluster config epoch; only grows
	Name             string           `json:"name"`  // master-name of shard 0
	ReplicasPerShard int              `json:"replicas_per_shard"`
	Shards           []*Shard         `json:"shards"`
	Nodes            map[string]*Node `json:"nodes"`
	Failovers        uint64           `json:"failovers"` // automatic + manual master changes
	// UnsyncedFailovers counts the failovers that promoted a replica that
	// had never synced from the failed master.
	UnsyncedFailovers uint64 `json:"unsynced_failovers,omitempty"`
	Index             uint64 `json:"index"` // last applied log index
	// Migrations are the slot migrations in progress and the last
	// finished ones; NextMigration numbers them.
	Migrations    []*Migration `json:"migrations,omitempty"`
	NextMigration uint64       `json:"next_migration,omitempty"`
}

func newState() *State { return &State{Nodes: map[string]*Node{}} }

// Clone is a deep copy, safe to read without the FSM's lock.
func (s *State) Clone() *State {
	c := *s
	c.Nodes = make(map[string]*Node, len(s.Nodes))
	for id, n := range s.Nodes {
		cp := *n
		c.Nodes[id] = &cp
	}
	c.Shards = make([]*Shard, len(s.Shards))
	for i, sh := range s.Shards {
		cp := *sh
		cp.Replicas = slices.Clone(sh.Replicas)
		cp.Slots = slices.Clone(sh.Slots)
		if sh.Handoff != nil {
			h := *sh.Handoff
			cp.Handoff = &h
		}
		c.Shards[i] = &cp
	}
	c.Migrations = make([]*Migration, len(s.Migrations))
	for i, m := range s.Migrations {
		cp := *m
		cp.Slots = slices.Clone(m.Slots)
		c.Migrations[i] = &cp
	}
	if s.Migrations == nil {
		c.Migrations = nil
	}
	return &c
}

// Shard returns shard id, or nil.
func (s *State) Shard(id int) *Shard {
	if id < 0 || id >= len(s.Shards) {
		return nil
	}
	return s.Shards[id]
}

// Role reports what the record says node id is: master or replica of a
// shard, and that shard's master. ok is false for an unplaced node.
func (s *State) Role(id string) (sh *Shard, master bool, ok bool) {
	n := s.Nodes[id]
	if n == nil {
		return nil, false, false
	}
	sh = s.Shard(n.Shard)
	if sh == nil {
		return nil, false, false
	}
	return sh, sh.Master == id, true
}

// MasterNode returns the master of shard id, or nil.
func (s *State) MasterNode(id int) *Node {
	sh := s.Shard(id)
	if sh == nil || sh.Master == "" {
		return nil
	}
	return s.Nodes[sh.Master]
}

// NodeIDs returns the registered ids in order.
func (s *State) NodeIDs() []string {
	ids := make([]string, 0, len(s.Nodes))
	for id := range s.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ShardName is the Sentinel name of shard i.
func ShardName(base string, i int) string {
	if i == 0 {
		return base
	}
	return fmt.Sprintf("%s-%d", base, i)
}

// splitSlots gives n shards contiguous, even slot ranges.
func splitSlots(n int) [][]slotmap.Range {
	out := make([][]slotmap.Range, n)
	for i := range n {
		lo := i * slotmap.NumSlots / n
		hi := (i+1)*slotmap.NumSlots/n - 1
		out[i] = []slotmap.Range{{Start: lo, End: hi}}
	}
	return out
}
