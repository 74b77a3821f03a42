// Command warden runs a warden node: `warden server [config] [--directive value ...]`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/wardenkv/warden/node"
	"github.com/wardenkv/warden/node/config"
	"github.com/wardenkv/warden/node/control"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(1)
	}
	switch os.Args[1] {
	case "server":
		exit(runServer(os.Args[2:]))
	case "status":
		exit(runStatus(os.Args[2:], os.Stdout))
	case "failover":
		exit(runFailover(os.Args[2:], os.Stdout))
	case "reshard":
		exit(runReshard(os.Args[2:], os.Stdout))
	case "rebalance":
		exit(runRebalance(os.Args[2:], os.Stdout))
	case "cluster":
		exit(runCluster(os.Args[2:], os.Stdout))
	case "healthcheck":
		exit(runHealthcheck(os.Args[2:]))
	case "version", "--version", "-v":
		fmt.Printf("warden %s (redis %s compatible)\n", node.WardenVersion, node.Version)
	case "help", "--help", "-h":
		usage(os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "warden: unknown subcommand %q\n", os.Args[1])
		usage(os.Stderr)
		os.Exit(1)
	}
}

// exit ends a subcommand: 0 for success and for --help (the flag package
// has printed the usage), else 1 after one error line.
func exit(err error) {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != errLogged {
		fmt.Fprintln(os.Stderr, "warden:", err)
	}
	os.Exit(1)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage:
  warden server [config-file] [--directive value ...]   run a data node (--help lists the directives)
  warden status [--http host:port] [--json]             summarize the cluster
  warden healthcheck [--http host:port] [--live]        exit 0 when the node is ready
  warden failover [--http host:port] [--shard N] [--to node] [--force] [--secret-file file]
                                                        manual failover, signed with the cluster
                                                        secret (--secret-file or $WARDEN_CLUSTER_SECRET)
  warden reshard [--http host:port] --from S --to T (--slots N | --slot-range A-B)
                                                        move slots between shards (N: the source's highest)
  warden rebalance [--http host:port] [--dry-run]       even out the slots across shards
  warden cluster add-shard [--http host:port]           add an empty shard; the next 2 nodes to join fill it
  warden cluster remove-shard N [--http host:port]      drain shard N's slots, then retire it
    (reshard, rebalance, cluster take --secret-file as failover does; reshard, rebalance,
     remove-shard take --batch N (slots per migration) and --parallel N (migrations at once))
    (these take --tls --cacert file --cert file --key file for tls-cluster nodes)
  warden version                                        print the version`)
}

// serverUsage is `warden server --help`: the directives, from their table.
func serverUsage(w io.Writer) error {
	fmt.Fprintln(w, `usage: warden server [config-file] [--directive value ...]

A config file holds redis.conf lines ("directive value..."); each directive
is also a flag, --name value or --name=value, applied after the file.

Directives:`)
	return config.WriteHelp(w)
}

func runServer(args []string) error {
	if slices.Contains(args, "--help") || (len(args) > 0 && (args[0] == "-h" || args[0] == "help")) {
		return serverUsage(os.Stdout)
	}
	// Signals are caught from the start: one that arrives before the server
	// exists waits in the channel instead of killing the process unsaved.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	cfg := config.New()
	file := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		if strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("unknown option %q: directives are --name value or --name=value (see warden server --help)", args[0])
		}
		file, args = args[0], args[1:]
	}
	if err := cfg.Load(file, args); err != nil {
		return err
	}
	// An explicit GOMAXPROCS in the environment wins over io-threads.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(int(cfg.Int("io-threads")))
	}
	logger, closeLog, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer closeLog()
	slog.SetDefault(logger)
	if err := control.Check(cfg); err != nil {
		return err
	}
	srv, err := node.New(cfg, logger)
	if err != nil {
		return err
	}
	// Each listener (data port; with the control plane also HTTP and the
	// Sentinel port) admits maxclients connections: make the descriptors
	// fit them all, or lower maxclients, as Redis does at start.
	listeners := 1
	if cfg.Int("tls-port") > 0 {
		listeners++
	}
	if control.Enabled(cfg) {
		listeners++
		if cfg.Int("sentinel-port") > 0 {
			listeners++
		}
	}
	if err := srv.FitOpenFiles(listeners); err != nil {
		return err
	}
	go handleSignals(srv, logger, sigs)
	if err := srv.Listen(); err != nil {
		return err
	}
	if pid := cfg.Get("pidfile"); pid != "" {
		if err := os.WriteFile(pid, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			return fmt.Errorf("write pidfile: %w", err)
		}
		defer os.Remove(pid)
	}
	// WARDEN_CPUPROFILE=path writes a CPU profile for the server's lifetime
	// (for performance work; not a directive because Redis has none).
	if path := os.Getenv("WARDEN_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("create cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start cpu profile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if control.Enabled(cfg) {
		ctl, err := control.New(cfg, srv, logger)
		if err != nil {
			return err
		}
		if err := ctl.Start(); err != nil {
			return fmt.Errorf("start control plane: %w", err)
		}
		defer ctl.Close()
		// Stopped with the server, before its "server stopped" line.
		srv.OnStop(func() {
			if err := ctl.Close(); err != nil {
				logger.Warn("closing the control plane", "err", err)
			}
		})
	}
	if err := srv.Serve(context.Background()); err != nil {
		// One line in the log (logfile too) says why the node stopped.
		logger.Error("warden cannot continue", "err", err)
		return errLogged
	}
	return nil
}

// errLogged is a failure runServer already logged: exit 1, print nothing more.
var errLogged = errors.New("logged")

// handleSignals shuts the server down on SIGTERM and SIGINT as Redis does: a
// failed final save keeps it serving (the next signal tries again), and a
// SIGINT while a shutdown attempt runs exits at once, unsaved, with status 1.
func handleSignals(srv *node.Server, log *slog.Logger, sigs <-chan os.Signal) {
	var busy atomic.Bool
	for sig := range sigs {
		name := "SIGTERM"
		if sig == syscall.SIGINT {
			name = "SIGINT"
		}
		if busy.Load() {
			if sig == syscall.SIGINT {
				log.Warn("You insist... exiting now.")
				os.Exit(1)
			}
			continue // that attempt is still running
		}
		busy.Store(true)
		go func() {
			defer busy.Store(false)
			srv.Terminate(name)
		}()
	}
}

func newLogger(cfg *config.Config) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if path := cfg.Get("logfile"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("open logfile: %w", err)
		}
		w, closeFn = f, func() { f.Close() }
	}
	level := slog.LevelInfo
	switch cfg.Get("loglevel") {
	case "debug":
		level = slog.LevelDebug
	case "verbose":
		level = slog.LevelDebug + 2
	case "warning":
		level = slog.LevelWarn
	case "nothing":
		level = slog.LevelError + 4
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}
