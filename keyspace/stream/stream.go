package stream

import "sort"

// Stream is a stream value.
type Stream struct {
	blocks       []*block // ordered by master ID
	length       int
	LastID       ID
	FirstID      ID // recorded-first-entry-id (0-0 when empty)
	MaxDeletedID ID
	EntriesAdded uint64
	groups       map[string]*Group
	// NodeMaxBytes/NodeMaxEntries are the node limits in force (the
	// server's stream-node-max-* settings).
	NodeMaxBytes, NodeMaxEntries int
	// lpSum and slots are the nodes' listpack bytes and entries (deleted
	// ones included), kept as nodes change: used_memory re-sizes a
	// stream after every write to it.
	lpSum, slots int
}

// New returns an empty stream.
func New() *Stream { return &Stream{NodeMaxBytes: NodeMaxBytes, NodeMaxEntries: NodeMaxEntries} }

// Len is the number of entries.
func (s *Stream) Len() int { return s.length }

// Nodes is the number of blocks (XINFO STREAM FULL radix-tree-nodes is
// reported from it).
func (s *Stream) Nodes() int { return len(s.blocks) }

// AutoID returns the ID "*" means at time nowMs; ok is false when the last
// ID is the maximum.
func (s *Stream) AutoID(nowMs uint64) (ID, bool) {
	if nowMs > s.LastID.Ms {
		return ID{nowMs, 0}, true
	}
	return s.LastID.Next()
}

// Append adds an entry; id must be greater than LastID.
func (s *Stream) Append(id ID, fv [][]byte) {
	var b, prev *block
	was := 0
	if n := len(s.blocks); n > 0 {
		b = s.blocks[n-1]
		prev = b
		tot := 0
		for _, x := range fv {
			tot += len(x)
		}
		maxBytes := s.NodeMaxBytes
		if maxBytes <= 0 || maxBytes > 1<<30 {
			maxBytes = 1 << 30
		}
		was = b.lpBytes()
		if was+tot >= maxBytes || (s.NodeMaxEntries > 0 && len(b.ids) >= s.NodeMaxEntries) || b.full() {
			b, was = nil, 0
		}
	}
	if b == nil {
		mf := make([][]byte, len(fv)/2)
		for i := range mf {
			mf[i] = fv[2*i]
		}
		b = newBlock(id, mf, prev)
		s.blocks = append(s.blocks, b)
	}
	b.add(id, fv, false)
	s.lpSum += b.lpBytes() - was
	s.slots++
	if s.length == 0 {
		s.FirstID = id
	}
	s.length++
	s.LastID = id
	s.EntriesAdded++
}

// findBlock returns the index of the block that would hold id (the last
// whose master ID is <= id), or -1.
func (s *Stream) findBlock(id ID) int {
	i := sort.Search(len(s.blocks), func(i int) bool { return id.Less(s.blocks[i].master) })
	return i - 1
}

// Get returns the field/value pairs of entry id.
func (s *Stream) Get(id ID) ([][]byte, bool) {
	bi := s.findBlock(id)
	if bi < 0 {
		return nil, false
	}
	b := s.blocks[bi]
	i := b.seek(id)
	if i < len(b.ids) && b.ids[i] == id && !b.deleted[i] {
		return b.fields(i), true
	}
	return nil, false
}

// Delete removes entry id (XDEL); false if there was none.
func (s *Stream) Delete(id ID) bool {
	bi := s.findBlock(id)
	if bi < 0 {
		return false
	}
	b := s.blocks[bi]
	i := b.seek(id)
	if i >= len(b.ids) || b.ids[i] != id || b.deleted[i] {
		return false
	}
	s.markDeleted(bi, i)
	if s.MaxDeletedID.Less(id) {
		s.MaxDeletedID = id
	}
	if id == s.FirstID {
		s.updateFirst()
	}
	return true
}

func (s *Stream) markDeleted(bi, i int) {
	b := s.blocks[bi]
	was := b.lpBytes()
	b.deleted[i] = true // the fields stay until the node goes, as in Redis
	b.live--
	s.length--
	if b.live == 0 {
		s.blocks = append(s.blocks[:bi], s.blocks[bi+1:]...)
		s.lpSum -= was
		s.slots -= len(b.ids)
		return
	}
	s.lpSum += b.lpBytes() - was
}

func (s *Stream) updateFirst() {
	s.FirstID = ID{}
	s.Range(ID{}, MaxID, false, func(id ID, _ [][]byte) bool {
		s.FirstID = id
		return false
	})
}

// First and Last return the first and last live entries' IDs (0-0 if empty).
func (s *Stream) First() ID {
	var r ID
	s.Range(ID{}, MaxID, false, func(id ID, _ [][]byte) bool { r = id; return false })
	return r
}

func (s *Stream) Last() ID {
	var r ID
	s.Range(ID{}, MaxID, true, func(id ID, _ [][]byte) bool { r = id; return false })
	return r
}

// Range calls fn for the live entries with start <= ID <= end, in order
// (reversed when rev), until fn returns false. fv shares the stream's memory.
func (s *Stream) Range(start, end ID, rev bool, fn func(id ID, fv [][]byte) bool) {
	if end.Less(start) {
		return
	}
	if !rev {
		bi := max(s.findBlock(start), 0)
		for ; bi < len(s.blocks); bi++ {
			b := s.blocks[bi]
			for i := b.seek(start); i < len(b.ids); i++ {
				if end.Less(b.ids[i]) {
					return
				}
				if !b.deleted[i] && !fn(b.ids[i], b.fields(i)) {
					return
				}
			}
		}
		return
	}
	for bi := s.findBlock(end); bi >= 0; bi-- {
		b := s.blocks[bi]
		i := b.seek(end)
		if i == len(b.ids) || b.ids[i] != end {
			i--
		}
		for ; i >= 0; i-- {
			if b.ids[i].Less(start) {
				return
			}
			if !b.deleted[i] && !fn(b.ids[i], b.fields(i)) {
				return
			}
		}
	}
}

// Trim strategies.
const (
	TrimNone = iota
	TrimMaxLen
	TrimMinID
)

// TrimArgs is XADD/XTRIM's trimming part.
type TrimArgs struct {
	Strategy int
	MaxLen   int64
	MinID    ID
	Approx   bool
	Limit    int64 // 0 = none
}

// Trim removes entries as Redis's streamTrim: whole nodes first; with Approx
// it stops at the first node it cannot drop whole. It returns how many went.
func (s *Stream) Trim(a TrimArgs) int64 {
	if a.Strategy == TrimNone {
		return 0
	}
	var deleted int64
	for len(s.blocks) > 0 {
		if a.Strategy == TrimMaxLen && int64(s.length) <= a.MaxLen {
			break
		}
		b := s.blocks[0]
		entries := int64(b.live)
		if a.Limit > 0 && deleted+entries > a.Limit {
			break
		}
		var remove bool
		if a.Strategy == TrimMaxLen {
			remove = int64(s.length)-entries >= a.MaxLen
		} else {
			remove = b.ids[len(b.ids)-1].Less(a.MinID)
		}
		if remove {
			s.lpSum -= b.lpBytes()
			s.slots -= len(b.ids)
			s.blocks = s.blocks[1:]
			s.length -= int(entries)
			deleted += entries
			continue
		}
		if a.Approx {
			break
		}
		was := b.lpBytes()
		for i := range b.ids {
			var stop bool
			if a.Strategy == TrimMaxLen {
				stop = int64(s.length) <= a.MaxLen
			} else {
				stop = !b.ids[i].Less(a.MinID)
			}
			if stop {
				break
			}
			if !b.deleted[i] {
				b.deleted[i] = true
				b.live--
				s.length--
				deleted++
			}
		}
		s.lpSum += b.lpBytes() - was
		break
	}
	if len(s.blocks) == 0 {
		s.blocks = nil
	}
	s.updateFirst()
	return deleted
}

// RaxNodes approximates the radix-tree-nodes XINFO reports: Redis counts
// the nodes of its rax of 16-byte keys, an implementation detail; one
// node per key plus the root is what a sparse tree of few keys has.
func (s *Stream) RaxNodes() int { return len(s.blocks) + 1 }

// Clone returns a copy sharing nothing mutable with s (COPY). Packed entry
// data is never modified in place, so the copies share it.
func (s *Stream) Clone() *Stream {
	n := *s
	n.blocks = make([]*block, len(s.blocks))
	for i, b := range s.blocks {
		nb := *b
		nb.ids = append([]ID(nil), b.ids...)
		nb.off = append([]uint32(nil), b.off...)
		nb.buf = b.buf[:len(b.buf):len(b.buf)] // appends to either copy reallocate or write past the other's end
		nb.deleted = append([]bool(nil), b.deleted...)
		n.blocks[i] = &nb
	}
	n.groups = nil
	for _, g := range s.Groups() {
		ng := n.CreateGroup(g.Name, g.LastID, g.EntriesRead)
		nacks := make(map[*NACK]*NACK, g.PEL.Len())
		g.PEL.Range(ID{}, MaxID, func(id ID, n *NACK) bool {
			c := *n
			nacks[n] = &c
			ng.PEL.Put(id, &c)
			return true
		})
		for _, c := range g.Consumers() {
			nc := ng.CreateConsumer(c.Name, c.SeenTime)
			nc.ActiveTime = c.ActiveTime
			c.PEL.Range(ID{}, MaxID, func(id ID, n *NACK) bool {
				x := nacks[n]
				x.Consumer = nc
				nc.PEL.Put(id, x)
				return true
			})
		}
	}
	return &n
}
