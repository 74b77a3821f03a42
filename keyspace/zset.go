package keyspace

import (
	"math/rand/v2"
	"unsafe"
)

// ZSet is a sorted set. A small one (at most packedEntries members of at
// most packedValue bytes) is one packed byte slice sorted by (score, member),
// as Redis keeps it in a listpack (zsetpack.go); past either limit it
// becomes, for good, a skiplist ordered by (score, member) with spans for
// O(log n) rank queries, plus a member -> score map, as in Redis.
type ZSet struct {
	*zskip           // the skiplist form; nil while packed
	lp        []byte // the packed form (zsetpack.go)
	length    int
	maxMember int // longest member ever added (Redis converts one way too)
}

type zskip struct {
	dict  map[string]float64
	head  *zNode
	tail  *zNode
	level int
}

// ZEntry is one member with its score.
type ZEntry struct {
	Member string
	Score  float64
}

const zMaxLevel = 32

type zLevel struct {
	forward *zNode
	span    int
}

type zNode struct {
	member   string
	score    float64
	backward *zNode
	level    []zLevel
}

// NewZSet returns an empty sorted set.
func NewZSet() *ZSet { return &ZSet{} }

func newZSkip() *zskip {
	return &zskip{
		dict:  make(map[string]float64),
		head:  &zNode{level: make([]zLevel, zMaxLevel)},
		level: 1,
	}
}

// Len returns the number of members.
func (z *ZSet) Len() int { return z.length }

// MaxMemberLen is the longest member length seen (for OBJECT ENCODING).
func (z *ZSet) MaxMemberLen() int { return z.maxMember }

// Score returns member's score.
func (z *ZSet) Score(member string) (float64, bool) {
	if z.zskip == nil {
		_, _, _, s, ok := z.zpFind(member)
		return s, ok
	}
	s, ok := z.dict[member]
	return s, ok
}

// newZNode allocates a node with its levels in the same allocation for the
// common heights (99.6% of nodes), so walking a level stays in one cache
// line and an insert costs one allocation.
func newZNode(lvl int, score float64, member string) *zNode {
	switch lvl {
	case 1:
		n := &struct {
			zNode
			l [1]zLevel
		}{}
		n.zNode = zNode{member: member, score: score, level: n.l[:]}
		return &n.zNode
	case 2:
		n := &struct {
			zNode
			l [2]zLevel
		}{}
		n.zNode = zNode{member: member, score: score, level: n.l[:]}
		return &n.zNode
	case 3:
		n := &struct {
			zNode
			l [3]zLevel
		}{}
		n.zNode = zNode{member: member, score: score, level: n.l[:]}
		return &n.zNode
	case 4:
		n := &struct {
			zNode
			l [4]zLevel
		}{}
		n.zNode = zNode{member: member, score: score, level: n.l[:]}
		return &n.zNode
	}
	return &zNode{member: member, score: score, level: make([]zLevel, lvl)}
}

func randomLevel() int {
	l := 1
	for l < zMaxLevel && rand.Uint32()&0xFFFF < 0xFFFF/4 {
		l++
	}
	return l
}

func zLess(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

func (z *ZSet) insert(score float64, member string) {
	var update [zMaxLevel]*zNode
	var rank [zMaxLevel]int
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		if i != z.level-1 {
			rank[i] = rank[i+1]
		}
		for x.level[i].forward != nil && zLess(x.level[i].forward.score, x.level[i].forward.member, score, member) {
			rank[i] += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	lvl := randomLevel()
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = z.head
			update[i].level[i].span = z.length
		}
		z.level = lvl
	}
	x = newZNode(lvl, score, member)
	for i := 0; i < lvl; i++ {
		x.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = x
		x.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != z.head {
		x.backward = update[0]
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x
	} else {
		z.tail = x
	}
	z.length++
}

func (z *ZSet) deleteNode(x *zNode, update *[zMaxLevel]*zNode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.head.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
}

func (z *ZSet) remove(score float64, member string) {
	var update [zMaxLevel]*zNode
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && zLess(x.level[i].forward.score, x.level[i].forward.member, score, member) {
			x = x.level[i].forward
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.score == score && x.member == member {
		z.deleteNode(x, &update)
	}
}

// Add sets member's score; it reports whether the member is new.
//
// A score of -0 is stored as 0, as Redis's listpack encoding does.
func (z *ZSet) Add(member string, score float64) bool {
	if score == 0 {
		score = 0
	}
	if z.zskip == nil {
		if added, done := z.zpAdd(member, score); done {
			return added
		}
	}
	if old, ok := z.dict[member]; ok {
		if old != score {
			m := z.updateScore(old, member, score)
			z.dict[m] = score
		}
		return false
	}
	z.insert(score, member)
	z.dict[member] = score
	z.maxMember = max(z.maxMember, len(member))
	return true
}

// Set is Add for a member given as bytes: member is copied only when it is
// new (b may be reused by the caller afterwards).
func (z *ZSet) Set(member []byte, score float64) bool {
	if score == 0 {
		score = 0
	}
	if z.zskip == nil {
		if added, done := z.zpAdd(bstr(member), score); done {
			return added
		}
	}
	if old, ok := z.dict[string(member)]; ok {
		if old != score {
			m := z.updateScore(old, bstr(member), score)
			z.dict[m] = score
		}
		return false
	}
	m := string(member)
	z.insert(score, m)
	z.dict[m] = score
	z.maxMember = max(z.maxMember, len(m))
	return true
}

// bstr views b as a string without copying, valid while b's bytes do not
// change: for lookups and comparisons with a caller's buffer (never
// stored), and for views into a packed form, which is never changed in
// place (they may be kept).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// updateScore moves member from score cur to newScore, in place when its
// position does not change (as Redis's zslUpdateScore); member may be a
// temporary view. It returns the stored member string.
func (z *ZSet) updateScore(cur float64, member string, newScore float64) string {
	var update [zMaxLevel]*zNode
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zLess(f.score, f.member, cur, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if (x.backward == nil || x.backward.score < newScore) &&
		(x.level[0].forward == nil || x.level[0].forward.score > newScore) {
		x.score = newScore
		return x.member
	}
	z.deleteNode(x, &update)
	z.insert(newScore, x.member)
	return x.member
}

// Remove deletes member; it reports whether it was present.
func (z *ZSet) Remove(member string) bool {
	if z.zskip == nil {
		return z.zpRemove(member)
	}
	score, ok := z.dict[member]
	if !ok {
		return false
	}
	z.remove(score, member)
	delete(z.dict, member)
	return true
}

// Delete is Remove for a member given as bytes.
func (z *ZSet) Delete(member []byte) bool {
	m := bstr(member)
	if z.zskip == nil {
		return z.zpRemove(m)
	}
	score, ok := z.dict[m]
	if !ok {
		return false
	}
	z.remove(score, m)
	delete(z.dict, m)
	return true
}

// ScoreOf is Score for a member given as bytes.
func (z *ZSet) ScoreOf(member []byte) (float64, bool) {
	return z.Score(bstr(member))
}

// RankOf is Rank for a member given as bytes.
func (z *ZSet) RankOf(member []byte, reverse bool) (int, bool) {
	return z.Rank(bstr(member), reverse)
}

// Rank returns member's 0-based rank (from the highest score when reverse).
func (z *ZSet) Rank(member string, reverse bool) (int, bool) {
	if z.zskip == nil {
		rank, _, _, _, ok := z.zpFind(member)
		if reverse {
			rank = z.length - 1 - rank
		}
		return rank, ok
	}
	score, ok := z.dict[member]
	if !ok {
		return 0, false
	}
	rank := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && !zLess(score, member, x.level[i].forward.score, x.level[i].forward.member) {
			rank += x.level[i].span
			x = x.level[i].forward
		}
		if x != z.head && x.score == score && x.member == member {
			break
		}
	}
	rank-- // ranks are 1-based in the skiplist
	if reverse {
		return z.length - 1 - rank, true
	}
	return rank, true
}

// nodeByRank returns the node at 0-based rank r.
func (z *ZSet) nodeByRank(r int) *zNode {
	if r < 0 || r >= z.length {
		return nil
	}
	r++
	traversed := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

// ByRank returns entries with ranks start..stop inclusive (already clamped to
// [0, Len)), in ascending order, or descending ranks when reverse.
func (z *ZSet) ByRank(start, stop int, reverse bool) []ZEntry {
	if start > stop || start >= z.length {
		return nil
	}
	out := make([]ZEntry, 0, stop-start+1)
	if z.zskip == nil {
		r := start
		if reverse {
			r = z.length - 1 - start
		}
		for it := z.IterAt(r, reverse); it.Valid() && len(out) < stop-start+1; it.Next() {
			out = append(out, ZEntry{it.Member(), it.Score()})
		}
		return out
	}
	if reverse {
		x := z.nodeByRank(z.length - 1 - start)
		for i := start; i <= stop && x != nil; i++ {
			out = append(out, ZEntry{x.member, x.score})
			x = x.backward
		}
		return out
	}
	x := z.nodeByRank(start)
	for i := start; i <= stop && x != nil; i++ {
		out = append(out, ZEntry{x.member, x.score})
		x = x.level[0].forward
	}
	return out
}

// ScoreRange is a score interval; Exclusive flags make an end open.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

func (r ScoreRange) gteMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

func (r ScoreRange) lteMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

// Empty reports whether no score can be in the range.
func (r ScoreRange) Empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// LexRange is a member interval for the BYLEX commands. Unbounded ends use
// MinInf/MaxInf ("-" and "+").
type LexRange struct {
	Min, Max       string
	MinEx, MaxEx   bool
	MinInf, MaxInf bool // Min is "-" / Max is "+"
	MinPosInf      bool // Min is "+": nothing is above it
	MaxNegInf      bool // Max is "-": nothing is below it
}

func (r LexRange) gteMin(m string) bool {
	switch {
	case r.MinPosInf:
		return false
	case r.MinInf:
		return true
	case r.MinEx:
		return m > r.Min
	}
	return m >= r.Min
}

func (r LexRange) lteMax(m string) bool {
	switch {
	case r.MaxNegInf:
		return false
	case r.MaxInf:
		return true
	case r.MaxEx:
		return m < r.Max
	}
	return m <= r.Max
}

// firstInScore returns the first node with score in r, or nil.
func (z *ZSet) firstIn(gteMin, lteMax zPred) *zNode {
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && !gteMin(x.level[i].forward.score, x.level[i].forward.member) {
			x = x.level[i].forward
		}
	}
	x = x.level[0].forward
	if x == nil || !lteMax(x.score, x.member) {
		return nil
	}
	return x
}

// lastIn returns the last node in range, or nil.
func (z *ZSet) lastIn(gteMin, lteMax zPred) *zNode {
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && lteMax(x.level[i].forward.score, x.level[i].forward.member) {
			x = x.level[i].forward
		}
	}
	if x == z.head || !gteMin(x.score, x.member) {
		return nil
	}
	return x
}

// zPred tests an entry against one end of a range.
type zPred func(score float64, member string) bool

func (z *ZSet) rangeGeneric(gteMin, lteMax zPred, reverse bool, offset, count int) []ZEntry {
	var out []ZEntry
	if z.zskip == nil {
		r := z.rankOfFirst(gteMin)
		if reverse {
			r = z.rankAfterLast(lteMax) - 1
		}
		it := z.IterAt(r, reverse)
		for ; it.Valid() && offset > 0; it.Next() {
			offset--
		}
		for ; it.Valid() && count != 0; it.Next() {
			s, m := it.Score(), it.Member()
			if reverse && !gteMin(s, m) || !reverse && !lteMax(s, m) {
				break
			}
			out = append(out, ZEntry{m, s})
			count--
		}
		return out
	}
	var x *zNode
	if reverse {
		x = z.lastIn(gteMin, lteMax)
	} else {
		x = z.firstIn(gteMin, lteMax)
	}
	for x != nil && offset > 0 {
		offset--
		if reverse {
			x = x.backward
		} else {
			x = x.level[0].forward
		}
	}
	for x != nil && count != 0 {
		if reverse && !gteMin(x.score, x.member) || !reverse && !lteMax(x.score, x.member) {
			break
		}
		out = append(out, ZEntry{x.member, x.score})
		count--
		if reverse {
			x = x.backward
		} else {
			x = x.level[0].forward
		}
	}
	return out
}

// RangeByScore returns entries with scores in r, skipping offset and
// returning at most count (count < 0 = all); descending when reverse.
func (z *ZSet) RangeByScore(r ScoreRange, reverse bool, offset, count int) []ZEntry {
	if r.Empty() {
		return nil
	}
	return z.rangeGeneric(func(s float64, _ string) bool { return r.gteMin(s) },
		func(s float64, _ string) bool { return r.lteMax(s) }, reverse, offset, count)
}

// rankOfFirst returns the 0-based rank of the first node satisfying gteMin.
func (z *ZSet) rankOfFirst(gteMin zPred) int {
	rank := 0
	if z.zskip == nil {
		for it := z.IterAt(0, false); it.Valid() && !gteMin(it.Score(), it.Member()); it.Next() {
			rank++
		}
		return rank
	}
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && !gteMin(x.level[i].forward.score, x.level[i].forward.member) {
			rank += x.level[i].span
			x = x.level[i].forward
		}
	}
	return rank
}

// rankAfterLast returns how many nodes satisfy lteMax (they are a prefix).
func (z *ZSet) rankAfterLast(lteMax zPred) int {
	rank := 0
	if z.zskip == nil {
		for it := z.IterAt(0, false); it.Valid() && lteMax(it.Score(), it.Member()); it.Next() {
			rank++
		}
		return rank
	}
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && lteMax(x.level[i].forward.score, x.level[i].forward.member) {
			rank += x.level[i].span
			x = x.level[i].forward
		}
	}
	return rank
}

// CountScore returns how many members have scores in r, in O(log n).
func (z *ZSet) CountScore(r ScoreRange) int {
	if r.Empty() {
		return 0
	}
	return max(0, z.rankAfterLast(func(s float64, _ string) bool { return r.lteMax(s) })-
		z.rankOfFirst(func(s float64, _ string) bool { return r.gteMin(s) }))
}

// RemoveEntries deletes the given members and returns how many were removed.
func (z *ZSet) RemoveEntries(es []ZEntry) int {
	n := 0
	for _, e := range es {
		if z.Remove(e.Member) {
			n++
		}
	}
	return n
}

// All returns every entry in ascending order.
func (z *ZSet) All() []ZEntry {
	return z.ByRank(0, z.length-1, false)
}

// At returns the entry at 0-based ascending rank r (r must be in [0, Len)).
func (z *ZSet) At(r int) ZEntry {
	if z.zskip == nil {
		it := z.IterAt(r, false)
		return ZEntry{it.Member(), it.Score()}
	}
	x := z.nodeByRank(r)
	return ZEntry{x.member, x.score}
}

// ZIter walks a sorted set from a rank, forward or backward.
type ZIter struct {
	n   *zNode
	rev bool
	// The packed form's iterator: the entry at off in lp (-1: none).
	packed bool
	lp     []byte
	off    int
}

// IterAt returns an iterator positioned at ascending rank r that moves to
// lower ranks when reverse. It is invalid at once if r is out of range.
func (z *ZSet) IterAt(r int, reverse bool) ZIter {
	if z.zskip == nil {
		return ZIter{rev: reverse, packed: true, lp: z.lp, off: z.zpOffset(r)}
	}
	return ZIter{n: z.nodeByRank(r), rev: reverse}
}

// Valid reports whether the iterator is on an entry.
func (it *ZIter) Valid() bool {
	if it.packed {
		return it.off >= 0 && it.off < len(it.lp)
	}
	return it.n != nil
}

// Member returns the current member.
func (it *ZIter) Member() string {
	if it.packed {
		m, _ := zpMember(it.lp, it.off)
		return m
	}
	return it.n.member
}

// Score returns the current score.
func (it *ZIter) Score() float64 {
	if it.packed {
		return zpScore(it.lp, it.off)
	}
	return it.n.score
}

// Next moves one entry on in the iterator's direction.
func (it *ZIter) Next() {
	if it.packed {
		if it.rev {
			it.off = zpPrev(it.lp, it.off)
		} else {
			_, it.off = zpMember(it.lp, it.off)
		}
		return
	}
	if it.rev {
		it.n = it.n.backward
	} else {
		it.n = it.n.level[0].forward
	}
}

// ScoreSpan returns the ascending rank of the first member with a score in
// r and how many members are in r, in O(log n).
func (z *ZSet) ScoreSpan(r ScoreRange) (int, int) {
	if r.Empty() {
		return 0, 0
	}
	first := z.rankOfFirst(func(s float64, _ string) bool { return r.gteMin(s) })
	end := z.rankAfterLast(func(s float64, _ string) bool { return r.lteMax(s) })
	return first, max(0, end-first)
}

// DeleteRankRange removes the members with ascending ranks start..stop
// inclusive (clamped to the set) in O(log n + removed), and returns how many
// it removed.
func (z *ZSet) DeleteRankRange(start, stop int) int {
	start = max(start, 0)
	stop = min(stop, z.length-1)
	if start > stop {
		return 0
	}
	if z.zskip == nil {
		z.zpCut(z.zpOffset(start), z.zpOffset(stop+1))
		z.length -= stop - start + 1
		return stop - start + 1
	}
	var update [zMaxLevel]*zNode
	traversed := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= start {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	x = x.level[0].forward
	removed := 0
	for x != nil && removed < stop-start+1 {
		next := x.level[0].forward
		z.deleteNode(x, &update)
		delete(z.dict, x.member)
		removed++
		x = next
	}
	return removed
}

// Lex ranges. Redis defines them for sets whose members all have the same
// score; on mixed scores its result depends on the encoding. These follow
// Redis 7.0's algorithms literally: small sets (listpack in Redis) scan
// linearly, others walk the skiplist, so sorted data costs O(log n) and
// mixed-score queries on small sets give Redis's exact answers.

// small reports whether Redis would hold this set as a listpack.
func (z *ZSet) small() bool { return z.length <= 128 && z.maxMember <= 64 }

// empty reports whether no member can be in r (Redis's sdscmplex test).
func (r LexRange) empty() bool {
	switch {
	case r.MinInf && r.MaxNegInf, r.MinPosInf && r.MaxInf:
		return true // the same shared string: equal, and "exclusive"
	case r.MinInf || r.MaxInf:
		return false
	case r.MinPosInf || r.MaxNegInf:
		return true
	}
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// lexMayContain is zslIsInLexRange.
func (z *ZSet) lexMayContain(r LexRange) bool {
	if r.empty() || z.length == 0 {
		return false
	}
	return r.gteMin(z.At(z.length-1).Member) && r.lteMax(z.At(0).Member)
}

// firstInLex returns the ascending rank of zslFirstInLexRange's node, or -1.
func (z *ZSet) firstInLex(r LexRange) int {
	if !z.lexMayContain(r) {
		return -1
	}
	rank := 0
	if z.small() { // a linear walk, as Redis's listpack code (any form here)
		it := z.IterAt(0, false)
		for ; it.Valid() && !r.gteMin(it.Member()); it.Next() {
			rank++
		}
		if !it.Valid() || !r.lteMax(it.Member()) {
			return -1
		}
		return rank
	}
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && !r.gteMin(x.level[i].forward.member) {
			rank += x.level[i].span
			x = x.level[i].forward
		}
	}
	x = x.level[0].forward
	if x == nil || !r.lteMax(x.member) {
		return -1
	}
	return rank
}

// lastInLex returns the ascending rank of zslLastInLexRange's node, or -1.
func (z *ZSet) lastInLex(r LexRange) int {
	if !z.lexMayContain(r) {
		return -1
	}
	if z.small() {
		rank := z.length - 1
		it := z.IterAt(rank, true)
		for ; it.Valid() && !r.lteMax(it.Member()); it.Next() {
			rank--
		}
		if !it.Valid() || !r.gteMin(it.Member()) {
			return -1
		}
		return rank
	}
	rank := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && r.lteMax(x.level[i].forward.member) {
			rank += x.level[i].span
			x = x.level[i].forward
		}
	}
	rank-- // spans count 1-based ranks
	if x == z.head || !r.gteMin(x.member) {
		return -1
	}
	return rank
}

// LexSelect returns what Z[REV]RANGEBYLEX emits: n members walking from
// ascending rank begin (towards lower ranks when reverse). The first offset
// members from the range start are skipped without checking them; then
// members are taken while in range, at most limit (limit < 0 = no limit).
func (z *ZSet) LexSelect(r LexRange, reverse bool, offset, limit int) (begin, n int) {
	var start int
	if reverse {
		start = z.lastInLex(r)
	} else {
		start = z.firstInLex(r)
	}
	if start < 0 || offset < 0 {
		return 0, 0 // a negative offset skips past the end in Redis
	}
	if reverse {
		begin = start - offset
	} else {
		begin = start + offset
	}
	if begin < 0 || begin >= z.length {
		return 0, 0
	}
	for it := z.IterAt(begin, reverse); it.Valid() && (limit < 0 || n < limit); it.Next() {
		if reverse && !r.gteMin(it.Member()) || !reverse && !r.lteMax(it.Member()) {
			break
		}
		n++
	}
	return begin, n
}

// RangeByLex returns the entries LexSelect selects.
func (z *ZSet) RangeByLex(r LexRange, reverse bool, offset, count int) []ZEntry {
	begin, n := z.LexSelect(r, reverse, offset, count)
	if n == 0 {
		return nil
	}
	out := make([]ZEntry, 0, n)
	for it := z.IterAt(begin, reverse); it.Valid() && len(out) < n; it.Next() {
		out = append(out, ZEntry{it.Member(), it.Score()})
	}
	return out
}

// CountLex is ZLEXCOUNT: O(log n) on large sets.
func (z *ZSet) CountLex(r LexRange) int {
	first := z.firstInLex(r)
	if first < 0 {
		return 0
	}
	if z.small() {
		_, n := z.LexSelect(r, false, 0, -1)
		return n
	}
	count := z.length - first
	if last := z.lastInLex(r); last >= 0 {
		count -= z.length - 1 - last
	}
	return count
}
