package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// evictRun is what one server showed under the bounded-memory workload.
type evictRun struct {
	maxmem, written, peakUsed, peakRSS, evicted int64
	alive, hot                                  int
}

func (r evictRun) String() string {
	return fmt.Sprintf("maxmemory %d MB, written %d MB, peak used_memory %.1f MB, peak RSS %.1f MB, evicted %d, hot set %d/%d (%.1f%%)",
		r.maxmem>>20, r.written>>20, float64(r.peakUsed)/(1<<20), float64(r.peakRSS)/(1<<20), r.evicted, r.alive, r.hot, 100*float64(r.alive)/float64(r.hot))
}

func infoNum(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	for _, l := range strings.Split(c.Info(context.Background(), section).Val(), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO %s: %q", field, v)
			}
			return n
		}
	}
	t.Fatalf("INFO %s: no %s", section, field)
	return 0
}

// boundedWorkload writes 10x maxmemory of 4 KB values under allkeys-lru
// while reading a hot set of 1000 keys between batches.
func boundedWorkload(t *testing.T, c *redis.Client, maxmem int64, rss func() int64) evictRun {
	ctx := context.Background()
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(maxmem, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	const hot = 1000
	val := strings.Repeat("x", 4096)
	r := evictRun{maxmem: maxmem, hot: hot}
	for i := range hot {
		c.Set(ctx, "hot:"+strconv.Itoa(i), val, 0)
	}
	for batch := 0; r.written < 10*maxmem; batch++ {
		time.Sleep(15 * time.Millisecond) // reads and writes fall on different LRU ticks
		p := c.Pipeline()
		for i := range hot {
			p.Get(ctx, "hot:"+strconv.Itoa(i))
		}
		for i := range 500 {
			p.Set(ctx, fmt.Sprintf("cold:%d:%d", batch, i), val, 0)
			r.written += int64(len(val))
		}
		if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		r.peakUsed = max(r.peakUsed, infoNum(t, c, "memory", "used_memory"))
		r.peakRSS = max(r.peakRSS, rss())
	}
	for i := range hot {
		if c.Exists(ctx, "hot:"+strconv.Itoa(i)).Val() == 1 {
			r.alive++
		}
	}
	r.evicted = infoNum(t, c, "stats", "evicted_keys")
	return r
}

// vmHWM is a process's peak resident set (VmHWM), in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n << 10
		}
	}
	return 0
}

// TestEvictionBoundsMemory is the README's memory-bounded eviction figure:
// the real binary and a real redis-server, 10x maxmemory written under
// allkeys-lru while a hot set is read. used_memory and RSS stay near
// maxmemory and the hot set survives.
func TestEvictionBoundsMemory(t *testing.T) {
	const maxmem = 32 << 20
	port := freePort(t)
	cmd, logs := startWarden(t, port, "--port", port, "--dir", t.TempDir(), "--save", "")
	w := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, ReadTimeout: 30 * time.Second})
	defer w.Close()
	wr := boundedWorkload(t, w, maxmem, func() int64 { return vmHWM(t, cmd.Process.Pid) })
	t.Logf("warden: %v", wr)
	t.Logf("warden at the end: used_memory %d, Go heap allocated (garbage included) %d, RSS %d",
		infoNum(t, w, "memory", "used_memory"), infoNum(t, w, "memory", "allocator_allocated"), infoNum(t, w, "memory", "used_memory_rss"))

	rs := redistest.Start(t, "")
	r := rs.Client(t, 0)
	rr := boundedWorkload(t, r, maxmem, func() int64 { return infoNum(t, r, "memory", "used_memory_rss") })
	t.Logf("redis:  %v", rr)

	if wr.peakUsed > maxmem+maxmem/20 {
		t.Errorf("warden peak used_memory %d > maxmemory %d + 5%%", wr.peakUsed, int64(maxmem))
	}
	// RSS: the data, Go's GC headroom (node/gctune.go) and the runtime;
	// generous, but far below the 320 MB written.
	if wr.peakRSS > 4*maxmem {
		t.Errorf("warden peak RSS %d > 4x maxmemory\n%s", wr.peakRSS, logs)
	}
	if wr.alive*10 < wr.hot*8 {
		t.Errorf("warden hot set: %d of %d survived, want >= 80%%", wr.alive, wr.hot)
	}
	if wr.evicted < 10*maxmem/4096/2 {
		t.Errorf("warden evicted only %d keys", wr.evicted)
	}
}
