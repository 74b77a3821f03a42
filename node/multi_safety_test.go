package node

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/internal/testhost"
	"github.com/wardenkv/warden/node/config"
)

// The no_multi flag of the command table is Redis 7.0.15's, checked against
// a running redis-server's COMMAND INFO, and MULTI refuses exactly those
// commands with Redis's text, failing the transaction.
func TestNoMultiFlagMatchesRedis(t *testing.T) {
	srv, addr := startServer(t, "save", "")
	rs := redistest.Start(t, "")
	rc := dialResp(t, rs.Addr)
	var noMulti []string
	for name, cmd := range srv.cmds {
		all := map[string]*Command{name: cmd}
		for sub, sc := range cmd.Subs {
			all[name+"|"+sub] = sc
		}
		for full, c := range all {
			info := rc.mustDo(t, "COMMAND", "INFO", full)
			if len(info.Elems) != 1 || info.Elems[0].Null {
				continue // not in Redis 7.0 (the 7.2 CLIENT subcommands)
			}
			redisNoMulti := false
			for _, f := range info.Elems[0].Elems[2].Elems {
				redisNoMulti = redisNoMulti || f.Str == "no_multi"
			}
			if got := c.Flags&fNoMulti != 0; got != redisNoMulti {
				t.Errorf("%s: no_multi %v in warden's table, %v in redis-server's COMMAND INFO", full, got, redisNoMulti)
			}
			if redisNoMulti {
				noMulti = append(noMulti, full)
			}
		}
	}
	if len(noMulti) == 0 {
		t.Fatal("redis-server reported no no_multi command: COMMAND INFO parsing is broken")
	}
	// Each is refused when queued and the transaction is discarded (the
	// argument vectors are the ones of TestEveryCommandInMulti).
	for _, name := range noMulti {
		argv := multiCases[name][0]
		c := dialResp(t, addr)
		c.mustDo(t, "MULTI")
		c.mustDo(t, "SET", "k", "1")
		if v := c.mustDo(t, argv...); v.String() != "-ERR Command not allowed inside a transaction" {
			t.Errorf("%q in MULTI: %v", argv, v)
		}
		if v := c.mustDo(t, "EXEC"); v.String() != "-EXECABORT Transaction discarded because of previous errors." {
			t.Errorf("EXEC after %q: %v", argv, v)
		}
		c.close()
	}
	// COMMAND INFO shows the flag as Redis does.
	wc := dialResp(t, addr)
	if got := wc.mustDo(t, "COMMAND", "INFO", "save").String(); !strings.Contains(got, "+no_multi") {
		t.Errorf("COMMAND INFO save = %s", got)
	}
}

// MULTI/SET/SAVE/EXEC, BGSAVE and BGREWRITEAOF held every client out of the
// keyspace (EXEC held a partition, the snapshot waited for all of them).
// Now SAVE is refused as in Redis and the background jobs are scheduled, as
// Redis does inside EXEC, and then run.
func TestBackgroundJobsInMulti(t *testing.T) {
	_, addr := startServer(t, "save", "", "appendonly", "yes")
	c := dialResp(t, addr)
	waitPersistIdle(t, c)
	before := infoInt(t, c, "persistence", "aof_rewrites")
	c.mustDo(t, "MULTI")
	c.mustDo(t, "SET", "k", "v")
	c.mustDo(t, "BGSAVE")
	c.mustDo(t, "BGREWRITEAOF")
	v := c.mustDo(t, "EXEC")
	if got := v.String(); got != "*[+OK +Background saving scheduled +Background append only file rewriting scheduled]" {
		t.Fatalf("EXEC = %s", got)
	}
	checkServing(t, addr, "EXEC with BGSAVE and BGREWRITEAOF")
	// The cron runs them once EXEC has released its locks.
	waitFor(t, func() bool {
		return infoInt(t, c, "persistence", "rdb_saves") >= 1 &&
			infoInt(t, c, "persistence", "aof_rewrites") > before
	}, "the scheduled BGSAVE and BGREWRITEAOF")
}

// infoInt returns one numeric INFO field (-1 when absent).
func infoInt(t *testing.T, c *respClient, section, field string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(infoField(c.mustDo(t, "INFO", section).Str, field), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// REPLICAOF NO ONE inside EXEC waited for the replication link's goroutine
// while that goroutine waited for a partition EXEC held (it was applying a
// write of the master to a key the transaction had read): both hung. Now
// the link changes once EXEC has released its locks.
func TestReplicaofInExecWhileLinkApplies(t *testing.T) {
	_, maddr := startServer(t, "save", "")
	_, mport, _ := strings.Cut(maddr, ":")
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport, "enable-debug-command", "yes")
	master, replica := newClient(t, maddr), newClient(t, raddr)
	ctx := context.Background()
	if err := master.Set(ctx, "k", "0", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitLinkUp(t, replica)
	waitFor(t, func() bool { return replica.Get(ctx, "k").Val() == "0" }, "k on the replica")

	c := dialResp(t, raddr)
	for _, cmd := range [][]string{{"MULTI"}, {"GET", "k"}, {"DEBUG", "SLEEP", "2"}, {"REPLICAOF", "NO", "ONE"}} {
		c.mustDo(t, cmd...)
	}
	// While EXEC sleeps holding k's partition, the master writes k: the
	// link blocks on that partition until EXEC ends.
	if _, err := c.c.Write(respCommand("EXEC")); err != nil {
		t.Fatal(err)
	}
	waitExecHoldsKey(t, raddr, "k")
	if err := master.Set(ctx, "k", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	v, err := readResp(c.r)
	if err != nil {
		t.Fatalf("EXEC never answered (deadlock): %v", err)
	}
	if got := v.String(); got != `*["0" +OK +OK]` {
		t.Fatalf("EXEC = %s", got)
	}
	checkServing(t, raddr, "REPLICAOF NO ONE in EXEC")
	if role := replica.Do(ctx, "role").Val().([]any); role[0] != "master" {
		t.Fatalf("ROLE after REPLICAOF NO ONE in EXEC = %v", role)
	}
}

// waitExecHoldsKey waits until a GET of key on addr blocks, which it does
// once a running EXEC holds key's partition: only then is a write the link
// applies sure to come after the transaction's reads.
func waitExecHoldsKey(t *testing.T, addr, key string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe := dialResp(t, addr)
		if _, err := probe.c.Write(respCommand("GET", key)); err != nil {
			t.Fatal(err)
		}
		probe.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := readResp(probe.r)
		probe.c.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("EXEC never held %s (GET answered: %v)", key, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockingCluster is a control plane whose failover needs a partition, as
// catching up with the master does.
type lockingCluster struct {
	fakeCluster
	srv   atomic.Pointer[Server]
	calls atomic.Int64
}

func (l *lockingCluster) Failover(context.Context, bool) error {
	tx := l.srv.Load().store.Lock1(0, []byte("k"))
	tx.Unlock()
	l.calls.Add(1)
	return nil
}

// CLUSTER FAILOVER inside EXEC waited (up to 30 s) for a switch that needs
// the partitions EXEC held; now EXEC answers OK as Redis does and the
// failover is asked for once EXEC has released them.
func TestClusterFailoverInExec(t *testing.T) {
	lc := &lockingCluster{}
	srv, addr := startClusterServer(t, lc)
	lc.srv.Store(srv)
	c := dialResp(t, addr)
	// A replica, as the control plane makes it (REPLICAOF is refused in
	// cluster mode).
	srv.Follow("127.0.0.1", 1)
	for _, cmd := range [][]string{{"MULTI"}, {"GET", "k"}, {"CLUSTER", "FAILOVER"}} {
		c.mustDo(t, cmd...)
	}
	v, err := c.do(20*time.Second, "EXEC")
	if err != nil {
		t.Fatalf("EXEC never answered (deadlock): %v", err)
	}
	if got := v.String(); got != "*[(nil) +OK]" {
		t.Fatalf("EXEC = %s", got)
	}
	waitFor(t, func() bool { return lc.calls.Load() == 1 }, "the failover asked after EXEC")
}

// DEBUG is off by default and enable-debug-command gates it exactly as in
// Redis 7.0.15: same texts, checked before AUTH, immutable at run time, and
// "local" means a peer at 127.0.0.1 (not 127.0.0.2) or a unix socket.
func TestEnableDebugCommand(t *testing.T) {
	const refused = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
	type server struct{ name, addr string }
	// start runs both servers (protected mode off: the 127.0.0.2 peer is
	// not local for it either) and applies CONFIG SET pairs from set.
	start := func(mode string, set ...string) []server {
		wd := []string{"save", "", "protected-mode", "no"}
		rd := []string{"--protected-mode", "no"}
		if mode != "" {
			wd = append(wd, "enable-debug-command", mode)
			rd = append(rd, "--enable-debug-command", mode)
		}
		_, addr := startServer(t, wd...)
		rs := redistest.Start(t, "", rd...)
		servers := []server{{"warden", addr}, {"redis", rs.Addr}}
		for _, srv := range servers {
			c := dialResp(t, srv.addr)
			for i := 0; i+1 < len(set); i += 2 {
				if v := c.mustDo(t, "CONFIG", "SET", set[i], set[i+1]); v.isErr() {
					t.Fatalf("%s: CONFIG SET %s: %v", srv.name, set[i], v)
				}
			}
			c.close()
		}
		return servers
	}
	// from dials addr from source IP src.
	from := func(t *testing.T, src, addr string) *respClient {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if src != "127.0.0.1" {
				// A sandbox whose loopback holds only 127.0.0.1.
				t.Logf("not checked: cannot dial from %s: %v", src, err)
				return nil
			}
			t.Fatalf("dial %s from %s: %v", addr, src, err)
		}
		t.Cleanup(func() { c.Close() })
		return &respClient{c: c, r: bufio.NewReader(c)}
	}
	type step struct {
		src  string
		args []string
		want string
	}
	cases := []struct {
		mode  string
		set   []string
		steps []step
	}{
		{"", nil, []step{ // the default
			{"127.0.0.1", []string{"DEBUG", "SLEEP", "0"}, refused},
			{"127.0.0.1", []string{"DEBUG"}, "-ERR wrong number of arguments for 'debug' command"},
			{"127.0.0.1", []string{"DEBUG", "POPULATE", "1000000000", "big", "1000000000"}, refused},
			{"127.0.0.1", []string{"CONFIG", "GET", "enable-debug-command"}, `*["enable-debug-command" "no"]`},
			{"127.0.0.1", []string{"CONFIG", "SET", "enable-debug-command", "yes"}, "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config"},
			{"127.0.0.1", []string{"DEBUG", "SLEEP", "0"}, refused},
		}},
		{"local", nil, []step{
			{"127.0.0.1", []string{"DEBUG", "SLEEP", "0"}, "+OK"},
			{"127.0.0.2", []string{"DEBUG", "SLEEP", "0"}, refused},
			{"127.0.0.1", []string{"CONFIG", "GET", "enable-debug-command"}, `*["enable-debug-command" "local"]`},
		}},
		{"yes", nil, []step{
			{"127.0.0.2", []string{"DEBUG", "SLEEP", "0"}, "+OK"},
		}},
		{"no", []string{"requirepass", "pw"}, []step{
			// Checked before AUTH: an unauthenticated client learns
			// only that DEBUG is off.
			{"127.0.0.1", []string{"DEBUG", "SLEEP", "0"}, refused},
			{"127.0.0.1", []string{"GET", "x"}, "-NOAUTH Authentication required."},
		}},
	}
	for _, tc := range cases {
		for _, srv := range start(tc.mode, tc.set...) {
			for _, st := range tc.steps {
				c := from(t, st.src, srv.addr)
				if c == nil {
					continue
				}
				if got := c.mustDo(t, st.args...).String(); got != st.want {
					t.Errorf("%s enable-debug-command %q from %s: %q = %s, want %s", srv.name, tc.mode, st.src, st.args, got, st.want)
				}
				c.close()
			}
			// Refused inside MULTI at queueing, failing the transaction.
			if tc.mode == "" {
				c := dialResp(t, srv.addr)
				c.mustDo(t, "MULTI")
				c.mustDo(t, "DEBUG", "SLEEP", "0")
				if got := c.mustDo(t, "EXEC").String(); got != "-EXECABORT Transaction discarded because of previous errors." {
					t.Errorf("%s: EXEC after a refused DEBUG = %s", srv.name, got)
				}
			}
		}
	}
}

// DEBUG POPULATE allocates each value once: the 1.5 GB value of
// "DEBUG POPULATE 1 big 1500000000" grew a buffer by appending (up to twice
// the size), then copied it, taking the process past 4 GB.
func TestDebugPopulateAllocatesOnce(t *testing.T) {
	_, addr := startServer(t, "save", "", "enable-debug-command", "yes")
	c := dialResp(t, addr)
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if v := c.mustDo(t, "DEBUG", "POPULATE", "1", "big", "67108864"); v.String() != "+OK" {
		t.Fatal(v)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > size*3/2 {
		t.Fatalf("DEBUG POPULATE of one %d-byte value allocated %d bytes", size, got)
	}
	if n := c.mustDo(t, "STRLEN", "big:0"); n.Str != "67108864" {
		t.Fatalf("STRLEN big:0 = %v", n)
	}
	// A value past proto-max-bulk-len (Redis aborts on the allocation; a
	// size of 2^63-1 was a makeslice panic here) is refused.
	for _, size := range []string{"536870913", "9223372036854775807"} {
		if v := c.mustDo(t, "DEBUG", "POPULATE", "1", "huge", size); v.String() != "-ERR string exceeds maximum allowed size (proto-max-bulk-len)" {
			t.Errorf("DEBUG POPULATE 1 huge %s = %v", size, v)
		}
	}
	if v := c.mustDo(t, "EXISTS", "huge:0"); v.Str != "0" {
		t.Errorf("EXISTS huge:0 = %v", v)
	}
}

// A handler or key-extraction panic (a bug) answers Redis-style, leaves the
// server and the key's partition usable, and is logged with its stack.
func TestPanicAnswersAndLogsStack(t *testing.T) {
	cfg := config.New()
	for _, kv := range [][2]string{{"port", "0"}, {"dir", t.TempDir()}, {"save", ""}} {
		if err := cfg.Set(kv[0], kv[1], false); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testhost.LogBuffer{}
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Commands that panic, registered before Serve reads the table.
	s.cmds["panicrun"] = &Command{Name: "panicrun", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1,
		Run: func(*Ctx) { panic("boom in handler") }}
	s.cmds["panickeys"] = &Command{Name: "panickeys", Arity: 2,
		KeyFn: func([][]byte) [][]byte { panic("boom in key extraction") }, Run: func(c *Ctx) { c.OK() }}
	serveUntilCleanup(t, s)

	c := dialResp(t, s.Addr().String())
	if got := c.mustDo(t, "PANICRUN", "k").String(); got != "-ERR internal error while running 'panicrun'" {
		t.Fatalf("PANICRUN = %s", got)
	}
	if got := c.mustDo(t, "PANICKEYS", "k").String(); got != "-ERR internal error while running 'panickeys'" {
		t.Fatalf("PANICKEYS = %s", got)
	}
	// k's partition was released: another client writes it.
	checkServing(t, s.Addr().String(), "a panicking command")
	if v, err := dialResp(t, s.Addr().String()).do(20*time.Second, "SET", "k", "v"); err != nil || v.isErr() {
		t.Fatalf("SET k after the panic: %v %v", v, err)
	}
	log := logs.String()
	for _, want := range []string{`msg="command panicked" cmd=panicrun`, "boom in handler", "boom in key extraction", "goroutine ", "node.(*Server).execute"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
