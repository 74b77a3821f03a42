package aof

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/rdb"
)

// model is a tiny keyspace that replays the commands the tests use.
type model map[int]map[string]*keyspace.Object

type replayer struct {
	m  model
	db int
}

func (r *replayer) keys() map[string]*keyspace.Object {
	if r.m[r.db] == nil {
		r.m[r.db] = map[string]*keyspace.Object{}
	}
	return r.m[r.db]
}

func (r *replayer) get(key string, typ keyspace.Type, mk func() any) (*keyspace.Object, error) {
	o := r.keys()[key]
	if o == nil {
		o = &keyspace.Object{Type: typ, Val: mk()}
		r.keys()[key] = o
	}
	if o.Type != typ {
		return nil, fmt.Errorf("WRONGTYPE %s", key)
	}
	return o, nil
}

func (r *replayer) apply(argv [][]byte) error {
	a := make([]string, len(argv))
	for i, b := range argv {
		a[i] = string(b)
	}
	switch strings.ToUpper(a[0]) {
	case "SELECT":
		r.db, _ = strconv.Atoi(a[1])
	case "SET":
		if len(a) != 3 {
			return fmt.Errorf("model: SET options %q", a)
		}
		r.keys()[a[1]] = keyspace.NewString([]byte(a[2]))
	case "DEL":
		for _, k := range a[1:] {
			delete(r.keys(), k)
		}
	case "RPUSH":
		o, err := r.get(a[1], keyspace.TList, func() any { return keyspace.NewList() })
		if err != nil {
			return err
		}
		for _, v := range a[2:] {
			o.List().PushBack([]byte(v))
		}
	case "SADD":
		o, err := r.get(a[1], keyspace.TSet, func() any { return keyspace.Set{} })
		if err != nil {
			return err
		}
		for _, v := range a[2:] {
			o.Set()[v] = struct{}{}
		}
	case "HSET", "HMSET":
		o, err := r.get(a[1], keyspace.THash, func() any { return keyspace.NewHash(0) })
		if err != nil {
			return err
		}
		for i := 2; i+1 < len(a); i += 2 {
			o.Hash().Set([]byte(a[i]), []byte(a[i+1]))
		}
	case "ZADD":
		o, err := r.get(a[1], keyspace.TZSet, func() any { return keyspace.NewZSet() })
		if err != nil {
			return err
		}
		for i := 2; i+1 < len(a); i += 2 {
			f, err := strconv.ParseFloat(a[i], 64)
			if err != nil {
				return err
			}
			o.ZSet().Set([]byte(a[i+1]), f)
		}
	case "PEXPIREAT":
		if o := r.keys()[a[1]]; o != nil {
			o.Expire, _ = strconv.ParseInt(a[2], 10, 64)
		}
	default:
		return fmt.Errorf("model: unsupported command %q", a[0])
	}
	return nil
}

// loadRDB reads a whole RDB image into the model (test-only walker over
// rdb.Decoder; functions and module data are refused).
func (r *replayer) loadRDB(br *bufio.Reader) error {
	d := rdb.NewDecoder(br)
	var hdr [9]byte
	if err := d.ReadFull(hdr[:]); err != nil || !bytes.HasPrefix(hdr[:], []byte("REDIS")) {
		return fmt.Errorf("bad RDB header %q: %v", hdr, err)
	}
	db, expire := 0, int64(0)
	for {
		op, err := d.ReadByte()
		if err != nil {
			return err
		}
		var buf [8]byte
		switch op {
		case 0xFF: // EOF, then the checksum
			return d.ReadFull(buf[:])
		case 0xFE:
			n, err := d.ReadLength()
			if err != nil {
				return err
			}
			db = int(n)
		case 0xFB:
			d.ReadLength()
			if _, err := d.ReadLength(); err != nil {
				return err
			}
		case 0xFA:
			d.ReadString()
			if _, err := d.ReadString(); err != nil {
				return err
			}
		case 0xFC:
			if err := d.ReadFull(buf[:]); err != nil {
				return err
			}
			expire = int64(binary.LittleEndian.Uint64(buf[:]))
		case 0xFD:
			if err := d.ReadFull(buf[:4]); err != nil {
				return err
			}
			expire = int64(binary.LittleEndian.Uint32(buf[:4])) * 1000
		case 0xF8:
			if _, err := d.ReadLength(); err != nil {
				return err
			}
		case 0xF9:
			if _, err := d.ReadByte(); err != nil {
				return err
			}
		case 0xF5, 0xF6, 0xF7:
			return fmt.Errorf("RDB opcode %#x not supported by the test walker", op)
		default:
			key, err := d.ReadString()
			if err != nil {
				return err
			}
			o, err := d.ReadValue(op)
			if err != nil {
				return err
			}
			o.Expire, expire = expire, 0
			if r.m[db] == nil {
				r.m[db] = map[string]*keyspace.Object{}
			}
			r.m[db][string(key)] = o
		}
	}
}

// describe renders an object canonically (sorted unordered collections).
func describe(o *keyspace.Object) string {
	var parts []string
	switch o.Type {
	case keyspace.TString:
		parts = []string{string(o.Str)}
	case keyspace.TList:
		for i := 0; i < o.List().Len(); i++ {
			parts = append(parts, string(o.List().Index(i)))
		}
	case keyspace.TSet:
		for m := range o.Set() {
			parts = append(parts, m)
		}
		slices.Sort(parts)
	case keyspace.THash:
		o.Hash().Range(func(f string, v []byte) bool {
			parts = append(parts, f+"="+string(v))
			return true
		})
		slices.Sort(parts)
	case keyspace.TZSet:
		for _, e := range o.ZSet().All() {
			parts = append(parts, e.Member+"="+strconv.FormatFloat(e.Score, 'g', -1, 64))
		}
	}
	return fmt.Sprintf("%s%q ttl=%d", o.Type.Name(), parts, o.Expire)
}

func describeModel(m model) map[string]string {
	out := map[string]string{}
	for db, keys := range m {
		for k, o := range keys {
			out[fmt.Sprintf("%d/%s", db, k)] = describe(o)
		}
	}
	return out
}

// fetchAll reads every key of dbs from a server.
func fetchAll(t *testing.T, r *redistest.Server, dbs ...int) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, db := range dbs {
		c := r.Client(t, db)
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			typ, _ := c.Type(ctx, k).Result()
			var o *keyspace.Object
			switch typ {
			case "string":
				v, _ := c.Get(ctx, k).Result()
				o = keyspace.NewString([]byte(v))
			case "list":
				l := keyspace.NewList()
				vs, _ := c.LRange(ctx, k, 0, -1).Result()
				for _, v := range vs {
					l.PushBack([]byte(v))
				}
				o = &keyspace.Object{Type: keyspace.TList, Val: l}
			case "set":
				s := keyspace.Set{}
				vs, _ := c.SMembers(ctx, k).Result()
				for _, v := range vs {
					s[v] = struct{}{}
				}
				o = &keyspace.Object{Type: keyspace.TSet, Val: s}
			case "hash":
				h := keyspace.NewHash(0)
				m, _ := c.HGetAll(ctx, k).Result()
				for f, v := range m {
					h.Set([]byte(f), []byte(v))
				}
				o = &keyspace.Object{Type: keyspace.THash, Val: h}
			case "zset":
				z := keyspace.NewZSet()
				zs, _ := c.ZRangeWithScores(ctx, k, 0, -1).Result()
				for _, e := range zs {
					z.Add(e.Member.(string), e.Score)
				}
				o = &keyspace.Object{Type: keyspace.TZSet, Val: z}
			default:
				t.Fatalf("unexpected type %q for %s", typ, k)
			}
			if ms, err := c.Do(ctx, "PEXPIRETIME", k).Int64(); err == nil && ms > 0 {
				o.Expire = ms
			}
			out[fmt.Sprintf("%d/%s", db, k)] = describe(o)
		}
	}
	return out
}

func compareKeyspaces(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %.200s\nwant %.200s", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected key %.200s", k, got[k])
		}
	}
}

func waitRewrite(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		info, err := c.Info(ctx, "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") {
			if !strings.Contains(info, "aof_last_bgrewrite_status:ok") {
				t.Fatalf("rewrite failed:\n%s", info)
			}
			return
		}
	}
	t.Fatal("BGREWRITEAOF did not finish in 10s")
}

// TestInteropLoadRedisAOF: a real Redis 7.0 writes an AOF (before and after a
// BGREWRITEAOF, with and without the RDB preamble); warden's loader must see
// the same data set.
func TestInteropLoadRedisAOF(t *testing.T) {
	for _, preamble := range []string{"yes", "no"} {
		t.Run("preamble-"+preamble, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv := redistest.Start(t, dir, "--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", preamble)
			ctx := context.Background()
			c0, c3, c5 := srv.Client(t, 0), srv.Client(t, 3), srv.Client(t, 5)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			var items []any
			for i := 0; i < 150; i++ {
				items = append(items, fmt.Sprint("item-", i))
			}
			must(c0.Set(ctx, "s", "hello\r\nworld", 0).Err())
			must(c0.RPush(ctx, "list", items...).Err())
			must(c0.SAdd(ctx, "set", items[:70]...).Err())
			must(c0.SAdd(ctx, "intset", 1, 2, -3).Err())
			fields := []any{}
			for i := 0; i < 70; i++ {
				fields = append(fields, fmt.Sprint("f", i), fmt.Sprint(i))
			}
			must(c0.HSet(ctx, "hash", fields...).Err())
			must(c0.ZAdd(ctx, "zset", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: math.Inf(-1), Member: "b"},
				redis.Z{Score: 0.1, Member: "c"}, redis.Z{Score: 1e300, Member: "d"}).Err())
			must(c0.Expire(ctx, "list", time.Hour).Err())
			must(c3.Set(ctx, "db3", "x", 0).Err())
			must(c0.Set(ctx, "gone", "x", 0).Err())
			must(c0.Del(ctx, "gone").Err())
			_, err := c0.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "tx1", "1", 0)
				p.RPush(ctx, "txlist", "a", "b")
				return nil
			})
			must(err)

			must(c0.BgRewriteAOF(ctx).Err())
			waitRewrite(t, c0)

			must(c0.Set(ctx, "after", "rewrite", 0).Err())
			must(c0.RPush(ctx, "list", "tail").Err())
			must(c5.ZAdd(ctx, "z5", redis.Z{Score: -2, Member: "m"}).Err())
			_, err = c5.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SAdd(ctx, "s5", "x")
				p.HSet(ctx, "h5", "f", "v")
				p.Expire(ctx, "h5", time.Hour)
				return nil
			})
			must(err)
			want := fetchAll(t, srv, 0, 3, 5)
			if len(want) != 13 {
				t.Fatalf("Redis holds %d keys, want 13", len(want))
			}
			srv.Stop(t)

			aofDir := filepath.Join(dir, "appendonlydir")
			m, err := readManifest(aofDir, "appendonly.aof")
			must(err)
			wantBase := map[string]string{"yes": ".base.rdb", "no": ".base.aof"}[preamble]
			if m.base == nil || !strings.HasSuffix(m.base.name, wantBase) {
				t.Fatalf("Redis's manifest base %+v, want a %s", m.base, wantBase)
			}
			r := &replayer{m: model{}}
			opts := testOptions(aofDir, nil)
			a, err := Open(opts)
			must(err)
			defer a.Close()
			st, err := a.Load(r.loadRDB, r.apply)
			must(err)
			t.Logf("loaded Redis's AOF (%s + %d incr): %d commands, %d bytes", m.base.name, len(m.incr), st.Commands, st.Bytes)
			if st.Truncated || st.Commands == 0 {
				t.Fatalf("stats %+v", st)
			}
			compareKeyspaces(t, describeModel(r.m), want)
		})
	}
}

// TestInteropRedisLoadsWardenAOF: an AOF directory written by this package
// (no preamble: .base.aof written with AppendEntryCommands) is loaded by a
// real Redis 7.0 into the same data set, both after a finished rewrite and
// in the state a crash before Finish leaves.
func TestInteropRedisLoadsWardenAOF(t *testing.T) {
	for _, finish := range []bool{true, false} {
		t.Run(map[bool]string{true: "finished", false: "crashed-mid-rewrite"}[finish], func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opts := testOptions(filepath.Join(dir, "appendonlydir"), nil)
			a, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			r := &replayer{m: model{}}
			write := func(db int, cmds ...[][]byte) {
				t.Helper()
				if err := a.Sync(a.Append(db, cmds...)); err != nil {
					t.Fatal(err)
				}
				r.db = db
				for _, c := range cmds {
					if name := string(c[0]); name == "MULTI" || name == "EXEC" {
						continue
					}
					if err := r.apply(c); err != nil {
						t.Fatal(err)
					}
				}
			}
			expireAt := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
			list := []string{"RPUSH", "list"}
			for i := 0; i < 150; i++ {
				list = append(list, fmt.Sprint("e", i))
			}
			write(0, argv("SET", "s", "bin\r\n\x00value"), argv(list...))
			write(0, argv("SADD", "set", "a", "b", "c"), argv("SADD", "intset", "1", "2", "-3"))
			write(2, argv("HSET", "hash", "f1", "v1", "f2", "v2"), argv("PEXPIREAT", "hash", expireAt))
			write(2, argv("ZADD", "zset", "1.5", "a", "-inf", "b", "0.1", "c", "1e300", "d"))
			write(0, argv("SET", "gone", "1"), argv("DEL", "gone"))

			rw, err := a.BeginRewrite()
			if err != nil {
				t.Fatal(err)
			}
			// The snapshot the server would write while holding every lock.
			var base []byte
			for _, db := range []int{0, 2} {
				base = AppendSelect(base, db)
				keys := slices.Sorted(func(yield func(string) bool) {
					for k := range r.m[db] {
						if !yield(k) {
							return
						}
					}
				})
				for _, k := range keys {
					base = AppendEntryCommands(base, []byte(k), r.m[db][k])
				}
			}
			write(0, argv("MULTI"), argv("SET", "tx", "1"), argv("RPUSH", "list", "tail"), argv("EXEC"))
			rw.Base().Write(base)
			if finish {
				if err := rw.Finish(); err != nil {
					t.Fatal(err)
				}
			}
			write(5, argv("SET", "after", "rewrite"), argv("SADD", "set5", "x"))
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			srv := redistest.Start(t, dir, "--appendonly", "yes")
			want := describeModel(r.m)
			if len(want) != 9 {
				t.Fatalf("model holds %d keys, want 9", len(want))
			}
			compareKeyspaces(t, fetchAll(t, srv, 0, 2, 5), want)
		})
	}
}
