// Package keyspace holds the data set: databases partitioned by hash slot,
// typed values, expiry, and the per-key registries (WATCH, blocked clients)
// that must change atomically with the data.
package keyspace

import (
	"math"
	"time"
)

// Type is a value's Redis type.
type Type uint8

const (
	TString Type = iota
	TList
	THash
	TSet
	TZSet
	TStream
)

// Name is the type's name as TYPE reports it.
func (t Type) Name() string {
	switch t {
	case TString:
		return "string"
	case TList:
		return "list"
	case THash:
		return "hash"
	case TSet:
		return "set"
	case TZSet:
		return "zset"
	case TStream:
		return "stream"
	}
	return "none"
}

// Set is a set value.
type Set map[string]struct{}

// Object is one stored value and its metadata.
type Object struct {
	Str    []byte // TString
	Val    any    // *List, *Hash, Set or *IntSet, *ZSet, *stream.Stream for the other types
	Expire int64  // absolute unix ms; 0 = no TTL
	LRU    uint32 // LRUClock() at last access; under an LFU policy an LFU stamp (lfu.go)
	Type   Type
	cow    bool   // a snapshot froze the value: thaw it before changing it (snapshot.go)
	acct   uint32 // bytes counted for it in used_memory, /8 (evict.go); 0: not stored
}

// NewString returns a string object holding a copy of b.
func NewString(b []byte) *Object {
	return &Object{Type: TString, Str: append([]byte(nil), b...), LRU: LRUClock()}
}

// List returns the list value (Type must be TList).
func (o *Object) List() *List { return o.Val.(*List) }

// Hash returns the hash value (Type must be THash).
func (o *Object) Hash() *Hash { return o.Val.(*Hash) }

// Set returns the set value (Type must be TSet). An IntSet becomes a Set
// here, for good: commands with no fast path for IntSets see one form.
func (o *Object) Set() Set {
	if is, ok := o.Val.(*IntSet); ok {
		s := is.toSet()
		o.Val = s
		return s
	}
	return o.Val.(Set)
}

// SetView returns the set value for reading only (Type must be TSet): an
// IntSet stays one, and what it returns for it is a copy that must not be
// changed (a write through it would be lost).
func (o *Object) SetView() Set {
	if is, ok := o.Val.(*IntSet); ok {
		return is.toSet()
	}
	return o.Val.(Set)
}

// IntSet returns the set value when it is an IntSet (Type must be TSet).
func (o *Object) IntSet() (*IntSet, bool) {
	is, ok := o.Val.(*IntSet)
	return is, ok
}

// ZSet returns the sorted set value (Type must be TZSet).
func (o *Object) ZSet() *ZSet { return o.Val.(*ZSet) }

// Len is the number of elements of a collection (string length for strings).
func (o *Object) Len() int {
	switch o.Type {
	case TString:
		return len(o.Str)
	case TList:
		return o.List().Len()
	case THash:
		return o.Hash().Len()
	case TSet:
		if is, ok := o.IntSet(); ok {
			return is.Len()
		}
		return len(o.Set())
	case TZSet:
		return o.ZSet().Len()
	case TStream:
		return o.Val.(interface{ Len() int }).Len()
	}
	return 0
}

// Redis 7.0's default limits for its compact encodings (hash-max-listpack-
// entries 512, -value 64; zset-max-listpack-entries 128, -value 64;
// set-max-intset-entries 512). OBJECT ENCODING reports what Redis 7.0 would
// have chosen, so tools and scripts see familiar values.
const (
	hashListpackEntries = 512
	zsetListpackEntries = 128
	listpackMaxValue    = 64
	intsetMaxEntries    = 512
)

// Encoding returns the name OBJECT ENCODING reports for o.
func (o *Object) Encoding() string {
	switch o.Type {
	case TString:
		if _, ok := ParseInt(o.Str); ok {
			return "int"
		}
		if len(o.Str) <= 44 {
			return "embstr"
		}
		return "raw"
	case TList:
		return "quicklist" // Redis 7.0 reports every list as a quicklist
	case THash:
		h := o.Hash()
		if h.Len() > hashListpackEntries {
			return "hashtable"
		}
		enc := "listpack"
		h.Range(func(f string, v []byte) bool {
			if len(f) > listpackMaxValue || len(v) > listpackMaxValue {
				enc = "hashtable"
				return false
			}
			return true
		})
		return enc
	case TSet:
		if _, ok := o.IntSet(); ok {
			return "intset"
		}
		s := o.Set()
		if len(s) > intsetMaxEntries {
			return "hashtable"
		}
		for m := range s {
			if _, ok := ParseInt([]byte(m)); !ok {
				return "hashtable" // 7.0 has no set listpack
			}
		}
		return "intset"
	case TZSet:
		z := o.ZSet()
		if z.Len() > zsetListpackEntries || z.MaxMemberLen() > listpackMaxValue {
			return "skiplist"
		}
		return "listpack"
	case TStream:
		return "stream"
	}
	return "unknown"
}

// startMs is the LRU clock's zero (unix ms).
var startMs = time.Now().UnixMilli()

// LRUTicksPerSecond is the LRU clock's resolution. Redis ticks once a
// second; warden ticks every 10 ms so eviction can tell a key read a moment
// ago from one written a moment before (a write burst turns a small
// maxmemory over in well under a second). uint32 ticks wrap after 497 days
// (Redis's 24-bit clock: 194).
const LRUTicksPerSecond = 100

// LRUClock is the idle-time clock, in 1/LRUTicksPerSecond s.
func LRUClock() uint32 { return lruAt(time.Now().UnixMilli()) }

// lruAt is the LRU clock at unix ms: the one formula for LRUClock and a
// command's stamps (Tx.lru, from its start time), so a stamp is never
// ahead of a later reading (a monotonic clock here against the commands'
// wall-clock milliseconds put stamps a tick ahead now and then, and OBJECT
// IDLETIME read the wrapped difference: 42949672 s).
func lruAt(ms int64) uint32 { return uint32((ms - startMs) / (1000 / LRUTicksPerSecond)) }

// LRUIdle returns the LRU stamp of a key last accessed idle seconds ago.
func LRUIdle(idle int64) uint32 {
	return LRUClock() - uint32(idle)*LRUTicksPerSecond // wraps like the clock
}

// IdleSeconds returns how long ago o was last accessed.
func (o *Object) IdleSeconds() int64 { return int64(LRUClock()-o.LRU) / LRUTicksPerSecond }

// ParseInt parses b as Redis's string2ll does: optional '-', no '+', no
// leading zeros, no spaces, within int64. Redis stores such strings as
// integers, so OBJECT ENCODING and the RDB encoder use it too.
func ParseInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n > 20 {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg, i = true, 1
		if n == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < n; i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(d))/10 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
