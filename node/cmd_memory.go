package node

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/memusage"
)

func registerMemory(t table) {
	const g = "server"
	t.add(&Command{Name: "memory", Arity: -2, Group: g, Subs: subs(
		&Command{Name: "usage", Arity: -3, Flags: fReadonly, FirstKey: 2, Run: cmdMemoryUsage, Group: g},
		&Command{Name: "stats", Arity: 2, Run: cmdMemoryStats, Group: g},
		&Command{Name: "doctor", Arity: 2, Run: cmdMemoryDoctor, Group: g},
		&Command{Name: "malloc-stats", Arity: 2, Run: cmdMemoryMallocStats, Group: g},
		&Command{Name: "purge", Arity: 2, Run: func(c *Ctx) { debug.FreeOSMemory(); c.OK() }, Group: g},
		&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdMemoryHelp, Group: g},
	)})
}

// cmdMemoryUsage answers the estimate of memusage.Key (see there for how
// it is computed), parsing SAMPLES as Redis does.
func cmdMemoryUsage(c *Ctx) {
	samples := int64(memusage.DefaultSamples)
	for j := 3; j < len(c.Args); j++ {
		if !eq(c.Args[j], "samples") || j+1 >= len(c.Args) {
			c.Err(errSyntax)
			return
		}
		n, ok := keyspace.ParseInt(c.Args[j+1])
		if !ok {
			c.Err(errNotInt)
			return
		}
		if n < 0 {
			c.Err(errSyntax)
			return
		}
		samples = min(n, 1<<31) // 0: all
		j++
	}
	o := c.DB.Peek(c.Args[2])
	if o == nil {
		c.Null()
		return
	}
	c.Int(memusage.Key(string(c.Args[2]), o, int(samples)))
}

// memStats is what MEMORY STATS and MEMORY DOCTOR report, from the Go
// runtime's view of the heap (warden's allocator).
type memStats struct {
	used, peak, startup, rss, active, resident int64
	overhead, dataset, keys                    int64
	dbs                                        []dbOverhead
}

type dbOverhead struct {
	id            int
	main, expires int64
}

func (s *Server) memStats() memStats {
	st := s.infoState()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// used is used_memory (INFO): the store's tables plus the data set.
	m := memStats{used: s.usedMemory(), rss: rssBytes(), active: int64(ms.HeapInuse), resident: int64(ms.HeapSys - ms.HeapReleased)}
	st.notePeak(uint64(m.used))
	m.peak, m.startup = int64(st.peakMem.Load()), s.store.Overhead()
	m.overhead = m.startup
	for i := 0; i < s.store.NumDBs(); i++ {
		db := s.store.DB(i)
		n := db.Len()
		if n == 0 {
			continue
		}
		d := dbOverhead{id: i, main: n * memusage.DictEntry, expires: db.Volatile() * memusage.DictEntry}
		m.dbs = append(m.dbs, d)
		m.keys += n
		m.overhead += d.main + d.expires
	}
	m.dataset = max(m.used-m.overhead, 0)
	return m
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// cmdMemoryStats answers Redis 7.0's fields in its order.
func cmdMemoryStats(c *Ctx) {
	m := c.s.memStats()
	net := m.used - m.startup
	c.Map(27 + len(m.dbs))
	kv := func(k string, v int64) { c.BulkString(k); c.Int(v) }
	kf := func(k string, v float64) { c.BulkString(k); c.Double(v) }
	kv("peak.allocated", m.peak)
	kv("total.allocated", m.used)
	kv("startup.allocated", m.startup)
	kv("replication.backlog", 0)
	kv("clients.slaves", 0)
	kv("clients.normal", 0)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", c.s.scripting.engine.CacheBytes())
	kv("functions.caches", 0)
	for _, d := range m.dbs {
		c.BulkString("db." + strconv.Itoa(d.id))
		c.Map(3)
		kv("overhead.hashtable.main", d.main)
		kv("overhead.hashtable.expires", d.expires)
		kv("overhead.hashtable.slot-to-keys", 0) // slots index keys inside the partitions
	}
	kv("overhead.total", m.overhead)
	kv("keys.count", m.keys)
	perKey := int64(0)
	if m.keys > 0 {
		perKey = net / m.keys
	}
	kv("keys.bytes-per-key", perKey)
	kv("dataset.bytes", m.dataset)
	kf("dataset.percentage", ratio(m.dataset, net)*100)
	kf("peak.percentage", ratio(m.used, m.peak)*100)
	kv("allocator.allocated", m.used)
	kv("allocator.active", m.active)
	kv("allocator.resident", m.resident)
	kf("allocator-fragmentation.ratio", ratio(m.active, m.used))
	kv("allocator-fragmentation.bytes", m.active-m.used)
	kf("allocator-rss.ratio", ratio(m.resident, m.active))
	kv("allocator-rss.bytes", m.resident-m.active)
	kf("rss-overhead.ratio", ratio(m.rss, m.resident))
	kv("rss-overhead.bytes", m.rss-m.resident)
	kf("fragmentation", ratio(m.rss, m.used))
	kv("fragmentation.bytes", m.rss-m.used)
}

// cmdMemoryDoctor is Redis's getMemoryDoctorReport for the checks that
// apply to a Go heap: too little data to judge, a past peak, and RSS far
// above the live heap.
func cmdMemoryDoctor(c *Ctx) {
	c.Verbatim(memoryDoctor(c.s.memStats()))
}

func memoryDoctor(m memStats) string {
	if m.used < 5<<20 {
		return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	}
	peak := float64(m.peak)/float64(m.used) > 1.5
	highRSS := ratio(m.rss, m.used) > 1.4
	if !peak && !highRSS {
		return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	}
	var b strings.Builder
	b.WriteString("Sam, I detected a few issues in this Redis instance memory implants:\n\n")
	if peak {
		b.WriteString(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
	}
	if highRSS {
		fmt.Fprintf(&b, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, MEMORY PURGE returns freed heap to the OS. Note: The currently used allocator is \"%s\".\n\n", "go")
	}
	b.WriteString("I'm here to keep you safe, Sam. I want to help you.\n")
	return b.String()
}

// cmdMemoryMallocStats reports the Go runtime's heap statistics in place
// of jemalloc's.
func cmdMemoryMallocStats(c *Ctx) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	b.WriteString("___ Begin Go runtime heap statistics ___\n")
	for _, kv := range []struct {
		k string
		v uint64
	}{
		{"heap_alloc", ms.HeapAlloc}, {"heap_inuse", ms.HeapInuse}, {"heap_idle", ms.HeapIdle},
		{"heap_released", ms.HeapReleased}, {"heap_sys", ms.HeapSys}, {"heap_objects", ms.HeapObjects},
		{"stack_inuse", ms.StackInuse}, {"sys", ms.Sys}, {"total_alloc", ms.TotalAlloc},
		{"mallocs", ms.Mallocs}, {"frees", ms.Frees}, {"num_gc", uint64(ms.NumGC)},
		{"next_gc", ms.NextGC}, {"gc_sys", ms.GCSys},
	} {
		fmt.Fprintf(&b, "%s: %d\n", kv.k, kv.v)
	}
	b.WriteString("--- End Go runtime heap statistics ---\n")
	c.Verbatim(b.String())
}

func cmdMemoryHelp(c *Ctx) {
	serverHelp(c, "memory",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	)
}
