package keyspace

import (
	"encoding/binary"
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
	id       int                  // db*NumParts + index: the global lock order
	slots    [SlotsPerPart]*table // nil until a key is stored
	volatile map[string]struct{}  // keys with a TTL, for active expiry
	nkeys    atomic.Int64
	nvol     atomic.Int64
	mem      atomic.Int64 // bytes counted for its keys (evict.go)
	watched  map[string][]*Watch
	waiters  map[string][]*Waiter
	cow      map[*Object]*Frozen // values a running snapshot froze (snapshot.go)
	// demoteQ: objects made from inline records (or stored small) that go
	// back inline at the next sweep (DemoteQueued), not at each unlock: a
	// key written or read again meanwhile is not decoded and re-encoded
	// every time. nq is its length, readable without the lock.
	demoteQ []matEntry
	nq      atomic.Int32
}

// demoteQMax bounds a partition's queue: past it the queue is put back
// inline at once, by the unlocking Tx.
const demoteQMax = 64

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

	// Inline values this Tx looked up as objects, and objects it stored:
	// those small enough go (back) inline when it unlocks.
	mat     []matEntry
	scratch Object // a string being sized (accounting), reused
}

type matEntry struct {
	p   *part
	t   *table
	o   *Object
	key []byte // view of the record's key
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
	if len(tx.mat) > 0 {
		tx.demote()
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

func (tx *Tx) lru() uint32 { return lruAt(tx.Now()) }

// locate returns key's partition and its slot's index in it. Every access
// to a key comes through here, before anything can change it: a running
// snapshot takes the slot's image first.
func (v View) locate(key []byte) (*part, int) {
	slot := v.tx.slot(key)
	p := &v.db.parts[slot/SlotsPerPart]
	if sn := v.tx.s.snap.Load(); sn != nil {
		sn.captureSlot(v.db.ID, p, slot)
	}
	return p, slot % SlotsPerPart
}

// loc is where a key is: its partition and slot table (t is nil while the
// slot is empty), the entry's position in it (-1: absent) and its hash.
type loc struct {
	p   *part
	si  int
	t   *table
	pos int
	h   uint32
}

func (v View) find(key []byte) loc {
	p, si := v.locate(key)
	l := loc{p: p, si: si, t: p.slots[si], h: keyHash(key)}
	l.pos = l.t.find(key, l.h)
	return l
}

// table returns the slot's table, creating it.
func (l *loc) table() *table {
	if l.t == nil {
		l.t = &table{}
		l.p.slots[l.si] = l.t
	}
	return l.t
}

// expired reports whether record r of t is past its TTL.
func (v View) expired(t *table, r *rec) bool {
	exp := t.expireOf(r)
	return exp != 0 && exp <= v.tx.Now()
}

// expireOf is the expire time of the record r.
func (t *table) expireOf(r *rec) int64 {
	if r.isObj() {
		return t.obj(r).Expire
	}
	return r.expire
}

// object returns the object of the entry at l. An inline value becomes an
// object for the rest of the Tx (the caller may change it in place) and
// goes back inline when the Tx unlocks (demote).
func (v View) object(l *loc, r *rec) *Object {
	if r.isObj() {
		return l.t.obj(r)
	}
	o := r.object(new(Object))
	l.t.putObj(l.pos, r, o)
	v.tx.mat = append(v.tx.mat, matEntry{l.p, l.t, o, r.key})
	return o
}

// demote queues the objects the Tx looked up or stored to go back inline
// (DemoteQueued); a partition whose queue is full has it emptied now.
func (tx *Tx) demote() {
	for i, m := range tx.mat {
		tx.mat[i] = matEntry{}
		// (A key touched again before the sweep is queued again: the
		// extra entries find it inline, or not the same object, and
		// are skipped; a full queue is swept at once.)
		p := m.p
		p.demoteQ = append(p.demoteQ, m)
		if len(p.demoteQ) >= demoteQMax {
			p.demoteAll()
		}
		p.nq.Store(int32(len(p.demoteQ)))
	}
	tx.mat = tx.mat[:0]
	if cap(tx.mat) > 1024 {
		tx.mat = nil // a pooled Tx does not keep a whole reload's list
	}
}

// demoteAll puts p's queued objects back inline, those still stored and
// small enough (inlineOf). Callers hold p's lock.
func (p *part) demoteAll() {
	for i, m := range p.demoteQ {
		p.demoteQ[i] = matEntry{}
		kind, val, ok := inlineOf(m.o)
		if !ok {
			continue
		}
		pos := m.t.find(m.key, keyHash(m.key))
		if pos < 0 {
			continue
		}
		r := m.t.recAt(pos)
		if r.isObj() && m.t.obj(&r) == m.o {
			m.t.putInline(pos, &r, kind, val, m.o.Expire, m.o.LRU, m.o.acct)
		}
	}
	p.demoteQ = p.demoteQ[:0]
	p.nq.Store(0)
}

// DemoteQueued puts the objects queued since the last sweep back inline
// (the server's cron runs it), locking each partition that has some.
func (s *Store) DemoteQueued() {
	for _, db := range s.dbs {
		for i := range db.parts {
			p := &db.parts[i]
			if p.nq.Load() == 0 {
				continue
			}
			tx := s.Lock1Part(p)
			p.demoteAll()
			tx.Unlock()
		}
	}
}

// Get returns the live value of key or nil. An expired key is deleted (and
// the deletion reported through OnExpire) unless the store is a replica.
func (v View) Get(key []byte) *Object {
	l := v.find(key)
	if l.pos < 0 {
		return nil
	}
	r := l.t.recAt(l.pos)
	if v.expired(l.t, &r) {
		if !v.tx.s.NoExpire.Load() {
			v.expireKey(&l, key)
		}
		return nil
	}
	o := v.object(&l, &r)
	if o.cow && v.tx.acct.track { // a writing command may change it in place
		thaw(l.p, o)
	}
	v.touch(o)
	v.tx.noteAccess(l.p, o, len(key))
	return o
}

// GetString is Get for reading a string without turning an inline one into
// an object: the value (a view, valid until the key is next written; copy
// it to keep it), the key's type, and whether it exists.
func (v View) GetString(key []byte) ([]byte, Type, bool) {
	l := v.find(key)
	if l.pos < 0 {
		return nil, 0, false
	}
	r := l.t.recAt(l.pos)
	if v.expired(l.t, &r) {
		if !v.tx.s.NoExpire.Load() {
			v.expireKey(&l, key)
		}
		return nil, 0, false
	}
	if r.isObj() {
		o := l.t.obj(&r)
		v.touch(o)
		v.tx.noteAccess(l.p, o, len(key))
		return o.Str, o.Type, true
	}
	binary.LittleEndian.PutUint32(l.t.arena[r.off+1:], v.stamp(r.word))
	if r.kind() != kindStr {
		return nil, r.typeOf(), true
	}
	return r.val, TString, true
}

// Peek is Get without updating the access time (OBJECT IDLETIME, TTL).
func (v View) Peek(key []byte) *Object {
	l := v.find(key)
	if l.pos < 0 {
		return nil
	}
	r := l.t.recAt(l.pos)
	if v.expired(l.t, &r) {
		return nil
	}
	return v.object(&l, &r)
}

func (v View) expireKey(l *loc, key []byte) {
	v.deleteKey(l, key, true)
	if fn := v.tx.s.OnExpire; fn != nil {
		fn(v.db.ID, key)
	}
}

func (v View) removeKey(l *loc, key []byte) { v.deleteKey(l, key, false) }

// deleteKey deletes the entry at l and its accounting and reports the
// change; expiry: it is deleted because it expired.
func (v View) deleteKey(l *loc, key []byte, expiry bool) {
	r := l.t.recAt(l.pos)
	typ, exp := r.typeOf(), r.expire
	if r.isObj() {
		o := l.t.obj(&r)
		typ, exp = o.Type, o.Expire
		v.tx.s.unaccount(l.p, o)
	} else {
		v.tx.s.reaccount(l.p, r.acct, 0)
	}
	if exp != 0 {
		delete(l.p.volatile, string(key))
		l.p.nvol.Add(-1)
	}
	l.t.remove(l.pos)
	l.pos = -1
	l.p.nkeys.Add(-1)
	v.changed(l.p, key, expiry)
	v.streamGone(l.p, key, typ)
}

// streamGone wakes the clients blocked on a stream that was deleted or
// replaced by another type: XREADGROUP answers them with an error.
func (v View) streamGone(p *part, key []byte, was Type) {
	if was == TStream && len(p.waiters[string(key)]) > 0 {
		v.tx.ready = append(v.tx.ready, ReadyKey{DB: v.db.ID, Key: string(key)})
	}
}

// Set stores o under key, replacing any value (and its TTL: o.Expire wins).
// o is the stored object until the Tx unlocks (the caller may go on
// changing it); a short string or small packed collection then moves
// inline.
func (v View) Set(key []byte, o *Object) {
	l := v.find(key)
	if l.pos >= 0 {
		r := l.t.recAt(l.pos)
		if r.isObj() {
			old := l.t.obj(&r)
			v.streamGone(l.p, key, old.Type)
			// Reuse the stored object: callers holding it see the new value.
			wasVolatile := old.Expire != 0
			acct, lru := old.acct, old.LRU
			*old = *o
			old.acct = acct
			if v.tx.s.ev.lfu.Load() {
				old.LRU = lru // Redis's dbOverwrite keeps the LFU counter
			}
			v.fixVolatile(l.p, key, wasVolatile, o.Expire != 0)
			v.tx.s.account(l.p, len(key), old)
			v.tx.mat = append(v.tx.mat, matEntry{l.p, l.t, old, r.key})
		} else {
			o.acct = r.acct
			if v.tx.s.ev.lfu.Load() {
				o.LRU = r.word
			}
			l.t.putObj(l.pos, &r, o)
			v.fixVolatile(l.p, key, r.expire != 0, o.Expire != 0)
			v.tx.s.account(l.p, len(key), o)
			v.tx.mat = append(v.tx.mat, matEntry{l.p, l.t, o, r.key})
		}
	} else {
		if v.tx.s.ev.lfu.Load() {
			o.LRU = v.newStamp()
		}
		off := l.table().insert(key, l.h, o, nil, 0, 0, 0)
		l.p.nkeys.Add(1)
		v.fixVolatile(l.p, key, false, o.Expire != 0)
		o.acct = 0 // a copy of a stored object (RENAME, MOVE) carries its count
		v.tx.s.account(l.p, len(key), o)
		// Checked at unlock: a new collection is often filled after Set.
		v.tx.mat = append(v.tx.mat, matEntry{l.p, l.t, o, l.t.keyAt(off)})
		if fn := v.tx.s.OnNew; fn != nil {
			fn(v.db.ID, key)
		}
	}
	v.touched(l.p, key)
}

// Load stores o, read from an RDB file or a DUMP payload, under key: a
// short string goes inline at once (the caller does not change o later).
func (v View) Load(key []byte, o *Object) {
	if kind, _, ok := inlineOf(o); !ok || kind != kindStr {
		v.Set(key, o)
		return
	}
	v.SetString(key, o.Str, o.Expire, false) // stamped now, as Set stamps a new key
}

// SetString stores a string value (copied), keeping the TTL if keepTTL.
func (v View) SetString(key, val []byte, expire int64, keepTTL bool) {
	l := v.find(key)
	var r rec
	if l.pos >= 0 {
		r = l.t.recAt(l.pos)
		if v.expired(l.t, &r) {
			// An expired value's TTL must not be kept. It expires as a
			// lookup would expire it (its event, its DEL), so a writer
			// need not look the key up first; a replica, which never
			// expires keys itself, just replaces it.
			if v.tx.s.NoExpire.Load() {
				v.removeKey(&l, key)
			} else {
				v.expireKey(&l, key)
			}
		}
	}
	s := v.tx.s
	if l.pos < 0 {
		if len(val) <= inlineMax {
			acct := v.inlineAcct(len(key), val, expire)
			l.table().insert(key, l.h, nil, val, expire, v.newStamp(), acct)
			s.reaccount(l.p, 0, acct)
		} else {
			o := &Object{Type: TString, Str: append([]byte(nil), val...), Expire: expire, LRU: v.newStamp()}
			l.table().insert(key, l.h, o, nil, 0, 0, 0)
			s.account(l.p, len(key), o)
		}
		l.p.nkeys.Add(1)
		v.fixVolatile(l.p, key, false, expire != 0)
		if fn := s.OnNew; fn != nil {
			fn(v.db.ID, key)
		}
		v.touched(l.p, key)
		return
	}
	var old *Object
	wasExpire, lru, acct := r.expire, r.word, r.acct
	if r.isObj() {
		old = l.t.obj(&r)
		v.streamGone(l.p, key, old.Type)
		wasExpire, lru, acct = old.Expire, old.LRU, old.acct
	}
	if keepTTL {
		expire = wasExpire
	}
	lru = v.stamp(lru)
	switch {
	case len(val) <= inlineMax:
		n := v.inlineAcct(len(key), val, expire)
		s.reaccount(l.p, acct, n)
		if old != nil {
			old.acct = 0 // no longer stored: a later settle skips it
		}
		l.t.putInline(l.pos, &r, kindStr, val, expire, lru, n)
	case old != nil:
		// (not over a frozen string's bytes: a snapshot is writing them)
		if old.Type == TString && !old.cow && cap(old.Str) >= len(val) && cap(old.Str) <= 2*len(val)+16 {
			old.Str = append(old.Str[:0], val...)
		} else {
			old.Str = append([]byte(nil), val...)
		}
		old.Type, old.Val, old.Expire, old.LRU = TString, nil, expire, lru
		s.account(l.p, len(key), old)
	default:
		o := &Object{Type: TString, Str: append([]byte(nil), val...), Expire: expire, LRU: lru, acct: acct}
		l.t.putObj(l.pos, &r, o)
		s.account(l.p, len(key), o)
	}
	v.fixVolatile(l.p, key, wasExpire != 0, expire != 0)
	v.touched(l.p, key)
}

// inlineAcct is the accounted size (in 8-byte units) of an inline string.
func (v View) inlineAcct(keyLen int, val []byte, expire int64) uint32 {
	o := &v.tx.scratch
	*o = Object{Type: TString, Str: val[:len(val):len(val)], Expire: expire} // sized as stored: no spare capacity
	n := v.tx.s.sizeUnits(keyLen, o)
	*o = Object{}
	return n
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
	l := v.find(key)
	if l.pos < 0 {
		return false
	}
	r := l.t.recAt(l.pos)
	if v.expired(l.t, &r) && !v.tx.s.NoExpire.Load() {
		v.expireKey(&l, key)
		return false
	}
	v.removeKey(&l, key)
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
		if l := v.find(key); l.pos >= 0 {
			v.removeKey(&l, key)
		}
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
			key := []byte(k)
			t := p.slots[slotmap.Slot(key)%SlotsPerPart]
			pos := t.find(key, keyHash(key))
			if pos < 0 {
				continue
			}
			if r := t.recAt(pos); v.expired(t, &r) {
				continue
			}
			for _, w := range ws {
				w.Dirty.Store(true)
			}
		}
		for s := range p.slots {
			p.slots[s] = nil
		}
		clear(p.demoteQ) // their tables are gone
		p.demoteQ = p.demoteQ[:0]
		p.nq.Store(0)
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
		a.cow, b.cow = b.cow, a.cow                 // a writer thaws through its own part
		a.demoteQ, b.demoteQ = b.demoteQ, a.demoteQ // entries follow their tables
		aq, bq := a.nq.Load(), b.nq.Load()
		a.nq.Store(bq)
		b.nq.Store(aq)
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
// them for a LockAll Tx); fn returns false to stop. key is a view of the
// stored key; o, for an inline string, a copy valid during the call only.
func (v View) Each(fn func(key string, o *Object) bool) {
	for i := range v.db.parts {
		if !v.eachInPart(i, fn) {
			return
		}
	}
}

func (v View) eachInPart(i int, fn func(key string, o *Object) bool) bool {
	p := &v.db.parts[i]
	var tmp Object
	for _, t := range p.slots {
		if !t.eachLive(v.tx.Now(), &tmp, func(k []byte, o *Object) bool { return fn(keyString(k), o) }) {
			return false
		}
	}
	return true
}

// eachLive calls fn with every key not expired at now and its object (an
// inline string's in tmp, overwritten at each call) until fn returns false.
func (t *table) eachLive(now int64, tmp *Object, fn func(key []byte, o *Object) bool) bool {
	return t.each(func(pos int) bool {
		key, o := t.entryAt(pos, tmp)
		if o.Expire != 0 && o.Expire <= now {
			return true
		}
		return fn(key, o)
	})
}

// SlotKeys returns up to count live keys of a slot (needs the slot's
// partition locked, e.g. via LockSlot).
func (v View) SlotKeys(slot, count int) []string {
	t := v.db.parts[slot/SlotsPerPart].slots[slot%SlotsPerPart]
	var out []string
	var tmp Object
	t.eachLive(v.tx.Now(), &tmp, func(k []byte, _ *Object) bool {
		if count >= 0 && len(out) >= count {
			return false
		}
		out = append(out, keyString(k))
		return true
	})
	return out
}

// SlotLen returns the number of keys stored in a slot.
func (v View) SlotLen(slot int) int {
	return v.db.parts[slot/SlotsPerPart].slots[slot%SlotsPerPart].len()
}

// IsExpired reports whether key is stored but logically expired.
func (v View) IsExpired(key []byte) bool {
	l := v.find(key)
	if l.pos < 0 {
		return false
	}
	r := l.t.recAt(l.pos)
	return v.expired(l.t, &r)
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
