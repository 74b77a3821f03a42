package raftfsm

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/slotmap"
)

func TestInitSplitsSlotsEvenly(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 7, 16, 100, 1000, slotmap.NumSlots} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h := newHarness(t)
			h.init("mymaster", n)
			st := h.f.State()
			if len(st.Shards) != n {
				t.Fatalf("%d shards, want %d", len(st.Shards), n)
			}
			if err := checkSlots(st); err != nil {
				t.Fatal(err)
			}
			lo, hi := slotmap.NumSlots, 0
			for i, sh := range st.Shards {
				if sh.ID != i || sh.Name != ShardName("mymaster", i) {
					t.Fatalf("shard %d: id %d name %q", i, sh.ID, sh.Name)
				}
				if sh.Master != "" || len(sh.Replicas) != 0 || sh.Epoch != 0 || sh.Handoff != nil {
					t.Fatalf("fresh shard %d not empty: %+v", i, sh)
				}
				size := 0
				for _, r := range sh.Slots {
					size += r.End - r.Start + 1
				}
				lo, hi = min(lo, size), max(hi, size)
			}
			if hi-lo > 1 {
				t.Fatalf("shard sizes range %d..%d, want them to differ by at most 1", lo, hi)
			}
			if st.Name != "mymaster" || st.ReplicasPerShard != 2 || st.Epoch != 0 {
				t.Fatalf("state header %q rps=%d epoch=%d", st.Name, st.ReplicasPerShard, st.Epoch)
			}
		})
	}
}

func TestInitZeroShardsMeansOne(t *testing.T) {
	for _, n := range []int{0, -3} {
		h := newHarness(t)
		h.init("m", n)
		if st := h.f.State(); len(st.Shards) != 1 || checkSlots(st) != nil {
			t.Fatalf("shards=%d: got %d shards, slots %v", n, len(st.Shards), checkSlots(st))
		}
	}
}

// More shards than slots cannot be split: init must refuse or cap, never
// record empty or inverted ranges.
func TestInitShardCountBounded(t *testing.T) {
	h := newHarness(t)
	err := h.apply(Command{Op: OpInit, Name: "m", Shards: slotmap.NumSlots + 1})
	st := h.f.State()
	if err == nil && (len(st.Shards) > slotmap.NumSlots || checkSlots(st) != nil) {
		t.Fatalf("init with %d shards accepted: %d shards, %v", slotmap.NumSlots+1, len(st.Shards), checkSlots(st))
	}
}

func TestSecondInitIgnored(t *testing.T) {
	h := newHarness(t)
	h.init("first", 3)
	h.add("n1", "a")
	before := h.f.State()
	if err := h.apply(Command{Op: OpInit, Name: "second", Shards: 5, ReplicasPerShard: 9}); err != nil {
		t.Fatalf("second init: %v, want nil (ignored)", err)
	}
	after := h.f.State()
	if !sameExceptIndex(before, after) {
		t.Fatalf("second init changed state:\n%+v\n%+v", before, after)
	}
	if after.Index != h.idx {
		t.Fatalf("Index %d, want %d", after.Index, h.idx)
	}
}

func TestAddNodeMastersThenReplicasEvenly(t *testing.T) {
	h := newHarness(t)
	h.init("mymaster", 3)
	for i := 1; i <= 9; i++ {
		h.add(fmt.Sprintf("n%d", i), fmt.Sprintf("host%d", i))
		if err := checkInvariants(h.f.State()); err != nil {
			t.Fatalf("after n%d: %v", i, err)
		}
	}
	st := h.f.State()
	for i, sh := range st.Shards {
		if want := fmt.Sprintf("n%d", i+1); sh.Master != want {
			t.Fatalf("shard %d master %q, want %q", i, sh.Master, want)
		}
		if sh.Epoch != uint64(i+1) {
			t.Fatalf("shard %d epoch %d, want %d", i, sh.Epoch, i+1)
		}
		want := []string{fmt.Sprintf("n%d", i+4), fmt.Sprintf("n%d", i+7)}
		if !slices.Equal(sh.Replicas, want) {
			t.Fatalf("shard %d replicas %v, want %v", i, sh.Replicas, want)
		}
	}
	if st.Epoch != 3 {
		t.Fatalf("state epoch %d, want 3 (one per master named)", st.Epoch)
	}
	if st.Failovers != 0 {
		t.Fatalf("failovers %d after placement only", st.Failovers)
	}
	if sh, master, ok := st.Role("n5"); !ok || master || sh.ID != 1 {
		t.Fatalf("Role(n5) = %v %v %v", sh, master, ok)
	}
	if m := st.MasterNode(2); m == nil || m.ID != "n3" {
		t.Fatalf("MasterNode(2) = %+v", m)
	}
}

func TestAddNodeAvoidsMasterHost(t *testing.T) {
	h := newHarness(t)
	h.init("m", 2)
	h.add("m0", "A")
	h.add("m1", "B")
	place := func(id, host string) int {
		t.Helper()
		h.add(id, host)
		return h.f.State().Nodes[id].Shard
	}
	// Shard 0 would be first by id, but its master shares host A.
	if got := place("r1", "A"); got != 1 {
		t.Fatalf("r1 on host A placed in shard %d, want 1 (master on B)", got)
	}
	if got := place("r2", "B"); got != 0 {
		t.Fatalf("r2 on host B placed in shard %d, want 0 (master on A)", got)
	}
	// Evenness beats host spreading: both shards have one replica, and
	// only shard 1 has its master elsewhere.
	if got := place("r3", "A"); got != 1 {
		t.Fatalf("r3 on host A placed in shard %d, want 1", got)
	}
	// Shard 0 now has fewer replicas; colocating is the only even choice.
	if got := place("r4", "A"); got != 0 {
		t.Fatalf("r4 on host A placed in shard %d, want 0 (fewest replicas)", got)
	}
	if err := checkInvariants(h.f.State()); err != nil {
		t.Fatal(err)
	}
}

func TestAddNodeEmptyHostIsNotColocated(t *testing.T) {
	h := newHarness(t)
	h.init("m", 2)
	h.add("m0", "")
	h.add("m1", "")
	h.add("r1", "")
	if got := h.f.State().Nodes["r1"].Shard; got != 0 {
		t.Fatalf("r1 with no host placed in shard %d, want 0 (an unknown host is not a shared host)", got)
	}
}

func TestReRegisterKeepsPlacementUpdatesAddresses(t *testing.T) {
	h := newHarness(t)
	h.init("m", 2)
	h.add("n1", "a")
	h.add("n2", "b")
	h.add("n3", "c")
	before := h.f.State()

	upd := testNode("n3", "c2")
	upd.RedisAddr = "10.0.0.3:6380"
	upd.SentinelAddr = "10.0.0.3:26379"
	upd.Priority = 7
	upd.Shard = 1 // a node cannot pick its own shard
	h.must(Command{Op: OpAddNode, Node: upd})
	after := h.f.State()

	n := after.Nodes["n3"]
	if n.Shard != before.Nodes["n3"].Shard || n.RedisAddr != "10.0.0.3:6380" ||
		n.SentinelAddr != "10.0.0.3:26379" || n.Host != "c2" || n.Priority != 7 {
		t.Fatalf("re-registered node %+v (was %+v)", n, before.Nodes["n3"])
	}
	if !reflect.DeepEqual(before.Shards, after.Shards) || before.Epoch != after.Epoch {
		t.Fatalf("re-registration moved shards or epoch:\n%+v\n%+v", before.Shards, after.Shards)
	}
	// A master re-registering stays master.
	h.must(Command{Op: OpAddNode, Node: testNode("n1", "a")})
	if st := h.f.State(); st.Shards[0].Master != "n1" || st.Epoch != before.Epoch {
		t.Fatalf("master re-registration: shard 0 %+v epoch %d", st.Shards[0], st.Epoch)
	}
}

func TestRegisterBeforeInitThenInitPlaces(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"n3", "n1", "n4", "n2"} {
		n := testNode(id, "h"+id)
		n.Shard = 0 // ignored: unplaced until init
		h.must(Command{Op: OpAddNode, Node: n})
	}
	st := h.f.State()
	for id, n := range st.Nodes {
		if n.Shard != -1 {
			t.Fatalf("%s has shard %d before init, want -1", id, n.Shard)
		}
	}
	if st.Epoch != 0 || len(st.Shards) != 0 {
		t.Fatalf("before init: epoch %d shards %d", st.Epoch, len(st.Shards))
	}
	h.init("m", 2)
	st = h.f.State()
	if err := checkInvariants(st); err != nil {
		t.Fatal(err)
	}
	// Placed in id order, so every node computes the same result.
	if st.Shards[0].Master != "n1" || st.Shards[1].Master != "n2" ||
		!slices.Equal(st.Shards[0].Replicas, []string{"n3"}) || !slices.Equal(st.Shards[1].Replicas, []string{"n4"}) {
		t.Fatalf("placement after init: %+v %+v", st.Shards[0], st.Shards[1])
	}
	if st.Epoch != 2 {
		t.Fatalf("epoch %d, want 2", st.Epoch)
	}
}

func TestAddNodeRejectsMissingNode(t *testing.T) {
	h := newHarness(t)
	h.init("m", 1)
	before := h.f.State()
	for _, c := range []Command{{Op: OpAddNode}, {Op: OpAddNode, Node: &Node{Host: "x"}}} {
		if err := h.apply(c); !errors.Is(err, ErrUnknownNode) {
			t.Fatalf("add_node %+v: %v, want ErrUnknownNode", c.Node, err)
		}
	}
	if !sameExceptIndex(before, h.f.State()) {
		t.Fatal("rejected add_node changed state")
	}
}

// oneShard: shard 0 with master m and replicas r1, r2 at epoch 1.
func oneShard(t *testing.T) *fsmHarness {
	h := newHarness(t)
	h.init("m", 1)
	h.add("m", "a")
	h.add("r1", "b")
	h.add("r2", "c")
	return h
}

func TestSetMasterCompareAndSet(t *testing.T) {
	h := oneShard(t)
	before := h.f.State()
	if before.Shards[0].Epoch != 1 || before.Epoch != 1 {
		t.Fatalf("setup epochs %d/%d", before.Shards[0].Epoch, before.Epoch)
	}
	for _, prev := range []uint64{0, 2, 99} {
		err := h.apply(Command{Op: OpSetMaster, Shard: 0, ID: "r1", PrevEpoch: prev})
		if !errors.Is(err, ErrStaleEpoch) {
			t.Fatalf("set_master prev=%d: %v, want ErrStaleEpoch", prev, err)
		}
		if !sameExceptIndex(before, h.f.State()) {
			t.Fatalf("stale set_master prev=%d changed state", prev)
		}
	}

	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "r1", PrevEpoch: 1})
	st := h.f.State()
	sh := st.Shards[0]
	if sh.Master != "r1" || sh.Epoch != 2 || st.Epoch != 2 || st.Failovers != 1 {
		t.Fatalf("after failover: master %s epoch %d state epoch %d failovers %d", sh.Master, sh.Epoch, st.Epoch, st.Failovers)
	}
	if slices.Contains(sh.Replicas, "r1") || !slices.Contains(sh.Replicas, "m") || !slices.Contains(sh.Replicas, "r2") || len(sh.Replicas) != 2 {
		t.Fatalf("replicas %v, want r2 and the old master m", sh.Replicas)
	}
	if st.Nodes["m"].Shard != 0 {
		t.Fatalf("old master shard %d", st.Nodes["m"].Shard)
	}
	if err := checkInvariants(st); err != nil {
		t.Fatal(err)
	}

	// The same decision replayed (e.g. by a new leader) is now stale.
	if err := h.apply(Command{Op: OpSetMaster, Shard: 0, ID: "r1", PrevEpoch: 1}); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("replayed set_master: %v, want ErrStaleEpoch", err)
	}
	// Fail back: the old master is a replica now and can be promoted.
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "m", PrevEpoch: 2})
	if st := h.f.State(); st.Shards[0].Master != "m" || st.Epoch != 3 || st.Failovers != 2 {
		t.Fatalf("fail back: %+v epoch %d failovers %d", st.Shards[0], st.Epoch, st.Failovers)
	}
	if st := h.f.State(); st.Shards[0].Unsynced || st.UnsyncedFailovers != 0 {
		t.Fatalf("synced failovers marked unsynced: %+v, %d", st.Shards[0], st.UnsyncedFailovers)
	}
	// A promotion of a replica that never synced is marked on the shard
	// and counted, until the next promotion.
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "r2", PrevEpoch: 3, Unsynced: true})
	if st := h.f.State(); !st.Shards[0].Unsynced || st.UnsyncedFailovers != 1 || st.Failovers != 3 {
		t.Fatalf("unsynced failover: %+v unsynced %d failovers %d", st.Shards[0], st.UnsyncedFailovers, st.Failovers)
	}
	if !h.f.State().Clone().Shards[0].Unsynced {
		t.Fatal("Clone dropped Unsynced")
	}
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "r1", PrevEpoch: 4})
	if st := h.f.State(); st.Shards[0].Unsynced || st.UnsyncedFailovers != 1 {
		t.Fatalf("next failover: %+v unsynced %d", st.Shards[0], st.UnsyncedFailovers)
	}
}

func TestSetMasterRejects(t *testing.T) {
	h := newHarness(t)
	h.init("m", 2)
	for _, id := range []string{"m0", "m1", "r0", "r1"} {
		h.add(id, id)
	}
	before := h.f.State()
	cases := []struct {
		c    Command
		want error
	}{
		{Command{Op: OpSetMaster, Shard: 5, ID: "r0", PrevEpoch: 1}, ErrNoShard},
		{Command{Op: OpSetMaster, Shard: -1, ID: "r0", PrevEpoch: 1}, ErrNoShard},
		{Command{Op: OpSetMaster, Shard: 0, ID: "ghost", PrevEpoch: 1}, ErrUnknownNode},
		{Command{Op: OpSetMaster, Shard: 0, ID: "m0", PrevEpoch: 1}, ErrNotReplica}, // already master
		{Command{Op: OpSetMaster, Shard: 0, ID: "r1", PrevEpoch: 1}, ErrNotReplica}, // other shard's replica
		{Command{Op: OpSetMaster, Shard: 0, ID: "m1", PrevEpoch: 1}, ErrNotReplica}, // other shard's master
	}
	for _, tc := range cases {
		if err := h.apply(tc.c); !errors.Is(err, tc.want) {
			t.Fatalf("set_master shard=%d id=%s: %v, want %v", tc.c.Shard, tc.c.ID, err, tc.want)
		}
		if !sameExceptIndex(before, h.f.State()) {
			t.Fatalf("rejected set_master shard=%d id=%s changed state", tc.c.Shard, tc.c.ID)
		}
	}
}

func TestEpochGrowsAcrossShards(t *testing.T) {
	h := newHarness(t)
	h.init("m", 2)
	for _, id := range []string{"m0", "m1", "r0", "r1"} {
		h.add(id, id)
	}
	last := h.f.State().Epoch
	steps := []struct {
		shard int
		id    string
	}{{1, "r1"}, {0, "r0"}, {1, "m1"}, {0, "m0"}}
	for _, s := range steps {
		st := h.f.State()
		h.must(Command{Op: OpSetMaster, Shard: s.shard, ID: s.id, PrevEpoch: st.Shards[s.shard].Epoch})
		st = h.f.State()
		if st.Epoch != last+1 || st.Shards[s.shard].Epoch != st.Epoch {
			t.Fatalf("set_master %d=%s: state epoch %d (was %d), shard epoch %d", s.shard, s.id, st.Epoch, last, st.Shards[s.shard].Epoch)
		}
		last = st.Epoch
	}
	if st := h.f.State(); st.Failovers != 4 {
		t.Fatalf("failovers %d, want 4", st.Failovers)
	}
}

// A shard whose master was removed may only be given one of its own
// replicas; naming a node that serves another shard would put it in two.
func TestSetMasterOnMasterlessShardNeedsOwnReplica(t *testing.T) {
	h := newHarness(t)
	h.init("m", 2)
	for _, id := range []string{"m0", "m1", "r0", "r1"} {
		h.add(id, id)
	}
	h.must(Command{Op: OpRemoveNode, ID: "m0"})
	before := h.f.State()
	for _, id := range []string{"m1", "r1"} {
		err := h.apply(Command{Op: OpSetMaster, Shard: 0, ID: id, PrevEpoch: before.Shards[0].Epoch})
		if err == nil {
			t.Errorf("set_master of masterless shard 0 to %s (serving shard 1) accepted; invariants: %v", id, checkInvariants(h.f.State()))
			return
		}
		if !sameExceptIndex(before, h.f.State()) {
			t.Fatalf("rejected set_master %s changed state", id)
		}
	}
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "r0", PrevEpoch: before.Shards[0].Epoch})
	st := h.f.State()
	if st.Shards[0].Master != "r0" || len(st.Shards[0].Replicas) != 0 || st.Epoch != before.Epoch+1 {
		t.Fatalf("promotion in masterless shard: %+v epoch %d", st.Shards[0], st.Epoch)
	}
	if err := checkInvariants(st); err != nil {
		t.Fatal(err)
	}
}

func TestHandoff(t *testing.T) {
	h := oneShard(t)
	before := h.f.State()
	for _, tc := range []struct {
		c    Command
		want error
	}{
		{Command{Op: OpBeginHandoff, Shard: 0, ID: "r1", PrevEpoch: 0, Deadline: 5}, ErrStaleEpoch},
		{Command{Op: OpBeginHandoff, Shard: 0, ID: "m", PrevEpoch: 1, Deadline: 5}, ErrNotReplica},
		{Command{Op: OpBeginHandoff, Shard: 0, ID: "ghost", PrevEpoch: 1, Deadline: 5}, ErrNotReplica},
		{Command{Op: OpBeginHandoff, Shard: 3, ID: "r1", PrevEpoch: 1, Deadline: 5}, ErrNoShard},
		{Command{Op: OpEndHandoff, Shard: 3, PrevEpoch: 1}, ErrNoShard},
	} {
		if err := h.apply(tc.c); !errors.Is(err, tc.want) {
			t.Fatalf("%s %+v: %v, want %v", tc.c.Op, tc.c, err, tc.want)
		}
		if !sameExceptIndex(before, h.f.State()) {
			t.Fatalf("rejected %s changed state", tc.c.Op)
		}
	}

	h.must(Command{Op: OpBeginHandoff, Shard: 0, ID: "r1", PrevEpoch: 1, Deadline: 1234})
	st := h.f.State()
	if ho := st.Shards[0].Handoff; ho == nil || ho.Target != "r1" || ho.Deadline != 1234 {
		t.Fatalf("handoff %+v", ho)
	}
	if st.Epoch != before.Epoch || st.Shards[0].Master != "m" {
		t.Fatal("begin_handoff must not change master or epoch")
	}
	if err := h.apply(Command{Op: OpEndHandoff, Shard: 0, PrevEpoch: 0}); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("stale end_handoff: %v", err)
	}
	if h.f.State().Shards[0].Handoff == nil {
		t.Fatal("stale end_handoff cleared the handoff")
	}
	h.must(Command{Op: OpEndHandoff, Shard: 0, PrevEpoch: 1})
	if ho := h.f.State().Shards[0].Handoff; ho != nil {
		t.Fatalf("after end_handoff: %+v", ho)
	}

	// Completing a handoff is a set_master, which clears it.
	h.must(Command{Op: OpBeginHandoff, Shard: 0, ID: "r2", PrevEpoch: 1, Deadline: 99})
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "r2", PrevEpoch: 1, Manual: true})
	st = h.f.State()
	if st.Shards[0].Handoff != nil || st.Shards[0].Master != "r2" || st.Failovers != 1 {
		t.Fatalf("after handoff completes: %+v failovers %d", st.Shards[0], st.Failovers)
	}
}

func TestRemoveNode(t *testing.T) {
	h := oneShard(t)
	h.must(Command{Op: OpBeginHandoff, Shard: 0, ID: "r1", PrevEpoch: 1, Deadline: 9})
	h.must(Command{Op: OpRemoveNode, ID: "m"})
	st := h.f.State()
	sh := st.Shards[0]
	if sh.Master != "" || sh.Handoff != nil || !slices.Equal(sh.Replicas, []string{"r1", "r2"}) {
		t.Fatalf("after removing the master: %+v", sh)
	}
	if _, ok := st.Nodes["m"]; ok {
		t.Fatal("removed node still registered")
	}
	if st.Epoch != 1 || sh.Epoch != 1 {
		t.Fatalf("remove changed epochs: %d/%d", st.Epoch, sh.Epoch)
	}
	if st.MasterNode(0) != nil {
		t.Fatal("MasterNode of a masterless shard")
	}
	if err := checkInvariants(st); err != nil {
		t.Fatal(err)
	}

	h.must(Command{Op: OpRemoveNode, ID: "r2"})
	if st := h.f.State(); !slices.Equal(st.Shards[0].Replicas, []string{"r1"}) || st.Nodes["r2"] != nil {
		t.Fatalf("after removing replica r2: %+v", st.Shards[0])
	}
	before := h.f.State()
	if err := h.apply(Command{Op: OpRemoveNode, ID: "r2"}); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("removing an unknown node: %v", err)
	}
	if !sameExceptIndex(before, h.f.State()) {
		t.Fatal("rejected remove changed state")
	}
	// Removing an unplaced node (before init) works too.
	h2 := newHarness(t)
	h2.add("x", "x")
	h2.must(Command{Op: OpRemoveNode, ID: "x"})
	if len(h2.f.State().Nodes) != 0 {
		t.Fatal("unplaced node not removed")
	}
}

func TestApplyBadEntries(t *testing.T) {
	h := oneShard(t)
	before := h.f.State()
	bad := map[string][]byte{
		"unknown op":     []byte(`{"v":1,"op":"explode","shard":0}`),
		"future version": []byte(fmt.Sprintf(`{"v":%d,"op":"init","shards":4}`, Version+1)),
		"no version":     []byte(`{"op":"remove_node","id":"m"}`),
		"negative":       []byte(`{"v":-1,"op":"remove_node","id":"m"}`),
		"not json":       []byte("\x00\xffgarbage"),
		"empty":          nil,
		"json null":      []byte("null"),
		"wrong types":    []byte(`{"v":1,"op":"set_master","shard":"zero"}`),
		"node not obj":   []byte(`{"v":1,"op":"add_node","node":42}`),
	}
	for name, data := range bad {
		t.Run(name, func(t *testing.T) {
			if err := h.raw(data); err == nil {
				t.Fatalf("Apply(%q) returned nil, want an error", data)
			}
			if !sameExceptIndex(before, h.f.State()) {
				t.Fatalf("Apply(%q) changed state", data)
			}
		})
	}
	// Non-command entries (raft's own) are not the FSM's business.
	for _, typ := range []raft.LogType{raft.LogNoop, raft.LogConfiguration, raft.LogBarrier} {
		if r := h.f.Apply(&raft.Log{Index: 1000, Type: typ, Data: []byte(`{"v":1,"op":"remove_node","id":"m"}`)}); r != nil {
			t.Fatalf("Apply(%v) = %v, want nil", typ, r)
		}
	}
	if !sameExceptIndex(before, h.f.State()) {
		t.Fatal("non-command entries changed state")
	}
}

func TestDecodeEncodeRoundTrip(t *testing.T) {
	c := Command{Op: OpSetMaster, Shard: 0, ID: "n2", PrevEpoch: 7, Manual: true, Node: testNode("n2", "h")}
	b, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	c.V = Version
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip:\n%+v\n%+v", got, c)
	}
}

func TestChangedClosesOnApply(t *testing.T) {
	h := newHarness(t)
	ch := h.f.Changed()
	select {
	case <-ch:
		t.Fatal("Changed closed before any apply")
	default:
	}
	h.init("m", 1)
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by an apply")
	}
	ch2 := h.f.Changed()
	if ch2 == ch {
		t.Fatal("Changed returned the already-closed channel")
	}
	select {
	case <-ch2:
		t.Fatal("new Changed channel already closed")
	default:
	}
	// A rejected command still moves Index, so watchers wake for it too.
	_ = h.apply(Command{Op: OpRemoveNode, ID: "ghost"})
	select {
	case <-ch2:
	default:
		t.Fatal("Changed not closed by a rejected apply")
	}
}

func TestStateIsDeepCopy(t *testing.T) {
	h := oneShard(t)
	h.must(Command{Op: OpBeginHandoff, Shard: 0, ID: "r1", PrevEpoch: 1, Deadline: 5})
	want := h.f.State()
	got := h.f.State()
	if !reflect.DeepEqual(want, got) {
		t.Fatal("two State() calls differ")
	}
	got.Epoch = 99
	got.Failovers = 99
	got.Nodes["m"].RedisAddr = "changed"
	got.Nodes["m"].Shard = 7
	delete(got.Nodes, "r2")
	got.Nodes["new"] = &Node{ID: "new"}
	got.Shards[0].Master = "r2"
	got.Shards[0].Replicas[0] = "zzz"
	got.Shards[0].Replicas = append(got.Shards[0].Replicas, "more")
	got.Shards[0].Slots[0].Start = 5
	got.Shards[0].Handoff.Target = "zzz"
	got.Shards = append(got.Shards, &Shard{ID: 1})
	if now := h.f.State(); !reflect.DeepEqual(want, now) {
		t.Fatalf("mutating a State() copy changed the FSM:\n%+v\n%+v", want, now)
	}
	// And the FSM's later applies do not leak into an older copy.
	old := h.f.State()
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "r1", PrevEpoch: 1})
	if !reflect.DeepEqual(old, want) {
		t.Fatal("an apply changed a previously returned State")
	}
}

func TestIndexTracksLastEntry(t *testing.T) {
	h := oneShard(t)
	if st := h.f.State(); st.Index != h.idx {
		t.Fatalf("Index %d, want %d", st.Index, h.idx)
	}
	_ = h.apply(Command{Op: OpRemoveNode, ID: "ghost"})
	if st := h.f.State(); st.Index != h.idx {
		t.Fatalf("Index after a rejected entry %d, want %d", st.Index, h.idx)
	}
}

func TestShardName(t *testing.T) {
	for i, want := range []string{"mymaster", "mymaster-1", "mymaster-2"} {
		if got := ShardName("mymaster", i); got != want {
			t.Fatalf("ShardName(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestStateAccessorsOnMissing(t *testing.T) {
	h := oneShard(t)
	st := h.f.State()
	if st.Shard(-1) != nil || st.Shard(1) != nil || st.MasterNode(4) != nil {
		t.Fatal("accessors returned a shard that does not exist")
	}
	if _, _, ok := st.Role("ghost"); ok {
		t.Fatal("Role of an unknown node ok")
	}
	if sh, master, ok := st.Role("m"); !ok || !master || sh.ID != 0 {
		t.Fatalf("Role(m) = %v %v %v", sh, master, ok)
	}
	if ids := st.NodeIDs(); !slices.Equal(ids, []string{"m", "r1", "r2"}) {
		t.Fatalf("NodeIDs %v", ids)
	}
	// Before init a registered node has no role.
	h2 := newHarness(t)
	h2.add("x", "x")
	if _, _, ok := h2.f.State().Role("x"); ok {
		t.Fatal("unplaced node has a role")
	}
}
