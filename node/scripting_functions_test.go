package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/scripting"
)

const testLib = "#!lua name=plib\n" +
	"redis.register_function('pset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
	"redis.register_function{function_name='pget', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='read it'}"

// checkLib asserts the server at addr has testLib and its functions run.
func checkLib(t *testing.T, addr, what string) {
	t.Helper()
	c := newClient(t, addr)
	ctx := context.Background()
	libs, err := c.FunctionList(ctx, redis.FunctionListQuery{WithCode: true}).Result()
	if err != nil || len(libs) != 1 || libs[0].Name != "plib" || libs[0].Code != testLib || len(libs[0].Functions) != 2 {
		t.Fatalf("%s: FUNCTION LIST = %+v, %v", what, libs, err)
	}
	if err := c.Do(ctx, "fcall", "pset", 1, "fk", what).Err(); err != nil {
		t.Fatalf("%s: FCALL pset: %v", what, err)
	}
	if v, err := c.Do(ctx, "fcall_ro", "pget", 1, "fk").Result(); err != nil || v != what {
		t.Fatalf("%s: FCALL_RO pget = %v, %v", what, v, err)
	}
}

func loadLib(t *testing.T, addr string) {
	t.Helper()
	c := newClient(t, addr)
	if err := c.FunctionLoad(context.Background(), testLib).Err(); err != nil {
		t.Fatal(err)
	}
}

// Functions are saved in the RDB as Redis 7.0 writes them: warden reloads
// its own file, redis-server loads warden's, warden loads redis-server's.
func TestFunctionsRDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n := mustStartNodeIn(t, dir, "save", "")
	loadLib(t, n.addr)
	if err := newClient(t, n.addr).Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	n = mustStartNodeIn(t, dir, "save", "")
	checkLib(t, n.addr, "warden restart")
	n.stop()

	// warden's dump.rdb → redis-server.
	rdir := t.TempDir()
	copyFile(t, filepath.Join(dir, "dump.rdb"), filepath.Join(rdir, "dump.rdb"))
	rs := redistest.Start(t, rdir)
	checkLib(t, rs.Addr, "redis-server loading warden's RDB")

	// redis-server's dump.rdb → warden.
	if err := rs.Client(t, 0).Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	wdir := t.TempDir()
	copyFile(t, filepath.Join(rdir, "dump.rdb"), filepath.Join(wdir, "dump.rdb"))
	n = mustStartNodeIn(t, wdir, "save", "")
	checkLib(t, n.addr, "warden loading redis-server's RDB")

	// The AOF keeps them too, with and without the RDB preamble.
	for _, preamble := range []string{"yes", "no"} {
		adir := t.TempDir()
		opts := []string{"appendonly", "yes", "save", "", "aof-use-rdb-preamble", preamble}
		a := mustStartNodeIn(t, adir, opts...)
		loadLib(t, a.addr)
		if err := newClient(t, a.addr).Do(ctx, "bgrewriteaof").Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			return strings.Contains(newClient(t, a.addr).Info(ctx, "persistence").Val(), "aof_rewrite_in_progress:0")
		}, "the rewrite")
		a.stop()
		a = mustStartNodeIn(t, adir, opts...)
		checkLib(t, a.addr, "AOF rewritten with preamble "+preamble)
		a.stop()
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Full sync carries the libraries both ways, and FUNCTION LOAD / DELETE
// on the master reach the replicas.
func TestFunctionsReplication(t *testing.T) {
	ctx := context.Background()
	// warden master → redis-server and warden replicas (the library loaded
	// before the sync arrives with it, the next one through the stream).
	_, maddr := startServer(t, "save", "")
	loadLib(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	rs, _ := redisReplicaOf(t, maddr)
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	waitLinkUp(t, newClient(t, raddr))
	master := newClient(t, maddr)
	if err := master.FunctionLoad(ctx, "#!lua name=second\nredis.register_function{function_name='two', callback=function() return 2 end, flags={'no-writes'}}").Err(); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{rs.Addr, raddr} {
		c := newClient(t, addr)
		waitFor(t, func() bool {
			libs, _ := c.FunctionList(ctx, redis.FunctionListQuery{}).Result()
			return len(libs) == 2
		}, "both libraries on the replica "+addr)
		if v, err := c.Do(ctx, "fcall", "two", 0).Result(); err != nil || fmt.Sprint(v) != "2" {
			t.Fatalf("FCALL two on %s = %v, %v", addr, v, err)
		}
		if err := c.Do(ctx, "fcall", "pset", 1, "k", "v").Err(); err == nil || err.Error() != "READONLY You can't write against a read only replica." {
			t.Fatalf("FCALL of a writing function on the replica %s = %v", addr, err)
		}
	}
	if err := master.FunctionDelete(ctx, "second").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		libs, _ := newClient(t, raddr).FunctionList(ctx, redis.FunctionListQuery{}).Result()
		return len(libs) == 1
	}, "FUNCTION DELETE on the warden replica")

	// redis-server master → warden replica: the full sync's RDB has them.
	rm := redistest.Start(t, "")
	loadLib(t, rm.Addr)
	_, wr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+rm.Port)
	waitLinkUp(t, newClient(t, wr))
	waitFor(t, func() bool {
		libs, _ := newClient(t, wr).FunctionList(ctx, redis.FunctionListQuery{}).Result()
		return len(libs) == 1
	}, "the library from redis-server's full sync")
	if v, err := newClient(t, wr).Do(ctx, "fcall_ro", "pget", 1, "nokey").Result(); err != redis.Nil {
		t.Fatalf("FCALL_RO on the warden replica = %v, %v", v, err)
	}
}

// FUNCTION DUMP payloads restore across warden and redis-server, with the
// APPEND / REPLACE / FLUSH policies.
func TestFunctionsDumpRestore(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t, "")
	_, waddr := startServer(t, "save", "")
	r, w := rs.Client(t, 0), newClient(t, waddr)
	loadLib(t, rs.Addr)
	payload, err := r.FunctionDump(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.FunctionRestore(ctx, payload).Err(); err != nil {
		t.Fatalf("warden FUNCTION RESTORE of redis's payload: %v", err)
	}
	checkLib(t, waddr, "warden after RESTORE")
	for _, c := range []*redis.Client{r, w} {
		err := c.FunctionRestore(ctx, payload).Err()
		if err == nil || err.Error() != "ERR Library plib already exists" && err.Error() != "ERR Library 'plib' already exists" {
			t.Errorf("RESTORE APPEND of an existing library = %v", err)
		}
	}
	// warden's payload → redis-server, replacing.
	wp, err := w.FunctionDump(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Do(ctx, "function", "restore", wp, "replace").Err(); err != nil {
		t.Fatalf("redis FUNCTION RESTORE of warden's payload: %v", err)
	}
	if err := w.Do(ctx, "function", "restore", wp, "flush").Err(); err != nil {
		t.Fatal(err)
	}
	checkLib(t, waddr, "warden after RESTORE FLUSH")
	bad := []byte(wp)
	bad[len(bad)-1] ^= 1
	for _, c := range []*redis.Client{r, w} {
		if err := c.FunctionRestore(ctx, string(bad)).Err(); err == nil || err.Error() != "ERR DUMP payload version or checksum are wrong" {
			t.Errorf("RESTORE of a corrupt payload = %v", err)
		}
	}
}

// FUNCTION KILL stops a running read-only function; FUNCTION STATS shows it.
func TestFunctionKill(t *testing.T) {
	_, addr := startServer(t, "save", "", "busy-reply-threshold", "50")
	ctx := context.Background()
	c := newClient(t, addr)
	if err := c.FunctionLoad(ctx, "#!lua name=spin\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}").Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		cl := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: -1})
		defer cl.Close()
		done <- cl.Do(ctx, "fcall", "spin", 0).Err()
	}()
	waitFor(t, func() bool {
		err := c.Ping(ctx).Err()
		return err != nil && err.Error() == "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	}, "BUSY naming FUNCTION KILL")
	stats, err := c.Do(ctx, "function", "stats").Slice()
	if err != nil || len(stats) != 4 || fmt.Sprint(stats[1]) == "<nil>" || !strings.Contains(fmt.Sprint(stats[1]), "spin") {
		t.Fatalf("FUNCTION STATS while running = %v, %v", stats, err)
	}
	if err := c.Do(ctx, "script", "kill").Err(); err == nil || !strings.HasPrefix(err.Error(), "BUSY") {
		t.Fatalf("SCRIPT KILL of a function = %v", err)
	}
	if err := c.Do(ctx, "function", "kill").Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user") {
		t.Fatalf("killed function's reply = %v", err)
	}
}

// FUNCTION RESTORE's payload parser takes client bytes: no crash, no
// unbounded allocation, whatever they are.
func FuzzFunctionsPayload(f *testing.F) {
	f.Add(string(functionsPayload(nil)))
	f.Add(string(functionsPayload([]*scripting.Library{{Code: testLib}})))
	f.Add("\xf5\xc0\xff\xff\xff\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	f.Fuzz(func(t *testing.T, p string) {
		codes, msg := parseFunctionsPayload([]byte(p))
		if msg == "" && codes == nil && len(p) < 10 {
			t.Fatalf("short payload %q accepted", p)
		}
	})
}
