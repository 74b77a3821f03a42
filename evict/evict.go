package evict

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

// Config is the eviction configuration (the maxmemory-* directives).
type Config struct {
	MaxMemory int64 // bytes; 0: no limit
	Policy    Policy
	Samples   int // maxmemory-samples
	Tenacity  int // maxmemory-eviction-tenacity
	LFUDecay  int // lfu-decay-time, minutes
}

// Result is what Perform achieved, as Redis's EVICT_OK / RUNNING / FAIL.
type Result int

const (
	OK      Result = iota // under the limit (or no limit)
	Running               // over, still evicting in the background
	Fail                  // over, and nothing (more) can be evicted
)

// poolSize is Redis's EVPOOL_SIZE.
const poolSize = 16

type entry struct {
	score uint64
	db    int
	key   string
}

// Store is what the evictor needs of the keyspace.
type Store interface {
	NumDBs() int
	DB(i int) *keyspace.DB
	Sample(db int, volatile bool, n int, fn func(key string, o *keyspace.Object)) bool
	Evict(db int, key string, volatile bool, fn func(db int, key []byte)) (bool, int64, []keyspace.ReadyKey)
}

// Evictor frees memory by evicting keys when used memory exceeds maxmemory.
type Evictor struct {
	store   Store
	used    func() int64              // memory counted against maxmemory
	onEvict func(db int, key []byte)  // with the key locked: propagate DEL, notify
	onReady func([]keyspace.ReadyKey) // keys whose blocked clients must re-check
	cfg     atomic.Pointer[Config]
	evicted atomic.Int64
	bg      atomic.Bool
	done    <-chan struct{}

	mu     sync.Mutex // one eviction loop at a time; guards pool and nextDB
	pool   []entry    // ascending score: the best candidate last
	nextDB int        // round robin for the random policies
}

// New returns an evictor; done stops its background work.
func New(st Store, used func() int64, onEvict func(db int, key []byte), onReady func([]keyspace.ReadyKey), done <-chan struct{}) *Evictor {
	e := &Evictor{store: st, used: used, onEvict: onEvict, onReady: onReady, done: done}
	e.cfg.Store(&Config{Samples: 5, Tenacity: 10, LFUDecay: 1})
	return e
}

// SetConfig replaces the configuration; a policy change empties the pool.
// When memory is over the new limit, eviction starts in the background at
// once, as Redis's updateMaxmemory starts its eviction timer.
func (e *Evictor) SetConfig(c Config) {
	old := e.cfg.Swap(&c)
	if old.Policy != c.Policy {
		e.mu.Lock()
		e.pool = e.pool[:0]
		e.mu.Unlock()
	}
	if c.Policy != NoEviction && e.Over() && e.bg.CompareAndSwap(false, true) {
		go e.background()
	}
}

// Config returns the configuration in force.
func (e *Evictor) Config() Config { return *e.cfg.Load() }

// Evicted is INFO's evicted_keys.
func (e *Evictor) Evicted() int64 { return e.evicted.Load() }

// ResetStats zeroes evicted_keys (CONFIG RESETSTAT).
func (e *Evictor) ResetStats() { e.evicted.Store(0) }

// Over reports whether memory exceeds the limit: one load and a compare
// on the command path.
func (e *Evictor) Over() bool {
	c := e.cfg.Load()
	return c.MaxMemory > 0 && e.used() > c.MaxMemory
}

// Perform is Redis's performEvictions: evict until under the limit, for at
// most the tenacity's time limit; past that the background goes on and
// Running is returned. Fail means the limit is exceeded and no key can go
// (noeviction, or no candidates): the caller refuses denyoom commands.
func (e *Evictor) Perform() Result {
	if !e.Over() {
		return OK
	}
	if e.cfg.Load().Policy == NoEviction {
		return Fail
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.round()
	if r == Running && e.bg.CompareAndSwap(false, true) {
		go e.background()
	}
	return r
}

// background continues eviction in rounds, releasing the lock between
// them so commands interleave, as Redis's evictionTimeProc.
func (e *Evictor) background() {
	defer e.bg.Store(false)
	for {
		select {
		case <-e.done:
			return
		default:
		}
		e.mu.Lock()
		r := e.round()
		e.mu.Unlock()
		if r != Running {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// round evicts for one time slice (e.mu held).
func (e *Evictor) round() Result {
	c := e.cfg.Load()
	used := e.used()
	if c.MaxMemory == 0 || used <= c.MaxMemory {
		return OK
	}
	if c.Policy == NoEviction {
		return Fail
	}
	toFree := used - c.MaxMemory
	limit := TimeLimit(c.Tenacity)
	start := time.Now()
	var freed int64
	keys, misses := 0, 0
	dbs := e.candidateDBs(c) // once per round: counting keys reads every partition
	for freed < toFree {
		db, key, ok := e.pick(c, dbs)
		if !ok || misses > 1000 {
			return Fail
		}
		gone, n, ready := e.store.Evict(db, key, c.Policy.Volatile(), e.countEvict)
		if len(ready) > 0 && e.onReady != nil {
			e.onReady(ready)
		}
		if !gone {
			misses++ // deleted meanwhile: the pool's entry was stale
			continue
		}
		freed += n
		keys++
		if keys%16 == 0 {
			if !e.Over() {
				return OK // others freed memory too (deletes, flushes)
			}
			if time.Since(start) > limit {
				return Running
			}
		}
	}
	return OK
}

func (e *Evictor) countEvict(db int, key []byte) {
	e.evicted.Add(1)
	if e.onEvict != nil {
		e.onEvict(db, key)
	}
}

// pick returns the next key to evict. The random policies sample one key of
// the next non-empty database; the others refresh the pool with
// maxmemory-samples keys of every database and take its best entry.
func (e *Evictor) pick(c *Config, dbs []int) (int, string, bool) {
	vol := c.Policy.Volatile()
	if len(dbs) == 0 {
		return 0, "", false
	}
	if c.Policy.Random() {
		for i := range dbs {
			db := dbs[(e.nextDB+i)%len(dbs)]
			var key string
			e.store.Sample(db, vol, 1, func(k string, _ *keyspace.Object) { key = k })
			if key != "" {
				e.nextDB = (e.nextDB + i + 1) % len(dbs)
				return db, key, true
			}
		}
		return 0, "", false
	}
	for tries := 0; tries < 4; tries++ {
		now := time.Now().UnixMilli()
		found := false
		for _, db := range dbs {
			found = e.store.Sample(db, vol, c.Samples, func(k string, o *keyspace.Object) {
				e.offer(entry{score: c.Policy.Score(o, now, c.LFUDecay), db: db, key: k})
			}) || found
		}
		if !found && len(e.pool) == 0 {
			return 0, "", false
		}
		if len(e.pool) > 0 {
			best := e.pool[len(e.pool)-1]
			e.pool = e.pool[:len(e.pool)-1]
			return best.db, best.key, true
		}
	}
	return 0, "", false
}

// candidateDBs lists the databases holding candidates.
func (e *Evictor) candidateDBs(c *Config) []int {
	var dbs []int
	for db := range e.store.NumDBs() {
		d := e.store.DB(db)
		if c.Policy.Volatile() && d.Volatile() > 0 || !c.Policy.Volatile() && d.Len() > 0 {
			dbs = append(dbs, db)
		}
	}
	return dbs
}

// offer inserts a candidate into the pool, as evictionPoolPopulate: kept
// sorted ascending, a full pool admits only candidates better than its
// worst, and a key already pooled is only re-scored.
func (e *Evictor) offer(c entry) {
	for i := range e.pool {
		if e.pool[i].db == c.db && e.pool[i].key == c.key {
			e.pool = append(e.pool[:i], e.pool[i+1:]...)
			break
		}
	}
	if len(e.pool) == poolSize {
		if c.score <= e.pool[0].score {
			return
		}
		e.pool = append(e.pool[:0], e.pool[1:]...)
	}
	i := len(e.pool)
	for i > 0 && e.pool[i-1].score > c.score {
		i--
	}
	e.pool = append(e.pool, entry{})
	copy(e.pool[i+1:], e.pool[i:])
	e.pool[i] = c
}
