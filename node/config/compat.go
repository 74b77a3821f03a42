package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Redis 7.0's directives that warden accepts without acting on them, each
// with Redis's default, type and range (so CONFIG GET answers as Redis
// does, a redis.conf written for Redis loads, and a bad value gets Redis's
// error) and the reason it changes nothing here. Setting one to another
// value than its default is logged with that reason. A directive that
// warden implements is registered in directives.go (or by its package)
// and then this entry is skipped.

const (
	noDefrag   = "warden's memory is managed by the Go runtime: there is no allocator to defragment"
	noFork     = "warden snapshots without fork: no child process to tune"
	noAlloc    = "warden does not use jemalloc"
	noLazy     = "warden frees values through the Go garbage collector, never in the command path"
	noCrash    = "warden does not crash on purpose; a panic in a handler is logged and the client answered"
	noTHP      = "the Go runtime manages huge pages itself"
	noModules  = "warden has no module API"
	noGossip   = "warden's cluster is governed by its Raft record (see the cluster flags), not by the cluster bus"
	noProcess  = "run warden under a supervisor; it does not set its process title, syslog or OOM score itself"
	noUnix     = "warden listens on TCP (and TLS) only"
	noEncoding = "warden's values have no Redis C encodings to tune"
)

var compatDirectives = []Directive{
	{Name: "active-defrag-cycle-max", Default: "25", Kind: Int, Min: 1, Max: 99, NoEffect: noDefrag},
	{Name: "active-defrag-cycle-min", Default: "1", Kind: Int, Min: 1, Max: 99, NoEffect: noDefrag},
	{Name: "active-defrag-ignore-bytes", Default: "104857600", Kind: Memory, Min: 1, Max: math.MaxInt64, NoEffect: noDefrag},
	{Name: "active-defrag-max-scan-fields", Default: "1000", Kind: Int, Min: 1, Max: math.MaxInt64, NoEffect: noDefrag},
	{Name: "active-defrag-threshold-lower", Default: "10", Kind: Int, Min: 0, Max: 1000, NoEffect: noDefrag},
	{Name: "active-defrag-threshold-upper", Default: "100", Kind: Int, Min: 0, Max: 1000, NoEffect: noDefrag},
	{Name: "activedefrag", Default: "no", Kind: Bool, NoEffect: noDefrag},
	{Name: "active-expire-effort", Default: "1", Kind: Int, Min: 1, Max: 10, NoEffect: "active expiry spends a fixed quarter of each cron tick (hz)"},
	{Name: "activerehashing", Default: "yes", Kind: Bool, NoEffect: "warden's tables grow incrementally inside the Go runtime"},
	{Name: "always-show-logo", Default: "no", Kind: Bool, Immutable: true, NoEffect: "warden logs structured lines, no logo"},
	{Name: "aof-disable-auto-gc", Default: "no", Kind: Bool, NoEffect: "warden removes history AOF files after each rewrite"},
	{Name: "aof-rewrite-incremental-fsync", Default: "yes", Kind: Bool, NoEffect: "warden fsyncs a rewritten AOF once, before it replaces the old one"},
	{Name: "rdb-save-incremental-fsync", Default: "yes", Kind: Bool, NoEffect: "warden fsyncs a saved RDB once, before it replaces the old one"},
	{Name: "aof_rewrite_cpulist", Default: "", Immutable: true, NoEffect: noFork},
	{Name: "bgsave_cpulist", Default: "", Immutable: true, NoEffect: noFork},
	{Name: "bio_cpulist", Default: "", Immutable: true, NoEffect: "warden has no background I/O threads to pin"},
	{Name: "server_cpulist", Default: "", Immutable: true, NoEffect: "use io-threads (GOMAXPROCS) or taskset"},
	{Name: "bind-source-addr", Default: "", NoEffect: "outgoing connections use the system's route"},
	{Name: "cluster-allow-pubsubshard-when-down", Default: "yes", Kind: Bool, NoEffect: noGossip},
	{Name: "cluster-allow-reads-when-down", Default: "no", Kind: Bool, NoEffect: noGossip},
	{Name: "cluster-allow-replica-migration", Default: "yes", Kind: Bool, NoEffect: noGossip},
	{Name: "cluster-announce-bus-port", Default: "0", Kind: Int, Min: 0, Max: 65535, NoEffect: noGossip},
	{Name: "cluster-announce-hostname", Default: "", NoEffect: "warden announces --announce-host"},
	{Name: "cluster-announce-ip", Default: "", NoEffect: "warden announces --announce-host"},
	{Name: "cluster-announce-port", Default: "0", Kind: Int, Min: 0, Max: 65535, NoEffect: "warden announces --announce-host and its port"},
	{Name: "cluster-announce-tls-port", Default: "0", Kind: Int, Min: 0, Max: 65535, NoEffect: "warden announces --announce-host and its port"},
	{Name: "cluster-config-file", Default: "nodes.conf", Immutable: true, NoEffect: "warden keeps its node id in dir/cluster-node-id and the cluster in its Raft log"},
	{Name: "cluster-link-sendbuf-limit", Default: "0", Kind: Memory, Min: 0, Max: math.MaxInt64, NoEffect: noGossip},
	{Name: "cluster-migration-barrier", Default: "1", Kind: Int, Min: 0, Max: math.MaxInt32, NoEffect: "placement is the Raft leader's (--replicas-per-shard)"},
	{Name: "cluster-node-timeout", Default: "15000", Kind: Int, Min: 0, Max: math.MaxInt64, NoEffect: "failure detection is --down-after-milliseconds"},
	{Name: "cluster-port", Default: "0", Kind: Int, Min: 0, Max: 65535, Immutable: true, NoEffect: "warden's control plane uses --raft-addr and --gossip-addr"},
	{Name: "cluster-preferred-endpoint-type", Default: "ip", Kind: Enum, Enum: []string{"ip", "hostname", "unknown-endpoint"}, NoEffect: "warden announces --announce-host as given"},
	{Name: "cluster-replica-no-failover", Default: "no", Kind: Bool, NoEffect: "use replica-priority 0 to keep a replica from being promoted"},
	{Name: "cluster-replica-validity-factor", Default: "10", Kind: Int, Min: 0, Max: math.MaxInt32, NoEffect: "the Raft leader promotes the replica with the most data"},
	{Name: "cluster-require-full-coverage", Default: "yes", Kind: Bool, NoEffect: "warden always requires full coverage"},
	{Name: "crash-log-enabled", Default: "yes", Kind: Bool, NoEffect: noCrash},
	{Name: "crash-memcheck-enabled", Default: "yes", Kind: Bool, NoEffect: noCrash},
	{Name: "disable-thp", Default: "yes", Kind: Bool, Immutable: true, NoEffect: noTHP},
	{Name: "dynamic-hz", Default: "yes", Kind: Bool, NoEffect: "warden's cron runs at hz; its client work is per connection"},
	{Name: "enable-module-command", Default: "no", Kind: Enum, Enum: []string{"no", "yes", "local"}, Immutable: true, NoEffect: noModules},
	{Name: "enable-protected-configs", Default: "no", Kind: Enum, Enum: []string{"no", "yes", "local"}, Immutable: true, NoEffect: "warden's path directives (dir, dbfilename...) are immutable at run time"},
	{Name: "hash-max-listpack-entries", Default: "512", Kind: Int, Min: 0, Max: math.MaxInt64, NoEffect: noEncoding},
	{Name: "hash-max-listpack-value", Default: "64", Kind: Int, Min: 0, Max: math.MaxInt64, NoEffect: noEncoding},
	{Name: "ignore-warnings", Default: "", NoEffect: "warden prints no kernel warnings to silence"},
	{Name: "io-threads-do-reads", Default: "no", Kind: Bool, Immutable: true, NoEffect: "every connection reads on its own goroutine"},
	{Name: "jemalloc-bg-thread", Default: "yes", Kind: Bool, NoEffect: noAlloc},
	{Name: "lazyfree-lazy-eviction", Default: "no", Kind: Bool, NoEffect: noLazy},
	{Name: "lazyfree-lazy-expire", Default: "no", Kind: Bool, NoEffect: noLazy},
	{Name: "lazyfree-lazy-server-del", Default: "no", Kind: Bool, NoEffect: noLazy},
	{Name: "lazyfree-lazy-user-del", Default: "no", Kind: Bool, NoEffect: noLazy},
	{Name: "lazyfree-lazy-user-flush", Default: "no", Kind: Bool, NoEffect: noLazy},
	{Name: "replica-lazy-flush", Default: "no", Kind: Bool, NoEffect: noLazy},
	{Name: "list-compress-depth", Default: "0", Kind: Int, Min: 0, Max: math.MaxInt32, NoEffect: noEncoding},
	{Name: "list-max-listpack-size", Default: "-2", Kind: Int, Min: math.MinInt32, Max: math.MaxInt32, NoEffect: noEncoding},
	{Name: "maxmemory-clients", Default: "0", Validate: memoryOrPercent, NoEffect: "clients are bounded by their query and output buffer limits"},
	{Name: "oom-score-adj", Default: "no", Kind: Enum, Enum: []string{"no", "yes", "relative", "absolute"}, NoEffect: noProcess},
	{Name: "oom-score-adj-values", Default: "0 200 800", Validate: oomScoreValues, NoEffect: noProcess},
	{Name: "proc-title-template", Default: "{title} {listen-addr} {server-mode}", NoEffect: noProcess},
	{Name: "set-proc-title", Default: "yes", Kind: Bool, Immutable: true, NoEffect: noProcess},
	{Name: "supervised", Default: "no", Kind: Enum, Enum: []string{"upstart", "systemd", "auto", "no"}, Immutable: true, NoEffect: noProcess},
	{Name: "syslog-enabled", Default: "no", Kind: Bool, Immutable: true, NoEffect: noProcess},
	{Name: "syslog-facility", Default: "local0", Kind: Enum, Enum: []string{"user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}, Immutable: true, NoEffect: noProcess},
	{Name: "syslog-ident", Default: "redis", Immutable: true, NoEffect: noProcess},
	{Name: "propagation-error-behavior", Default: "ignore", Kind: Enum, Enum: []string{"ignore", "panic", "panic-on-replicas"}, NoEffect: "a replica logs a command from its master that fails and goes on, as ignore"},
	{Name: "rdb-del-sync-files", Default: "no", Kind: Bool, NoEffect: "a warden replica loads a full sync from the socket and writes no sync file"},
	{Name: "repl-disable-tcp-nodelay", Default: "no", Kind: Bool, NoEffect: "replication sockets always set TCP_NODELAY"},
	{Name: "replica-announced", Default: "yes", Kind: Bool, NoEffect: "every replica is listed by SENTINEL REPLICAS"},
	{Name: "replica-ignore-disk-write-errors", Default: "no", Kind: Bool, NoEffect: "a warden replica whose AOF write fails drops its link and resyncs"},
	{Name: "replica-ignore-maxmemory", Default: "yes", Kind: Bool, NoEffect: "a warden replica never evicts on its own: it applies its master's DELs"},
	{Name: "sanitize-dump-payload", Default: "no", Kind: Enum, Enum: []string{"no", "yes", "clients"}, NoEffect: "RESTORE and RDB loading always check every value's structure"},
	{Name: "set-max-intset-entries", Default: "512", Kind: Int, Min: 0, Max: math.MaxInt64, NoEffect: noEncoding},
	{Name: "shutdown-on-sigint", Default: "default", Validate: shutdownFlags, NoEffect: "SIGINT and SIGTERM always shut down as SHUTDOWN does (save if save points are set)"},
	{Name: "shutdown-on-sigterm", Default: "default", Validate: shutdownFlags, NoEffect: "SIGINT and SIGTERM always shut down as SHUTDOWN does (save if save points are set)"},
	{Name: "socket-mark-id", Default: "0", Kind: Int, Min: 0, Max: math.MaxUint32, Immutable: true, NoEffect: "warden sets no socket marks"},
	{Name: "unixsocket", Default: "", Immutable: true, NoEffect: noUnix},
	{Name: "unixsocketperm", Default: "0", Kind: Int, Min: 0, Max: 0o777, Immutable: true, NoEffect: noUnix},
	{Name: "zset-max-listpack-entries", Default: "128", Kind: Int, Min: 0, Max: math.MaxInt64, NoEffect: noEncoding},
	{Name: "zset-max-listpack-value", Default: "64", Kind: Int, Min: 0, Max: math.MaxInt64, NoEffect: noEncoding},
	{Name: "client-output-buffer-limit", Default: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", Merge: mergeOutputLimits,
		NoEffect: "warden drops a replica 256 MB behind and bounds every client's pending output itself"},
}

// aliases are Redis 7.0's old directive names; CONFIG GET lists both.
var aliases = map[string]string{
	"slave-announce-ip":             "replica-announce-ip",
	"slave-announce-port":           "replica-announce-port",
	"slave-ignore-maxmemory":        "replica-ignore-maxmemory",
	"slave-lazy-flush":              "replica-lazy-flush",
	"slave-priority":                "replica-priority",
	"slave-read-only":               "replica-read-only",
	"slave-serve-stale-data":        "replica-serve-stale-data",
	"min-slaves-max-lag":            "min-replicas-max-lag",
	"min-slaves-to-write":           "min-replicas-to-write",
	"repl-ping-slave-period":        "repl-ping-replica-period",
	"hash-max-ziplist-entries":      "hash-max-listpack-entries",
	"hash-max-ziplist-value":        "hash-max-listpack-value",
	"list-max-ziplist-size":         "list-max-listpack-size",
	"zset-max-ziplist-entries":      "zset-max-listpack-entries",
	"zset-max-ziplist-value":        "zset-max-listpack-value",
	"cluster-slave-no-failover":     "cluster-replica-no-failover",
	"cluster-slave-validity-factor": "cluster-replica-validity-factor",
}

// memoryOrPercent is maxmemory-clients: bytes or a percentage of maxmemory.
func memoryOrPercent(v string) error {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 100 {
			return fmt.Errorf("argument must be a memory or percent value")
		}
		return nil
	}
	if _, err := ParseMemory(v); err != nil {
		return fmt.Errorf("argument must be a memory or percent value")
	}
	return nil
}

func oomScoreValues(v string) error {
	f := strings.Fields(v)
	if len(f) != 3 {
		return fmt.Errorf("Invalid oom-score-adj-values")
	}
	for _, x := range f {
		if n, err := strconv.Atoi(x); err != nil || n < -2000 || n > 2000 {
			return fmt.Errorf("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
		}
	}
	return nil
}

func shutdownFlags(v string) error {
	for _, f := range strings.Fields(v) {
		switch f {
		case "default", "save", "nosave", "now", "force":
		default:
			return fmt.Errorf("argument(s) must be one of the following: default, save, nosave, now, force")
		}
	}
	return nil
}

// mergeOutputLimits applies "class hard soft seconds ..." to the current
// limits, as Redis's CONFIG SET client-output-buffer-limit changes only the
// classes it names, and prints all three classes in Redis's order.
func mergeOutputLimits(old, val string) (string, error) {
	classes := []string{"normal", "slave", "pubsub"}
	cur := map[string][3]int64{}
	parse := func(s string, into map[string][3]int64) error {
		f := strings.Fields(s)
		if len(f)%4 != 0 {
			return fmt.Errorf("Wrong number of arguments in buffer limit configuration.")
		}
		for i := 0; i < len(f); i += 4 {
			class := strings.ToLower(f[i])
			if class == "replica" {
				class = "slave"
			}
			if class != "normal" && class != "slave" && class != "pubsub" {
				return fmt.Errorf("Invalid client class specified in buffer limit configuration.")
			}
			var lim [3]int64
			for j := range 3 {
				var n int64
				var err error
				if j < 2 {
					n, err = ParseMemory(f[i+1+j])
				} else {
					n, err = strconv.ParseInt(f[i+1+j], 10, 64)
				}
				if err != nil || n < 0 {
					return fmt.Errorf("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
				}
				lim[j] = n
			}
			into[class] = lim
		}
		return nil
	}
	if err := parse(old, cur); err != nil {
		cur = map[string][3]int64{}
	}
	if err := parse(val, cur); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, class := range classes {
		if i > 0 {
			b.WriteByte(' ')
		}
		l := cur[class]
		fmt.Fprintf(&b, "%s %d %d %d", class, l[0], l[1], l[2])
	}
	return b.String(), nil
}

// IgnoredSettings lists the NoEffect directives set to something other than
// their default (name, value, why), for the node to log at startup.
func (c *Config) IgnoredSettings() [][3]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out [][3]string
	for _, n := range c.names {
		d := c.dirs[n]
		if d != nil && d.NoEffect != "" && c.vals[n] != d.Default {
			out = append(out, [3]string{n, c.vals[n], d.NoEffect})
		}
	}
	return out
}
