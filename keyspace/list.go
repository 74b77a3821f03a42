package keyspace

// List is a double-ended queue of byte strings in a ring buffer: O(1) push and
// pop at both ends and O(1) LINDEX.
type List struct {
	buf  [][]byte
	head int
	n    int
}

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Len returns the number of elements.
func (l *List) Len() int { return l.n }

func (l *List) grow() {
	size := len(l.buf) * 2
	if size == 0 {
		size = 4
	}
	nb := make([][]byte, size)
	for i := 0; i < l.n; i++ {
		nb[i] = l.buf[(l.head+i)%len(l.buf)]
	}
	l.buf, l.head = nb, 0
}

// shrink releases memory when the list is far smaller than its buffer.
func (l *List) shrink() {
	if len(l.buf) > 64 && l.n < len(l.buf)/4 {
		nb := make([][]byte, len(l.buf)/2)
		for i := 0; i < l.n; i++ {
			nb[i] = l.buf[(l.head+i)%len(l.buf)]
		}
		l.buf, l.head = nb, 0
	}
}

// PushFront inserts v at the head (LPUSH). v is stored as is.
func (l *List) PushFront(v []byte) {
	if l.n == len(l.buf) {
		l.grow()
	}
	l.head = (l.head - 1 + len(l.buf)) % len(l.buf)
	l.buf[l.head] = v
	l.n++
}

// PushBack appends v at the tail (RPUSH). v is stored as is.
func (l *List) PushBack(v []byte) {
	if l.n == len(l.buf) {
		l.grow()
	}
	l.buf[(l.head+l.n)%len(l.buf)] = v
	l.n++
}

// PopFront removes and returns the head; nil when empty.
func (l *List) PopFront() []byte {
	if l.n == 0 {
		return nil
	}
	v := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) % len(l.buf)
	l.n--
	l.shrink()
	return v
}

// PopBack removes and returns the tail; nil when empty.
func (l *List) PopBack() []byte {
	if l.n == 0 {
		return nil
	}
	i := (l.head + l.n - 1) % len(l.buf)
	v := l.buf[i]
	l.buf[i] = nil
	l.n--
	l.shrink()
	return v
}

// Index returns element i (0 = head); i must be in [0, Len).
func (l *List) Index(i int) []byte { return l.buf[(l.head+i)%len(l.buf)] }

// SetIndex replaces element i.
func (l *List) SetIndex(i int, v []byte) { l.buf[(l.head+i)%len(l.buf)] = v }

// Insert puts v before position i (i == Len appends).
func (l *List) Insert(i int, v []byte) {
	l.PushBack(nil)
	for j := l.n - 1; j > i; j-- {
		l.SetIndex(j, l.Index(j-1))
	}
	l.SetIndex(i, v)
}

// RemoveAt deletes element i.
func (l *List) RemoveAt(i int) {
	for j := i; j < l.n-1; j++ {
		l.SetIndex(j, l.Index(j+1))
	}
	l.PopBack()
}

// Slice returns elements [start, stop] (inclusive, already clamped).
func (l *List) Slice(start, stop int) [][]byte {
	if start > stop {
		return nil
	}
	out := make([][]byte, 0, stop-start+1)
	for i := start; i <= stop; i++ {
		out = append(out, l.Index(i))
	}
	return out
}

// Keep retains only elements [start, stop] (LTRIM); start > stop empties.
func (l *List) Keep(start, stop int) {
	if start > stop || start >= l.n {
		*l = List{}
		return
	}
	vals := l.Slice(start, stop)
	*l = List{buf: make([][]byte, max(4, len(vals))), n: len(vals)}
	copy(l.buf, vals)
}

// Filter keeps the elements for which keep returns true, in order.
func (l *List) Filter(keep func(i int, v []byte) bool) {
	vals := make([][]byte, 0, l.n)
	for i := 0; i < l.n; i++ {
		if v := l.Index(i); keep(i, v) {
			vals = append(vals, v)
		}
	}
	*l = List{buf: make([][]byte, max(4, len(vals))), n: len(vals)}
	copy(l.buf, vals)
}
