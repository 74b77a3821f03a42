package control_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
)

// A follower's raft.db damaged on disk (bytes flipped, or the file cut
// short): the node exits non-zero with one line naming the file and the way
// out, never a Go panic or a SIGBUS. Moved aside, the node starts with no
// Raft state, bootstraps from the same --peers (the same first entry the
// others hold), and the leader brings it the log: it agrees on the record
// and replicates the master's data again.
func TestCorruptRaftStoreMovedAsideRejoins(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	m := c.Master(t, 0)
	ctx := context.Background()
	// A fourth voter joins, so the configuration is no longer the one
	// --peers bootstraps: the rejoining node must end up with the real one.
	c.Add(t, "n4")
	if err := m.Client().Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Client().Do(ctx, "WAIT", 3, 5000).Result(); err != nil {
		t.Fatal(err)
	}
	// A node that is neither master nor Raft leader, so nothing fails over.
	var f *clustertest.Node
	leader := statusOf(t, m).Leader.NodeID
	for _, n := range c.Nodes[:3] {
		if n != m && n.ID != leader {
			f = n
			break
		}
	}
	f.Term()
	db := filepath.Join(f.Dir, "raft", "raft.db")
	good, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	ps := int(binary.LittleEndian.Uint32(good[16+8:])) // bbolt meta: page size
	flipped := bytes.Clone(good)
	for p := 2; p < len(flipped)/ps; p++ {
		for i := p*ps + 16; i < p*ps+48; i++ {
			flipped[i] ^= 0xFF
		}
	}
	for _, bad := range []struct {
		name string
		data []byte
	}{{"bytes flipped", flipped}, {"truncated", good[:3*ps]}} {
		if err := os.WriteFile(db, bad.data, 0o600); err != nil {
			t.Fatal(err)
		}
		f.RestartAsync(t)
		code, exited := f.WaitExit(30 * time.Second)
		if !exited {
			t.Fatalf("%s: the node started on a corrupt raft.db; log:\n%s", bad.name, f.LogSinceStart())
		}
		out := f.LogSinceStart()
		t.Logf("%s: exit %d, output:\n%s", bad.name, code, out)
		if code == 0 {
			t.Errorf("%s: exit status 0", bad.name)
		}
		want := "raft store " + db + " is corrupt ("
		if strings.Count(out, want) != 1 || !strings.Contains(out, "mv "+db+" "+db+".corrupt") {
			t.Errorf("%s: want one line %q... naming the way out", bad.name, want)
		}
		for _, crash := range []string{"panic", "goroutine ", "SIGBUS", "fatal error"} {
			if strings.Contains(out, crash) {
				t.Errorf("%s: output shows %q", bad.name, crash)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The way out the message gives.
	if err := os.Rename(db, db+".corrupt"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f.Restart(t)
	mst := statusOf(t, m)
	host, port, _ := net.SplitHostPort(m.Addr())
	sc := redis.NewSentinelClient(&redis.Options{Addr: f.SentinelAddr(), MaxRetries: -1})
	defer sc.Close()
	c.WaitFor(t, 30*time.Second, f.ID+" to agree on the record", func() bool {
		st, err := f.Status(ctx)
		if err != nil || st.Shard(0) == nil || st.Shard(0).Master != m.ID || st.Epoch != mst.Epoch || len(st.Members) != 4 {
			return false
		}
		addr, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		return err == nil && len(addr) == 2 && addr[0] == host && addr[1] == port
	})
	t.Logf("%s agrees on the record %v after the restart with raft.db moved aside", f.ID, time.Since(start).Round(time.Millisecond))
	c.WaitFor(t, 30*time.Second, f.ID+" to replicate the master's data", func() bool {
		v, err := f.Client().Get(ctx, "before").Result()
		return err == nil && v == "1" && role(f) == "slave"
	})
	if err := m.Client().Set(ctx, "after", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.WaitFor(t, 30*time.Second, f.ID+" to get a write made after it rejoined", func() bool {
		v, err := f.Client().Get(ctx, "after").Result()
		return err == nil && v == "2"
	})
	// The log is back in a fresh raft.db: a clean restart keeps the record.
	f.Restart(t)
	if st := statusOf(t, f); st.Shard(0) == nil || st.Shard(0).Master != m.ID || st.Raft.LastLogIndex < mst.Raft.CommitIndex {
		t.Fatalf("after a second restart %s reports %+v (master's commit index %d)", f.ID, st, mst.Raft.CommitIndex)
	}
}
