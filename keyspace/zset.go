package keyspace

import (
	"math/rand/v2"
)

// ZSet is a sorted set: a skiplist ordered by (score, member) with spans for
// O(log n) rank queries, plus a member -> score map, as in Redis.
type ZSet struct {
	dict      map[string]float64
	head      *zNode
	tail      *zNode
	level     int
	length    int
	maxMember int // longest member ever added (Redis converts one way too)
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
func NewZSet() *ZSet {
	return &ZSet{
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
	s, ok := z.dict[member]
	return s, ok
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
	x = &zNode{member: member, score: score, level: make([]zLevel, lvl)}
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
func (z *ZSet) Add(member string, score float64) bool {
	if old, ok := z.dict[member]; ok {
		if old != score {
			z.remove(old, member)
			z.insert(score, member)
			z.dict[member] = score
		}
		return false
	}
	z.insert(score, member)
	z.dict[member] = score
	z.maxMember = max(z.maxMember, len(member))
	return true
}

// Remove deletes member; it reports whether it was present.
func (z *ZSet) Remove(member string) bool {
	score, ok := z.dict[member]
	if !ok {
		return false
	}
	z.remove(score, member)
	delete(z.dict, member)
	return true
}

// Rank returns member's 0-based rank (from the highest score when reverse).
func (z *ZSet) Rank(member string, reverse bool) (int, bool) {
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
		if x != z.head && x.member == member {
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
func (z *ZSet) firstIn(gteMin func(*zNode) bool, lteMax func(*zNode) bool) *zNode {
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && !gteMin(x.level[i].forward) {
			x = x.level[i].forward
		}
	}
	x = x.level[0].forward
	if x == nil || !lteMax(x) {
		return nil
	}
	return x
}

// lastIn returns the last node in range, or nil.
func (z *ZSet) lastIn(gteMin func(*zNode) bool, lteMax func(*zNode) bool) *zNode {
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && lteMax(x.level[i].forward) {
			x = x.level[i].forward
		}
	}
	if x == z.head || !gteMin(x) {
		return nil
	}
	return x
}

func (z *ZSet) rangeGeneric(gteMin, lteMax func(*zNode) bool, reverse bool, offset, count int) []ZEntry {
	var out []ZEntry
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
		if reverse && !gteMin(x) || !reverse && !lteMax(x) {
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
	return z.rangeGeneric(func(n *zNode) bool { return r.gteMin(n.score) },
		func(n *zNode) bool { return r.lteMax(n.score) }, reverse, offset, count)
}

// RangeByLex is RangeByScore for member ranges (all scores assumed equal).
func (z *ZSet) RangeByLex(r LexRange, reverse bool, offset, count int) []ZEntry {
	return z.rangeGeneric(func(n *zNode) bool { return r.gteMin(n.member) },
		func(n *zNode) bool { return r.lteMax(n.member) }, reverse, offset, count)
}

// rankOfFirst returns the 0-based rank of the first node satisfying gteMin.
func (z *ZSet) rankOfFirst(gteMin func(*zNode) bool) int {
	rank := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && !gteMin(x.level[i].forward) {
			rank += x.level[i].span
			x = x.level[i].forward
		}
	}
	return rank
}

// rankAfterLast returns how many nodes satisfy lteMax (they are a prefix).
func (z *ZSet) rankAfterLast(lteMax func(*zNode) bool) int {
	rank := 0
	x := z.head
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && lteMax(x.level[i].forward) {
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
	return max(0, z.rankAfterLast(func(n *zNode) bool { return r.lteMax(n.score) })-
		z.rankOfFirst(func(n *zNode) bool { return r.gteMin(n.score) }))
}

// CountLex returns how many members are in r, in O(log n).
func (z *ZSet) CountLex(r LexRange) int {
	return max(0, z.rankAfterLast(func(n *zNode) bool { return r.lteMax(n.member) })-
		z.rankOfFirst(func(n *zNode) bool { return r.gteMin(n.member) }))
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
