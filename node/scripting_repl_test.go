package node

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/slotmap"
)

// A script reads then writes (GET then SET, not atomic as two commands):
// with other scripts and plain INCRs on the same keys running at the same
// time, no update may be lost — for declared keys, for undeclared keys
// (locks extended mid-script) and for scripts touching two undeclared keys
// in opposite orders (no deadlock with MSETs on both).
func TestScriptAtomic(t *testing.T) {
	_, addr := startServer(t, "save", "")
	ctx := context.Background()
	const workers, rounds = 6, 150
	bump := `local v = redis.call('get', KEYS[1]); redis.call('set', KEYS[1], (tonumber(v) or 0) + 1)`
	bumpUndeclared := `local v = redis.call('get', ARGV[1]); redis.call('set', ARGV[1], (tonumber(v) or 0) + 1)`
	// a then b, or b then a; each +1, plus a read of both at once.
	pair := `local x, y = ARGV[1], ARGV[2]
local a = tonumber(redis.call('get', x)) or 0
local b = tonumber(redis.call('get', y)) or 0
redis.call('set', x, a + 1); redis.call('set', y, b + 1)`
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := newClient(t, addr)
			for i := 0; i < rounds; i++ {
				var err error
				switch w % 3 {
				case 0:
					err = c.Eval(ctx, bump, []string{"declared"}).Err()
				case 1:
					err = c.Eval(ctx, bumpUndeclared, nil, "undeclared").Err()
				case 2:
					x, y := "pa", "pb"
					if i%2 == 1 {
						x, y = y, x
					}
					err = c.Eval(ctx, pair, nil, x, y).Err()
				}
				if err != nil && err != redis.Nil {
					errs <- err
					return
				}
				// Plain commands on the same keys meanwhile.
				c.Incr(ctx, "declared")
				c.Incr(ctx, "undeclared")
				c.MSet(ctx, "other"+strconv.Itoa(w), i)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := newClient(t, addr)
	per := workers / 3 * rounds
	want := map[string]int{"declared": per + workers*rounds, "undeclared": per + workers*rounds, "pa": per, "pb": per}
	for k, n := range want {
		if got, _ := c.Get(ctx, k).Int(); got != n {
			t.Errorf("%s = %d, want %d", k, got, n)
		}
	}
}

// MULTI ... EVAL ... EXEC: the script runs inside the transaction.
func TestScriptInsideMulti(t *testing.T) {
	c, ctx := setup(t)
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "1", 0)
		p.Eval(ctx, "return redis.call('incr', KEYS[1]) + redis.call('incr', 'undeclared')", []string{"a"})
		p.Get(ctx, "a")
		return nil
	})
	if err != nil || cmds[1].(*redis.Cmd).Val() != int64(3) || cmds[2].(*redis.StringCmd).Val() != "2" {
		t.Fatalf("MULTI/EVAL/EXEC = %v, %v", cmds, err)
	}
}

// scriptWrites is a set of scripts with writes, run on a master whose
// replicas (warden and redis-server) and AOF must end with the same data.
func runScriptWrites(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	steps := [][]any{
		{"eval", "redis.call('set', KEYS[1], ARGV[1])", 1, "one", "v1"},
		{"eval", "redis.call('set', KEYS[1], 'x'); redis.call('rpush', KEYS[2], 'a', 'b'); redis.call('incr', 'undeclared')", 2, "two", "list"},
		{"eval", "redis.call('select', 3); redis.call('set', 'in3', 'v'); redis.call('select', 0); redis.call('set', 'back0', 'v')", 0},
		{"eval", "redis.call('set', 'ttl', 'v', 'EX', 100); redis.call('hset', 'h', 'f', 'v')", 0},
		{"eval", "redis.call('get', 'one')", 0}, // no write: nothing propagated
		{"eval", "redis.set_repl(redis.REPL_NONE); redis.call('set', 'local-only', 'v'); redis.set_repl(redis.REPL_ALL); redis.call('set', 'replicated', 'v')", 0},
		{"eval", "redis.call('set', 'before-error', 'v'); return redis.call('incr', KEYS[1])", 1, "list"}, // error after a write: the write stays
		{"eval", "local n = 0; for i = 1, 50 do redis.call('zadd', 'z', i, 'm' .. i); n = n + 1 end; return n", 0},
		{"function", "load", "#!lua name=wlib\nredis.register_function('wf', function(keys, args) return redis.call('set', keys[1], args[1]) end)"},
		{"fcall", "wf", 1, "fkey", "fval"},
	}
	for _, s := range steps {
		c.Do(ctx, s...) // errors are part of the run (the incr on a list)
	}
	c.Del(ctx, "local-only") // the replicas never had it
}

// Effects replication: the writes of a script reach a warden replica and a
// redis-server replica (MULTI/EXEC around more than one), which end with
// the master's data set; the replicas run no Lua.
func TestScriptReplication(t *testing.T) {
	ms, maddr := startServer(t, "save", "")
	feed := captureWrites(ms, true)
	_, mport, _ := strings.Cut(maddr, ":")
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	_, redisReplica := redisReplicaOf(t, maddr)
	master, replica := newClient(t, maddr), newClient(t, raddr)
	waitLinkUp(t, replica)
	runScriptWrites(t, master)
	waitInSync(t, master, replica, maddr, raddr, "warden replica after scripts")
	want := redistest.Dump(t, maddr, 4)
	waitFor(t, func() bool {
		return redistest.Dump(t, redisReplica.Options().Addr, 4) == want
	}, "redis-server replica to hold the master's data")
	lines := feed.all()
	got := strings.ToLower(strings.Join(lines, "\n"))
	for _, unit := range []string{
		"0:set one v1\n0:multi\n0:set two x\n0:rpush list a b\n0:incr undeclared\n0:exec",
		"3:multi\n3:set in3 v\n0:set back0 v\n0:exec",
		"0:multi\n0:set ttl v pxat",
		"0:exec\n0:set replicated v\n0:set before-error v\n0:multi\n0:zadd z 1 m1",
		"0:function load",
		"0:set fkey fval",
	} {
		if !strings.Contains(got, unit) {
			t.Errorf("propagated writes lack %q:\n%s", unit, got)
		}
	}
	if slices.ContainsFunc(lines, func(l string) bool {
		return strings.Contains(l, "local-only v") || strings.Contains(strings.ToLower(l), "eval")
	}) {
		t.Errorf("propagated writes hold a REPL_NONE write or an EVAL:\n%s", got)
	}
	// The function came along too.
	if v, err := replica.Do(context.Background(), "fcall_ro", "wf", 0).Result(); err == nil || !strings.Contains(err.Error(), "write flag") {
		t.Errorf("FCALL_RO wf on the replica = %v, %v (want the write-flag refusal: the function exists)", v, err)
	}
}

// The AOF holds the scripts' effects: a restart replays them (no Lua) to
// the same data set, functions included.
func TestScriptAOFReplay(t *testing.T) {
	dir := t.TempDir()
	opts := []string{"appendonly", "yes", "save", ""}
	n := mustStartNodeIn(t, dir, opts...)
	c := newClient(t, n.addr)
	runScriptWrites(t, c)
	before := dumpAll(t, n.addr)
	for _, k := range []string{`"one"`, `"in3"`, `"back0"`, `"z"`, `"fkey"`, `"before-error"`} {
		if !strings.Contains(before, k) {
			t.Fatalf("the scripts did not write %s:\n%s", k, before)
		}
	}
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	n = mustStartNodeIn(t, dir, opts...)
	if after := dumpAll(t, n.addr); after != before {
		t.Fatalf("after AOF replay:\n%s\nbefore:\n%s", after, before)
	}
	c = newClient(t, n.addr)
	if v, err := c.Do(context.Background(), "fcall", "wf", 1, "k", "again").Result(); err != nil || fmt.Sprint(v) != "OK" {
		t.Fatalf("FCALL after the restart = %v, %v", v, err)
	}
	// The script cache is not persisted, as in Redis: clients re-EVAL.
	sha := scriptSHA("redis.call('set', KEYS[1], ARGV[1])")
	if err := c.EvalSha(context.Background(), sha, []string{"one"}, "v2").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT") {
		t.Fatalf("EVALSHA after the restart = %v, want NOSCRIPT", err)
	}
}

// Cluster mode, as Redis 7.0: undeclared keys are fine when local, one
// command's keys must share a slot, a key of a slot this node does not
// serve is refused, and no-cluster scripts do not run.
func TestScriptClusterMode(t *testing.T) {
	fc := &fakeCluster{}
	fc.master.Store(true)
	s, addr := startClusterServer(t, fc)
	// This node (shard 0) serves every slot but b's, which shard 1 owns.
	b := slotmap.Slot([]byte("b"))
	s.EnableSlotRouting()
	s.SetSlotTable(slotmap.NewTable(1, []slotmap.Shard{
		{ID: 0, Master: 0, Epoch: 1, Slots: []slotmap.Range{{Start: 0, End: b - 1}, {Start: b + 1, End: slotmap.NumSlots - 1}}},
		{ID: 1, Master: 1, Epoch: 1, Slots: []slotmap.Range{{Start: b, End: b}}},
	}, []slotmap.Node{
		{ID: "n1", Name: "n1", Host: "127.0.0.1", Port: 1, CPort: 2, Shard: 0},
		{ID: "n2", Name: "n2", Host: "127.0.0.1", Port: 3, CPort: 4, Shard: 1},
	}, 0))
	c := newClient(t, addr, func(o *redis.Options) { o.MaxRetries = -1 })
	ctx := context.Background()
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"eval", "redis.call('set', KEYS[1], '1'); return redis.call('set', 'undeclared', '2')", 1, "a"}, "OK"},
		{[]any{"eval", "return redis.pcall('mset', 'a', '1', 'c', '2')", 0}, "ERR Script attempted to access a non local key in a cluster node"},
		{[]any{"eval", "return redis.pcall('get', 'b')", 0}, "ERR Script attempted to access a non local key in a cluster node"},
		{[]any{"eval", "return redis.call('get', 'b')", 0}, "ERR Script attempted to access a non local key in a cluster node script: 6c7c8f5ee5b0c4bf0c0e1c4b8b8d8e7d8b1d1e6f, on @user_script:1."},
		{[]any{"eval", "#!lua flags=no-cluster\nreturn 1", 0}, "ERR Can not run script on cluster, 'no-cluster' flag is set."},
	} {
		v, err := c.Do(ctx, tc.args...).Result()
		got := fmt.Sprint(v)
		if err != nil {
			got = err.Error()
		}
		if strings.Contains(tc.want, " script: ") { // the SHA is the script's
			tc.want = strings.Replace(tc.want, "6c7c8f5ee5b0c4bf0c0e1c4b8b8d8e7d8b1d1e6f", scriptSHA(tc.args[1].(string)), 1)
		}
		if got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
}
