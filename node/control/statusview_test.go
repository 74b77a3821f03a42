package control_test

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
)

// After a failover the old master is one thing everywhere: a failed
// replica in the shard list and in the members table of /status, and so
// in `warden status`.
func TestStatusAfterFailoverIsOneTruth(t *testing.T) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3})
	old := c.Master(t, 0)
	old.Kill()
	nm := firstWrite(t, c, old, 30*time.Second)
	c.WaitFor(t, 30*time.Second, "/status at "+nm.ID+" to show "+old.ID+" failed and demoted", func() bool {
		st, err := nm.Status(context.Background())
		if err != nil || len(st.Shards) == 0 {
			return false
		}
		m := st.Member(old.ID)
		return st.Shards[0].Master == nm.ID && slices.Contains(st.Shards[0].Replicas, old.ID) && m != nil && m.State == "fail"
	})
	st := statusOf(t, nm)
	for _, m := range st.Members {
		want := "replica"
		if m.ID == st.Shards[0].Master {
			want = "master"
		}
		if m.Role != want {
			t.Errorf("member %s: role %q, but the shard list makes it a %s: %+v", m.ID, m.Role, want, st)
		}
	}
	// The operator's view: warden status prints the old master once as a
	// replica, failed, in both places.
	var out bytes.Buffer
	cmd := exec.Command(clustertest.Binary(t), "status", "--http", nm.HTTP())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("warden status: %v\n%s", err, out.String())
	}
	for _, l := range strings.Split(out.String(), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || !slices.Contains(f, old.ID) {
			continue
		}
		if slices.Contains(f, "master") {
			t.Errorf("warden status still calls the old master %s a master: %q\n%s", old.ID, l, out.String())
		}
		if !slices.Contains(f, "fail") {
			t.Errorf("warden status line for %s does not say fail: %q", old.ID, l)
		}
	}
}
