package node

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenkv/warden/internal/redistest"
)

// A replica with appendonly yes that full-syncs must make its AOF the data
// set it loaded from the master, as Redis's restartAOFAfterSYNC does:
// otherwise the AOF still holds the data set from before the sync, plus
// the stream after it, and a restart brings back that data set without
// the master's snapshot (the jepsen seed 104 loss: a deposed master that
// full-synced on its return lost, at its next restart, every write made
// in its absence, and handed that data set to the others as master).
func TestReplicaAOFAfterFullSync(t *testing.T) {
	ctx := context.Background()
	_, maddr := startServer(t, "save", "")
	master := newClient(t, maddr)
	writeStream(t, maddr, "snapshot", 30) // reaches the replica only in the RDB
	_, mport, _ := strings.Cut(maddr, ":")

	dir := t.TempDir()
	rs, raddr := startServer(t, "save", "", "dir", dir, "appendonly", "yes")
	replica := newClient(t, raddr)
	// Its own history before it follows (a deposed master's writes the
	// new master never got): the full sync discards it.
	writeStream(t, raddr, "own", 20)
	if err := replica.Set(ctx, "snapshot:0", "stale", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := replica.Do(ctx, "replicaof", "127.0.0.1", mport).Err(); err != nil {
		t.Fatal(err)
	}
	waitLinkUp(t, replica)
	writeStream(t, maddr, "stream", 10) // reaches the replica in the stream
	waitInSync(t, master, replica, maddr, raddr, "the full sync")
	want := redistest.Dump(t, maddr, 4)

	stopWarden(t, rs, replica)
	// Restarted on its own (appendonly yes: the AOF is what it loads).
	_, raddr2 := startServer(t, "save", "", "dir", dir, "appendonly", "yes")
	if got := redistest.Dump(t, raddr2, 4); got != want {
		t.Fatalf("restarted from its AOF, the replica's data set is not the master's:\nmaster:\n%s\nrestarted replica:\n%s", want, got)
	}
}

// aofFilesContain reports whether any file of the AOF in dir holds s.
func aofFilesContain(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(path, "aof") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = found || bytes.Contains(b, []byte(s))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A replica's AOF holds a write from the master's stream by the time the
// replica acknowledges it (WAIT), as a Redis replica writes its AOF buffer
// before its next event loop iteration: not a second later, which a kill
// -9 right after the acknowledgement would lose (the file is read while
// the replica runs, as a restart after kill -9 would find it).
func TestReplicaAOFWrittenBeforeAck(t *testing.T) {
	ctx := context.Background()
	_, maddr := startServer(t, "save", "")
	master := newClient(t, maddr)
	_, mport, _ := strings.Cut(maddr, ":")
	dir := t.TempDir()
	_, raddr := startServer(t, "save", "", "dir", dir, "appendonly", "yes", "appendfsync", "always", "replicaof", "127.0.0.1 "+mport)
	replica := newClient(t, raddr)
	waitLinkUp(t, replica)
	for i := 0; i < 20; i++ {
		key := "acked-" + strconv.Itoa(i) + "-" + newReplID()[:8]
		if err := master.Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if n, err := master.Wait(ctx, 1, 0).Result(); err != nil || n != 1 {
			t.Fatalf("WAIT 1: %d %v", n, err)
		}
		if !aofFilesContain(t, dir, key) {
			t.Fatalf("the replica acknowledged SET %s, but its AOF does not hold it", key)
		}
	}
}

// A deposed master rejoins the promoted replica as Redis's PSYNC2 rules
// say: with nothing past the fork point (the promoted replica's offset at
// promotion, second_repl_offset - 1) it continues partially; with writes
// past it (taken after the replica stopped following) it must full-sync,
// or it would keep them and skip the new master's bytes at those offsets.
// Either way it ends with the new master's data set.
func TestDeposedMasterRejoinsPromotedReplica(t *testing.T) {
	for _, diverged := range []bool{false, true} {
		name := "in-step"
		if diverged {
			name = "diverged"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			_, oaddr := startServer(t, "save", "")
			old := newClient(t, oaddr)
			writeStream(t, oaddr, "shared", 20)
			_, oport, _ := strings.Cut(oaddr, ":")
			ps, paddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+oport)
			promoted := newClient(t, paddr)
			waitLinkUp(t, promoted)
			waitInSync(t, old, promoted, oaddr, paddr, "the first sync")
			if err := promoted.Do(ctx, "replicaof", "no", "one").Err(); err != nil {
				t.Fatal(err)
			}
			if diverged {
				writeStream(t, oaddr, "old-only", 5) // never reaches the promoted node
			}
			writeStream(t, paddr, "new", 10)
			full, partial := ps.stats.syncFull.Load(), ps.stats.syncPartialOK.Load()
			_, pport, _ := strings.Cut(paddr, ":")
			if err := old.Do(ctx, "replicaof", "127.0.0.1", pport).Err(); err != nil {
				t.Fatal(err)
			}
			waitLinkUp(t, old)
			waitInSync(t, promoted, old, paddr, oaddr, "the deposed master")
			f, p := ps.stats.syncFull.Load()-full, ps.stats.syncPartialOK.Load()-partial
			if diverged && (f != 1 || p != 0) || !diverged && (f != 0 || p != 1) {
				t.Fatalf("diverged=%v: %d full and %d partial syncs", diverged, f, p)
			}
		})
	}
}
