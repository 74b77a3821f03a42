package control_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
)

// SIGTERM of a cluster master hands its shard to a replica before the
// process exits (and, on the Raft leader, its leadership): writers that
// WAIT for a replica lose no acknowledged write, and the new master is a
// former replica. The longest pause a writer saw is logged. In cluster
// mode too: there the replica must name itself to the master by its record
// id, not its 40-hex CLUSTER MYID, or the frozen master never sees the
// target catch up and writes pause for the whole shutdown-timeout before
// the node exits without a handoff (the fault suite's cluster6 run found
// it).
func TestSigtermMasterHandsOff(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		for _, leader := range []bool{false, true} {
			t.Run(fmt.Sprintf("cluster=%v/leader=%v", cluster, leader), func(t *testing.T) { sigtermMaster(t, leader, cluster) })
		}
	}
}

func sigtermMaster(t *testing.T, onLeader, cluster bool) {
	o := clustertest.Options{Nodes: 3}
	if cluster {
		o.Args = []string{"--cluster-enabled", "yes", "--replicas-per-shard", "2"}
	}
	c := clustertest.Start(t, o)
	m := placeMaster(t, c, onLeader)
	replicas := statusOf(t, m).Shards[0].Replicas
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &writer{}
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx, c, "term") }()
	c.WaitFor(t, 30*time.Second, "writes flowing", func() bool { return w.n.Load() >= 20 })

	start := time.Now()
	m.Term() // returns once the process has exited
	exited := time.Since(start)
	n0 := w.n.Load()
	c.WaitFor(t, 20*time.Second, "writes resume on another master", func() bool { return w.n.Load() >= n0+50 })
	cancel()
	<-done

	nm := c.Master(t, 0)
	w.mu.Lock()
	acked, longest := slices.Clone(w.acked), w.longest
	w.mu.Unlock()
	t.Logf("SIGTERM master %s (raft leader %v): exited after %v, %s took over; longest pause between acknowledged writes %v (%d acked, %d errors)",
		m.ID, onLeader, exited, nm.ID, longest, len(acked), w.errs.Load())
	if nm == m || !slices.Contains(replicas, nm.ID) {
		t.Fatalf("new master %s is not one of the former replicas %v", nm.ID, replicas)
	}
	pipe := nm.Client().Pipeline()
	for _, key := range acked {
		pipe.Exists(context.Background(), key)
	}
	cmds, err := pipe.Exec(context.Background())
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	for i, cmd := range cmds {
		if n, _ := cmd.(interface{ Val() int64 }); n == nil || n.Val() != 1 {
			t.Fatalf("acknowledged write %s lost on the new master %s", acked[i], nm.ID)
		}
	}
	log := m.LogSinceStart()
	want := []string{"signal=SIGTERM", "target caught up with the frozen master", "shard handed over", "reason=SIGTERM"}
	if onLeader {
		want = append(want, "raft leadership transferred")
	}
	for _, s := range want {
		if !strings.Contains(log, s) {
			t.Fatalf("%s's log lacks %q:\n%s", m.ID, s, log)
		}
	}
	m.Restart(t)
	c.WaitFor(t, 20*time.Second, m.ID+" rejoins as a replica", func() bool { return role(m) == "slave" })
}
