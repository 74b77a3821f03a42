package jepsen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
)

// env is the cluster under test and what the nemesis may do to it.
type env struct {
	t          *runTB
	c          *clustertest.Cluster
	rec        *Recorder
	lease      time.Duration
	down       time.Duration
	mounts     map[string]string // node id -> its tmpfs (disk-full), if mounted
	cluster    bool              // cluster6: cluster-enabled, 3 shards, slot migrations
	netem      bool              // tc netem works in the nodes' namespaces
	noNetemWhy string
	noDiskWhy  string

	mu    sync.Mutex
	tcOn  map[string]bool   // nodes with a netem qdisc
	fills map[string]string // node id -> filler file
	// migrations the nemesis started (cluster6)
	migrations []uint64
}

const tmpfsSize = "256m"

// mountTmpfs gives each node directory a small filesystem of its own so
// that disk-full can fill one node's disk alone.
func (e *env) mountTmpfs(base string, ids []string) {
	e.mounts = map[string]string{}
	for _, id := range ids {
		dir := filepath.Join(base, id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			e.noDiskWhy = err.Error()
			return
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+tmpfsSize, "tmpfs", dir).CombinedOutput(); err != nil {
			e.noDiskWhy = fmt.Sprintf("mount tmpfs: %v: %s", err, strings.TrimSpace(string(out)))
			e.unmount()
			return
		}
		e.mounts[id] = dir
	}
}

func (e *env) unmount() {
	for id, dir := range e.mounts {
		exec.Command("umount", "-l", dir).Run()
		delete(e.mounts, id)
	}
}

// probeNetem tries a netem qdisc in a node's namespace.
func (e *env) probeNetem(n *clustertest.Node) {
	if _, err := n.NetnsExec("tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "1ms"); err != nil {
		e.noNetemWhy = err.Error()
		return
	}
	n.NetnsExec("tc", "qdisc", "del", "dev", "eth0", "root")
	e.netem = true
}

// view is who the cluster thinks masters each shard and leads Raft, from
// the freshest /status (highest epoch per shard, then term) of the nodes
// that answer.
type view struct {
	master, leader *clustertest.Node // master: shard 0's (the only one in sentinel3)
	masters        map[int]*clustertest.Node
	shardOf        map[string]int      // node id -> its shard, from the members table
	st             *clustertest.Status // the status with the highest applied index
}

// role labels n for a fault's target: master of some shard, or replica.
func (v view) role(n *clustertest.Node) string {
	for _, m := range v.masters {
		if m == n {
			return " (master)"
		}
	}
	return " (replica)"
}

func (e *env) view(ctx context.Context) view {
	v := view{masters: map[int]*clustertest.Node{}, shardOf: map[string]int{}}
	var term, applied uint64
	epochs := map[int]uint64{}
	e.eachStatus(ctx, 500*time.Millisecond, func(n *clustertest.Node, st clustertest.Status) {
		for _, sh := range st.Shards {
			if sh.Master != "" && !sh.Removed && sh.Epoch >= epochs[sh.ID] {
				epochs[sh.ID] = sh.Epoch
				if m := e.c.Node(sh.Master); m != nil {
					v.masters[sh.ID] = m
				}
			}
		}
		if st.Leader.NodeID != "" && st.Raft.Term >= term {
			term, v.leader = st.Raft.Term, e.c.Node(st.Leader.NodeID)
		}
		if v.st == nil || st.Raft.AppliedIndex > applied {
			applied, v.st = st.Raft.AppliedIndex, &st
			for _, m := range st.Members {
				v.shardOf[m.ID] = m.Shard
			}
		}
	})
	v.master = v.masters[0]
	return v
}

// slotTable is the status's slot table as a "slots" op carries it.
func slotTableOf(st clustertest.Status) string {
	byShard := map[int]string{}
	for _, sh := range st.Shards {
		if !sh.Removed {
			var s string
			json.Unmarshal(sh.Slots, &s)
			byShard[sh.ID] = s
		}
	}
	return FormatSlotTable(byShard)
}

// monitor polls every node's /status and records each new shard epoch
// with its master's address, for the split-brain detector, and (cluster
// mode) each new slot table, from the node that has applied the most of
// the Raft log (a lagging node would show an older table again).
func (e *env) monitor(ctx context.Context, every time.Duration, rs *recordSeen) {
	for ctx.Err() == nil {
		e.pollRecord(ctx, rs)
		sleepCtx(ctx, every)
	}
}

// eachStatus calls f with the /status of every node that runs, is not
// frozen and answers within timeout.
func (e *env) eachStatus(ctx context.Context, timeout time.Duration, f func(*clustertest.Node, clustertest.Status)) {
	for _, n := range e.c.Nodes {
		if !n.Running() || n.Stopped() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		st, err := n.Status(cctx)
		cancel()
		if err == nil {
			f(n, st)
		}
	}
}

// recordSeen is what the monitor has recorded of the Raft record: each
// shard's newest epoch and, in cluster mode, the last slot table and the
// applied index it came from.
type recordSeen struct {
	epochs  map[int]uint64
	applied uint64
	table   string
}

func (e *env) pollRecord(ctx context.Context, rs *recordSeen) {
	e.eachStatus(ctx, 300*time.Millisecond, func(n *clustertest.Node, st clustertest.Status) {
		for _, sh := range st.Shards {
			if sh.Master == "" || sh.Removed || sh.Epoch <= rs.epochs[sh.ID] {
				continue
			}
			rs.epochs[sh.ID] = sh.Epoch
			addr := sh.MasterAddr
			if m := e.c.Node(sh.Master); m != nil {
				addr = m.Addr()
			}
			e.rec.Add(Op{Type: "record", Epoch: sh.Epoch, Shard: sh.ID, Node: addr, Start: e.rec.Now(), End: e.rec.Now(),
				Info: fmt.Sprintf("record names %s master of shard %d at epoch %d (seen via %s)", sh.Master, sh.ID, sh.Epoch, n.ID)})
		}
		if e.cluster && st.Raft.AppliedIndex > rs.applied {
			rs.applied = st.Raft.AppliedIndex
			if t := slotTableOf(st); t != rs.table {
				rs.table = t
				e.rec.Add(Op{Type: "slots", Slots: t, Start: e.rec.Now(), End: e.rec.Now(),
					Info: fmt.Sprintf("slot table at applied index %d (seen via %s)", st.Raft.AppliedIndex, n.ID)})
			}
		}
	})
}

// healAll undoes every fault: SIGCONT, firewall flushed, qdisc removed,
// filler deleted, dead nodes started again.
func (e *env) healAll() {
	for _, n := range e.c.Nodes {
		if n.Stopped() {
			n.Cont()
		}
		e.c.Heal(n)
		e.mu.Lock()
		if e.tcOn[n.ID] {
			n.NetnsExec("tc", "qdisc", "del", "dev", "eth0", "root")
			delete(e.tcOn, n.ID)
		}
		if f := e.fills[n.ID]; f != "" {
			os.Remove(f)
			delete(e.fills, n.ID)
		}
		e.mu.Unlock()
		if !n.Running() {
			n.RestartAsync(e.t)
		}
	}
}

// healthy: every node runs and is ready, all name the same master for
// every shard, and every other node is a replica with its link up.
func (e *env) healthy(ctx context.Context) (bool, string) {
	masters := map[int]string{}
	for i, n := range e.c.Nodes {
		if !n.Running() {
			return false, n.ID + " not running"
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		ok, why := n.Ready(cctx)
		var st clustertest.Status
		var err error
		if ok {
			st, err = n.Status(cctx)
		}
		cancel()
		if !ok {
			return false, n.ID + " not ready: " + why
		}
		if err != nil {
			return false, err.Error()
		}
		shards := 0
		for _, sh := range st.Shards {
			if sh.Removed {
				continue
			}
			shards++
			m, known := masters[sh.ID]
			if sh.Master == "" || (i > 0 && (!known || sh.Master != m)) {
				return false, fmt.Sprintf("nodes disagree on the master of shard %d", sh.ID)
			}
			masters[sh.ID] = sh.Master
		}
		if shards == 0 || shards != len(masters) {
			return false, "nodes disagree on the shards"
		}
	}
	isMaster := map[string]bool{}
	for _, m := range masters {
		isMaster[m] = true
	}
	for _, n := range e.c.Nodes {
		if isMaster[n.ID] {
			continue
		}
		if infoField(ctx, n, "replication", "master_link_status") != "up" {
			return false, n.ID + " replication link not up"
		}
	}
	return true, ""
}

// waitHealthy waits up to limit for healthy and returns how long it took.
func (e *env) waitHealthy(ctx context.Context, limit time.Duration) (time.Duration, bool, string) {
	start := time.Now()
	why := ""
	for time.Since(start) < limit {
		ok, w := e.healthy(ctx)
		if ok {
			return time.Since(start), true, ""
		}
		why = w
		sleepCtx(ctx, 50*time.Millisecond)
	}
	return time.Since(start), false, why
}

func infoField(ctx context.Context, n *clustertest.Node, section, field string) string {
	cl := redis.NewClient(&redis.Options{Addr: n.Addr(), DialTimeout: 500 * time.Millisecond, ReadTimeout: time.Second, MaxRetries: -1})
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	info, err := cl.Info(cctx, section).Result()
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

// digest hashes a node's whole keyspace (DEBUG DIGEST-like: every key
// with its type and value; sets sorted), over SCAN.
// A cluster-mode replica serves the reads after READONLY.
func digest(ctx context.Context, addr string, cluster bool) (string, int, error) {
	o := &redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 5 * time.Second, MaxRetries: -1}
	if cluster {
		o.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }
	}
	cl := redis.NewClient(o)
	defer cl.Close()
	var keys []string
	var cursor uint64
	for {
		ks, next, err := cl.Scan(ctx, cursor, "*", 1000).Result()
		if err != nil {
			return "", 0, err
		}
		keys = append(keys, ks...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	sort.Strings(keys)
	keys = compactStrings(keys)
	h := sha256.New()
	for _, k := range keys {
		typ, err := cl.Type(ctx, k).Result()
		if err != nil {
			return "", 0, err
		}
		fmt.Fprintf(h, "%q %s ", k, typ)
		switch typ {
		case "string":
			v, err := cl.Get(ctx, k).Result()
			if err != nil && err != redis.Nil {
				return "", 0, err
			}
			fmt.Fprintf(h, "%q\n", v)
		case "set":
			vs, err := cl.SMembers(ctx, k).Result()
			if err != nil {
				return "", 0, err
			}
			sort.Strings(vs)
			fmt.Fprintf(h, "%q\n", vs)
		case "none":
			fmt.Fprintln(h)
		default:
			return "", 0, fmt.Errorf("digest: key %s has type %s, which the suite does not write", k, typ)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], len(keys), nil
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// converge waits (up to limit) until every node's digest equals its
// shard master's, and returns how long that took, the key count (over the
// masters) and the digests.
func (e *env) converge(ctx context.Context, limit time.Duration) (time.Duration, bool, int, map[string]string) {
	start := time.Now()
	var last map[string]string
	keys := 0
	for time.Since(start) < limit {
		v := e.view(ctx)
		last = map[string]string{}
		same := len(v.masters) > 0
		keys = 0
		byNode := map[string]string{}
		for _, n := range e.c.Nodes {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			d, k, err := digest(cctx, n.Addr(), e.cluster)
			cancel()
			if err != nil {
				d, same = "error: "+err.Error(), false
			}
			byNode[n.ID] = d
			last[n.ID] = fmt.Sprintf("shard %d: %s", v.shardOf[n.ID], d)
			for _, m := range v.masters {
				if m == n {
					keys += k
				}
			}
		}
		for _, n := range e.c.Nodes {
			sh, known := v.shardOf[n.ID]
			m := v.masters[sh]
			if !known || m == nil || byNode[n.ID] != byNode[m.ID] {
				same = false
			}
		}
		if same {
			return time.Since(start), true, keys, last
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	return time.Since(start), false, keys, last
}
