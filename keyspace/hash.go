package keyspace

import "bytes"

// Hash is a hash value. Fields keep the order they were first set in, as a
// Redis listpack does: HKEYS, HVALS and HGETALL list fields in one stable
// order, so clients can pair HKEYS with HVALS. Lookups are O(1) through an
// index; deletions leave holes that are compacted once they are half the
// entries. A nil *Hash is an empty hash for reading.
type Hash struct {
	idx  map[string]int32
	ents []hashEntry
}

type hashEntry struct {
	field string
	val   []byte // nil marks a deleted entry; live values are never nil
}

// NewHash returns an empty hash with room for n fields.
func NewHash(n int) *Hash {
	return &Hash{idx: make(map[string]int32, n), ents: make([]hashEntry, 0, n)}
}

// Len returns the number of fields.
func (h *Hash) Len() int {
	if h == nil {
		return 0
	}
	return len(h.idx)
}

// Get returns field's value.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if h == nil {
		return nil, false
	}
	i, ok := h.idx[string(field)]
	if !ok {
		return nil, false
	}
	return h.ents[i].val, true
}

// Set stores val (kept as is: copy it first if it aliases a buffer) under
// field and reports whether the field is new. An existing field keeps its
// position.
func (h *Hash) Set(field, val []byte) bool {
	if val == nil {
		val = []byte{}
	}
	if i, ok := h.idx[string(field)]; ok {
		h.ents[i].val = val
		return false
	}
	f := string(field)
	h.idx[f] = int32(len(h.ents))
	h.ents = append(h.ents, hashEntry{field: f, val: val})
	return true
}

// Delete removes field and reports whether it was present.
func (h *Hash) Delete(field []byte) bool {
	i, ok := h.idx[string(field)]
	if !ok {
		return false
	}
	delete(h.idx, string(field))
	h.ents[i] = hashEntry{}
	if dead := len(h.ents) - len(h.idx); dead > 16 && dead > len(h.ents)/2 {
		h.compact()
	}
	return true
}

func (h *Hash) compact() {
	live := make([]hashEntry, 0, len(h.idx))
	for _, e := range h.ents {
		if e.val != nil {
			h.idx[e.field] = int32(len(live))
			live = append(live, e)
		}
	}
	h.ents = live
}

// Range calls fn for each field in order until fn returns false.
func (h *Hash) Range(fn func(field string, val []byte) bool) {
	if h == nil {
		return
	}
	for _, e := range h.ents {
		if e.val != nil && !fn(e.field, e.val) {
			return
		}
	}
}

// At returns the i-th live entry (0 <= i < Len) in order, in O(1) when the
// hash has no holes (random picks for HRANDFIELD).
func (h *Hash) At(i int) (string, []byte) {
	if len(h.ents) != len(h.idx) {
		h.compact()
	}
	e := h.ents[i]
	return e.field, e.val
}

// Clone returns a deep copy (COPY).
func (h *Hash) Clone() *Hash {
	c := NewHash(h.Len())
	h.Range(func(f string, v []byte) bool {
		c.idx[f] = int32(len(c.ents))
		c.ents = append(c.ents, hashEntry{field: f, val: bytes.Clone(v)})
		return true
	})
	return c
}
