package control_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
)

// What an operator reads in a replica's log, from a fresh join to SIGTERM:
// Raft's lines at their own level without hclog's prefix, one component
// key a line, no float seconds, nothing said about disconnecting zero
// clients, the signal named, and nothing after "server stopped".
func TestReplicaLogReadsClean(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	m := c.Master(t, 0)
	if err := m.Client().Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var r *clustertest.Node
	for _, n := range c.Nodes {
		if n != m {
			r = n
			break
		}
	}
	c.WaitFor(t, 30*time.Second, r.ID+" to replicate k", func() bool {
		v, err := r.Client().Get(context.Background(), "k").Result()
		return err == nil && v == "v"
	})
	r.Term()
	log := r.LogSinceStart()
	lines := strings.Split(strings.TrimSpace(log), "\n")
	floatSecs := regexp.MustCompile(`=[0-9.]+e[-+][0-9]+\b|seconds=`)
	stopped, raftLines := -1, 0
	for i, l := range lines {
		if strings.Count(l, " component=") > 1 {
			t.Errorf("component twice: %s", l)
		}
		if strings.Contains(l, `msg="raft: `) || strings.Contains(l, "[ERROR]") || strings.Contains(l, "[WARN]") || strings.Contains(l, "[INFO]") {
			t.Errorf("hclog's own prefix: %s", l)
		}
		if strings.Contains(l, "component=raft") {
			raftLines++
		}
		if floatSecs.MatchString(l) {
			t.Errorf("a duration in float seconds: %s", l)
		}
		if strings.Contains(l, "disconnected clients") && strings.Contains(l, "clients=0") {
			t.Errorf("logged disconnecting no clients: %s", l)
		}
		if strings.Contains(l, `msg="server stopped"`) {
			stopped = i
		}
	}
	if raftLines == 0 {
		t.Errorf("no Raft lines at all (a joining node's Raft logs its state changes):\n%s", log)
	}
	if !strings.Contains(log, "signal=SIGTERM") {
		t.Errorf("the shutdown does not name its signal:\n%s", log)
	}
	switch {
	case stopped < 0:
		t.Errorf("no \"server stopped\" line:\n%s", log)
	case stopped != len(lines)-1:
		t.Errorf("lines after \"server stopped\":\n%s", strings.Join(lines[stopped:], "\n"))
	}
}
