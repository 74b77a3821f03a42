package control_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
	"github.com/wardenkv/warden/internal/redistest"
)

// shape renders a reply with its structure and field names kept and the
// values that differ between two clusters (ids, addresses, counters)
// replaced by their type.
func shape(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = shape(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[any]any:
		var parts []string
		for k, e := range x {
			parts = append(parts, shape(k)+":"+shape(e))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, " ") + "}"
	case string:
		switch x {
		case "slots", "nodes", "id", "port", "ip", "endpoint", "hostname", "role", "replication-offset", "health", "master", "online":
			return x
		}
		return "str"
	case int64:
		return "int"
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}

// TestClusterRepliesMatchRedis compares a one-shard warden cluster's
// CLUSTER replies with a one-node Redis 7.0 cluster owning every slot:
// the same structure and field names, the same errors for bad input.
func TestClusterRepliesMatchRedis(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) { testClusterRepliesMatchRedis(t, proto) })
	}
}

func testClusterRepliesMatchRedis(t *testing.T, proto int) {
	rs := redistest.Start(t, "", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr, Protocol: proto})
	defer rc.Close()
	ctx := context.Background()
	if err := rc.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	clustertest.WaitFor(t, 30*time.Second, "redis cluster_state:ok", func() bool {
		return strings.Contains(rc.ClusterInfo(ctx).Val(), "cluster_state:ok")
	})
	c := clustertest.Start(t, clustertest.Options{Nodes: 1, Args: []string{"--cluster-enabled", "yes"}})
	wc := redis.NewClient(&redis.Options{Addr: c.Nodes[0].Addr(), Protocol: proto})
	defer wc.Close()
	clustertest.WaitFor(t, 30*time.Second, "warden cluster_state:ok", func() bool {
		return strings.Contains(wc.ClusterInfo(ctx).Val(), "cluster_state:ok")
	})
	// The same keys on both, for the slot commands.
	for _, k := range []string{"a{x}", "b{x}", "c{x}", "foo"} {
		for _, cl := range []*redis.Client{rc, wc} {
			if err := cl.Set(ctx, k, "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	wid, rid := wc.ClusterMyID(ctx).Val(), rc.ClusterMyID(ctx).Val()
	slotX := fmt.Sprint(rc.ClusterKeySlot(ctx, "{x}").Val())
	cases := [][]any{
		{"CLUSTER", "SLOTS"},
		{"CLUSTER", "SHARDS"},
		{"CLUSTER", "LINKS"},
		{"CLUSTER", "KEYSLOT", "foo"},
		{"CLUSTER", "KEYSLOT", "{user1000}.following"},
		{"CLUSTER", "COUNTKEYSINSLOT", slotX},
		{"CLUSTER", "COUNTKEYSINSLOT", "x"},
		{"CLUSTER", "COUNTKEYSINSLOT", "16384"},
		{"CLUSTER", "COUNTKEYSINSLOT", "-1"},
		{"CLUSTER", "GETKEYSINSLOT", slotX, "10"},
		{"CLUSTER", "GETKEYSINSLOT", slotX, "-1"},
		{"CLUSTER", "GETKEYSINSLOT", "99999", "1"},
		{"CLUSTER", "GETKEYSINSLOT", "1", "x"},
		{"CLUSTER", "REPLICAS", "nosuchnode"},
		{"CLUSTER", "SLAVES", "nosuchnode"},
		{"CLUSTER", "COUNT-FAILURE-REPORTS", "nosuchnode"},
		{"CLUSTER", "KEYSLOT"},
		{"CLUSTER", "NOSUCH"},
		{"READONLY"},
		{"READWRITE"},
		{"MSET", "a{x}", "1", "foo", "2"},
	}
	for _, args := range cases {
		rv, rerr := rc.Do(ctx, args...).Result()
		wv, werr := wc.Do(ctx, args...).Result()
		rs, ws := shape(rv), shape(wv)
		if rerr != nil || werr != nil {
			rs, ws = fmt.Sprint(rerr), fmt.Sprint(werr)
		}
		if sub := fmt.Sprint(args[min(1, len(args)-1)]); sub == "GETKEYSINSLOT" || sub == "KEYSLOT" || sub == "COUNTKEYSINSLOT" {
			rs, ws = fmt.Sprint(rv, rerr), fmt.Sprint(wv, werr)
			if a, ok := rv.([]any); ok {
				sort.Slice(a, func(i, j int) bool { return fmt.Sprint(a[i]) < fmt.Sprint(a[j]) })
				b, _ := wv.([]any)
				sort.Slice(b, func(i, j int) bool { return fmt.Sprint(b[i]) < fmt.Sprint(b[j]) })
				rs, ws = fmt.Sprint(a, rerr), fmt.Sprint(b, werr)
			}
		}
		if rs != ws {
			t.Errorf("%v:\n warden %s\n redis  %s", args, ws, rs)
		}
	}
	// Own id: no replicas, no failure reports, in both.
	for _, sub := range []string{"REPLICAS", "COUNT-FAILURE-REPORTS"} {
		rv, rerr := rc.Do(ctx, "CLUSTER", sub, rid).Result()
		wv, werr := wc.Do(ctx, "CLUSTER", sub, wid).Result()
		if fmt.Sprint(rv, rerr) != fmt.Sprint(wv, werr) {
			t.Errorf("CLUSTER %s <own id>: warden %v %v, redis %v %v", sub, wv, werr, rv, rerr)
		}
	}
	// CLUSTER INFO: the same fields in the same order.
	fields := func(info string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(info), "\r\n") {
			k, _, _ := strings.Cut(l, ":")
			out = append(out, k)
		}
		return out
	}
	rinfo, winfo := rc.ClusterInfo(ctx).Val(), wc.ClusterInfo(ctx).Val()
	if r, w := fields(rinfo), fields(winfo); strings.Join(r, ",") != strings.Join(w, ",") {
		t.Errorf("CLUSTER INFO fields:\n warden %v\n redis  %v", w, r)
	}
	// CLUSTER NODES: one line, the same fields (count and flags).
	rn, wn := strings.Fields(rc.ClusterNodes(ctx).Val()), strings.Fields(wc.ClusterNodes(ctx).Val())
	if len(rn) != len(wn) || rn[2] != wn[2] || rn[3] != wn[3] || rn[7] != wn[7] || rn[8] != wn[8] || wn[0] != wid {
		t.Errorf("CLUSTER NODES:\n warden %v\n redis  %v", wn, rn)
	}
}
