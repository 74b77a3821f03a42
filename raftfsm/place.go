package raftfsm

import "slices"

// place assigns an unplaced node deterministically: first a shard without
// a master (it becomes master at a new epoch), then the shard with the
// fewest replicas, preferring one whose master is on another host so a
// host failure cannot take a master and its replica together.
func (s *State) place(n *Node) {
	if len(s.Shards) == 0 {
		return // placed at init
	}
	for _, sh := range s.Shards {
		if sh.Master == "" && len(sh.Replicas) == 0 {
			n.Shard = sh.ID
			s.Epoch++
			sh.Master, sh.Epoch = n.ID, s.Epoch
			return
		}
	}
	best := -1
	bestScore := 0
	for _, sh := range s.Shards {
		score := len(sh.Replicas) * 2
		if m := s.Nodes[sh.Master]; m != nil && m.Host == n.Host && n.Host != "" {
			score++
		}
		if best < 0 || score < bestScore {
			best, bestScore = sh.ID, score
		}
	}
	sh := s.Shards[best]
	n.Shard = sh.ID
	if !slices.Contains(sh.Replicas, n.ID) {
		sh.Replicas = append(sh.Replicas, n.ID)
	}
}
