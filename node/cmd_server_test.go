package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/node/config"
)

// serverStartWithFile runs a node configured from a config file.
func serverStartWithFile(t *testing.T, content string) (*Server, string, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "warden.conf")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.New()
	if err := cfg.Load(path, []string{"--port", "0", "--dir", dir}); err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serveUntilCleanup(t, s)
	return s, s.Addr().String(), path
}

// captureFeed records every propagated write.
func captureFeed(s *Server) func() []string { return captureWrites(s, true).all }

func TestServerCommands(t *testing.T) {
	s, addr := startServer(t, "enable-debug-command", "yes")
	c := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
	ctx := context.Background()
	feed := captureFeed(s)
	run(t, c, []step{
		{args: []any{"dbsize"}, want: 0},
		{args: []any{"set", "a", "1"}, want: "OK"},
		{args: []any{"set", "b", "2", "ex", "100"}, want: "OK"},
		{args: []any{"dbsize"}, want: 2},
		{args: []any{"dbsize", "x"}, wantErr: "ERR wrong number of arguments for 'dbsize' command"},
		{args: []any{"flushdb", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"flushdb", "sync", "x"}, wantErr: "ERR syntax error"},
		{args: []any{"flushall", "now"}, wantErr: "ERR syntax error"},
		{args: []any{"swapdb", "a", "1"}, wantErr: "ERR invalid first DB index"},
		{args: []any{"swapdb", "0", "b"}, wantErr: "ERR invalid second DB index"},
		{args: []any{"swapdb", "0", "100"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"swapdb", "0", "-1"}, wantErr: "ERR DB index is out of range"},
		{args: []any{"swapdb", "0"}, wantErr: "ERR wrong number of arguments for 'swapdb' command"},
		{args: []any{"swapdb", "0", "0"}, want: "OK"},
		{args: []any{"dbsize"}, want: 2},
		{args: []any{"swapdb", "0", "5"}, want: "OK"},
		{args: []any{"dbsize"}, want: 0},
		{args: []any{"get", "a"}, want: nil},
	})
	if info := c.Info(ctx, "keyspace").Val(); info != "# Keyspace\r\ndb5:keys=2,expires=1,avg_ttl=0\r\n" {
		t.Fatalf("INFO keyspace after SWAPDB = %q", info)
	}
	run(t, c, []step{
		{args: []any{"swapdb", "5", "0"}, want: "OK"},
		{args: []any{"get", "a"}, want: "1"},
		{args: []any{"flushdb", "async"}, want: "OK"},
		{args: []any{"dbsize"}, want: 0},
		{args: []any{"set", "a", "1"}, want: "OK"},
		{args: []any{"swapdb", "0", "1"}, want: "OK"},
		{args: []any{"set", "a", "1"}, want: "OK"},
		{args: []any{"flushall", "SYNC"}, want: "OK"},
		{args: []any{"dbsize"}, want: 0},
		{args: []any{"swapdb", "0", "1"}, want: "OK"},
		{args: []any{"dbsize"}, want: 0},
		{args: []any{"flushall"}, want: "OK"},
		{args: []any{"debug"}, wantErr: "ERR wrong number of arguments for 'debug' command"},
		{args: []any{"debug", "sleep", "0"}, want: "OK"},
		{args: []any{"debug", "populate", "10", "pop", "4"}, want: "OK"},
		{args: []any{"get", "pop:3"}, want: "valu"},
		{args: []any{"debug", "populate", "-1"}, wantErr: "ERR value is out of range, must be positive"},
		{args: []any{"debug", "sleep", "x"}, want: "OK"},
		{args: []any{"debug", "sleep"}, wantErr: "ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP."},
		{args: []any{"debug", "foo"}, wantErr: "ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP."},
		{args: []any{"debug", "error", "BUSY something"}, wantErr: "BUSY something"},
		{args: []any{"debug", "log", "hello"}, want: "OK"},
		{args: []any{"shutdown", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"shutdown", "save", "nosave"}, wantErr: "ERR syntax error"},
		{args: []any{"shutdown", "abort", "now"}, wantErr: "ERR syntax error"},
		{args: []any{"shutdown", "abort"}, wantErr: "ERR No shutdown in progress."},
	})
	// Writes propagate as received (SET lines are the string family's).
	want := []string{"0:swapdb 0 0", "0:swapdb 0 5", "0:swapdb 5 0", "0:flushdb async",
		"0:swapdb 0 1", "0:flushall SYNC", "0:swapdb 0 1", "0:flushall"}
	var got []string
	for _, g := range feed() {
		if !strings.HasPrefix(strings.ToLower(g), "0:set ") {
			got = append(got, g)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("propagated %q, want %q", got, want)
	}
	tm, err := c.Time(ctx).Result()
	if err != nil || time.Since(tm).Abs() > 5*time.Second {
		t.Fatalf("TIME = %v, %v", tm, err)
	}
	raw, _ := c.Do(ctx, "time").StringSlice()
	if len(raw) != 2 || len(raw[1]) > 6 {
		t.Fatalf("TIME reply %q", raw)
	}
	// SHUTDOWN is refused inside MULTI and fails the transaction.
	pipe := c.TxPipeline()
	sd := pipe.Do(ctx, "shutdown", "nosave")
	if _, err := pipe.Exec(ctx); err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") ||
		sd.Err() == nil || sd.Err().Error() != "ERR Command not allowed inside a transaction" {
		t.Fatalf("SHUTDOWN in MULTI: exec %v, shutdown %v", err, sd.Err())
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("server gone after SHUTDOWN in MULTI: %v", err)
	}
	help, _ := c.Do(ctx, "debug", "help").StringSlice()
	if len(help) < 3 || help[0] != "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[len(help)-1] != "    Prints this help." {
		t.Fatalf("DEBUG HELP = %q", help)
	}
}

// TestServerDebugSleep: DEBUG SLEEP delays only its own client.
func TestServerDebugSleep(t *testing.T) {
	_, addr := startServer(t, "enable-debug-command", "local")
	ctx := context.Background()
	sleeper := newClient(t, addr)
	other := newClient(t, addr)
	other.Ping(ctx)
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		sleeper.Do(ctx, "debug", "sleep", "1")
		done <- time.Since(start)
	}()
	time.Sleep(100 * time.Millisecond)
	// Another client is served while the sleep runs: its PING completes
	// before the sleep could have ended.
	if err := other.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-done:
		t.Fatalf("DEBUG SLEEP 1 returned after %v, before the other client's PING", d)
	default:
	}
	if d := <-done; d < time.Second {
		t.Fatalf("DEBUG SLEEP 1 took %v", d)
	}
}

func TestServerShutdown(t *testing.T) {
	_, addr := startServer(t)
	c := newClient(t, addr, func(o *redis.Options) { o.MaxRetries = -1 })
	ctx := context.Background()
	if err := c.Shutdown(ctx).Err(); err != nil {
		t.Fatalf("SHUTDOWN: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepts connections after SHUTDOWN")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			return v
		}
	}
	return ""
}

func TestInfo(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
	ctx := context.Background()
	c.Set(ctx, "k1", "v", 0)
	c.Set(ctx, "k2", "v", time.Hour)
	c.Get(ctx, "k1")
	c.Get(ctx, "missing")
	c.Do(ctx, "incr", "k1", "x")
	c.HSet(ctx, "k1", "f", "v") // WRONGTYPE
	c.Do(ctx, "config", "get", "hz")
	c2 := newClient(t, addr, func(o *redis.Options) { o.DB = 3 })
	c2.Set(ctx, "other", "v", 0)

	info := c.Info(ctx).Val()
	var headers []string
	for _, l := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(l, "# ") {
			headers = append(headers, l[2:])
		}
	}
	if got := strings.Join(headers, ","); got != "Server,Clients,Memory,Persistence,Stats,Replication,CPU,Modules,Errorstats,Cluster,Keyspace" {
		t.Fatalf("default INFO sections = %s", got)
	}
	if !strings.HasSuffix(info, "\r\n") || strings.Contains(info, "\r\n\r\n\r\n") {
		t.Fatalf("INFO layout: %q", info)
	}
	for _, f := range []string{
		"redis_version", "redis_git_sha1", "redis_mode", "os", "arch_bits", "process_id", "run_id", "tcp_port",
		"server_time_usec", "uptime_in_seconds", "uptime_in_days", "hz", "configured_hz", "lru_clock", "executable", "config_file",
		"connected_clients", "blocked_clients", "maxclients",
		"used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human", "used_memory_peak",
		"used_memory_peak_human", "maxmemory", "maxmemory_human", "maxmemory_policy", "mem_fragmentation_ratio", "mem_allocator",
		"gc_cycles", "gc_pause_total_ms", "gc_pause_max_recent_ms", "gc_cpu_fraction",
		"loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status",
		"aof_enabled", "aof_rewrite_in_progress",
		"total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec", "rejected_connections",
		"expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses", "pubsub_channels", "pubsub_patterns", "total_error_replies",
		"role", "connected_slaves", "master_replid", "master_repl_offset",
		"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children",
		"cluster_enabled",
	} {
		if !strings.Contains(info, "\r\n"+f+":") {
			t.Errorf("INFO lacks %s", f)
		}
	}
	checks := map[string]string{
		"redis_version":       Version,
		"redis_mode":          "standalone",
		"tcp_port":            strconv.Itoa(s.Addr().(*net.TCPAddr).Port),
		"process_id":          strconv.Itoa(os.Getpid()),
		"run_id":              s.runID,
		"role":                "master",
		"connected_slaves":    "0",
		"master_repl_offset":  "0",
		"keyspace_hits":       "1",
		"keyspace_misses":     "1",
		"total_error_replies": "2",
		"maxmemory_policy":    "noeviction",
		"aof_enabled":         "0",
		"loading":             "0",
		"connected_clients":   "2",
		"cluster_enabled":     "0",
		"config_file":         "",
	}
	for k, want := range checks {
		if got := infoField(info, k); got != want {
			t.Errorf("INFO %s = %q, want %q", k, got, want)
		}
	}
	if id := infoField(info, "master_replid"); !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(id) || id == s.runID {
		t.Errorf("master_replid = %q", id)
	}
	if !regexp.MustCompile(`\r\nused_cpu_user:\d+\.\d{6}\r\n`).MatchString(info) {
		t.Error("used_cpu_user not formatted as sec.usec")
	}
	if n, _ := strconv.ParseInt(infoField(info, "rdb_changes_since_last_save"), 10, 64); n < 3 {
		t.Errorf("rdb_changes_since_last_save = %d, want >= 3", n)
	}
	if !strings.Contains(info, "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n") {
		t.Errorf("INFO keyspace wrong:\n%s", info[strings.Index(info, "# Keyspace"):])
	}
	if !strings.Contains(info, "# Errorstats\r\nerrorstat_ERR:count=1\r\nerrorstat_WRONGTYPE:count=1\r\n") {
		t.Errorf("INFO errorstats wrong")
	}

	cs := c.Info(ctx, "commandstats").Val()
	if !strings.HasPrefix(cs, "# Commandstats\r\n") ||
		!regexp.MustCompile(`\r\ncmdstat_set:calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n`).MatchString(cs) ||
		!strings.Contains(cs, "\r\ncmdstat_config|get:calls=1,") ||
		!strings.Contains(cs, "\r\ncmdstat_hset:calls=1,") || !strings.Contains(cs, ",failed_calls=1\r\n") {
		t.Errorf("INFO commandstats:\n%s", cs)
	}
	two := c.Info(ctx, "CLIENTS", "server").Val()
	if !strings.HasPrefix(two, "# Server\r\n") || !strings.Contains(two, "\r\n\r\n# Clients\r\n") || strings.Count(two, "# ") != 2 {
		t.Errorf("INFO clients server:\n%s", two)
	}
	for _, arg := range []string{"all", "everything"} {
		all := c.Info(ctx, arg).Val()
		if !strings.Contains(all, "# Commandstats\r\n") || !strings.Contains(all, "# Keyspace\r\n") || !strings.Contains(all, "# Latencystats\r\n") {
			t.Errorf("INFO %s lacks sections", arg)
		}
	}
	if got := c.Info(ctx, "default", "commandstats").Val(); !strings.Contains(got, "# Commandstats") || !strings.Contains(got, "# Server") {
		t.Error("INFO default commandstats")
	}
	if got, err := c.Do(ctx, "info", "nosuchsection").Text(); err != nil || got != "" {
		t.Errorf("INFO nosuchsection = %q, %v", got, err)
	}
	// RESP3: a verbatim string with the same text.
	c3 := newClient(t, addr, func(o *redis.Options) { o.Protocol = 3 })
	if got := c3.Info(ctx, "server").Val(); !strings.HasPrefix(got, "# Server\r\nredis_version:"+Version+"\r\n") {
		t.Errorf("RESP3 INFO = %q", got)
	}
	if n, _ := strconv.Atoi(infoField(c.Info(ctx, "clients").Val(), "connected_clients")); n != 3 {
		t.Errorf("connected_clients = %d, want 3", n)
	}
}

func TestInfoOpsPerSec(t *testing.T) {
	_, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	c.Info(ctx) // starts the sampler
	deadline := time.Now().Add(30 * time.Second)
	for {
		for i := 0; i < 50; i++ {
			c.Ping(ctx)
		}
		if n, _ := strconv.Atoi(infoField(c.Info(ctx, "stats").Val(), "instantaneous_ops_per_sec")); n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("instantaneous_ops_per_sec stays 0 under load")
		}
	}
}

func TestConfig(t *testing.T) {
	_, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	run(t, c, []step{
		{args: []any{"config", "get", "hz"}, want: []any{"hz", "10"}},
		{args: []any{"config", "get", "maxmemory", "HZ", "hz"}, want: []any{"maxmemory", "0", "hz", "10"}},
		{args: []any{"config", "get", "maxm*"}, want: []any{"maxmemory", "0", "maxmemory-clients", "0", "maxmemory-eviction-tenacity", "10", "maxmemory-policy", "noeviction", "maxmemory-samples", "5"}},
		{args: []any{"config", "get", "nosuch"}, want: []any{}},
		{args: []any{"config", "get"}, wantErr: "ERR wrong number of arguments for 'config|get' command"},
		{args: []any{"config", "set", "hz", "20", "maxmemory", "10mb"}, want: "OK"},
		{args: []any{"config", "get", "hz", "maxmemory"}, want: []any{"hz", "20", "maxmemory", "10485760"}},
		{args: []any{"config", "set", "hz", "15", "maxclients", "x"}, wantErr: "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"},
		{args: []any{"config", "get", "hz"}, want: []any{"hz", "20"}},
		{args: []any{"config", "set", "hz", "15", "nope", "1"}, wantErr: "ERR Unknown option or number of arguments for CONFIG SET - 'nope'"},
		{args: []any{"config", "set", "hz", "10", "maxmemory"}, wantErr: "ERR syntax error"},
		{args: []any{"config", "set", "hz", "10", "HZ", "11"}, wantErr: "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"},
		{args: []any{"config", "set", "port", "1"}, wantErr: "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"},
		{args: []any{"config", "set", "timeout", "-1"}, wantErr: "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and "},
		{args: []any{"config", "set", "maxmemory", "abc"}, wantErr: "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{args: []any{"config", "set", "appendonly", "maybe"}, wantErr: "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"},
		{args: []any{"config", "set", "save", "1 2 3"}, wantErr: "ERR CONFIG SET failed (possibly related to argument 'save') - "},
		{args: []any{"config", "get", "hz"}, want: []any{"hz", "20"}},
		{args: []any{"config", "set"}, wantErr: "ERR wrong number of arguments for 'config|set' command"},
		{args: []any{"config", "foo"}, wantErr: "ERR unknown subcommand 'foo'. Try CONFIG HELP."},
		{args: []any{"config"}, wantErr: "ERR wrong number of arguments for 'config' command"},
		{args: []any{"config", "rewrite"}, wantErr: "ERR The server is running without a config file"},
		{args: []any{"config", "resetstat"}, want: "OK"},
	})
	cs := c.Info(ctx, "commandstats").Val()
	if strings.Contains(cs, "cmdstat_config|get") || !strings.Contains(cs, "cmdstat_config|resetstat:calls=1,") {
		t.Errorf("after CONFIG RESETSTAT:\n%s", cs)
	}
	if es := c.Info(ctx, "errorstats").Val(); es != "# Errorstats\r\n" {
		t.Errorf("errorstats after RESETSTAT: %q", es)
	}
	help, _ := c.Do(ctx, "config", "help").StringSlice()
	if len(help) != 11 || help[0] != "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[9] != "HELP" || help[10] != "    Prints this help." {
		t.Errorf("CONFIG HELP = %q", help)
	}
	// RESP3: a map.
	c3 := newClient(t, addr, func(o *redis.Options) { o.Protocol = 3 })
	if m, err := c3.ConfigGet(ctx, "hz").Result(); err != nil || m["hz"] != "20" || len(m) != 1 {
		t.Errorf("RESP3 CONFIG GET = %v, %v", m, err)
	}
	// A change with a hook: requirepass applies to new connections.
	if err := c.ConfigSet(ctx, "requirepass", "secret").Err(); err != nil {
		t.Fatal(err)
	}
	if err := newClient(t, addr).Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("PING without password after requirepass: %v", err)
	}
	if err := newClient(t, addr, func(o *redis.Options) { o.Password = "secret" }).Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigRewrite(t *testing.T) {
	s, addr, path := serverStartWithFile(t, "# my settings\nhz 15\n\nmaxclients 100\nmaxclients 200\n# Generated by CONFIG REWRITE\nloglevel warning\n")
	c := newClient(t, addr)
	ctx := context.Background()
	run(t, c, []step{
		{args: []any{"config", "get", "maxclients"}, want: []any{"maxclients", "200"}},
		{args: []any{"config", "set", "hz", "25", "timeout", "30", "requirepass", `a "b`}, want: "OK"},
		{args: []any{"config", "rewrite"}, want: "OK"},
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := s.cfg.Get("dir")
	want := "# my settings\nhz 25\n\nmaxclients 200\nloglevel warning\n# Generated by CONFIG REWRITE\n" +
		"dir " + dir + "\nport 0\nrequirepass \"a \\\"b\"\ntimeout 30\n"
	if string(b) != want {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", b, want)
	}
	// The file reads back to the same values.
	cfg := config.New()
	if err := cfg.Load(path, nil); err != nil {
		t.Fatal(err)
	}
	for _, kv := range s.cfg.Match("*") {
		if got := cfg.Get(kv[0]); got != kv[1] {
			t.Errorf("after reload %s = %q, want %q", kv[0], got, kv[1])
		}
	}
	if info := newClient(t, addr, func(o *redis.Options) { o.Password = `a "b` }).Info(ctx, "server").Val(); infoField(info, "config_file") != path {
		t.Errorf("config_file = %q, want %q", infoField(info, "config_file"), path)
	}
}

var clientLineRE = regexp.MustCompile(`^id=\d+ addr=\S+ laddr=\S+ fd=-?\d+ name=\S* age=\d+ idle=\d+ flags=\S+ db=\d+ sub=\d+ psub=\d+ ssub=\d+ multi=-?\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=\S+ cmd=\S+ user=default redir=-1 resp=[23] lib-name=\S* lib-ver=\S*$`)

func TestClient(t *testing.T) {
	_, addr := startServer(t, "enable-debug-command", "yes") // DEBUG SLEEP
	c := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
	ctx := context.Background()
	id := c.ClientID(ctx).Val()
	if id <= 0 {
		t.Fatalf("CLIENT ID = %d", id)
	}
	ids := strconv.FormatInt(id, 10)
	run(t, c, []step{
		{args: []any{"client", "getname"}, want: nil},
		{args: []any{"client", "setname", "worker-1"}, want: "OK"},
		{args: []any{"client", "getname"}, want: "worker-1"},
		{args: []any{"client", "setname", "a b"}, wantErr: "ERR Client names cannot contain spaces, newlines or special characters."},
		{args: []any{"client", "setname"}, wantErr: "ERR wrong number of arguments for 'client|setname' command"},
		{args: []any{"client", "id", "x"}, wantErr: "ERR wrong number of arguments for 'client|id' command"},
		{args: []any{"client", "foo"}, wantErr: "ERR unknown subcommand 'foo'. Try CLIENT HELP."},
		{args: []any{"client", "list", "type", "foo"}, wantErr: "ERR Unknown client type 'foo'"},
		{args: []any{"client", "list", "type"}, wantErr: "ERR syntax error"},
		{args: []any{"client", "list", "foo"}, wantErr: "ERR syntax error"},
		{args: []any{"client", "list", "id", "abc"}, wantErr: "ERR Invalid client ID"},
		{args: []any{"client", "list", "id", "999999"}, want: ""},
		{args: []any{"client", "list", "type", "pubsub"}, want: ""},
		{args: []any{"client", "list", "type", "master"}, want: ""},
		{args: []any{"client", "kill", "1.2.3.4:5"}, wantErr: "ERR No such client"},
		{args: []any{"client", "kill", "id", "999999"}, want: 0},
		{args: []any{"client", "kill", "id", "abc"}, wantErr: "ERR client-id should be greater than 0"},
		{args: []any{"client", "kill", "id", "0"}, wantErr: "ERR client-id should be greater than 0"},
		{args: []any{"client", "kill", "type", "foo"}, wantErr: "ERR Unknown client type 'foo'"},
		{args: []any{"client", "kill", "type", "normal", "skipme", "maybe"}, wantErr: "ERR syntax error"},
		{args: []any{"client", "kill", "user", "nobody"}, wantErr: "ERR No such user 'nobody'"},
		{args: []any{"client", "kill", "foo", "bar"}, wantErr: "ERR syntax error"},
		{args: []any{"client", "kill", "id", ids, "type"}, wantErr: "ERR syntax error"},
		{args: []any{"client", "kill", "laddr", "1.1.1.1:1"}, want: 0},
		{args: []any{"client", "kill", "id", ids}, want: 0}, // SKIPME yes by default
		{args: []any{"client", "no-evict", "maybe"}, wantErr: "ERR syntax error"},
		{args: []any{"client", "no-evict", "on"}, want: "OK"},
		{args: []any{"client", "no-touch", "off"}, want: "OK"},
		{args: []any{"client", "setinfo", "lib-name", "mylib"}, want: "OK"},
		{args: []any{"client", "setinfo", "LIB-VER", "1.2"}, want: "OK"},
		{args: []any{"client", "setinfo", "foo", "x"}, wantErr: "ERR Unrecognized option 'foo'"},
		{args: []any{"client", "setinfo", "lib-ver", "a b"}, wantErr: "ERR lib-ver cannot contain spaces, newlines or special characters."},
		{args: []any{"client", "getredir"}, want: -1},
		{args: []any{"client", "unpause"}, want: "OK"},
	})
	self := c.ClientInfo(ctx)
	if self.Err() != nil {
		t.Fatal(self.Err())
	}
	line, _ := c.Do(ctx, "client", "info").Text()
	if !strings.HasSuffix(line, "\n") || !clientLineRE.MatchString(strings.TrimSuffix(line, "\n")) {
		t.Fatalf("CLIENT INFO = %q", line)
	}
	for _, f := range []string{"id=" + ids + " ", " name=worker-1 ", " flags=e ", " cmd=client|info ", " resp=2 lib-name=mylib lib-ver=1.2"} {
		if !strings.Contains(line, f) {
			t.Errorf("CLIENT INFO lacks %q: %s", f, line)
		}
	}
	// Another connection: listed, killable by address and by id.
	other := dialRaw(t, addr)
	other.do("+OK\r\n", "CLIENT", "SETNAME", "victim")
	other.send("CLIENT", "ID")
	otherLine, _ := other.r.ReadString('\n')
	otherID := strings.TrimSpace(strings.TrimPrefix(otherLine, ":"))
	list := c.ClientList(ctx).Val()
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST has %d lines:\n%s", len(lines), list)
	}
	for _, l := range lines {
		if !clientLineRE.MatchString(l) {
			t.Errorf("CLIENT LIST line format: %q", l)
		}
	}
	if !strings.Contains(lines[0], "cmd=client|list") || !strings.Contains(lines[1], "name=victim") ||
		!strings.Contains(lines[1], "cmd=client|id") || !strings.Contains(lines[1], "flags=N") {
		t.Errorf("CLIENT LIST:\n%s", list)
	}
	byID, _ := c.Do(ctx, "client", "list", "id", otherID, "999").Text()
	if strings.Count(byID, "\n") != 1 || !strings.Contains(byID, "name=victim") {
		t.Errorf("CLIENT LIST ID = %q", byID)
	}
	normal, _ := c.Do(ctx, "client", "list", "type", "normal").Text()
	if strings.Count(normal, "\n") != 2 {
		t.Errorf("CLIENT LIST TYPE normal = %q", normal)
	}
	addrOf := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(lines[1])[1]
	if got := c.Do(ctx, "client", "kill", addrOf).Val(); got != "OK" {
		t.Fatalf("CLIENT KILL addr = %v", got)
	}
	other.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := other.r.ReadByte(); err == nil {
		t.Fatal("killed connection still open")
	}
	// New form by id; a client blocked in DEBUG SLEEP is woken by the kill.
	sleeper := dialRaw(t, addr)
	sleeper.send("CLIENT", "ID")
	l, _ := sleeper.r.ReadString('\n')
	sleeperID := strings.TrimSpace(strings.TrimPrefix(l, ":"))
	sleeper.send("DEBUG", "SLEEP", "30")
	start := time.Now()
	if n := c.Do(ctx, "client", "kill", "id", sleeperID, "skipme", "yes").Val(); n != int64(1) {
		t.Fatalf("CLIENT KILL ID = %v", n)
	}
	// Closed before its 30 s sleep ends: woken by the kill.
	sleeper.c.SetReadDeadline(time.Now().Add(25 * time.Second))
	if _, err := sleeper.r.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("killed sleeper: err %v after %v", err, time.Since(start))
	}
	t.Logf("killed sleeper closed after %v", time.Since(start))
	// Killing oneself replies first, then closes.
	me := dialRaw(t, addr)
	me.send("CLIENT", "ID")
	l, _ = me.r.ReadString('\n')
	me.do(":1\r\n", "CLIENT", "KILL", "ID", strings.TrimSpace(strings.TrimPrefix(l, ":")), "SKIPME", "no")
	me.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := me.r.ReadByte(); err == nil {
		t.Fatal("self-killed connection still open")
	}
	help, _ := c.Do(ctx, "client", "help").StringSlice()
	if len(help) < 10 || help[0] != "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" || help[len(help)-1] != "    Prints this help." {
		t.Errorf("CLIENT HELP = %q", help)
	}
	// go-redis announces itself with CLIENT SETINFO; a RESP3 client shows resp=3.
	ident := newClient(t, addr, func(o *redis.Options) { o.DisableIndentity = false; o.Protocol = 3 })
	if info := ident.ClientInfo(ctx); info.Err() != nil || !strings.HasPrefix(info.Val().LibName, "go-redis") || info.Val().Resp != 3 {
		t.Errorf("CLIENT INFO of go-redis = %+v, %v", info.Val(), info.Err())
	}
	if !strings.Contains(c.ClientList(ctx).Val(), "lib-name=go-redis") {
		t.Error("CLIENT LIST lacks the go-redis library name")
	}
}

func TestCommand(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	getSpec := []any{"flags", []any{"RO", "access"},
		"begin_search", []any{"type", "index", "spec", []any{"index", int64(1)}},
		"find_keys", []any{"type", "range", "spec", []any{"lastkey", int64(0), "keystep", int64(1), "limit", int64(0)}}}
	getInfo := []any{"get", int64(2), []any{"readonly", "fast"}, int64(1), int64(1), int64(1),
		[]any{"@read", "@string", "@fast"}, []any{}, []any{getSpec}, []any{}}
	run(t, c, []step{
		{args: []any{"command", "count"}, want: len(s.cmds)},
		{args: []any{"command", "count", "x"}, wantErr: "ERR wrong number of arguments for 'command|count' command"},
		{args: []any{"command", "foo"}, wantErr: "ERR unknown subcommand 'foo'. Try COMMAND HELP."},
		{args: []any{"command", "info", "get", "nosuch"}, want: []any{getInfo, nil}},
		{args: []any{"command", "info", "GET"}, want: []any{getInfo}},
		{args: []any{"command", "docs", "get"}, want: []any{"get", []any{"summary", "Get the value of a key", "since", "1.0.0", "group", "string", "complexity", "O(1)",
			"arguments", []any{[]any{"name", "key", "type", "key", "key_spec_index", int64(0)}}}}},
		{args: []any{"command", "docs", "nosuch"}, want: []any{}},
		{args: []any{"command", "getkeys", "set", "a", "b"}, want: []string{"a"}},
		{args: []any{"command", "getkeys", "mset", "a", "1", "b", "2"}, want: []string{"a", "b"}},
		{args: []any{"command", "getkeys", "foo", "x"}, wantErr: "ERR Invalid command specified"},
		{args: []any{"command", "getkeys", "ping", "x"}, wantErr: "ERR The command has no key arguments"},
		{args: []any{"command", "getkeys", "config", "get", "x"}, wantErr: "ERR The command has no key arguments"},
		{args: []any{"command", "getkeys", "set", "a"}, wantErr: "ERR Invalid number of arguments specified for command"},
		{args: []any{"command", "getkeys", "get"}, wantErr: "ERR wrong number of arguments for 'command|getkeys' command"},
		{args: []any{"command", "getkeysandflags", "get", "a"}, want: []any{[]any{"a", []any{"RO", "access"}}}},
		{args: []any{"command", "getkeysandflags", "lmove", "a", "b", "left", "right"}, want: []any{[]any{"a", []any{"RW", "access", "delete"}}, []any{"b", []any{"RW", "insert"}}}},
		{args: []any{"command", "list", "filterby", "pattern", "CONFIG*"}, want: []string{"config", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set"}},
		{args: []any{"command", "list", "filterby", "module", "x"}, want: []string{}},
		{args: []any{"command", "list", "filterby", "foo", "x"}, wantErr: "ERR syntax error"},
		{args: []any{"command", "list", "foo"}, wantErr: "ERR syntax error"},
	})
	// CONFIG's entry lists its subcommands.
	cfgInfo, _ := c.Do(ctx, "command", "info", "config").Slice()
	entry := cfgInfo[0].([]any)
	if len(entry) != 10 || entry[0] != "config" || len(entry[9].([]any)) != 5 {
		t.Fatalf("COMMAND INFO config = %#v", cfgInfo)
	}
	sub := entry[9].([]any)[0].([]any)
	if sub[0] != "config|get" || sub[1] != int64(-3) {
		t.Errorf("config subcommand entry = %#v", sub)
	}
	pubsubCat, _ := c.Do(ctx, "command", "list", "filterby", "aclcat", "pubsub").StringSlice()
	if !strings.Contains(strings.Join(pubsubCat, ","), "publish") {
		t.Errorf("COMMAND LIST FILTERBY ACLCAT pubsub = %q", pubsubCat)
	}
	// Every command renders, in both protocols, and go-redis parses it.
	for _, proto := range []int{2, 3} {
		cl := newClient(t, addr, func(o *redis.Options) { o.Protocol = proto })
		infos, err := cl.Command(ctx).Result()
		if err != nil || len(infos) != len(s.cmds) {
			t.Fatalf("RESP%d COMMAND: %d entries, %v", proto, len(infos), err)
		}
		if g := infos["get"]; g == nil || g.Arity != 2 || g.FirstKeyPos != 1 || !g.ReadOnly {
			t.Errorf("RESP%d COMMAND get = %+v", proto, g)
		}
		docs, err := cl.Do(ctx, "command", "docs").Result()
		if err != nil {
			t.Fatalf("RESP%d COMMAND DOCS: %v", proto, err)
		}
		n := 0
		switch d := docs.(type) {
		case []any:
			n = len(d) / 2
		case map[any]any:
			n = len(d)
		}
		if n != len(s.cmds) {
			t.Errorf("RESP%d COMMAND DOCS has %d entries, want %d", proto, n, len(s.cmds))
		}
		all, err := cl.Do(ctx, "command", "info").Slice()
		if err != nil || len(all) != len(s.cmds) {
			t.Errorf("RESP%d COMMAND INFO: %d, %v", proto, len(all), err)
		}
	}
	help, _ := c.Do(ctx, "command", "help").StringSlice()
	if len(help) != 21 || help[len(help)-1] != "    Prints this help." {
		t.Errorf("COMMAND HELP = %q", help)
	}
}
