package control_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
	"github.com/wardenkv/warden/slotmap"
)

// startRedisCluster runs 3 voters (--peers) and 3 non-voters (--join),
// --shards 3, cluster-enabled: 3 shards of master + replica.
func startRedisCluster(t *testing.T) *clustertest.Cluster {
	t.Helper()
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Shards: 3, Args: []string{"--cluster-enabled", "yes", "--replicas-per-shard", "1"}})
	for i := 4; i <= 6; i++ {
		c.Add(t, "n"+strconv.Itoa(i), "--voter", "no")
	}
	for _, n := range c.Nodes {
		waitFullCoverage(t, c, n)
	}
	return c
}

// coverage checks one node's CLUSTER SLOTS: every slot covered once, each
// range served by a master and exactly one replica. It returns the range
// masters by start slot.
func coverage(ctx context.Context, n *clustertest.Node) (map[int]string, error) {
	slots, err := n.Client().ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].Start < slots[j].Start })
	next := 0
	masters := map[int]string{}
	for _, s := range slots {
		if s.Start != next {
			return nil, fmt.Errorf("slots %d-%d not covered (next range starts at %d)", next, s.Start-1, s.Start)
		}
		if len(s.Nodes) != 2 {
			return nil, fmt.Errorf("range %d-%d has %d nodes, want master + 1 replica", s.Start, s.End, len(s.Nodes))
		}
		if len(s.Nodes[0].ID) != 40 {
			return nil, fmt.Errorf("range %d-%d: master id %q is not 40 hex", s.Start, s.End, s.Nodes[0].ID)
		}
		masters[s.Start] = s.Nodes[0].Addr
		next = int(s.End) + 1
	}
	if next != slotmap.NumSlots {
		return nil, fmt.Errorf("slots from %d not covered", next)
	}
	return masters, nil
}

func waitFullCoverage(t *testing.T, c *clustertest.Cluster, n *clustertest.Node) {
	t.Helper()
	var last error
	c.WaitFor(t, 30*time.Second, n.ID+": CLUSTER SLOTS covering 16384 slots with one replica per range", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, last = coverage(ctx, n)
		return last == nil
	})
}

func clusterClient(c *clustertest.Cluster, opts func(*redis.ClusterOptions)) *redis.ClusterClient {
	o := &redis.ClusterOptions{Addrs: []string{c.Nodes[0].Addr()}, MaxRedirects: 16}
	if opts != nil {
		opts(o)
	}
	return redis.NewClusterClient(o)
}

// nodeByAddr finds the node listening on host:port.
func nodeByAddr(c *clustertest.Cluster, addr string) *clustertest.Node {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

func TestRedisClusterMode(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed: apt-get install redis-tools")
	}
	c := startRedisCluster(t)
	ctx := context.Background()
	entry := c.Nodes[0]

	// INFO cluster and CLUSTER MYID.
	if v := entry.Client().Info(ctx, "cluster").Val(); !strings.Contains(v, "cluster_enabled:1") {
		t.Fatalf("INFO cluster: %q", v)
	}
	myid, err := entry.Client().Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil || len(myid) != 40 {
		t.Fatalf("CLUSTER MYID = %q, %v", myid, err)
	}

	t.Run("redis-cli -c writes and reads 2000 keys through one node", func(t *testing.T) {
		var in strings.Builder
		for i := range 2000 {
			fmt.Fprintf(&in, "SET key:%d val:%d\n", i, i)
		}
		cmd := exec.Command("redis-cli", "-c", "-p", strconv.Itoa(entry.Port))
		cmd.Stdin = strings.NewReader(in.String())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli -c: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "OK"); n != 2000 {
			t.Fatalf("redis-cli -c: %d OK of 2000:\n%.2000s", n, out)
		}
		in.Reset()
		for i := range 2000 {
			fmt.Fprintf(&in, "GET key:%d\n", i)
		}
		cmd = exec.Command("redis-cli", "-c", "-p", strconv.Itoa(entry.Port))
		cmd.Stdin = strings.NewReader(in.String())
		out, err = cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli -c: %v\n%s", err, out)
		}
		// redis-cli -c prints "-> Redirected to slot [s] located at addr"
		// each time it follows a MOVED.
		var lines []string
		redirects := 0
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if strings.HasPrefix(l, "-> Redirected to slot") {
				redirects++
				continue
			}
			lines = append(lines, l)
		}
		if redirects == 0 {
			t.Errorf("redis-cli -c followed no MOVED reading 2000 keys from one node")
		}
		if len(lines) != 2000 {
			t.Fatalf("redis-cli -c GET: %d lines", len(lines))
		}
		for i, l := range lines {
			if l != "val:"+strconv.Itoa(i) {
				t.Fatalf("GET key:%d = %q", i, l)
			}
		}
		// The keys are spread: every master holds some.
		total := int64(0)
		for _, n := range c.Nodes {
			if role(n) != "master" {
				continue
			}
			k := n.Client().DBSize(ctx).Val()
			if k == 0 {
				t.Errorf("master %s holds no key", n.ID)
			}
			total += k
		}
		if total != 2000 {
			t.Errorf("masters hold %d keys, want 2000", total)
		}
	})

	t.Run("redis-cli --cluster check and info pass", func(t *testing.T) {
		out, err := exec.Command("redis-cli", "--cluster", "check", entry.Addr()).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "[OK] All 16384 slots covered.") || strings.Contains(string(out), "[ERR]") || strings.Contains(string(out), "[WARNING]") {
			t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
		}
		t.Logf("redis-cli --cluster check:\n%s", out)
		out, err = exec.Command("redis-cli", "--cluster", "info", entry.Addr()).CombinedOutput()
		if err != nil || strings.Count(string(out), "1 slaves.") != 3 || !strings.Contains(string(out), "keys in 3 masters") {
			t.Fatalf("redis-cli --cluster info: %v\n%s", err, out)
		}
		t.Logf("redis-cli --cluster info:\n%s", out)
	})

	t.Run("ClusterClient pipelines across shards", func(t *testing.T) {
		cc := clusterClient(c, nil)
		defer cc.Close()
		pipe := cc.Pipeline()
		for i := range 500 {
			pipe.Set(ctx, "p:"+strconv.Itoa(i), i, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		pipe = cc.Pipeline()
		gets := make([]*redis.StringCmd, 500)
		for i := range 500 {
			gets[i] = pipe.Get(ctx, "p:"+strconv.Itoa(i))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, g := range gets {
			if g.Val() != strconv.Itoa(i) {
				t.Fatalf("GET p:%d = %q", i, g.Val())
			}
		}
		// A ReadOnly client sends READONLY and reads from the replicas.
		ro := clusterClient(c, func(o *redis.ClusterOptions) { o.ReadOnly, o.RouteRandomly = true, true })
		defer ro.Close()
		c.WaitFor(t, 30*time.Second, "every key readable through a ReadOnly ClusterClient", func() bool {
			pipe := ro.Pipeline()
			gets := make([]*redis.StringCmd, 500)
			for i := range 500 {
				gets[i] = pipe.Get(ctx, "p:"+strconv.Itoa(i))
			}
			pipe.Exec(ctx)
			for i, g := range gets {
				if g.Val() != strconv.Itoa(i) {
					return false
				}
			}
			return true
		})
		replicaGets := 0
		for _, n := range c.Nodes {
			if role(n) != "slave" {
				continue
			}
			stats := n.Client().Info(ctx, "commandstats").Val()
			if i := strings.Index(stats, "cmdstat_get:calls="); i >= 0 {
				v, _ := strconv.Atoi(strings.SplitN(stats[i+len("cmdstat_get:calls="):], ",", 2)[0])
				replicaGets += v
			}
		}
		if replicaGets == 0 {
			t.Fatal("the ReadOnly client's GETs never reached a replica")
		}
	})

	t.Run("CROSSSLOT, MOVED, READONLY, hash tags", func(t *testing.T) {
		ccs, _ := entry.Client().ClusterSlots(ctx).Result()
		// master and replica of the slot of "{t}".
		slot := slotmap.SlotString("{t}")
		var master, replica *clustertest.Node
		for _, s := range ccs {
			if int(s.Start) <= slot && slot <= int(s.End) {
				master, replica = nodeByAddr(c, s.Nodes[0].Addr), nodeByAddr(c, s.Nodes[1].Addr)
			}
		}
		if master == nil || replica == nil {
			t.Fatalf("no master/replica for slot %d in %v", slot, ccs)
		}
		mc := master.Client()
		if err := mc.MSet(ctx, "{t}a", "1", "{t}b", "2").Err(); err != nil {
			t.Fatalf("MSET with a hash tag: %v", err)
		}
		// Keys of two slots: CROSSSLOT, also before MULTI queues.
		k1, k2 := "{t}a", "other"
		if err := mc.MSet(ctx, k1, "1", k2, "2").Err(); err == nil || err.Error() != "CROSSSLOT Keys in request don't hash to the same slot" {
			t.Fatalf("MSET across slots: %v", err)
		}
		// MULTI/EXEC: a key of this shard in another slot queues, and EXEC
		// refuses the transaction (CROSSSLOT) without running any of it.
		sameShard, otherShard := "", ""
		owner := func(k string) string {
			ks := slotmap.SlotString(k)
			for _, s := range ccs {
				if int(s.Start) <= ks && ks <= int(s.End) {
					return s.Nodes[0].Addr
				}
			}
			return ""
		}
		for i := 0; sameShard == "" || otherShard == ""; i++ {
			k := "x" + strconv.Itoa(i)
			switch {
			case owner(k) == master.Addr() && slotmap.SlotString(k) != slot:
				sameShard = k
			case owner(k) != master.Addr():
				otherShard = k
			}
		}
		conn := mc.Conn()
		defer conn.Close()
		for _, step := range []struct {
			args []any
			want string
		}{
			{[]any{"MULTI"}, "OK"},
			{[]any{"SET", "{t}a", "x"}, "QUEUED"},
			{[]any{"SET", sameShard, "y"}, "QUEUED"},
			{[]any{"EXEC"}, "CROSSSLOT Keys in request don't hash to the same slot"},
			// A key of another shard is redirected before MULTI queues it.
			{[]any{"MULTI"}, "OK"},
			{[]any{"SET", "{t}a", "x"}, "QUEUED"},
			{[]any{"SET", otherShard, "y"}, "MOVED " + strconv.Itoa(slotmap.SlotString(otherShard)) + " " + owner(otherShard)},
			{[]any{"EXEC"}, "EXECABORT Transaction discarded because of previous errors."},
		} {
			v, err := conn.Do(ctx, step.args...).Result()
			got := fmt.Sprint(v)
			if err != nil {
				got = err.Error()
			}
			if got != step.want {
				t.Fatalf("%v: %q, want %q", step.args, got, step.want)
			}
		}
		if v := mc.Get(ctx, "{t}a").Val(); v != "1" {
			t.Fatalf("{t}a = %q after the refused transactions", v)
		}
		if n, _ := mc.Exists(ctx, sameShard).Result(); n != 0 {
			t.Fatalf("%s written by a refused transaction", sameShard)
		}
		// A key of another shard: MOVED to its master.
		other := ""
		for i := 0; other == ""; i++ {
			k := "o" + strconv.Itoa(i)
			if s := slotmap.SlotString(k); s < slot-6000 || s > slot+6000 {
				other = k
			}
		}
		err := mc.Get(ctx, other).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "MOVED "+strconv.Itoa(slotmap.SlotString(other))+" ") {
			t.Fatalf("GET of another shard's key: %v", err)
		}
		// The replica: MOVED without READONLY, served after it, MOVED
		// again for writes and after READWRITE.
		rc := redis.NewClient(&redis.Options{Addr: replica.Addr(), PoolSize: 1, MaxRetries: -1})
		defer rc.Close()
		movedToMaster := "MOVED " + strconv.Itoa(slot) + " " + master.Addr()
		if err := rc.Get(ctx, "{t}a").Err(); err == nil || err.Error() != movedToMaster {
			t.Fatalf("replica GET without READONLY: %v, want %s", err, movedToMaster)
		}
		if err := rc.ReadOnly(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		c.WaitFor(t, 30*time.Second, "the replica serving {t}a = 1 after READONLY", func() bool {
			v, err := rc.Get(ctx, "{t}a").Result()
			return err == nil && v == "1"
		})
		if err := rc.Set(ctx, "{t}a", "2", 0).Err(); err == nil || err.Error() != movedToMaster {
			t.Fatalf("replica SET after READONLY: %v", err)
		}
		if err := rc.ReadWrite(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rc.Get(ctx, "{t}a").Err(); err == nil || err.Error() != movedToMaster {
			t.Fatalf("replica GET after READWRITE: %v", err)
		}
		// Sharded pub/sub routes by channel slot.
		if err := mc.SPublish(ctx, "{t}ch", "m").Err(); err != nil {
			t.Fatalf("SPUBLISH on the channel's master: %v", err)
		}
		if err := mc.SPublish(ctx, other, "m").Err(); err == nil || !strings.HasPrefix(err.Error(), "MOVED ") {
			t.Fatalf("SPUBLISH to another shard's channel: %v", err)
		}
		// A replica serves SSUBSCRIBE for its shard's channels (no
		// READONLY needed) and gets what the master SPUBLISHes.
		sub := redis.NewClient(&redis.Options{Addr: replica.Addr()}).SSubscribe(ctx, "{t}ch")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatalf("SSUBSCRIBE on the replica: %v", err)
		}
		if err := mc.SPublish(ctx, "{t}ch", "to the replica").Err(); err != nil {
			t.Fatal(err)
		}
		subCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := sub.ReceiveMessage(subCtx)
		cancel()
		if err != nil || msg.Payload != "to the replica" {
			t.Fatalf("the replica's sharded subscriber: %v %v", msg, err)
		}
		// Keyless commands run anywhere.
		if err := rc.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if n, err := mc.Do(ctx, "CLUSTER", "KEYSLOT", "{t}zzz").Int(); err != nil || n != slot {
			t.Fatalf("CLUSTER KEYSLOT = %d, %v", n, err)
		}
		if n, err := mc.Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", slot).Int(); err != nil || n != 2 {
			t.Fatalf("CLUSTER COUNTKEYSINSLOT = %d, %v", n, err)
		}
		if err := mc.Do(ctx, "CLUSTER", "ADDSLOTS", "1").Err(); err == nil || !strings.Contains(err.Error(), "Raft record") {
			t.Fatalf("CLUSTER ADDSLOTS: %v", err)
		}
	})

	t.Run("PUBLISH on one node reaches the subscribers of every node", func(t *testing.T) {
		// As over Redis Cluster's bus: one subscriber per node, masters and
		// replicas alike; PUBLISH on one node answers its own receivers.
		var subs []*redis.PubSub
		for _, n := range c.Nodes {
			sub := redis.NewClient(&redis.Options{Addr: n.Addr()}).Subscribe(ctx, "news")
			defer sub.Close()
			if _, err := sub.Receive(ctx); err != nil {
				t.Fatalf("SUBSCRIBE on %s: %v", n.ID, err)
			}
			subs = append(subs, sub)
		}
		for i, from := range []*clustertest.Node{c.Nodes[0], c.Nodes[len(c.Nodes)-1]} {
			payload := fmt.Sprintf("from %s", from.ID)
			if n, err := from.Client().Publish(ctx, "news", payload).Result(); err != nil || n != 1 {
				t.Fatalf("PUBLISH on %s = %d, %v; want 1 (its own subscriber)", from.ID, n, err)
			}
			for j, sub := range subs {
				subCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
				msg, err := sub.ReceiveMessage(subCtx)
				cancel()
				if err != nil || msg.Channel != "news" || msg.Payload != payload {
					t.Fatalf("publish %d: %s's subscriber got %v, %v; want %q", i, c.Nodes[j].ID, msg, err, payload)
				}
			}
		}
	})

	t.Run("kill -9 of a shard's master: its replica takes over", func(t *testing.T) {
		cc := clusterClient(c, func(o *redis.ClusterOptions) { o.MaxRetries = 20 })
		defer cc.Close()
		before, err := coverage(ctx, entry)
		if err != nil {
			t.Fatal(err)
		}
		// Kill the master of the range that does not include the entry node.
		var victim *clustertest.Node
		for _, addr := range before {
			if n := nodeByAddr(c, addr); n != nil && n != entry {
				victim = n
				break
			}
		}
		if victim == nil {
			t.Fatal("no master to kill")
		}
		victimID, err := victim.Client().Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			t.Fatal(err)
		}
		// Its replica acknowledged every write first: the failover must
		// then lose none.
		if n, err := victim.Client().Do(ctx, "WAIT", 1, 30000).Int(); err != nil || n != 1 {
			t.Fatalf("WAIT 1 on %s = %d, %v", victim.ID, n, err)
		}
		victim.Kill()
		var live []*clustertest.Node
		for _, n := range c.Nodes {
			if n != victim {
				live = append(live, n)
			}
		}
		for _, n := range live {
			c.WaitFor(t, 30*time.Second, n.ID+" naming a new master for "+victim.ID+"'s slots", func() bool {
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				m, err := coverageMasters(cctx, n)
				if err != nil {
					return false
				}
				for _, addr := range m {
					if addr == victim.Addr() {
						return false
					}
				}
				return len(m) == 3
			})
		}
		// The cluster client follows: writes and reads on every shard.
		c.WaitFor(t, 30*time.Second, "ClusterClient writing to every shard after the failover", func() bool {
			for i := range 100 {
				if err := cc.Set(ctx, "after:"+strconv.Itoa(i), i, 0).Err(); err != nil {
					return false
				}
			}
			return true
		})
		for i := range 100 {
			if v, err := cc.Get(ctx, "after:"+strconv.Itoa(i)).Result(); err != nil || v != strconv.Itoa(i) {
				t.Fatalf("GET after:%d = %q, %v", i, v, err)
			}
		}
		// The keys written before the failover survive on the new master.
		var lost []string
		for i := range 500 {
			if v, err := cc.Get(ctx, "p:"+strconv.Itoa(i)).Result(); err != nil || v != strconv.Itoa(i) {
				lost = append(lost, fmt.Sprintf("p:%d=%q(%v)", i, v, err))
			}
		}
		if len(lost) > 0 {
			t.Fatalf("%d keys lost after the failover: %v", len(lost), lost[:min(len(lost), 10)])
		}
		// The old master comes back as a replica of its shard, and the
		// cluster checks clean again (every range with its replica).
		victim.Restart(t)
		c.WaitFor(t, 30*time.Second, victim.ID+" back as a replica", func() bool { return role(victim) == "slave" })
		if id, err := victim.Client().Do(ctx, "CLUSTER", "MYID").Text(); err != nil || id != victimID {
			t.Fatalf("CLUSTER MYID after the restart = %q, %v; before %q (the id must persist under dir)", id, err, victimID)
		}
		for _, n := range c.Nodes {
			waitFullCoverage(t, c, n)
		}
		out, err := exec.Command("redis-cli", "--cluster", "check", entry.Addr()).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "[OK] All 16384 slots covered.") || strings.Contains(string(out), "[ERR]") {
			t.Fatalf("redis-cli --cluster check after the rejoin: %v\n%s", err, out)
		}
	})

	t.Run("a shard with neither master nor replica: CLUSTERDOWN for its slots only", func(t *testing.T) {
		slots, err := entry.Client().ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		// A shard that does not hold the entry node and has at most one
		// voter (n1..n3), so Raft keeps its majority.
		var dead []*clustertest.Node
		var deadSlot, liveSlot int
		for _, s := range slots {
			m, r := nodeByAddr(c, s.Nodes[0].Addr), nodeByAddr(c, s.Nodes[len(s.Nodes)-1].Addr)
			voters := 0
			for _, n := range []*clustertest.Node{m, r} {
				if n.ID <= "n3" {
					voters++
				}
			}
			if dead == nil && m != entry && r != entry && m != r && voters <= 1 {
				dead, deadSlot = []*clustertest.Node{m, r}, int(s.Start)
			} else {
				liveSlot = int(s.Start)
			}
		}
		if dead == nil {
			t.Fatalf("no shard to take down in %v", slots)
		}
		keyIn := func(slot int) string {
			for i := 0; ; i++ {
				k := "k" + strconv.Itoa(i)
				if s := slotmap.SlotString(k); s >= slot && s < slot+5000 {
					return k
				}
			}
		}
		deadKey, liveKey := keyIn(deadSlot), keyIn(liveSlot)
		for _, n := range dead {
			n.Kill()
		}
		ec := entry.Client()
		c.WaitFor(t, 30*time.Second, "CLUSTERDOWN for the dead shard's key on "+entry.ID, func() bool {
			err := ec.Set(ctx, deadKey, "x", 0).Err()
			return err != nil && err.Error() == "CLUSTERDOWN The cluster is down"
		})
		if info := ec.ClusterInfo(ctx).Val(); !strings.Contains(info, "cluster_state:fail") {
			t.Fatalf("CLUSTER INFO with a shard down:\n%s", info)
		}
		cc := clusterClient(c, func(o *redis.ClusterOptions) { o.MaxRetries = 20 })
		defer cc.Close()
		c.WaitFor(t, 30*time.Second, "the live shards still taking writes", func() bool {
			return cc.Set(ctx, liveKey, "y", 0).Err() == nil
		})
		if v, err := cc.Get(ctx, liveKey).Result(); err != nil || v != "y" {
			t.Fatalf("GET %s = %q, %v", liveKey, v, err)
		}
	})
}

// coverageMasters is the master address of each range a node reports,
// with all 16384 slots covered (replicas may be missing after a failure).
func coverageMasters(ctx context.Context, n *clustertest.Node) (map[int]string, error) {
	slots, err := n.Client().ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	covered := 0
	m := map[int]string{}
	for _, s := range slots {
		covered += int(s.End-s.Start) + 1
		m[int(s.Start)] = s.Nodes[0].Addr
	}
	if covered != slotmap.NumSlots {
		return nil, fmt.Errorf("%d slots covered", covered)
	}
	return m, nil
}

// cluster-enabled yes without the control plane cannot learn its slots:
// the node refuses to start and says why.
func TestClusterEnabledNeedsControlPlane(t *testing.T) {
	out, err := exec.Command(clustertest.Binary(t), "server", "--port", "0", "--save", "", "--dir", t.TempDir(), "--cluster-enabled", "yes").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("warden with cluster-enabled and no control plane: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cluster-enabled yes needs the control plane: set raft-addr") {
		t.Fatalf("no clear reason given:\n%s", out)
	}
}
