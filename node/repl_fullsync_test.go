package node

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// populate writes n string keys of size bytes through DEBUG POPULATE.
func populate(t *testing.T, c *redis.Client, n, size int) {
	t.Helper()
	if err := c.Do(context.Background(), "debug", "populate", n, "key", size).Err(); err != nil {
		t.Fatal(err)
	}
}

// Replicas that arrive while a diskless sync gathers share one snapshot:
// with a delay far longer than the test, repl-diskless-sync-max-replicas 2
// starts it when the second arrives.
func TestDisklessSyncSharedByReplicas(t *testing.T) {
	ms, maddr := startServer(t, "save", "", "enable-debug-command", "yes",
		"repl-diskless-sync-delay", "3600", "repl-diskless-sync-max-replicas", "2")
	master := newClient(t, maddr)
	fillAllTypes(t, maddr)
	populate(t, master, 1000, 100)
	_, mport, _ := strings.Cut(maddr, ":")
	_, r1addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	_, r2addr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	r1, r2 := newClient(t, r1addr), newClient(t, r2addr)
	waitLinkUp(t, r1)
	waitLinkUp(t, r2)
	waitInSync(t, master, r1, maddr, r1addr, "replica 1")
	waitInSync(t, master, r2, maddr, r2addr, "replica 2")
	if n, full := ms.syncs.streams.Load(), ms.stats.syncFull.Load(); n != 1 || full != 2 {
		t.Fatalf("%d diskless snapshots for %d full syncs, want 1 for 2", n, full)
	}
	if err := master.Set(context.Background(), "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitInSync(t, master, r1, maddr, r1addr, "replica 1 streaming")
	waitInSync(t, master, r2, maddr, r2addr, "replica 2 streaming")
}

// A delay with no replica limit still ends: the lone replica syncs once it
// passes.
func TestDisklessSyncDelay(t *testing.T) {
	ms, maddr := startServer(t, "save", "", "repl-diskless-sync-delay", "1")
	master := newClient(t, maddr)
	fillAllTypes(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	start := time.Now()
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	replica := newClient(t, raddr)
	waitLinkUp(t, replica)
	t.Logf("synced %v after the replica started (delay 1 s)", time.Since(start))
	waitInSync(t, master, replica, maddr, raddr, "the delayed sync")
	if n := ms.syncs.streams.Load(); n != 1 {
		t.Fatalf("%d diskless snapshots, want 1", n)
	}
}

// Writes that land while the snapshot streams reach the replica after it
// (from its pending buffer, once it acknowledged the payload), for warden
// and redis-server replicas alike; with repl-diskless-sync no the same
// holds for the file-based sync.
func TestFullSyncUnderWrites(t *testing.T) {
	for _, tc := range []struct {
		name     string
		diskless string
		redis    bool
	}{
		{"diskless warden replica", "yes", false},
		{"diskless redis replica", "yes", true},
		{"disk warden replica", "no", false},
		{"disk redis replica", "no", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, maddr := startServer(t, "save", "", "enable-debug-command", "yes", "repl-diskless-sync", tc.diskless)
			master := newClient(t, maddr)
			ctx := context.Background()
			fillAllTypes(t, maddr)
			populate(t, master, 5000, 1000)
			_, mport, _ := strings.Cut(maddr, ":")

			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // writes throughout the sync, in two databases
				defer wg.Done()
				c3 := newClient(t, maddr, func(o *redis.Options) { o.DB = 3 })
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					master.Incr(ctx, "counter")
					master.Set(ctx, "key:"+strconv.Itoa(i%5000), i, 0)
					c3.RPush(ctx, "during", i)
				}
			}()
			var raddr string
			var replica *redis.Client
			if tc.redis {
				rs := redistest.Start(t, "", "--replicaof", "127.0.0.1", mport)
				raddr, replica = rs.Addr, rs.Client(t, 0)
			} else {
				_, raddr = startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
				replica = newClient(t, raddr)
			}
			waitLinkUp(t, replica)
			close(stop)
			wg.Wait()
			waitInSync(t, master, replica, maddr, raddr, "after the sync under writes")
			wantStreams := int64(1)
			if tc.diskless == "no" {
				wantStreams = 0
			}
			if n := ms.syncs.streams.Load(); n != wantStreams || ms.stats.syncFull.Load() != 1 {
				t.Fatalf("%d diskless snapshots, %d full syncs; want %d and 1", n, ms.stats.syncFull.Load(), wantStreams)
			}
		})
	}
}
