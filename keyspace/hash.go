package keyspace

import (
	"bytes"
)

// Hash is a hash value. Fields keep the order they were first set in, as a
// Redis listpack does: HKEYS, HVALS and HGETALL list fields in one stable
// order, so clients can pair HKEYS with HVALS. A nil *Hash is an empty hash
// for reading.
//
// A small hash (at most packedEntries fields, none of its fields or values
// longer than packedValue bytes) is one packed byte slice, as Redis keeps
// it in a listpack: no per-field allocation, nothing for the GC to scan,
// lookups by a linear scan. It becomes an indexed map, for good, when it
// outgrows either limit (as Redis converts to a hashtable).
type Hash struct {
	// lp is the packed form, (len, field, len, value) per field: one
	// length byte each. Never changed in place: a write builds a new slice,
	// so the views Get and Range hand out stay valid.
	lp  []byte
	big *hashMap // the indexed form; nil while packed
}

// The packed forms' limits (Redis 7.0's zset-max-listpack-entries and
// -value; hashes use the same, below Redis's 512 entries, since a lookup
// scans the whole slice).
const (
	packedEntries = 128
	packedValue   = 64
)

// hashMap is a big hash: lookups are O(1) through an index; deletions
// leave holes that are compacted once they are half the entries.
type hashMap struct {
	idx  map[string]int32
	ents []hashEntry
}

type hashEntry struct {
	field string
	val   []byte // nil marks a deleted entry; live values are never nil
}

// NewHash returns an empty hash with room for n fields.
func NewHash(n int) *Hash {
	if n > packedEntries {
		return &Hash{big: newHashMap(n)}
	}
	return &Hash{}
}

func newHashMap(n int) *hashMap {
	return &hashMap{idx: make(map[string]int32, n), ents: make([]hashEntry, 0, n)}
}

// Len returns the number of fields.
func (h *Hash) Len() int {
	if h == nil {
		return 0
	}
	if h.big != nil {
		return len(h.big.idx)
	}
	n := 0 // counted rather than stored: a small hash is a 32-byte header
	for off := 0; off < len(h.lp); n++ {
		_, _, off = lpEntry(h.lp, off)
	}
	return n
}

// Packed reports whether h is in the packed form, and the bytes its slice
// holds (MEMORY USAGE).
func (h *Hash) Packed() (bool, int) { return h.big == nil, cap(h.lp) }

// lpEntry decodes the packed entry at off: its field, its value (capacity
// clipped, so appending to it copies) and the next entry's offset.
func lpEntry(lp []byte, off int) (field, val []byte, next int) {
	fl := int(lp[off])
	field = lp[off+1 : off+1+fl : off+1+fl]
	vo := off + 1 + fl
	vl := int(lp[vo])
	val = lp[vo+1 : vo+1+vl : vo+1+vl]
	return field, val, vo + 1 + vl
}

// lpFind returns the offset of field's entry, and of the entry after it.
func (h *Hash) lpFind(field []byte) (off, next int, val []byte, ok bool) {
	for off < len(h.lp) {
		f, v, nx := lpEntry(h.lp, off)
		if bytes.Equal(f, field) {
			return off, nx, v, true
		}
		off = nx
	}
	return 0, 0, nil, false
}

// Get returns field's value. The value must not be modified.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if h == nil {
		return nil, false
	}
	if h.big != nil {
		i, ok := h.big.idx[string(field)]
		if !ok {
			return nil, false
		}
		return h.big.ents[i].val, true
	}
	_, _, v, ok := h.lpFind(field)
	return v, ok
}

// Set stores a copy of val under field and reports whether the field is
// new. An existing field keeps its position.
func (h *Hash) Set(field, val []byte) bool {
	if h.big == nil {
		if len(field) <= packedValue && len(val) <= packedValue {
			return h.lpSet(field, val)
		}
		h.unpack()
	}
	return h.big.set(field, bytes.Clone(val))
}

func (h *Hash) lpSet(field, val []byte) bool {
	off, next, _, ok := h.lpFind(field)
	if !ok {
		if h.Len() >= packedEntries {
			h.unpack()
			return h.big.set(field, bytes.Clone(val))
		}
		off, next = len(h.lp), len(h.lp)
	}
	lp := make([]byte, 0, len(h.lp)-(next-off)+2+len(field)+len(val))
	lp = append(lp, h.lp[:off]...)
	lp = append(lp, byte(len(field)))
	lp = append(lp, field...)
	lp = append(lp, byte(len(val)))
	lp = append(lp, val...)
	h.lp = append(lp, h.lp[next:]...)
	return !ok
}

// unpack turns the packed form into the indexed one, copying every field
// and value out of the packed slice.
func (h *Hash) unpack() {
	m := newHashMap(h.Len() + 1)
	for off := 0; off < len(h.lp); {
		f, v, next := lpEntry(h.lp, off)
		m.set(f, bytes.Clone(v))
		off = next
	}
	h.big, h.lp = m, nil
}

func (m *hashMap) set(field, val []byte) bool {
	if val == nil {
		val = []byte{}
	}
	if i, ok := m.idx[string(field)]; ok {
		m.ents[i].val = val
		return false
	}
	f := string(field)
	m.idx[f] = int32(len(m.ents))
	m.ents = append(m.ents, hashEntry{field: f, val: val})
	return true
}

// Delete removes field and reports whether it was present.
func (h *Hash) Delete(field []byte) bool {
	if h.big == nil {
		off, next, _, ok := h.lpFind(field)
		if !ok {
			return false
		}
		lp := make([]byte, 0, len(h.lp)-(next-off))
		lp = append(lp, h.lp[:off]...)
		h.lp = append(lp, h.lp[next:]...)
		return true
	}
	m := h.big
	i, ok := m.idx[string(field)]
	if !ok {
		return false
	}
	delete(m.idx, string(field))
	m.ents[i] = hashEntry{}
	if dead := len(m.ents) - len(m.idx); dead > 16 && dead > len(m.ents)/2 {
		m.compact()
	}
	return true
}

func (m *hashMap) compact() {
	live := make([]hashEntry, 0, len(m.idx))
	for _, e := range m.ents {
		if e.val != nil {
			m.idx[e.field] = int32(len(live))
			live = append(live, e)
		}
	}
	m.ents = live
}

// Range calls fn for each field in order until fn returns false. val must
// not be modified.
func (h *Hash) Range(fn func(field string, val []byte) bool) {
	if h == nil {
		return
	}
	if h.big == nil {
		for off := 0; off < len(h.lp); {
			f, v, next := lpEntry(h.lp, off)
			if !fn(bstr(f), v) {
				return
			}
			off = next
		}
		return
	}
	for _, e := range h.big.ents {
		if e.val != nil && !fn(e.field, e.val) {
			return
		}
	}
}

// At returns the i-th live entry (0 <= i < Len) in order, in O(1) for a
// big hash without holes (random picks for HRANDFIELD).
func (h *Hash) At(i int) (string, []byte) {
	if h.big == nil {
		off := 0
		for ; i > 0; i-- {
			_, _, off = lpEntry(h.lp, off)
		}
		f, v, _ := lpEntry(h.lp, off)
		return bstr(f), v
	}
	m := h.big
	if len(m.ents) != len(m.idx) {
		m.compact()
	}
	e := m.ents[i]
	return e.field, e.val
}

// Clone returns a deep copy (COPY).
func (h *Hash) Clone() *Hash {
	if h.big == nil {
		return &Hash{lp: bytes.Clone(h.lp)}
	}
	c := &Hash{big: newHashMap(h.Len())}
	h.Range(func(f string, v []byte) bool {
		c.big.idx[f] = int32(len(c.big.ents))
		c.big.ents = append(c.big.ents, hashEntry{field: f, val: bytes.Clone(v)})
		return true
	})
	return c
}
