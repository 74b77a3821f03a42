package raftfsm

import (
	"errors"
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

func shardCmd(t *testing.T, op Op, id int) Command {
	t.Helper()
	var p any = ShardAdd{ID: id}
	if op == OpShardRemove {
		p = ShardRemove{ID: id}
	}
	c, err := WithPayload(op, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestShardAddRemove: a 3-shard record (master + replica each) gets a
// fourth shard; the next two nodes become its master and replica and
// every slot stays where it was. Removing it is refused while it owns
// slots or takes part in a migration; once drained, its nodes become
// spares, and the next shard_add places them again.
func TestShardAddRemove(t *testing.T) {
	h := newHarness(t)
	h.must(Command{Op: OpInit, Name: "m", Shards: 3, ReplicasPerShard: 1})
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		h.add(id, "h")
	}
	before := h.f.State()
	if err := h.apply(shardCmd(t, OpShardAdd, 5)); !errors.Is(err, ErrShardID) {
		t.Fatalf("shard_add with a wrong id: %v, want ErrShardID", err)
	}
	h.must(shardCmd(t, OpShardAdd, 3))
	if err := h.apply(shardCmd(t, OpShardAdd, 3)); !errors.Is(err, ErrShardID) {
		t.Fatalf("retried shard_add 3: %v, want ErrShardID (no second shard)", err)
	}
	h.add("g", "h")
	h.add("x", "h")
	st := h.f.State()
	if len(st.Shards) != 4 {
		t.Fatalf("%d shards, want 4", len(st.Shards))
	}
	sh := st.Shards[3]
	if sh.Master != "g" || len(sh.Replicas) != 1 || sh.Replicas[0] != "x" || sh.Name != "m-3" {
		t.Fatalf("new shard %+v: want master g, replica x, name m-3", sh)
	}
	for i := range 3 {
		if rangeText(st.Shards[i].Slots) != rangeText(before.Shards[i].Slots) || st.Shards[i].Master != before.Shards[i].Master {
			t.Errorf("shard %d changed: %+v, was %+v", i, st.Shards[i], before.Shards[i])
		}
	}
	if len(sh.Slots) != 0 {
		t.Errorf("new shard owns %v before any migration", sh.Slots)
	}
	if err := checkInvariants(st); err != nil {
		t.Fatal(err)
	}

	// Give it slots, then try to remove it.
	start, _ := WithPayload(OpMigrationStart, MigrationStart{From: 0, To: 3, Slots: []slotmap.Range{{Start: 0, End: 9}}})
	h.must(start)
	if err := h.apply(shardCmd(t, OpShardRemove, 3)); !errors.Is(err, ErrShardBusy) {
		t.Fatalf("remove during a migration: %v, want ErrShardBusy", err)
	}
	flip, _ := WithPayload(OpMigrationFlip, MigrationFlip{ID: 1})
	h.must(flip)
	if err := h.apply(shardCmd(t, OpShardRemove, 3)); !errors.Is(err, ErrShardHasSlots) {
		t.Fatalf("remove while owning slots: %v, want ErrShardHasSlots", err)
	}
	back, _ := WithPayload(OpMigrationStart, MigrationStart{From: 3, To: 1, Slots: []slotmap.Range{{Start: 0, End: 9}}})
	h.must(back)
	flip2, _ := WithPayload(OpMigrationFlip, MigrationFlip{ID: 2})
	h.must(flip2)
	epoch := h.f.State().Epoch
	h.must(shardCmd(t, OpShardRemove, 3))
	st = h.f.State()
	if sh := st.Shards[3]; !sh.Removed || sh.Master != "" || len(sh.Replicas) != 0 {
		t.Fatalf("removed shard %+v: want Removed, no nodes", sh)
	}
	if st.Nodes["g"].Shard != -1 || st.Nodes["x"].Shard != -1 {
		t.Fatalf("retired nodes placed in %d, %d: want spares (-1)", st.Nodes["g"].Shard, st.Nodes["x"].Shard)
	}
	if st.Epoch <= epoch {
		t.Errorf("epoch %d did not grow past %d", st.Epoch, epoch)
	}
	if err := checkInvariants(st); err != nil {
		t.Fatal(err)
	}
	if err := h.apply(shardCmd(t, OpShardRemove, 3)); !errors.Is(err, ErrShardRemoved) {
		t.Fatalf("second remove: %v, want ErrShardRemoved", err)
	}
	if err := h.apply(shardCmd(t, OpShardRemove, 9)); !errors.Is(err, ErrNoShard) {
		t.Fatalf("remove of no shard: %v, want ErrNoShard", err)
	}
	// Nobody can be named master of the removed shard, not even a spare.
	if err := h.apply(Command{Op: OpSetMaster, Shard: 3, ID: "g", PrevEpoch: h.f.State().Shards[3].Epoch}); !errors.Is(err, ErrShardRemoved) {
		t.Fatalf("set_master in a removed shard: %v, want ErrShardRemoved", err)
	}
	// A node joining now must not land in the removed shard.
	h.add("y", "h")
	if s := h.f.State().Nodes["y"].Shard; s == 3 {
		t.Fatal("a joining node was placed in the removed shard")
	}
	// The next shard takes the spares: master and replica.
	h.must(shardCmd(t, OpShardAdd, 4))
	st = h.f.State()
	if sh := st.Shards[4]; sh.Master != "g" || len(sh.Replicas) != 1 || sh.Replicas[0] != "x" {
		t.Fatalf("shard 4 %+v: want the spares g (master) and x", sh)
	}
	if err := checkInvariants(st); err != nil {
		t.Fatal(err)
	}
}

// TestShardRemoveLast: the last serving shard cannot be removed.
func TestShardRemoveLast(t *testing.T) {
	h := newHarness(t)
	h.must(Command{Op: OpInit, Name: "m", Shards: 1, ReplicasPerShard: 1})
	h.must(shardCmd(t, OpShardAdd, 1))
	h.must(shardCmd(t, OpShardRemove, 1))
	start, _ := WithPayload(OpMigrationStart, MigrationStart{From: 0, To: 1, Slots: []slotmap.Range{{Start: 0, End: 0}}})
	if err := h.apply(start); err == nil {
		t.Error("a migration to a removed shard was accepted")
	}
	st := h.f.State()
	st.Shards[0].Slots = nil
	if err := st.apply(shardCmd(t, OpShardRemove, 0)); !errors.Is(err, ErrLastShard) {
		t.Fatalf("remove of the last shard: %v, want ErrLastShard", err)
	}
}
