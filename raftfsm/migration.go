package raftfsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/wardenkv/warden/slotmap"
)

// Slot migration: the record holds each migration (which slots, from
// which shard to which, its state), so a new leader resumes or rolls back
// a half-done one, and the ownership flip is one Raft entry: atomic for
// the whole cluster at once. Streaming the data is the migration
// package's job; this file is only the record and its rules.

// Migration states.
const (
	MigrationCopying   = "copying"   // the source streams the slots to the target; the source still owns them
	MigrationDone      = "done"      // ownership flipped to the target
	MigrationCancelled = "cancelled" // rolled back: the source still owns them, the target drops its copy
)

// keptMigrations bounds the finished migrations the record remembers
// (GET /migrations history); active ones are always kept.
const keptMigrations = 32

// Migration is one slot migration in the record.
type Migration struct {
	ID      uint64          `json:"id"`
	Slots   []slotmap.Range `json:"slots"`
	From    int             `json:"from"` // source shard
	To      int             `json:"to"`   // target shard
	State   string          `json:"state"`
	Reason  string          `json:"reason,omitempty"`  // why cancelled
	Started int64           `json:"started,omitempty"` // unix ms, the leader's clock
	// Finished (unix ms, the leader's clock) and the data moved, set by
	// the flip or cancel.
	Finished int64 `json:"finished,omitempty"`
	Keys     int64 `json:"keys,omitempty"`
	Bytes    int64 `json:"bytes,omitempty"`
}

// Active reports whether the migration is still in progress.
func (m *Migration) Active() bool { return m.State == MigrationCopying }

// Payloads, one type per operation, carried in Command.Data.
type (
	// MigrationStart (OpMigrationStart) records a new migration of slots
	// that From owns and no active migration covers.
	MigrationStart struct {
		Slots   []slotmap.Range `json:"slots"`
		From    int             `json:"from"`
		To      int             `json:"to"`
		Started int64           `json:"started"`
	}
	// MigrationFlip (OpMigrationFlip) gives the slots of an active
	// migration to its target: the one atomic ownership change.
	MigrationFlip struct {
		ID    uint64 `json:"id"`
		At    int64  `json:"at,omitempty"` // unix ms
		Keys  int64  `json:"keys,omitempty"`
		Bytes int64  `json:"bytes,omitempty"`
	}
	// MigrationCancel (OpMigrationCancel) rolls an active migration back.
	MigrationCancel struct {
		ID     uint64 `json:"id"`
		Reason string `json:"reason,omitempty"`
		At     int64  `json:"at,omitempty"` // unix ms
	}
)

// Migration operations.
const (
	OpMigrationStart  Op = "migration_start"
	OpMigrationFlip   Op = "migration_flip"
	OpMigrationCancel Op = "migration_cancel"
)

// Errors of the migration commands (deterministic, like the others).
var (
	ErrBadMigration     = errors.New("invalid slot migration")
	ErrSlotsBusy        = errors.New("slots are already being migrated")
	ErrNotOwner         = errors.New("source shard does not own every slot")
	ErrUnknownMigration = errors.New("no such active migration")
)

// WithPayload returns a command for op carrying p as its typed payload.
func WithPayload(op Op, p any) (Command, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return Command{}, fmt.Errorf("encode %s payload: %w", op, err)
	}
	return Command{Op: op, Data: b}, nil
}

func payload[T any](c Command) (T, error) {
	var p T
	if err := json.Unmarshal(c.Data, &p); err != nil {
		return p, fmt.Errorf("%s payload: %w", c.Op, err)
	}
	return p, nil
}

// Migration returns the migration with id, or nil.
func (s *State) Migration(id uint64) *Migration {
	for _, m := range s.Migrations {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// applyMigration handles the migration ops; ok is false for other ops.
func (s *State) applyMigration(c Command) (ok bool, err error) {
	switch c.Op {
	case OpMigrationStart:
		p, err := payload[MigrationStart](c)
		if err != nil {
			return true, err
		}
		return true, s.startMigration(p)
	case OpMigrationFlip:
		p, err := payload[MigrationFlip](c)
		if err != nil {
			return true, err
		}
		m := s.Migration(p.ID)
		if m == nil || !m.Active() {
			return true, fmt.Errorf("migration %d: %w", p.ID, ErrUnknownMigration)
		}
		from, to := s.Shard(m.From), s.Shard(m.To)
		if !ownsAll(from.Slots, m.Slots) {
			return true, fmt.Errorf("migration %d: %w", p.ID, ErrNotOwner)
		}
		from.Slots = subtractRanges(from.Slots, m.Slots)
		to.Slots = unionRanges(to.Slots, m.Slots)
		s.Epoch++ // slot ownership changed: clients' cached maps are stale
		m.State = MigrationDone
		m.Finished, m.Keys, m.Bytes = p.At, p.Keys, p.Bytes
		s.trimMigrations()
		return true, nil
	case OpMigrationCancel:
		p, err := payload[MigrationCancel](c)
		if err != nil {
			return true, err
		}
		m := s.Migration(p.ID)
		if m == nil || !m.Active() {
			return true, fmt.Errorf("migration %d: %w", p.ID, ErrUnknownMigration)
		}
		m.State, m.Reason, m.Finished = MigrationCancelled, p.Reason, p.At
		s.trimMigrations()
		return true, nil
	}
	return false, nil
}

func (s *State) startMigration(p MigrationStart) error {
	from, to := s.Shard(p.From), s.Shard(p.To)
	if from == nil || to == nil {
		return fmt.Errorf("migration %d -> %d: %w", p.From, p.To, ErrNoShard)
	}
	if p.From == p.To || len(p.Slots) == 0 {
		return fmt.Errorf("migration %d -> %d of %d ranges: %w", p.From, p.To, len(p.Slots), ErrBadMigration)
	}
	for _, r := range p.Slots {
		if r.Start < 0 || r.End >= slotmap.NumSlots || r.Start > r.End {
			return fmt.Errorf("slot range %s: %w", r, ErrBadMigration)
		}
	}
	slots := unionRanges(nil, p.Slots)
	if !ownsAll(from.Slots, slots) {
		return fmt.Errorf("migration from shard %d: %w", p.From, ErrNotOwner)
	}
	for _, m := range s.Migrations {
		if m.Active() && overlaps(m.Slots, slots) {
			return fmt.Errorf("migration %d holds some: %w", m.ID, ErrSlotsBusy)
		}
	}
	s.NextMigration++
	s.Migrations = append(s.Migrations, &Migration{ID: s.NextMigration, Slots: slots, From: p.From, To: p.To,
		State: MigrationCopying, Started: p.Started})
	return nil
}

// trimMigrations drops the oldest finished migrations beyond keptMigrations.
func (s *State) trimMigrations() {
	finished := 0
	for _, m := range s.Migrations {
		if !m.Active() {
			finished++
		}
	}
	s.Migrations = slices.DeleteFunc(s.Migrations, func(m *Migration) bool {
		if finished > keptMigrations && !m.Active() {
			finished--
			return true
		}
		return false
	})
}

// rangeSet expands ranges into a slot bitmap.
func rangeSet(rs []slotmap.Range) *[slotmap.NumSlots]bool {
	var set [slotmap.NumSlots]bool
	for _, r := range rs {
		for i := max(r.Start, 0); i <= r.End && i < slotmap.NumSlots; i++ {
			set[i] = true
		}
	}
	return &set
}

func setRanges(set *[slotmap.NumSlots]bool) []slotmap.Range {
	var slots []int
	for i, in := range set {
		if in {
			slots = append(slots, i)
		}
	}
	return slotmap.Ranges(slots)
}

func ownsAll(owned, want []slotmap.Range) bool {
	set := rangeSet(owned)
	for _, r := range want {
		for i := r.Start; i <= r.End; i++ {
			if !set[i] {
				return false
			}
		}
	}
	return true
}

func overlaps(a, b []slotmap.Range) bool {
	set := rangeSet(a)
	for _, r := range b {
		for i := r.Start; i <= r.End; i++ {
			if set[i] {
				return true
			}
		}
	}
	return false
}

func subtractRanges(a, b []slotmap.Range) []slotmap.Range {
	set := rangeSet(a)
	for _, r := range b {
		for i := r.Start; i <= r.End; i++ {
			set[i] = false
		}
	}
	return setRanges(set)
}

func unionRanges(a, b []slotmap.Range) []slotmap.Range {
	return setRanges(rangeSet(append(slices.Clone(a), b...)))
}
