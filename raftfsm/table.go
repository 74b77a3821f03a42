package raftfsm

import (
	"net"
	"strconv"

	"github.com/wardenkv/warden/slotmap"
)

// Table derives the immutable slot table from the record, as node self
// (a human node id) sees it. With hexIDs nodes are named by their 40-hex
// cluster ids (cluster mode; a node without one shows its name hashed, so
// every node renders the same id for it), else by their names
// (Sentinel mode's CLUSTER NODES).
func (s *State) Table(self string, hexIDs bool) *slotmap.Table {
	ids := s.NodeIDs()
	index := make(map[string]int, len(ids))
	nodes := make([]slotmap.Node, 0, len(ids))
	selfIdx := -1
	for _, id := range ids {
		n := s.Nodes[id]
		host, port := splitHostPort(n.RedisAddr)
		_, cport := splitHostPort(n.RaftAddr)
		if id == self {
			selfIdx = len(nodes)
		}
		index[id] = len(nodes)
		cid := id
		if hexIDs {
			cid = ClusterIDOf(n)
		}
		nodes = append(nodes, slotmap.Node{ID: cid, Name: id, Host: host, Port: port, CPort: cport, Shard: n.Shard})
	}
	shards := make([]slotmap.Shard, 0, len(s.Shards))
	for _, sh := range s.Shards {
		t := slotmap.Shard{ID: sh.ID, Name: sh.Name, Epoch: sh.Epoch, Master: -1, Slots: sh.Slots}
		if i, ok := index[sh.Master]; ok {
			t.Master = i
		}
		for _, r := range sh.Replicas {
			if i, ok := index[r]; ok {
				t.Replicas = append(t.Replicas, i)
			}
		}
		shards = append(shards, t)
	}
	t := slotmap.NewTable(s.Epoch, shards, nodes, selfIdx)
	for _, m := range s.Migrations {
		if !m.Active() {
			continue
		}
		if t.Migrating == nil {
			t.Migrating, t.Importing = map[int]int{}, map[int]int{}
		}
		for _, r := range m.Slots {
			for slot := r.Start; slot <= r.End; slot++ {
				t.Migrating[slot], t.Importing[slot] = m.To, m.From
			}
		}
	}
	return t
}

// ClusterIDOf is n's 40-hex cluster id: the one it registered, else one
// derived from its name (nodes from before cluster ids existed).
func ClusterIDOf(n *Node) string {
	if n.ClusterID != "" {
		return n.ClusterID
	}
	return derivedID(n.ID)
}

func splitHostPort(hp string) (string, int) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	port, _ := strconv.Atoi(p)
	return h, port
}
