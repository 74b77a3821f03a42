package migration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/raftfsm"
	"github.com/wardenkv/warden/slotmap"
)

// record: 3 shards mastered by m0..m2, one active migration (id 1) of
// slots 0-99 from shard 0 to shard 1, started at t0.
func record(t *testing.T, t0 time.Time) *raftfsm.State {
	t.Helper()
	st := &raftfsm.State{Nodes: map[string]*raftfsm.Node{}}
	for i, id := range []string{"m0", "m1", "m2"} {
		st.Nodes[id] = &raftfsm.Node{ID: id, Shard: i}
		st.Shards = append(st.Shards, &raftfsm.Shard{ID: i, Master: id})
	}
	st.Migrations = []*raftfsm.Migration{
		{ID: 1, From: 0, To: 1, Slots: []slotmap.Range{{Start: 0, End: 99}}, State: raftfsm.MigrationCopying, Started: t0.UnixMilli()},
		{ID: 2, From: 2, To: 0, Slots: []slotmap.Range{{Start: 11000, End: 11000}}, State: raftfsm.MigrationDone},
	}
	return st
}

func TestDecide(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	none := func(string) bool { return false }
	down := func(id string) Health { return func(n string) bool { return n == id } }
	p := Policy{Stall: 30 * time.Second}
	cases := []struct {
		name    string
		edit    func(*raftfsm.State)
		reports map[uint64]Report
		failed  Health
		now     time.Time
		want    string // "", "flip", or "cancel: <reason>"
	}{
		{"copying, progressing", nil, map[uint64]Report{1: {Progress: t0.Add(50 * time.Second)}}, none, t0.Add(60 * time.Second), ""},
		{"caught up but source not paused", nil, map[uint64]Report{1: {CaughtUp: true, Progress: t0}}, none, t0.Add(time.Second), ""},
		{"paused and caught up", nil, map[uint64]Report{1: {Paused: true, CaughtUp: true}}, none, t0.Add(time.Second), "flip"},
		{"source master failed", nil, map[uint64]Report{1: {Paused: true, CaughtUp: true}}, down("m0"), t0, "cancel: source master m0 failed"},
		{"target master failed", nil, nil, down("m1"), t0, "cancel: target master m1 failed"},
		{"target without master", func(s *raftfsm.State) { s.Shards[1].Master = "" }, nil, none, t0, "cancel: target shard has no master"},
		{"stalled since start", nil, nil, none, t0.Add(31 * time.Second), "cancel: no progress for 31s"},
		{"stalled since last report", nil, map[uint64]Report{1: {Progress: t0.Add(10 * time.Second)}}, none, t0.Add(45 * time.Second), "cancel: no progress for 35s"},
		{"other failures don't matter", nil, nil, down("m2"), t0.Add(time.Second), ""},
	}
	for _, c := range cases {
		st := record(t, t0)
		if c.edit != nil {
			c.edit(st)
		}
		ds := Decide(st, c.reports, c.failed, c.now, p)
		got := ""
		if len(ds) > 1 {
			t.Errorf("%s: %d decisions, want at most 1 (the done migration is no one's business)", c.name, len(ds))
			continue
		}
		if len(ds) == 1 {
			cmd := ds[0].Command
			switch cmd.Op {
			case raftfsm.OpMigrationFlip:
				got = "flip"
			case raftfsm.OpMigrationCancel:
				var mc raftfsm.MigrationCancel
				if err := json.Unmarshal(cmd.Data, &mc); err != nil || mc.ID != 1 {
					t.Fatalf("%s: cancel payload %s: %v", c.name, cmd.Data, err)
				}
				got = "cancel: " + mc.Reason
			default:
				got = string(cmd.Op)
			}
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// A flip decided on a real record applies there: the slots change owner.
func TestDecisionsApply(t *testing.T) {
	fsm := raftfsm.New()
	idx := uint64(0)
	apply := func(c raftfsm.Command) error {
		t.Helper()
		b, err := raftfsm.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		idx++
		if r := fsm.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: b}); r != nil {
			return r.(error)
		}
		return nil
	}
	must := func(c raftfsm.Command, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := apply(c); err != nil {
			t.Fatalf("%s: %v", c.Op, err)
		}
	}
	must(raftfsm.Command{Op: raftfsm.OpInit, Name: "m", Shards: 2}, nil)
	for _, id := range []string{"a", "b"} {
		must(raftfsm.Command{Op: raftfsm.OpAddNode, Node: &raftfsm.Node{ID: id}}, nil)
	}
	must(raftfsm.WithPayload(raftfsm.OpMigrationStart, raftfsm.MigrationStart{From: 0, To: 1,
		Slots: []slotmap.Range{{Start: 0, End: 99}}, Started: time.Now().UnixMilli()}))
	st := fsm.State()
	ds := Decide(st, map[uint64]Report{1: {Paused: true, CaughtUp: true}}, func(string) bool { return false }, time.Now(), Policy{Stall: time.Minute})
	if len(ds) != 1 || ds[0].Command.Op != raftfsm.OpMigrationFlip {
		t.Fatalf("decisions %+v", ds)
	}
	must(ds[0].Command, nil)
	if tab := fsm.State().Table("a", true); tab.Owner(0) != 1 || tab.Owner(99) != 1 || tab.Owner(100) != 0 {
		t.Fatalf("after the flip: slot 0 -> %d, 99 -> %d, 100 -> %d", tab.Owner(0), tab.Owner(99), tab.Owner(100))
	}
	// Nothing left to decide.
	if ds := Decide(fsm.State(), nil, func(string) bool { return false }, time.Now(), Policy{Stall: time.Minute}); len(ds) != 0 {
		t.Fatalf("decisions after the flip: %+v", ds)
	}
}
