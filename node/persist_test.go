package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/node/config"
)

// node is one in-process server on a data dir that outlives it, so tests can
// stop it and start another on the same files.
type testNode struct {
	s    *Server
	addr string
	stop func() error
}

func startNodeIn(t *testing.T, dir string, directives ...string) (*testNode, error) {
	t.Helper()
	cfg := config.New()
	all := append([]string{"port", "0", "dir", dir, "repl-diskless-sync-delay", "0"}, directives...)
	for i := 0; i+1 < len(all); i += 2 {
		if err := cfg.Set(all[i], all[i+1], false); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.Default()
	}
	s, err := New(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := s.Listen(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		// Serve loads the data set before it accepts anyone.
		errc <- s.Serve(ctx)
	}()
	addr := s.Addr().String()
	// Wait until the node answers (loading finished) or Serve failed.
	go func() {
		defer close(started)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
			err := c.Ping(context.Background()).Err()
			c.Close()
			if err == nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			default:
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	select {
	case err := <-errc:
		cancel()
		return nil, err
	case <-started:
	}
	stopped := false
	n := &testNode{s: s, addr: addr}
	n.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-errc
	}
	t.Cleanup(func() { n.stop() })
	return n, nil
}

func mustStartNodeIn(t *testing.T, dir string, directives ...string) *testNode {
	t.Helper()
	n, err := startNodeIn(t, dir, directives...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// dumpAll renders every key of dbs 0..3 for comparing data sets.
func dumpAll(t *testing.T, addr string) string { return redistest.Dump(t, addr, 4) }

// fillAllTypes writes every type, with and without TTLs, in dbs 0 and 3.
func fillAllTypes(t *testing.T, addr string) {
	t.Helper()
	ctx := context.Background()
	for _, db := range []int{0, 3} {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		p := c.Pipeline()
		p.Set(ctx, "str", "hello", 0)
		p.Set(ctx, "int", "12345", 0)
		p.Set(ctx, "big", strings.Repeat("abc", 1000), 0)
		p.Set(ctx, "ttl", "expiring", 2*time.Hour)
		p.RPush(ctx, "list", "a", "b", "c")
		p.HSet(ctx, "hash", "f1", "v1", "f2", "v2")
		p.SAdd(ctx, "intset", 1, 2, 3)
		p.SAdd(ctx, "set", "x", "y")
		p.ZAdd(ctx, "zset", redis.Z{Score: 1.5, Member: "m1"}, redis.Z{Score: -2, Member: "m2"})
		for i := 0; i < 300; i++ {
			p.HSet(ctx, "bighash", "field"+strconv.Itoa(i), i)
			p.ZAdd(ctx, "bigzset", redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)})
			p.RPush(ctx, "biglist", i)
		}
		p.Expire(ctx, "bighash", 3*time.Hour)
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

func TestPersistRDBSaveAndRestart(t *testing.T) {
	dir := t.TempDir()
	n := mustStartNodeIn(t, dir, "save", "")
	fillAllTypes(t, n.addr)
	c := newClient(t, n.addr)
	ctx := context.Background()
	goneAt := time.Now().Add(500 * time.Millisecond)
	c.Set(ctx, "gone", "x", 500*time.Millisecond)
	if err := c.Do(ctx, "save").Err(); err != nil {
		t.Fatal(err)
	}
	if v := c.Info(ctx, "persistence").Val(); !strings.Contains(v, "rdb_changes_since_last_save:0") || !strings.Contains(v, "rdb_saves:1") {
		t.Fatalf("INFO persistence after SAVE:\n%s", v)
	}
	before := dumpAll(t, n.addr)
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(goneAt) + 10*time.Millisecond) // "gone" expires while the server is down
	n2 := mustStartNodeIn(t, dir, "save", "")
	after := dumpAll(t, n2.addr)
	before = strings.ReplaceAll(before, "db0 \"gone\" string x ttl\n", "")
	if after != before {
		t.Fatalf("data after restart differs:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n2.s.persist.expired.Load() != 1 {
		t.Fatalf("keys expired at load = %d, want 1", n2.s.persist.expired.Load())
	}
}

// A BGSAVE taken while transactions keep two keys in different partitions
// equal must capture them equal: the snapshot is one point in time.
func TestPersistBGSAVEIsPointInTime(t *testing.T) {
	dir := t.TempDir()
	n := mustStartNodeIn(t, dir, "save", "")
	ctx := context.Background()
	c := newClient(t, n.addr)
	for i := 0; i < 2000; i++ {
		c.Set(ctx, "filler"+strconv.Itoa(i), i, 0)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := newClient(t, n.addr)
		for !stop.Load() {
			w.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "a")
				p.Incr(ctx, "{other}b")
				return nil
			})
		}
	}()
	waitFor(t, func() bool { v, _ := c.Get(ctx, "a").Int(); return v > 100 }, "transactions to run")
	if err := c.Do(ctx, "bgsave").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_bgsave_in_progress:0")
	}, "BGSAVE to finish")
	stop.Store(true)
	wg.Wait()
	if v := c.Info(ctx, "persistence").Val(); !strings.Contains(v, "rdb_last_bgsave_status:ok") {
		t.Fatalf("BGSAVE failed:\n%s", v)
	}
	n.s.persist.exiting.Store(true) // keep the BGSAVE file, not a shutdown save
	n.stop()
	n2 := mustStartNodeIn(t, dir, "save", "")
	c2 := newClient(t, n2.addr)
	a, _ := c2.Get(ctx, "a").Int()
	b, _ := c2.Get(ctx, "{other}b").Int()
	if a == 0 || a != b {
		t.Fatalf("snapshot is not a point in time: a=%d b=%d", a, b)
	}
	if n := c2.DBSize(ctx).Val(); n != 2002 {
		t.Fatalf("dbsize after load = %d, want 2002", n)
	}
}

func TestPersistAOFRestart(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		t.Run("preamble-"+preamble, func(t *testing.T) {
			dir := t.TempDir()
			opts := []string{"appendonly", "yes", "save", "", "aof-use-rdb-preamble", preamble}
			n := mustStartNodeIn(t, dir, opts...)
			fillAllTypes(t, n.addr)
			ctx := context.Background()
			c := newClient(t, n.addr)
			c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "tx1", "1", 0)
				p.Select(ctx, 3)
				p.Set(ctx, "tx2", "2", 0)
				return nil
			})
			c.Incr(ctx, "counter")
			c.Del(ctx, "str")
			c.LPop(ctx, "list")
			// A rewrite in the middle: its base plus later writes must replay
			// to the same data set.
			if err := c.Do(ctx, "bgrewriteaof").Err(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool {
				return strings.Contains(c.Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0")
			}, "rewrite to finish")
			c.Incr(ctx, "counter")
			c.HSet(ctx, "hash", "f3", "v3")
			before := dumpAll(t, n.addr)
			if err := n.stop(); err != nil {
				t.Fatal(err)
			}
			n2 := mustStartNodeIn(t, dir, opts...)
			if after := dumpAll(t, n2.addr); after != before {
				t.Fatalf("data after AOF replay differs:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// Writes keep arriving during a rewrite; none may be lost, and the data set
// after a restart is the one the server had.
func TestPersistAOFRewriteUnderLoad(t *testing.T) {
	dir := t.TempDir()
	opts := []string{"appendonly", "yes", "save", ""}
	n := mustStartNodeIn(t, dir, opts...)
	ctx := context.Background()
	c := newClient(t, n.addr)
	for i := 0; i < 5000; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), i, 0)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cl := newClient(t, n.addr)
			for i := 0; !stop.Load(); i++ {
				cl.RPush(ctx, "log"+strconv.Itoa(w), i)
				cl.Incr(ctx, "k"+strconv.Itoa(i%5000))
			}
		}(w)
	}
	waitFor(t, func() bool { return c.LLen(ctx, "log0").Val() > 200 }, "writers")
	for r := 0; r < 3; r++ {
		if err := c.Do(ctx, "bgrewriteaof").Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			return strings.Contains(c.Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0")
		}, "rewrite to finish")
	}
	stop.Store(true)
	wg.Wait()
	before := dumpAll(t, n.addr)
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	// Only the last base and incr remain.
	files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*"))
	if len(files) != 3 {
		t.Errorf("AOF dir after rewrites holds %v, want manifest + base + incr", files)
	}
	n2 := mustStartNodeIn(t, dir, opts...)
	if after := dumpAll(t, n2.addr); after != before {
		t.Fatal("data after rewrite and replay differs from the data before shutdown")
	}
}

// A failed background save makes the node refuse writes (MISCONF) while save
// rules are set, and accept them again after a good save.
func TestPersistMISCONF(t *testing.T) {
	dir := t.TempDir()
	n := mustStartNodeIn(t, dir, "save", "3600 1")
	ctx := context.Background()
	c := newClient(t, n.addr)
	c.Set(ctx, "k", "v", 0)
	// A directory where the dump must go makes the rename fail.
	if err := os.Mkdir(filepath.Join(dir, "dump.rdb"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "dump.rdb", "x"), []byte("x"), 0o644)
	c.Do(ctx, "bgsave")
	waitFor(t, func() bool {
		return strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_last_bgsave_status:err")
	}, "BGSAVE to fail")
	if err := c.Set(ctx, "k", "v2", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "MISCONF") {
		t.Fatalf("write after failed BGSAVE: %v", err)
	}
	if v := c.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("reads must still work: %q", v)
	}
	os.RemoveAll(filepath.Join(dir, "dump.rdb"))
	if err := c.Do(ctx, "save").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", "v3", 0).Err(); err != nil {
		t.Fatalf("write after a good save: %v", err)
	}
}

func TestPersistCorruptRDBRefused(t *testing.T) {
	dir := t.TempDir()
	n := mustStartNodeIn(t, dir, "save", "")
	fillAllTypes(t, n.addr)
	c := newClient(t, n.addr)
	c.Do(context.Background(), "save")
	n.stop()
	path := filepath.Join(dir, "dump.rdb")
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0xff
	os.WriteFile(path, b, 0o644)
	_, err := startNodeIn(t, dir, "save", "")
	if err == nil || !strings.Contains(err.Error(), "dump.rdb") {
		t.Fatalf("corrupted dump.rdb: %v", err)
	}
}

func TestPersistCommandsAndErrors(t *testing.T) {
	c, ctx := setup(t, "save", "")
	run(t, c, []step{
		{args: []any{"bgsave", "x"}, wantErr: "ERR syntax error"},
		{args: []any{"bgrewriteaof"}, wantErr: "ERR append only file is off"},
	})
	if v, err := c.Do(ctx, "lastsave").Int64(); err != nil || v < time.Now().Add(-time.Hour).Unix() {
		t.Fatalf("LASTSAVE = %d, %v", v, err)
	}
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		v := c.Info(ctx, "persistence").Val()
		return strings.Contains(v, "aof_enabled:1") && strings.Contains(v, "aof_rewrites:1")
	}, "CONFIG SET appendonly yes to write a base")
	if err := c.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "appendfsync", "sometimes").Err(); err == nil {
		t.Fatal("bad appendfsync accepted")
	}
}

// The AOF is rewritten by itself once it has grown auto-aof-rewrite-percentage
// past its size after the last rewrite (and is over the minimum size).
func TestPersistAutoRewrite(t *testing.T) {
	dir := t.TempDir()
	n := mustStartNodeIn(t, dir, "appendonly", "yes", "save", "", "auto-aof-rewrite-min-size", "4096", "auto-aof-rewrite-percentage", "100")
	ctx := context.Background()
	c := newClient(t, n.addr)
	for i := 0; i < 2000; i++ {
		c.Set(ctx, "k", strings.Repeat("x", 100), 0) // the same key: the rewrite shrinks the AOF
	}
	// On a loaded machine the SETs are slow enough for several rewrites, a
	// first one possibly mid-loop, and the writes made while it ran count in
	// the size it leaves (auto-aof-rewrite-percentage's base): keep writing,
	// slowly, until a rewrite has shrunk the AOF.
	deadline := time.Now().Add(30 * time.Second)
	for {
		info := c.Info(ctx, "persistence").Val()
		if strings.Contains(info, "aof_rewrite_in_progress:0") && !strings.Contains(info, "aof_rewrites:0\r") {
			if total, base := n.s.aofLog.Load().Size(); total <= 100_000 && base > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			total, base := n.s.aofLog.Load().Size()
			t.Fatalf("no automatic rewrite shrank the AOF: size %d, base %d\n%s", total, base, info)
		}
		c.Set(ctx, "k", strings.Repeat("x", 100), 0)
		time.Sleep(5 * time.Millisecond)
	}
}

// Replaying the AOF is not a client write: min-replicas-to-write (or a
// failing save) must not drop commands at load.
func TestPersistReplayIgnoresWriteRefusals(t *testing.T) {
	dir := t.TempDir()
	n := mustStartNodeIn(t, dir, "appendonly", "yes", "save", "")
	c := newClient(t, n.addr)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	c.RPush(ctx, "l", "a", "b")
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	n2 := mustStartNodeIn(t, dir, "appendonly", "yes", "save", "", "min-replicas-to-write", "1")
	c2 := newClient(t, n2.addr)
	if v := c2.Get(ctx, "k").Val(); v != "v" || c2.LLen(ctx, "l").Val() != 2 {
		t.Fatalf("after replay with min-replicas-to-write 1: k=%q llen=%d", v, c2.LLen(ctx, "l").Val())
	}
	if err := c2.Set(ctx, "k2", "v", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOREPLICAS") {
		t.Fatalf("client write: %v", err)
	}
}
