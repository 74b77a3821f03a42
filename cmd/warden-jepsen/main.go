// Command warden-jepsen runs the Jepsen-style fault suite (internal/jepsen)
// against a warden cluster in network namespaces (3 nodes Sentinel-style,
// or 6 in cluster mode): a nemesis driven
// by a seed, workloads recording every operation, checkers over the
// history. It prints a summary table, writes a results folder, and exits 1
// on any anomaly the guarantees (GUARANTEES.md) forbid.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
	"github.com/wardenkv/warden/internal/jepsen"
)

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("warden-jepsen", flag.ContinueOnError)
	seed := fs.Uint64("seed", 0, "seed of the nemesis and workloads (0: from the clock, printed)")
	duration := fs.Duration("duration", 3*time.Minute, "inject faults for this long (0: until -faults)")
	faults := fs.Int("faults", 0, "stop after this many faults (0: until -duration)")
	nemesis := fs.String("nemesis", "all", "fault kinds, comma-separated, or all: "+strings.Join(jepsen.AllKinds, ","))
	workload := fs.String("workload", "both", "register (SET/GET, porcupine), set (SADD), or both")
	topology := fs.String("topology", jepsen.Sentinel3, "sentinel3 (3 nodes, one shard, Sentinel discovery) or cluster6 (6 nodes, cluster-enabled, 3 shards of master + replica, slot migrations among the faults)")
	target := fs.String("target", jepsen.TargetNetns, "netns: local processes in network namespaces; compose: containers of a docker compose project (make image first), faulted with docker kill/pause/network disconnect")
	image := fs.String("image", "", "compose: the warden image (default "+clustertest.DefaultImage+")")
	results := fs.String("results", "", "results directory (default results/jepsen-<seed>)")
	clients := fs.Int("clients", 4, "clients per workload")
	rate := fs.Int("rate", 100, "operations per second per client (0: unpaced)")
	waitReplicas := fs.Int("wait-replicas", 0, "replicas WAIT must report for a write to count as acknowledged (0: a majority; -1: none, every +OK counts: the run must then find lost writes)")
	lease := fs.Int("lease-ms", 0, "--master-lease-ms of the nodes (0: warden's default)")
	down := fs.Int("down-after-ms", 0, "--down-after-milliseconds of the nodes (0: warden's default)")
	checkLimit := fs.Duration("check-timeout", time.Minute, "porcupine's limit per key")
	recheck := fs.String("check", "", "only run the checkers over a saved history.jsonl and print the anomalies")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *recheck != "" {
		as, err := jepsen.Recheck(*recheck, os.Stdout, *checkLimit)
		if err != nil {
			fmt.Fprintf(os.Stderr, "warden-jepsen: %v\n", err)
			return 2
		}
		if as.Forbidden() > 0 {
			return 1
		}
		return 0
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	if *results == "" {
		*results = fmt.Sprintf("results/jepsen-%d", *seed)
	}
	kinds := jepsen.AllKinds
	if *nemesis != "all" {
		kinds = nil
		for _, k := range strings.Split(*nemesis, ",") {
			k = strings.TrimSpace(k)
			known := false
			for _, a := range jepsen.AllKinds {
				known = known || a == k
			}
			if !known {
				fmt.Fprintf(os.Stderr, "warden-jepsen: unknown fault kind %q (known: %s)\n", k, strings.Join(jepsen.AllKinds, ","))
				return 2
			}
			kinds = append(kinds, k)
		}
	}
	switch *workload {
	case "register", "set", "both":
	default:
		fmt.Fprintf(os.Stderr, "warden-jepsen: -workload %q: want register, set or both\n", *workload)
		return 2
	}
	if *duration == 0 && *faults == 0 {
		fmt.Fprintln(os.Stderr, "warden-jepsen: -duration and -faults are both 0: the run would never end")
		return 2
	}
	// go-redis logs every failed dial; the history has them all.
	redis.SetLogger(quiet{})
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log.Info("warden-jepsen", "seed", *seed, "results", *results)
	// Ctrl-C ends the faults early; the run still heals, checks, reports
	// and removes its namespaces and mounts. A second one kills it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	res, err := jepsen.Run(jepsen.Config{Ctx: ctx, Seed: *seed, Duration: *duration, Faults: *faults, Kinds: kinds, Workload: *workload,
		Topology: *topology, Target: *target, Image: *image, Results: *results, Clients: *clients, Rate: *rate, WaitReplicas: *waitReplicas, LeaseMs: *lease, DownMs: *down,
		CheckLimit: *checkLimit, Out: os.Stdout, Log: log})
	if errors.Is(err, jepsen.ErrSkipped) {
		fmt.Printf("SKIP: %v\n", err)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "warden-jepsen (seed %d): %v\n", *seed, err)
		return 2
	}
	if res.Failed() {
		return 1
	}
	return 0
}
