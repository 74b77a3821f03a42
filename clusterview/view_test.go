package clusterview

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

// table: shard 0 (master a, replica c) owns 0-8191, shard 1 (master b,
// replica d on a named host) owns 8192-16383; this node is c.
func table(self int, noMaster1 bool) *slotmap.Table {
	id := func(ch byte) string { return strings.Repeat(string(ch), 40) }
	nodes := []slotmap.Node{
		{ID: id('a'), Name: "n1", Host: "10.0.0.1", Port: 7000, CPort: 17000, Shard: 0},
		{ID: id('b'), Name: "n2", Host: "10.0.0.2", Port: 7001, CPort: 17001, Shard: 1},
		{ID: id('c'), Name: "n3", Host: "10.0.0.3", Port: 7002, CPort: 17002, Shard: 0},
		{ID: id('d'), Name: "n4", Host: "node4.example", Port: 7003, CPort: 17003, Shard: 1},
	}
	shards := []slotmap.Shard{
		{ID: 0, Master: 0, Replicas: []int{2}, Epoch: 3, Slots: []slotmap.Range{{Start: 0, End: 8191}}},
		{ID: 1, Master: 1, Replicas: []int{3}, Epoch: 5, Slots: []slotmap.Range{{Start: 8192, End: 8192}, {Start: 8194, End: 16383}}},
	}
	if noMaster1 {
		shards[1].Master = -1
	}
	return slotmap.NewTable(7, shards, nodes, self)
}

func live(failed ...string) Live {
	return func(name string) Health {
		for _, f := range failed {
			if f == name {
				return Fail
			}
			if f == name+"?" {
				return PFail
			}
		}
		return Alive
	}
}

func TestNodes(t *testing.T) {
	got := Nodes(table(2, false), live("n2?", "n4"), 1700)
	want := strings.Repeat("a", 40) + " 10.0.0.1:7000@17000 master - 0 1700 3 connected 0-8191\n" +
		strings.Repeat("b", 40) + " 10.0.0.2:7001@17001 master,fail? - 0 1700 5 connected 8192 8194-16383\n" +
		strings.Repeat("c", 40) + " 10.0.0.3:7002@17002 myself,slave " + strings.Repeat("a", 40) + " 0 0 3 connected\n" +
		strings.Repeat("d", 40) + " node4.example:7003@17003,node4.example slave,fail " + strings.Repeat("b", 40) + " 0 1700 5 disconnected\n"
	if got != want {
		t.Fatalf("CLUSTER NODES:\n%s\nwant:\n%s", got, want)
	}
}

func TestInfo(t *testing.T) {
	cases := []struct {
		name string
		tab  *slotmap.Table
		live Live
		want []string
	}{
		{"counts", table(0, false), live(), []string{"cluster_slots_assigned:16383", "cluster_slots_ok:16383", "cluster_size:2", "cluster_current_epoch:7", "cluster_my_epoch:3", "cluster_known_nodes:4"}},
		// 8193 is nobody's: full coverage is required, as Redis's default.
		{"slot 8193 unassigned", table(0, false), live(), []string{"cluster_state:fail"}},
		{"failed master", table(0, false), live("n2"), []string{"cluster_slots_fail:8191", "cluster_slots_ok:8192"}},
		{"pfail master", table(0, false), live("n2?"), []string{"cluster_slots_pfail:8191"}},
		{"shard without master", table(3, true), live(), []string{"cluster_state:fail", "cluster_my_epoch:5"}},
	}
	for _, c := range cases {
		got := Info(c.tab, c.live)
		for _, w := range c.want {
			if !strings.Contains(got, w+"\r\n") {
				t.Errorf("%s: CLUSTER INFO lacks %q:\n%s", c.name, w, got)
			}
		}
	}
	full := slotmap.NewTable(1, []slotmap.Shard{{ID: 0, Master: 0, Slots: []slotmap.Range{{Start: 0, End: slotmap.NumSlots - 1}}}},
		[]slotmap.Node{{ID: "x", Name: "n1", Host: "h", Port: 1}}, 0)
	if s := State(full, live()); s != "ok" {
		t.Errorf("full coverage: state %s", s)
	}
	if s := State(full, live("n1")); s != "fail" {
		t.Errorf("failed only master: state %s", s)
	}
}

func TestSlotsAndReplicas(t *testing.T) {
	tab := table(0, false)
	got := Slots(tab, live("n4"))
	a := Endpoint{Host: "10.0.0.1", ID: strings.Repeat("a", 40), Port: 7000}
	b := Endpoint{Host: "10.0.0.2", ID: strings.Repeat("b", 40), Port: 7001}
	c := Endpoint{Host: "10.0.0.3", ID: strings.Repeat("c", 40), Port: 7002}
	want := []SlotRange{{0, 8191, []Endpoint{a, c}}, {8192, 8192, []Endpoint{b}}, {8194, 16383, []Endpoint{b}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CLUSTER SLOTS = %+v, want %+v", got, want)
	}
	if got := Slots(table(0, true), live()); len(got) != 1 {
		t.Fatalf("a shard without master is listed: %+v", got)
	}
	lines, err := Replicas(tab, strings.Repeat("b", 40), live(), 1)
	if err != nil || len(lines) != 1 || !strings.HasPrefix(lines[0], strings.Repeat("d", 40)+" node4.example:7003@17003,node4.example slave ") {
		t.Fatalf("CLUSTER REPLICAS = %q, %v", lines, err)
	}
	if _, err := Replicas(tab, "nope", live(), 1); err == nil || err.Error() != "ERR Unknown node nope" {
		t.Fatalf("unknown node: %v", err)
	}
	if _, err := Replicas(tab, strings.Repeat("c", 40), live(), 1); err == nil || err.Error() != "ERR The specified node is not a master" {
		t.Fatalf("replica: %v", err)
	}
	sh := Shards(tab, live("n4"), func(name string) int64 { return int64(len(name)) })
	if len(sh) != 2 || len(sh[1].Nodes) != 2 || sh[1].Nodes[1].Health != "failed" || sh[1].Nodes[1].Hostname != "node4.example" || sh[0].Nodes[0].Role != "master" || sh[0].Nodes[1].Role != "replica" {
		t.Fatalf("CLUSTER SHARDS = %+v", sh)
	}
}

func TestNodesMigrationMarkers(t *testing.T) {
	src := table(0, false)
	src.Migrating, src.Importing = map[int]int{5: 1, 3: 1}, map[int]int{5: 0, 3: 0}
	line := NodeLine(src, 0, live(), 1)
	if !strings.HasSuffix(line, " 0-8191 [3->-"+strings.Repeat("b", 40)+"] [5->-"+strings.Repeat("b", 40)+"]") {
		t.Fatalf("source's own line: %s", line)
	}
	dst := table(1, false)
	dst.Migrating, dst.Importing = src.Migrating, src.Importing
	line = NodeLine(dst, 1, live(), 1)
	if !strings.HasSuffix(line, " 8194-16383 [3-<-"+strings.Repeat("a", 40)+"] [5-<-"+strings.Repeat("a", 40)+"]") {
		t.Fatalf("target's own line: %s", line)
	}
	if l := NodeLine(dst, 0, live(), 1); strings.Contains(l, "[") {
		t.Fatalf("markers on another node's line: %s", l)
	}
}
