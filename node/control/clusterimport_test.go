package control_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/wardenkv/warden/internal/redistest"
)

// TestRedisCliClusterImport moves a standalone redis-server's keys into a
// warden cluster with `redis-cli --cluster import`, which runs MIGRATE on
// the source towards the master owning each key's slot: every key arrives
// on its shard, readable through a cluster client.
func TestRedisCliClusterImport(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools)")
	}
	c := startRedisCluster(t)
	ctx := context.Background()
	src := redistest.Start(t, "")
	sc := src.Client(t, 0)
	const n = 300
	for i := range n {
		sc.Set(ctx, fmt.Sprintf("str:%d", i), i, 0)
		sc.RPush(ctx, fmt.Sprintf("list:%d", i), "a", i)
	}
	out, err := exec.Command("redis-cli", "--cluster", "import", c.Nodes[0].Addr(),
		"--cluster-from", src.Addr, "--cluster-copy").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster import: %v\n%s", err, out)
	}
	cc := clusterClient(c, nil)
	defer cc.Close()
	for i := range n {
		if v, err := cc.Get(ctx, fmt.Sprintf("str:%d", i)).Result(); err != nil || v != fmt.Sprint(i) {
			t.Fatalf("str:%d after import: %q %v\n%s", i, v, err, out)
		}
		if v, err := cc.LRange(ctx, fmt.Sprintf("list:%d", i), 0, -1).Result(); err != nil || strings.Join(v, ",") != "a,"+fmt.Sprint(i) {
			t.Fatalf("list:%d after import: %q %v", i, v, err)
		}
	}
	// --cluster-copy leaves the source as it was.
	if got := sc.DBSize(ctx).Val(); got != 2*n {
		t.Fatalf("source has %d keys after a copying import, want %d", got, 2*n)
	}
}
