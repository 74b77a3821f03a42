package keyspace

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
)

// The packed form of a small sorted set: entries sorted by (score, member),
// each the score, the member's length (one byte), the member, and the
// entry's own length (one byte, so iterators walk backwards as in a
// listpack). A score that is a whole number of at most 2^53 is a byte
// count n (1-8) and n bytes of the zigzag-encoded integer, little-endian
// (a listpack stores integers compactly too); a score a float32 holds
// exactly (1.5, 0.25) is a 9 byte and its 4 bytes; any other score is a 0
// byte and the 8 bytes of its IEEE 754 form. Like a packed hash it is never changed in
// place: the member strings views hand out stay valid after a write.
// Operations scan linearly, as Redis's listpack ones do; at most
// packedEntries members of at most packedValue bytes keep that cheap.

// zpEntry decodes the entry at off: its score, its member (a view into lp)
// and the next entry's offset.
func zpEntry(lp []byte, off int) (score float64, member string, next int) {
	mo := off + 1 + zpScoreBytes(lp[off])
	ml := int(lp[mo])
	return zpScore(lp, off), bstr(lp[mo+1 : mo+1+ml]), mo + 1 + ml + 1
}

// zpMember returns the member of the entry at off and the next entry's
// offset, without decoding the score.
func zpMember(lp []byte, off int) (member string, next int) {
	mo := off + 1 + zpScoreBytes(lp[off])
	ml := int(lp[mo])
	return bstr(lp[mo+1 : mo+1+ml]), mo + 1 + ml + 1
}

// zpScoreBytes is the length of a score's encoding after its tag byte.
func zpScoreBytes(tag byte) int {
	switch tag {
	case 0:
		return 8
	case zpFloat32:
		return 4
	}
	return int(tag)
}

// zpFloat32 tags a score stored as a float32.
const zpFloat32 = 9

func zpScore(lp []byte, off int) float64 {
	n := int(lp[off])
	switch n {
	case 0:
		return math.Float64frombits(binary.LittleEndian.Uint64(lp[off+1:]))
	case zpFloat32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(lp[off+1:])))
	}
	var u uint64
	if off+9 <= len(lp) { // one load, masked to the score's n bytes
		u = binary.LittleEndian.Uint64(lp[off+1:]) & (^uint64(0) >> (64 - 8*n))
	} else {
		for i := n; i >= 1; i-- {
			u = u<<8 | uint64(lp[off+i])
		}
	}
	return float64(int64(u>>1) ^ -int64(u&1))
}

// zpAppend appends the entry (score, member) to lp.
func zpAppend(lp []byte, score float64, member string) []byte {
	start := len(lp)
	if score == math.Trunc(score) && math.Abs(score) <= 1<<53 {
		i := int64(score)
		u := uint64(i<<1) ^ uint64(i>>63)
		n := max(1, (bits.Len64(u)+7)/8)
		lp = append(lp, byte(n))
		for ; n > 0; n-- {
			lp = append(lp, byte(u))
			u >>= 8
		}
	} else if f := float32(score); float64(f) == score {
		lp = append(lp, zpFloat32)
		lp = binary.LittleEndian.AppendUint32(lp, math.Float32bits(f))
	} else {
		lp = append(lp, 0)
		lp = binary.LittleEndian.AppendUint64(lp, math.Float64bits(score))
	}
	lp = append(lp, byte(len(member)))
	lp = append(lp, member...)
	return append(lp, byte(len(lp)-start+1))
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
		_, off = zpMember(z.lp, off)
	}
	return off
}

// zpFind looks member up: its rank, its entry's offset and the next one's,
// and its score.
func (z *ZSet) zpFind(member string) (rank, off, next int, score float64, ok bool) {
	for off < len(z.lp) {
		m, nx := zpMember(z.lp, off)
		if m == member {
			return rank, off, nx, zpScore(z.lp, off), true
		}
		off = nx
		rank++
	}
	return 0, 0, 0, 0, false
}

// zpPos returns the offset where (score, member) belongs, passing over the
// entry at skip (-1: none), the one a score change moves.
func (z *ZSet) zpPos(score float64, member string, skip int) int {
	off := 0
	for off < len(z.lp) {
		s, m, nx := zpEntry(z.lp, off)
		if off != skip && !zLess(s, m, score, member) {
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
	lp := make([]byte, 0, len(z.lp)+1+8+1+len(member)+1)
	lp = append(lp, z.lp[:off]...)
	lp = zpAppend(lp, score, member)
	z.lp = append(lp, z.lp[off:]...)
}

// zpMove gives the entry at lp[off:next] a new score: one new slice with
// the entry re-encoded where it now belongs.
func (z *ZSet) zpMove(off, next int, score float64) {
	member, _ := zpMember(z.lp, off)
	pos := z.zpPos(score, member, off) // an offset into the current slice
	// member views the old slice, which stays as it is.
	lp := make([]byte, 0, len(z.lp)+8)
	if pos <= off {
		lp = append(lp, z.lp[:pos]...)
		lp = zpAppend(lp, score, member)
		lp = append(lp, z.lp[pos:off]...)
		lp = append(lp, z.lp[next:]...)
	} else {
		lp = append(lp, z.lp[:off]...)
		lp = append(lp, z.lp[next:pos]...)
		lp = zpAppend(lp, score, member)
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
	z.zpInsert(z.zpPos(score, member, -1), score, member)
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

// zsetOfPacked is the sorted set whose packed form is lp (kept inline in
// its table record): its length and longest member are counted again.
func zsetOfPacked(lp []byte) *ZSet {
	z := &ZSet{lp: lp}
	for off := 0; off < len(lp); {
		var m string
		m, off = zpMember(lp, off)
		z.length++
		z.maxMember = max(z.maxMember, len(m))
	}
	return z
}
