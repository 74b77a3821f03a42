package keyspace

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/slotmap"
)

// The keyspace of each database is cut into partitions of consecutive hash
// slots, each with its own lock, so commands on different keys rarely contend
// and a slot's keys can be listed or moved without scanning everything.
const (
	SlotsPerPart = 64
	NumParts     = slotmap.NumSlots / SlotsPerPart
)

// Store is the whole data set: a fixed number of databases.
type Store struct {
	dbs []*DB

	// OnExpire is called (with the key's partition locked) when a key is
	// deleted because its TTL passed, so the deletion can be propagated.
	OnExpire func(db int, key []byte)

	// OnNew, when set, is called (with the key's partition locked) when a
	// key is added that did not exist, for the "new" keyspace event.
	OnNew func(db int, key []byte)

	// OnTouch, when set, is called (with the key's partition locked) for
	// every modification of a key, where WATCH is invalidated: Redis's
	// signalModifiedKey, for client-side caching. owner is the Tx's owner
	// (SetOwner), 0 for the server's own work (active expiry).
	OnTouch func(owner int64, key []byte)

	// NoExpire makes lookups hide expired keys without deleting them: a
	// replica waits for its master's DEL, as in Redis.
	NoExpire atomic.Bool

	txPool       sync.Pool
	expireCursor atomic.Int64
	snap         atomic.Pointer[Snapshot]
	ev           evictState // accounting and LRU/LFU mode (evict.go, lfu.go)
}

// DB is one numbered database.
type DB struct {
	ID    int
	parts [NumParts]part
}

// part is one partition: the keys of SlotsPerPart consecutive slots.
type part struct {
	mu       sync.Mutex
	id       int // db*NumParts + index: the global lock order
	slots    [SlotsPerPart]map[string]*Object
	volatile map[string]struct{} // keys with a TTL, for active expiry
	nkeys    atomic.Int64
	nvol     atomic.Int64
	mem      atomic.Int64 // bytes counted for its keys (evict.go)
	watched  map[string][]*Watch
	waiters  map[string][]*Waiter
}

// New returns a store with n empty databases.
func New(n int) *Store {
	s := &Store{dbs: make([]*DB, n)}
	for i := range s.dbs {
		db := &DB{ID: i}
		for p := range db.parts {
			db.parts[p].id = i*NumParts + p
		}
		s.dbs[i] = db
	}
	s.txPool.New = func() any { return &Tx{s: s} }
	return s
}

// NumDBs returns the number of databases.
func (s *Store) NumDBs() int { return len(s.dbs) }

// Key names one key in one database.
type Key struct {
	DB  int
	Key []byte
}

// ReadyKey is a list or sorted-set key that received elements while clients
// were blocked on it.
type ReadyKey struct {
	DB  int
	Key string
}

// Tx holds the partition locks of one command (or one EXEC) and the command's
// clock: expiry is judged against one instant for the whole command.
type Tx struct {
	s     *Store
	parts []*part
	now   int64 // unix ms; 0 until first needed

	// Slots of the keys looked up recently: a command locks, then reads,
	// the same arguments, so each key's CRC16 is computed once.
	slotCache [16]slotEntry
	slotNext  int
	ready     []ReadyKey
	owner     int64
	acct      txAcct // objects to re-size before unlocking (evict.go)
}

// SetOwner names the client whose command runs under tx (OnTouch's owner).
func (tx *Tx) SetOwner(id int64) { tx.owner = id }

func (s *Store) partOf(tx *Tx, db int, key []byte) *part {
	slot := tx.slot(key)
	return &s.dbs[db].parts[slot/SlotsPerPart]
}

func (s *Store) newTx() *Tx {
	tx := s.txPool.Get().(*Tx)
	return tx
}

// Lock locks the partitions of keys in the global order and returns the Tx.
func (s *Store) Lock(keys []Key) *Tx {
	tx := s.newTx()
	for _, k := range keys {
		p := s.partOf(tx, k.DB, k.Key)
		if !slices.Contains(tx.parts, p) {
			tx.parts = append(tx.parts, p)
		}
	}
	if len(tx.parts) > 1 {
		slices.SortFunc(tx.parts, func(a, b *part) int { return a.id - b.id })
	}
	lockParts(tx.parts)
	return tx
}

// lockParts locks parts (sorted) without ever waiting while holding one:
// when a partition is busy it releases what it took, waits for that one
// alone, then starts again. A running script may extend its locks out of
// order (Extend); since nobody else holds a partition while waiting for
// another, that cannot deadlock.
func lockParts(parts []*part) {
	if len(parts) == 1 {
		parts[0].mu.Lock()
		return
	}
	for {
		busy := -1
		for i, p := range parts {
			if !p.mu.TryLock() {
				busy = i
				break
			}
		}
		if busy < 0 {
			return
		}
		for i := busy - 1; i >= 0; i-- {
			parts[i].mu.Unlock()
		}
		parts[busy].mu.Lock()
		parts[busy].mu.Unlock()
	}
}

// Holds reports whether tx holds the partition of key in database db.
func (tx *Tx) Holds(db int, key []byte) bool {
	return slices.Contains(tx.parts, tx.s.partOf(tx, db, key))
}

// Extend adds the partitions of keys (whole databases for dbs) to a held
// Tx, waiting for them while holding the others. Only one Tx at a time may
// extend (the caller serializes, as scripts are): every other locker takes
// its partitions without holding any while it waits (lockParts), so the
// extender cannot be part of a wait cycle.
func (tx *Tx) Extend(keys []Key, dbs ...int) {
	for _, d := range dbs {
		for i := range tx.s.dbs[d].parts {
			tx.extendPart(&tx.s.dbs[d].parts[i])
		}
	}
	for _, k := range keys {
		tx.extendPart(tx.s.partOf(tx, k.DB, k.Key))
	}
}

func (tx *Tx) extendPart(p *part) {
	if slices.Contains(tx.parts, p) {
		return
	}
	p.mu.Lock()
	tx.parts = append(tx.parts, p)
}

// Lock1 locks the partition of a single key (the common case, no allocation).
func (s *Store) Lock1(db int, key []byte) *Tx {
	tx := s.newTx()
	p := s.partOf(tx, db, key)
	tx.parts = append(tx.parts, p)
	s.lockPart(p)
	return tx
}

// LockAll locks every partition of the given databases (all when none given):
// for commands that see a whole database at once (KEYS, FLUSHDB, SWAPDB).
func (s *Store) LockAll(dbs ...int) *Tx {
	tx := s.newTx()
	if len(dbs) == 0 {
		for i := range s.dbs {
			dbs = append(dbs, i)
		}
	}
	dbs = slices.Clone(dbs)
	slices.Sort(dbs)
	dbs = slices.Compact(dbs)
	for _, d := range dbs {
		for i := range s.dbs[d].parts {
			tx.parts = append(tx.parts, &s.dbs[d].parts[i])
		}
	}
	lockParts(tx.parts)
	return tx
}

// Unlock releases the locks and returns the keys that became ready for
// blocked clients; the Tx must not be used afterwards.
func (tx *Tx) Unlock() []ReadyKey {
	if tx.acct.track {
		tx.settle()
		tx.acct.track = false
	}
	for i := len(tx.parts) - 1; i >= 0; i-- {
		tx.parts[i].mu.Unlock()
	}
	ready := tx.ready
	clear(tx.parts)
	tx.parts = tx.parts[:0]
	tx.ready = nil
	tx.now = 0
	tx.owner = 0
	clear(tx.slotCache[:])
	tx.slotNext = 0
	tx.s.txPool.Put(tx)
	return ready
}

// DB returns a view of database i through this Tx.
func (tx *Tx) DB(i int) View { return View{tx: tx, db: tx.s.dbs[i]} }

// View is one database seen through a Tx: every key it touches must belong
// to a partition the Tx holds, and a key slice must not be modified while
// the Tx is held (its slot is cached by address).
type View struct {
	tx *Tx
	db *DB
}

// ID returns the database number.
func (v View) ID() int { return v.db.ID }

// Now returns the command's clock in unix ms.
func (v View) Now() int64 { return v.tx.Now() }

// Now returns the Tx's clock (unix ms), read once per Tx.
func (tx *Tx) Now() int64 {
	if tx.now == 0 {
		tx.now = time.Now().UnixMilli()
	}
	return tx.now
}

// SetNow fixes the Tx's clock to ms (the dispatcher's command start time).
func (tx *Tx) SetNow(ms int64) { tx.now = ms }

func (tx *Tx) lru() uint32 { return uint32((tx.Now() - startMs) / (1000 / LRUTicksPerSecond)) }

func (v View) locate(key []byte) (*part, *map[string]*Object) {
	slot := v.tx.slot(key)
	p := &v.db.parts[slot/SlotsPerPart]
	// Every access to a key comes through here, before anything can change
	// it: a running snapshot takes the slot's image first.
	if sn := v.tx.s.snap.Load(); sn != nil {
		sn.captureSlot(v.db.ID, p, slot)
	}
	return p, &p.slots[slot%SlotsPerPart]
}

// Get returns the live value of key or nil. An expired key is deleted (and
// the deletion reported through OnExpire) unless the store is a replica.
func (v View) Get(key []byte) *Object {
	p, m := v.locate(key)
	o := (*m)[string(key)]
	if o == nil {
		return nil
	}
	if o.Expire != 0 && o.Expire <= v.tx.Now() {
		if !v.tx.s.NoExpire.Load() {
			v.expireKey(p, *m, key)
		}
		return nil
	}
	v.touch(o)
	v.tx.noteAccess(p, o, len(key))
	return o
}

// Peek is Get without updating the access time (OBJECT IDLETIME, TTL).
func (v View) Peek(key []byte) *Object {
	_, m := v.locate(key)
	o := (*m)[string(key)]
	if o == nil || o.Expire != 0 && o.Expire <= v.tx.Now() {
		return nil
	}
	return o
}

func (v View) expireKey(p *part, m map[string]*Object, key []byte) {
	v.deleteKey(p, m, key, true)
	if fn := v.tx.s.OnExpire; fn != nil {
		fn(v.db.ID, key)
	}
}

func (v View) removeKey(p *part, m map[string]*Object, key []byte) { v.deleteKey(p, m, key, false) }

// deleteKey deletes key from m and its accounting and reports the change;
// expiry: it is deleted because it expired.
func (v View) deleteKey(p *part, m map[string]*Object, key []byte, expiry bool) {
	o := m[string(key)]
	if o == nil {
		return
	}
	if o.Expire != 0 {
		delete(p.volatile, string(key))
		p.nvol.Add(-1)
	}
	delete(m, string(key))
	p.nkeys.Add(-1)
	v.tx.s.unaccount(p, o)
	v.changed(p, key, expiry)
	v.streamGone(p, key, o.Type)
}

// streamGone wakes the clients blocked on a stream that was deleted or
// replaced by another type: XREADGROUP answers them with an error.
func (v View) streamGone(p *part, key []byte, was Type) {
	if was == TStream && len(p.waiters[string(key)]) > 0 {
		v.tx.ready = append(v.tx.ready, ReadyKey{DB: v.db.ID, Key: string(key)})
	}
}

// Set stores o under key, replacing any value (and its TTL: o.Expire wins).
func (v View) Set(key []byte, o *Object) {
	p, m := v.locate(key)
	if *m == nil {
		*m = make(map[string]*Object)
	}
	old := (*m)[string(key)]
	if old != nil {
		v.streamGone(p, key, old.Type)
		// Reuse the stored object so the map key is not reallocated.
		wasVolatile := old.Expire != 0
		acct, lru := old.acct, old.LRU
		*old = *o
		old.acct = acct
		if v.tx.s.ev.lfu.Load() {
			old.LRU = lru // Redis's dbOverwrite keeps the LFU counter
		}
		v.fixVolatile(p, key, wasVolatile, o.Expire != 0)
		v.tx.s.account(p, len(key), old)
	} else {
		if v.tx.s.ev.lfu.Load() {
			o.LRU = v.newStamp()
		}
		(*m)[string(key)] = o
		p.nkeys.Add(1)
		v.fixVolatile(p, key, false, o.Expire != 0)
		o.acct = 0 // a copy of a stored object (RENAME, MOVE) carries its count
		v.tx.s.account(p, len(key), o)
		if fn := v.tx.s.OnNew; fn != nil {
			fn(v.db.ID, key)
		}
	}
	v.touched(p, key)
}

// SetString stores a string value (copied), keeping the TTL if keepTTL.
func (v View) SetString(key, val []byte, expire int64, keepTTL bool) {
	p, m := v.locate(key)
	if *m == nil {
		*m = make(map[string]*Object)
	}
	old := (*m)[string(key)]
	if old != nil && old.Expire != 0 && old.Expire <= v.tx.Now() {
		v.removeKey(p, *m, key) // an expired value's TTL must not be kept
		old = nil
	}
	if old == nil {
		o := &Object{Type: TString, Str: append([]byte(nil), val...), Expire: expire, LRU: v.newStamp()}
		(*m)[string(key)] = o
		p.nkeys.Add(1)
		v.fixVolatile(p, key, false, expire != 0)
		v.tx.s.account(p, len(key), o)
		if fn := v.tx.s.OnNew; fn != nil {
			fn(v.db.ID, key)
		}
	} else {
		v.streamGone(p, key, old.Type)
		wasVolatile := old.Expire != 0
		if old.Type == TString && cap(old.Str) >= len(val) && cap(old.Str) <= 2*len(val)+16 {
			old.Str = append(old.Str[:0], val...)
		} else {
			old.Str = append([]byte(nil), val...)
		}
		old.Type, old.Val = TString, nil
		v.touch(old)
		if !keepTTL {
			old.Expire = expire
		}
		v.fixVolatile(p, key, wasVolatile, old.Expire != 0)
		v.tx.s.account(p, len(key), old)
	}
	v.touched(p, key)
}

func (v View) fixVolatile(p *part, key []byte, was, is bool) {
	switch {
	case is && !was:
		if p.volatile == nil {
			p.volatile = make(map[string]struct{})
		}
		p.volatile[string(key)] = struct{}{}
		p.nvol.Add(1)
	case was && !is:
		delete(p.volatile, string(key))
		p.nvol.Add(-1)
	}
}

// Delete removes key; it reports whether a live key was removed. On a
// replica a key past its TTL is still there, waiting for its master's DEL:
// that DEL removes it and counts, as Redis's dbSyncDelete after
// expireIfNeeded (a replica never expires on its own).
func (v View) Delete(key []byte) bool {
	if v.Get(key) == nil {
		if !v.tx.s.NoExpire.Load() {
			return false
		}
		p, m := v.locate(key)
		if (*m)[string(key)] == nil {
			return false
		}
		v.removeKey(p, *m, key)
		return true
	}
	p, m := v.locate(key)
	v.removeKey(p, *m, key)
	return true
}

// SetExpire sets (at > 0) or removes (at == 0) the TTL of an existing key.
func (v View) SetExpire(key []byte, at int64) bool {
	o := v.Get(key)
	if o == nil {
		return false
	}
	p, _ := v.locate(key)
	was := o.Expire != 0
	o.Expire = at
	v.fixVolatile(p, key, was, at != 0)
	v.touched(p, key)
	return true
}

// touched reports a modification of key: WATCH and client-side caching.
func (v View) touched(p *part, key []byte) { v.changed(p, key, false) }

// changed is touched; expiry: the key was deleted because it expired.
func (v View) changed(p *part, key []byte, expiry bool) {
	touchWatched(p, v.db.ID, key, expiry)
	if fn := v.tx.s.OnTouch; fn != nil {
		fn(v.tx.owner, key)
	}
}

// Touch records that key was modified in place (invalidates WATCH).
func (v View) Touch(key []byte) {
	p, _ := v.locate(key)
	v.touched(p, key)
}

// DeleteIfEmpty removes a collection key that has no elements left, as Redis
// never keeps empty collections.
func (v View) DeleteIfEmpty(key []byte, o *Object) {
	if o.Type != TString && o.Len() == 0 {
		p, m := v.locate(key)
		v.removeKey(p, *m, key)
	}
}

// Signal marks key as having received elements, waking blocked clients once
// the Tx is released.
func (v View) Signal(key []byte) {
	p, _ := v.locate(key)
	if len(p.waiters[string(key)]) > 0 {
		v.tx.ready = append(v.tx.ready, ReadyKey{DB: v.db.ID, Key: string(key)})
	}
}

// Len returns the number of keys (including expired ones not yet reclaimed,
// as Redis's DBSIZE does). It needs no lock.
func (db *DB) Len() int64 {
	var n int64
	for i := range db.parts {
		n += db.parts[i].nkeys.Load()
	}
	return n
}

// Volatile returns the number of keys with a TTL. It needs no lock.
func (db *DB) Volatile() int64 {
	var n int64
	for i := range db.parts {
		n += db.parts[i].nvol.Load()
	}
	return n
}

// DB returns database i (for lock-free counters).
func (s *Store) DB(i int) *DB { return s.dbs[i] }

// Flush empties the database; the Tx must hold all its partitions.
func (v View) Flush() {
	v.tx.forget(v.db.ID)
	if sn := v.tx.s.snap.Load(); sn != nil {
		sn.captureAll(v.db)
	}
	for i := range v.db.parts {
		p := &v.db.parts[i]
		// Redis 7 invalidates only the WATCHes of keys the flush removed
		// (touchAllWatchedKeysInDb): a watched key that did not exist, or
		// had expired, is still missing afterwards.
		for k, ws := range p.watched {
			o := p.slots[slotmap.Slot([]byte(k))%SlotsPerPart][k]
			if o == nil || o.Expire != 0 && o.Expire <= v.tx.Now() {
				continue
			}
			for _, w := range ws {
				w.Dirty.Store(true)
			}
		}
		for s := range p.slots {
			p.slots[s] = nil
		}
		p.volatile = nil
		p.nkeys.Store(0)
		p.nvol.Store(0)
		v.tx.s.ev.used.Add(-p.mem.Swap(0))
		// Clients blocked on a stream that went get an error (XREADGROUP).
		for k := range p.waiters {
			v.tx.ready = append(v.tx.ready, ReadyKey{DB: v.db.ID, Key: k})
		}
	}
}

// Swap exchanges the contents of two databases (SWAPDB); the Tx must hold all
// partitions of both. Clients blocked on either database are re-checked.
func (v View) Swap(o View) {
	v.tx.settle() // counted in the parts the objects leave
	if sn := v.tx.s.snap.Load(); sn != nil {
		sn.captureAll(v.db)
		sn.captureAll(o.db)
	}
	for i := range v.db.parts {
		a, b := &v.db.parts[i], &o.db.parts[i]
		a.slots, b.slots = b.slots, a.slots
		a.volatile, b.volatile = b.volatile, a.volatile
		an, bn := a.nkeys.Load(), b.nkeys.Load()
		a.nkeys.Store(bn)
		b.nkeys.Store(an)
		an, bn = a.nvol.Load(), b.nvol.Load()
		a.nvol.Store(bn)
		b.nvol.Store(an)
		an, bn = a.mem.Load(), b.mem.Load()
		a.mem.Store(bn)
		b.mem.Store(an)
		for _, p := range []*part{a, b} {
			for _, ws := range p.watched {
				for _, w := range ws {
					w.Dirty.Store(true)
				}
			}
			for k := range p.waiters {
				v.tx.ready = append(v.tx.ready, ReadyKey{DB: p.id / NumParts, Key: k})
			}
		}
	}
}

// Each calls fn for every live key of the view's locked partitions (all of
// them for a LockAll Tx); fn returns false to stop.
func (v View) Each(fn func(key string, o *Object) bool) {
	for i := range v.db.parts {
		if !v.eachInPart(i, fn) {
			return
		}
	}
}

func (v View) eachInPart(i int, fn func(key string, o *Object) bool) bool {
	p := &v.db.parts[i]
	for s := range p.slots {
		for k, o := range p.slots[s] {
			if o.Expire != 0 && o.Expire <= v.tx.Now() {
				continue
			}
			if !fn(k, o) {
				return false
			}
		}
	}
	return true
}

// SlotKeys returns up to count live keys of a slot (needs the slot's
// partition locked, e.g. via LockSlot).
func (v View) SlotKeys(slot, count int) []string {
	m := v.db.parts[slot/SlotsPerPart].slots[slot%SlotsPerPart]
	var out []string
	for k, o := range m {
		if count >= 0 && len(out) >= count {
			break
		}
		if o.Expire != 0 && o.Expire <= v.tx.Now() {
			continue
		}
		out = append(out, k)
	}
	return out
}

// SlotLen returns the number of keys stored in a slot.
func (v View) SlotLen(slot int) int {
	return len(v.db.parts[slot/SlotsPerPart].slots[slot%SlotsPerPart])
}

// IsExpired reports whether key is stored but logically expired.
func (v View) IsExpired(key []byte) bool {
	_, m := v.locate(key)
	o := (*m)[string(key)]
	return o != nil && o.Expire != 0 && o.Expire <= v.tx.Now()
}

type slotEntry struct {
	key  *byte
	len  int
	slot int
}

// slot returns key's hash slot, reusing an earlier result for the same
// slice (same backing array and length: arguments are not modified while a
// command runs).
func (tx *Tx) slot(key []byte) int {
	if len(key) == 0 {
		return slotmap.Slot(key)
	}
	p := &key[0]
	for i := range tx.slotCache {
		if e := &tx.slotCache[i]; e.key == p && e.len == len(key) {
			return e.slot
		}
	}
	s := slotmap.Slot(key)
	tx.slotCache[tx.slotNext] = slotEntry{p, len(key), s}
	tx.slotNext = (tx.slotNext + 1) % len(tx.slotCache)
	return s
}
