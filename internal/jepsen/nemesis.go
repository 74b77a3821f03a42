package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
)

// Fault kinds the nemesis knows.
const (
	KillKind          = "kill"           // kill -9 (master half the time), restart after the hold
	PauseShortKind    = "pause-short"    // SIGSTOP the master for half the lease
	PauseLongKind     = "pause-long"     // SIGSTOP the master past down-after: it is failed over while frozen
	RestartKind       = "restart"        // SIGTERM and start again (a clean restart)
	IsolateMasterKind = "isolate-master" // the master cut off from every peer
	IsolateLeaderKind = "isolate-leader" // the Raft leader cut off from every peer
	SplitKind         = "split"          // a random minority cut off from the majority
	BridgeKind        = "bridge"         // master and one replica cannot talk; the third node hears both
	OneWayKind        = "oneway"         // the master hears no peer; what it sends gets through
	LossyKind         = "lossy"          // 30% of the master's packets to and from peers dropped (iptables statistic)
	NetemKind         = "netem"          // tc netem delay 100±50 ms, 5% loss on the master
	DiskFullKind      = "disk-full"      // the master's filesystem filled (fallocate on its tmpfs)
	MigrateKind       = "migrate"        // cluster6: slots under the workload's keys moved to another shard, a shard master killed during the move 2 times in 3
	ClockSkewKind     = "clock-skew"     // not implemented: see Unsupported
)

// AllKinds is the default mix, in report order.
var AllKinds = []string{KillKind, PauseShortKind, PauseLongKind, RestartKind, IsolateMasterKind, IsolateLeaderKind,
	SplitKind, BridgeKind, OneWayKind, LossyKind, NetemKind, DiskFullKind, MigrateKind, ClockSkewKind}

// Fault is one injected fault, for the report.
type Fault struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// Shard is the shard the fault is aimed at (-1: the whole cluster);
	// its outage counts only that shard's writes.
	Shard     int           `json:"shard"`
	Start     int64         `json:"start"`  // injected
	Healed    int64         `json:"healed"` // undone
	Recovered int64         `json:"recovered"`
	OK        bool          `json:"ok"` // healthy again within the limit
	Reconv    time.Duration `json:"reconverge"`
	Why       string        `json:"why,omitempty"` // why not healthy
}

// unsupported says why a kind cannot run here ("" if it can).
func (e *env) unsupported(kind string) string {
	switch kind {
	case NetemKind:
		if !e.netem {
			return "tc netem refused by this kernel: " + e.noNetemWhy
		}
	case DiskFullKind:
		if len(e.mounts) != len(e.c.Nodes) {
			return "no per-node tmpfs: " + e.noDiskWhy
		}
	case MigrateKind:
		if !e.cluster {
			return "one shard (topology sentinel3): nothing to migrate; run -topology cluster6"
		}
	case ClockSkewKind:
		return "not implemented: warden's lease runs on each node's monotonic clock from its own send times, so wall-clock skew does not reach it; faking skew needs a test-only clock offset in warden (only the HTTP signature's ±30 s window reads wall time)"
	}
	return ""
}

// inject starts a fault of kind and returns its target and the function
// that undoes it; hold is how long the caller keeps it.
func (e *env) inject(ctx context.Context, rng *rand.Rand, kind string) (target string, shard int, hold time.Duration, heal func(), err error) {
	v := e.view(ctx)
	// The master of one shard, drawn at random (shard 0 in sentinel3).
	var ids []int
	for id := range v.masters {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return "", -1, 0, nil, fmt.Errorf("no master known")
	}
	slices.Sort(ids)
	shard = ids[rng.IntN(len(ids))]
	m := v.masters[shard]
	// A kill hits the master half the time and any node otherwise, a
	// restart any node; the other kinds aim at m (or at the Raft group).
	n := m
	switch kind {
	case KillKind:
		if rng.IntN(2) == 0 {
			n = e.c.Nodes[rng.IntN(len(e.c.Nodes))]
		}
	case RestartKind:
		n = e.c.Nodes[rng.IntN(len(e.c.Nodes))]
	}
	target, hold, heal, err = e.injectAt(ctx, rng, kind, v, m, n)
	switch {
	case kind == IsolateLeaderKind || kind == SplitKind || kind == MigrateKind:
		shard = -1 // aimed at the Raft group, or at two shards
	case n != m:
		shard = v.shardOf[n.ID]
	}
	return target, shard, hold, heal, err
}

// injectAt injects kind aimed at shard master m; n is the node a kill or
// restart hits.
func (e *env) injectAt(ctx context.Context, rng *rand.Rand, kind string, v view, m, n *clustertest.Node) (target string, hold time.Duration, heal func(), err error) {
	others := func(x *clustertest.Node) []*clustertest.Node {
		var o []*clustertest.Node
		for _, n := range e.c.Nodes {
			if n != x {
				o = append(o, n)
			}
		}
		return o
	}
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
	switch kind {
	case KillKind:
		n.Kill()
		return n.ID + v.role(n), between(time.Second, 3*time.Second), func() { n.RestartAsync(e.t) }, nil
	case PauseShortKind:
		m.Stop()
		return m.ID + " (master)", e.lease / 2, m.Cont, nil
	case PauseLongKind:
		m.Stop()
		return m.ID + " (master)", between(2*e.down, 4*e.down), m.Cont, nil
	case RestartKind:
		n.Term()
		if err := startNode(e.t, n); err != nil {
			return n.ID, 0, nil, err
		}
		return n.ID + v.role(n), 0, func() {}, nil
	case IsolateMasterKind:
		e.c.Partition(m)
		return m.ID + " (master)", between(3*time.Second, 6*time.Second), func() { e.c.Heal(m) }, nil
	case IsolateLeaderKind:
		l := v.leader
		if l == nil {
			return "", 0, nil, fmt.Errorf("no Raft leader known")
		}
		e.c.Partition(l)
		return fmt.Sprintf("%s (leader,%s", l.ID, strings.TrimPrefix(v.role(l), " (")), between(3*time.Second, 6*time.Second), func() { e.c.Heal(l) }, nil
	case SplitKind:
		nodes := append([]*clustertest.Node{}, e.c.Nodes...)
		rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
		minority, majority := nodes[:(len(nodes)-1)/2], nodes[(len(nodes)-1)/2:]
		var ids []string
		for _, a := range minority {
			var cuts []clustertest.Cut
			for _, b := range majority {
				cuts = append(cuts, clustertest.Cut{Peer: b, In: true}, clustertest.Cut{Peer: b})
			}
			e.c.CutLinks(a, 0, cuts...)
			ids = append(ids, a.ID+v.role(a))
		}
		return "minority " + strings.Join(ids, ","), between(3*time.Second, 6*time.Second), func() {
			for _, a := range minority {
				e.c.Heal(a)
			}
		}, nil
	case BridgeKind:
		o := others(m)
		b := o[rng.IntN(len(o))]
		e.c.CutLinks(m, 0, clustertest.Cut{Peer: b, In: true}, clustertest.Cut{Peer: b})
		return m.ID + " (master) x " + b.ID, between(3*time.Second, 6*time.Second), func() { e.c.Heal(m) }, nil
	case OneWayKind:
		var cuts []clustertest.Cut
		for _, b := range others(m) {
			cuts = append(cuts, clustertest.Cut{Peer: b, In: true})
		}
		e.c.CutLinks(m, 0, cuts...)
		return m.ID + " (master) hears no peer", between(3*time.Second, 6*time.Second), func() { e.c.Heal(m) }, nil
	case LossyKind:
		for _, b := range others(m) {
			for _, rule := range [][]string{{"INPUT", "-s"}, {"OUTPUT", "-d"}} {
				if _, err := m.NetnsExec("iptables", "-w", "-A", rule[0], rule[1], b.Host, "-m", "statistic",
					"--mode", "random", "--probability", "0.3", "-j", "DROP"); err != nil {
					e.c.Heal(m)
					return m.ID, 0, nil, err
				}
			}
		}
		m.MarkPartitioned()
		return m.ID + " (master) 30% loss", between(3*time.Second, 6*time.Second), func() { e.c.Heal(m) }, nil
	case NetemKind:
		if _, err := m.NetnsExec("tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "100ms", "50ms", "loss", "5%"); err != nil {
			return m.ID, 0, nil, err
		}
		e.mu.Lock()
		e.tcOn[m.ID] = true
		e.mu.Unlock()
		return m.ID + " (master)", between(3*time.Second, 6*time.Second), func() {
			m.NetnsExec("tc", "qdisc", "del", "dev", "eth0", "root")
			e.mu.Lock()
			delete(e.tcOn, m.ID)
			e.mu.Unlock()
		}, nil
	case MigrateKind:
		return e.migrate(ctx, rng, v)
	case DiskFullKind:
		dir := e.mounts[m.ID]
		var fs syscall.Statfs_t
		if err := syscall.Statfs(dir, &fs); err != nil {
			return m.ID, 0, nil, err
		}
		f := filepath.Join(dir, "jepsen-filler")
		if err := fill(f, int64(fs.Bavail)*int64(fs.Bsize)); err != nil {
			os.Remove(f)
			return m.ID, 0, nil, err
		}
		e.mu.Lock()
		e.fills[m.ID] = f
		e.mu.Unlock()
		return m.ID + " (master)", between(3*time.Second, 5*time.Second), func() {
			os.Remove(f)
			e.mu.Lock()
			delete(e.fills, m.ID)
			e.mu.Unlock()
		}, nil
	}
	return "", 0, nil, fmt.Errorf("unknown fault kind %q", kind)
}

// startNode starts a stopped node again without waiting for it.
func startNode(t *runTB, n *clustertest.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if a, ok := p.(tbAbort); ok {
				err = fmt.Errorf("%s", a.msg)
				return
			}
			panic(p)
		}
	}()
	n.RestartAsync(t)
	return nil
}

// fill takes every free byte of the filesystem holding path: fallocate of
// about what statfs says is free (tmpfs keeps a little back), then zeros
// appended until ENOSPC.
func fill(path string, free int64) error {
	for size := free; size > 0; size -= 1 << 20 {
		if exec.Command("fallocate", "-l", strconv.FormatInt(size, 10), path).Run() == nil {
			break
		}
		os.Remove(path)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return fmt.Errorf("fill %s: %w", path, err)
		}
	}
}

// networkKinds drop packets with iptables in some node's namespace.
var networkKinds = map[string]bool{IsolateMasterKind: true, IsolateLeaderKind: true, SplitKind: true,
	BridgeKind: true, OneWayKind: true, LossyKind: true}

// inEffect checks that a fault just injected is really there (a rule in
// some namespace, a stopped or dead process, a full disk), so that a
// nemesis bug cannot pass for a resilient cluster.
func (e *env) inEffect(kind string) error {
	switch {
	case networkKinds[kind]:
		for _, n := range e.c.Nodes {
			if n.Disconnected() { // compose: docker network disconnect
				return nil
			}
			out, err := n.NetnsExec("iptables", "-w", "-S")
			if err == nil && strings.Contains(out, "-j DROP") {
				return nil
			}
		}
		return fmt.Errorf("%s: no DROP rule in any node's firewall, no container off the network", kind)
	case kind == KillKind:
		for _, n := range e.c.Nodes {
			if !n.Running() {
				return nil
			}
		}
		return fmt.Errorf("kill: every node still runs")
	case kind == PauseShortKind || kind == PauseLongKind:
		for _, n := range e.c.Nodes {
			if n.Stopped() {
				return nil
			}
		}
		return fmt.Errorf("%s: no node stopped", kind)
	case kind == DiskFullKind:
		for id, dir := range e.mounts {
			var fs syscall.Statfs_t
			if e.fills[id] != "" && syscall.Statfs(dir, &fs) == nil && fs.Bavail == 0 {
				return nil
			}
		}
		return fmt.Errorf("disk-full: no node's filesystem is full")
	case kind == MigrateKind:
		return nil // checked by migrate before any kill
	case kind == NetemKind:
		for _, n := range e.c.Nodes {
			out, err := n.NetnsExec("tc", "qdisc", "show", "dev", "eth0")
			if err == nil && strings.Contains(out, "netem") {
				return nil
			}
		}
		return fmt.Errorf("netem: no netem qdisc")
	}
	return nil
}
