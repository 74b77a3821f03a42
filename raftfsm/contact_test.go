package raftfsm

import (
	"testing"
	"time"
)

// LeaderContact advances on followers while a leader replicates to them,
// is never set on the node that has only led, and stops advancing once the
// leader is gone — unlike raft's LastContact, which a stepping-down leader
// resets to now.
func TestLeaderContactIsAcceptedAppendEntries(t *testing.T) {
	hosts := startCluster(t, 3, "s", testLogger(t))
	leader := waitLeader(t, hosts)
	if !leader.h.LeaderContact().IsZero() {
		t.Fatalf("the first leader has a leader contact: %v", leader.h.LeaderContact())
	}
	var follower *testHost
	for _, h := range hosts {
		if h != leader {
			follower = h
		}
	}
	first := time.Now()
	waitFor(t, 30*time.Second, "a follower's contact to advance past now", func() bool {
		return follower.h.LeaderContact().After(first)
	})
	mustApply(t, leader, Command{Op: OpMark})
	leader.close()
	stopped := time.Now()
	// Until a new leader exists nothing may renew the contact.
	before := follower.h.LeaderContact()
	if before.After(stopped) {
		t.Fatalf("contact %v after the leader stopped at %v", before, stopped)
	}
	newLeader := waitLeader(t, running(hosts))
	for _, h := range running(hosts) {
		if h != newLeader {
			waitFor(t, 30*time.Second, "contact from the new leader", func() bool {
				return h.h.LeaderContact().After(stopped)
			})
		}
	}
}
