package control_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
)

// partitionRounds is how many times the partition tests cut the master
// off: WARDEN_PARTITION_ROUNDS, or a few by default.
func partitionRounds(t *testing.T, def int) int {
	if s := os.Getenv("WARDEN_PARTITION_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WARDEN_PARTITION_ROUNDS=%q: want a positive count", s)
		}
		return n
	}
	return def
}

// TestPartitionKeepsWaitAckedWrites cuts the master off from both
// replicas while 8 clients SET + WAIT 1 200 through the Sentinel API,
// holds the partition 6 s, heals it, and checks that every write WAIT
// acknowledged is on the master afterwards. "staggered" puts the four
// rules in one at a time 20 ms apart (INPUT from A, OUTPUT to A, INPUT
// from B, OUTPUT to B): for 20 ms the replica cut last still receives
// writes that no one else has, and it alone acknowledges them, so it is
// the one that must be promoted. Each client's longest run without an
// acknowledged write is logged per round; half the clients discover the
// master the way redis-py and Jedis do (sentinels in order, the first
// answer wins), starting with a different node each, half with go-redis's
// FailoverClient.
func TestPartitionKeepsWaitAckedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("partition rounds take tens of seconds")
	}
	for _, tc := range []struct {
		name      string
		staggered bool
		rounds    int
	}{
		{"staggered", true, partitionRounds(t, 2)},
		{"at-once", false, partitionRounds(t, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) { partitionWrites(t, tc.staggered, tc.rounds) })
	}
}

func partitionWrites(t *testing.T, staggered bool, rounds int) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Netns: true})
	c.Master(t, 0)
	var sentinels []string
	for _, n := range c.Nodes {
		sentinels = append(sentinels, n.SentinelAddr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ws := make([]*sentinelWriter, 8)
	for i := range ws {
		order := append(append([]string{}, sentinels[i%3:]...), sentinels[:i%3]...)
		ws[i] = &sentinelWriter{id: i, sentinels: order, failover: i >= 4}
		wg.Add(1)
		go func() { defer wg.Done(); ws[i].run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })

	gone := map[string]bool{} // acknowledged writes found lost in earlier rounds
	for r := 1; r <= rounds; r++ {
		m := c.Master(t, 0)
		var reps []*clustertest.Node
		for _, n := range c.Nodes {
			if n != m {
				reps = append(reps, n)
			}
		}
		// Both replicas streaming (a rejoined old master may still be
		// loading its full sync), so each has a history to resume from.
		c.WaitFor(t, 30*time.Second, "both replicas linked to "+m.ID, func() bool {
			for _, n := range reps {
				if infoField(n, "replication", "master_link_status") != "up" {
					return false
				}
			}
			return true
		})
		waitAcks(t, ws, time.Now())
		leader := statusOf(t, m).Leader.NodeID
		partialBefore := map[string]int{}
		for _, n := range reps {
			if partialBefore[n.ID] = syncPartialOK(n); partialBefore[n.ID] < 0 {
				t.Fatalf("%s: no sync_partial_ok in INFO stats", n.ID)
			}
		}
		start := time.Now()
		for _, w := range ws {
			w.resetGap(start)
		}
		var ruleAt []time.Duration
		if staggered {
			ruleAt = c.CutLinks(m, 20*time.Millisecond,
				clustertest.Cut{Peer: reps[0], In: true}, clustertest.Cut{Peer: reps[0]},
				clustertest.Cut{Peer: reps[1], In: true}, clustertest.Cut{Peer: reps[1]})
		} else {
			c.Partition(m)
			ruleAt = []time.Duration{time.Since(start)}
		}
		// The cut-off node stops advertising a master it cannot vouch for.
		sc := redis.NewSentinelClient(&redis.Options{Addr: m.SentinelAddr(), MaxRetries: -1})
		t.Cleanup(func() { sc.Close() })
		c.WaitFor(t, 30*time.Second, "the cut-off node's sentinel to refuse discovery", func() bool {
			err := sc.GetMasterAddrByName(context.Background(), "mymaster").Err()
			return err != nil && strings.HasPrefix(err.Error(), "NOQUORUM")
		})
		time.Sleep(time.Until(start.Add(6 * time.Second)))
		// Every client, whichever sentinel it asks first, must have found
		// the new master while the old one is still cut off: once the
		// rules are in, the old master cannot have a write acknowledged.
		cutOff := start.Add(ruleAt[len(ruleAt)-1] + 500*time.Millisecond)
		c.WaitFor(t, 30*time.Second, "every client to write to the new master during the partition", func() bool {
			for _, w := range ws {
				if !w.ackedAfter(cutOff) {
					return false
				}
			}
			return true
		})
		c.Heal(m)
		healed := time.Now()
		nm := c.Master(t, 0)
		c.WaitFor(t, 30*time.Second, "the old master to rejoin as a replica", func() bool { return role(m) == "slave" })
		rejoined := time.Since(healed)
		// Gossip heals too: each node hears every other again, so the next
		// failover weighs every replica's offset.
		c.WaitFor(t, 30*time.Second, "every node to see every member alive again", func() bool {
			for _, n := range c.Nodes {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				st, err := n.Status(ctx)
				cancel()
				if err != nil || len(st.Members) != len(c.Nodes) {
					return false
				}
				for _, mb := range st.Members {
					if mb.State != "alive" {
						return false
					}
				}
			}
			return true
		})
		c.WaitFor(t, 30*time.Second, "the healed node's sentinel to name the new master", func() bool {
			hp, err := sc.GetMasterAddrByName(context.Background(), "mymaster").Result()
			return err == nil && len(hp) == 2 && net.JoinHostPort(hp[0], hp[1]) == nm.Addr()
		})
		waitAcks(t, ws, healed)
		lost, acked := lostWrites(t, nm, ws, gone)
		t.Logf("round %d: cut %s (raft leader %s) off from %s (rules in at %v), new master %s, old one a replica %v after the heal: %d of %d acknowledged writes lost",
			r, m.ID, leader, reps[0].ID+map[bool]string{true: " then ", false: " and at once "}[staggered]+reps[1].ID, ruleAt, nm.ID, rejoined.Round(time.Millisecond), lost, acked)
		for _, w := range ws {
			gap, first := w.gap()
			t.Logf("round %d: client %d (%s, asks %s first): longest stretch without an acknowledged write %v",
				r, w.id, w.kind(), sentinelOwner(c, first), gap.Round(time.Millisecond))
		}
		// The promoted replica had every byte the other one had: the other
		// one continues from it with a partial resync, not a full one.
		c.WaitFor(t, 30*time.Second, "the other replica to partially resync from "+nm.ID, func() bool {
			return syncPartialOK(nm) > partialBefore[nm.ID]
		})
		if lost > 0 {
			t.Errorf("round %d: %d writes acknowledged by WAIT 1 are not on the new master %s", r, lost, nm.ID)
		}
	}
}

func sentinelOwner(c *clustertest.Cluster, addr string) string {
	for _, n := range c.Nodes {
		if n.SentinelAddr() == addr {
			return n.ID
		}
	}
	return addr
}

// waitAcks waits until every writer has had a write acknowledged after since.
func waitAcks(t *testing.T, ws []*sentinelWriter, since time.Time) {
	t.Helper()
	clustertest.WaitFor(t, 30*time.Second, "every client to get a write acknowledged", func() bool {
		for _, w := range ws {
			if !w.ackedAfter(since) {
				return false
			}
		}
		return true
	})
}

// lostWrites counts the acknowledged writes missing from master that are
// not in gone yet, and adds them to it.
func lostWrites(t *testing.T, master *clustertest.Node, ws []*sentinelWriter, gone map[string]bool) (lost, acked int) {
	t.Helper()
	ctx := context.Background()
	cl := master.Client()
	for _, w := range ws {
		keys := w.ackedKeys()
		acked += len(keys)
		for len(keys) > 0 {
			batch := keys[:min(len(keys), 500)]
			keys = keys[len(batch):]
			vals, err := cl.MGet(ctx, batch...).Result()
			if err != nil {
				t.Fatalf("MGET on %s: %v", master.ID, err)
			}
			for i, v := range vals {
				if v != batch[i] && !gone[batch[i]] {
					gone[batch[i]] = true
					lost++
				}
			}
		}
	}
	return lost, acked
}

// sentinelWriter is one client doing SET + WAIT 1 200 in a loop. A write counts as
// acknowledged when WAIT reports a replica has it. The value is the key.
type sentinelWriter struct {
	id        int
	sentinels []string
	failover  bool // go-redis FailoverClient; else in-order discovery

	mu      sync.Mutex
	acked   []string
	lastAck time.Time
	maxGap  time.Duration
}

func (w *sentinelWriter) kind() string {
	if w.failover {
		return "go-redis FailoverClient"
	}
	return "in-order discovery"
}

func (w *sentinelWriter) run(ctx context.Context) {
	var cl redis.UniversalClient
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	for seq := 0; ctx.Err() == nil; seq++ {
		if cl == nil {
			cl = w.connect(ctx)
			if cl == nil {
				continue
			}
		}
		key := fmt.Sprintf("w%d:%d", w.id, seq)
		n, err := setWait(ctx, cl, key)
		switch {
		case err == nil && n >= 1:
			w.ack(key)
		case err != nil && !w.failover:
			// As redis-py and Jedis: any error sends the client back to
			// the sentinels.
			cl.Close()
			cl = nil
			sleepCtx(ctx, 10*time.Millisecond)
		case err != nil:
			sleepCtx(ctx, 10*time.Millisecond)
		}
	}
}

func setWait(ctx context.Context, cl redis.UniversalClient, key string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := cl.Set(ctx, key, key, 0).Err(); err != nil {
		return 0, err
	}
	return cl.Do(ctx, "WAIT", 1, 200).Int64()
}

// connect finds the master: the FailoverClient does it itself; otherwise
// ask the sentinels in order and take the first answer.
func (w *sentinelWriter) connect(ctx context.Context) redis.UniversalClient {
	if w.failover {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: w.sentinels,
			DialTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
			DialerRetries: 1, MaxRetries: -1})
	}
	for _, s := range w.sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s, DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 300 * time.Millisecond, MaxRetries: -1})
		hp, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		sc.Close()
		if err == nil && len(hp) == 2 {
			return redis.NewClient(&redis.Options{Addr: net.JoinHostPort(hp[0], hp[1]), DialTimeout: 300 * time.Millisecond,
				ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond, MaxRetries: -1})
		}
	}
	sleepCtx(ctx, 10*time.Millisecond)
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (w *sentinelWriter) ack(key string) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acked = append(w.acked, key)
	if !w.lastAck.IsZero() {
		w.maxGap = max(w.maxGap, now.Sub(w.lastAck))
	}
	w.lastAck = now
}

// resetGap starts a new measurement of the longest stretch without an
// acknowledged write, as if one had been acknowledged at start.
func (w *sentinelWriter) resetGap(start time.Time) {
	w.mu.Lock()
	w.lastAck, w.maxGap = start, 0
	w.mu.Unlock()
}

func (w *sentinelWriter) gap() (time.Duration, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxGap, w.sentinels[0]
}

func (w *sentinelWriter) ackedAfter(t time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastAck.After(t)
}

func (w *sentinelWriter) ackedKeys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string{}, w.acked...)
}

// syncPartialOK is n's INFO stats sync_partial_ok: the partial resyncs it
// accepted as a master; -1 if n did not answer.
func syncPartialOK(n *clustertest.Node) int {
	k, err := strconv.Atoi(infoField(n, "stats", "sync_partial_ok"))
	if err != nil {
		return -1
	}
	return k
}

// infoField is one field of n's INFO section ("" if n does not answer).
func infoField(n *clustertest.Node, section, field string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := n.Client().Info(ctx, section).Result()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			return v
		}
	}
	return ""
}
