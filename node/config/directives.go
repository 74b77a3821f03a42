package config

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
)

// directives are the names warden knows, with Redis's defaults. Later
// subsystems Register their own.
var directives = []Directive{
	{Name: "port", Default: "6379", Kind: Int, Min: 0, Max: 65535, Immutable: true},
	{Name: "bind", Default: "127.0.0.1", Immutable: true},
	{Name: "dir", Default: "./data", Immutable: true},
	{Name: "requirepass", Default: "", Sensitive: true},
	{Name: "databases", Default: "16", Kind: Int, Min: 1, Max: 1 << 20, Immutable: true},
	{Name: "loglevel", Default: "notice", Kind: Enum, Enum: []string{"debug", "verbose", "notice", "warning", "nothing"}},
	{Name: "logfile", Default: "", Immutable: true},
	{Name: "pidfile", Default: "", Immutable: true},
	{Name: "daemonize", Default: "no", Kind: Bool, Immutable: true, Validate: func(v string) error {
		if v == "yes" {
			return fmt.Errorf("daemonize yes is not supported: run warden under a supervisor")
		}
		return nil
	}},
	{Name: "protected-mode", Default: "yes", Kind: Bool},
	{Name: "timeout", Default: "0", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "tcp-keepalive", Default: "300", Kind: Int, Min: 0, Max: 1 << 31},
	{Name: "tcp-backlog", Default: "511", Kind: Int, Min: 0, Max: 1 << 31, Immutable: true},
	{Name: "maxclients", Default: "10000", Kind: Int, Min: 1, Max: 1 << 31},
	{Name: "maxmemory", Default: "0", Kind: Memory, Min: 0, Max: 1 << 62},
	{Name: "maxmemory-policy", Default: "noeviction", Kind: Enum, Enum: []string{"noeviction"}},
	{Name: "hz", Default: "10", Kind: Int, Min: 1, Max: 500},
	// io-threads bounds the cores warden's goroutines run on (GOMAXPROCS).
	// Redis's directive of the same name defaults to 1; warden defaults to
	// every core, since its command execution is parallel too.
	{Name: "io-threads", Default: strconv.Itoa(runtime.NumCPU()), Kind: Int, Min: 1, Max: 128, Immutable: true},
	{Name: "proto-max-bulk-len", Default: "536870912", Kind: Memory, Min: 1 << 20, Max: 1 << 62},
	{Name: "client-query-buffer-limit", Default: "1073741824", Kind: Memory, Min: 1 << 20, Max: 1 << 62},
	{Name: "slowlog-log-slower-than", Default: "10000", Kind: Int, Min: -1, Max: 1 << 62},
	{Name: "slowlog-max-len", Default: "128", Kind: Int, Min: 0, Max: 1 << 31},
	{Name: "lua-time-limit", Default: "5000", Kind: Int, Min: 0, Max: 1 << 62},
	{Name: "busy-reply-threshold", Default: "5000", Kind: Int, Min: 0, Max: 1 << 62},
	// enable-debug-command gates DEBUG as in Redis 7: no (refused), yes, or
	// local (only from 127.0.0.1, ::1 or a unix socket). Settable only at
	// startup, so a client cannot turn it on.
	{Name: "enable-debug-command", Default: "no", Kind: Enum, Enum: []string{"no", "yes", "local"}, Immutable: true},
	{Name: "notify-keyspace-events", Default: "", Validate: func(v string) error {
		if v != "" {
			return fmt.Errorf("keyspace notifications are not supported")
		}
		return nil
	}},
	// TLS, with Redis's names (node/tlsconf builds the tls.Configs). The
	// listener and the two "which links" switches are fixed at startup;
	// files, client auth, protocols and ciphers reload on CONFIG SET.
	{Name: "tls-port", Default: "0", Kind: Int, Min: 0, Max: 65535, Immutable: true},
	{Name: "tls-cert-file", Default: ""},
	{Name: "tls-key-file", Default: ""},
	{Name: "tls-key-file-pass", Default: "", Sensitive: true, Validate: noEncryptedKeys},
	{Name: "tls-client-cert-file", Default: ""},
	{Name: "tls-client-key-file", Default: ""},
	{Name: "tls-client-key-file-pass", Default: "", Sensitive: true, Validate: noEncryptedKeys},
	{Name: "tls-dh-params-file", Default: ""},
	{Name: "tls-ca-cert-file", Default: ""},
	{Name: "tls-ca-cert-dir", Default: ""},
	{Name: "tls-auth-clients", Default: "yes", Kind: Enum, Enum: []string{"no", "yes", "optional"}},
	{Name: "tls-replication", Default: "no", Kind: Bool},
	{Name: "tls-cluster", Default: "no", Kind: Bool, Immutable: true},
	{Name: "tls-protocols", Default: ""},
	{Name: "tls-ciphers", Default: ""},
	{Name: "tls-ciphersuites", Default: ""},
	{Name: "tls-prefer-server-ciphers", Default: "no", Kind: Bool},
	{Name: "tls-session-caching", Default: "yes", Kind: Bool},
	{Name: "tls-session-cache-size", Default: "20480", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "tls-session-cache-timeout", Default: "300", Kind: Int, Min: 0, Max: 1<<31 - 1},
	// Persistence: the values tools read (redis-benchmark asks for save and
	// appendonly); the persistence subsystem acts on them.
	{Name: "save", Default: "3600 1 300 100 60 10000", Validate: validateSave},
	{Name: "appendonly", Default: "no", Kind: Bool},
	{Name: "dbfilename", Default: "dump.rdb", Immutable: true, Validate: plainFileName},
	{Name: "appendfilename", Default: "appendonly.aof", Immutable: true, Validate: plainFileName},
	{Name: "appenddirname", Default: "appendonlydir", Immutable: true, Validate: plainFileName},
	{Name: "appendfsync", Default: "everysec", Kind: Enum, Enum: []string{"always", "everysec", "no"}},
	{Name: "no-appendfsync-on-rewrite", Default: "no", Kind: Bool},
	{Name: "auto-aof-rewrite-percentage", Default: "100", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "auto-aof-rewrite-min-size", Default: "67108864", Kind: Memory, Min: 0, Max: 1 << 62},
	{Name: "aof-load-truncated", Default: "yes", Kind: Bool},
	{Name: "aof-use-rdb-preamble", Default: "yes", Kind: Bool},
	{Name: "aof-timestamp-enabled", Default: "no", Kind: Bool, Validate: func(v string) error {
		if v == "yes" {
			return fmt.Errorf("AOF timestamp annotations are not supported")
		}
		return nil
	}},
	// Replication.
	{Name: "replicaof", Default: "", Immutable: true, Validate: func(v string) error {
		if f := strings.Fields(v); v != "" && len(f) != 2 {
			return fmt.Errorf("replicaof takes <host> <port>")
		}
		return nil
	}},
	{Name: "slaveof", Default: "", Immutable: true, Validate: func(v string) error {
		if f := strings.Fields(v); v != "" && len(f) != 2 {
			return fmt.Errorf("slaveof takes <host> <port>")
		}
		return nil
	}},
	{Name: "masterauth", Default: "", Sensitive: true},
	{Name: "masteruser", Default: ""},
	{Name: "replica-read-only", Default: "yes", Kind: Bool},
	{Name: "replica-priority", Default: "100", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "replica-announce-ip", Default: ""},
	{Name: "replica-announce-port", Default: "0", Kind: Int, Min: 0, Max: 65535},
	{Name: "replica-serve-stale-data", Default: "yes", Kind: Bool},
	// A full sync streams the snapshot to the replicas' sockets (diskless,
	// $EOF:<mark>) or sends a snapshot file; a warden replica reads both
	// forms, and always loads straight from the socket (repl-diskless-load
	// is accepted so redis.conf files load).
	{Name: "repl-diskless-sync", Default: "yes", Kind: Bool},
	{Name: "repl-diskless-sync-delay", Default: "5", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "repl-diskless-sync-max-replicas", Default: "0", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "repl-diskless-load", Default: "disabled", Kind: Enum, Enum: []string{"disabled", "on-empty-db", "swapdb"}},
	{Name: "repl-backlog-size", Default: "1048576", Kind: Memory, Min: 16 << 10, Max: 1 << 40},
	{Name: "repl-backlog-ttl", Default: "3600", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "repl-timeout", Default: "60", Kind: Int, Min: 1, Max: 1<<31 - 1},
	{Name: "repl-ping-replica-period", Default: "10", Kind: Int, Min: 1, Max: 1<<31 - 1},
	{Name: "min-replicas-to-write", Default: "0", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "min-replicas-max-lag", Default: "10", Kind: Int, Min: 0, Max: 1<<31 - 1},
	{Name: "rdbcompression", Default: "yes", Kind: Bool},
	{Name: "rdbchecksum", Default: "yes", Kind: Bool},
	{Name: "stop-writes-on-bgsave-error", Default: "yes", Kind: Bool},
	// Cluster mode (the control plane) is on when raft-addr is set.
	{Name: "node-id", Default: "", Immutable: true, Validate: validNodeID},
	{Name: "raft-addr", Default: "", Immutable: true, Validate: optionalHostPort},
	// Empty gossip-addr and http-addr listen on bind's address (ports 7946
	// and 8080), so the control plane is no more exposed than the data port.
	{Name: "gossip-addr", Default: "", Immutable: true, Validate: optionalHostPort},
	{Name: "http-addr", Default: "", Immutable: true, Validate: optionalHostPort},
	{Name: "announce-host", Default: "", Immutable: true},
	{Name: "peers", Default: "", Immutable: true},
	{Name: "join", Default: "", Immutable: true},
	{Name: "voter", Default: "yes", Kind: Bool, Immutable: true},
	{Name: "shards", Default: "1", Kind: Int, Min: 1, Max: 16384, Immutable: true},
	{Name: "replicas-per-shard", Default: "2", Kind: Int, Min: 0, Max: 1 << 10, Immutable: true},
	{Name: "cluster-secret", Default: "", Immutable: true, Sensitive: true},
	// insecure-cluster yes lets a node whose listeners are not all on
	// loopback run without cluster-secret (it warns every minute).
	{Name: "insecure-cluster", Default: "no", Kind: Bool, Immutable: true},
	// sentinel-requirepass is the Sentinel listener's requirepass; empty
	// means the node's requirepass.
	{Name: "sentinel-requirepass", Default: "", Sensitive: true},
	{Name: "down-after-milliseconds", Default: "1000", Kind: Int, Min: 50, Max: 1 << 31, Immutable: true},
	{Name: "master-lease-ms", Default: "750", Kind: Int, Min: 10, Max: 1 << 31, Immutable: true},
	{Name: "sentinel-port", Default: "26379", Kind: Int, Min: 0, Max: 65535, Immutable: true},
	{Name: "master-name", Default: "mymaster", Immutable: true, Validate: validNodeID},
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
