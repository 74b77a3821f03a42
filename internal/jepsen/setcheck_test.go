package jepsen

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/wardenkv/warden/slotmap"
)

func add(v string, out Outcome, start, end int64) Op {
	return Op{Type: "add", Key: "s", Value: v, Outcome: out, Start: start, End: end, Acks: 1}
}

func finalSet(vs ...string) Op {
	return Op{Type: "read-set", Key: "s", Values: vs, Outcome: OK, Final: true, Start: 1000, End: 1001}
}

func TestCheckSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []Op
		want map[Class]int
	}{
		{"all present", []Op{add("a", OK, 0, 1), add("b", Async, 2, 3), add("c", Info, 4, 5), finalSet("a", "b", "c")}, nil},
		{"indeterminate may be missing", []Op{add("a", OK, 0, 1), add("c", Info, 4, 5), finalSet("a")}, nil},
		{"wait-acked missing", []Op{add("a", OK, 0, 1), add("b", OK, 2, 3), finalSet("b")}, map[Class]int{LostWrite: 1}},
		{"async missing is allowed", []Op{add("a", OK, 0, 1), add("b", Async, 2, 3), finalSet("a")}, map[Class]int{AsyncLost: 1}},
		{"refused but present", []Op{add("a", Fail, 0, 1), finalSet("a")}, map[Class]int{DirtyRead: 1}},
		{"never added", []Op{add("a", OK, 0, 1), finalSet("a", "zz")}, map[Class]int{DirtyRead: 1}},
		{"no final read", []Op{add("a", OK, 0, 1)}, map[Class]int{Unchecked: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := CheckSet(tc.ops)
			for _, c := range Classes {
				if res.Anomalies.Count[c] != tc.want[c] {
					t.Errorf("%s: %d, want %d (%v)", c, res.Anomalies.Count[c], tc.want[c], res.Anomalies.List)
				}
			}
		})
	}
}

func TestCheckSetAsyncLossAfterFault(t *testing.T) {
	ms := int64(time.Millisecond)
	res := CheckSet([]Op{
		{Type: "nemesis", Value: "start", Start: 100 * ms, End: 300 * ms}, {Type: "nemesis", Value: "stop", Start: 2000 * ms},
		func() Op { o := add("a", Async, 500*ms, 1100*ms); o.Acked = 520 * ms; return o }(),
		add("b", Async, 50*ms, 60*ms),     // before the fault
		add("c", Async, 2100*ms, 2200*ms), // after its heal, and no fault after
		finalSet()})
	if res.LostAsync != 3 || res.AsyncLossAfterFault != 220*time.Millisecond || res.AsyncLossAfterBegin != 420*time.Millisecond || res.AsyncLossBeforeFault != 40*time.Millisecond {
		t.Fatalf("lost %d, during a fault %v (%v from its start), before one %v; want 3, 220ms (420ms), 40ms", res.LostAsync, res.AsyncLossAfterFault, res.AsyncLossAfterBegin, res.AsyncLossBeforeFault)
	}
}

func rec(epoch uint64, node string, seen int64) Op {
	return Op{Type: "record", Epoch: epoch, Node: node, Start: seen}
}

func wr(node, v string, start, end int64) Op {
	return Op{Type: "write", Key: "k", Node: node, Value: v, Outcome: OK, Start: start, End: end}
}

func TestCheckSplitBrain(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []Op
		want int
	}{
		{"clean failover", []Op{rec(1, "A", 0), wr("A", "a", 10, 20), rec(2, "B", 100), wr("B", "b", 110, 120)}, 0},
		{"old master writes after the new one did", []Op{rec(1, "A", 0), wr("A", "a", 10, 20), rec(2, "B", 100), wr("B", "b", 110, 120), wr("A", "c", 130, 140)}, 1},
		{"concurrent writes are not proof", []Op{rec(1, "A", 0), rec(2, "B", 100), wr("B", "b", 110, 120), wr("A", "c", 115, 140)}, 0},
		{"re-elected old master is fine", []Op{rec(1, "A", 0), rec(2, "B", 100), wr("B", "b", 110, 120), rec(3, "A", 200), wr("A", "c", 210, 220)}, 0},
		{"monitor late within slack", []Op{rec(1, "A", 0), rec(2, "B", 100), wr("B", "b", 110, 120), wr("A", "c", 210, 220), rec(3, "A", 225)}, 0},
		{"never named master", []Op{rec(1, "A", 0), wr("C", "c", 10, 20)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckSplitBrain(tc.ops, 10)
			if got.Count[SplitBrainWrite] != tc.want {
				t.Fatalf("split-brain writes %d, want %d: %v", got.Count[SplitBrainWrite], tc.want, got.List)
			}
		})
	}
}

// TestCheckSlotOwnership: cluster mode, where slot tables ("slots" ops)
// join the epochs of the record.
func TestCheckSlotOwnership(t *testing.T) {
	s := slotmap.SlotString("k")
	all0 := FormatSlotTable(map[int]string{0: "0-16383"})
	moved := FormatSlotTable(map[int]string{0: fmt.Sprintf("0-%d %d-16383", s-1, s+1), 1: strconv.Itoa(s)})
	tbl := func(seen int64, slots string) Op { return Op{Type: "slots", Start: seen, End: seen, Slots: slots} }
	recIn := func(shard int, epoch uint64, node string, seen int64) Op {
		op := rec(epoch, node, seen)
		op.Shard = shard
		return op
	}
	base := []Op{recIn(0, 1, "A", 0), recIn(1, 1, "B", 0)}
	for _, tc := range []struct {
		name              string
		slack             int64
		ops               []Op
		owner, splitBrain int
	}{
		{"clean migration", 10, []Op{tbl(0, all0), wr("A", "a", 10, 20), tbl(100, moved), wr("B", "b", 110, 120)}, 0, 0},
		{"old owner writes after the flip was seen", 10, []Op{tbl(0, all0), wr("A", "a", 10, 20), tbl(100, moved), wr("B", "b", 110, 120), wr("A", "c", 130, 140)}, 1, 0},
		{"old owner's write overlapping the flip", 10, []Op{tbl(0, all0), tbl(100, moved), wr("A", "a", 95, 105), wr("B", "b", 110, 120)}, 0, 0},
		{"old owner writes after the new owner did, flip seen late", 60, []Op{tbl(0, all0), wr("B", "b", 105, 110), wr("A", "a", 120, 125), tbl(150, moved)}, 0, 1},
		{"slot back and forth", 10, []Op{tbl(0, all0), tbl(100, moved), wr("B", "b", 110, 120), tbl(200, all0), wr("A", "c", 210, 220)}, 0, 0},
		{"old owner after moving back and forth", 10, []Op{tbl(0, all0), tbl(100, moved), tbl(200, all0), wr("A", "c", 210, 220), wr("B", "b", 230, 240)}, 1, 0},
		{"a slot owned twice", 10, []Op{tbl(0, FormatSlotTable(map[int]string{0: "0-16383", 1: "5"}))}, 1, 0},
		{"a slot owned by nobody", 10, []Op{tbl(0, FormatSlotTable(map[int]string{0: "0-16382"}))}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckSplitBrain(append(append([]Op{}, base...), tc.ops...), time.Duration(tc.slack))
			if got.Count[SlotOwnership] != tc.owner || got.Count[SplitBrainWrite] != tc.splitBrain {
				t.Fatalf("slot-ownership %d (want %d), split-brain %d (want %d): %v", got.Count[SlotOwnership], tc.owner, got.Count[SplitBrainWrite], tc.splitBrain, got.List)
			}
		})
	}
}
