package sentinel

import (
	"reflect"
	"strings"
	"testing"
)

// TestCommandsRaw checks every command's reply, types included (status vs
// bulk, null bulk vs null array), with a raw RESP2 client.
func TestCommandsRaw(t *testing.T) {
	v := sampleView()
	s, _ := startServer(t, v)
	c := dialRaw(t, s.Addr().String())

	ok := status("OK")
	tests := []struct {
		args []string
		want any
	}{
		{[]string{"PING"}, status("PONG")},
		{[]string{"ping", "hi"}, "hi"},
		{[]string{"PING", "a", "b"}, respErr("ERR wrong number of arguments for 'ping' command")},
		{[]string{"SENTINEL", "get-master-addr-by-name", "mymaster"}, []any{"127.0.0.1", "6379"}},
		{[]string{"sentinel", "GET-MASTER-ADDR-BY-NAME", "mymaster-1"}, []any{"10.0.0.2", "7000"}},
		{[]string{"SENTINEL", "get-master-addr-by-name", "nope"}, nullArray{}},
		{[]string{"SENTINEL", "get-master-addr-by-name", "MYMASTER"}, nullArray{}},   // names are case-sensitive
		{[]string{"SENTINEL", "get-master-addr-by-name", "mymaster-2"}, nullArray{}}, // no master yet
		{[]string{"SENTINEL", "myid"}, "n1"},
		{[]string{"SENTINEL", "reset", "*"}, int64(0)},
		{[]string{"SENTINEL", "flushconfig"}, ok},
		{[]string{"SENTINEL", "pending-scripts"}, []any{}},
		{[]string{"SENTINEL", "ckquorum", "mymaster"}, status(v.ckquorum)},
		{[]string{"SENTINEL", "ckquorum", "nope"}, respErr(errNoSuchMaster)},
		{[]string{"SENTINEL", "failover", "mymaster"}, ok},
		{[]string{"SENTINEL", "failover", "nope"}, respErr(errNoSuchMaster)},
		{[]string{"SENTINEL", "master", "nope"}, respErr(errNoSuchMaster)},
		{[]string{"SENTINEL", "replicas", "nope"}, respErr(errNoSuchMaster)},
		{[]string{"SENTINEL", "slaves", "nope"}, respErr(errNoSuchMaster)},
		{[]string{"SENTINEL", "sentinels", "nope"}, respErr(errNoSuchMaster)},
		{[]string{"SENTINEL", "replicas", "mymaster-1"}, []any{}},
		{[]string{"SENTINEL"}, respErr("ERR wrong number of arguments for 'sentinel' command")},
		{[]string{"SENTINEL", "bogus"}, respErr("ERR unknown subcommand 'bogus'. Try SENTINEL HELP.")},
		{[]string{"SENTINEL", "masters", "x"}, respErr("ERR wrong number of arguments for 'sentinel|masters' command")},
		{[]string{"SENTINEL", "get-master-addr-by-name"}, respErr("ERR wrong number of arguments for 'sentinel|get-master-addr-by-name' command")},
		{[]string{"SENTINEL", "Master", "a", "b"}, respErr("ERR wrong number of arguments for 'sentinel|master' command")},
		{[]string{"SENTINEL", "monitor", "m", "127.0.0.1", "6379", "2"}, respErr("ERR SENTINEL MONITOR is not supported: warden's masters and settings come from its replicated control plane")},
		{[]string{"ROLE"}, []any{"sentinel", []any{"mymaster", "mymaster-1", "mymaster-2"}}},
		{[]string{"ROLE", "x"}, respErr("ERR wrong number of arguments for 'role' command")},
		{[]string{"INFO", "bogus"}, ""},
		{[]string{"HELLO", "3"}, respErr("NOPROTO unsupported protocol version")},
		{[]string{"HELLO", "x"}, respErr("ERR Protocol version is not an integer or out of range")},
		{[]string{"HELLO", "2", "bogus"}, respErr("ERR Syntax error in HELLO option 'bogus'")},
		{[]string{"HELLO", "2", "AUTH", "bob", "pw"}, respErr("WRONGPASS invalid username-password pair or user is disabled.")},
		{[]string{"AUTH", "pw"}, respErr("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")},
		{[]string{"AUTH", "default", "anything"}, ok},
		{[]string{"CLIENT", "GETNAME"}, nullBulk{}},
		{[]string{"CLIENT", "SETNAME", "sentinel-watcher"}, ok},
		{[]string{"CLIENT", "GETNAME"}, "sentinel-watcher"},
		{[]string{"CLIENT", "SETNAME", "a b"}, respErr("ERR Client names cannot contain spaces, newlines or special characters.")},
		{[]string{"CLIENT", "SETINFO", "LIB-NAME", "go-redis(,go1.26)"}, ok},
		{[]string{"CLIENT", "SETINFO", "lib-ver", "9.23.0"}, ok},
		{[]string{"CLIENT", "SETINFO", "color", "blue"}, respErr("ERR Unrecognized option 'color'")},
		{[]string{"CLIENT", "bogus"}, respErr("ERR unknown subcommand 'bogus'. Try CLIENT HELP.")},
		{[]string{"CLIENT", "SETNAME"}, respErr("ERR wrong number of arguments for 'client|setname' command")},
		{[]string{"COMMAND", "COUNT"}, int64(len(commands))},
		{[]string{"COMMAND", "bogus"}, respErr("ERR unknown subcommand 'bogus'. Try COMMAND HELP.")},
		{[]string{"COMMAND", "DOCS"}, []any{}},
		{[]string{"GET", "x"}, respErr("ERR unknown command 'GET', with args beginning with: 'x' ")},
		{[]string{"foo"}, respErr("ERR unknown command 'foo', with args beginning with: ")},
		{[]string{"UNSUBSCRIBE"}, []any{"unsubscribe", nullBulk{}, int64(0)}},
		{[]string{"PUNSUBSCRIBE", "x"}, []any{"punsubscribe", "x", int64(0)}},
		{[]string{"SUBSCRIBE"}, respErr("ERR wrong number of arguments for 'subscribe' command")},
		{[]string{"RESET"}, status("RESET")},
		{[]string{"CLIENT", "GETNAME"}, nullBulk{}}, // RESET cleared it
	}
	for _, tc := range tests {
		if got := c.do(tc.args...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %#v, want %#v", tc.args, got, tc.want)
		}
	}
	if want := []string{"mymaster"}; !reflect.DeepEqual(v.failovers, want) {
		t.Errorf("View.Failover calls = %q, want %q", v.failovers, want)
	}
}

func TestSentinelInstanceFields(t *testing.T) {
	v := sampleView()
	s, _ := startServer(t, v)
	c := dialRaw(t, s.Addr().String())

	// Field names and order as Redis 7.0.15's Sentinel lists them.
	masterNames := []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds", "info-refresh",
		"role-reported", "role-reported-time", "config-epoch", "num-slaves", "num-other-sentinels", "quorum",
		"failover-timeout", "parallel-syncs"}
	replicaNames := []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds", "info-refresh",
		"role-reported", "role-reported-time", "master-link-down-time", "master-link-status", "master-host",
		"master-port", "slave-priority", "slave-repl-offset", "replica-announced"}
	sentinelNames := []string{"name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
		"last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds", "last-hello-message",
		"voted-leader", "voted-leader-epoch"}

	m := c.do("SENTINEL", "master", "mymaster")
	if got := fieldNames(t, m); !reflect.DeepEqual(got, masterNames) {
		t.Errorf("SENTINEL MASTER fields = %q\nwant %q", got, masterNames)
	}
	checkFields(t, "master mymaster", fieldMap(t, m), map[string]string{
		"name": "mymaster", "ip": "127.0.0.1", "port": "6379", "runid": "run-n1", "flags": "master",
		"config-epoch": "7", "num-slaves": "2", "num-other-sentinels": "2", "quorum": "2",
		"down-after-milliseconds": "1000", "role-reported": "master",
	})
	down := fieldMap(t, c.do("SENTINEL", "master", "mymaster-1"))
	checkFields(t, "master mymaster-1", down, map[string]string{
		"flags": "s_down,o_down,master,disconnected,failover_in_progress", "failover-state": "wait_promotion",
		"num-slaves": "0", "config-epoch": "3",
	})
	checkFields(t, "master mymaster-2", fieldMap(t, c.do("SENTINEL", "master", "mymaster-2")), map[string]string{
		"flags": "s_down,o_down,master,disconnected", "ip": "", "port": "0",
	})

	ms, _ := c.do("SENTINEL", "masters").([]any)
	if len(ms) != 3 {
		t.Fatalf("SENTINEL MASTERS has %d entries, want 3", len(ms))
	}
	for i, name := range []string{"mymaster", "mymaster-1", "mymaster-2"} {
		if got := fieldMap(t, ms[i])["name"]; got != name {
			t.Errorf("SENTINEL MASTERS[%d] name = %q, want %q", i, got, name)
		}
	}

	for _, sub := range []string{"replicas", "slaves"} {
		rs, _ := c.do("SENTINEL", sub, "mymaster").([]any)
		if len(rs) != 2 {
			t.Fatalf("SENTINEL %s has %d entries, want 2", sub, len(rs))
		}
		if got := fieldNames(t, rs[0]); !reflect.DeepEqual(got, replicaNames) {
			t.Errorf("SENTINEL %s fields = %q\nwant %q", sub, got, replicaNames)
		}
		checkFields(t, sub+"[0]", fieldMap(t, rs[0]), map[string]string{
			"name": "127.0.0.1:6380", "ip": "127.0.0.1", "port": "6380", "runid": "run-n2", "flags": "slave",
			"master-link-status": "ok", "master-host": "127.0.0.1", "master-port": "6379",
			"slave-priority": "100", "slave-repl-offset": "1234", "role-reported": "slave",
		})
		checkFields(t, sub+"[1]", fieldMap(t, rs[1]), map[string]string{
			"name": "127.0.0.1:6381", "flags": "s_down,slave,disconnected", "master-link-status": "err",
			"slave-priority": "0", "slave-repl-offset": "1000",
		})
	}

	ss, _ := c.do("SENTINEL", "sentinels", "mymaster").([]any)
	if len(ss) != 2 {
		t.Fatalf("SENTINEL SENTINELS has %d entries, want 2", len(ss))
	}
	if got := fieldNames(t, ss[0]); !reflect.DeepEqual(got, sentinelNames) {
		t.Errorf("SENTINEL SENTINELS fields = %q\nwant %q", got, sentinelNames)
	}
	checkFields(t, "sentinels[0]", fieldMap(t, ss[0]), map[string]string{
		"name": "n2", "ip": "127.0.0.1", "port": "26380", "runid": "run-n2", "flags": "sentinel",
	})
	checkFields(t, "sentinels[1]", fieldMap(t, ss[1]), map[string]string{
		"name": "n3", "runid": "n3", "flags": "s_down,sentinel,disconnected",
	})
}

func checkFields(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: %s = %q (present %v), want %q", what, k, g, ok, w)
		}
	}
}

func TestInfoHelloCommand(t *testing.T) {
	v := sampleView()
	s, _ := startServer(t, v)
	c := dialRaw(t, s.Addr().String())

	info, _ := c.do("INFO", "sentinel").(string)
	want := "# Sentinel\r\nsentinel_masters:3\r\nsentinel_tilt:0\r\nsentinel_tilt_since_seconds:-1\r\n" +
		"sentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:0\r\n" +
		"master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=2,sentinels=3\r\n" +
		"master1:name=mymaster-1,status=odown,address=10.0.0.2:7000,slaves=0,sentinels=3\r\n" +
		"master2:name=mymaster-2,status=odown,address=:0,slaves=0,sentinels=3\r\n"
	if info != want {
		t.Errorf("INFO sentinel =\n%q\nwant\n%q", info, want)
	}
	for _, args := range [][]string{{"INFO"}, {"INFO", "all"}, {"info", "SERVER", "Sentinel"}} {
		all, _ := c.do(args...).(string)
		for _, w := range []string{"# Server\r\n", "redis_version:7.0.15\r\n", "redis_mode:sentinel\r\n",
			"tcp_port:" + portOf(t, s) + "\r\n", "warden_node_id:n1\r\n", "\r\n\r\n# Sentinel\r\n", "master0:name=mymaster,"} {
			if !strings.Contains(all, w) {
				t.Errorf("%q lacks %q:\n%s", args, w, all)
			}
		}
	}
	if server, _ := c.do("INFO", "server").(string); strings.Contains(server, "# Sentinel") || !strings.HasPrefix(server, "# Server\r\n") {
		t.Errorf("INFO server =\n%s", server)
	}

	hello := c.do("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "hello-client")
	h, ok := hello.([]any)
	if !ok || len(h) != 12 {
		t.Fatalf("HELLO 2 = %#v", hello)
	}
	wantHello := []any{"server", "redis", "version", "7.0.15", "proto", int64(2), "id", h[7], "mode", "sentinel", "modules", []any{}}
	if !reflect.DeepEqual(h, wantHello) {
		t.Errorf("HELLO 2 = %#v, want %#v", h, wantHello)
	}
	if got := c.do("CLIENT", "GETNAME"); got != "hello-client" {
		t.Errorf("CLIENT GETNAME after HELLO SETNAME = %#v", got)
	}
	if got := c.do("CLIENT", "ID"); got != h[7] {
		t.Errorf("CLIENT ID = %#v, HELLO id = %#v", got, h[7])
	}
	if got := c.do("HELLO"); !reflect.DeepEqual(got, hello) {
		t.Errorf("HELLO = %#v, want %#v", got, hello)
	}

	cmds, _ := c.do("COMMAND").([]any)
	if len(cmds) != len(commands) {
		t.Fatalf("COMMAND lists %d commands, want %d", len(cmds), len(commands))
	}
	infos, _ := c.do("COMMAND", "INFO", "sentinel", "get").([]any)
	if len(infos) != 2 || infos[1] != (nullBulk{}) {
		t.Fatalf("COMMAND INFO sentinel get = %#v", infos)
	}
	si, _ := infos[0].([]any)
	if len(si) != 10 || si[0] != "sentinel" || si[1] != int64(-2) {
		t.Errorf("COMMAND INFO sentinel = %#v", infos[0])
	}
	list, _ := c.do("COMMAND", "LIST").([]any)
	if len(list) != len(commands) {
		t.Errorf("COMMAND LIST = %#v", list)
	}
	help, _ := c.do("SENTINEL", "HELP").([]any)
	if len(help) < 10 || !strings.HasPrefix(string(help[0].(status)), "SENTINEL <subcommand>") {
		t.Errorf("SENTINEL HELP = %#v", help)
	}
}

func portOf(t *testing.T, s *Server) string {
	t.Helper()
	a := s.Addr().String()
	return a[strings.LastIndexByte(a, ':')+1:]
}

// TestViewErrors: the View's error text is the reply error; text without an
// error code gets "ERR ".
func TestViewErrors(t *testing.T) {
	v := sampleView()
	s, _ := startServer(t, v)
	c := dialRaw(t, s.Addr().String())
	for _, tc := range []struct {
		err  string
		want respErr
	}{
		{"NOGOODSLAVE No suitable replica to promote", "NOGOODSLAVE No suitable replica to promote"},
		{"INPROG Failover already in progress", "INPROG Failover already in progress"},
		{"raft: not the leader\nand more", "ERR raft: not the leader and more"},
		{"Failed", "ERR Failed"},
	} {
		v.mu.Lock()
		v.failoverErr, v.ckquorumErr = errorString(tc.err), errorString(tc.err)
		v.mu.Unlock()
		if got := c.do("SENTINEL", "FAILOVER", "mymaster"); got != tc.want {
			t.Errorf("FAILOVER with error %q = %#v, want %#v", tc.err, got, tc.want)
		}
		if got := c.do("SENTINEL", "CKQUORUM", "mymaster"); got != tc.want {
			t.Errorf("CKQUORUM with error %q = %#v, want %#v", tc.err, got, tc.want)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
