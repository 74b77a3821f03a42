package keyspace

import (
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/wardenkv/warden/slotmap"
)

// A Snapshot is a point-in-time image of the whole store, taken without
// stopping it (BGSAVE, AOF rewrite, full resync). Each hash slot of each
// database is handed to the capture function exactly once, under its
// partition's lock, in the state it had when the snapshot began: the
// snapshot's own walk captures slots one at a time, and any command that
// reaches a key in a slot the walk has not captured yet captures that slot
// first, before it can change anything (Dragonfly's approach, per slot). A
// command therefore waits at most for one slot's serialization, never for
// the whole copy.
type Snapshot struct {
	s        *Store
	captured []atomic.Bool // by db*NumSlots + slot
	now      int64         // keys expired at the start are left out
	capture  func(db int, p PartView)
	// Between, when set, runs on the walking goroutine after each slot it
	// captured, with no lock held: where the caller writes out what was
	// captured (slowly, to a socket) without holding up commands.
	Between func()
	done    chan struct{} // closed when Run ends
}

// PartView is one hash slot handed to a snapshot's capture function.
type PartView struct {
	t   *table
	now int64
}

// Len is the number of keys stored in the slot (expired ones included).
func (pv PartView) Len() int { return pv.t.len() }

// Each calls fn for every key that was live when the snapshot began. key is
// a read-only view of the stored key and o, for an inline string, a copy:
// both valid during the call only.
func (pv PartView) Each(fn func(key []byte, o *Object) bool) {
	var tmp Object
	pv.t.eachLive(pv.now, &tmp, fn)
}

// ErrSnapshotRunning is returned when a snapshot is already in progress.
var ErrSnapshotRunning = errors.New("a snapshot is already in progress")

// BeginSnapshot starts a snapshot. tx must hold every partition (LockAll()),
// so the start is one consistent cut, also with whatever else the caller
// does under the same locks (such as switching AOF files). capture runs under
// a partition's lock, on the walking goroutine or on a command's: it must
// copy what it needs (serialize) and never lock the store itself.
func (tx *Tx) BeginSnapshot(capture func(db int, p PartView)) (*Snapshot, error) {
	s := tx.s
	sn := &Snapshot{s: s, captured: make([]atomic.Bool, len(s.dbs)*slotmap.NumSlots), now: tx.Now(), capture: capture, done: make(chan struct{})}
	if !s.snap.CompareAndSwap(nil, sn) {
		return nil, ErrSnapshotRunning
	}
	return sn, nil
}

// Run walks every slot, capturing those no command captured first, and ends
// the snapshot. It holds a partition's lock for one slot at a time. Empty
// partitions are skipped without locking: a key that was there when the
// snapshot began can only have left through locate, which captured its slot.
func (sn *Snapshot) Run() {
	for d, db := range sn.s.dbs {
		for i := range db.parts {
			p := &db.parts[i]
			if p.nkeys.Load() == 0 {
				continue
			}
			for j := range p.slots {
				tx := sn.s.Lock1Part(p)
				worked := sn.captureSlot(d, p, i*SlotsPerPart+j)
				tx.Unlock()
				if worked {
					if sn.Between != nil {
						sn.Between()
					}
					// The walk is background work: let waiting commands
					// run rather than queue behind it for a time slice.
					runtime.Gosched()
				}
			}
		}
	}
	sn.s.snap.CompareAndSwap(sn, nil)
	close(sn.done)
}

// captureSlot captures a slot unless it was; p must be locked. It reports
// whether it serialized anything.
func (sn *Snapshot) captureSlot(db int, p *part, slot int) bool {
	c := &sn.captured[db*slotmap.NumSlots+slot]
	if c.Load() {
		return false
	}
	c.Store(true)
	t := p.slots[slot%SlotsPerPart]
	if t.len() == 0 {
		return false
	}
	sn.capture(db, PartView{t: t, now: sn.now})
	return true
}

// captureAll captures every slot of db's locked partitions (before an
// operation that changes a whole database: FLUSHDB, SWAPDB).
func (sn *Snapshot) captureAll(db *DB) {
	for i := range db.parts {
		for j := 0; j < SlotsPerPart; j++ {
			sn.captureSlot(db.ID, &db.parts[i], i*SlotsPerPart+j)
		}
	}
}

// Snapshotting reports whether a snapshot is in progress.
func (s *Store) Snapshotting() bool { return s.snap.Load() != nil }

// SnapshotDone returns a channel closed when the snapshot in progress
// ends, or nil when none is.
func (s *Store) SnapshotDone() <-chan struct{} {
	if sn := s.snap.Load(); sn != nil {
		return sn.done
	}
	return nil
}

// lockPart locks p.
func (s *Store) lockPart(p *part) { p.mu.Lock() }
