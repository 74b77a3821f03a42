package jepsen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
)

// Topologies.
const (
	Sentinel3 = "sentinel3" // three nodes, one shard, Sentinel-style discovery
	Cluster6  = "cluster6"  // six nodes (three voters), cluster-enabled, three shards of master + replica
)

// Targets.
const (
	// TargetNetns: local processes, each in a network namespace of its own.
	TargetNetns = "netns"
	// TargetCompose: containers of a docker compose project (image
	// Config.Image); kill, pause and isolation through the docker CLI
	// (kill, pause, network disconnect), link cuts by iptables inside the
	// containers' namespaces. An isolated node is cut off from the clients
	// too, unlike in netns.
	TargetCompose = "compose"
)

// Config is one run of the suite.
type Config struct {
	Seed     uint64
	Duration time.Duration // faults stop being injected after this (0: only Faults counts)
	Faults   int           // stop after this many faults (0: only Duration counts)
	Kinds    []string      // the nemesis mix; every kind is drawn in turn, shuffled per round
	Workload string        // "register", "set" or "both"
	Topology string        // "sentinel3" or "cluster6"
	Target   string        // "netns" or "compose"
	Image    string        // compose: the image (clustertest.DefaultImage if empty)
	Results  string        // results directory
	Clients  int           // per workload
	Rate     int           // ops per second per client (0: as fast as it goes)
	// WaitReplicas is the replica count WAIT must report for a write to
	// count as acknowledged (0: a majority with the master, nodes/2).
	// Below the majority the guarantees do not hold: -wait-replicas -1
	// counts every +OK as acknowledged, which must make the suite report
	// lost writes (a check of the checker against a real cluster).
	WaitReplicas int
	LeaseMs      int           // --master-lease-ms (0: warden's default)
	DownMs       int           // --down-after-milliseconds (0: warden's default)
	CheckLimit   time.Duration // porcupine's time per key
	Out          io.Writer     // the summary table
	// Ctx, when cancelled (SIGINT), ends the nemesis early; the run still
	// heals, converges, checks and reports what it recorded.
	Ctx context.Context
	Log *slog.Logger
}

// Result is the run's verdict and figures.
type Result struct {
	Config      Config
	Faults      []Fault
	Skipped     map[string]string // fault kind -> why it did not run
	Ops         []Op
	Register    RegisterResult
	Set         SetResult
	SplitBrain  Anomalies
	Anomalies   Anomalies      // all of them
	Migrations  map[string]int // the nemesis's slot migrations by final state (cluster6)
	Converged   bool
	ConvergeIn  time.Duration
	ConvergeWhy string
	Keys        int
	HarnessErrs []string
}

// Failed reports whether the guarantees were broken (or could not be
// checked).
func (r *Result) Failed() bool {
	return r.Anomalies.Forbidden() > 0 || !r.Converged || len(r.HarnessErrs) > 0
}

// ErrSkipped is returned when the environment cannot run the suite (not
// root, no namespaces).
var ErrSkipped = errors.New("jepsen: cannot run here")

// Run runs the suite and writes the results folder.
func Run(cfg Config) (res *Result, err error) {
	if cfg.Topology != Sentinel3 && cfg.Topology != Cluster6 {
		return nil, fmt.Errorf("topology %q: want %s or %s", cfg.Topology, Sentinel3, Cluster6)
	}
	if cfg.Target != TargetNetns && cfg.Target != TargetCompose {
		return nil, fmt.Errorf("target %q: want %s or %s", cfg.Target, TargetNetns, TargetCompose)
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 4
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if err := os.MkdirAll(cfg.Results, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "warden-jepsen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	t := &runTB{log: cfg.Log, dir: work}
	res = &Result{Config: cfg, Skipped: map[string]string{}}
	e := &env{t: t, rec: NewRecorder(), tcOn: map[string]bool{}, fills: map[string]string{}, cluster: cfg.Topology == Cluster6}
	defer func() {
		t.cleanup()
		e.unmount()
		if p := recover(); p != nil {
			a, ok := p.(tbAbort)
			if !ok {
				panic(p)
			}
			if a.skip {
				err = fmt.Errorf("%w: %s", ErrSkipped, a.msg)
			} else {
				err = fmt.Errorf("jepsen: harness: %s", a.msg)
			}
			res = nil
		}
	}()
	return run(cfg, t, e, res)
}

func run(cfg Config, t *runTB, e *env, res *Result) (*Result, error) {
	ctx := context.Background()
	stop := cfg.Ctx
	if stop == nil {
		stop = ctx
	}
	log := cfg.Log
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6a657073656e))
	base := filepath.Join(t.dir, "nodes")
	ids := []string{"n1", "n2", "n3"}
	if e.cluster {
		ids = append(ids, "n4", "n5", "n6")
	}
	if slices.Contains(cfg.Kinds, DiskFullKind) {
		e.mountTmpfs(base, ids)
	}
	args := []string{"--appendonly", "yes", "--appendfsync", "everysec"}
	opts := clustertest.Options{Nodes: 3, Netns: cfg.Target == TargetNetns, Docker: cfg.Target == TargetCompose, Image: cfg.Image,
		BaseDir: base, Args: args, LeaseMs: cfg.LeaseMs, DownAfterMs: cfg.DownMs}
	if e.cluster {
		// Three voters and three non-voters (as TestRedisClusterMode):
		// three shards of master + replica.
		opts.Shards = 3
		opts.Args = append(opts.Args, "--cluster-enabled", "yes", "--replicas-per-shard", "1")
	}
	c := clustertest.Start(t, opts)
	e.c = c
	for _, id := range ids[3:] {
		c.Add(t, id, "--voter", "no")
	}
	e.lease, e.down = time.Duration(orDefault(cfg.LeaseMs, 750))*time.Millisecond, time.Duration(orDefault(cfg.DownMs, 1000))*time.Millisecond
	if slices.Contains(cfg.Kinds, NetemKind) {
		e.probeNetem(c.Nodes[0])
	}
	var kinds []string
	for _, k := range cfg.Kinds {
		if why := e.unsupported(k); why != "" {
			res.Skipped[k] = why
			log.Warn("fault kind skipped", "kind", k, "why", why)
			continue
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return nil, fmt.Errorf("no fault kind can run here")
	}
	if d, ok, why := e.waitHealthy(ctx, 60*time.Second); !ok {
		return nil, fmt.Errorf("cluster not healthy after %v: %s", d, why)
	}

	// Workload.
	var sentinels, nodes []string
	for _, n := range c.Nodes {
		sentinels = append(sentinels, n.SentinelAddr())
		nodes = append(nodes, n.Addr())
	}
	// The record before the first write, so that every write has a
	// tenure to belong to.
	rs := &recordSeen{epochs: map[int]uint64{}}
	e.pollRecord(ctx, rs)
	shards := len(e.view(ctx).masters)
	need := len(c.Nodes) / max(shards, 1) / 2 // a majority of the shard with its master
	switch {
	case cfg.WaitReplicas > 0:
		need = cfg.WaitReplicas
	case cfg.WaitReplicas < 0:
		need = 0
	}
	cc := &clientConfig{rec: e.rec, sentinels: sentinels, cluster: e.cluster, nodes: nodes, need: need, waitMs: 500,
		opTimeout: time.Second, procs: new(atomic.Int64), regOps: new(atomic.Int64)}
	if cfg.Rate > 0 {
		cc.interval = time.Second / time.Duration(cfg.Rate)
	}
	wctx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	id := 0
	spawn := func(f func(*client, context.Context)) {
		cl := newClient(cc, id, cfg.Seed)
		id++
		wg.Add(1)
		go func() { defer wg.Done(); f(cl, wctx) }()
	}
	for range cfg.Clients {
		if cfg.Workload == "register" || cfg.Workload == "both" {
			spawn((*client).runRegister)
		}
		if cfg.Workload == "set" || cfg.Workload == "both" {
			spawn((*client).runSet)
		}
	}
	mctx, stopMon := context.WithCancel(ctx)
	var mwg sync.WaitGroup
	mwg.Add(1)
	go func() { defer mwg.Done(); e.monitor(mctx, 100*time.Millisecond, rs) }()

	// Nemesis: every kind once per round, in a shuffled order.
	start := time.Now()
	var deck []string
	sleepCtx(ctx, 2*time.Second) // a baseline before the first fault
	for stop.Err() == nil && (cfg.Duration == 0 || time.Since(start) < cfg.Duration) && (cfg.Faults == 0 || len(res.Faults) < cfg.Faults) {
		if len(deck) == 0 {
			deck = append(deck, kinds...)
			rng.Shuffle(len(deck), func(i, j int) { deck[i], deck[j] = deck[j], deck[i] })
		}
		kind := deck[0]
		deck = deck[1:]
		f := Fault{Kind: kind, Start: e.rec.Now()}
		target, shard, hold, heal, err := e.inject(ctx, rng, kind)
		if err != nil {
			log.Warn("fault not injected", "kind", kind, "err", err)
			e.healAll()
			e.waitHealthy(ctx, 60*time.Second)
			continue
		}
		f.Target, f.Shard = target, shard
		if err := e.inEffect(kind); err != nil {
			res.HarnessErrs = append(res.HarnessErrs, fmt.Sprintf("fault %d (%s %s) not in effect: %v", len(res.Faults)+1, kind, target, err))
		}
		e.rec.Add(Op{Type: "nemesis", Value: "start", Key: kind, Info: target, Start: f.Start, End: e.rec.Now()})
		log.Info("fault", "n", len(res.Faults)+1, "kind", kind, "target", target, "hold", hold.Round(time.Millisecond), "at", time.Duration(f.Start).Round(time.Millisecond))
		sleepCtx(stop, hold)
		t0 := time.Now()
		heal()
		f.Healed = e.rec.Now()
		if d := time.Since(t0); d > time.Second {
			log.Warn("undoing the fault was slow", "kind", kind, "took", d.Round(time.Millisecond))
		}
		t0 = time.Now()
		e.healAll() // whatever else the fault left (a node that died of a full disk)
		if d := time.Since(t0); d > time.Second {
			log.Warn("healing every node was slow", "kind", kind, "took", d.Round(time.Millisecond))
		}
		e.rec.Add(Op{Type: "nemesis", Value: "stop", Key: kind, Info: target, Start: f.Healed, End: f.Healed})
		d, ok, why := e.waitHealthy(ctx, 60*time.Second)
		f.Recovered, f.OK, f.Reconv, f.Why = e.rec.Now(), ok, d, why
		if !ok {
			log.Error("not healthy after the heal", "kind", kind, "within", d.Round(time.Millisecond), "why", why)
			res.HarnessErrs = append(res.HarnessErrs, fmt.Sprintf("fault %d (%s %s): cluster not healthy %v after the heal: %s", len(res.Faults)+1, kind, target, d.Round(time.Millisecond), why))
		}
		res.Faults = append(res.Faults, f)
		// A quiet stretch, so each fault's outage is its own.
		sleepCtx(stop, time.Second+time.Duration(rng.Int64N(int64(time.Second))))
	}
	stopWork()
	wg.Wait()
	e.healAll()
	if _, ok, why := e.waitHealthy(ctx, 60*time.Second); !ok {
		res.HarnessErrs = append(res.HarnessErrs, "cluster not healthy 60 s after the final heal: "+why)
	}
	if ms, err := e.settleMigrations(ctx, 60*time.Second); err != nil {
		res.HarnessErrs = append(res.HarnessErrs, "slot migrations: "+err.Error())
	} else {
		res.Migrations = ms
	}
	var digests map[string]string
	res.ConvergeIn, res.Converged, res.Keys, digests = e.converge(ctx, 60*time.Second)
	if !res.Converged {
		res.ConvergeWhy = fmt.Sprintf("digests differ after %v: %v", res.ConvergeIn.Round(time.Millisecond), digests)
	}
	stopMon()
	mwg.Wait()
	e.finalReads(ctx, res)
	if t.Failed() {
		res.HarnessErrs = append(res.HarnessErrs, t.errs...)
	}

	// Keep the nodes' logs with the results: the temporary node
	// directories go at cleanup.
	for _, n := range c.Nodes {
		if b, err := os.ReadFile(n.LogPath); err == nil {
			os.WriteFile(filepath.Join(cfg.Results, n.ID+".log"), b, 0o644)
		}
	}

	// Check.
	res.Ops = e.rec.Ops()
	res.Register = CheckRegister(res.Ops, cfg.CheckLimit)
	res.Set = CheckSet(res.Ops)
	res.SplitBrain = CheckSplitBrain(res.Ops, time.Second)
	res.Anomalies.merge(res.Register.Anomalies)
	res.Anomalies.merge(res.Set.Anomalies)
	res.Anomalies.merge(res.SplitBrain)
	return res, writeResults(cfg, res)
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// finalReads reads every register key and set from its master once the
// cluster is healed and converged.
func (e *env) finalReads(ctx context.Context, res *Result) {
	var get func(ctx context.Context, key string) (*redis.Client, string)
	if e.cluster {
		cc := &clientConfig{cluster: true, opTimeout: 5 * time.Second, procs: new(atomic.Int64)}
		for _, n := range e.c.Nodes {
			cc.nodes = append(cc.nodes, n.Addr())
		}
		rc := newClient(cc, 0, 0)
		defer rc.close()
		get = func(ctx context.Context, key string) (*redis.Client, string) {
			if !rc.target(ctx, key) {
				return nil, ""
			}
			return rc.cl, rc.addr
		}
	} else {
		v := e.view(ctx)
		if v.master == nil {
			res.HarnessErrs = append(res.HarnessErrs, "final read: no master")
			return
		}
		cl := v.master.Client()
		get = func(context.Context, string) (*redis.Client, string) { return cl, v.master.Addr() }
	}
	regKeys, setKeys := map[string]bool{}, map[string]bool{}
	for _, op := range e.rec.Ops() {
		switch op.Type {
		case "write", "read":
			regKeys[op.Key] = true
		case "add":
			setKeys[op.Key] = true
		}
	}
	for k := range regKeys {
		cl, addr := get(ctx, k)
		if cl == nil {
			res.HarnessErrs = append(res.HarnessErrs, "final GET "+k+": no node serves its slot")
			continue
		}
		op := Op{Process: -1, Type: "read", Key: k, Node: addr, Final: true, Start: e.rec.Now()}
		val, err := cl.Get(ctx, k).Result()
		op.End = e.rec.Now()
		switch {
		case err == nil:
			op.Outcome, op.Value = OK, val
		case err.Error() == "redis: nil":
			op.Outcome = OK
		default:
			op.Outcome, op.Err = Fail, err.Error()
			res.HarnessErrs = append(res.HarnessErrs, "final GET "+k+": "+err.Error())
		}
		e.rec.Add(op)
	}
	for k := range setKeys {
		cl, addr := get(ctx, k)
		if cl == nil {
			res.HarnessErrs = append(res.HarnessErrs, "final SMEMBERS "+k+": no node serves its slot")
			continue
		}
		op := Op{Process: -1, Type: "read-set", Key: k, Node: addr, Final: true, Start: e.rec.Now()}
		vals, err := cl.SMembers(ctx, k).Result()
		op.End = e.rec.Now()
		if err != nil {
			op.Outcome, op.Err = Fail, err.Error()
			res.HarnessErrs = append(res.HarnessErrs, "final SMEMBERS "+k+": "+err.Error())
		} else {
			op.Outcome, op.Values = OK, vals
		}
		e.rec.Add(op)
	}
}

func writeResults(cfg Config, res *Result) error {
	f, err := os.Create(filepath.Join(cfg.Results, "history.jsonl"))
	if err != nil {
		return err
	}
	if err := WriteJSONL(f, res.Ops); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if len(res.Register.NonLinearizable) > 0 {
		if err := res.Register.Visualize(filepath.Join(cfg.Results, "register-nonlinearizable.html")); err != nil {
			return fmt.Errorf("porcupine visualization: %w", err)
		}
	}
	b, _ := json.MarshalIndent(struct {
		Seed      string
		Faults    []Fault
		Skipped   map[string]string
		Anomalies []Anomaly
		Harness   []string
	}{strconv.FormatUint(cfg.Seed, 10), res.Faults, res.Skipped, res.Anomalies.List, res.HarnessErrs}, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.Results, "anomalies.json"), b, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.Results, "timeline.svg"), []byte(Timeline(res)), 0o644); err != nil {
		return err
	}
	sum := Summary(res)
	if err := os.WriteFile(filepath.Join(cfg.Results, "summary.txt"), []byte(sum), 0o644); err != nil {
		return err
	}
	_, err = io.WriteString(cfg.Out, sum)
	return err
}
