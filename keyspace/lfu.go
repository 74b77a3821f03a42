package keyspace

import "math/rand/v2"

// LFU access tracking as Redis 7.0's (evict.c): under an LFU policy an
// object's LRU field holds a 16-bit time in minutes (when the counter was
// last decremented) above an 8-bit logarithmic access counter.
const (
	LFUInitVal = 5 // a new key's counter, so it is not evicted at once
)

// lfuMinutes is Redis's LFUGetTimeInMinutes: unix minutes mod 2^16.
func lfuMinutes(nowMs int64) uint32 { return uint32(nowMs/60000) & 0xFFFF }

// LFUStamp is the LRU field of an object whose counter is counter at nowMs.
func LFUStamp(nowMs int64, counter uint8) uint32 {
	return lfuMinutes(nowMs)<<8 | uint32(counter)
}

// lfuElapsed is Redis's LFUTimeElapsed: minutes since ldt, across the wrap.
func lfuElapsed(ldt uint32, nowMs int64) uint32 {
	now := lfuMinutes(nowMs)
	if now >= ldt {
		return now - ldt
	}
	return 65535 - ldt + now
}

// LFULogIncr is Redis's LFULogIncr: the counter grows with probability
// 1/((counter-LFUInitVal)*factor+1), so it reaches 255 after about a
// million accesses with factor 10. r is a uniform number in [0, 1).
func LFULogIncr(counter uint8, factor int, r float64) uint8 {
	if counter == 255 {
		return 255
	}
	base := float64(counter) - LFUInitVal
	if base < 0 {
		base = 0
	}
	if r < 1.0/(base*float64(factor)+1) {
		counter++
	}
	return counter
}

// LFUDecr is Redis's LFUDecrAndReturn: the counter of stamp lru at nowMs,
// lowered by one per decayMinutes elapsed (0: never decays).
func LFUDecr(lru uint32, nowMs int64, decayMinutes int) uint8 {
	ldt := lru >> 8
	counter := lru & 255
	var periods uint32
	if decayMinutes > 0 {
		periods = lfuElapsed(ldt, nowMs) / uint32(decayMinutes)
	}
	if periods >= counter {
		return 0
	}
	return uint8(counter - periods)
}

// lfuTouch is Redis's updateLFU: decay, then a logarithmic increment.
func (s *Store) lfuTouch(lru uint32, nowMs int64) uint32 {
	c := LFUDecr(lru, nowMs, int(s.ev.lfuDecay.Load()))
	c = LFULogIncr(c, int(s.ev.lfuLog.Load()), rand.Float64())
	return LFUStamp(nowMs, c)
}

// touch records an access to o as the policy tracks it (LRU or LFU).
func (v View) touch(o *Object) { o.LRU = v.stamp(o.LRU) }

// stamp is an access stamp after an access to a key stamped old.
func (v View) stamp(old uint32) uint32 {
	if v.tx.s.ev.lfu.Load() {
		return v.tx.s.lfuTouch(old, v.tx.Now())
	}
	return v.tx.lru()
}

// newStamp is a new object's LRU field: now, or LFUInitVal under LFU.
func (v View) newStamp() uint32 {
	if v.tx.s.ev.lfu.Load() {
		return LFUStamp(v.tx.Now(), LFUInitVal)
	}
	return v.tx.lru()
}

// SetLFUMode switches access tracking to LFU (true) or LRU, as
// maxmemory-policy does. Existing stamps are not converted: as in Redis,
// they take some time to become meaningful again.
func (s *Store) SetLFUMode(on bool) { s.ev.lfu.Store(on) }

// LFUMode reports whether objects carry LFU stamps.
func (s *Store) LFUMode() bool { return s.ev.lfu.Load() }

// SetLFUParams sets lfu-log-factor and lfu-decay-time (minutes).
func (s *Store) SetLFUParams(logFactor, decayMinutes int) {
	s.ev.lfuLog.Store(int32(logFactor))
	s.ev.lfuDecay.Store(int32(decayMinutes))
}

// Freq is OBJECT FREQ: o's decayed LFU counter, without touching it.
func (v View) Freq(o *Object) int {
	return int(LFUDecr(o.LRU, v.tx.Now(), int(v.tx.s.ev.lfuDecay.Load())))
}

// SetAccess sets o's access stamp as RESTORE's IDLETIME / FREQ do (Redis's
// objectSetLRUOrLFU): freq applies under LFU, idle (seconds) under LRU; a
// negative value leaves the stamp alone.
func (v View) SetAccess(o *Object, idle int64, freq int) {
	if v.tx.s.ev.lfu.Load() {
		if freq >= 0 {
			o.LRU = LFUStamp(v.tx.Now(), uint8(freq))
		}
		return
	}
	if idle >= 0 {
		o.LRU = LRUIdle(idle)
	}
}

// IdleTicks is the eviction score of an LRU object: how long ago it was
// accessed, in LRU ticks.
func IdleTicks(o *Object) uint64 { return uint64(LRUClock() - o.LRU) }
