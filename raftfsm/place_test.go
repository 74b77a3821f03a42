package raftfsm

import (
	"fmt"
	"testing"
)

// TestPlace deals nodes (id@host) into shards one by one and checks
// each placement: masters first, then replicas one per shard in turn,
// a replica kept off its master's host when another host is free.
func TestPlace(t *testing.T) {
	cases := []struct {
		name   string
		shards int
		nodes  []string // id@host, in join order
		want   []string // per node: "m<shard>" or "r<shard>"
	}{
		{"3 shards, 6 nodes on one host", 3,
			[]string{"a@h", "b@h", "c@h", "d@h", "e@h", "f@h"},
			[]string{"m0", "m1", "m2", "r0", "r1", "r2"}},
		{"3 shards, 6 hosts", 3,
			[]string{"a@1", "b@2", "c@3", "d@4", "e@5", "f@6"},
			[]string{"m0", "m1", "m2", "r0", "r1", "r2"}},
		{"replica skips its own host's master", 3,
			[]string{"a@1", "b@2", "c@3", "d@1", "e@2", "f@3"},
			[]string{"m0", "m1", "m2", "r1", "r0", "r2"}},
		{"one host free only", 2,
			[]string{"a@1", "b@2", "c@1", "d@2"},
			[]string{"m0", "m1", "r1", "r0"}},
		{"second round of replicas", 2,
			[]string{"a@1", "b@2", "c@3", "d@4", "e@1", "f@2"},
			[]string{"m0", "m1", "r0", "r1", "r1", "r0"}},
		{"single shard takes every node", 1,
			[]string{"a@h", "b@h", "c@h"},
			[]string{"m0", "r0", "r0"}},
	}
	for _, c := range cases {
		s := newState()
		if err := s.apply(Command{Op: OpInit, Name: "m", Shards: c.shards, ReplicasPerShard: 1}); err != nil {
			t.Fatal(err)
		}
		for i, spec := range c.nodes {
			var id, host string
			fmt.Sscanf(replaceAt(spec), "%s %s", &id, &host)
			n := &Node{ID: id, Host: host, Shard: -1}
			p := Place(s, n)
			got := fmt.Sprintf("r%d", p.Shard)
			if p.Master {
				got = fmt.Sprintf("m%d", p.Shard)
			}
			if got != c.want[i] {
				t.Errorf("%s: node %s placed %s, want %s", c.name, spec, got, c.want[i])
			}
			if err := s.apply(Command{Op: OpAddNode, Node: n}); err != nil {
				t.Fatal(err)
			}
			if s.Nodes[id].Shard != p.Shard {
				t.Errorf("%s: apply placed %s in %d, Place said %d", c.name, id, s.Nodes[id].Shard, p.Shard)
			}
		}
	}
	if p := Place(newState(), &Node{ID: "x"}); p.Shard != -1 {
		t.Errorf("no shards yet: placed in %d", p.Shard)
	}
}

func replaceAt(s string) string {
	for i := range s {
		if s[i] == '@' {
			return s[:i] + " " + s[i+1:]
		}
	}
	return s
}
