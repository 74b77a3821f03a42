package raftfsm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A node whose Raft state is gone (its corrupt raft.db moved aside, or the
// whole raft directory) but which is still in the configuration gets it
// all back from the leader: with its snapshot kept it restores that and
// catches up; with nothing, a node started with --peers bootstraps the
// same first entry the others hold, and a node that joined later waits to
// be replicated to. Either way it ends with the real configuration, here
// four voters, not the three --peers names.
func TestRejoinAfterRaftStateMovedAside(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a four-node raft cluster; skipped in -short")
	}
	log := testLogger(t)
	hosts := startCluster(t, 3, "s3cret", log)
	n4 := openHost(t, hostConfig(t, "n4", freeAddr(t), "s3cret", nil, log))
	var leader *testHost
	// Every change below is idempotent, so one cut short by an election
	// on a loaded machine is simply made again on the new leader.
	onLeader := func(what string, do func(*testHost) error) {
		t.Helper()
		deadline := time.Now().Add(clusterWait)
		for {
			leader = waitLeader(t, hosts)
			err := do(leader)
			if err == nil {
				return
			}
			if !errors.Is(err, raft.ErrNotLeader) && !errors.Is(err, raft.ErrLeadershipLost) || time.Now().After(deadline) {
				t.Fatalf("%s on %s: %v", what, leader.id(), err)
			}
		}
	}
	apply := func(c Command) {
		t.Helper()
		onLeader(string(c.Op), func(l *testHost) error { return l.h.Apply(c, 5*time.Second) })
	}
	onLeader("AddVoter n4", func(l *testHost) error {
		return l.h.Raft.AddVoter("n4", raft.ServerAddress(n4.cfg.Bind), 0, 5*time.Second).Error()
	})
	hosts = append(hosts, n4)
	apply(Command{Op: OpInit, Name: "m", Shards: 1, ReplicasPerShard: 2})
	for _, h := range hosts {
		apply(Command{Op: OpAddNode, Node: testNode(h.id(), "127.0.0.1")})
	}
	waitConverged(t, hosts, leader.h.FSM.State())
	for _, h := range hosts {
		if err := h.h.Raft.Snapshot().Error(); err != nil {
			t.Fatalf("snapshot on %s: %v", h.id(), err)
		}
	}
	apply(Command{Op: OpAddNode, Node: testNode("x1", "127.0.0.2")})
	waitConverged(t, hosts, leader.h.FSM.State())

	extra := 1
	rejoined := func(i int) {
		t.Helper()
		h := hosts[i]
		extra++
		apply(Command{Op: OpAddNode, Node: testNode(fmt.Sprintf("x%d", extra), "127.0.0.2")})
		waitConverged(t, hosts, leader.h.FSM.State())
		waitFor(t, clusterWait, h.id()+" to hold the four-voter configuration", func() bool {
			cf := h.h.Raft.GetConfiguration()
			if cf.Error() != nil || len(cf.Configuration().Servers) != 4 {
				return false
			}
			for _, s := range cf.Configuration().Servers {
				if s.Suffrage != raft.Voter {
					return false
				}
			}
			return true
		})
	}
	follower := func(skip ...string) int {
		leader = waitLeader(t, hosts)
	next:
		for i, h := range hosts[:3] {
			for _, s := range skip {
				if h.id() == s {
					continue next
				}
			}
			if h != leader {
				return i
			}
		}
		t.Fatal("no follower left among n1..n3")
		return -1
	}

	// A --peers node whose raft.db was cut short: Open refuses it, and
	// with the file moved aside (snapshots kept) it catches up.
	i := follower()
	first := hosts[i].id()
	hosts[i].close()
	db := filepath.Join(hosts[i].cfg.Dir, "raft.db")
	if err := os.Truncate(db, 3*int64(os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	if h, err := Open(hosts[i].cfg); !errors.Is(err, ErrCorrupt) {
		if h != nil {
			h.Close()
		}
		t.Fatalf("Open of a truncated raft.db: %v, want ErrCorrupt", err)
	}
	if err := os.Rename(db, db+".corrupt"); err != nil {
		t.Fatal(err)
	}
	hosts[i] = hosts[i].reopen(t)
	if hosts[i].h.FSM.State().Index == 0 {
		t.Fatal("the snapshot kept beside the moved raft.db was not restored")
	}
	rejoined(i)

	// Another --peers node with its whole raft directory gone: it
	// bootstraps again from --peers.
	i = follower(first)
	hosts[i].close()
	if err := os.Rename(hosts[i].cfg.Dir, hosts[i].cfg.Dir+".corrupt"); err != nil {
		t.Fatal(err)
	}
	hosts[i] = hosts[i].reopen(t)
	rejoined(i)

	// The node that joined: no --peers, so no bootstrap; it waits.
	if leader == hosts[3] {
		leader.h.Raft.LeadershipTransfer().Error()
		leader = waitLeader(t, hosts)
	}
	hosts[3].close()
	if err := os.Rename(hosts[3].cfg.Dir, hosts[3].cfg.Dir+".corrupt"); err != nil {
		t.Fatal(err)
	}
	hosts[3] = hosts[3].reopen(t)
	rejoined(3)
}
