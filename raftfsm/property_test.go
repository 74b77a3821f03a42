package raftfsm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

var (
	propIDs   = []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7"}
	propHosts = []string{"", "h0", "h1", "h2"}
)

// randomCommand is biased towards commands that succeed against st, so
// sequences get deep into failovers instead of bouncing off stale epochs.
func randomCommand(r *rand.Rand, st *State) Command {
	shard := func() int {
		if len(st.Shards) > 0 && r.IntN(8) > 0 {
			return r.IntN(len(st.Shards))
		}
		return r.IntN(6) - 1
	}
	prev := func(sh int) uint64 {
		if s := st.Shard(sh); s != nil && r.IntN(4) > 0 {
			return s.Epoch
		}
		return uint64(r.IntN(int(st.Epoch) + 2))
	}
	id := func(sh int) string {
		if s := st.Shard(sh); s != nil && len(s.Replicas) > 0 && r.IntN(3) > 0 {
			return s.Replicas[r.IntN(len(s.Replicas))]
		}
		return propIDs[r.IntN(len(propIDs))]
	}
	switch r.IntN(17) {
	case 15:
		c, _ := WithPayload(OpShardAdd, ShardAdd{ID: len(st.Shards) - r.IntN(2)})
		return c
	case 16:
		c, _ := WithPayload(OpShardRemove, ShardRemove{ID: shard()})
		return c
	case 11:
		return Command{Op: OpMark}
	case 12:
		lo := r.IntN(slotmap.NumSlots)
		c, _ := WithPayload(OpMigrationStart, MigrationStart{From: shard(), To: shard(),
			Slots: []slotmap.Range{{Start: lo, End: min(lo+r.IntN(3000), slotmap.NumSlots-1)}}})
		return c
	case 13, 14:
		id := uint64(r.IntN(int(st.NextMigration) + 2))
		if r.IntN(2) == 0 {
			c, _ := WithPayload(OpMigrationFlip, MigrationFlip{ID: id})
			return c
		}
		c, _ := WithPayload(OpMigrationCancel, MigrationCancel{ID: id, Reason: "test"})
		return c
	case 0:
		return Command{Op: OpInit, Name: "m", Shards: r.IntN(5), ReplicasPerShard: r.IntN(3)}
	case 1, 2, 3:
		n := testNode(propIDs[r.IntN(len(propIDs))], propHosts[r.IntN(len(propHosts))])
		n.Shard = r.IntN(4) - 1
		n.Priority = r.IntN(3) * 50
		return Command{Op: OpAddNode, Node: n}
	case 4:
		return Command{Op: OpRemoveNode, ID: propIDs[r.IntN(len(propIDs))]}
	case 5, 6, 7:
		sh := shard()
		return Command{Op: OpSetMaster, Shard: sh, ID: id(sh), PrevEpoch: prev(sh), Manual: r.IntN(2) == 0}
	case 8:
		sh := shard()
		return Command{Op: OpBeginHandoff, Shard: sh, ID: id(sh), PrevEpoch: prev(sh), Deadline: r.Int64N(1 << 40)}
	case 9:
		sh := shard()
		return Command{Op: OpEndHandoff, Shard: sh, PrevEpoch: prev(sh)}
	default:
		return Command{Op: "bogus", Shard: shard()}
	}
}

func describe(c Command) string {
	s := fmt.Sprintf("%s shard=%d id=%s prev=%d", c.Op, c.Shard, c.ID, c.PrevEpoch)
	if c.Node != nil {
		s += fmt.Sprintf(" node=%s host=%q", c.Node.ID, c.Node.Host)
	}
	if c.Op == OpInit {
		s += fmt.Sprintf(" shards=%d", c.Shards)
	}
	if len(c.Data) > 0 {
		s += " data=" + string(c.Data)
	}
	return s
}

// checkStep holds between any two consecutive states; c is nil for an
// entry that did not decode.
func checkStep(prev, cur *State, c *Command, err error) error {
	if e := checkInvariants(cur); e != nil {
		return e
	}
	if cur.Epoch < prev.Epoch {
		return fmt.Errorf("state epoch went back %d -> %d", prev.Epoch, cur.Epoch)
	}
	if cur.Failovers < prev.Failovers {
		return fmt.Errorf("failovers went back %d -> %d", prev.Failovers, cur.Failovers)
	}
	if len(cur.Shards) < len(prev.Shards) {
		return fmt.Errorf("shards went %d -> %d", len(prev.Shards), len(cur.Shards))
	}
	for i, sh := range prev.Shards {
		if cur.Shards[i].Epoch < sh.Epoch {
			return fmt.Errorf("shard %d epoch went back %d -> %d", i, sh.Epoch, cur.Shards[i].Epoch)
		}
	}
	if err != nil && !sameExceptIndex(prev, cur) {
		return fmt.Errorf("rejected entry (%v) changed state", err)
	}
	if c != nil && c.Op == OpMark && (err != nil || !sameExceptIndex(prev, cur)) {
		return fmt.Errorf("mark: %v, or it changed the record", err)
	}
	if c != nil && err == nil && c.Op == OpSetMaster {
		sh := cur.Shard(c.Shard)
		if cur.Epoch != prev.Epoch+1 || sh.Epoch != cur.Epoch || sh.Master != c.ID {
			return fmt.Errorf("set_master: state epoch %d->%d, shard epoch %d, master %s", prev.Epoch, cur.Epoch, sh.Epoch, sh.Master)
		}
	}
	return nil
}

func TestRandomCommandSequences(t *testing.T) {
	seeds, steps := 150, 150
	if testing.Short() {
		seeds = 50
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 42))
		h := newHarness(t)
		var history []string
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: %s\nhistory (last 25):\n  %s", seed, fmt.Sprintf(format, args...),
				strings.Join(history[max(0, len(history)-25):], "\n  "))
		}
		prev := h.f.State()
		for range steps {
			c := randomCommand(r, prev)
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						history = append(history, describe(c)+" -> PANIC")
						fail("panic: %v", p)
					}
				}()
				err = h.apply(c)
			}()
			history = append(history, fmt.Sprintf("%s -> %v", describe(c), err))
			cur := h.f.State()
			if cur.Index != h.idx {
				fail("Index %d, want %d", cur.Index, h.idx)
			}
			if e := checkStep(prev, cur, &c, err); e != nil {
				fail("%v", e)
			}
			prev = cur
		}
	}
}

// Placement from a sequence of registrations alone: masters fill shards in
// order; each further node goes to a shard with the fewest replicas,
// choosing one whose master is on another host when such a shard exists,
// lowest shard id first.
func TestRandomPlacement(t *testing.T) {
	for seed := range 300 {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		shards := 1 + r.IntN(5)
		h := newHarness(t)
		h.init("m", shards)
		var hosts []string
		for i := range 2 + r.IntN(20) {
			id := fmt.Sprintf("n%02d", i)
			host := propHosts[r.IntN(len(propHosts))]
			hosts = append(hosts, host)
			before := h.f.State()
			h.add(id, host)
			st := h.f.State()
			got := st.Nodes[id].Shard
			if i < shards {
				if got != i || st.Shards[i].Master != id || st.Shards[i].Epoch != uint64(i+1) {
					t.Fatalf("seed %d: node %d placed %d (master %q), want master of shard %d", seed, i, got, st.Shards[got].Master, i)
				}
				continue
			}
			want := wantReplicaShard(before, host)
			if got != want || st.Shards[got].Master == id {
				t.Fatalf("seed %d: %s on host %q placed in shard %d, want replica of %d; shards before: %s",
					seed, id, host, got, want, shardSummary(before))
			}
			if st.Epoch != before.Epoch {
				t.Fatalf("seed %d: placing a replica moved the epoch", seed)
			}
			if err := checkInvariants(st); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		// The record is a pure function of the log.
		h2 := newHarness(t)
		h2.init("m", shards)
		for i, host := range hosts {
			h2.add(fmt.Sprintf("n%02d", i), host)
		}
		if !sameExceptIndex(h.f.State(), h2.f.State()) {
			t.Fatalf("seed %d: replaying the same log gave a different record", seed)
		}
	}
}

func wantReplicaShard(st *State, host string) int {
	fewest := -1
	for _, sh := range st.Shards {
		if fewest < 0 || len(sh.Replicas) < fewest {
			fewest = len(sh.Replicas)
		}
	}
	first := -1
	for _, sh := range st.Shards {
		if len(sh.Replicas) != fewest {
			continue
		}
		if first < 0 {
			first = sh.ID
		}
		if m := st.Nodes[sh.Master]; host == "" || m == nil || m.Host != host {
			return sh.ID
		}
	}
	return first
}

func shardSummary(st *State) string {
	var b strings.Builder
	for _, sh := range st.Shards {
		host := ""
		if m := st.Nodes[sh.Master]; m != nil {
			host = m.Host
		}
		fmt.Fprintf(&b, "[%d master=%s@%q replicas=%v] ", sh.ID, sh.Master, host, sh.Replicas)
	}
	return b.String()
}

// FuzzApply feeds newline-separated log entries to a fresh FSM.
func FuzzApply(f *testing.F) {
	enc := func(cs ...Command) []byte {
		var lines [][]byte
		for _, c := range cs {
			b, err := Encode(c)
			if err != nil {
				f.Fatal(err)
			}
			lines = append(lines, b)
		}
		return bytes.Join(lines, []byte("\n"))
	}
	add := func(id, host string) Command { return Command{Op: OpAddNode, Node: testNode(id, host)} }
	f.Add(enc(Command{Op: OpInit, Name: "m", Shards: 2}, add("a", "x"), add("b", "y"), add("c", "x"), add("d", "y")))
	f.Add(enc(add("a", "x"), add("b", "x"), Command{Op: OpInit, Name: "m", Shards: 1},
		Command{Op: OpSetMaster, Shard: 0, ID: "b", PrevEpoch: 1},
		Command{Op: OpRemoveNode, ID: "b"},
		Command{Op: OpSetMaster, Shard: 0, ID: "a", PrevEpoch: 2}))
	f.Add(enc(Command{Op: OpInit, Name: "m", Shards: 1}, add("a", "x"), add("b", "y"),
		Command{Op: OpBeginHandoff, Shard: 0, ID: "b", PrevEpoch: 1, Deadline: 10},
		Command{Op: OpEndHandoff, Shard: 0, PrevEpoch: 1}))
	f.Add([]byte(`{"v":1,"op":"init","shards":3}` + "\n" + `{"v":1,"op":"add_node","node":{"id":"q","shard":2}}`))
	f.Add(enc(Command{Op: OpMark}, Command{Op: OpInit, Name: "m", Shards: 3}, Command{Op: OpMark}))
	mig, _ := WithPayload(OpMigrationStart, MigrationStart{From: 0, To: 1, Slots: []slotmap.Range{{Start: 0, End: 10}}})
	flip, _ := WithPayload(OpMigrationFlip, MigrationFlip{ID: 1})
	f.Add(enc(Command{Op: OpInit, Name: "m", Shards: 2}, mig, flip, mig))
	f.Add([]byte(`{"v":2,"op":"init"}` + "\n" + `{"v":1,"op":"nope"}` + "\n\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t)
		prev := h.f.State()
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			var cp *Command
			if c, err := Decode(line); err == nil {
				// Past twice the slot count a shard count only measures
				// memory, not logic.
				if c.Op == OpInit && c.Shards > 2*slotmap.NumSlots {
					return
				}
				cp = &c
			}
			err := h.raw(line)
			if cp == nil && err == nil {
				t.Fatalf("undecodable entry %q accepted", line)
			}
			cur := h.f.State()
			if e := checkStep(prev, cur, cp, err); e != nil {
				t.Fatalf("after %q: %v", line, e)
			}
			prev = cur
		}
	})
}
