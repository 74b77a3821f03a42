package keyspace

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"strconv"
)

// IntSet is a small set whose members are all integers (in Redis's
// string2ll form), kept as Redis keeps it in an intset: sorted integers
// of the narrowest width that holds them all (2, 4 or 8 bytes), no
// allocation per member. A set value is an IntSet while it has at most
// IntSetMax members, all integers; the first write that breaks that, or
// any command without a fast path for it (Object.Set), turns it into a Set
// for good, as Redis converts an intset one way.
type IntSet struct {
	b []byte // the width, then the members ascending, little-endian; nil when empty
}

// IntSetMax is set-max-intset-entries' default.
const IntSetMax = 512

// NewIntSet returns an empty IntSet.
func NewIntSet() *IntSet { return &IntSet{} }

// Len returns the number of members.
func (s *IntSet) Len() int {
	if len(s.b) == 0 {
		return 0
	}
	return (len(s.b) - 1) / int(s.b[0])
}

// Bytes is the memory the members take (MEMORY USAGE).
func (s *IntSet) Bytes() int { return cap(s.b) }

func (s *IntSet) width() int {
	if len(s.b) == 0 {
		return 2
	}
	return int(s.b[0])
}

// get returns the i-th smallest member.
func (s *IntSet) get(i int) int64 {
	switch w := s.width(); w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(s.b[1+2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(s.b[1+4*i:])))
	default:
		return int64(binary.LittleEndian.Uint64(s.b[1+8*i:]))
	}
}

// search returns where n is or belongs.
func (s *IntSet) search(n int64) (int, bool) {
	return sort.Find(s.Len(), func(i int) int { return cmp.Compare(n, s.get(i)) })
}

func widthOf(n int64) int {
	switch {
	case n >= math.MinInt16 && n <= math.MaxInt16:
		return 2
	case n >= math.MinInt32 && n <= math.MaxInt32:
		return 4
	}
	return 8
}

func appendWidth(b []byte, n int64, w int) []byte {
	switch w {
	case 2:
		return binary.LittleEndian.AppendUint16(b, uint16(n))
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	return binary.LittleEndian.AppendUint64(b, uint64(n))
}

// Values returns the members in ascending order (a new slice).
func (s *IntSet) Values() []int64 {
	out := make([]int64, s.Len())
	for i := range out {
		out[i] = s.get(i)
	}
	return out
}

// find looks m up; a non-integer is never found.
func (s *IntSet) find(m []byte) (int, bool) {
	n, ok := ParseInt(m)
	if !ok {
		return 0, false
	}
	return s.search(n)
}

// Has reports whether m is a member.
func (s *IntSet) Has(m []byte) bool {
	_, found := s.find(m)
	return found
}

// Add adds n and reports whether it was new. A member wider than the
// others re-encodes them all at its width (Redis's intset upgrade).
func (s *IntSet) Add(n int64) bool {
	i, found := s.search(n)
	if found {
		return false
	}
	nw := max(s.width(), widthOf(n))
	b := make([]byte, 0, 1+(s.Len()+1)*nw)
	b = append(b, byte(nw))
	for j := range s.Len() {
		if j == i {
			b = appendWidth(b, n, nw)
		}
		b = appendWidth(b, s.get(j), nw)
	}
	if i == s.Len() {
		b = appendWidth(b, n, nw)
	}
	s.b = b
	return true
}

// Remove removes m and reports whether it was a member.
func (s *IntSet) Remove(m []byte) bool {
	i, found := s.find(m)
	if found {
		w := s.width()
		s.b = slices.Delete(s.b, 1+i*w, 1+(i+1)*w)
		if len(s.b) == 1 {
			s.b = nil
		}
	}
	return found
}

// Each calls fn with every member in ascending order, formatted in buf.
func (s *IntSet) Each(fn func(m []byte)) {
	var buf [24]byte
	for i := range s.Len() {
		fn(strconv.AppendInt(buf[:0], s.get(i), 10))
	}
}

// Clone returns a copy (COPY).
func (s *IntSet) Clone() *IntSet { return &IntSet{b: slices.Clone(s.b)} }

// toSet returns the members as a Set.
func (s *IntSet) toSet() Set {
	m := make(Set, s.Len())
	s.Each(func(b []byte) { m[string(b)] = struct{}{} })
	return m
}

// IntSetFrom returns members as an IntSet when there are at most
// IntSetMax of them and all are integers; duplicates are allowed.
func IntSetFrom(members [][]byte) (*IntSet, bool) {
	if len(members) > IntSetMax {
		return nil, false
	}
	vals := make([]int64, 0, len(members))
	for _, m := range members {
		n, ok := ParseInt(m)
		if !ok {
			return nil, false
		}
		vals = append(vals, n)
	}
	return IntSetOf(vals), true
}

// IntSetOf returns vals as an IntSet, dropping duplicates; it sorts vals
// in place. The caller keeps to IntSetMax.
func IntSetOf(vals []int64) *IntSet {
	slices.Sort(vals)
	vals = slices.Compact(vals)
	if len(vals) == 0 {
		return &IntSet{}
	}
	w := 2
	for _, n := range vals {
		w = max(w, widthOf(n))
	}
	b := make([]byte, 0, 1+len(vals)*w)
	b = append(b, byte(w))
	for _, n := range vals {
		b = appendWidth(b, n, w)
	}
	return &IntSet{b: b}
}

// AddAll adds members and returns how many were new. ok is false, and s
// unchanged, when a member is not an integer or s would outgrow
// IntSetMax: the caller then converts the set.
func (s *IntSet) AddAll(members [][]byte) (added int, ok bool) {
	var buf [16]int64
	add := buf[:0]
	for _, m := range members {
		n, isInt := ParseInt(m)
		if !isInt {
			return 0, false
		}
		if _, found := s.search(n); !found && !slices.Contains(add, n) {
			add = append(add, n)
		}
	}
	if s.Len()+len(add) > IntSetMax {
		return 0, false
	}
	for _, n := range add {
		s.Add(n)
	}
	return len(add), true
}

// At returns the i-th smallest member (0 <= i < Len), formatted in buf.
func (s *IntSet) At(i int, buf []byte) []byte { return strconv.AppendInt(buf[:0], s.get(i), 10) }
