// Package evict is maxmemory enforcement as Redis 7.0's evict.c: the
// policies, the eviction pool of best candidates, and the loop that frees
// memory before a command runs (performEvictions), bounded in time by
// maxmemory-eviction-tenacity and continued in the background.
package evict

import (
	"math"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

// Policy is a maxmemory-policy.
type Policy uint8

const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
)

// Names are the maxmemory-policy values, in Redis's order.
var Names = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
	"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

var byName = map[string]Policy{
	"noeviction": NoEviction, "allkeys-lru": AllKeysLRU, "allkeys-lfu": AllKeysLFU,
	"allkeys-random": AllKeysRandom, "volatile-lru": VolatileLRU, "volatile-lfu": VolatileLFU,
	"volatile-random": VolatileRandom, "volatile-ttl": VolatileTTL,
}

// Parse returns the policy named s.
func Parse(s string) (Policy, bool) {
	p, ok := byName[s]
	return p, ok
}

// Volatile reports whether only keys with a TTL are candidates.
func (p Policy) Volatile() bool { return p >= VolatileLRU }

// LFU reports whether the policy tracks access frequency.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// Random reports whether candidates are picked at random (no pool).
func (p Policy) Random() bool { return p == AllKeysRandom || p == VolatileRandom }

// Score is a candidate's "evict me first" value under the policy, as
// Redis's evictionPoolPopulate computes idle: higher goes first.
func (p Policy) Score(o *keyspace.Object, nowMs int64, decayMinutes int) uint64 {
	switch p {
	case AllKeysLFU, VolatileLFU:
		return 255 - uint64(keyspace.LFUDecr(o.LRU, nowMs, decayMinutes))
	case VolatileTTL:
		return math.MaxUint64 - uint64(o.Expire) // soonest expiry first
	}
	return keyspace.IdleTicks(o)
}

// TimeLimit is Redis's evictionTimeLimitUs: how long one round of eviction
// may run before the rest is left to the background (tenacity 0..100; 100:
// unlimited).
func TimeLimit(tenacity int) time.Duration {
	if tenacity <= 10 {
		return time.Duration(50*tenacity) * time.Microsecond // 0 .. 500 us
	}
	if tenacity < 100 {
		// 15% more per step above 10: 10 -> 500 us, 99 -> ~2 minutes
		return time.Duration(500*math.Pow(1.15, float64(tenacity-10))) * time.Microsecond
	}
	return math.MaxInt64
}
