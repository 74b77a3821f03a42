package keyspace

import (
	"encoding/binary"
	"math"
	"strings"
)

// The packed form of a small sorted set: entries sorted by (score, member),
// each the score (8 bytes, little-endian IEEE 754), the member's length (one
// byte), the member, and the entry's own length (one byte, so iterators walk
// backwards as in a listpack). Like a packed hash it is never changed in
// place: the member strings views hand out stay valid after a write.
// Operations scan linearly, as Redis's listpack ones do; at most
// packedEntries members of at most packedValue bytes keep that cheap.

const zpHead = 9 // score and member length

// zpEntry decodes the entry at off: its score, its member (a view into lp)
// and the next entry's offset.
func zpEntry(lp []byte, off int) (score float64, member string, next int) {
	ml := int(lp[off+8])
	return zpScore(lp, off), lpString(lp[off+zpHead : off+zpHead+ml]), off + zpHead + ml + 1
}

func zpScore(lp []byte, off int) float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(lp[off:]))
}

// zpPrev returns the offset of the entry before the one at off, or -1.
func zpPrev(lp []byte, off int) int {
	if off <= 0 {
		return -1
	}
	return off - int(lp[off-1])
}

// zpOffset returns the offset of the entry at rank r, len(lp) for r ==
// Len, -1 when r is out of range.
func (z *ZSet) zpOffset(r int) int {
	if r < 0 || r > z.length {
		return -1
	}
	off := 0
	for ; r > 0; r-- {
		_, _, off = zpEntry(z.lp, off)
	}
	return off
}

// zpFind looks member up: its rank, its entry's offset and the next one's,
// and its score.
func (z *ZSet) zpFind(member string) (rank, off, next int, score float64, ok bool) {
	for off < len(z.lp) {
		s, m, nx := zpEntry(z.lp, off)
		if m == member {
			return rank, off, nx, s, true
		}
		off = nx
		rank++
	}
	return 0, 0, 0, 0, false
}

// zpPos returns the offset where (score, member) belongs.
func (z *ZSet) zpPos(score float64, member string) int {
	off := 0
	for off < len(z.lp) {
		s, m, nx := zpEntry(z.lp, off)
		if !zLess(s, m, score, member) {
			break
		}
		off = nx
	}
	return off
}

// zpCut replaces the packed slice with one without lp[from:to].
func (z *ZSet) zpCut(from, to int) {
	lp := make([]byte, 0, len(z.lp)-(to-from))
	lp = append(lp, z.lp[:from]...)
	z.lp = append(lp, z.lp[to:]...)
}

// zpInsert replaces the packed slice with one holding (score, member) at
// off; member is copied.
func (z *ZSet) zpInsert(off int, score float64, member string) {
	size := zpHead + len(member) + 1
	lp := make([]byte, 0, len(z.lp)+size)
	lp = append(lp, z.lp[:off]...)
	lp = binary.LittleEndian.AppendUint64(lp, math.Float64bits(score))
	lp = append(lp, byte(len(member)))
	lp = append(lp, member...)
	lp = append(lp, byte(size))
	z.lp = append(lp, z.lp[off:]...)
}

// zpMove gives the entry at lp[off:next] a new score: one new slice with
// the entry re-encoded where it now belongs.
func (z *ZSet) zpMove(off, next int, score float64) {
	_, member, _ := zpEntry(z.lp, off)
	pos := 0 // where the entry goes, as an offset into the current slice
	for pos < len(z.lp) {
		s, m, nx := zpEntry(z.lp, pos)
		if pos != off && !zLess(s, m, score, member) {
			break
		}
		pos = nx
	}
	lp := make([]byte, 0, len(z.lp))
	entry := func(lp []byte) []byte {
		lp = binary.LittleEndian.AppendUint64(lp, math.Float64bits(score))
		return append(lp, z.lp[off+8:next]...) // length, member, back length
	}
	if pos <= off {
		lp = append(lp, z.lp[:pos]...)
		lp = entry(lp)
		lp = append(lp, z.lp[pos:off]...)
		lp = append(lp, z.lp[next:]...)
	} else {
		lp = append(lp, z.lp[:off]...)
		lp = append(lp, z.lp[next:pos]...)
		lp = entry(lp)
		lp = append(lp, z.lp[pos:]...)
	}
	z.lp = lp
}

// zpAdd is Add on the packed form; member may be a temporary view. done is
// false when the set had to become a skiplist first (Add goes on there).
func (z *ZSet) zpAdd(member string, score float64) (added, done bool) {
	if _, off, next, old, ok := z.zpFind(member); ok {
		if old != score {
			z.zpMove(off, next, score)
		}
		return false, true
	}
	if z.length >= packedEntries || len(member) > packedValue {
		z.unpack()
		return false, false
	}
	z.zpInsert(z.zpPos(score, member), score, member)
	z.length++
	z.maxMember = max(z.maxMember, len(member))
	return true, true
}

// zpRemove is Remove on the packed form.
func (z *ZSet) zpRemove(member string) bool {
	_, off, next, _, ok := z.zpFind(member)
	if !ok {
		return false
	}
	z.zpCut(off, next)
	z.length--
	return true
}

// unpack turns the packed form into a skiplist, for good, copying the
// members out of the packed slice.
func (z *ZSet) unpack() {
	lp, n := z.lp, z.length
	z.zskip, z.lp, z.length = newZSkip(), nil, 0
	for off := 0; off < len(lp); {
		s, m, next := zpEntry(lp, off)
		m = strings.Clone(m)
		z.insert(s, m)
		z.dict[m] = s
		off = next
	}
	if z.length != n {
		panic("keyspace: packed sorted set length mismatch")
	}
}

// Packed reports whether z is in the packed form, and the bytes its slice
// holds (MEMORY USAGE).
func (z *ZSet) Packed() (bool, int) { return z.zskip == nil, cap(z.lp) }
