package node

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

func replInfo(c *redis.Client, field string) string {
	return infoField(c.Info(context.Background(), "replication").Val(), field)
}

func statsInfo(c *redis.Client, field string) string {
	return infoField(c.Info(context.Background(), "stats").Val(), field)
}

// follow makes replica follow master and waits until master counts it online
// with the whole stream acknowledged.
func followAndSync(t *testing.T, replica, master *redis.Client, masterAddr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(masterAddr)
	if err := replica.Do(context.Background(), "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return replInfo(replica, "master_link_status") == "up" }, "the replica's link")
	waitFor(t, func() bool {
		return replInfo(master, "master_repl_offset") == replInfo(replica, "slave_repl_offset")
	}, "the replica to catch up")
}

// TestFailoverErrorsSideBySide compares FAILOVER's argument checks and
// refusals with Redis 7.0's (a master without replicas).
func TestFailoverErrorsSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds(
		"failover abort",
		"failover abort x",
		"failover timeout 0",
		"failover timeout -5",
		"failover timeout x",
		"failover timeout",
		"failover to h",
		"failover to h x",
		"failover bogus",
		"failover force force",
		"failover timeout 10 timeout 10",
		"failover to h 1 to h 2",
		"failover",
		"failover force timeout 100",
		"failover to 127.0.0.1 1",
	)...)
}

// TestFailoverBetweenWardens: FAILOVER hands the mastership to the replica
// with a partial resync both ways, nothing lost, and the old master follows.
func TestFailoverBetweenWardens(t *testing.T) {
	ctx := context.Background()
	_, maddr := startServer(t)
	_, raddr := startServer(t)
	m, r := newClient(t, maddr), newClient(t, raddr)
	for i := range 1000 {
		m.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	followAndSync(t, r, m, maddr)
	for i := range 100 { // and some on the stream, not only in the RDB
		m.Incr(ctx, fmt.Sprintf("k%d", i))
	}
	if err := m.Do(ctx, "failover").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return replInfo(m, "role") == "slave" && replInfo(m, "master_link_status") == "up" &&
			replInfo(m, "master_failover_state") == "no-failover" && replInfo(r, "role") == "master"
	}, "the old master to follow its former replica")
	if n := r.DBSize(ctx).Val(); n != 1000 {
		t.Fatalf("new master has %d keys", n)
	}
	if v := r.Get(ctx, "k5").Val(); v != "6" {
		t.Fatalf("k5 on the new master = %q, want 6", v)
	}
	if got := statsInfo(r, "sync_partial_ok"); got != "1" {
		t.Fatalf("new master's sync_partial_ok = %s, want 1 (the old master continued)", got)
	}
	if err := m.Set(ctx, "x", "y", 0).Err(); err == nil || err.Error() != "READONLY You can't write against a read only replica." {
		t.Fatalf("write to the old master: %v", err)
	}
	r.Set(ctx, "after", "1", 0)
	waitFor(t, func() bool { return m.Get(ctx, "after").Val() == "1" }, "the old master to replicate the new one's write")
}

// TestFailoverInterop runs FAILOVER both ways with a real redis-server:
// warden hands over to a Redis replica (FAILOVER TO), and Redis hands over
// to a warden replica (warden answers PSYNC ... FAILOVER).
func TestFailoverInterop(t *testing.T) {
	ctx := context.Background()
	t.Run("warden to redis", func(t *testing.T) {
		_, waddr := startServer(t)
		w := newClient(t, waddr)
		rs := redistest.Start(t, "")
		r := rs.Client(t, 0)
		for i := range 200 {
			w.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
		}
		followAndSync(t, r, w, waddr)
		waitFor(t, func() bool { return infoField(w.Info(ctx, "replication").Val(), "slave0") != "" }, "the replica listed")
		host, port, _ := net.SplitHostPort(rs.Addr)
		if err := w.Do(ctx, "failover", "to", host, port, "timeout", 60000).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			return replInfo(r, "role") == "master" && replInfo(w, "role") == "slave" && replInfo(w, "master_link_status") == "up"
		}, "redis to take over")
		if n := r.DBSize(ctx).Val(); n != 200 {
			t.Fatalf("redis has %d keys", n)
		}
		if got := statsInfo(r, "sync_partial_ok"); got != "1" {
			t.Fatalf("redis's sync_partial_ok = %s, want 1", got)
		}
	})
	t.Run("redis to warden", func(t *testing.T) {
		_, waddr := startServer(t)
		w := newClient(t, waddr)
		rs := redistest.Start(t, "")
		r := rs.Client(t, 0)
		for i := range 200 {
			r.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
		}
		followAndSync(t, w, r, rs.Addr)
		if err := r.Do(ctx, "failover").Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			return replInfo(w, "role") == "master" && replInfo(r, "role") == "slave" && replInfo(r, "master_link_status") == "up"
		}, "warden to take over")
		if n := w.DBSize(ctx).Val(); n != 200 {
			t.Fatalf("warden has %d keys", n)
		}
		if got := statsInfo(w, "sync_partial_ok"); got != "1" {
			t.Fatalf("warden's sync_partial_ok = %s, want 1", got)
		}
		w.Set(ctx, "after", "1", 0)
		waitFor(t, func() bool { return r.Get(ctx, "after").Val() == "1" }, "redis to replicate warden's write")
	})
}

// silentReplica attaches a replica that syncs and never acknowledges
// anything, so a FAILOVER can never find it caught up.
func silentReplica(t *testing.T, addr, port string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.Write([]byte("REPLCONF listening-port " + port + "\r\nPSYNC ? -1\r\n"))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("REPLCONF: %q %v", line, err)
	}
	go func() { // drain the RDB and stream, answer nothing
		buf := make([]byte, 1<<16)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
}

// TestFailoverPauseAbortTimeout: while FAILOVER waits, writes wait (reads
// do not); ABORT and TIMEOUT end it with the node still master and the
// held writes applied.
func TestFailoverPauseAbortTimeout(t *testing.T) {
	ctx := context.Background()
	_, addr := startServer(t)
	c := newClient(t, addr)
	c.Set(ctx, "k", "before", 0)
	port := closedPort(t)
	silentReplica(t, addr, port)
	waitFor(t, func() bool { return replInfo(c, "connected_slaves") == "1" }, "the silent replica")
	c.Set(ctx, "k", "before", 0) // on the stream: an offset it never acknowledges

	if err := c.Do(ctx, "failover").Err(); err != nil {
		t.Fatal(err)
	}
	if got := replInfo(c, "master_failover_state"); got != "waiting-for-sync" {
		t.Fatalf("master_failover_state = %q", got)
	}
	if err := c.Do(ctx, "failover").Err(); err == nil || err.Error() != "ERR FAILOVER already in progress." {
		t.Fatalf("second FAILOVER: %v", err)
	}
	if err := c.Do(ctx, "replicaof", "127.0.0.1", "1").Err(); err == nil || err.Error() != "ERR REPLICAOF not allowed while failing over." {
		t.Fatalf("REPLICAOF while failing over: %v", err)
	}
	writer := newClient(t, addr)
	done := make(chan error, 1)
	go func() { done <- writer.Set(ctx, "k", "held", 0).Err() }()
	waitFor(t, func() bool { return clientBlocked(c) }, "the write to be held")
	if v := c.Get(ctx, "k").Val(); v != "before" {
		t.Fatalf("read during the pause = %q", v)
	}
	if err := c.Do(ctx, "failover", "abort").Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("held write after ABORT: %v", err)
	}
	if v := c.Get(ctx, "k").Val(); v != "held" || replInfo(c, "role") != "master" || replInfo(c, "master_failover_state") != "no-failover" {
		t.Fatalf("after ABORT: k=%q role=%s state=%s", v, replInfo(c, "role"), replInfo(c, "master_failover_state"))
	}
	if err := c.Do(ctx, "failover", "abort").Err(); err == nil || err.Error() != "ERR No failover in progress." {
		t.Fatalf("ABORT with none: %v", err)
	}

	if err := c.Do(ctx, "failover", "timeout", 50).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return replInfo(c, "master_failover_state") == "no-failover" }, "the timeout to abort")
	if err := c.Set(ctx, "k", "after", 0).Err(); err != nil || replInfo(c, "role") != "master" {
		t.Fatalf("after the timeout: %v, role %s", err, replInfo(c, "role"))
	}
	// FORCE hands over after the timeout all the same; the target is not
	// reachable (it announced a port nothing listens on): aborted, master.
	if err := c.Do(ctx, "failover", "to", "127.0.0.1", port, "force", "timeout", 50).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return replInfo(c, "master_failover_state") == "no-failover" && replInfo(c, "role") == "master"
	}, "the forced failover to an unreachable replica to abort")
	if err := c.Set(ctx, "k", "after force", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// clientBlocked reports whether some client is blocked (CLIENT LIST's b flag).
func clientBlocked(c *redis.Client) bool {
	return strings.Contains(c.ClientList(context.Background()).Val(), "flags=b")
}
