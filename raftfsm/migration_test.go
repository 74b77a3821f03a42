package raftfsm

import (
	"errors"
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

func TestMigrationRecord(t *testing.T) {
	s := newState()
	must := func(c Command, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.apply(c); err != nil {
			t.Fatalf("%s: %v", c.Op, err)
		}
	}
	refused := func(c Command, want error) {
		t.Helper()
		before := s.Clone()
		if err := s.apply(c); err == nil || (want != errAny && !errors.Is(err, want)) {
			t.Fatalf("%s %s: %v, want %v", c.Op, c.Data, err, want)
		}
		if !sameExceptIndex(before, s) {
			t.Fatalf("%s refused but changed the record", c.Op)
		}
	}
	start := func(from, to int, rs ...slotmap.Range) Command {
		c, _ := WithPayload(OpMigrationStart, MigrationStart{From: from, To: to, Slots: rs, Started: 1})
		return c
	}
	flip := func(id uint64) Command { c, _ := WithPayload(OpMigrationFlip, MigrationFlip{ID: id}); return c }
	cancel := func(id uint64) Command {
		c, _ := WithPayload(OpMigrationCancel, MigrationCancel{ID: id, Reason: "operator"})
		return c
	}
	must(Command{Op: OpInit, Name: "m", Shards: 3}, nil)
	// Shard 0 owns 0-5460, shard 1 5461-10921, shard 2 10922-16383.
	refused(start(0, 0, slotmap.Range{Start: 0, End: 1}), ErrBadMigration)
	refused(start(0, 1), ErrBadMigration)
	refused(start(0, 9, slotmap.Range{Start: 0, End: 1}), ErrNoShard)
	refused(start(0, 1, slotmap.Range{Start: 5000, End: 6000}), ErrNotOwner)
	refused(start(0, 1, slotmap.Range{Start: 5, End: 2}), ErrBadMigration)
	must(start(0, 1, slotmap.Range{Start: 5000, End: 5460}), nil)
	refused(start(0, 2, slotmap.Range{Start: 5400, End: 5400}), ErrSlotsBusy)
	m := s.Migration(1)
	if m == nil || !m.Active() || m.From != 0 || m.To != 1 {
		t.Fatalf("migration 1 = %+v", m)
	}
	// The table shows it as migrating on the source, importing on the target.
	tab := s.Table("x", true)
	if tab.Migrating[5000] != 1 || tab.Importing[5460] != 0 || len(tab.Migrating) != 461 {
		t.Fatalf("table migrating %d slots, 5000->%d, 5460<-%d", len(tab.Migrating), tab.Migrating[5000], tab.Importing[5460])
	}
	if tab.Owner(5000) != 0 {
		t.Fatal("the source must keep the slots until the flip")
	}
	epoch := s.Epoch
	must(flip(1), nil)
	if got := rangeText(s.Shards[0].Slots); got != "0-4999" {
		t.Fatalf("source slots %s", got)
	}
	if got := rangeText(s.Shards[1].Slots); got != "5000-10921" {
		t.Fatalf("target slots %s", got)
	}
	if s.Epoch != epoch+1 || s.Migration(1).State != MigrationDone {
		t.Fatalf("after flip: epoch %d (was %d), state %s", s.Epoch, epoch, s.Migration(1).State)
	}
	if tab := s.Table("x", true); tab.Owner(5000) != 1 || len(tab.Migrating) != 0 {
		t.Fatal("table not flipped")
	}
	refused(flip(1), ErrUnknownMigration)
	refused(cancel(1), ErrUnknownMigration)
	// Cancel: ownership unchanged.
	must(start(2, 0, slotmap.Range{Start: 16000, End: 16383}, slotmap.Range{Start: 11000, End: 11000}), nil)
	must(cancel(2), nil)
	if s.Migration(2).State != MigrationCancelled || rangeText(s.Shards[2].Slots) != "10922-16383" {
		t.Fatalf("cancel: %+v, slots %s", s.Migration(2), rangeText(s.Shards[2].Slots))
	}
	refused(flip(2), ErrUnknownMigration)
	if err := checkInvariants(s); err != nil {
		t.Fatal(err)
	}
	// Finished migrations are bounded.
	for range keptMigrations + 5 {
		must(start(2, 0, slotmap.Range{Start: 16383, End: 16383}), nil)
		must(cancel(s.NextMigration), nil)
	}
	if len(s.Migrations) != keptMigrations {
		t.Fatalf("%d migrations kept, want %d", len(s.Migrations), keptMigrations)
	}
	if c := s.Clone(); &c.Migrations[0].Slots[0] == &s.Migrations[0].Slots[0] {
		t.Fatal("Clone shares migration slots")
	}
	refused(Command{Op: OpMigrationFlip, Data: []byte("{")}, errAny)
}

// errAny: refused accepts any error.
var errAny = errors.New("any error")

func rangeText(rs []slotmap.Range) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += " "
		}
		out += r.String()
	}
	return out
}
