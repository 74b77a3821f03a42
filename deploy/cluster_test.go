package deploy

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
	"github.com/wardenkv/warden/slotmap"
)

// The Redis Cluster compose file (deploy/docker-compose.cluster.yml): six
// containers become healthy; every node's CLUSTER SLOTS covers the 16384
// slots with a master and one replica per range, named by hostname; a key
// is served by its slot's master (found through the published ports) and
// any other master answers MOVED naming that master's hostname.
func TestComposeCluster(t *testing.T) {
	compose, image := composeSetup(t)
	nodes := []string{"n1", "n2", "n3", "n4", "n5", "n6"}
	var lns []net.Listener
	resp, httpPorts := map[string]int{}, map[string]int{}
	for _, n := range nodes {
		for _, m := range []map[string]int{resp, httpPorts} {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			lns = append(lns, ln)
			m[n] = ln.Addr().(*net.TCPAddr).Port
		}
	}
	for _, ln := range lns {
		ln.Close()
	}
	var env []string
	for _, n := range nodes {
		up := strings.ToUpper(n)
		env = append(env, fmt.Sprintf("WARDEN_%s_RESP=%d", up, resp[n]), fmt.Sprintf("WARDEN_%s_HTTP=%d", up, httpPorts[n]))
	}
	newProject(compose, "wardenclustertest", "docker-compose.cluster.yml", image, env...).up(t, nodes)
	// Every node: full coverage, six nodes, each named by its hostname in
	// CLUSTER SLOTS (master + replica for each of the three ranges).
	for _, n := range nodes {
		clustertest.WaitFor(t, 60*time.Second, n+": CLUSTER SLOTS with 3 ranges of master + replica", func() bool {
			if strings.Count(redisCLI(t, resp[n], "CLUSTER", "SLOTS"), "hostname") != 6 {
				return false
			}
			info := redisCLI(t, resp[n], "CLUSTER", "INFO")
			return strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:6") &&
				strings.Contains(info, "cluster_slots_assigned:16384")
		})
	}
	// The slot's master serves the key; another master redirects to it by hostname.
	key := "compose:cluster"
	slot := slotmap.SlotString(key)
	// Retried: on a busy machine the owner can be fenced for a moment
	// (its lease not yet renewed) and answer -READONLY.
	owner := ""
	for deadline := time.Now().Add(60 * time.Second); owner == ""; time.Sleep(200 * time.Millisecond) {
		var replies []string
		for _, n := range nodes {
			out := redisCLI(t, resp[n], "SET", key, "v")
			if out == "OK" {
				owner = n
				break
			}
			replies = append(replies, n+": "+out)
		}
		if owner == "" && time.Now().After(deadline) {
			t.Fatalf("no node took the SET within 60 s; last replies: %v", replies)
		}
	}
	for _, n := range nodes {
		if n == owner || !strings.Contains(redisCLI(t, resp[n], "ROLE"), "master") {
			continue
		}
		if got, want := redisCLI(t, resp[n], "GET", key), fmt.Sprintf("MOVED %d %s:6379", slot, owner); got != want {
			t.Fatalf("GET on %s: %q, want %q", n, got, want)
		}
	}
	if got := redisCLI(t, resp[owner], "GET", key); got != "v" {
		t.Fatalf("GET on the owner %s: %q", owner, got)
	}
}
