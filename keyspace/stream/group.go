package stream

import (
	"sort"
	"strings"
)

// InvalidEntriesRead is Redis's SCG_INVALID_ENTRIES_READ: the group's
// entries-read counter is unknown.
const InvalidEntriesRead = -1

// NACK is a pending entry: delivered to Consumer, not yet acknowledged.
type NACK struct {
	DeliveryTime  int64 // unix ms of the last delivery
	DeliveryCount uint64
	Consumer      *Consumer
}

// Consumer is a consumer of a group.
type Consumer struct {
	Name       string
	SeenTime   int64 // unix ms of its last interaction
	ActiveTime int64 // unix ms of its last successful read/claim (-1: never)
	PEL        *PEL
}

// Group is a consumer group.
type Group struct {
	Name        string
	LastID      ID
	EntriesRead int64
	PEL         *PEL
	consumers   map[string]*Consumer
}

// PEL is a pending entries list: NACKs ordered by ID, in chunks of at most
// pelChunk entries indexed by their first ID (a two-level B+tree), so
// lookups are O(log n) and inserting or acknowledging anywhere moves at most
// a chunk's entries and the chunk index.
type PEL struct {
	chunks []*pelChunkT
	n      int
}

const pelChunk = 128

type pelChunkT struct {
	ids   []ID
	nacks []*NACK
}

func newPEL() *PEL { return &PEL{} }

// Len is the number of pending entries.
func (p *PEL) Len() int { return p.n }

// chunkFor returns the index of the chunk that holds or would hold id.
func (p *PEL) chunkFor(id ID) int {
	i := sort.Search(len(p.chunks), func(i int) bool { return id.Less(p.chunks[i].ids[0]) })
	return max(i-1, 0)
}

func (c *pelChunkT) seek(id ID) int {
	return sort.Search(len(c.ids), func(i int) bool { return !c.ids[i].Less(id) })
}

// Get returns id's NACK.
func (p *PEL) Get(id ID) *NACK {
	if p.n == 0 {
		return nil
	}
	c := p.chunks[p.chunkFor(id)]
	if i := c.seek(id); i < len(c.ids) && c.ids[i] == id {
		return c.nacks[i]
	}
	return nil
}

// Put inserts or replaces id's NACK.
func (p *PEL) Put(id ID, n *NACK) {
	if p.n == 0 {
		p.chunks = []*pelChunkT{{ids: []ID{id}, nacks: []*NACK{n}}}
		p.n = 1
		return
	}
	ci := p.chunkFor(id)
	c := p.chunks[ci]
	i := c.seek(id)
	if i < len(c.ids) && c.ids[i] == id {
		c.nacks[i] = n
		return
	}
	if len(c.ids) >= pelChunk {
		// Split: a chunk filled by appends keeps its entries and the new
		// one starts empty, so in-order deliveries fill chunks completely.
		half := len(c.ids) / 2
		if i == len(c.ids) {
			half = len(c.ids)
		}
		nc := &pelChunkT{ids: append([]ID(nil), c.ids[half:]...), nacks: append([]*NACK(nil), c.nacks[half:]...)}
		clear(c.nacks[half:])
		c.ids, c.nacks = c.ids[:half:half], c.nacks[:half:half]
		p.chunks = append(p.chunks, nil)
		copy(p.chunks[ci+2:], p.chunks[ci+1:])
		p.chunks[ci+1] = nc
		if i >= half {
			c, i = nc, i-half
		}
	}
	c.ids = append(c.ids, ID{})
	copy(c.ids[i+1:], c.ids[i:])
	c.ids[i] = id
	c.nacks = append(c.nacks, nil)
	copy(c.nacks[i+1:], c.nacks[i:])
	c.nacks[i] = n
	p.n++
}

// Remove deletes id; false if absent.
func (p *PEL) Remove(id ID) bool {
	if p.n == 0 {
		return false
	}
	ci := p.chunkFor(id)
	c := p.chunks[ci]
	i := c.seek(id)
	if i >= len(c.ids) || c.ids[i] != id {
		return false
	}
	c.ids = append(c.ids[:i], c.ids[i+1:]...)
	copy(c.nacks[i:], c.nacks[i+1:])
	c.nacks[len(c.nacks)-1] = nil
	c.nacks = c.nacks[:len(c.nacks)-1]
	if len(c.ids) == 0 {
		p.chunks = append(p.chunks[:ci], p.chunks[ci+1:]...)
	}
	p.n--
	return true
}

// Range calls fn for entries with start <= id <= end in order until it
// returns false. fn must not modify p.
func (p *PEL) Range(start, end ID, fn func(id ID, n *NACK) bool) {
	if p.n == 0 {
		return
	}
	for ci := p.chunkFor(start); ci < len(p.chunks); ci++ {
		c := p.chunks[ci]
		for i := c.seek(start); i < len(c.ids); i++ {
			if end.Less(c.ids[i]) || !fn(c.ids[i], c.nacks[i]) {
				return
			}
		}
	}
}

// IDs returns the pending IDs in order.
func (p *PEL) IDs() []ID {
	out := make([]ID, 0, p.n)
	for _, c := range p.chunks {
		out = append(out, c.ids...)
	}
	return out
}

// First and Last return the smallest and greatest pending IDs.
func (p *PEL) First() ID { return p.chunks[0].ids[0] }
func (p *PEL) Last() ID {
	c := p.chunks[len(p.chunks)-1]
	return c.ids[len(c.ids)-1]
}

// Group returns the named group or nil.
func (s *Stream) Group(name string) *Group { return s.groups[name] }

// Groups returns the groups ordered by name (as Redis's rax orders them).
func (s *Stream) Groups() []*Group {
	out := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NumGroups is the number of groups.
func (s *Stream) NumGroups() int { return len(s.groups) }

// CreateGroup adds a group; nil if the name is taken.
func (s *Stream) CreateGroup(name string, last ID, entriesRead int64) *Group {
	if _, ok := s.groups[name]; ok {
		return nil
	}
	if s.groups == nil {
		s.groups = make(map[string]*Group)
	}
	g := &Group{Name: name, LastID: last, EntriesRead: entriesRead, PEL: newPEL(), consumers: make(map[string]*Consumer)}
	s.groups[name] = g
	return g
}

// DestroyGroup removes a group; false if there was none.
func (s *Stream) DestroyGroup(name string) bool {
	if _, ok := s.groups[name]; !ok {
		return false
	}
	delete(s.groups, name)
	return true
}

// Consumer returns the named consumer or nil.
func (g *Group) Consumer(name string) *Consumer { return g.consumers[name] }

// NumConsumers is the number of consumers.
func (g *Group) NumConsumers() int { return len(g.consumers) }

// Consumers returns the consumers ordered by name.
func (g *Group) Consumers() []*Consumer {
	out := make([]*Consumer, 0, len(g.consumers))
	for _, c := range g.consumers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Compare(out[i].Name, out[j].Name) < 0 })
	return out
}

// CreateConsumer adds a consumer seen at nowMs; nil if it exists.
func (g *Group) CreateConsumer(name string, nowMs int64) *Consumer {
	if _, ok := g.consumers[name]; ok {
		return nil
	}
	c := &Consumer{Name: name, SeenTime: nowMs, ActiveTime: -1, PEL: newPEL()}
	g.consumers[name] = c
	return c
}

// DeleteConsumer removes a consumer and its pending entries from the group
// PEL; it returns how many were pending.
func (g *Group) DeleteConsumer(c *Consumer) int {
	n := c.PEL.Len()
	for _, id := range c.PEL.IDs() {
		g.PEL.Remove(id)
	}
	delete(g.consumers, c.Name)
	return n
}

// EstimateDistance is Redis's streamEstimateDistanceFromFirstEverEntry: the
// entries-read counter an ID corresponds to, or InvalidEntriesRead.
func (s *Stream) EstimateDistance(id ID) int64 {
	if s.EntriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Compare(s.LastID) < 1 {
		return int64(s.EntriesAdded)
	}
	switch c := id.Compare(s.LastID); {
	case c == 0:
		return int64(s.EntriesAdded)
	case c > 0:
		return InvalidEntriesRead
	}
	cf := id.Compare(s.FirstID)
	if s.MaxDeletedID.IsZero() || s.MaxDeletedID.Less(s.FirstID) {
		if cf < 0 {
			return int64(s.EntriesAdded) - int64(s.length)
		} else if cf == 0 {
			return int64(s.EntriesAdded) - int64(s.length) + 1
		}
	}
	return InvalidEntriesRead
}

// RangeHasTombstones is Redis's streamRangeHasTombstones: whether deleted
// entries may lie between start and end.
func (s *Stream) RangeHasTombstones(start, end ID) bool {
	if s.length == 0 || s.MaxDeletedID.IsZero() || s.MaxDeletedID.Less(s.FirstID) {
		return false
	}
	if s.MaxDeletedID.Compare(start) >= 0 && s.MaxDeletedID.Compare(end) <= 0 {
		return true
	}
	return false
}

// Lag is XINFO's lag of g (ok false: null).
func (s *Stream) Lag(g *Group) (int64, bool) {
	if s.EntriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != InvalidEntriesRead && !s.RangeHasTombstones(g.LastID, MaxID) {
		return int64(s.EntriesAdded) - g.EntriesRead, true
	}
	if d := s.EstimateDistance(g.LastID); d != InvalidEntriesRead {
		return int64(s.EntriesAdded) - d, true
	}
	return 0, false
}
