package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

func memInfo(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	v := infoField(c.Info(context.Background(), section).Val(), field)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("INFO %s %s = %q", section, field, v)
	}
	return n
}

// sideBySide runs each command on warden and on redis-server (one
// connection each) and fails on any reply that differs.
func sideBySide(t *testing.T, w, r *redis.Client, cmds ...[]any) {
	t.Helper()
	ctx := context.Background()
	for _, args := range cmds {
		gw, ew := w.Do(ctx, args...).Result()
		gr, er := r.Do(ctx, args...).Result()
		sw, sr := fmt.Sprintf("%#v %v", gw, ew), fmt.Sprintf("%#v %v", gr, er)
		if sw != sr {
			t.Errorf("%v:\n warden %s\n redis  %s", args, sw, sr)
		}
	}
}

func oneConn(o *redis.Options) { o.PoolSize = 1 }

// waitUnderLimit waits for eviction (which goes on in the background past
// its time slice) to bring used_memory under maxmemory.
func waitUnderLimit(t *testing.T, c *redis.Client) {
	t.Helper()
	waitFor(t, func() bool {
		return memInfo(t, c, "memory", "used_memory") <= memInfo(t, c, "memory", "maxmemory")
	}, "used_memory to fall under maxmemory")
}

func TestEvictOOMSideBySide(t *testing.T) {
	_, addr := startServer(t)
	w := newClient(t, addr, oneConn)
	r := redistest.Start(t, "").Client(t, 0)
	r.Options().PoolSize = 1
	sideBySide(t, w, r,
		[]any{"set", "k", "v"},
		[]any{"config", "set", "maxmemory", "1"},
		[]any{"set", "x", "y"},
		[]any{"lpush", "l", "a"},
		[]any{"incr", "n"},
		[]any{"get", "k"},
		[]any{"multi"},
		[]any{"set", "a", "b"},
		[]any{"get", "k"},
		[]any{"exec"},
		// volatile-* without volatile keys: nothing to evict, still OOM.
		[]any{"config", "set", "maxmemory-policy", "volatile-lru"},
		[]any{"set", "x", "y"},
		[]any{"config", "set", "maxmemory-policy", "volatile-ttl"},
		[]any{"set", "x", "y"},
		[]any{"del", "k"}, // not denyoom
		[]any{"config", "set", "maxmemory", "0"},
		[]any{"set", "x", "y"},
	)
	// The text itself, not only agreement.
	if _, err := w.Do(context.Background(), "config", "set", "maxmemory", "1").Result(); err != nil {
		t.Fatal(err)
	}
	err := w.Set(context.Background(), "z", "1", 0).Err()
	if err == nil || err.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
		t.Errorf("SET under maxmemory: %v", err)
	}
}

func TestEvictConfigSideBySide(t *testing.T) {
	_, addr := startServer(t)
	w := newClient(t, addr, oneConn)
	r := redistest.Start(t, "").Client(t, 0)
	var cmds [][]any
	for _, p := range []string{"maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time"} {
		cmds = append(cmds, []any{"config", "get", p})
	}
	for _, kv := range [][2]string{
		{"maxmemory", "100mb"}, {"maxmemory", "0"}, {"maxmemory", "-1"}, {"maxmemory", "x"},
		{"maxmemory-policy", "allkeys-lru"}, {"maxmemory-policy", "ALLKEYS-LFU"}, {"maxmemory-policy", "volatile-ttl"},
		{"maxmemory-policy", "volatile-random"}, {"maxmemory-policy", "allkeys-random"}, {"maxmemory-policy", "volatile-lfu"},
		{"maxmemory-policy", "volatile-lru"}, {"maxmemory-policy", "bogus"}, {"maxmemory-policy", "noeviction"},
		{"maxmemory-samples", "10"}, {"maxmemory-samples", "0"}, {"maxmemory-samples", "65"}, {"maxmemory-samples", "64"},
		{"maxmemory-eviction-tenacity", "100"}, {"maxmemory-eviction-tenacity", "101"}, {"maxmemory-eviction-tenacity", "0"},
		{"lfu-log-factor", "20"}, {"lfu-log-factor", "-1"}, {"lfu-decay-time", "5"}, {"lfu-decay-time", "-1"}, {"lfu-decay-time", "0"},
	} {
		cmds = append(cmds, []any{"config", "set", kv[0], kv[1]}, []any{"config", "get", kv[0]})
	}
	sideBySide(t, w, r, cmds...)
}

func TestEvictObjectFreqSideBySide(t *testing.T) {
	_, addr := startServer(t)
	w := newClient(t, addr, oneConn)
	r := redistest.Start(t, "").Client(t, 0)
	ctx := context.Background()
	sideBySide(t, w, r,
		[]any{"config", "set", "maxmemory-policy", "allkeys-lfu"},
		[]any{"set", "k", "v"},
		[]any{"object", "freq", "k"},
		[]any{"object", "idletime", "k"},
		[]any{"object", "freq", "nokey"},
		[]any{"set", "k2", "v"},
	)
	// RESTORE FREQ sets the counter under LFU (objectSetLRUOrLFU).
	dump := w.Dump(ctx, "k2").Val()
	sideBySide(t, w, r,
		[]any{"restore", "k3", "0", dump, "FREQ", "100"},
		[]any{"object", "freq", "k3"},
		[]any{"config", "set", "maxmemory-policy", "allkeys-lru"},
		[]any{"object", "freq", "k3"},
		[]any{"restore", "k4", "0", dump, "IDLETIME", "1000"},
		[]any{"object", "idletime", "k4"},
	)
	// Accesses raise the counter logarithmically: from 5, 200 reads
	// (factor 10) land well above 5 and far below 255.
	w.ConfigSet(ctx, "maxmemory-policy", "allkeys-lfu")
	w.Set(ctx, "hot", "v", 0)
	for range 200 {
		w.Get(ctx, "hot")
	}
	f := w.Do(ctx, "object", "freq", "hot").Val().(int64)
	if f <= 5 || f > 40 {
		t.Errorf("OBJECT FREQ after 200 reads = %d, want within (5, 40]", f)
	}
}

// TestEvictAccounting checks used_memory follows the data set: growing a
// value in place counts, deleting it all returns to the startup figure
// exactly, and the data set equals the sum of MEMORY USAGE of plain keys.
func TestEvictAccounting(t *testing.T) {
	_, addr := startServer(t)
	c := newClient(t, addr, oneConn)
	ctx := context.Background()
	used := func() int64 { return memInfo(t, c, "memory", "used_memory") }
	start := used()
	if got := memInfo(t, c, "memory", "used_memory_startup"); got != start {
		t.Fatalf("empty: used_memory %d, used_memory_startup %d", start, got)
	}
	for i := range 2000 {
		c.HSet(ctx, "h", "field:"+strconv.Itoa(i), strings.Repeat("v", 100))
	}
	grown := used() - start
	if grown < 2000*100 || grown > 2000*400 {
		t.Errorf("2000 hash fields of 100 bytes: used_memory grew %d", grown)
	}
	c.Append(ctx, "s", strings.Repeat("a", 10000))
	c.Append(ctx, "s", strings.Repeat("a", 10000))
	if d := used() - start - grown; d < 20000 || d > 30000 {
		t.Errorf("20000-byte string: used_memory grew %d", d)
	}
	for i := range 2000 {
		c.HDel(ctx, "h", "field:"+strconv.Itoa(i))
	}
	c.Del(ctx, "s")
	if got := used(); got != start {
		t.Errorf("after deleting everything: used_memory %d, want %d", got, start)
	}
	// Plain strings: the data set is exactly the sum of MEMORY USAGE.
	var sum int64
	for i := range 300 {
		k := "k" + strconv.Itoa(i)
		c.Set(ctx, k, strings.Repeat("x", i), 0)
	}
	for i := range 300 {
		sum += c.MemoryUsage(ctx, "k"+strconv.Itoa(i)).Val()
	}
	if ds := memInfo(t, c, "memory", "used_memory_dataset"); ds != sum {
		t.Errorf("used_memory_dataset %d, sum of MEMORY USAGE %d", ds, sum)
	}
	// RENAME and MOVE carry a key's count along: deleting every key one
	// by one afterwards returns to the startup figure exactly.
	c.Rename(ctx, "k100", "renamed:k100")
	c.Rename(ctx, "k101", "k102") // over an existing key
	c.Move(ctx, "k103", 1)
	c.FlushAll(ctx)
	c.Set(ctx, "a", strings.Repeat("a", 500), 0)
	c.Set(ctx, "b", strings.Repeat("b", 50), 0)
	c.Rename(ctx, "a", "renamed")
	c.Rename(ctx, "b", "renamed")
	c.Set(ctx, "m", "moved", 0)
	c.Move(ctx, "m", 1)
	c.Del(ctx, "renamed")
	c1 := newClient(t, addr, func(o *redis.Options) { o.DB = 1 })
	c1.Del(ctx, "m")
	if got := used(); got != start {
		t.Errorf("after RENAME/MOVE and DEL of everything: used_memory %d, want %d", got, start)
	}
	c.FlushAll(ctx)
	if got := used(); got != start {
		t.Errorf("after FLUSHALL: used_memory %d, want %d", got, start)
	}
}

// TestEvictVolatileTTL: volatile-ttl evicts the keys closest to expiring,
// and never a key without a TTL.
func TestEvictVolatileTTL(t *testing.T) {
	_, addr := startServer(t, "maxmemory-samples", "10")
	c := newClient(t, addr, oneConn)
	ctx := context.Background()
	val := strings.Repeat("v", 1000)
	for i := range 200 {
		c.Set(ctx, "v:"+strconv.Itoa(i), val, time.Duration(1000+i)*time.Second)
	}
	for i := range 50 {
		c.Set(ctx, "p:"+strconv.Itoa(i), val, 0)
	}
	used := memInfo(t, c, "memory", "used_memory")
	c.ConfigSet(ctx, "maxmemory-policy", "volatile-ttl")
	c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used-60*1100, 10))
	if err := c.Set(ctx, "trigger", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitUnderLimit(t, c)
	var gone, goneSoon int
	for i := range 200 {
		if c.Exists(ctx, "v:"+strconv.Itoa(i)).Val() == 0 {
			gone++
			if i < 100 {
				goneSoon++
			}
		}
	}
	for i := range 50 {
		if c.Exists(ctx, "p:"+strconv.Itoa(i)).Val() == 0 {
			t.Errorf("p:%d (no TTL) was evicted under volatile-ttl", i)
		}
	}
	ev := memInfo(t, c, "stats", "evicted_keys")
	t.Logf("evicted %d (evicted_keys %d), %d of them among the 100 soonest to expire", gone, ev, goneSoon)
	if gone < 50 || int64(gone) != ev {
		t.Errorf("evicted %d keys, evicted_keys %d: want >= 50 and equal", gone, ev)
	}
	if goneSoon*10 < gone*9 {
		t.Errorf("only %d of %d evicted keys were among the 100 soonest to expire", goneSoon, gone)
	}
}

// TestEvictLRUHotSet writes 10x maxmemory under allkeys-lru while reading a
// hot set: used_memory stays near the limit, the hot set survives, each
// eviction is counted and announced ("evicted" keyevent).
func TestEvictLRUHotSet(t *testing.T) {
	_, addr := startServer(t, "notify-keyspace-events", "Ee")
	c := newClient(t, addr)
	ctx := context.Background()
	sub := c.Subscribe(ctx, "__keyevent@0__:evicted")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	var notified int64
	notes := sub.Channel(redis.WithChannelSize(1 << 20))
	base := memInfo(t, c, "memory", "used_memory")
	maxmem := base + 2<<20
	c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru")
	c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(maxmem, 10))
	const hot = 200
	val := strings.Repeat("x", 1000)
	for i := range hot {
		c.Set(ctx, "hot:"+strconv.Itoa(i), val, 0)
	}
	var peak int64
	written := 0
	for batch := 0; written < 10*2<<20; batch++ {
		// Reads of the hot set land on the clock tick after the writes
		// before them, as a real workload's would.
		time.Sleep(20 * time.Millisecond)
		p := c.Pipeline()
		for i := range hot {
			p.Get(ctx, "hot:"+strconv.Itoa(i))
		}
		for i := range 400 {
			p.Set(ctx, fmt.Sprintf("cold:%d:%d", batch, i), val, 0)
			written += len(val)
		}
		if _, err := p.Exec(ctx); err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		peak = max(peak, memInfo(t, c, "memory", "used_memory"))
	}
	alive := 0
	for i := range hot {
		if c.Exists(ctx, "hot:"+strconv.Itoa(i)).Val() == 1 {
			alive++
		}
	}
	ev := memInfo(t, c, "stats", "evicted_keys")
	waitFor(t, func() bool {
		for {
			select {
			case <-notes:
				notified++
				continue
			default:
			}
			return notified >= ev
		}
	}, "an evicted event per evicted key")
	t.Logf("maxmemory %d, written %d, peak used_memory %d, evicted %d, hot set alive %d/%d", maxmem, written, peak, ev, alive, hot)
	if peak > maxmem+maxmem/10 {
		t.Errorf("peak used_memory %d over maxmemory %d by more than 10%%", peak, maxmem)
	}
	if alive*10 < hot*8 {
		t.Errorf("hot set: %d of %d survived, want >= 80%%", alive, hot)
	}
	if ev < int64(written/2/len(val)) || notified != ev {
		t.Errorf("evicted_keys %d, evicted events %d (written %d values)", ev, notified, written/len(val))
	}
}

// TestEvictPropagatesDEL: an eviction reaches the AOF and a replica (a real
// redis-server and a warden replica, whose own lower maxmemory is
// ignored: replicas follow their master's DELs) as DEL.
func TestEvictPropagatesDEL(t *testing.T) {
	s, addr := startServer(t, "appendonly", "yes")
	c := newClient(t, addr)
	ctx := context.Background()
	_, rr := redisReplicaOf(t, addr)
	_, port, _ := strings.Cut(addr, ":")
	_, waddr := startServer(t, "replicaof", "127.0.0.1 "+port, "maxmemory", "1", "maxmemory-policy", "allkeys-lru")
	wr := newClient(t, waddr)
	val := strings.Repeat("v", 500)
	for i := range 1000 {
		c.Set(ctx, "k:"+strconv.Itoa(i), val, 0)
	}
	waitFor(t, func() bool { return rr.DBSize(ctx).Val() == 1000 && wr.DBSize(ctx).Val() == 1000 }, "replicas to load 1000 keys")
	used := memInfo(t, c, "memory", "used_memory")
	c.ConfigSet(ctx, "maxmemory-policy", "allkeys-random")
	c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used-200*600, 10))
	if err := c.Set(ctx, "trigger", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var ev, n int64
	waitUnderLimit(t, c)
	ev, n = memInfo(t, c, "stats", "evicted_keys"), c.DBSize(ctx).Val()
	if ev < 200 || n != 1001-ev {
		t.Fatalf("evicted_keys %d, dbsize %d", ev, n)
	}
	waitFor(t, func() bool { return rr.DBSize(ctx).Val() == n && wr.DBSize(ctx).Val() == n }, "replicas to apply the evictions")
	for i := range 1000 {
		k := "k:" + strconv.Itoa(i)
		m := c.Exists(ctx, k).Val()
		if r := rr.Exists(ctx, k).Val(); r != m {
			t.Fatalf("%s: master %d, redis replica %d", k, m, r)
		}
		if r := wr.Exists(ctx, k).Val(); r != m {
			t.Fatalf("%s: master %d, warden replica %d", k, m, r)
		}
	}
	if e := memInfo(t, wr, "stats", "evicted_keys"); e != 0 {
		t.Errorf("the replica evicted %d keys on its own", e)
	}
	// The AOF holds one DEL per eviction.
	var aof strings.Builder
	waitFor(t, func() bool {
		aof.Reset()
		files, _ := filepath.Glob(filepath.Join(s.cfg.Get("dir"), "appendonlydir", "*.incr.aof"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			aof.Write(b)
		}
		return int64(strings.Count(aof.String(), "$3\r\nDEL\r\n")) >= ev
	}, "the AOF to hold the evictions' DELs")
	if got := int64(strings.Count(aof.String(), "$3\r\nDEL\r\n")); got != ev {
		t.Errorf("AOF DELs %d, evicted_keys %d", got, ev)
	}
}

// TestEvictScriptOOMSideBySide: scripts over maxmemory as Redis 7.0 treats
// them: a flagged script without allow-oom is refused, a compat script's
// first denyoom command fails, reads and allow-oom scripts run.
func TestEvictScriptOOMSideBySide(t *testing.T) {
	_, addr := startServer(t)
	w := newClient(t, addr, oneConn)
	r := redistest.Start(t, "").Client(t, 0)
	sideBySide(t, w, r,
		[]any{"set", "k", "v"},
		[]any{"config", "set", "maxmemory", "1"},
		[]any{"eval", "return redis.call('get', KEYS[1])", "1", "k"},
		[]any{"eval", "return redis.call('set', KEYS[1], 'x')", "1", "k"},
		[]any{"eval", "return redis.pcall('set', KEYS[1], 'x')", "1", "k"},
		[]any{"eval", "redis.call('del', KEYS[1]); return redis.call('set', KEYS[1], 'x')", "1", "k"},
		[]any{"eval", "#!lua\nreturn redis.call('set', KEYS[1], 'y')", "1", "k"},
		[]any{"eval", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "k"},
		[]any{"eval", "#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'z')", "1", "k"},
		[]any{"get", "k"},
		[]any{"config", "set", "maxmemory", "0"},
	)
}
