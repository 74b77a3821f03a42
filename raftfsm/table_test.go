package raftfsm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

func TestTableFromRecord(t *testing.T) {
	s := newState()
	if err := s.apply(Command{Op: OpInit, Name: "m", Shards: 3, ReplicasPerShard: 1}); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"n1", "n2", "n3", "n4", "n5", "n6"} {
		n := &Node{ID: id, RedisAddr: "127.0.0.1:" + string(rune('1'+i)) + "000", RaftAddr: "127.0.0.1:9" + string(rune('1'+i)) + "00", Host: "127.0.0.1"}
		if id == "n1" {
			n.ClusterID = "0123456789abcdef0123456789abcdef01234567"
		}
		if err := s.apply(Command{Op: OpAddNode, Node: n}); err != nil {
			t.Fatal(err)
		}
	}
	tab := s.Table("n4", true)
	if tab.Assigned() != slotmap.NumSlots || len(tab.Shards) != 3 || len(tab.Nodes) != 6 {
		t.Fatalf("table: %d slots, %d shards, %d nodes", tab.Assigned(), len(tab.Shards), len(tab.Nodes))
	}
	if tab.SelfNode() == nil || tab.SelfNode().Name != "n4" || tab.SelfNode().CPort != 9400 {
		t.Fatalf("self = %+v", tab.SelfNode())
	}
	if id := tab.Nodes[0].ID; id != "0123456789abcdef0123456789abcdef01234567" {
		t.Fatalf("n1's registered cluster id not used: %s", id)
	}
	if id := tab.Nodes[1].ID; !ValidClusterID(id) || id != s.Table("n1", true).Nodes[1].ID {
		t.Fatalf("n2 without a registered id: %q (must be 40-hex and the same on every node)", id)
	}
	// Every slot's owner is the record's shard; masters and replicas as placed.
	for _, sh := range s.Shards {
		for _, r := range sh.Slots {
			for _, slot := range []int{r.Start, r.End} {
				if o := tab.Owner(slot); o != sh.ID {
					t.Fatalf("slot %d owned by %d, record says %d", slot, o, sh.ID)
				}
			}
		}
		m := tab.MasterOf(sh.ID)
		if m == nil || m.Name != sh.Master || len(tab.Shards[sh.ID].Replicas) != len(sh.Replicas) {
			t.Fatalf("shard %d: master %+v, record %s", sh.ID, m, sh.Master)
		}
	}
	if got := s.Table("n4", false).Nodes[0].ID; got != "n1" {
		t.Fatalf("Sentinel mode table names nodes by name: %q", got)
	}
	if s.Table("nobody", true).SelfNode() != nil {
		t.Fatal("a node outside the record has a self entry")
	}
}

func TestLoadClusterID(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadClusterID(dir)
	if err != nil || !ValidClusterID(a) {
		t.Fatalf("first id %q, %v", a, err)
	}
	b, err := LoadClusterID(dir)
	if err != nil || a != b {
		t.Fatalf("id changed across loads: %q then %q (%v)", a, b, err)
	}
	if c, _ := LoadClusterID(t.TempDir()); c == a {
		t.Fatal("two dirs got the same random id")
	}
	// A damaged id file is an error, never silently replaced: the node
	// would rejoin under another identity.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, clusterIDFile), []byte("not-an-id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if id, err := LoadClusterID(bad); err == nil {
		t.Fatalf("damaged id file accepted as %q", id)
	}
}
