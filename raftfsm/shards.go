package raftfsm

import (
	"errors"
	"fmt"
	"slices"
)

// Adding and retiring shards. Shard ids index State.Shards, so a retired
// shard stays in the list, marked Removed, with no nodes and no slots:
// ids (and the slot table's indexes) never shift.

// Shard operations, one payload type each (Command.Data).
const (
	OpShardAdd    Op = "shard_add"
	OpShardRemove Op = "shard_remove"
)

type (
	// ShardAdd (OpShardAdd) appends shard ID, which must be the next id:
	// a retried request cannot add two. It owns no slots until a
	// migration gives it some; nodes that join next are placed in it
	// (Place: a shard with neither master nor replica comes first).
	ShardAdd struct {
		ID int `json:"id"`
	}
	// ShardRemove (OpShardRemove) retires shard ID once it owns no slots
	// and no active migration involves it: its nodes become spares
	// (unplaced, fenced), placed again by the next shard_add.
	ShardRemove struct {
		ID int `json:"id"`
	}
)

// Errors of the shard commands (deterministic, like the others).
var (
	ErrShardID       = errors.New("shard id is not the next one")
	ErrShardRemoved  = errors.New("shard is removed")
	ErrShardHasSlots = errors.New("shard still owns slots")
	ErrShardBusy     = errors.New("shard is part of an active migration")
	ErrLastShard     = errors.New("cannot remove the last shard")
)

// Serving reports whether the shard is in service (not removed).
func (sh *Shard) Serving() bool { return !sh.Removed }

// applyShard handles the shard ops; ok is false for other ops.
func (s *State) applyShard(c Command) (ok bool, err error) {
	switch c.Op {
	case OpShardAdd:
		p, err := payload[ShardAdd](c)
		if err != nil {
			return true, err
		}
		return true, s.addShard(p)
	case OpShardRemove:
		p, err := payload[ShardRemove](c)
		if err != nil {
			return true, err
		}
		return true, s.removeShard(p)
	}
	return false, nil
}

func (s *State) addShard(p ShardAdd) error {
	if len(s.Shards) == 0 {
		return fmt.Errorf("shard_add before init: %w", ErrNoShard)
	}
	if p.ID != len(s.Shards) {
		return fmt.Errorf("shard_add %d (next is %d): %w", p.ID, len(s.Shards), ErrShardID)
	}
	s.Shards = append(s.Shards, &Shard{ID: p.ID, Name: ShardName(s.Name, p.ID), Replicas: []string{}})
	s.Epoch++
	for _, id := range s.NodeIDs() { // spares (from a removed shard) fill it first
		if s.Nodes[id].Shard < 0 {
			s.place(s.Nodes[id])
		}
	}
	return nil
}

func (s *State) removeShard(p ShardRemove) error {
	sh := s.Shard(p.ID)
	if sh == nil {
		return fmt.Errorf("shard_remove %d: %w", p.ID, ErrNoShard)
	}
	if sh.Removed {
		return fmt.Errorf("shard_remove %d: %w", p.ID, ErrShardRemoved)
	}
	if len(sh.Slots) > 0 {
		return fmt.Errorf("shard_remove %d: %w", p.ID, ErrShardHasSlots)
	}
	for _, m := range s.Migrations {
		if m.Active() && (m.From == p.ID || m.To == p.ID) {
			return fmt.Errorf("shard_remove %d (migration %d): %w", p.ID, m.ID, ErrShardBusy)
		}
	}
	if !slices.ContainsFunc(s.Shards, func(o *Shard) bool { return o.ID != p.ID && o.Serving() }) {
		return fmt.Errorf("shard_remove %d: %w", p.ID, ErrLastShard)
	}
	for _, id := range append([]string{sh.Master}, sh.Replicas...) {
		if n := s.Nodes[id]; n != nil {
			n.Shard = -1
		}
	}
	sh.Master, sh.Replicas, sh.Handoff, sh.Unsynced, sh.Removed = "", []string{}, nil, false, true
	s.Epoch++
	return nil
}

// refuseRemovedShard keeps a removed shard retired: no master named in
// it, no handoff, no migration from or to it (it has no nodes).
func (s *State) refuseRemovedShard(c Command) error {
	var ids []int
	switch c.Op {
	case OpSetMaster, OpBeginHandoff:
		ids = []int{c.Shard}
	case OpMigrationStart:
		p, err := payload[MigrationStart](c)
		if err != nil {
			return nil // applyMigration reports it
		}
		ids = []int{p.From, p.To}
	}
	for _, id := range ids {
		if sh := s.Shard(id); sh != nil && sh.Removed {
			return fmt.Errorf("%s: shard %d: %w", c.Op, id, ErrShardRemoved)
		}
	}
	return nil
}
