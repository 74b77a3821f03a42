package keyspace

import (
	"sync"
	"sync/atomic"
	"time"
)

// Watch is one client's WATCH: any write to a watched key sets Dirty.
type Watch struct {
	Dirty atomic.Bool

	// expired holds the watched keys that had already expired (but were
	// still stored) when watched: their deletion by expiry is no change
	// (Redis 7's watchedKey.expired). Guarded by mu: the keys live in
	// different partitions, each locked on its own.
	mu      sync.Mutex
	expired map[watchKey]bool
}

type watchKey struct {
	db  int
	key string
}

// AddWatch registers w on key.
func (v View) AddWatch(key []byte, w *Watch) {
	p, _ := v.locate(key)
	if p.watched == nil {
		p.watched = make(map[string][]*Watch)
	}
	p.watched[string(key)] = append(p.watched[string(key)], w)
	if v.IsExpired(key) {
		w.mu.Lock()
		if w.expired == nil {
			w.expired = map[watchKey]bool{}
		}
		w.expired[watchKey{v.db.ID, string(key)}] = true
		w.mu.Unlock()
	}
}

// RemoveWatch unregisters w from key.
func (v View) RemoveWatch(key []byte, w *Watch) {
	w.mu.Lock()
	delete(w.expired, watchKey{v.db.ID, string(key)})
	w.mu.Unlock()
	p, _ := v.locate(key)
	ws := p.watched[string(key)]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(p.watched, string(key))
	} else {
		p.watched[string(key)] = ws
	}
}

// touchWatched dirties the WATCHes of key (of database db). expiry: the
// key was deleted because it expired, which a WATCH made when it had
// already expired does not count as a change (from then on the key counts
// as absent, as in Redis's touchWatchedKey).
func touchWatched(p *part, db int, key []byte, expiry bool) {
	if len(p.watched) == 0 {
		return
	}
	wk := watchKey{db, string(key)}
	for _, w := range p.watched[string(key)] {
		if expiry {
			w.mu.Lock()
			was := w.expired[wk]
			delete(w.expired, wk)
			w.mu.Unlock()
			if was {
				continue
			}
		}
		w.Dirty.Store(true)
	}
}

// Waiter is a client blocked on keys (BLPOP and friends). Whoever moves its
// state out of waiting owns it: the server that serves it, or the client that
// gives up on timeout.
type Waiter struct {
	state atomic.Int32
	Data  any // the blocked command's description, for whoever serves it
}

const (
	waiting int32 = iota
	served
	cancelled
)

// Claim marks w as served; false if it was already served or cancelled.
func (w *Waiter) Claim() bool { return w.state.CompareAndSwap(waiting, served) }

// Cancel marks w as given up; false if it was served first.
func (w *Waiter) Cancel() bool { return w.state.CompareAndSwap(waiting, cancelled) }

// Served reports whether a server claimed w.
func (w *Waiter) Served() bool { return w.state.Load() == served }

// Waiting reports whether w is still blocked.
func (w *Waiter) Waiting() bool { return w.state.Load() == waiting }

// AddWaiter queues w on key (FIFO).
func (v View) AddWaiter(key []byte, w *Waiter) {
	p, _ := v.locate(key)
	if p.waiters == nil {
		p.waiters = make(map[string][]*Waiter)
	}
	p.waiters[string(key)] = append(p.waiters[string(key)], w)
}

// RemoveWaiter drops w from key's queue.
func (v View) RemoveWaiter(key []byte, w *Waiter) {
	p, _ := v.locate(key)
	ws := p.waiters[string(key)]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(p.waiters, string(key))
	} else {
		p.waiters[string(key)] = ws
	}
}

// FirstWaiter returns the oldest still-waiting client blocked on key,
// discarding ones that were served elsewhere or gave up.
func (v View) FirstWaiter(key []byte) *Waiter {
	p, _ := v.locate(key)
	ws := p.waiters[string(key)]
	for len(ws) > 0 && !ws[0].Waiting() {
		ws = ws[1:]
	}
	if len(ws) == 0 {
		delete(p.waiters, string(key))
		return nil
	}
	p.waiters[string(key)] = ws
	return ws[0]
}

// ActiveExpire reclaims expired keys like Redis's active expire cycle: sample
// keys with a TTL in each partition, delete the expired ones, and sample the
// same partition again while more than a quarter were expired, until budget
// is spent. It resumes next time where it stopped. Returns keys deleted.
func (s *Store) ActiveExpire(budget time.Duration) int {
	if s.NoExpire.Load() {
		return 0
	}
	start := time.Now()
	deleted := 0
	total := len(s.dbs) * NumParts
	for n := 0; n < total; n++ {
		idx := int(s.expireCursor.Add(1)-1) % total
		db, pi := idx/NumParts, idx%NumParts
		p := &s.dbs[db].parts[pi]
		if p.nvol.Load() == 0 {
			continue
		}
		tx := s.Lock1Part(p)
		v := tx.DB(db)
		for {
			sampled, expired := 0, 0
			for k := range p.volatile {
				if sampled == 20 {
					break
				}
				sampled++
				key := []byte(k)
				if l := v.find(key); l.pos >= 0 {
					if r := l.t.recAt(l.pos); v.expired(l.t, &r) {
						v.expireKey(&l, key)
						expired++
					}
				}
			}
			deleted += expired
			if sampled == 0 || expired*4 <= sampled || time.Since(start) > budget {
				break
			}
		}
		tx.Unlock()
		if time.Since(start) > budget {
			break
		}
	}
	return deleted
}

// Lock1Part locks one partition directly (active expiry).
func (s *Store) Lock1Part(p *part) *Tx {
	tx := s.newTx()
	tx.parts = append(tx.parts, p)
	s.lockPart(p)
	return tx
}

// FirstReadyWaiter is FirstWaiter for queues whose clients wait for
// different things (XREAD after different IDs): the oldest still-waiting
// client for which ok holds, or nil.
func (v View) FirstReadyWaiter(key []byte, ok func(*Waiter) bool) *Waiter {
	first := v.FirstWaiter(key)
	if first == nil || ok(first) {
		return first
	}
	p, _ := v.locate(key)
	for _, w := range p.waiters[string(key)] {
		if w.Waiting() && ok(w) {
			return w
		}
	}
	return nil
}

// LockSlot locks the partition holding slot of db (slot-wide work:
// listing or counting a slot's keys).
func (s *Store) LockSlot(db, slot int) *Tx {
	return s.Lock1Part(&s.dbs[db].parts[slot/SlotsPerPart])
}
