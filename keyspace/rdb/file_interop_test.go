package rdb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/keyspace"
)

// Real Redis loads warden's files: every key, type, value, TTL and the
// encoding Redis picks agree, with and without compression and checksum.
func TestInteropRedisLoadsWardenFile(t *testing.T) {
	for _, opts := range []FileOptions{
		{Compress: true, Checksum: true, UsedMem: 1 << 20},
		{Compress: false, Checksum: false, AOFBase: true},
	} {
		t.Run("compress="+strconv.FormatBool(opts.Compress), func(t *testing.T) {
			now := time.Now().UnixMilli()
			keys := fileFixture(now, false)
			expired := str("gone")
			expired.Expire = now - 10_000
			keys = append(keys, fileKey{3, "expired", expired})
			dir := t.TempDir()
			f, err := os.Create(filepath.Join(dir, "dump.rdb"))
			if err != nil {
				t.Fatal(err)
			}
			bw := bufio.NewWriter(f)
			writeFileTo(t, bw, keys, opts)
			if err := errors.Join(bw.Flush(), f.Close()); err != nil {
				t.Fatal(err)
			}
			srv := redistest.Start(t, dir)
			ctx := context.Background()
			want := map[int]int{}
			for _, k := range keys {
				if k.o.Expire == 0 || k.o.Expire > now {
					want[k.db]++
				}
			}
			clients := map[int]*redis.Client{0: srv.Client(t, 0), 3: srv.Client(t, 3)}
			for db, c := range clients {
				if n, err := c.DBSize(ctx).Result(); err != nil || int(n) != want[db] {
					t.Fatalf("db %d: DBSIZE %d (%v), want %d", db, n, err, want[db])
				}
			}
			for _, k := range keys {
				c := clients[k.db]
				if k.key == "expired" {
					if n, _ := c.Exists(ctx, k.key).Result(); n != 0 {
						t.Errorf("Redis kept a key that expired before loading")
					}
					continue
				}
				got, err := fetchObject(ctx, c, k.key)
				if err != nil {
					t.Fatalf("%q: %v", k.key, err)
				}
				if describe(got) != describe(k.o) {
					t.Errorf("db %d %q: Redis has\n %.300s\nwant %.300s", k.db, k.key, describe(got), describe(k.o))
				}
				wantTTL := int64(-1)
				if k.o.Expire != 0 {
					wantTTL = k.o.Expire
				}
				if at, err := c.Do(ctx, "PEXPIRETIME", k.key).Int64(); err != nil || at != wantTTL {
					t.Errorf("db %d %q: PEXPIRETIME %d (%v), want %d", k.db, k.key, at, err, wantTTL)
				}
				if enc, err := c.ObjectEncoding(ctx, k.key).Result(); err != nil || enc != k.o.Encoding() {
					t.Errorf("db %d %q: Redis's encoding %q (%v), warden says %q", k.db, k.key, enc, err, k.o.Encoding())
				}
			}
			if !opts.Checksum && !strings.Contains(srv.Log(), "checksum disabled") {
				t.Errorf("Redis did not notice the disabled checksum:\n%s", srv.Log())
			}
		})
	}
}

// storeInRedis writes k into a real Redis with ordinary commands.
func storeInRedis(ctx context.Context, c *redis.Client, k fileKey) error {
	args := func(cmd string) []any { return []any{cmd, k.key} }
	var a []any
	switch k.o.Type {
	case keyspace.TString:
		a = append(args("SET"), string(k.o.Str))
	case keyspace.TList:
		a = args("RPUSH")
		l := k.o.List()
		for i := range l.Len() {
			a = append(a, string(l.Index(i)))
		}
	case keyspace.TSet:
		a = args("SADD")
		for m := range k.o.Set() {
			a = append(a, m)
		}
	case keyspace.THash:
		a = args("HSET")
		k.o.Hash().Range(func(f string, v []byte) bool {
			a = append(a, f, string(v))
			return true
		})
	case keyspace.TZSet:
		a = args("ZADD")
		for _, e := range k.o.ZSet().All() {
			s := strconv.FormatFloat(e.Score, 'g', -1, 64)
			if math.IsInf(e.Score, 0) {
				s = strings.ToLower(s)
			}
			a = append(a, s, e.Member)
		}
	}
	if err := c.Do(ctx, a...).Err(); err != nil {
		return err
	}
	if k.o.Expire != 0 {
		return c.Do(ctx, "PEXPIREAT", k.key, k.o.Expire).Err()
	}
	return nil
}

// loadFile loads a file from disk, keyed by db and key.
func loadFile(t *testing.T, path string) (map[int]map[string]LoadedEntry, FileInfo, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]map[string]LoadedEntry{}
	info, err := Load(bufio.NewReader(bytes.NewReader(raw)), func(e LoadedEntry) error {
		if got[e.DB] == nil {
			got[e.DB] = map[string]LoadedEntry{}
		}
		if _, dup := got[e.DB][string(e.Key)]; dup {
			t.Errorf("duplicate key %q in db %d", e.Key, e.DB)
		}
		got[e.DB][string(e.Key)] = e
		return nil
	})
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return got, info, raw
}

func compareLoaded(t *testing.T, got map[int]map[string]LoadedEntry, keys []fileKey) {
	t.Helper()
	n := 0
	for _, m := range got {
		n += len(m)
	}
	if n != len(keys) {
		t.Errorf("loaded %d keys, want %d", n, len(keys))
	}
	for _, k := range keys {
		e, ok := got[k.db][k.key]
		if !ok {
			t.Errorf("db %d %q missing", k.db, k.key)
			continue
		}
		if describe(e.Obj) != describe(k.o) {
			t.Errorf("db %d %q: loaded\n %.300s\nwant %.300s", k.db, k.key, describe(e.Obj), describe(k.o))
		}
		if e.Obj.Expire != k.o.Expire {
			t.Errorf("db %d %q: expire %d, want %d", k.db, k.key, e.Obj.Expire, k.o.Expire)
		}
	}
}

// opBefore returns the opcode that precedes string key (a key without TTL
// whose IDLE or FREQ argument takes one byte), 0 if none.
func opBefore(raw []byte, key string) byte {
	i := bytes.Index(raw, AppendString([]byte{TypeString}, []byte(key)))
	if i < 2 {
		return 0
	}
	return raw[i-2]
}

// warden loads what real Redis saves: its compact and large encodings,
// LZF strings, TTLs, IDLE/FREQ opcodes, an unchecked file and an AOF base.
func TestInteropLoadRedisFile(t *testing.T) {
	keys := fileFixture(time.Now().UnixMilli(), false)
	ctx := context.Background()
	// populated starts a server holding keys.
	populated := func(t *testing.T, config ...string) (*redistest.Server, *redis.Client, string) {
		dir := t.TempDir()
		srv := redistest.Start(t, dir, config...)
		clients := map[int]*redis.Client{0: srv.Client(t, 0), 3: srv.Client(t, 3)}
		for _, k := range keys {
			if err := storeInRedis(ctx, clients[k.db], k); err != nil {
				t.Fatalf("storing %q: %v", k.key, err)
			}
		}
		return srv, clients[0], dir
	}
	_, c0, dir := populated(t)
	dump := filepath.Join(dir, "dump.rdb")
	save := func(t *testing.T, config ...string) (map[int]map[string]LoadedEntry, FileInfo, []byte) {
		t.Helper()
		for i := 0; i < len(config); i += 2 {
			if err := c0.ConfigSet(ctx, config[i], config[i+1]).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := c0.Save(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		return loadFile(t, dump)
	}

	t.Run("default", func(t *testing.T) {
		got, info, raw := save(t)
		compareLoaded(t, got, keys)
		if info.Version != 10 || info.Aux["redis-ver"] != "7.0.15" || info.Aux["aof-base"] != "0" || info.Keys != len(keys) {
			t.Errorf("info %+v", info)
		}
		if binary.LittleEndian.Uint64(raw[len(raw)-8:]) == 0 {
			t.Errorf("Redis wrote no checksum")
		}
		// Redis compressed the long string: the loader decompressed it.
		if bytes.Contains(raw, []byte(strings.Repeat("compressible ", 10))) {
			t.Errorf("Redis did not compress (rdbcompression yes is the default)")
		}
	})
	t.Run("uncompressed, unchecked, LRU", func(t *testing.T) {
		// rdbchecksum is immutable at run time: a server of its own.
		_, c, dir := populated(t, "--rdbchecksum", "no", "--rdbcompression", "no", "--maxmemory-policy", "allkeys-lru")
		if err := c.Save(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		got, _, raw := loadFile(t, filepath.Join(dir, "dump.rdb"))
		compareLoaded(t, got, keys)
		if !bytes.Contains(raw, []byte(strings.Repeat("compressible ", 10))) {
			t.Errorf("rdbcompression no, yet the long string is compressed")
		}
		if binary.LittleEndian.Uint64(raw[len(raw)-8:]) != 0 {
			t.Errorf("rdbchecksum no, yet a checksum")
		}
		if op := opBefore(raw, "str:int"); op != opIdle {
			t.Errorf("no IDLE opcode in an allkeys-lru file (%#x)", op)
		}
		for _, m := range got {
			for k, e := range m {
				if idle := e.Obj.IdleSeconds(); idle < 0 || idle > 60 {
					t.Errorf("%q: idle %d s", k, idle)
				}
			}
		}
	})
	t.Run("LFU", func(t *testing.T) {
		got, _, raw := save(t, "maxmemory-policy", "allkeys-lfu")
		if op := opBefore(raw, "str:int"); op != opFreq {
			t.Errorf("no FREQ opcode in an allkeys-lfu file (%#x)", op)
		}
		compareLoaded(t, got, keys)
	})
	t.Run("AOF base", func(t *testing.T) {
		// Enabling AOF makes Redis 7.0 rewrite: the base is an RDB file
		// (aof-use-rdb-preamble yes) marked aof-base.
		if err := c0.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		var base []string
		for {
			info, err := c0.Info(ctx, "persistence").Result()
			if err != nil {
				t.Fatal(err)
			}
			base, _ = filepath.Glob(filepath.Join(dir, "appendonlydir", "*.base.rdb"))
			if len(base) == 1 && strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no AOF base file: %s", info)
			}
			time.Sleep(10 * time.Millisecond) // nothing to wait on but INFO
		}
		got, info, _ := loadFile(t, base[0])
		compareLoaded(t, got, keys)
		if info.Aux["aof-base"] != "1" {
			t.Errorf("aof-base %q", info.Aux["aof-base"])
		}
		if err := c0.ConfigSet(ctx, "appendonly", "no").Err(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("functions", func(t *testing.T) {
		if err := c0.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		c0.Set(ctx, "plain", "v", 0)
		lib := "#!lua name=mylib\nredis.register_function('f', function() return 1 end)"
		if err := c0.FunctionLoad(ctx, lib).Err(); err != nil {
			t.Fatal(err)
		}
		// Functions load: their code comes back in the file info.
		if err := c0.Save(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(dump)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		info, err := Load(bufio.NewReader(f), func(LoadedEntry) error { return nil })
		if err != nil || len(info.Functions) != 1 || info.Functions[0] != lib {
			t.Errorf("redis-server's function library: %q, %v", info.Functions, err)
		}
	})
}
