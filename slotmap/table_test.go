package slotmap

import (
	"bytes"
	"testing"
)

// threeShards: shard i owns a third of the slots; node i masters shard i,
// node 3+i replicates it. Shard 2 lost its master (none named yet) when
// noMaster2 is set.
func threeShards(self int, noMaster2 bool) *Table {
	var nodes []Node
	for i := range 6 {
		nodes = append(nodes, Node{ID: string(rune('a'+i)) + "000", Name: "n" + string(rune('1'+i)), Host: "127.0.0.1", Port: 7000 + i, CPort: 17000 + i, Shard: i % 3})
	}
	var shards []Shard
	for i := range 3 {
		sh := Shard{ID: i, Master: i, Replicas: []int{3 + i}, Epoch: uint64(i + 1),
			Slots: []Range{{i * NumSlots / 3, (i+1)*NumSlots/3 - 1}}}
		if i == 2 && noMaster2 {
			sh.Master = -1
		}
		shards = append(shards, sh)
	}
	return NewTable(3, shards, nodes, self)
}

// downShard marks shard i's master failed, as the publisher does.
func downShard(t *Table, i int) *Table {
	t.Shards[i].Down = true
	return t
}

// keyIn returns a key hashing to a slot owned by shard i of threeShards.
func keyIn(t *testing.T, shard int) []byte {
	for _, k := range []string{"foo", "bar", "hello", "a", "b", "c", "d", "e", "x"} {
		if s := Slot([]byte(k)); s*3/NumSlots == shard {
			return []byte(k)
		}
	}
	t.Fatalf("no sample key in shard %d", shard)
	return nil
}

func TestRoute(t *testing.T) {
	k0, k1, k2 := keyIn(t, 0), keyIn(t, 1), keyIn(t, 2)
	moved := func(k []byte, port string) string {
		return "MOVED " + itoa(Slot(k)) + " 127.0.0.1:" + port
	}
	cases := []struct {
		name  string
		table *Table
		keys  [][]byte
		flags RouteFlags
		want  string // Decision.Error(), "" for serve
	}{
		{"no keys anywhere", threeShards(4, false), nil, 0, ""},
		{"own slot on master", threeShards(0, false), [][]byte{k0}, 0, ""},
		{"other shard's slot", threeShards(0, false), [][]byte{k1}, 0, moved(k1, "7001")},
		{"replica without READONLY", threeShards(3, false), [][]byte{k0}, Read, moved(k0, "7000")},
		{"replica READONLY read", threeShards(3, false), [][]byte{k0}, Read | ReadOnlyConn, ""},
		{"replica READONLY write", threeShards(3, false), [][]byte{k0}, ReadOnlyConn, moved(k0, "7000")},
		{"replica READONLY other shard", threeShards(3, false), [][]byte{k1}, Read | ReadOnlyConn, moved(k1, "7001")},
		{"cross slot", threeShards(0, false), [][]byte{k0, k1}, 0, "CROSSSLOT Keys in request don't hash to the same slot"},
		{"hash tags share a slot", threeShards(0, false), [][]byte{[]byte("{" + string(k0) + "}x"), []byte("{" + string(k0) + "}y")}, 0, ""},
		{"same key twice", threeShards(1, false), [][]byte{k1, k1}, 0, ""},
		{"shard without master", threeShards(0, true), [][]byte{k2}, 0, "CLUSTERDOWN The cluster is down"},
		{"masterless shard does not stop others", threeShards(0, true), [][]byte{k0}, 0, ""},
		{"master held failed", downShard(threeShards(0, false), 1), [][]byte{k1}, 0, "CLUSTERDOWN The cluster is down"},
		{"a failed master's shard does not stop others", downShard(threeShards(0, false), 1), [][]byte{k0}, 0, ""},
		{"node not in the record", threeShards(-1, false), [][]byte{k0}, Read | ReadOnlyConn, moved(k0, "7000")},
	}
	for _, c := range cases {
		got := c.table.Route(c.keys, c.flags).Error()
		if got != c.want {
			t.Errorf("%s: Route = %q, want %q", c.name, got, c.want)
		}
	}
	unbound := NewTable(1, []Shard{{ID: 0, Master: 0, Slots: []Range{{0, 99}}}}, []Node{{ID: "x", Host: "h", Port: 1}}, 0)
	if got := unbound.Route([][]byte{k1}, 0).Error(); got != "CLUSTERDOWN Hash slot not served" {
		t.Errorf("unowned slot: %q", got)
	}
	if n := unbound.Assigned(); n != 100 {
		t.Errorf("Assigned = %d, want 100", n)
	}
	if n := threeShards(0, false).Assigned(); n != NumSlots {
		t.Errorf("Assigned = %d, want %d", n, NumSlots)
	}
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// FuzzRoute checks Route's decision against its definition for arbitrary
// keys and tables: serve only slots of this node's shard, MOVED only to
// the owning master, CROSSSLOT exactly when the keys' slots differ.
func FuzzRoute(f *testing.F) {
	f.Add([]byte("foo"), []byte("bar"), uint8(0), uint8(0), false)
	f.Add([]byte("{a}1"), []byte("{a}2"), uint8(4), uint8(3), true)
	f.Fuzz(func(t *testing.T, a, b []byte, self, flags uint8, noMaster bool) {
		tab := threeShards(int(self%7)-1, noMaster)
		keys := [][]byte{a}
		if len(b) > 0 {
			keys = append(keys, b)
		}
		d := tab.Route(keys, RouteFlags(flags&3))
		slot := Slot(a)
		same := len(keys) == 1 || Slot(b) == slot
		owner := tab.Owner(slot)
		switch d.Kind {
		case CrossSlot:
			if same {
				t.Fatalf("CROSSSLOT for keys in one slot %d", slot)
			}
			return
		case Serve:
			sn := tab.SelfNode()
			if !same || sn == nil || sn.Shard != tab.Shards[owner].ID {
				t.Fatalf("served slot %d of shard %d on node %d", slot, owner, self)
			}
		case Moved:
			m := tab.MasterOf(owner)
			if m == nil || d.Addr != m.Addr() || d.Slot != slot {
				t.Fatalf("MOVED %d %s, owner %d", d.Slot, d.Addr, owner)
			}
		case ClusterDown:
			if tab.MasterOf(owner) != nil {
				t.Fatalf("CLUSTERDOWN with a master for slot %d", slot)
			}
		default:
			t.Fatalf("unexpected decision %v", d)
		}
		if !same {
			t.Fatalf("keys in slots %d and %d not refused", slot, Slot(b))
		}
		if bytes.Equal(a, b) && d.Kind == CrossSlot {
			t.Fatal("CROSSSLOT for one key")
		}
	})
}

// BenchmarkRoute is the per-command cost of cluster routing for one key
// served here and one redirected.
func BenchmarkRoute(b *testing.B) {
	tab := threeShards(0, false)
	for _, c := range []struct {
		name string
		key  string
	}{{"serve", "foo{a}"}, {"moved", "foo"}} {
		keys := [][]byte{[]byte(c.key)}
		want := tab.Route(keys, Read).Kind
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if tab.Route(keys, Read).Kind != want {
					b.Fatal("decision changed")
				}
			}
		})
	}
}
