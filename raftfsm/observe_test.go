package raftfsm

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

func TestMarkChangesNothingButIndex(t *testing.T) {
	h := oneShard(t)
	before := h.f.State()
	ch := h.f.Changed()
	h.must(Command{Op: OpMark})
	after := h.f.State()
	if !sameExceptIndex(before, after) {
		t.Fatalf("mark changed the record:\n%+v\n%+v", before, after)
	}
	if after.Index != h.idx || h.f.Index() != h.idx {
		t.Fatalf("after mark: State().Index %d, Index() %d, want %d", after.Index, h.f.Index(), h.idx)
	}
	select {
	case <-ch:
	default:
		t.Fatal("mark did not wake Changed watchers")
	}
}

func TestIndexFollowsAppliedCommands(t *testing.T) {
	h := newHarness(t)
	if h.f.Index() != 0 {
		t.Fatalf("fresh FSM Index %d", h.f.Index())
	}
	h.init("m", 1)
	if h.f.Index() != 1 {
		t.Fatalf("Index %d after one command", h.f.Index())
	}
	_ = h.apply(Command{Op: OpRemoveNode, ID: "ghost"}) // rejected, still applied
	if h.f.Index() != 2 {
		t.Fatalf("Index %d after a rejected command, want 2", h.f.Index())
	}
	_ = h.raw([]byte("garbage")) // undecodable: not applied
	if h.f.Index() != 2 {
		t.Fatalf("Index %d after an undecodable entry, want 2", h.f.Index())
	}
	h.f.Apply(&raft.Log{Index: 50, Type: raft.LogNoop})
	if h.f.Index() != 2 {
		t.Fatalf("Index %d after a raft no-op, want 2 (only commands count)", h.f.Index())
	}
	if st := h.f.State(); st.Index != h.f.Index() {
		t.Fatalf("State().Index %d != Index() %d", st.Index, h.f.Index())
	}

	// Restore takes the index from the snapshot.
	r := richState(t)
	f2 := New()
	if err := f2.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, r.f)))); err != nil {
		t.Fatal(err)
	}
	if f2.Index() != r.idx {
		t.Fatalf("restored Index %d, want %d", f2.Index(), r.idx)
	}
}

func TestObserveRunsBeforeApplyReturns(t *testing.T) {
	h := newHarness(t)
	type seen struct {
		epoch, index uint64
		master       string
	}
	var calls []seen
	h.f.Observe(func(s *State) {
		sh := s.Shard(0)
		m := ""
		if sh != nil {
			m = sh.Master
		}
		calls = append(calls, seen{s.Epoch, s.Index, m})
	})
	// Registering runs fn once on the record so far.
	if len(calls) != 1 || calls[0] != (seen{}) {
		t.Fatalf("registration: calls %+v, want one on the empty record", calls)
	}
	calls = calls[:0]
	h.init("m", 1)
	h.add("a", "x")
	h.add("b", "y")
	// No lock is held by the test: Apply must have called fn already.
	if len(calls) != 3 {
		t.Fatalf("%d observe calls after 3 applies", len(calls))
	}
	if c := calls[1]; c.epoch != 1 || c.index != 2 || c.master != "a" {
		t.Fatalf("observer saw %+v after registering a, want the new record", c)
	}
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "b", PrevEpoch: 1})
	if c := calls[len(calls)-1]; c.epoch != 2 || c.master != "b" || c.index != h.idx {
		t.Fatalf("observer saw %+v after failover", c)
	}
	// Rejected commands and marks are applied entries too.
	n := len(calls)
	_ = h.apply(Command{Op: OpSetMaster, Shard: 0, ID: "a", PrevEpoch: 1})
	h.must(Command{Op: OpMark})
	if len(calls) != n+2 {
		t.Fatalf("%d observe calls for a rejected command and a mark, want 2", len(calls)-n)
	}
	// Entries that are not applied are not observed.
	_ = h.raw([]byte("{"))
	h.f.Apply(&raft.Log{Index: 99, Type: raft.LogNoop})
	if len(calls) != n+2 {
		t.Fatal("observer called for an entry that was not applied")
	}

	// Restore is observed with the restored record; a failed one is not.
	snap := snapshotBytes(t, h.f)
	f2 := New()
	var restored []uint64
	f2.Observe(func(s *State) { restored = append(restored, s.Epoch) })
	restored = restored[:0] // the registration call, on the empty record
	if err := f2.Restore(io.NopCloser(strings.NewReader("nope"))); err == nil {
		t.Fatal("garbage restored")
	}
	if err := f2.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if len(restored) != 1 || restored[0] != 2 {
		t.Fatalf("restore observed %v, want [2]", restored)
	}

	// Replacing the observer with nil stops the calls.
	h.f.Observe(nil)
	h.must(Command{Op: OpMark})
	if len(calls) != n+2 {
		t.Fatal("observer called after being removed")
	}
}
