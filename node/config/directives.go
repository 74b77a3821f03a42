package config

import (
	"fmt"
	"math"
	"net"
	"runtime"
	"strconv"
	"strings"

	"github.com/wardenkv/warden/keyevents"
)

// directives are the names warden knows, with Redis's defaults. Later
// subsystems Register their own.
var directives = []Directive{
	{Name: "port", Usage: "TCP port for clients (0: no TCP listener)", Default: "6379", Kind: Int, Min: 0, Max: 65535, Immutable: true},
	{Name: "bind", Usage: "addresses the client port listens on", Default: "127.0.0.1", Immutable: true},
	{Name: "dir", Usage: "working directory for the RDB, AOF and cluster state", Default: "./data", Immutable: true},
	{Name: "requirepass", Usage: "password clients must AUTH with (empty: none)", Default: "", Sensitive: true},
	{Name: "databases", Usage: "number of logical databases (SELECT 0..n-1)", Default: "16", Kind: Int, Min: 1, Max: 1 << 20, Immutable: true},
	{Name: "loglevel", Usage: "log verbosity", Default: "notice", Kind: Enum, Enum: []string{"debug", "verbose", "notice", "warning", "nothing"}},
	{Name: "logfile", Usage: "log to this file instead of stderr", Default: "", Immutable: true},
	{Name: "pidfile", Usage: "write the process id to this file", Default: "", Immutable: true},
	{Name: "daemonize", Usage: "not supported: run warden under a supervisor", Default: "no", Kind: Bool, Immutable: true, Validate: func(v string) error {
		if v == "yes" {
			return fmt.Errorf("daemonize yes is not supported: run warden under a supervisor")
		}
		return nil
	}},
	{Name: "protected-mode", Usage: "without a password, refuse clients not on loopback", Default: "yes", Kind: Bool},
	{Name: "timeout", Usage: "close a client idle this many seconds (0: never)", Default: "0", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "tcp-keepalive", Usage: "TCP keepalive period for clients, seconds (0: off)", Default: "300", Kind: Int, Min: 0, Max: 1 << 31},
	{Name: "tcp-backlog", Usage: "listen backlog of the client port", Default: "511", Kind: Int, Min: 0, Max: 1 << 31, Immutable: true},
	{Name: "maxclients", Usage: "most clients connected at once", Default: "10000", Kind: Int, Min: 1, Max: 1 << 31},
	{Name: "maxmemory", Usage: "memory limit for data in bytes (0: none)", Default: "0", Kind: Memory, Min: 0, Max: 1 << 62},
	{Name: "maxmemory-policy", Usage: "what to evict at maxmemory (noeviction: refuse writes with -OOM)", Default: "noeviction", Kind: Enum,
		Enum: []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}},
	{Name: "maxmemory-samples", Usage: "keys sampled per database to pick an eviction candidate", Default: "5", Kind: Int, Min: 1, Max: 1<<31 - 1},
	{Name: "maxmemory-eviction-tenacity", Usage: "how long one eviction round may run before the background takes over (0-100)", Default: "10", Kind: Int, Min: 0, Max: 100},
	{Name: "lfu-log-factor", Usage: "LFU counter's logarithm factor (higher: slower growth)", Default: "10", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "lfu-decay-time", Usage: "minutes per decrement of an idle key's LFU counter (0: never)", Default: "1", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "tracking-table-max-keys", Usage: "keys remembered for client-side caching before some are invalidated (0: no limit)", Default: "1000000", Kind: Int, Min: 0, Max: math.MaxInt64},
	{Name: "hz", Usage: "background task frequency, per second", Default: "10", Kind: Int, Min: 1, Max: 500},
	{Name: "stream-node-max-bytes", Usage: "largest stream node (listpack) in bytes (0: no limit)", Default: "4096", Kind: Memory, Min: 0, Max: 1 << 62},
	{Name: "stream-node-max-entries", Usage: "most entries in one stream node (0: no limit)", Default: "100", Kind: Int, Min: 0, Max: 1 << 62},
	// io-threads bounds the cores warden's goroutines run on (GOMAXPROCS).
	// Redis's directive of the same name defaults to 1; warden defaults to
	// every core, since its command execution is parallel too.
	{Name: "io-threads", Usage: "cores warden's goroutines run on (GOMAXPROCS)", Default: strconv.Itoa(runtime.NumCPU()), Kind: Int, Min: 1, Max: 128, Immutable: true},
	{Name: "proto-max-bulk-len", Usage: "largest bulk string a client may send, bytes", Default: "536870912", Kind: Memory, Min: 1 << 20, Max: 1 << 62},
	{Name: "client-query-buffer-limit", Usage: "largest pending query of a client, bytes", Default: "1073741824", Kind: Memory, Min: 1 << 20, Max: 1 << 62},
	{Name: "slowlog-log-slower-than", Usage: "log commands slower than this, microseconds (-1: off)", Default: "10000", Kind: Int, Min: -1, Max: 1 << 62},
	{Name: "slowlog-max-len", Usage: "entries kept in the slow log", Default: "128", Kind: Int, Min: 0, Max: 1 << 31},
	{Name: "latency-monitor-threshold", Usage: "record events slower than this in the latency monitor, ms (0: off)", Default: "0", Kind: Int, Min: 0, Max: 1<<63 - 1},
	{Name: "latency-tracking", Usage: "keep per-command latency histograms", Default: "yes", Kind: Bool},
	{Name: "latency-tracking-info-percentiles", Usage: "percentiles INFO latencystats prints", Default: "50 99 99.9", Validate: validPercentiles},
	{Name: "lua-time-limit", Usage: "alias of busy-reply-threshold, milliseconds", Default: "5000", Kind: Int, Min: 0, Max: 1 << 62},
	{Name: "hll-sparse-max-bytes", Usage: "largest sparse HyperLogLog before it turns dense, bytes", Default: "3000", Kind: Memory, Min: 0, Max: 1 << 62},
	{Name: "busy-reply-threshold", Usage: "script run time after which others get BUSY, milliseconds", Default: "5000", Kind: Int, Min: 0, Max: 1 << 62},
	// enable-debug-command gates DEBUG as in Redis 7: no (refused), yes, or
	// local (only from 127.0.0.1, ::1 or a unix socket). Settable only at
	// startup, so a client cannot turn it on.
	{Name: "enable-debug-command", Usage: "allow DEBUG: no, yes or local (loopback only)", Default: "no", Kind: Enum, Enum: []string{"no", "yes", "local"}, Immutable: true},
	{Name: "notify-keyspace-events", Usage: "keyspace notification classes (Redis flag letters, e.g. KEA)", Default: "", Canonical: keyevents.Canonical},
	// TLS, with Redis's names (node/tlsconf builds the tls.Configs). The
	// listener and the two "which links" switches are fixed at startup;
	// files, client auth, protocols and ciphers reload on CONFIG SET.
	{Name: "tls-port", Usage: "TLS port for clients (0: none)", Default: "0", Kind: Int, Min: 0, Max: 65535, Immutable: true},
	{Name: "tls-cert-file", Usage: "server certificate (PEM)", Default: ""},
	{Name: "tls-key-file", Usage: "server private key (PEM)", Default: ""},
	{Name: "tls-key-file-pass", Usage: "not supported: decrypt the key file", Default: "", Sensitive: true, Validate: noEncryptedKeys},
	{Name: "tls-client-cert-file", Usage: "certificate presented when connecting out (replication, cluster)", Default: ""},
	{Name: "tls-client-key-file", Usage: "private key for tls-client-cert-file", Default: ""},
	{Name: "tls-client-key-file-pass", Usage: "not supported: decrypt the key file", Default: "", Sensitive: true, Validate: noEncryptedKeys},
	{Name: "tls-dh-params-file", Usage: "accepted for redis.conf compatibility (Go picks its own groups)", Default: ""},
	{Name: "tls-ca-cert-file", Usage: "CA bundle that verifies peers' certificates", Default: ""},
	{Name: "tls-ca-cert-dir", Usage: "directory of CA certificates that verify peers", Default: ""},
	{Name: "tls-auth-clients", Usage: "require client certificates: no, yes or optional", Default: "yes", Kind: Enum, Enum: []string{"no", "yes", "optional"}},
	{Name: "tls-replication", Usage: "replication links use TLS", Default: "no", Kind: Bool},
	{Name: "tls-cluster", Usage: "control plane links (Raft, gossip, HTTP) use TLS", Default: "no", Kind: Bool, Immutable: true},
	{Name: "tls-protocols", Usage: "TLS versions allowed, e.g. \"TLSv1.2 TLSv1.3\"", Default: ""},
	{Name: "tls-ciphers", Usage: "TLS 1.2 cipher list", Default: ""},
	{Name: "tls-ciphersuites", Usage: "TLS 1.3 cipher suites", Default: ""},
	{Name: "tls-prefer-server-ciphers", Usage: "prefer the server's cipher order", Default: "no", Kind: Bool},
	{Name: "tls-session-caching", Usage: "cache TLS sessions for resumption", Default: "yes", Kind: Bool},
	{Name: "tls-session-cache-size", Usage: "TLS sessions cached", Default: "20480", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "tls-session-cache-timeout", Usage: "lifetime of a cached TLS session, seconds", Default: "300", Kind: Int, Min: 0, Max: 1<<31 - 1},
	// Persistence: the values tools read (redis-benchmark asks for save and
	// appendonly); the persistence subsystem acts on them.
	{Name: "save", Usage: "RDB snapshot after <seconds> <changes> pairs (empty: never)", Default: "3600 1 300 100 60 10000", Validate: validateSave},
	{Name: "appendonly", Usage: "write every change to the append-only file", Default: "no", Kind: Bool},
	{Name: "dbfilename", Usage: "RDB file name inside dir", Default: "dump.rdb", Immutable: true, Validate: plainFileName},
	{Name: "appendfilename", Usage: "AOF base name inside appenddirname", Default: "appendonly.aof", Immutable: true, Validate: plainFileName},
	{Name: "appenddirname", Usage: "AOF directory inside dir", Default: "appendonlydir", Immutable: true, Validate: plainFileName},
	{Name: "appendfsync", Usage: "AOF fsync: always, everysec or no", Default: "everysec", Kind: Enum, Enum: []string{"always", "everysec", "no"}},
	{Name: "no-appendfsync-on-rewrite", Usage: "skip AOF fsync while a rewrite runs", Default: "no", Kind: Bool},
	{Name: "auto-aof-rewrite-percentage", Usage: "rewrite the AOF when it grew this % since the last (0: off)", Default: "100", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "auto-aof-rewrite-min-size", Usage: "smallest AOF that is rewritten automatically, bytes", Default: "67108864", Kind: Memory, Min: 0, Max: 1 << 62},
	{Name: "aof-load-truncated", Usage: "load an AOF with a truncated tail instead of refusing", Default: "yes", Kind: Bool},
	{Name: "aof-use-rdb-preamble", Usage: "AOF rewrites start with an RDB snapshot", Default: "yes", Kind: Bool},
	{Name: "aof-timestamp-enabled", Usage: "not supported (must stay no)", Default: "no", Kind: Bool, Validate: func(v string) error {
		if v == "yes" {
			return fmt.Errorf("AOF timestamp annotations are not supported")
		}
		return nil
	}},
	// Replication.
	{Name: "replicaof", Usage: "replicate from <host> <port> (standalone replication)", Default: "", Immutable: true, Validate: func(v string) error {
		if f := strings.Fields(v); v != "" && len(f) != 2 {
			return fmt.Errorf("replicaof takes <host> <port>")
		}
		return nil
	}},
	{Name: "slaveof", Usage: "alias of replicaof", Default: "", Immutable: true, Validate: func(v string) error {
		if f := strings.Fields(v); v != "" && len(f) != 2 {
			return fmt.Errorf("slaveof takes <host> <port>")
		}
		return nil
	}},
	{Name: "masterauth", Usage: "password for the master when replicating", Default: "", Sensitive: true},
	{Name: "masteruser", Usage: "ACL user for the master when replicating", Default: ""},
	{Name: "replica-read-only", Usage: "a replica refuses writes from clients", Default: "yes", Kind: Bool},
	{Name: "replica-priority", Usage: "failover preference, lower first (0: never promoted)", Default: "100", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "replica-announce-ip", Usage: "address a replica reports to its master", Default: ""},
	{Name: "replica-announce-port", Usage: "port a replica reports to its master (0: its own)", Default: "0", Kind: Int, Min: 0, Max: 65535},
	{Name: "replica-serve-stale-data", Usage: "a replica answers reads while its link is down", Default: "yes", Kind: Bool},
	// A full sync streams the snapshot to the replicas' sockets (diskless,
	// $EOF:<mark>) or sends a snapshot file; a warden replica reads both
	// forms, and always loads straight from the socket (repl-diskless-load
	// is accepted so redis.conf files load).
	{Name: "repl-diskless-sync", Usage: "send full syncs straight to the replica's socket", Default: "yes", Kind: Bool},
	{Name: "repl-diskless-sync-delay", Usage: "wait this many seconds for more replicas before a diskless sync", Default: "5", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "repl-diskless-sync-max-replicas", Usage: "start a diskless sync early once this many replicas wait (0: no limit)", Default: "0", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "repl-diskless-load", Usage: "how a replica loads a full sync: disabled, on-empty-db, swapdb", Default: "disabled", Kind: Enum, Enum: []string{"disabled", "on-empty-db", "swapdb"}},
	{Name: "repl-backlog-size", Usage: "replication backlog for partial resyncs, bytes", Default: "1048576", Kind: Memory, Min: 16 << 10, Max: 1 << 40},
	{Name: "repl-backlog-ttl", Usage: "free the backlog after this many seconds without replicas", Default: "3600", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "repl-timeout", Usage: "replication link timeout, seconds", Default: "60", Kind: Int, Min: 1, Max: 1<<31 - 1},
	{Name: "repl-ping-replica-period", Usage: "master pings replicas every this many seconds", Default: "10", Kind: Int, Min: 1, Max: 1<<31 - 1},
	{Name: "min-replicas-to-write", Usage: "refuse writes with fewer good replicas than this (0: off)", Default: "0", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "min-replicas-max-lag", Usage: "a good replica acknowledged within this many seconds", Default: "10", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "rdbcompression", Usage: "compress strings in RDB files (LZF)", Default: "yes", Kind: Bool},
	{Name: "rdbchecksum", Usage: "write and check the RDB checksum", Default: "yes", Kind: Bool},
	{Name: "stop-writes-on-bgsave-error", Usage: "refuse writes after a failed background save", Default: "yes", Kind: Bool},
	// shutdown-timeout (seconds, Redis 7): on SHUTDOWN or SIGTERM a master
	// pauses writes and waits up to this long for its replicas to catch up
	// (in cluster mode: to hand its shard to one); 0 exits without waiting.
	{Name: "shutdown-timeout", Usage: "on shutdown a master waits this many seconds for replicas to catch up", Default: "10", Kind: Int, Min: 0, Max: 1<<31 - 1},
	// Cluster mode (the control plane) is on when raft-addr is set.
	{Name: "node-id", Usage: "this node's cluster id (default: the hostname)", Default: "", Immutable: true, Validate: validNodeID},
	{Name: "raft-addr", Usage: "control plane Raft address; setting it enables cluster mode", Default: "", Immutable: true, Validate: optionalHostPort},
	// Empty gossip-addr and http-addr listen on bind's address (ports 7946
	// and 8080), so the control plane is no more exposed than the data port.
	{Name: "gossip-addr", Usage: "failure detector address (default: bind's address, port 7946)", Default: "", Immutable: true, Validate: optionalHostPort},
	{Name: "http-addr", Usage: "cluster HTTP API address (default: bind's address, port 8080)", Default: "", Immutable: true, Validate: optionalHostPort},
	{Name: "announce-host", Usage: "host other nodes and clients use to reach this node", Default: "", Immutable: true},
	{Name: "peers", Usage: "comma-separated raft addresses of the founding nodes", Default: "", Immutable: true},
	{Name: "join", Usage: "HTTP address of a cluster node to join through", Default: "", Immutable: true},
	{Name: "voter", Usage: "this node votes in Raft (no: a non-voting member)", Default: "yes", Kind: Bool, Immutable: true},
	// cluster-enabled yes (with the control plane) makes the node a Redis
	// Cluster node: it routes keys by slot and answers CLUSTER SLOTS.
	{Name: "cluster-enabled", Usage: "route by hash slot and answer Redis Cluster clients (needs raft-addr)", Default: "no", Kind: Bool, Immutable: true},
	{Name: "shards", Usage: "shards a new cluster is split into", Default: "1", Kind: Int, Min: 1, Max: 16384, Immutable: true},
	{Name: "replicas-per-shard", Usage: "replicas each shard is given", Default: "1", Kind: Int, Min: 0, Max: 1 << 10, Immutable: true},
	{Name: "cluster-secret", Usage: "shared secret that authenticates cluster traffic", Default: "", Immutable: true, Sensitive: true},
	// insecure-cluster yes lets a node whose listeners are not all on
	// loopback run without cluster-secret (it warns every minute).
	{Name: "insecure-cluster", Usage: "allow a non-loopback cluster without cluster-secret", Default: "no", Kind: Bool, Immutable: true},
	// sentinel-requirepass is the Sentinel listener's requirepass; empty
	// means the node's requirepass.
	{Name: "sentinel-requirepass", Usage: "password of the Sentinel port (empty: requirepass)", Default: "", Sensitive: true},
	{Name: "down-after-milliseconds", Usage: "silence after which a node is failed, milliseconds", Default: "1000", Kind: Int, Min: 50, Max: 1 << 31, Immutable: true},
	{Name: "master-lease-ms", Usage: "a master takes writes only this long after the majority vouched, milliseconds", Default: "750", Kind: Int, Min: 10, Max: 1 << 31, Immutable: true},
	{Name: "sentinel-port", Usage: "Sentinel-compatible discovery port (0: none)", Default: "26379", Kind: Int, Min: 0, Max: 65535, Immutable: true},
	{Name: "master-name", Usage: "master name answered on the Sentinel port", Default: "mymaster", Immutable: true, Validate: validNodeID},
}

func validNodeID(v string) error {
	if strings.ContainsAny(v, " \t\r\n,=") {
		return fmt.Errorf("%q must not contain spaces, commas or '='", v)
	}
	return nil
}

func optionalHostPort(v string) error {
	if v == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("%q: want host:port", v)
	}
	return nil
}

func validateSave(v string) error {
	f := strings.Fields(v)
	if len(f)%2 != 0 {
		return fmt.Errorf("invalid save parameters")
	}
	for _, x := range f {
		if n, err := strconv.ParseInt(x, 10, 64); err != nil || n < 0 {
			return fmt.Errorf("invalid save parameters")
		}
	}
	return nil
}

// plainFileName refuses paths: Redis keeps these files inside dir.
func plainFileName(v string) error {
	if v == "" || strings.ContainsAny(v, "/\\") || v == "." || v == ".." {
		return fmt.Errorf("%q must be a plain file name", v)
	}
	return nil
}

// noEncryptedKeys refuses key passphrases: Go reads only unencrypted PEM
// keys (its legacy PEM decryption is deprecated as insecure).
func noEncryptedKeys(v string) error {
	if v != "" {
		return fmt.Errorf("encrypted private keys are not supported: decrypt the key file")
	}
	return nil
}

// validPercentiles checks latency-tracking-info-percentiles: numbers in
// [0, 100] separated by spaces.
func validPercentiles(v string) error {
	for _, f := range strings.Fields(v) {
		p, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("Invalid latency-tracking-info-percentiles parameters")
		}
		if p < 0 || p > 100 {
			return fmt.Errorf("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
	}
	return nil
}
