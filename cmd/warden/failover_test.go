package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
)

// runCLI runs the warden binary with exactly env (plus PATH and HOME) and
// returns its combined output and exit status.
func runCLI(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(wardenBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return string(out), 0
	}
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatalf("warden %v: %v", args, err)
	}
	return string(out), ee.ExitCode()
}

// `warden failover` signs its request with the cluster secret: with the
// right secret (file or environment) the cluster fails over, through a node
// that is not the leader too; a wrong or missing secret gets the node's 401
// and changes nothing.
func TestFailoverCommand(t *testing.T) {
	const secret = "cli-s3cret"
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Secret: secret})
	ctx := context.Background()
	m := c.Master(t, 0)
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	epoch := st.Epoch
	var via, target *clustertest.Node // via: not the raft leader; target: a replica
	for _, n := range c.Nodes {
		if n.ID != st.Leader.NodeID && via == nil {
			via = n
		}
		if n != m && target == nil {
			target = n
		}
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "secret"), filepath.Join(dir, "wrong")
	if err := os.WriteFile(good, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not-it\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		env  []string
		want []string
	}{
		{[]string{"--secret-file", bad}, nil, []string{"401", "bad signature"}},
		{nil, nil, []string{"401", "--secret-file or $WARDEN_CLUSTER_SECRET"}},
		{nil, []string{"WARDEN_CLUSTER_SECRET=not-it"}, []string{"401", "bad signature"}},
		{[]string{"--shard", "-1", "--secret-file", good}, nil, []string{"bad --shard"}},
		{[]string{"--secret-file", filepath.Join(dir, "missing")}, nil, []string{"read cluster secret"}},
		{[]string{"--secret-file", good, "--shard", "7"}, nil, []string{"404", "unknown shard"}},
	} {
		args := append([]string{"failover", "--http", via.HTTP(), "--to", target.ID}, tc.args...)
		out, code := runCLI(t, tc.env, args...)
		if code != 1 {
			t.Errorf("%v %v: exit %d, want 1: %s", tc.env, tc.args, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v %v: output %q lacks %q", tc.env, tc.args, out, w)
			}
		}
	}
	if st, err := m.Status(ctx); err != nil || st.Epoch != epoch || st.Shards[0].Master != m.ID {
		t.Fatalf("refused failovers changed the cluster: %+v %v", st, err)
	}

	out, code := runCLI(t, nil, "failover", "--http", via.HTTP(), "--to", target.ID, "--secret-file", good)
	if code != 0 || !strings.Contains(out, "shard 0: master is now "+target.ID) {
		t.Fatalf("warden failover with the secret file: exit %d: %s", code, out)
	}
	c.WaitFor(t, 20*time.Second, target.ID+" to master shard 0 on every node", func() bool {
		for _, n := range c.Nodes {
			st, err := n.Status(ctx)
			if err != nil || st.Shards[0].Master != target.ID || st.Epoch <= epoch {
				return false
			}
		}
		return true
	})
	// Back, with the secret from the environment and --force.
	out, code = runCLI(t, []string{"WARDEN_CLUSTER_SECRET=" + secret}, "failover", "--http", via.HTTP(), "--to", m.ID, "--force")
	if code != 0 || !strings.Contains(out, "shard 0: master is now "+m.ID) {
		t.Fatalf("warden failover with $WARDEN_CLUSTER_SECRET: exit %d: %s", code, out)
	}
}
