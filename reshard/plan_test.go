package reshard

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

// rs parses "0-99 200 300-301" into ranges.
func rs(t *testing.T, s string) []slotmap.Range {
	t.Helper()
	var out []slotmap.Range
	for _, f := range strings.Fields(s) {
		r, err := slotmap.ParseRange(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func text(r []slotmap.Range) string {
	parts := make([]string, len(r))
	for i, x := range r {
		parts[i] = x.String()
	}
	return strings.Join(parts, " ")
}

func movesText(ms []Move) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%d->%d:%s", m.From, m.To, text(m.Slots)))
	}
	return strings.Join(parts, "; ")
}

func shards(t *testing.T, slots ...string) []Shard {
	t.Helper()
	out := make([]Shard, len(slots))
	for i, s := range slots {
		out[i] = Shard{ID: i, Slots: rs(t, s)}
	}
	return out
}

// apply runs moves over the shards, checking each takes only what its
// source owns, and returns the resulting slot counts.
func apply(t *testing.T, sh []Shard, moves []Move) []int {
	t.Helper()
	owned := map[int][]slotmap.Range{}
	for _, s := range sh {
		owned[s.ID] = s.Slots
	}
	for _, m := range moves {
		if !Contains(owned[m.From], m.Slots) {
			t.Fatalf("move %d->%d of %s: source does not own them", m.From, m.To, text(m.Slots))
		}
		owned[m.From] = Subtract(owned[m.From], m.Slots)
		owned[m.To] = normalize(append(owned[m.To], m.Slots...))
	}
	counts := make([]int, len(sh))
	total := 0
	for i, s := range sh {
		counts[i] = Count(owned[s.ID])
		total += counts[i]
	}
	if total != slotmap.NumSlots {
		t.Fatalf("after the moves %d slots are owned, want %d", total, slotmap.NumSlots)
	}
	return counts
}

func TestRebalance(t *testing.T) {
	cases := []struct {
		name   string
		shards []string
		want   string // the moves
		moved  int    // slots moved in all
	}{
		{"already even (3 shards)", []string{"0-5460", "5461-10922", "10923-16383"}, "", 0},
		{"within one slot is balanced", []string{"0-5461", "5462-10922", "10923-16383"}, "", 0},
		{"single shard", []string{"0-16383"}, "", 0},
		{"new empty shard after 3", []string{"0-5460", "5461-10922", "10923-16383", ""},
			"0->3:4096-5460; 1->3:9557-10922; 2->3:15019-16383", 4096},
		{"two new shards after 2", []string{"0-8191", "8192-16383", "", ""},
			"0->2:4096-8191; 1->3:12288-16383", 8192},
		{"everything on one shard", []string{"0-16383", "", ""},
			"0->1:5462-10922; 0->2:10923-16383", 10922},
		{"donor with a gap gives its highest slots", []string{"0-99 8000-16383", "100-7999"},
			"0->1:16092-16383", 292},
		{"uneven, extra slot stays put", []string{"0-6000", "6001-16383", ""},
			"0->2:5461-6000; 1->2:11463-16383", 5461},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh := shards(t, c.shards...)
			moves := Rebalance(sh)
			if got := movesText(moves); got != c.want {
				t.Fatalf("moves\n got %s\nwant %s", got, c.want)
			}
			moved := 0
			for _, m := range moves {
				moved += m.Count()
				if m.From == m.To || m.Count() == 0 {
					t.Errorf("pointless move %+v", m)
				}
			}
			if moved != c.moved {
				t.Errorf("moved %d slots, want %d", moved, c.moved)
			}
			counts := apply(t, sh, moves)
			lo, hi := counts[0], counts[0]
			for _, n := range counts {
				lo, hi = min(lo, n), max(hi, n)
			}
			if hi-lo > 1 {
				t.Errorf("after rebalancing counts %v differ by %d", counts, hi-lo)
			}
			if again := Rebalance(after(t, sh, moves)); len(again) != 0 {
				t.Errorf("rebalancing the result moves again: %s", movesText(again))
			}
		})
	}
}

// after returns the shards once moves are done.
func after(t *testing.T, sh []Shard, moves []Move) []Shard {
	t.Helper()
	out := make([]Shard, len(sh))
	copy(out, sh)
	for _, m := range moves {
		for i := range out {
			switch out[i].ID {
			case m.From:
				out[i].Slots = Subtract(out[i].Slots, m.Slots)
			case m.To:
				out[i].Slots = normalize(append(out[i].Slots, m.Slots...))
			}
		}
	}
	return out
}

// TestRebalanceMinimal: over many shapes, Rebalance moves exactly the
// slots above the targets, no more.
func TestRebalanceMinimal(t *testing.T) {
	for n := 1; n <= 7; n++ {
		for empty := 0; empty < n; empty++ {
			// n shards, the first n-empty evenly split, the rest empty.
			full := n - empty
			var slots []string
			for i := range full {
				slots = append(slots, fmt.Sprintf("%d-%d", i*slotmap.NumSlots/full, (i+1)*slotmap.NumSlots/full-1))
			}
			for range empty {
				slots = append(slots, "")
			}
			sh := shards(t, slots...)
			moves := Rebalance(sh)
			counts := apply(t, sh, moves)
			moved := 0
			for _, m := range moves {
				moved += m.Count()
			}
			// Lower bound: each empty shard must receive at least floor(avg).
			need := 0
			for i := full; i < n; i++ {
				need += counts[i]
			}
			if moved != need {
				t.Errorf("%d shards, %d empty: moved %d slots, the empty ones needed %d", n, empty, moved, need)
			}
			if len(moves) > n-1 {
				t.Errorf("%d shards: %d moves, want at most %d", n, len(moves), n-1)
			}
		}
	}
}

func TestDrain(t *testing.T) {
	cases := []struct {
		name   string
		shards []string
		id     int
		want   string
	}{
		{"4 to 3", []string{"0-4095", "4096-8191", "8192-12287", "12288-16383"}, 3,
			"3->0:12288-13653; 3->1:13654-15018; 3->2:15019-16383"},
		{"the emptiest fills first", []string{"0-9999", "10000-16283", "16284-16383"}, 0,
			"0->1:0-1907; 0->2:1908-9999"},
		{"empty shard: nothing to move", []string{"0-16383", ""}, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh := shards(t, c.shards...)
			moves, err := Drain(sh, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if got := movesText(moves); got != c.want {
				t.Fatalf("moves\n got %s\nwant %s", got, c.want)
			}
			for _, m := range moves {
				if m.From != c.id {
					t.Errorf("drain moved slots of shard %d", m.From)
				}
			}
			if counts := apply(t, sh, moves); counts[c.id] != 0 {
				t.Errorf("shard %d keeps %d slots", c.id, counts[c.id])
			}
		})
	}
	if _, err := Drain(shards(t, "0-16383"), 0); !errors.Is(err, ErrNoTargets) {
		t.Errorf("drain of the only shard: %v, want ErrNoTargets", err)
	}
	if _, err := Drain(shards(t, "0-16383", ""), 5); !errors.Is(err, ErrUnknownShard) {
		t.Errorf("drain of shard 5: %v, want ErrUnknownShard", err)
	}
}

func TestPlanSlotsAndRange(t *testing.T) {
	sh := shards(t, "0-99 1000-1009 5000-5460", "5461-10922", "10923-16383")
	cases := []struct {
		name     string
		from, to int
		n        int
		r        string // --slot-range instead of n
		want     string
		err      error
	}{
		{"highest slots, one block", 0, 1, 100, "", "0->1:5361-5460", nil},
		{"highest slots across a gap", 0, 2, 470, "", "0->2:1001-1009 5000-5460", nil},
		{"all of them", 0, 1, 571, "", "0->1:0-99 1000-1009 5000-5460", nil},
		{"too many", 0, 1, 572, "", "", ErrNotEnoughSlots},
		{"zero", 0, 1, 0, "", "", ErrNotEnoughSlots},
		{"same shard", 1, 1, 5, "", "", ErrSameShard},
		{"unknown target", 1, 7, 5, "", "", ErrUnknownShard},
		{"unknown source", 9, 1, 5, "", "", ErrUnknownShard},
		{"range owned", 1, 0, 0, "6000-6099", "1->0:6000-6099", nil},
		{"range not all owned", 0, 1, 0, "90-1000", "", ErrNotOwned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m Move
			var err error
			if c.r != "" {
				m, err = PlanRange(sh, c.from, c.to, rs(t, c.r)[0])
			} else {
				m, err = PlanSlots(sh, c.from, c.to, c.n)
			}
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := movesText([]Move{m}); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	cases := []struct {
		in   string
		size int
		want []string
	}{
		{"0-9", 4, []string{"0-3", "4-7", "8-9"}},
		{"0-1 5-9", 3, []string{"0-1 5", "6-8", "9"}},
		{"0-9", 0, []string{"0-9"}},
		{"0-9", 10, []string{"0-9"}},
	}
	for _, c := range cases {
		var got []string
		for _, chunk := range Split(rs(t, c.in), c.size) {
			got = append(got, text(chunk))
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Split(%s, %d) = %q, want %q", c.in, c.size, got, c.want)
		}
	}
}
