package control_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/internal/testhost"
	"github.com/wardenkv/warden/node/control"
)

// freePorts returns n TCP ports on host that were free a moment ago.
func freePorts(t *testing.T, host string, n int) []int {
	t.Helper()
	var out []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// proc is a warden process started by a test.
type proc struct {
	cmd  *exec.Cmd
	out  *testhost.LogBuffer
	done chan struct{}
}

// startWarden runs argv (a command line, the binary or a wrapper first)
// and kills it at cleanup.
func startWarden(t *testing.T, argv ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(argv[0], argv[1:]...), out: &testhost.LogBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitExit waits for the process to exit and returns its exit code.
func (p *proc) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("still running after 30s; output:\n%s", p.out)
		return 0
	}
}

// waitReady polls GET base/readyz until 200.
func (p *proc) waitReady(t *testing.T, base string) {
	t.Helper()
	clustertest.WaitFor(t, 30*time.Second, base+"/readyz to answer 200", func() bool {
		if p.exited() {
			t.Fatalf("exited: %v\n%s", p.cmd.ProcessState, p.out)
		}
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// singleNode is the command line of a one-voter cluster on host with its
// ports, plus extra flags.
func singleNode(t *testing.T, bin, host string, extra ...string) ([]string, string) {
	ports := freePorts(t, host, 5)
	hp := func(i int) string { return net.JoinHostPort(host, strconv.Itoa(ports[i])) }
	args := []string{bin, "server", "--port", strconv.Itoa(ports[0]), "--bind", host, "--dir", t.TempDir(), "--save", "",
		"--node-id", "n1", "--raft-addr", hp(1), "--gossip-addr", hp(2), "--http-addr", hp(3),
		"--sentinel-port", strconv.Itoa(ports[4]), "--peers", "n1=" + hp(1)}
	return append(args, extra...), "http://" + hp(3)
}

// A node whose listeners are not all on loopback refuses to start without a
// cluster secret, naming the listener, unless told --insecure-cluster yes,
// which it then repeats in its log; with a secret it starts quietly.
func TestExposedNodeNeedsSecret(t *testing.T) {
	bin := clustertest.Binary(t)
	ip := testhost.HostIP(t, "exposure checks")

	argv, _ := singleNode(t, bin, ip)
	p := startWarden(t, argv...)
	if code := p.waitExit(t); code != 1 || !strings.Contains(p.out.String(), "cluster-secret is required") ||
		!strings.Contains(p.out.String(), "data (port) listens on "+ip) {
		t.Fatalf("bind %s without a secret: exit %d, output %q; want exit 1 naming cluster-secret and the data port", ip, code, p.out)
	}

	// Only the HTTP API beyond loopback is enough.
	lp := freePorts(t, "0.0.0.0", 1)[0]
	argv, _ = singleNode(t, bin, "127.0.0.1", "--http-addr", fmt.Sprintf("0.0.0.0:%d", lp))
	p = startWarden(t, argv...)
	if code := p.waitExit(t); code != 1 || !strings.Contains(p.out.String(), fmt.Sprintf("http-addr listens on 0.0.0.0:%d", lp)) {
		t.Fatalf("http-addr 0.0.0.0 without a secret: exit %d, output %q; want exit 1 naming http-addr", code, p.out)
	}

	argv, base := singleNode(t, bin, ip, "--insecure-cluster", "yes")
	p = startWarden(t, argv...)
	p.waitReady(t, base)
	clustertest.WaitFor(t, 30*time.Second, "the insecure-cluster warning", func() bool {
		return strings.Contains(p.out.String(), "running without cluster-secret on a non-loopback address")
	})

	argv, base = singleNode(t, bin, ip, "--cluster-secret", "s3cret")
	p = startWarden(t, argv...)
	p.waitReady(t, base)
	if strings.Contains(p.out.String(), "running without cluster-secret") {
		t.Fatalf("a node with a secret warns about running without one:\n%s", p.out)
	}
	// A loopback-only node needs no secret (every other cluster test).
}

// listeners returns the local addresses pid listens on, read from its
// network namespace's /proc tables (TCP in LISTEN state, bound UDP).
func listeners(pid int) ([]string, error) {
	var out []string
	for _, f := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "net", f))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 4 || (strings.HasPrefix(f, "tcp") && fs[3] != "0A") {
				continue
			}
			host, port, _ := strings.Cut(fs[1], ":")
			raw, _ := hex.DecodeString(host)
			// /proc prints the address as 32-bit words in host (little-
			// endian) order.
			for i := 0; i+4 <= len(raw); i += 4 {
				raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
			}
			pn, _ := strconv.ParseUint(port, 16, 16)
			out = append(out, f+" "+net.JoinHostPort(net.IP(raw).String(), strconv.FormatUint(pn, 10)))
		}
	}
	return out, nil
}

// Started with only --raft-addr on loopback (bind's default 127.0.0.1,
// gossip-addr, http-addr and sentinel-port left to their defaults), no
// listener of the node is reachable from another host. The node runs in a
// network namespace of its own, where the default ports are free.
func TestControlPlaneListensWhereBindDoes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace (unshare --net)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) not installed")
	}
	bin := clustertest.Binary(t)
	p := startWarden(t, "unshare", "--net", "sh", "-c", `ip link set lo up && exec "$0" "$@"`,
		bin, "server", "--dir", t.TempDir(), "--save", "", "--node-id", "n1",
		"--raft-addr", "127.0.0.1:7000", "--peers", "n1=127.0.0.1:7000")
	var ls []string
	clustertest.WaitFor(t, 30*time.Second, "the data, raft, gossip, http and sentinel listeners", func() bool {
		if p.exited() {
			t.Fatalf("exited: %v\n%s", p.cmd.ProcessState, p.out)
		}
		var err error
		if ls, err = listeners(p.cmd.Process.Pid); err != nil {
			return false
		}
		all := strings.Join(ls, " ")
		for _, port := range []string{":6379", ":7000", ":7946", ":8080", ":26379"} {
			if !strings.Contains(all, port+" ") && !strings.HasSuffix(all, port) {
				return false
			}
		}
		return true
	})
	for _, l := range ls {
		_, addr, _ := strings.Cut(l, " ")
		host, _, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("listens on %s, not loopback (all: %q)", l, ls)
		}
	}
}

// redisCLI runs redis-cli and returns its trimmed output.
func redisCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := exec.Command("redis-cli", args...).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// rawReply sends one command on a fresh connection and returns the first
// reply line.
func rawReply(t *testing.T, addr string, args ...string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	io.WriteString(nc, b.String())
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return strings.TrimRight(line, "\r\n")
}

// In a cluster with a secret, every way to change it needs the secret or a
// password: POST /failover without the bearer is 401, SENTINEL FAILOVER
// and CLUSTER FAILOVER on ports without a password are refused, REPLICAOF
// is not allowed, and replication takes only the credential derived from
// the secret (a real redis-server replica gets in with it, not without).
// What operators scrape stays readable.
func TestSecretGuardsClusterChanges(t *testing.T) {
	const secret = "s3cret"
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Secret: secret})
	ctx := context.Background()
	m := c.Master(t, 0)
	epoch := statusOf(t, m).Epoch
	var replica *clustertest.Node
	for _, n := range c.Nodes {
		if n != m {
			replica = n
		}
	}

	for _, path := range []string{"/status", "/metrics", "/healthz", "/readyz", "/leader"} {
		resp, err := http.Get(replica.HTTP() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s without the secret: %s, want 200 (read-only, left open)", path, resp.Status)
		}
	}
	resp, err := http.Post(replica.HTTP()+"/failover?shard=0&force=1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /failover without the secret: %s, want 401", resp.Status)
	}

	if out := redisCLI(t, "-p", strconv.Itoa(replica.SentinelPort), "SENTINEL", "FAILOVER", "mymaster"); !strings.HasPrefix(out, "NOPERM SENTINEL FAILOVER is refused") ||
		!strings.Contains(out, "sentinel-requirepass") {
		t.Errorf("SENTINEL FAILOVER without a sentinel password: %q, want NOPERM naming sentinel-requirepass", out)
	}
	if out := redisCLI(t, "-p", strconv.Itoa(replica.SentinelPort), "SENTINEL", "get-master-addr-by-name", "mymaster"); !strings.Contains(out, strconv.Itoa(m.Port)) {
		t.Errorf("SENTINEL get-master-addr-by-name: %q, want the master's port %d", out, m.Port)
	}
	if err := replica.Client().Do(ctx, "CLUSTER", "FAILOVER").Err(); err == nil || !strings.Contains(err.Error(), "CLUSTER FAILOVER is refused") {
		t.Errorf("CLUSTER FAILOVER without requirepass: %v, want a refusal", err)
	}
	for _, n := range []*clustertest.Node{m, replica} {
		if err := n.Client().Do(ctx, "REPLICAOF", "127.0.0.1", "1").Err(); err == nil || err.Error() != "ERR REPLICAOF not allowed in cluster mode." {
			t.Errorf("REPLICAOF on %s: %v, want Redis's cluster-mode refusal", n.ID, err)
		}
	}
	for _, args := range [][]string{{"PSYNC", "?", "-1"}, {"SYNC"}, {"REPLCONF", "listening-port", "1"}} {
		want := fmt.Sprintf("-NOPERM this user has no permissions to run the '%s' command", strings.ToLower(args[0]))
		if got := rawReply(t, m.Addr(), args...); got != want {
			t.Errorf("%q on the master without the credential: %q, want %q", args, got, want)
		}
	}
	if st := statusOf(t, m); st.Epoch != epoch || st.Shards[0].Master != m.ID {
		t.Fatalf("the cluster changed: epoch %d -> %d, master %s -> %s", epoch, st.Epoch, m.ID, st.Shards[0].Master)
	}

	// The cluster's own replicas authenticate and replicate.
	if err := m.Client().Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Client().Do(ctx, "WAIT", 2, 10000).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2: %d %v, want both replicas", n, err)
	}

	// A real redis-server replica: refused without the credential, in
	// with it (masteruser/masterauth as any Redis replica sets them).
	host, port, _ := net.SplitHostPort(m.Addr())
	rogue := redistest.Start(t, "", "--replicaof", host, port)
	rc := rogue.Client(t, 0)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if v, _ := rc.Get(ctx, "k").Result(); v == "v" {
			t.Fatal("a redis-server replica without the credential got the data")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(rogue.Log(), "NOPERM") {
		t.Errorf("the refused replica's log does not show NOPERM:\n%s", rogue.Log())
	}
	if err := rc.ConfigSet(ctx, "masteruser", control.ReplicationUser).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.ConfigSet(ctx, "masterauth", control.ReplicationPassword(secret)).Err(); err != nil {
		t.Fatal(err)
	}
	c.WaitFor(t, 20*time.Second, "redis-server with the replication credential to replicate", func() bool {
		v, _ := rc.Get(ctx, "k").Result()
		return v == "v"
	})

	// With the secret, POST /failover works.
	fctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if code, body, err := replica.Post(fctx, "/failover?shard=0"); err != nil || code != 200 {
		t.Fatalf("POST /failover with the secret: %d %q %v", code, body, err)
	}
	c.WaitFor(t, 15*time.Second, "a new master", func() bool {
		st, err := m.Status(ctx)
		return err == nil && st.Shards[0].Master != m.ID && st.Epoch > epoch
	})
}

// With a secret and requirepass, the Sentinel listener takes the node's
// password (SENTINEL FAILOVER works after AUTH, go-redis's FailoverClient
// with SentinelPassword works), CLUSTER FAILOVER works for an
// authenticated client, replicas need no masterauth (they use the
// secret's credential), and sentinel-requirepass overrides the password at
// run time.
func TestSecretAndPasswords(t *testing.T) {
	const pw = "client-pw"
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Secret: "s3cret", Password: pw})
	ctx := context.Background()
	m := c.Master(t, 0)
	if err := m.Client().Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Client().Do(ctx, "WAIT", 2, 10000).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 with requirepass and no masterauth: %d %v", n, err)
	}
	s := c.Nodes[0]
	sp := strconv.Itoa(s.SentinelPort)
	if out := redisCLI(t, "-p", sp, "SENTINEL", "FAILOVER", "mymaster"); out != "NOAUTH Authentication required." {
		t.Fatalf("SENTINEL FAILOVER before AUTH: %q", out)
	}
	if out := redisCLI(t, "-p", sp, "--no-auth-warning", "-a", "wrong", "SENTINEL", "masters"); !strings.Contains(out, "WRONGPASS") && !strings.Contains(out, "NOAUTH") {
		t.Fatalf("SENTINEL MASTERS with a wrong password: %q", out)
	}
	if st := statusOf(t, m); st.Shards[0].Master != m.ID {
		t.Fatalf("an unauthenticated SENTINEL FAILOVER moved the master to %s", st.Shards[0].Master)
	}
	epoch := statusOf(t, m).Epoch
	if out := redisCLI(t, "-p", sp, "--no-auth-warning", "-a", pw, "SENTINEL", "FAILOVER", "mymaster"); out != "OK" {
		t.Fatalf("SENTINEL FAILOVER after AUTH: %q", out)
	}
	c.WaitFor(t, 15*time.Second, "SENTINEL FAILOVER to switch the master", func() bool {
		st, err := m.Status(ctx)
		return err == nil && st.Shards[0].Master != m.ID && st.Epoch > epoch
	})
	nm := c.Master(t, 0)

	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.SentinelAddr())
	}
	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: addrs,
		SentinelPassword: pw, Password: pw, MaxRetries: -1, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { fc.Close() })
	if err := fc.Set(ctx, "fc", "1", 0).Err(); err != nil {
		t.Fatalf("FailoverClient with SentinelPassword: %v", err)
	}
	if v, err := nm.Client().Get(ctx, "fc").Result(); err != nil || v != "1" {
		t.Fatalf("the FailoverClient's write is not on the master %s: %q %v", nm.ID, v, err)
	}
	nofc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: addrs,
		Password: pw, MaxRetries: -1, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { nofc.Close() })
	if err := nofc.Set(ctx, "fc", "2", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("FailoverClient without SentinelPassword: %v, want NOAUTH", err)
	}

	// CLUSTER FAILOVER from an authenticated client of a replica.
	var replica *clustertest.Node
	for _, n := range c.Nodes {
		if n != nm {
			replica = n
		}
	}
	epoch = statusOf(t, nm).Epoch
	fctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if err := replica.Client().Do(fctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER with requirepass: %v", err)
	}
	c.WaitFor(t, 15*time.Second, "CLUSTER FAILOVER to make "+replica.ID+" master", func() bool {
		st, err := nm.Status(ctx)
		return err == nil && st.Shards[0].Master == replica.ID && st.Epoch > epoch
	})

	// sentinel-requirepass, set at run time, replaces requirepass there.
	if err := s.Client().ConfigSet(ctx, "sentinel-requirepass", "sentinel-pw").Err(); err != nil {
		t.Fatal(err)
	}
	if out := redisCLI(t, "-p", sp, "--no-auth-warning", "-a", pw, "SENTINEL", "get-master-addr-by-name", "mymaster"); !strings.Contains(out, "WRONGPASS") {
		t.Errorf("the node's requirepass after sentinel-requirepass was set: %q, want WRONGPASS", out)
	}
	if out := redisCLI(t, "-p", sp, "--no-auth-warning", "-a", "sentinel-pw", "SENTINEL", "get-master-addr-by-name", "mymaster"); !strings.Contains(out, strconv.Itoa(replica.Port)) {
		t.Errorf("sentinel-requirepass: %q, want the master's port %d", out, replica.Port)
	}
}
