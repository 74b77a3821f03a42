package keyspace

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"unsafe"

	"github.com/wardenkv/warden/slotmap"
)

// Memory accounting and the keyspace side of eviction.
//
// used_memory's data set part is kept as a running sum: every stored object
// carries the bytes it was counted for (Object.acct, in 8-byte units), and
// the store adds the difference whenever a key is stored, replaced, removed,
// or looked up by a writing Tx (TrackWrites: the command may have grown or
// shrunk the value in place; the Tx re-sizes those objects before it
// unlocks). Sizes come from the SizeOf hook (memusage's model), so MEMORY
// USAGE and used_memory agree. Reading the sum is one atomic load.

// evictState is the Store's eviction and accounting state.
type evictState struct {
	lfu      atomic.Bool
	lfuLog   atomic.Int32
	lfuDecay atomic.Int32
	used     atomic.Int64 // bytes of every db's keys and values
	sizeOf   func(keyLen int, o *Object) int64
}

// txAcct is a Tx's list of objects a writing command looked up.
type txAcct struct {
	track   bool
	touched []touched
}

type touched struct {
	p      *part
	o      *Object
	keyLen int
}

// SetSizer installs the size model (before any key is stored): the bytes
// key of length keyLen holding o takes.
func (s *Store) SetSizer(fn func(keyLen int, o *Object) int64) { s.ev.sizeOf = fn }

// Used returns the bytes the data set is counted for. It needs no lock.
func (s *Store) Used() int64 { return s.ev.used.Load() }

// TrackWrites makes the Tx re-size, before it unlocks, every object it
// looked up: for commands that may change values in place.
func (tx *Tx) TrackWrites() { tx.acct.track = true }

// account (re)counts o, stored under a key of keyLen bytes in p.
func (s *Store) account(p *part, keyLen int, o *Object) {
	if s.ev.sizeOf == nil {
		return
	}
	u := s.sizeUnits(keyLen, o)
	s.reaccount(p, o.acct, u)
	o.acct = u
}

// sizeUnits is the size of o under a key of keyLen bytes, in 8-byte units.
func (s *Store) sizeUnits(keyLen int, o *Object) uint32 {
	if s.ev.sizeOf == nil {
		return 0
	}
	n := (s.ev.sizeOf(keyLen, o) + 7) / 8
	return uint32(max(1, min(n, math.MaxUint32)))
}

// reaccount changes a key's count in p from was to is (8-byte units).
func (s *Store) reaccount(p *part, was, is uint32) {
	if d := (int64(is) - int64(was)) * 8; d != 0 {
		p.mem.Add(d)
		s.ev.used.Add(d)
	}
}

// unaccount removes o (being deleted from p) from the sum.
func (s *Store) unaccount(p *part, o *Object) {
	if o.acct == 0 {
		return
	}
	d := int64(o.acct) * 8
	o.acct = 0
	p.mem.Add(-d)
	s.ev.used.Add(-d)
}

// noteAccess remembers o for re-sizing when the Tx tracks writes.
func (tx *Tx) noteAccess(p *part, o *Object, keyLen int) {
	if tx.acct.track {
		tx.acct.touched = append(tx.acct.touched, touched{p, o, keyLen})
	}
}

// settle re-sizes the objects a writing Tx looked up (still locked);
// objects removed meanwhile (acct 0) are skipped.
func (tx *Tx) settle() {
	for i, t := range tx.acct.touched {
		if t.o.acct != 0 {
			tx.s.account(t.p, t.keyLen, t.o)
		}
		tx.acct.touched[i] = touched{}
	}
	tx.acct.touched = tx.acct.touched[:0]
}

// forget drops the Tx's pending re-sizes of db's objects: they were flushed.
func (tx *Tx) forget(db int) {
	keep := tx.acct.touched[:0]
	for _, t := range tx.acct.touched {
		if t.p.id/NumParts != db {
			keep = append(keep, t)
		}
	}
	clear(tx.acct.touched[len(keep):])
	tx.acct.touched = keep
}

// Sample offers up to n keys of db to fn, each under its partition's
// lock: keys with a TTL when volatile, else any. It starts at a random
// partition and slot (and Go starts map iteration at random) and walks on
// until it has n keys, so sparse databases are sampled as well as dense
// ones. It reports whether it found any.
func (s *Store) Sample(db int, volatile bool, n int, fn func(key string, o *Object)) bool {
	d := s.dbs[db]
	start := rand.IntN(NumParts)
	seen := 0
	for i := 0; i < NumParts && seen < n; i++ {
		p := &d.parts[(start+i)%NumParts]
		if volatile && p.nvol.Load() == 0 || !volatile && p.nkeys.Load() == 0 {
			continue
		}
		p.mu.Lock()
		seen += p.sample(volatile, n-seen, fn)
		p.mu.Unlock()
	}
	return seen > 0
}

// sample offers up to n keys of p (locked) to fn and returns how many. The
// object of an inline string is a copy valid during the call.
func (p *part) sample(volatile bool, n int, fn func(key string, o *Object)) int {
	seen := 0
	var tmp Object
	if volatile {
		for k := range p.volatile {
			if seen >= n {
				break
			}
			key := []byte(k)
			t := p.slots[slotmap.Slot(key)%SlotsPerPart]
			if pos := t.find(key, keyHash(key)); pos >= 0 {
				_, o := t.entryAt(pos, &tmp)
				fn(k, o)
				seen++
			}
		}
		return seen
	}
	first := rand.IntN(SlotsPerPart)
	for i := 0; i < SlotsPerPart && seen < n; i++ {
		t := p.slots[(first+i)%SlotsPerPart]
		if t.len() == 0 {
			continue
		}
		// Start at a random entry: the first keys of a slot must not be
		// the only ones ever offered.
		start := rand.IntN(len(t.ents))
		for j := range t.ents {
			if seen >= n {
				break
			}
			pos := (start + j) % len(t.ents)
			if t.ents[pos] == 0 {
				continue
			}
			key, o := t.entryAt(pos, &tmp)
			fn(keyString(key), o)
			seen++
		}
	}
	return seen
}

// Evict removes key from db for the eviction loop and calls fn (with the
// key's partition still locked: propagation and notification happen in
// write order). volatile: only if the key still has a TTL. It returns
// whether the key was removed, the bytes it was counted for, and the keys
// that became ready for blocked clients.
func (s *Store) Evict(db int, key string, volatile bool, fn func(db int, key []byte)) (bool, int64, []ReadyKey) {
	kb := []byte(key)
	tx := s.Lock1(db, kb)
	v := tx.DB(db)
	l := v.find(kb)
	var freed int64
	ok := false
	if l.pos >= 0 {
		var tmp Object
		_, o := l.t.entryAt(l.pos, &tmp)
		if ok = !volatile || o.Expire != 0; ok {
			freed = int64(o.acct) * 8
			v.removeKey(&l, kb)
			if fn != nil {
				fn(db, kb)
			}
		}
	}
	return ok, freed, tx.Unlock()
}

// Overhead is the memory of the store's fixed tables (databases and their
// partitions): used_memory_startup.
func (s *Store) Overhead() int64 { return int64(len(s.dbs)) * int64(unsafe.Sizeof(DB{})) }
