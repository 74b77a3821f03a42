package keyspace

import (
	"math/rand/v2"
	"testing"
)

func TestLFUDecr(t *testing.T) {
	now := int64(1_000_000) * 60000 // a whole minute
	for _, c := range []struct {
		stampMin int64
		counter  uint8
		decay    int
		want     uint8
	}{
		{0, 10, 1, 10},   // no time passed
		{3, 10, 1, 7},    // 3 minutes, 1 per minute
		{3, 10, 2, 9},    // 3 minutes, 1 per 2 minutes
		{20, 10, 1, 0},   // floors at 0
		{100, 10, 0, 10}, // decay 0: never
	} {
		lru := LFUStamp(now-c.stampMin*60000, c.counter)
		if got := LFUDecr(lru, now, c.decay); got != c.want {
			t.Errorf("%+v: got %d", c, got)
		}
	}
}

func TestLFULogIncr(t *testing.T) {
	// Below LFUInitVal the counter always grows; at 255 it stays.
	if LFULogIncr(3, 10, 0.99) != 4 || LFULogIncr(255, 10, 0) != 255 {
		t.Fatal("edge cases")
	}
	// Redis's documented table: factor 10, ~1M hits saturate near 255,
	// 1K hits stay near 18 (redis.conf's lfu-log-factor table).
	c := uint8(LFUInitVal)
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		c = LFULogIncr(c, 10, r.Float64())
	}
	if c < 12 || c > 25 {
		t.Errorf("1K hits at factor 10: counter %d, want about 18", c)
	}
}
