package keyspace

import (
	"errors"
	"sync/atomic"
	"unsafe"
)

// A Snapshot is a point-in-time image of the whole store, taken without
// stopping it (BGSAVE, AOF rewrite, full resync). Each partition is handed to
// the capture function exactly once, under its lock, in the state it had
// when the snapshot began: the snapshot's own walk captures partitions in
// order, and any command that locks a partition the walk has not reached yet
// captures it first, before it can change anything (Dragonfly's approach).
// A command therefore waits at most for one partition's serialization, never
// for the whole copy.
type Snapshot struct {
	s        *Store
	captured []atomic.Bool // by partition id
	now      int64         // keys expired at the start are left out
	capture  func(db int, p PartView)
}

// PartView is one partition handed to a snapshot's capture function.
type PartView struct {
	p   *part
	now int64
}

// Len is the number of keys stored in the partition (expired ones included).
func (pv PartView) Len() int { return int(pv.p.nkeys.Load()) }

// Each calls fn for every key that was live when the snapshot began. key is
// a read-only view of the stored key, valid during the call only.
func (pv PartView) Each(fn func(key []byte, o *Object) bool) {
	for s := range pv.p.slots {
		for k, o := range pv.p.slots[s] {
			if o.Expire != 0 && o.Expire <= pv.now {
				continue
			}
			if !fn(unsafe.Slice(unsafe.StringData(k), len(k)), o) {
				return
			}
		}
	}
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
	sn := &Snapshot{s: s, captured: make([]atomic.Bool, len(s.dbs)*NumParts), now: tx.Now(), capture: capture}
	if !s.snap.CompareAndSwap(nil, sn) {
		return nil, ErrSnapshotRunning
	}
	return sn, nil
}

// Run walks every partition, capturing those no command captured first, and
// ends the snapshot.
func (sn *Snapshot) Run() {
	for d := range sn.s.dbs {
		for i := range sn.s.dbs[d].parts {
			tx := sn.s.Lock1Part(&sn.s.dbs[d].parts[i]) // lockPart captures it
			tx.Unlock()
		}
	}
	sn.s.snap.CompareAndSwap(sn, nil)
}

// Snapshotting reports whether a snapshot is in progress.
func (s *Store) Snapshotting() bool { return s.snap.Load() != nil }

// lockPart locks p and, while a snapshot runs, captures p first if nobody has.
func (s *Store) lockPart(p *part) {
	p.mu.Lock()
	if sn := s.snap.Load(); sn != nil && !sn.captured[p.id].Load() {
		sn.captured[p.id].Store(true)
		sn.capture(p.id/NumParts, PartView{p: p, now: sn.now})
	}
}
