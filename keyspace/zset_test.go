package keyspace

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// zsetModel is the reference: entries kept sorted by (score, member).
type zsetModel struct {
	es []ZEntry
}

func zentryCmp(a, b ZEntry) int {
	switch {
	case a.Score < b.Score:
		return -1
	case a.Score > b.Score:
		return 1
	}
	return cmp.Compare(a.Member, b.Member)
}

func (m *zsetModel) find(member string) int {
	for i, e := range m.es {
		if e.Member == member {
			return i
		}
	}
	return -1
}

func (m *zsetModel) add(member string, score float64) bool {
	i := m.find(member)
	if i >= 0 {
		m.es = slices.Delete(m.es, i, i+1)
	}
	e := ZEntry{member, score}
	j, _ := slices.BinarySearchFunc(m.es, e, zentryCmp)
	m.es = slices.Insert(m.es, j, e)
	return i < 0
}

func (m *zsetModel) remove(member string) bool {
	i := m.find(member)
	if i < 0 {
		return false
	}
	m.es = slices.Delete(m.es, i, i+1)
	return true
}

// checkStructure verifies the skiplist's invariants: spans add up at every
// level, forward order is strict, backward links mirror forward ones, and
// the dict agrees with the list.
func checkStructure(t *testing.T, z *ZSet) {
	t.Helper()
	if z.zskip == nil {
		checkPacked(t, z)
		return
	}
	rank := map[*zNode]int{}
	r := 0
	for x := z.head.level[0].forward; x != nil; x = x.level[0].forward {
		r++
		rank[x] = r
	}
	for i := 0; i < z.level; i++ {
		total := 0
		for x := z.head; x.level[i].forward != nil; x = x.level[i].forward {
			total += x.level[i].span
			if total != rank[x.level[i].forward] {
				t.Fatalf("level %d: spans reach %d at a node of rank %d", i, total, rank[x.level[i].forward])
			}
		}
	}
	for i := z.level; i < zMaxLevel; i++ {
		if z.head.level[i].forward != nil {
			t.Fatalf("head links at unused level %d", i)
		}
	}
	var prev *zNode
	n := 0
	for x := z.head.level[0].forward; x != nil; x = x.level[0].forward {
		if x.backward != prev {
			t.Fatalf("bad backward link at %q", x.member)
		}
		if prev != nil && !zLess(prev.score, prev.member, x.score, x.member) {
			t.Fatalf("order broken: (%v,%q) before (%v,%q)", prev.score, prev.member, x.score, x.member)
		}
		if s, ok := z.dict[x.member]; !ok || s != x.score {
			t.Fatalf("dict disagrees for %q: %v %v, node %v", x.member, s, ok, x.score)
		}
		prev = x
		n++
	}
	if z.tail != prev || n != z.length || len(z.dict) != n {
		t.Fatalf("tail/length mismatch: %d nodes, length %d, dict %d", n, z.length, len(z.dict))
	}
}

// checkPacked verifies the packed form: entries in strict (score, member)
// order, each entry's trailing length leading back to its start, the count
// equal to Len, and no member over the limits.
func checkPacked(t *testing.T, z *ZSet) {
	t.Helper()
	n, prevOff := 0, -1
	var ps float64
	var pm string
	for off := 0; off < len(z.lp); n++ {
		s, m, next := zpEntry(z.lp, off)
		if zpPrev(z.lp, next) != off {
			t.Fatalf("entry %d: back length leads to %d, not %d", n, zpPrev(z.lp, next), off)
		}
		if prevOff >= 0 && !zLess(ps, pm, s, m) {
			t.Fatalf("order broken: (%v,%q) before (%v,%q)", ps, pm, s, m)
		}
		if len(m) > packedValue {
			t.Fatalf("member of %d bytes in the packed form", len(m))
		}
		prevOff, ps, pm, off = off, s, m, next
	}
	if n != z.length || n > packedEntries {
		t.Fatalf("%d packed entries, length %d", n, z.length)
	}
}

func randScoreRange(r *rand.Rand, scores []float64) ScoreRange {
	pick := func() float64 {
		switch r.IntN(8) {
		case 0:
			return math.Inf(-1)
		case 1:
			return math.Inf(1)
		case 2:
			return float64(r.IntN(30)) - 5 + 0.5
		}
		return scores[r.IntN(len(scores))]
	}
	return ScoreRange{Min: pick(), Max: pick(), MinEx: r.IntN(2) == 0, MaxEx: r.IntN(2) == 0}
}

func randLexRange(r *rand.Rand, pool []string) LexRange {
	var lr LexRange
	switch r.IntN(6) {
	case 0:
		lr.MinInf = true
	case 1:
		lr.MinPosInf = true
	default:
		lr.Min, lr.MinEx = pool[r.IntN(len(pool))], r.IntN(2) == 0
	}
	switch r.IntN(6) {
	case 0:
		lr.MaxInf = true
	case 1:
		lr.MaxNegInf = true
	default:
		lr.Max, lr.MaxEx = pool[r.IntN(len(pool))], r.IntN(2) == 0
	}
	return lr
}

func inScore(r ScoreRange, s float64) bool { return r.gteMin(s) && r.lteMax(s) }

// modelRange applies offset/count (count < 0 = all) to the in-range entries.
func modelRange(es []ZEntry, in func(ZEntry) bool, reverse bool, offset, count int) []ZEntry {
	var sel []ZEntry
	for _, e := range es {
		if in(e) {
			sel = append(sel, e)
		}
	}
	if reverse {
		slices.Reverse(sel)
	}
	if offset >= len(sel) {
		return nil
	}
	sel = sel[offset:]
	if count >= 0 && count < len(sel) {
		sel = sel[:count]
	}
	return sel
}

func sameEntries(a, b []ZEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Member != b[i].Member || a[i].Score != b[i].Score {
			return false
		}
	}
	return true
}

func TestZSetRandomized(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	scores := []float64{-3, -1, 0, 0.5, 1, 1, 2, 2, 2, 7, 10, math.Inf(1), math.Inf(-1)}
	big := make([]string, 400)
	for i := range big {
		big[i] = fmt.Sprintf("m%03d", i)
	}
	big = append(big, "", "a", "m", "m0", "zz")
	for round := 0; round < 8; round++ {
		z := NewZSet()
		m := &zsetModel{}
		lexOnly := round%2 == 1 // all scores equal: lex ranges are defined
		// Small pools keep sets small (linear lex scans), large ones
		// exceed 128 members (skiplist walks).
		pool := big[len(big)-70:]
		if round >= 4 {
			pool = big
		}
		for op := 0; op < 3000; op++ {
			member := pool[r.IntN(len(pool))]
			score := scores[r.IntN(len(scores))]
			if lexOnly {
				score = 0
			}
			switch k := r.IntN(10); {
			case k < 5:
				var added bool
				if k%2 == 0 {
					added = z.Add(member, score)
				} else {
					b := []byte(member)
					added = z.Set(b, score)
					copy(b, "XXXXXXXX") // the set must not alias b
				}
				if want := m.add(member, score); added != want {
					t.Fatalf("Add(%q) = %v, want %v", member, added, want)
				}
			case k < 8:
				var got bool
				if k == 6 {
					got = z.Delete([]byte(member))
				} else {
					got = z.Remove(member)
				}
				if want := m.remove(member); got != want {
					t.Fatalf("Remove(%q) = %v, want %v", member, got, want)
				}
			case k == 8 && r.IntN(10) == 0 && len(m.es) > 0:
				start := r.IntN(len(m.es)+2) - 1
				stop := start + r.IntN(4)
				got := z.DeleteRankRange(start, stop)
				s, e := max(start, 0), min(stop, len(m.es)-1)
				want := 0
				if s <= e {
					want = e - s + 1
					m.es = slices.Delete(m.es, s, e+1)
				}
				if got != want {
					t.Fatalf("DeleteRankRange(%d,%d) = %d, want %d", start, stop, got, want)
				}
			default:
				if len(m.es) > 0 {
					e := m.es[r.IntN(len(m.es))]
					delta := float64(r.IntN(5)) - 2
					if lexOnly {
						delta = 0
					}
					z.Add(e.Member, e.Score+delta) // exercises in-place updates
					m.add(e.Member, e.Score+delta)
				}
			}
			if op%50 == 0 {
				checkStructure(t, z)
				checkAgainstModel(t, r, z, m, scores, pool, lexOnly)
			}
		}
		checkStructure(t, z)
		checkAgainstModel(t, r, z, m, scores, pool, lexOnly)
		if round >= 4 && (z.small() || z.zskip == nil) {
			t.Fatalf("round %d never left the small encoding (%d members)", round, z.Len())
		}
		if round < 4 && z.zskip != nil {
			t.Fatalf("round %d left the packed form with %d members", round, z.Len())
		}
	}
}

func checkAgainstModel(t *testing.T, r *rand.Rand, z *ZSet, m *zsetModel, scores []float64, pool []string, lexOnly bool) {
	t.Helper()
	n := len(m.es)
	if z.Len() != n {
		t.Fatalf("Len = %d, want %d", z.Len(), n)
	}
	if !sameEntries(z.All(), m.es) {
		t.Fatalf("All mismatch:\n got %v\nwant %v", z.All(), m.es)
	}
	for i, e := range m.es {
		if rk, ok := z.Rank(e.Member, false); !ok || rk != i {
			t.Fatalf("Rank(%q) = %d %v, want %d", e.Member, rk, ok, i)
		}
		if rk, ok := z.RankOf([]byte(e.Member), true); !ok || rk != n-1-i {
			t.Fatalf("RankOf(%q, rev) = %d %v, want %d", e.Member, rk, ok, n-1-i)
		}
		if s, ok := z.ScoreOf([]byte(e.Member)); !ok || s != e.Score {
			t.Fatalf("ScoreOf(%q) = %v %v, want %v", e.Member, s, ok, e.Score)
		}
		if got := z.At(i); got != e {
			t.Fatalf("At(%d) = %v, want %v", i, got, e)
		}
	}
	if _, ok := z.Rank("absent-member", false); ok {
		t.Fatal("Rank of a missing member found")
	}
	for k := 0; k < 20; k++ {
		// Rank ranges, both directions, through ByRank and IterAt.
		start, stop := r.IntN(n+3)-1, r.IntN(n+3)-1
		if start >= 0 && stop >= start && stop < n {
			want := slices.Clone(m.es[start : stop+1])
			if got := z.ByRank(start, stop, false); !sameEntries(got, want) {
				t.Fatalf("ByRank(%d,%d) = %v, want %v", start, stop, got, want)
			}
			slices.Reverse(want)
			if got := z.ByRank(n-1-stop, n-1-start, true); !sameEntries(got, want) {
				t.Fatalf("ByRank rev = %v, want %v", got, want)
			}
			it := z.IterAt(stop, true)
			for i := stop; i >= start; i-- {
				if !it.Valid() || it.Member() != m.es[i].Member || it.Score() != m.es[i].Score {
					t.Fatalf("IterAt(%d, rev) wrong at %d", stop, i)
				}
				it.Next()
			}
		}
		if it := z.IterAt(n, false); it.Valid() {
			t.Fatal("IterAt(Len) is valid")
		}
		// Score ranges.
		sr := randScoreRange(r, scores)
		offset, count := r.IntN(4), r.IntN(6)-1
		rev := r.IntN(2) == 0
		inS := func(e ZEntry) bool { return inScore(sr, e.Score) }
		want := modelRange(m.es, inS, rev, offset, count)
		if got := z.RangeByScore(sr, rev, offset, count); !sameEntries(got, want) {
			t.Fatalf("RangeByScore(%+v, rev=%v, %d, %d) = %v, want %v", sr, rev, offset, count, got, want)
		}
		all := modelRange(m.es, inS, false, 0, -1)
		if got := z.CountScore(sr); got != len(all) {
			t.Fatalf("CountScore(%+v) = %d, want %d", sr, got, len(all))
		}
		first, cnt := z.ScoreSpan(sr)
		if cnt != len(all) || (cnt > 0 && !sameEntries(m.es[first:first+cnt], all)) {
			t.Fatalf("ScoreSpan(%+v) = %d,%d, want %v", sr, first, cnt, all)
		}
		if !lexOnly {
			continue
		}
		lr := randLexRange(r, pool)
		inL := func(e ZEntry) bool { return lr.gteMin(e.Member) && lr.lteMax(e.Member) }
		want = modelRange(m.es, inL, rev, offset, count)
		if got := z.RangeByLex(lr, rev, offset, count); !sameEntries(got, want) {
			t.Fatalf("RangeByLex(%+v, rev=%v, %d, %d) = %v, want %v", lr, rev, offset, count, got, want)
		}
		all = modelRange(m.es, inL, false, 0, -1)
		if got := z.CountLex(lr); got != len(all) {
			t.Fatalf("CountLex(%+v) = %d, want %d", lr, got, len(all))
		}
		first, cnt = z.LexSelect(lr, false, 0, -1)
		if cnt != len(all) || (cnt > 0 && !sameEntries(m.es[first:first+cnt], all)) {
			t.Fatalf("LexSelect(%+v) = %d,%d, want %v", lr, first, cnt, all)
		}
	}
}

// lexCmp is Redis's sdscmplex: "-" and "+" are the shared min and max
// strings, below and above everything else.
func lexCmp(a string, aSpecial int, b string, bSpecial int) int {
	if aSpecial != 0 && aSpecial == bSpecial {
		return 0
	}
	if aSpecial == -1 || bSpecial == 1 {
		return -1
	}
	if aSpecial == 1 || bSpecial == -1 {
		return 1
	}
	return cmp.Compare(a, b)
}

// listpackLex is Redis's listpack ZRANGEBYLEX / ZLEXCOUNT, transcribed
// literally over the entries in list order (whatever their scores).
func listpackLex(es []ZEntry, r LexRange, reverse bool, offset, limit int) []ZEntry {
	minSp, maxSp := 0, 0
	switch {
	case r.MinInf:
		minSp = -1
	case r.MinPosInf:
		minSp = 1
	}
	switch {
	case r.MaxInf:
		maxSp = 1
	case r.MaxNegInf:
		maxSp = -1
	}
	gte := func(m string) bool {
		c := lexCmp(m, 0, r.Min, minSp)
		return c > 0 || c == 0 && !r.MinEx && minSp == 0
	}
	lte := func(m string) bool {
		c := lexCmp(m, 0, r.Max, maxSp)
		return c < 0 || c == 0 && !r.MaxEx && maxSp == 0
	}
	c := lexCmp(r.Min, minSp, r.Max, maxSp)
	exMin, exMax := r.MinEx || minSp != 0, r.MaxEx || maxSp != 0
	if c > 0 || c == 0 && (exMin || exMax) || len(es) == 0 ||
		!gte(es[len(es)-1].Member) || !lte(es[0].Member) {
		return nil
	}
	i := -1
	if reverse {
		for j := len(es) - 1; j >= 0; j-- {
			if lte(es[j].Member) {
				i = j
				break
			}
		}
		if i < 0 || !gte(es[i].Member) {
			return nil
		}
	} else {
		for j := range es {
			if gte(es[j].Member) {
				i = j
				break
			}
		}
		if i < 0 || !lte(es[i].Member) {
			return nil
		}
	}
	if offset < 0 {
		return nil
	}
	var out []ZEntry
	for j := i; j >= 0 && j < len(es); {
		if offset > 0 {
			offset--
		} else {
			if limit == 0 {
				break
			}
			if reverse && !gte(es[j].Member) || !reverse && !lte(es[j].Member) {
				break
			}
			out = append(out, es[j])
			limit--
		}
		if reverse {
			j--
		} else {
			j++
		}
	}
	return out
}

// TestZSetLexMixedScores checks lex ranges on small sets with mixed scores
// against Redis's listpack algorithm, which Redis users observe there.
func TestZSetLexMixedScores(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := []string{"", "a", "b", "ba", "c", "d", "e", "f", "g", "h"}
	for round := 0; round < 300; round++ {
		z := NewZSet()
		m := &zsetModel{}
		for i := r.IntN(len(pool) + 1); i > 0; i-- {
			member, score := pool[r.IntN(len(pool))], float64(r.IntN(4))
			z.Add(member, score)
			m.add(member, score)
		}
		for k := 0; k < 30; k++ {
			lr := randLexRange(r, pool)
			rev := r.IntN(2) == 0
			offset, limit := r.IntN(5)-1, r.IntN(5)-1
			want := listpackLex(m.es, lr, rev, offset, limit)
			if got := z.RangeByLex(lr, rev, offset, limit); !sameEntries(got, want) {
				t.Fatalf("set %v: RangeByLex(%+v, rev=%v, %d, %d) = %v, want %v", m.es, lr, rev, offset, limit, got, want)
			}
			if got, want := z.CountLex(lr), len(listpackLex(m.es, lr, false, 0, -1)); got != want {
				t.Fatalf("set %v: CountLex(%+v) = %d, want %d", m.es, lr, got, want)
			}
		}
	}
}

func TestZSetEdgeCases(t *testing.T) {
	z := NewZSet()
	if z.Len() != 0 || z.All() != nil || z.CountScore(ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}) != 0 {
		t.Fatal("empty set not empty")
	}
	if z.DeleteRankRange(0, 10) != 0 {
		t.Fatal("DeleteRankRange on empty set removed something")
	}
	if !z.Add("a", 1) || z.Add("a", 1) || z.Add("a", 2) {
		t.Fatal("Add new/existing reporting wrong")
	}
	if s, _ := z.Score("a"); s != 2 {
		t.Fatalf("score %v, want 2", s)
	}
	// -0 and 0 are the same score: no move.
	z.Add("b", 0)
	z.Add("b", math.Copysign(0, -1))
	if s, _ := z.Score("b"); math.Signbit(s) {
		t.Fatal("-0 replaced 0")
	}
	// Empty and reversed ranges.
	if z.CountScore(ScoreRange{Min: 2, Max: 2, MinEx: true}) != 0 ||
		z.CountScore(ScoreRange{Min: 3, Max: 1}) != 0 ||
		z.CountScore(ScoreRange{Min: 2, Max: 2}) != 1 {
		t.Fatal("degenerate score ranges")
	}
	if got := z.RangeByScore(ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}, false, 5, -1); got != nil {
		t.Fatalf("offset past end returned %v", got)
	}
	if z.MaxMemberLen() != 1 {
		t.Fatalf("MaxMemberLen %d", z.MaxMemberLen())
	}
	if n := z.DeleteRankRange(-5, 100); n != 2 || z.Len() != 0 {
		t.Fatalf("DeleteRankRange all removed %d, len %d", n, z.Len())
	}
	checkStructure(t, z)
}

func BenchmarkZSetAdd(b *testing.B) {
	z := NewZSet()
	members := make([][]byte, 1<<16)
	for i := range members {
		members[i] = fmt.Appendf(nil, "member:%d", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		z.Set(members[i&(1<<16-1)], float64(i%1000))
	}
}

func BenchmarkZSetRank(b *testing.B) {
	z := NewZSet()
	const n = 100000
	members := make([][]byte, n)
	for i := range members {
		members[i] = fmt.Appendf(nil, "m:%d", i)
		z.Set(members[i], float64(rand.IntN(n)))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		z.RankOf(members[i%n], false)
	}
}

// TestZSetPackedViewsAndUnpack: entries handed out stay valid across later
// writes (ZPOPMIN removes the entries it read), and a member longer than
// packedValue bytes turns the set into a skiplist holding every member.
func TestZSetPackedViewsAndUnpack(t *testing.T) {
	z := NewZSet()
	for i, m := range []string{"c", "b", "a"} {
		z.Add(m, float64(i%2))
	}
	es := z.ByRank(0, 1, false) // (0,a) (0,c)
	if z.RemoveEntries(es) != 2 || es[0].Member != "a" || es[1].Member != "c" {
		t.Fatalf("removed %v; left %v", es, z.All())
	}
	if packed, _ := z.Packed(); !packed {
		t.Fatal("a small sorted set is not packed")
	}
	long := strings.Repeat("x", packedValue+1)
	z.Add(long, -1)
	if packed, _ := z.Packed(); packed {
		t.Fatal("a long member left the set packed")
	}
	checkStructure(t, z)
	if all := z.All(); len(all) != 2 || all[0].Member != long || all[1].Member != "b" {
		t.Fatalf("after unpacking: %v", all)
	}
}

// BenchmarkZSetSmall compares the packed form and the skiplist of a set of
// n members: a score change (which moves the member) and a rank query.
func BenchmarkZSetSmall(b *testing.B) {
	for _, n := range []int{10, 128} {
		for _, form := range []string{"packed", "skiplist"} {
			b.Run(form+"-"+strconv.Itoa(n), func(b *testing.B) {
				z := NewZSet()
				members := make([][]byte, n)
				for i := range members {
					members[i] = fmt.Appendf(nil, "member:%d", i)
					z.Set(members[i], float64(i))
				}
				if form == "skiplist" {
					z.unpack()
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					m := members[i%n]
					z.Set(m, float64(i%(2*n)))
					z.RankOf(m, false)
				}
			})
		}
	}
}

// TestZSetPackedScores: every score survives the packed encoding (whole
// numbers in 1-8 bytes, anything else as a float64), in order, and whole
// numbers take fewer bytes than a float64.
func TestZSetPackedScores(t *testing.T) {
	scores := []float64{0, 1, -1, 63, 64, -64, -65, 127, 128, 255, 256, 1 << 31, -(1 << 31), 1<<53 - 1,
		1 << 53, -(1 << 53), 1<<53 + 2, 1e300, -1e300, 0.5, -0.25, math.SmallestNonzeroFloat64,
		math.Inf(1), math.Inf(-1), 1.7e9, 1.7e12, math.MaxFloat64}
	for _, s := range scores {
		lp := zpAppend(nil, s, "m")
		got, m, next := zpEntry(lp, 0)
		if got != s || m != "m" || next != len(lp) || zpPrev(lp, next) != 0 {
			t.Fatalf("score %v: decoded %v %q, entry of %d bytes ends at %d", s, got, m, len(lp), next)
		}
		if s == math.Trunc(s) && math.Abs(s) < 1<<40 && len(lp) > 1+6+1+1+1 {
			t.Fatalf("score %v takes %d bytes", s, len(lp))
		}
	}
	z := NewZSet()
	for i, s := range scores {
		z.Add("m"+strconv.Itoa(i), s)
	}
	checkStructure(t, z)
	sorted := slices.Clone(scores)
	slices.Sort(sorted)
	for i, e := range z.All() {
		if e.Score != sorted[i] {
			t.Fatalf("rank %d: score %v, want %v", i, e.Score, sorted[i])
		}
	}
}
