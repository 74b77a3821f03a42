package keyspace

import (
	"bytes"
	"errors"
	"runtime"
	"sync"
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
// the whole copy. A big value is not serialized under the lock at all: its
// consumer freezes it (PartView.Freeze) and the walk serializes it later,
// unlocked, so a 1M-member set holds up no other key of its partition.
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

	mu      sync.Mutex
	frozen  []*Frozen // frozen values the walk has not written yet
	nfrozen atomic.Int32
}

// PartView is one hash slot handed to a snapshot's capture function.
type PartView struct {
	t   *table
	now int64
	sn  *Snapshot
	p   *part
	db  int
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

// Big reports whether serializing o takes long enough that a snapshot
// should freeze it (PartView.Freeze) rather than serialize it under its
// slot's lock: over 1024 elements, or a string over 64 KB.
func (o *Object) Big() bool {
	if o.Type == TString {
		return len(o.Str) > 64<<10
	}
	return o.Len() > 1024
}

// A Frozen is a big value a snapshot captured copy-on-write: an image of
// the value at the capture, written out (write) with no lock held, by the
// snapshot's walk or, first, by a command about to change the key, which
// then changes it in place (thaw). Either way write runs exactly once.
type Frozen struct {
	mu    sync.Mutex  // held while write runs
	wrote atomic.Bool // write ran (set under mu; FrozenAmong reads it without)
	db    int
	key   []byte
	img   Object // the value as captured (Val shared with the stored object)
	write func(db int, key []byte, o *Object)
	p     *part
	orig  *Object
}

// Freeze captures the big value o of key (as Each handed them) without
// serializing it: write(db, key, image) runs later, exactly once, with no
// lock held, on the snapshot's walk or on the goroutine of a command that
// is about to change the key. Until then no command changes the value in
// place: writers wait for write (only those to this key do). Call it from
// the capture function, under the slot's lock.
func (pv PartView) Freeze(key []byte, o *Object, write func(db int, key []byte, o *Object)) {
	f := &Frozen{db: pv.db, key: bytes.Clone(key), write: write, p: pv.p, orig: o,
		img: Object{Type: o.Type, Str: o.Str, Val: o.Val, Expire: o.Expire, LRU: o.LRU}}
	if pv.p.cow == nil {
		pv.p.cow = map[*Object]*Frozen{}
	}
	pv.p.cow[o] = f
	o.cow = true
	sn := pv.sn
	sn.mu.Lock()
	sn.frozen = append(sn.frozen, f)
	sn.nfrozen.Add(1)
	sn.mu.Unlock()
}

// WriteOut writes out f's image unless that was done: at once, or by
// waiting for the walk that is writing it. It needs no lock: a writing
// command that found f (FrozenAmong) calls it between its locks.
func (f *Frozen) WriteOut() {
	f.mu.Lock()
	if !f.wrote.Load() {
		f.write(f.db, f.key, &f.img)
		f.wrote.Store(true)
		f.img = Object{}
	}
	f.mu.Unlock()
}

// FrozenAmong returns a value stored under one of keys that a running
// snapshot froze and has not written out yet, or nil. A writing command
// that finds one should unlock, WriteOut and lock again: otherwise its
// first lookup writes the image out while holding the key's partition
// (thaw), holding up every command on it.
func (v View) FrozenAmong(keys [][]byte) *Frozen {
	for _, k := range keys {
		l := v.find(k)
		if l.pos < 0 {
			continue
		}
		if r := l.t.recAt(l.pos); r.isObj() {
			if o := l.t.obj(&r); o.cow {
				if f := l.p.cow[o]; f != nil && !f.wrote.Load() {
					return f
				}
			}
		}
	}
	return nil
}

// thaw makes the frozen value o safe to change in place: its image is
// written out first (at once, or waiting for the walk that is writing
// it). Callers hold o's partition lock.
func thaw(p *part, o *Object) {
	f := p.cow[o]
	delete(p.cow, o)
	o.cow = false
	if f != nil {
		f.WriteOut()
	}
}

// writeFrozen writes out the values frozen so far (the walk, no lock
// held), then lifts their freeze.
func (sn *Snapshot) writeFrozen() {
	for sn.nfrozen.Load() > 0 {
		sn.mu.Lock()
		fs := sn.frozen
		sn.frozen = nil
		sn.nfrozen.Store(0)
		sn.mu.Unlock()
		for _, f := range fs {
			f.WriteOut()
			tx := sn.s.Lock1Part(f.p)
			if f.p.cow[f.orig] == f {
				delete(f.p.cow, f.orig)
				f.orig.cow = false
			}
			tx.Unlock()
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
				if sn.nfrozen.Load() > 0 { // also those commands' captures froze
					sn.writeFrozen()
					worked = true
				}
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
	sn.writeFrozen()
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
	sn.capture(db, PartView{t: t, now: sn.now, sn: sn, p: p, db: db})
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
