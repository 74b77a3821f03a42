package node

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// statOf reads an INFO stats counter (sync_full, sync_partial_ok, ...).
func statOf(t *testing.T, c *redis.Client, name string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `:(\d+)`).FindStringSubmatch(c.Info(context.Background(), "stats").Val())
	if m == nil {
		t.Fatalf("INFO stats has no %s", name)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// writeStream writes n keys named prefix:i, the last ones in db 3, so the
// stream ends with db 3 selected: a replica that continues it must apply
// what follows in db 3 (repl-stream-db).
func writeStream(t *testing.T, addr, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for _, db := range []int{0, 3} {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db, Protocol: 2})
		for i := 0; i < n; i++ {
			if err := c.Incr(ctx, prefix+":"+strconv.Itoa(i)).Err(); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
}

// stopWarden shuts a warden node down with SHUTDOWN SAVE and waits until
// it has stopped.
func stopWarden(t *testing.T, s *Server, c *redis.Client) {
	t.Helper()
	c.Do(context.Background(), "shutdown", "save") // no reply: the connection closes
	<-s.done
}

// A warden replica restarted from its own RDB (repl-id, repl-offset and
// repl-stream-db aux fields) continues its warden master's history: one
// partial resync, no full sync, the writes made while it was down applied
// in the database the stream had selected.
func TestReplicaRestartPartialResync(t *testing.T) {
	ms, maddr := startServer(t, "save", "")
	master := newClient(t, maddr)
	fillAllTypes(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	dir := t.TempDir()
	rs, raddr := startServer(t, "save", "", "dir", dir, "replicaof", "127.0.0.1 "+mport)
	replica := newClient(t, raddr)
	waitLinkUp(t, replica)
	writeStream(t, maddr, "before", 50)
	waitInSync(t, master, replica, maddr, raddr, "the first synchronization")

	stopWarden(t, rs, replica)
	writeStream(t, maddr, "while-down", 50)
	full, partial := ms.stats.syncFull.Load(), ms.stats.syncPartialOK.Load()

	_, raddr2 := startServer(t, "save", "", "dir", dir, "replicaof", "127.0.0.1 "+mport)
	replica2 := newClient(t, raddr2)
	waitLinkUp(t, replica2)
	waitInSync(t, master, replica2, maddr, raddr2, "the restarted replica")
	if f, p := ms.stats.syncFull.Load(), ms.stats.syncPartialOK.Load(); f != full || p != partial+1 {
		t.Fatalf("restart: sync_full %d -> %d, sync_partial_ok %d -> %d; want a partial resync only", full, f, partial, p)
	}
	// The link goes on as any other.
	writeStream(t, maddr, "after", 10)
	waitInSync(t, master, replica2, maddr, raddr2, "writes after the restart")
}

// A real redis-server replica restarted from its RDB partial-resyncs from
// a warden master (warden's offsets and backlog are Redis's).
func TestRedisReplicaRestartPartialResyncFromWarden(t *testing.T) {
	ms, maddr := startServer(t, "save", "")
	master := newClient(t, maddr)
	fillAllTypes(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	dir := t.TempDir()
	rs := redistest.Start(t, dir, "--replicaof", "127.0.0.1", mport)
	replica := rs.Client(t, 0)
	waitLinkUp(t, replica)
	writeStream(t, maddr, "before", 50)
	waitInSync(t, master, replica, maddr, rs.Addr, "the first synchronization")

	replica.Do(context.Background(), "shutdown", "save")
	rs.Stop(t)
	writeStream(t, maddr, "while-down", 50)
	full, partial := ms.stats.syncFull.Load(), ms.stats.syncPartialOK.Load()

	rs2 := redistest.Start(t, dir, "--replicaof", "127.0.0.1", mport)
	replica2 := rs2.Client(t, 0)
	waitLinkUp(t, replica2)
	waitInSync(t, master, replica2, maddr, rs2.Addr, "the restarted redis-server replica")
	if f, p := ms.stats.syncFull.Load(), ms.stats.syncPartialOK.Load(); f != full || p != partial+1 {
		t.Fatalf("restart: sync_full %d -> %d, sync_partial_ok %d -> %d; want a partial resync only\n%s", full, f, partial, p, rs2.Log())
	}
}

// A warden replica restarted from its RDB partial-resyncs from a real
// redis-server master: Redis answers +CONTINUE to its PSYNC.
func TestWardenReplicaRestartPartialResyncFromRedis(t *testing.T) {
	rm := redistest.Start(t, "", "--repl-diskless-sync-delay", "0")
	master := rm.Client(t, 0)
	fillAllTypes(t, rm.Addr)
	dir := t.TempDir()
	rs, raddr := startServer(t, "save", "", "dir", dir, "replicaof", "127.0.0.1 "+rm.Port)
	replica := newClient(t, raddr)
	waitLinkUp(t, replica)
	writeStream(t, rm.Addr, "before", 50)
	waitInSync(t, master, replica, rm.Addr, raddr, "the first synchronization")

	stopWarden(t, rs, replica)
	writeStream(t, rm.Addr, "while-down", 50)
	full, partial := statOf(t, master, "sync_full"), statOf(t, master, "sync_partial_ok")

	_, raddr2 := startServer(t, "save", "", "dir", dir, "replicaof", "127.0.0.1 "+rm.Port)
	replica2 := newClient(t, raddr2)
	waitLinkUp(t, replica2)
	waitInSync(t, master, replica2, rm.Addr, raddr2, "the restarted replica")
	if f, p := statOf(t, master, "sync_full"), statOf(t, master, "sync_partial_ok"); f != full || p != partial+1 {
		t.Fatalf("restart: redis sync_full %d -> %d, sync_partial_ok %d -> %d; want a partial resync only", full, f, partial, p)
	}
}
