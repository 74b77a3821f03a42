// Package reshard plans slot moves between shards, as pure functions of
// the slot table: which slots go from which shard to which. The operator
// tools (warden reshard, rebalance, cluster remove-shard) submit the plan
// as slot migrations (POST /migrations) and follow them; moving the data
// is the migration package's job.
package reshard

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/wardenkv/warden/slotmap"
)

// Shard is one shard as the planners see it.
type Shard struct {
	ID    int
	Slots []slotmap.Range
}

// Move is one planned migration: Slots (sorted, disjoint ranges) from
// shard From to shard To.
type Move struct {
	From, To int
	Slots    []slotmap.Range
}

// Count is the number of slots the move carries.
func (m Move) Count() int { return Count(m.Slots) }

// Count is the number of slots in rs.
func Count(rs []slotmap.Range) int { return slotmap.Count(rs) }

// Errors of the planners.
var (
	ErrNotEnoughSlots = errors.New("source shard does not own that many slots")
	ErrNotOwned       = errors.New("source shard does not own every slot of the range")
	ErrUnknownShard   = errors.New("no such shard")
	ErrSameShard      = errors.New("source and target are the same shard")
	ErrNoTargets      = errors.New("no shard to move the slots to")
)

// Highest returns the n highest-numbered slots of owned, as ranges
// (so taking a block off the top keeps it contiguous where owned is).
func Highest(owned []slotmap.Range, n int) ([]slotmap.Range, error) {
	if n <= 0 || n > Count(owned) {
		return nil, fmt.Errorf("%d of %d slots: %w", n, Count(owned), ErrNotEnoughSlots)
	}
	rs := normalize(owned)
	var out []slotmap.Range
	for i := len(rs) - 1; i >= 0 && n > 0; i-- {
		r := rs[i]
		take := min(n, r.End-r.Start+1)
		out = append(out, slotmap.Range{Start: r.End - take + 1, End: r.End})
		n -= take
	}
	slices.Reverse(out)
	return out, nil
}

// Subtract returns a without the slots of b.
func Subtract(a, b []slotmap.Range) []slotmap.Range { return slotmap.Subtract(a, b) }

// Contains reports whether owned holds every slot of want.
func Contains(owned, want []slotmap.Range) bool { return slotmap.ContainsAll(owned, want) }

// PlanSlots moves the n highest-numbered slots of shard from to shard to
// (`warden reshard --slots N`).
func PlanSlots(shards []Shard, from, to, n int) (Move, error) {
	src, err := pair(shards, from, to)
	if err != nil {
		return Move{}, err
	}
	rs, err := Highest(src.Slots, n)
	if err != nil {
		return Move{}, fmt.Errorf("shard %d: %w", from, err)
	}
	return Move{From: from, To: to, Slots: rs}, nil
}

// PlanRange moves slots r of shard from to shard to (`--slot-range A-B`);
// from must own all of them.
func PlanRange(shards []Shard, from, to int, r slotmap.Range) (Move, error) {
	src, err := pair(shards, from, to)
	if err != nil {
		return Move{}, err
	}
	want := []slotmap.Range{r}
	if !Contains(src.Slots, want) {
		return Move{}, fmt.Errorf("shard %d, slots %s: %w", from, r, ErrNotOwned)
	}
	return Move{From: from, To: to, Slots: want}, nil
}

func pair(shards []Shard, from, to int) (Shard, error) {
	if from == to {
		return Shard{}, fmt.Errorf("shard %d: %w", from, ErrSameShard)
	}
	src, ok := find(shards, from)
	if !ok {
		return Shard{}, fmt.Errorf("source shard %d: %w", from, ErrUnknownShard)
	}
	if _, ok := find(shards, to); !ok {
		return Shard{}, fmt.Errorf("target shard %d: %w", to, ErrUnknownShard)
	}
	return src, nil
}

// Rebalance evens out the slots across shards with as few slot moves as
// possible: every shard ends with floor or ceil of the average, the
// ceilings going to the shards that hold the most already, so no slot
// moves that need not. Donors give their highest-numbered slots (one
// contiguous block each where they own one), matched to receivers in
// shard order, so there are at most donors+receivers-1 moves. Already
// balanced (every count within one of the others) gives no moves.
func Rebalance(shards []Shard) []Move {
	return plan(shards, targets(shards, -1))
}

// Drain moves every slot of shard id to the other shards, filling the
// emptiest first (water-filling), and moves nothing else: the shard can
// then be retired (`warden cluster remove-shard`).
func Drain(shards []Shard, id int) ([]Move, error) {
	if _, ok := find(shards, id); !ok {
		return nil, fmt.Errorf("shard %d: %w", id, ErrUnknownShard)
	}
	if len(shards) < 2 {
		return nil, fmt.Errorf("drain shard %d: %w", id, ErrNoTargets)
	}
	counts := make(map[int]int, len(shards))
	for _, s := range shards {
		counts[s.ID] = Count(s.Slots)
	}
	give := counts[id]
	counts[id] = 0
	others := slices.DeleteFunc(slices.Clone(shards), func(s Shard) bool { return s.ID == id })
	for range give { // at most 16384 steps over a handful of shards
		best := others[0].ID
		for _, s := range others[1:] {
			if counts[s.ID] < counts[best] {
				best = s.ID
			}
		}
		counts[best]++
	}
	return plan(shards, counts), nil
}

// targets is Rebalance's final count per shard (skip: none).
func targets(shards []Shard, skip int) map[int]int {
	total := 0
	var in []Shard
	for _, s := range shards {
		total += Count(s.Slots)
		if s.ID != skip {
			in = append(in, s)
		}
	}
	out := map[int]int{}
	if len(in) == 0 {
		return out
	}
	// The extra slots (total mod n) stay with the shards that hold the
	// most: then no slot moves that need not.
	order := slices.Clone(in)
	slices.SortStableFunc(order, func(a, b Shard) int {
		return cmp.Or(cmp.Compare(Count(b.Slots), Count(a.Slots)), cmp.Compare(a.ID, b.ID))
	})
	for i, s := range order {
		out[s.ID] = total / len(in)
		if i < total%len(in) {
			out[s.ID]++
		}
	}
	return out
}

// plan turns final counts into moves: donors (above their target, in id
// order) give their highest slots to receivers (below, in id order).
func plan(shards []Shard, want map[int]int) []Move {
	sorted := slices.Clone(shards)
	slices.SortFunc(sorted, func(a, b Shard) int { return cmp.Compare(a.ID, b.ID) })
	type need struct {
		id, n int
		slots []slotmap.Range
	}
	var donors, receivers []*need
	for _, s := range sorted {
		d := Count(s.Slots) - want[s.ID]
		switch {
		case d > 0:
			// The donor's whole share is its highest d slots; receivers
			// (in id order) take it from the bottom up, so shard order
			// follows slot order.
			block, _ := Highest(s.Slots, d)
			donors = append(donors, &need{id: s.ID, n: d, slots: block})
		case d < 0:
			receivers = append(receivers, &need{id: s.ID, n: -d})
		}
	}
	var moves []Move
	for i, j := 0, 0; i < len(donors) && j < len(receivers); {
		d, r := donors[i], receivers[j]
		n := min(d.n, r.n)
		rs := lowest(d.slots, n) // n <= d.n, the slots left in the block
		d.slots = Subtract(d.slots, rs)
		moves = append(moves, Move{From: d.id, To: r.id, Slots: rs})
		d.n -= n
		r.n -= n
		if d.n == 0 {
			i++
		}
		if r.n == 0 {
			j++
		}
	}
	return moves
}

// lowest returns the n lowest-numbered slots of rs (normalized), n <= Count(rs).
func lowest(rs []slotmap.Range, n int) []slotmap.Range {
	var out []slotmap.Range
	for _, r := range rs {
		if n == 0 {
			break
		}
		take := min(n, r.End-r.Start+1)
		out = append(out, slotmap.Range{Start: r.Start, End: r.Start + take - 1})
		n -= take
	}
	return out
}

// Split cuts rs into chunks of at most size slots each (size <= 0: one
// chunk), in slot order: a long move becomes several migrations, each
// done (and shown) on its own.
func Split(rs []slotmap.Range, size int) [][]slotmap.Range {
	if size <= 0 {
		return [][]slotmap.Range{rs}
	}
	var out [][]slotmap.Range
	var cur []slotmap.Range
	n := 0
	for _, r := range normalize(rs) {
		for r.Start <= r.End {
			take := min(size-n, r.End-r.Start+1)
			cur = append(cur, slotmap.Range{Start: r.Start, End: r.Start + take - 1})
			r.Start += take
			if n += take; n == size {
				out, cur, n = append(out, cur), nil, 0
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func find(shards []Shard, id int) (Shard, bool) {
	for _, s := range shards {
		if s.ID == id {
			return s, true
		}
	}
	return Shard{}, false
}

// normalize sorts and merges rs, dropping slots out of range.
func normalize(rs []slotmap.Range) []slotmap.Range { return slotmap.Union(rs) }
