package stream

import (
	"errors"
	"fmt"
)

// NodeEntry is one entry of a node as serialized (RDB listpacks keep
// deleted entries until their node goes).
type NodeEntry struct {
	ID      ID
	Deleted bool
	Fields  [][]byte // field, value, ...
}

// EachNode calls fn for every node in order with its master ID, master
// fields and entries (Fields share the stream's memory).
func (s *Stream) EachNode(fn func(master ID, masterFields [][]byte, live int, es []NodeEntry)) {
	for _, b := range s.blocks {
		es := make([]NodeEntry, len(b.ids))
		for i := range b.ids {
			es[i] = NodeEntry{ID: b.ids[i], Deleted: b.deleted[i], Fields: b.fields(i)}
		}
		fn(b.master, b.mf, b.live, es)
	}
}

// Footprint returns the number of nodes, their entries (deleted ones
// included) and the bytes their listpacks would take in Redis, in O(1):
// what MEMORY USAGE and used_memory size a stream by.
func (s *Stream) Footprint() (nodes, entries, listpackBytes int) {
	return len(s.blocks), s.slots, s.lpSum
}

// PendingEntries returns how many entries the groups' PELs hold.
func (s *Stream) PendingEntries() int {
	n := 0
	for _, g := range s.groups {
		n += g.PEL.Len()
	}
	return n
}

// ErrCorrupt reports a node that cannot be part of a valid stream.
var ErrCorrupt = errors.New("stream: corrupt node")

// LoadNode appends a node read from an RDB file. Entries must be ordered,
// greater than every earlier node's, and at least one must be live.
func (s *Stream) LoadNode(master ID, masterFields [][]byte, es []NodeEntry) error {
	if len(es) == 0 {
		return fmt.Errorf("%w: empty node", ErrCorrupt)
	}
	if n := len(s.blocks); n > 0 {
		p := s.blocks[n-1]
		if !p.ids[len(p.ids)-1].Less(es[0].ID) || !p.master.Less(master) {
			return fmt.Errorf("%w: nodes out of order", ErrCorrupt)
		}
	}
	b := newBlock(master, masterFields, nil)
	for i, e := range es {
		if len(e.Fields)%2 != 0 || len(e.Fields) == 0 {
			return fmt.Errorf("%w: odd fields", ErrCorrupt)
		}
		if i > 0 && !es[i-1].ID.Less(e.ID) {
			return fmt.Errorf("%w: entries out of order", ErrCorrupt)
		}
		if b.full() {
			return fmt.Errorf("%w: node over 4 GB", ErrCorrupt)
		}
		b.add(e.ID, e.Fields, e.Deleted)
	}
	if b.live == 0 {
		return fmt.Errorf("%w: node without live entries", ErrCorrupt)
	}
	s.blocks = append(s.blocks, b)
	s.length += b.live
	s.lpSum += b.lpBytes()
	s.slots += len(b.ids)
	return nil
}
