package keyspace

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"unsafe"
)

// A table holds one hash slot's keys without a heap object per key: an
// open-addressing index of 8-byte entries (linear probing, backward-shift
// deletion) into a byte arena of records. A small string lives entirely in
// its record (key, value, TTL, LRU stamp, accounted size), like Redis's
// embstr, and so does a small packed hash, sorted set or intset (its packed
// slice is the record's value, as Redis keeps a listpack or intset in one
// allocation); any other value is an *Object in objs that the record names.
// The arena and the index hold no pointers, so the garbage collector
// neither scans them nor pays per key.
//
// Record layout, at an arena offset:
//
//	flags(1) word(4) acct(4) keylen(uvarint) key [tail]
//	tail: [expire(8) if recTTL] vallen(uvarint) val
//
// word is the LRU/LFU stamp of an inline value, or the objs index of an
// object record. Inline values always have a tail; one turned into an
// object in place (looked up as an object) keeps its tail, so it can turn
// back without moving. Key bytes are never written after they are appended
// (compaction copies to a new arena), so a view of a key stays valid.
type table struct {
	ents    []uint64 // hash<<32 | offset+1; 0 is empty
	arena   []byte
	objs    []*Object
	free    []uint32 // unused objs indexes
	n       int
	garbage int // arena bytes no entry points to
}

const (
	recObj  = 1 // the value is objs[word]
	recTTL  = 2 // the tail starts with an 8-byte expire time
	recTail = 4 // the record has a tail
	// Bits 3-4: what an inline value is (the tail's val).
	kindShift = 3
	kindStr   = 0 // a string
	kindHash  = 1 // a packed hash's slice (Hash.lp)
	kindZSet  = 2 // a packed sorted set's slice (ZSet.lp)
	kindInts  = 3 // an intset's slice (IntSet.b)

	// packedMax bounds a packed collection kept inline: a write rewrites
	// the record, so big ones stay objects.
	packedMax = 512

	// inlineMax is the longest string value stored in its record; longer
	// ones are objects (Redis's embstr limit is 44; a few counters, ids
	// and short JSON fragments fit here too).
	inlineMax = 64
	recHead   = 9
	minIndex  = 8
)

var hashSeed = maphash.MakeSeed()

func keyHash(key []byte) uint32 { return uint32(maphash.Bytes(hashSeed, key)) }

// rec is a decoded record. key and val are views into the arena.
type rec struct {
	off    int
	flags  byte
	word   uint32
	acct   uint32
	key    []byte
	tail   int // offset of the tail (== end when there is none)
	expire int64
	val    []byte
	end    int
}

func (r *rec) isObj() bool { return r.flags&recObj != 0 }

// kind is what an inline record's val holds.
func (r *rec) kind() byte { return r.flags >> kindShift & 3 }

func (t *table) rec(off int) rec {
	a := t.arena
	r := rec{off: off, flags: a[off], word: binary.LittleEndian.Uint32(a[off+1:]), acct: binary.LittleEndian.Uint32(a[off+5:])}
	kl, n := uvarint(a[off+recHead:])
	ks := off + recHead + n
	r.key = a[ks : ks+int(kl) : ks+int(kl)]
	r.tail = ks + int(kl)
	r.end = r.tail
	if r.flags&recTail != 0 {
		p := r.tail
		if r.flags&recTTL != 0 {
			r.expire = int64(binary.LittleEndian.Uint64(a[p:]))
			p += 8
		}
		vl, n := uvarint(a[p:])
		p += n
		r.val = a[p : p+int(vl) : p+int(vl)]
		r.end = p + int(vl)
	}
	return r
}

// keyAt returns the key of the record at off.
func (t *table) keyAt(off int) []byte {
	kl, n := uvarint(t.arena[off+recHead:])
	ks := off + recHead + n
	return t.arena[ks : ks+int(kl)]
}

// uvarint is binary.Uvarint with the one-byte case (most keys and values)
// inlined.
func uvarint(b []byte) (uint64, int) {
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return binary.Uvarint(b)
}

func (t *table) len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// find returns the index position of key, or -1.
func (t *table) find(key []byte, h uint32) int {
	if t == nil || t.n == 0 {
		return -1
	}
	mask := len(t.ents) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := t.ents[i]
		if e == 0 {
			return -1
		}
		if uint32(e>>32) == h && bytes.Equal(t.keyAt(int(uint32(e))-1), key) {
			return i
		}
	}
}

// offAt returns the record offset of the entry at pos.
func (t *table) offAt(pos int) int { return int(uint32(t.ents[pos])) - 1 }

func (t *table) recAt(pos int) rec { return t.rec(t.offAt(pos)) }

// obj returns the object of an object record.
func (t *table) obj(r *rec) *Object { return t.objs[r.word] }

// appendRec appends a record and returns its offset. val is the tail's
// value (nil with tail false: an object record).
func (t *table) appendRec(flags byte, word, acct uint32, key []byte, expire int64, val []byte) int {
	need := recHead + binary.MaxVarintLen64 + len(key)
	if flags&recTail != 0 {
		need += 8 + binary.MaxVarintLen64 + len(val)
	}
	if len(t.arena)+need > math.MaxUint32-1 {
		t.compact()
		if len(t.arena)+need > math.MaxUint32-1 {
			panic("keyspace: one hash slot holds over 4 GB of keys")
		}
	}
	off := len(t.arena)
	a := append(t.arena, flags, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(a[off+1:], word)
	binary.LittleEndian.PutUint32(a[off+5:], acct)
	a = binary.AppendUvarint(a, uint64(len(key)))
	a = append(a, key...)
	if flags&recTail != 0 {
		if flags&recTTL != 0 {
			a = binary.LittleEndian.AppendUint64(a, uint64(expire))
		}
		a = binary.AppendUvarint(a, uint64(len(val)))
		a = append(a, val...)
	}
	t.arena = a
	return off
}

// inlineFlags are the flags of an inline record of kind.
func inlineFlags(kind byte, expire int64) byte {
	flags := byte(recTail) | kind<<kindShift
	if expire != 0 {
		flags |= recTTL
	}
	return flags
}

// tailLen is the length of an inline value's tail.
func tailLen(expire int64, val []byte) int {
	n := uvarintLen(uint64(len(val))) + len(val)
	if expire != 0 {
		n += 8
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// putInline makes the entry at pos an inline value of kind, rewriting its
// record in place when the new tail fits in the old one, else appending a
// new record. r is the entry's current record.
func (t *table) putInline(pos int, r *rec, kind byte, val []byte, expire int64, lru, acct uint32) {
	if r.isObj() {
		t.dropObj(r.word)
	}
	flags := inlineFlags(kind, expire)
	// A string over a string is rewritten in place, as Redis reuses an
	// embstr's bytes (callers copy a value they keep). A collection's
	// slice is never written over: commands hold views of its members past
	// the unlock (a blocked client's reply), so a changed one, or anything
	// stored over one, moves to a new record.
	same := len(val) > 0 && len(r.val) == len(val) && &r.val[0] == &val[0] && (expire != 0) == (r.flags&recTTL != 0)
	if r.flags&recTail != 0 && tailLen(expire, val) <= r.end-r.tail && (kind == kindStr && r.kind() == kindStr || same) {
		a := t.arena
		a[r.off] = flags
		binary.LittleEndian.PutUint32(a[r.off+1:], lru)
		binary.LittleEndian.PutUint32(a[r.off+5:], acct)
		p := r.tail
		if expire != 0 {
			binary.LittleEndian.PutUint64(a[p:], uint64(expire))
			p += 8
		}
		p += binary.PutUvarint(a[p:], uint64(len(val)))
		copy(a[p:], val) // may overlap an alias of the old value: copy moves
		t.garbage += r.end - (p + len(val))
		return
	}
	t.garbage += r.end - r.off
	off := t.appendRec(flags, lru, acct, r.key, expire, val)
	t.ents[pos] = t.ents[pos]&^math.MaxUint32 | uint64(off+1)
	t.maybeCompact()
}

// putObj makes the entry at pos name o. An inline string's record is
// turned into an object record in place (its tail kept), anything else
// just points at o.
func (t *table) putObj(pos int, r *rec, o *Object) {
	if r.isObj() {
		t.objs[r.word] = o
		return
	}
	idx := t.addObj(o)
	t.arena[r.off] |= recObj
	binary.LittleEndian.PutUint32(t.arena[r.off+1:], idx)
}

func (t *table) addObj(o *Object) uint32 {
	if n := len(t.free); n > 0 {
		idx := t.free[n-1]
		t.free = t.free[:n-1]
		t.objs[idx] = o
		return idx
	}
	t.objs = append(t.objs, o)
	return uint32(len(t.objs) - 1)
}

func (t *table) dropObj(idx uint32) {
	t.objs[idx] = nil
	if int(idx) == len(t.objs)-1 {
		t.objs = t.objs[:idx]
		return
	}
	t.free = append(t.free, idx)
}

// insert adds key (absent) as an inline string, or as o when o != nil, and
// returns its record's offset.
func (t *table) insert(key []byte, h uint32, o *Object, val []byte, expire int64, lru, acct uint32) int {
	if (t.n+1)*8 > len(t.ents)*7 {
		t.grow()
	}
	var off int
	if o != nil {
		off = t.appendRec(recObj, t.addObj(o), 0, key, 0, nil)
	} else {
		off = t.appendRec(inlineFlags(kindStr, expire), lru, acct, key, expire, val)
	}
	t.place(uint64(h)<<32 | uint64(off+1))
	t.n++
	return off
}

func (t *table) grow() { t.resize(max(minIndex, 2*len(t.ents))) }

// resize rebuilds the index with size slots.
func (t *table) resize(size int) {
	old := t.ents
	t.ents = make([]uint64, size)
	for _, e := range old {
		if e != 0 {
			t.place(e)
		}
	}
}

// place puts entry e in its home slot or the first free one after it.
func (t *table) place(e uint64) {
	mask := len(t.ents) - 1
	i := int(e>>32) & mask
	for t.ents[i] != 0 {
		i = (i + 1) & mask
	}
	t.ents[i] = e
}

// remove deletes the entry at pos (backward-shift deletion: no tombstones).
func (t *table) remove(pos int) {
	r := t.recAt(pos)
	if r.isObj() {
		t.dropObj(r.word)
	}
	t.garbage += r.end - r.off
	mask := len(t.ents) - 1
	i := pos
	for j := (pos + 1) & mask; t.ents[j] != 0; j = (j + 1) & mask {
		home := int(t.ents[j]>>32) & mask
		// The entry at j stays unless its home is cyclically outside (i, j].
		if i <= j && i < home && home <= j || i > j && (i < home || home <= j) {
			continue
		}
		t.ents[i] = t.ents[j]
		i = j
	}
	t.ents[i] = 0
	t.n--
	if t.n == 0 {
		*t = table{}
		return
	}
	if len(t.ents) > minIndex && t.n*8 < len(t.ents) {
		t.shrink()
	}
	t.maybeCompact()
}

// shrink halves the index until it is at least a quarter full.
func (t *table) shrink() {
	size := len(t.ents)
	for size > minIndex && t.n*4 < size {
		size /= 2
	}
	t.resize(size)
}

func (t *table) maybeCompact() {
	if t.garbage > 256 && t.garbage*2 > len(t.arena) {
		t.compact()
	}
}

// compact copies the live records to a new arena (object records lose
// their stale tails). The old arena is left as it was: views of its keys
// and values that callers hold stay valid.
func (t *table) compact() {
	a := make([]byte, 0, len(t.arena)-t.garbage)
	for i, e := range t.ents {
		if e == 0 {
			continue
		}
		r := t.recAt(i)
		off := len(a)
		if r.isObj() {
			a = append(a, recObj)
			a = binary.LittleEndian.AppendUint32(a, r.word)
			a = append(a, 0, 0, 0, 0)
			a = binary.AppendUvarint(a, uint64(len(r.key)))
			a = append(a, r.key...)
		} else {
			a = append(a, t.arena[r.off:r.end]...)
		}
		t.ents[i] = e&^math.MaxUint32 | uint64(off+1)
	}
	t.arena = a
	t.garbage = 0
}

// each calls fn with every entry's position until fn returns false.
func (t *table) each(fn func(pos int) bool) bool {
	if t == nil {
		return true
	}
	for i, e := range t.ents {
		if e != 0 && !fn(i) {
			return false
		}
	}
	return true
}

// keyString is a string view of a record's key (never written again).
func keyString(k []byte) string { return unsafe.String(unsafe.SliceData(k), len(k)) }

// inlineOf reports whether o can live in its record, and as what: a short
// string, or a packed hash, sorted set or intset of at most packedMax
// bytes (Redis's embstr, listpack and intset encodings).
func inlineOf(o *Object) (kind byte, val []byte, ok bool) {
	switch v := o.Val.(type) {
	case nil:
		return kindStr, o.Str, o.Type == TString && len(o.Str) <= inlineMax
	case *Hash:
		return kindHash, v.lp, o.Type == THash && v.big == nil && len(v.lp) > 0 && len(v.lp) <= packedMax
	case *ZSet:
		return kindZSet, v.lp, o.Type == TZSet && v.zskip == nil && len(v.lp) > 0 && len(v.lp) <= packedMax
	case *IntSet:
		return kindInts, v.b, o.Type == TSet && len(v.b) > 0 && len(v.b) <= packedMax
	}
	return 0, nil, false
}

// entryAt returns the key (a view) and object at pos, for an inline value
// a copy in tmp: for reading only.
func (t *table) entryAt(pos int, tmp *Object) ([]byte, *Object) {
	r := t.recAt(pos)
	if r.isObj() {
		return r.key, t.obj(&r)
	}
	return r.key, r.object(tmp)
}

// object fills o with an inline record's value; a collection's slice is a
// view of the record (its writes build new slices: see Hash.lp).
func (r *rec) object(o *Object) *Object {
	*o = Object{Type: TString, Expire: r.expire, LRU: r.word, acct: r.acct}
	switch r.kind() {
	case kindStr:
		o.Str = r.val
	case kindHash:
		o.Type, o.Val = THash, &Hash{lp: r.val}
	case kindZSet:
		o.Type, o.Val = TZSet, zsetOfPacked(r.val)
	case kindInts:
		o.Type, o.Val = TSet, &IntSet{b: r.val}
	}
	return o
}

// typeOf is the type of an inline record's value.
func (r *rec) typeOf() Type {
	switch r.kind() {
	case kindHash:
		return THash
	case kindZSet:
		return TZSet
	case kindInts:
		return TSet
	}
	return TString
}
