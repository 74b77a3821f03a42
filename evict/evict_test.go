package evict

import (
	"math"
	"testing"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

func TestParsePolicy(t *testing.T) {
	for _, name := range Names {
		p, ok := Parse(name)
		if !ok {
			t.Fatalf("Parse(%q) failed", name)
		}
		if got := p.Volatile(); got != (name[:8] == "volatile") {
			t.Errorf("%s: Volatile() = %v", name, got)
		}
		if got := p.LFU(); got != (name[len(name)-3:] == "lfu") {
			t.Errorf("%s: LFU() = %v", name, got)
		}
	}
	if _, ok := Parse("allkeys-foo"); ok {
		t.Error("Parse accepted allkeys-foo")
	}
}

func TestTimeLimit(t *testing.T) {
	for _, c := range []struct {
		tenacity int
		want     time.Duration
	}{
		{0, 0}, {1, 50 * time.Microsecond}, {10, 500 * time.Microsecond},
		{11, 575 * time.Microsecond}, {100, math.MaxInt64},
	} {
		if got := TimeLimit(c.tenacity); got != c.want {
			t.Errorf("TimeLimit(%d) = %v, want %v", c.tenacity, got, c.want)
		}
	}
	if d := TimeLimit(99); d < time.Minute || d > 3*time.Minute {
		t.Errorf("TimeLimit(99) = %v, want about 2 minutes (Redis)", d)
	}
}

func TestPoolKeepsBest(t *testing.T) {
	var e Evictor
	for i := range 100 {
		e.offer(entry{score: uint64(i * 7 % 100), key: string(rune('a'+i%26)) + string(rune('0'+i/26))})
	}
	if len(e.pool) != poolSize {
		t.Fatalf("pool size %d", len(e.pool))
	}
	for i, en := range e.pool {
		if want := uint64(100 - poolSize + i); en.score != want {
			t.Errorf("pool[%d].score = %d, want %d", i, en.score, want)
		}
	}
	// Re-offering a pooled key re-scores it instead of duplicating it.
	k := e.pool[0].key
	e.offer(entry{score: 1000, key: k})
	if len(e.pool) != poolSize || e.pool[poolSize-1].key != k {
		t.Errorf("re-offer: %+v", e.pool)
	}
}

func TestScoreOrder(t *testing.T) {
	now := time.Now().UnixMilli()
	soon := &keyspace.Object{Expire: now + 1000}
	late := &keyspace.Object{Expire: now + 100000}
	if VolatileTTL.Score(soon, now, 1) <= VolatileTTL.Score(late, now, 1) {
		t.Error("volatile-ttl: the soonest expiry must score higher")
	}
	cold := &keyspace.Object{LRU: keyspace.LFUStamp(now, 1)}
	hot := &keyspace.Object{LRU: keyspace.LFUStamp(now, 200)}
	if AllKeysLFU.Score(cold, now, 1) <= AllKeysLFU.Score(hot, now, 1) {
		t.Error("lfu: the less used key must score higher")
	}
	old := &keyspace.Object{LRU: keyspace.LRUIdle(100)}
	recent := &keyspace.Object{LRU: keyspace.LRUClock()}
	if AllKeysLRU.Score(old, now, 1) <= AllKeysLRU.Score(recent, now, 1) {
		t.Error("lru: the longer idle key must score higher")
	}
}
