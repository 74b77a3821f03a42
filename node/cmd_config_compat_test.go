package node

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/wardenkv/warden/internal/redistest"
)

// configDiffers are the directives whose value legitimately differs between
// a warden and a redis-server started side by side by the tests.
var configDiffers = map[string]string{
	"port": "each listens on its own port", "dir": "each has its own directory", "bind": "warden binds loopback by default",
	"pidfile": "redis-server writes one", "io-threads": "warden uses every core by default",
	"enable-debug-command": "the test servers enable DEBUG", "save": "redistest disables saving",
	"logfile": "redistest logs to a file", "daemonize": "redistest's redis-server",
	"appendonly": "redistest's redis-server", "maxclients": "redis-server lowers it to its open-files limit",
	"repl-diskless-sync-delay": "the test servers start full syncs at once",
}

// TestConfigKnowsEveryRedisDirective: every directive redis-server 7.0
// lists in CONFIG GET * is known to warden with Redis's default value
// (but for configDiffers), aliases included.
func TestConfigKnowsEveryRedisDirective(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t, "")
	want, err := rs.Client(t, 0).ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t)
	got, err := newClient(t, addr).ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var missing, wrong []string
	for name, v := range want {
		g, ok := got[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case g != v && configDiffers[name] == "":
			wrong = append(wrong, name+": warden "+g+", redis "+v)
		}
	}
	sort.Strings(missing)
	sort.Strings(wrong)
	if len(missing) > 0 || len(wrong) > 0 {
		t.Fatalf("%d of redis-server's %d directives unknown to warden: %s\ndefaults that differ:\n%s",
			len(missing), len(want), strings.Join(missing, " "), strings.Join(wrong, "\n"))
	}
}

// TestConfigCompatSideBySide compares CONFIG SET/GET of accepted Redis
// directives, their aliases and their errors with Redis 7.0.
func TestConfigCompatSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds(
		"config set slave-read-only no", "config get replica-read-only", "config get slave-read-only",
		"config set replica-read-only yes", "config get slave-read-only",
		"config set hash-max-ziplist-entries 100", "config get hash-max-listpack-entries",
		"config set hash-max-ziplist-entries 100 hash-max-listpack-entries 5",
		"config set maxmemory-samples 0", "config set maxmemory-eviction-tenacity 101",
		"config set active-defrag-cycle-max 0", "config set activedefrag maybe",
		"config set oom-score-adj sometimes", "config set sanitize-dump-payload clients", "config get sanitize-dump-payload",
		"config set lazyfree-lazy-user-del yes", "config get lazyfree-lazy-user-del",
		"config set list-max-ziplist-size -3", "config get list-max-ziplist-size", "config get list-max-listpack-size",
		"config set unixsocket /tmp/x", "config set cluster-config-file x",
		"config get cluster-node-timeout", "config get hash-max-ziplist-entries",
	)...)
	p.same(t,
		[]string{"config", "set", "client-output-buffer-limit", "normal 1mb 2mb 3"},
		[]string{"config", "get", "client-output-buffer-limit"},
		[]string{"config", "set", "client-output-buffer-limit", "replica 10 20 30 pubsub 0 0 0"},
		[]string{"config", "get", "client-output-buffer-limit"},
		[]string{"config", "set", "client-output-buffer-limit", "bogus 1 2 3"},
		[]string{"config", "set", "client-output-buffer-limit", "normal 1 2"},
		[]string{"config", "set", "client-output-buffer-limit", "normal x 2 3"},
		[]string{"config", "set", "oom-score-adj-values", "0 100 3000"},
		[]string{"config", "set", "oom-score-adj-values", "0 100 300"},
		[]string{"config", "get", "oom-score-adj-values"},
		[]string{"config", "set", "maxmemory-clients", "10%"},
		[]string{"config", "get", "maxmemory-clients"},
	)
}

// TestConfigAliasesRewriteAndLog: a file using Redis's old names loads, CONFIG
// REWRITE writes the current names, and a directive warden does not act on
// is logged with the reason when set at startup or by CONFIG SET.
func TestConfigAliasesRewriteAndLog(t *testing.T) {
	_, addr, path := serverStartWithFile(t, "slave-read-only no\nhash-max-ziplist-entries 7\n")
	c := newClient(t, addr)
	ctx := context.Background()
	run(t, c, []step{
		{args: []any{"config", "get", "replica-read-only"}, want: []any{"replica-read-only", "no"}},
		{args: []any{"config", "set", "slave-serve-stale-data", "no"}, want: "OK"},
		{args: []any{"config", "rewrite"}, want: "OK"},
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"replica-read-only no", "hash-max-listpack-entries 7", "replica-serve-stale-data no"} {
		if !strings.Contains(string(b), line+"\n") {
			t.Errorf("rewritten file lacks %q:\n%s", line, b)
		}
	}
	if strings.Contains(string(b), "slave-") || strings.Contains(string(b), "ziplist") {
		t.Errorf("rewritten file keeps an old name:\n%s", b)
	}

	_, addr2, logs := startLoggedServer(t, "activedefrag", "yes")
	if !strings.Contains(logs.String(), "directive has no effect in warden") || !strings.Contains(logs.String(), "directive=activedefrag") {
		t.Fatalf("startup log does not name activedefrag:\n%s", logs.String())
	}
	c2 := newClient(t, addr2)
	if err := c2.ConfigSet(ctx, "lazyfree-lazy-user-del", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "directive=lazyfree-lazy-user-del") }, "the CONFIG SET to be logged")
}
