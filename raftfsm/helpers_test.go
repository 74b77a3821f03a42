package raftfsm

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/slotmap"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fsmHarness feeds commands to an FSM the way raft does: numbered
// LogCommand entries.
type fsmHarness struct {
	t   testing.TB
	f   *FSM
	idx uint64
}

func newHarness(t testing.TB) *fsmHarness { return &fsmHarness{t: t, f: New()} }

// raw applies one log entry and returns the FSM's verdict as an error.
func (h *fsmHarness) raw(data []byte) error {
	h.t.Helper()
	h.idx++
	r := h.f.Apply(&raft.Log{Index: h.idx, Term: 1, Type: raft.LogCommand, Data: data})
	if r == nil {
		return nil
	}
	err, ok := r.(error)
	if !ok {
		h.t.Fatalf("Apply returned %T %v, want nil or error", r, r)
	}
	return err
}

func (h *fsmHarness) apply(c Command) error {
	h.t.Helper()
	b, err := Encode(c)
	if err != nil {
		h.t.Fatalf("encode %+v: %v", c, err)
	}
	return h.raw(b)
}

// must applies c and fails the test on an error.
func (h *fsmHarness) must(c Command) {
	h.t.Helper()
	if err := h.apply(c); err != nil {
		h.t.Fatalf("apply %s: %v", c.Op, err)
	}
}

func (h *fsmHarness) init(name string, shards int) {
	h.t.Helper()
	h.must(Command{Op: OpInit, Name: name, Shards: shards, ReplicasPerShard: 2})
}

func (h *fsmHarness) add(id, host string) {
	h.t.Helper()
	h.must(Command{Op: OpAddNode, Node: testNode(id, host)})
}

func testNode(id, host string) *Node {
	return &Node{
		ID: id, Host: host, Voter: true, Priority: 100,
		RaftAddr:  host + ":7000",
		RedisAddr: host + ":6379",
	}
}

// sameExceptIndex compares two states ignoring the applied index, which
// moves on every entry, even a rejected one.
func sameExceptIndex(a, b *State) bool {
	a, b = a.Clone(), b.Clone()
	a.Index, b.Index = 0, 0
	return reflect.DeepEqual(a, b)
}

// checkInvariants is what every node relies on when it reconciles itself
// to the record.
func checkInvariants(s *State) error {
	if s.Nodes == nil {
		return fmt.Errorf("nil Nodes map")
	}
	seen := map[string]int{} // node id -> shard it appears in
	for i, sh := range s.Shards {
		if sh == nil {
			return fmt.Errorf("shard %d is nil", i)
		}
		if sh.ID != i {
			return fmt.Errorf("shard at index %d has ID %d", i, sh.ID)
		}
		if sh.Epoch > s.Epoch {
			return fmt.Errorf("shard %d epoch %d > state epoch %d", i, sh.Epoch, s.Epoch)
		}
		members := sh.Replicas
		if sh.Master != "" {
			members = append([]string{sh.Master}, sh.Replicas...)
		}
		for j, id := range members {
			if j > 0 && id == sh.Master {
				return fmt.Errorf("shard %d: master %s also listed as a replica", i, id)
			}
			if prev, dup := seen[id]; dup {
				return fmt.Errorf("node %s appears in shard %d and shard %d", id, prev, i)
			}
			seen[id] = i
			n := s.Nodes[id]
			if n == nil {
				return fmt.Errorf("shard %d lists unregistered node %s", i, id)
			}
			if n.Shard != i {
				return fmt.Errorf("node %s listed in shard %d but its Shard is %d", id, i, n.Shard)
			}
		}
	}
	for id, n := range s.Nodes {
		if n == nil {
			return fmt.Errorf("node %s is nil", id)
		}
		if n.ID != id {
			return fmt.Errorf("node keyed %s has ID %s", id, n.ID)
		}
		if n.Shard >= 0 {
			if _, ok := seen[id]; !ok {
				return fmt.Errorf("node %s has Shard %d but is in no shard", id, n.Shard)
			}
		} else if len(s.Shards) > 0 && !slices.ContainsFunc(s.Shards, func(sh *Shard) bool { return sh.Removed }) {
			// Only a removed shard leaves spares behind.
			return fmt.Errorf("node %s unplaced although %d shards exist", id, len(s.Shards))
		}
	}
	return checkSlots(s)
}

// checkSlots: the shards own every slot exactly once (ranges sorted and
// disjoint within a shard); an active migration's slots are its source's,
// and no two active migrations share a slot.
func checkSlots(s *State) error {
	if len(s.Shards) == 0 {
		return nil
	}
	var owner [slotmap.NumSlots]int
	for i := range owner {
		owner[i] = -1
	}
	for _, sh := range s.Shards {
		prevEnd := -1
		for _, r := range sh.Slots {
			if r.Start <= prevEnd || r.End < r.Start || r.End >= slotmap.NumSlots {
				return fmt.Errorf("shard %d range %d-%d: unsorted, overlapping or out of range", sh.ID, r.Start, r.End)
			}
			prevEnd = r.End
			for i := r.Start; i <= r.End; i++ {
				if owner[i] >= 0 {
					return fmt.Errorf("slot %d owned by shards %d and %d", i, owner[i], sh.ID)
				}
				owner[i] = sh.ID
			}
		}
	}
	for i, o := range owner {
		if o < 0 {
			return fmt.Errorf("slot %d owned by no shard", i)
		}
	}
	var busy [slotmap.NumSlots]bool
	for _, m := range s.Migrations {
		if m == nil || !m.Active() {
			continue
		}
		for _, r := range m.Slots {
			for i := r.Start; i <= r.End; i++ {
				if owner[i] != m.From {
					return fmt.Errorf("migration %d: slot %d owned by %d, not its source %d", m.ID, i, owner[i], m.From)
				}
				if busy[i] {
					return fmt.Errorf("slot %d in two active migrations", i)
				}
				busy[i] = true
			}
		}
	}
	return nil
}
