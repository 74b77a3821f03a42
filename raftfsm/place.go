package raftfsm

import "slices"

// Placement is where Place puts a node.
type Placement struct {
	Shard  int  // -1: nowhere (no shards yet)
	Master bool // it becomes the shard's master at a new epoch
}

// Place decides where an unplaced node n goes, as a pure function of the
// record: first a shard that has neither master nor replica (masters
// first, up to the shard count), then a replica for the shard with the
// fewest replicas, so replicas are dealt one per shard in turn. Among
// shards with equally few replicas, one whose master is on another
// announce host wins, so a host failure cannot take a master and its
// replica together; ties go to the lowest shard id.
func Place(s *State, n *Node) Placement {
	for _, sh := range s.Shards {
		if sh.Removed {
			continue
		}
		if sh.Master == "" && len(sh.Replicas) == 0 {
			return Placement{Shard: sh.ID, Master: true}
		}
	}
	best, bestScore := -1, 0
	for _, sh := range s.Shards {
		if sh.Removed {
			continue
		}
		score := len(sh.Replicas) * 2
		if m := s.Nodes[sh.Master]; m != nil && m.Host == n.Host && n.Host != "" {
			score++
		}
		if best < 0 || score < bestScore {
			best, bestScore = sh.ID, score
		}
	}
	return Placement{Shard: best}
}

// place applies Place to the record.
func (s *State) place(n *Node) {
	p := Place(s, n)
	sh := s.Shard(p.Shard)
	if sh == nil {
		return // placed at init
	}
	n.Shard = sh.ID
	if p.Master {
		s.Epoch++
		sh.Master, sh.Epoch = n.ID, s.Epoch
		return
	}
	if !slices.Contains(sh.Replicas, n.ID) {
		sh.Replicas = append(sh.Replicas, n.ID)
	}
}
