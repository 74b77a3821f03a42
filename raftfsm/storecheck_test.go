package raftfsm

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// buildRaftDir runs a one-node cluster long enough to fill several bbolt
// pages (a few hundred entries, a snapshot, entries after it) and returns
// its closed raft directory.
func buildRaftDir(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	peers, err := ParsePeers("n1=" + addr)
	if err != nil {
		t.Fatal(err)
	}
	th := openHost(t, hostConfig(t, "n1", addr, "s", peers, testLogger(t)))
	waitLeader(t, []*testHost{th})
	mustApply(t, th, Command{Op: OpInit, Name: "m", Shards: 1, ReplicasPerShard: 2})
	for i := range 300 {
		mustApply(t, th, Command{Op: OpAddNode, Node: testNode(fmt.Sprintf("node-%03d", i), "127.0.0.1")})
	}
	if err := th.h.Raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustApply(t, th, Command{Op: OpRemoveNode, ID: fmt.Sprintf("node-%03d", i)})
	}
	th.close()
	return th.cfg.Dir
}

// copyRaftDir copies src (raft.db and snapshots) into a new directory.
func copyRaftDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, fi.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// boltLayout reads the page size, the page count and the root bucket's
// page from the newest meta page, the one bbolt uses.
func boltLayout(t *testing.T, db []byte) (pageSize, pages, root int) {
	t.Helper()
	m, why := parseBoltMeta(db[boltPageHeader:])
	if why != "" {
		t.Fatalf("test fixture: meta 0: %s", why)
	}
	if m1, why := parseBoltMeta(db[int(m.pageSize)+boltPageHeader:]); why == "" && m1.txid > m.txid {
		m = m1
	}
	return int(m.pageSize), int(m.high), int(m.root)
}

// openAndUse does what Raft does with a store it trusts, in a goroutine
// where a panic or a memory fault is caught and returned.
func openAndUse(path string) error {
	done := make(chan error, 1)
	go func() {
		debug.SetPanicOnFault(true)
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("panic: %v", r)
			}
		}()
		st, err := raftboltdb.NewBoltStore(path)
		if err != nil {
			done <- nil // refused cleanly: fine
			return
		}
		defer st.Close()
		first, _ := st.FirstIndex()
		last, _ := st.LastIndex()
		for i := first; first > 0 && i <= last; i++ {
			var l raft.Log
			st.GetLog(i, &l)
			if l.Type == raft.LogConfiguration {
				raft.DecodeConfiguration(l.Data)
			}
		}
		st.GetUint64([]byte("CurrentTerm"))
		st.StoreLogs([]*raft.Log{{Index: last + 1, Term: 99, Data: bytes.Repeat([]byte("x"), 5000)}})
		st.DeleteRange(first, first+10)
		done <- nil
	}()
	return <-done
}

func expectCorrupt(t *testing.T, err error, path, aside string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want a *CorruptError", err)
	}
	msg := err.Error()
	for _, want := range []string{path, "is corrupt (", "mv " + aside + " " + aside + ".corrupt", "rejoins the cluster"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
		t.Errorf("message is not one line: %q", msg)
	}
}

// A damaged raft.db never reaches bbolt or Raft: Open returns one error
// naming the file and the way out. On main these panicked inside bbolt or
// died of SIGBUS, taking the test binary with them.
func TestOpenRefusesCorruptRaftStore(t *testing.T) {
	src := buildRaftDir(t)
	good, err := os.ReadFile(filepath.Join(src, "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	ps, pages, root := boltLayout(t, good)
	t.Logf("fixture: %d bytes, %d pages of %d in use", len(good), pages, ps)
	flip := func(pageFrom, pageTo, from, to int) func([]byte) []byte {
		return func(b []byte) []byte {
			for p := pageFrom; p < pageTo; p++ {
				for i := p*ps + from; i < p*ps+to; i++ {
					b[i] ^= 0xFF
				}
			}
			return b
		}
	}
	cases := []struct {
		name    string
		corrupt func([]byte) []byte
	}{
		{"root page elements flipped", flip(root, root+1, 16, 48)},
		{"every data page header flipped", flip(2, pages, 0, 48)},
		{"both meta pages flipped", flip(0, 2, 16, 80)},
		{"cut inside the first page", func(b []byte) []byte { return b[:1000] }},
		{"truncated to 3 pages", func(b []byte) []byte { return b[:3*ps] }},
		{"truncated mid-page", func(b []byte) []byte { return b[:pages/2*ps+100] }},
		{"last page cut off", func(b []byte) []byte { return b[:(pages-1)*ps] }},
		{"a command garbled", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`{"v":1,"op":"add_node"`))
			if i < 0 {
				t.Fatal("test fixture: no command found in raft.db")
			}
			b[i] = 0xFF
			return b
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyRaftDir(t, src)
			path := filepath.Join(dir, "raft.db")
			if err := os.WriteFile(path, c.corrupt(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := hostConfig(t, "n1", freeAddr(t), "s", nil, testLogger(t))
			cfg.Dir = dir
			h, err := Open(cfg)
			if err == nil {
				h.Close()
				t.Fatal("Open succeeded on a corrupt raft.db")
			}
			t.Log(err)
			expectCorrupt(t, err, path, path)
		})
	}

	// The good copy still opens, and restores its state.
	cfg := hostConfig(t, "n1", freeAddr(t), "s", nil, testLogger(t))
	cfg.Dir = copyRaftDir(t, src)
	th := openHost(t, cfg)
	waitFor(t, clusterWait, "the intact store to restore 280 nodes", func() bool {
		return len(th.h.FSM.State().Nodes) == 280
	})
}

// Random damage inside the data pages: the check either calls the file
// corrupt or the file really is usable (reading every entry and writing
// does not panic or fault). Seeded, so a failure reproduces.
func TestRaftStoreCheckVerdictIsSafe(t *testing.T) {
	src := buildRaftDir(t)
	good, err := os.ReadFile(filepath.Join(src, "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	ps, pages, _ := boltLayout(t, good)
	rng := rand.New(rand.NewPCG(9, 13))
	corrupt, usable := 0, 0
	for i := range 25 {
		b := bytes.Clone(good)
		var did []string
		for range 1 + rng.IntN(8) {
			off := 2*ps + rng.IntN((pages-2)*ps)
			b[off] ^= byte(1 + rng.IntN(255))
			did = append(did, fmt.Sprint(off))
		}
		path := filepath.Join(t.TempDir(), "raft.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := checkRaftState(filepath.Dir(path), testLogger(t))
		var ce *CorruptError
		switch {
		case errors.As(err, &ce):
			corrupt++
		case err != nil:
			t.Fatalf("case %d (bytes %v): %v, want nil or a *CorruptError", i, did, err)
		default:
			if err := openAndUse(path); err != nil {
				t.Fatalf("case %d (bytes %v): the check passed a file that crashes bbolt: %v", i, did, err)
			}
			usable++
		}
	}
	t.Logf("25 damaged copies: %d refused as corrupt, %d usable as they are", corrupt, usable)
}

// A damaged snapshot is named too; the way out is the whole raft
// directory, since the log may have been compacted past older snapshots.
func TestOpenRefusesCorruptSnapshot(t *testing.T) {
	src := buildRaftDir(t)
	for _, file := range []string{"state.bin", "meta.json"} {
		t.Run(file, func(t *testing.T) {
			dir := copyRaftDir(t, src)
			snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*"))
			if len(snaps) != 1 {
				t.Fatalf("test fixture: snapshots %v, want one", snaps)
			}
			p := filepath.Join(snaps[0], file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x20
			if file == "meta.json" {
				b = b[:len(b)/2] // a torn meta.json
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := hostConfig(t, "n1", freeAddr(t), "s", nil, testLogger(t))
			cfg.Dir = dir
			h, err := Open(cfg)
			if err == nil {
				h.Close()
				t.Fatal("Open succeeded with a corrupt snapshot")
			}
			t.Log(err)
			expectCorrupt(t, err, snaps[0], dir)
		})
	}
}

// A raft.db held by another process is reported as such, not as corrupt,
// and not waited on for ever (bbolt's flock has no timeout by default).
func TestOpenReportsLockedStore(t *testing.T) {
	dir := copyRaftDir(t, buildRaftDir(t))
	holder, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	cfg := hostConfig(t, "n1", freeAddr(t), "s", nil, testLogger(t))
	cfg.Dir = dir
	done := make(chan error, 1)
	go func() {
		h, err := Open(cfg)
		if h != nil {
			h.Close()
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Open still waiting on the lock after 60s")
	}
	if err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("Open on a locked store: %v", err)
	}
}

// An empty or half-created store is no state, not corruption.
func TestCheckRaftStateAcceptsFreshStores(t *testing.T) {
	dir := t.TempDir()
	if err := checkRaftState(dir, testLogger(t)); err != nil {
		t.Fatalf("missing raft.db: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "raft.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkRaftState(dir, testLogger(t)); err != nil {
		t.Fatalf("empty raft.db: %v", err)
	}
	th := openHost(t, hostConfig(t, "n1", freeAddr(t), "s", nil, testLogger(t)))
	th.close()
	if err := checkRaftState(th.cfg.Dir, testLogger(t)); err != nil {
		t.Fatalf("store of a node that never joined: %v", err)
	}
}
