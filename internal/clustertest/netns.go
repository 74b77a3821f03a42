package clustertest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// network is a private L2 segment for one cluster. The bridge lives in a
// "hub" namespace of its own, not in the root one: the root namespace's
// firewall (docker sets the FORWARD policy to DROP, and br_netfilter sends
// bridged frames through it) never sees node-to-node traffic, and deleting
// the hub namespace removes the bridge and every veth with it.
//
//	root: wt<tag> 10.a.b.1 ──veth── hub: up0 ─┐
//	                                          br0 ── vK ──veth── nK: eth0 10.a.b.K
//
// Names carry the test binary's pid, so a later run can remove what a
// killed one left behind.
type network struct {
	tag    string // random, makes the root interface name unique
	prefix string // "10.a.b."
	hub    string // namespace holding the bridge
	rootIf string // veth end in the root namespace

	mu   sync.Mutex
	next int      // host number of the next node
	nss  []string // node namespaces, for cleanup
}

// newNetwork makes the hub namespace, its bridge and the root namespace's
// link to it, or skips the test with the reason.
func newNetwork(t testing.TB) *network {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("clustertest: network namespaces need root (euid %d)", os.Geteuid())
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("clustertest: network namespaces need %s: %v", tool, err)
		}
	}
	sweepNamespaces()
	prefix, err := freeSubnet()
	if err != nil {
		t.Skipf("clustertest: %v", err)
	}
	tag := fmt.Sprintf("%06x", rand.IntN(1<<24))
	nw := &network{tag: tag, prefix: prefix, next: 2, rootIf: "wt" + tag,
		hub: fmt.Sprintf("wt%d-%s-hub", os.Getpid(), tag)}
	t.Cleanup(nw.close)
	err = runAll(
		[]string{"ip", "netns", "add", nw.hub},
		[]string{"ip", "-n", nw.hub, "link", "set", "lo", "up"},
		[]string{"ip", "-n", nw.hub, "link", "add", "br0", "type", "bridge"},
		[]string{"ip", "-n", nw.hub, "link", "set", "br0", "up"},
		[]string{"ip", "link", "add", nw.rootIf, "type", "veth", "peer", "name", "up0", "netns", nw.hub},
		[]string{"ip", "-n", nw.hub, "link", "set", "up0", "master", "br0", "up"},
		[]string{"ip", "addr", "add", nw.gateway() + "/24", "dev", nw.rootIf},
		[]string{"ip", "link", "set", nw.rootIf, "up"},
		// Partition needs iptables inside a namespace; find out now.
		[]string{"ip", "netns", "exec", nw.hub, "iptables", "-w", "-S"},
	)
	if err != nil {
		t.Skipf("clustertest: cannot set up network namespaces: %v", err)
	}
	return nw
}

// gateway is the root namespace's address on the segment: where the test's
// clients come from.
func (nw *network) gateway() string { return nw.prefix + "1" }

// addNode makes a namespace for node id plugged into the bridge and
// returns its name and the node's address.
func (nw *network) addNode(t testing.TB, id string) (ns, ip string) {
	t.Helper()
	nw.mu.Lock()
	k := nw.next
	nw.next++
	ns = fmt.Sprintf("wt%d-%s-%s", os.Getpid(), nw.tag, id)
	nw.nss = append(nw.nss, ns)
	nw.mu.Unlock()
	if k > 254 {
		t.Fatalf("clustertest: more than 253 nodes on one network")
	}
	ip = nw.prefix + strconv.Itoa(k)
	hostIf := "v" + strconv.Itoa(k)
	err := runAll(
		[]string{"ip", "netns", "add", ns},
		[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
		[]string{"ip", "-n", nw.hub, "link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", ns},
		[]string{"ip", "-n", nw.hub, "link", "set", hostIf, "master", "br0", "up"},
		[]string{"ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0"},
		[]string{"ip", "-n", ns, "link", "set", "eth0", "up"},
	)
	if err != nil {
		t.Fatalf("clustertest: namespace for %s: %v", id, err)
	}
	return ns, ip
}

// partition sets (on) or clears the firewall in ns that drops traffic to
// and from the rest of the segment, except the gateway (the test's
// clients) and the node's own loopback traffic. The namespace has no other
// rules, so clearing is a flush.
func (nw *network) partition(ns string, on bool) error {
	ipt := func(args ...string) []string {
		return append([]string{"ip", "netns", "exec", ns, "iptables", "-w"}, args...)
	}
	cmds := [][]string{ipt("-F", "INPUT"), ipt("-F", "OUTPUT")}
	if on {
		subnet := nw.prefix + "0/24"
		cmds = append(cmds,
			ipt("-A", "INPUT", "-i", "lo", "-j", "ACCEPT"),
			ipt("-A", "INPUT", "-s", nw.gateway(), "-j", "ACCEPT"),
			ipt("-A", "INPUT", "-s", subnet, "-j", "DROP"),
			ipt("-A", "OUTPUT", "-o", "lo", "-j", "ACCEPT"),
			ipt("-A", "OUTPUT", "-d", nw.gateway(), "-j", "ACCEPT"),
			ipt("-A", "OUTPUT", "-d", subnet, "-j", "DROP"),
		)
	}
	return runAll(cmds...)
}

// NetnsExec runs argv inside n's network namespace (iptables, tc) and
// returns its combined output. Rules it adds are not tracked: Heal flushes
// the INPUT and OUTPUT chains, and a tc qdisc must be removed by the caller.
// Needs Netns.
func (n *Node) NetnsExec(argv ...string) (string, error) {
	pre, err := n.nsPrefix()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(pre[0], append(pre[1:], argv...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// nsPrefix is the command that runs what follows in n's network
// namespace: ip netns exec, or nsenter into its container's.
func (n *Node) nsPrefix() ([]string, error) {
	if n.c.docker != nil {
		n.mu.Lock()
		pid := n.pid
		n.mu.Unlock()
		if pid <= 0 {
			return nil, fmt.Errorf("clustertest: %s's container has not started", n.ID)
		}
		return []string{"nsenter", "-t", strconv.Itoa(pid), "-n"}, nil
	}
	if n.ns == "" {
		return nil, fmt.Errorf("clustertest: %s has no network namespace (Options.Netns)", n.ID)
	}
	return []string{"ip", "netns", "exec", n.ns}, nil
}

// MarkPartitioned records that the caller cut n off by its own rules
// (NetnsExec), so the harness's discovery skips it until Heal.
func (n *Node) MarkPartitioned() {
	n.mu.Lock()
	n.partitioned = true
	n.mu.Unlock()
}

// cutArgs is the iptables command that drops chain's ("INPUT" or
// "OUTPUT") traffic from or to ip. Rules add up; partition(ns, false)
// clears them all.
func cutArgs(chain, ip string) []string {
	match := "-s"
	if chain == "OUTPUT" {
		match = "-d"
	}
	return []string{"iptables", "-w", "-A", chain, match, ip, "-j", "DROP"}
}

// armed is a command started ahead of time, held until fire: entering the
// namespace and starting a shell take tens of milliseconds on a busy
// machine, which would blur a schedule of rules put in 20 ms apart.
type armed struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   bytes.Buffer
	argv  []string
}

// arm starts argv in a namespace (pre: nsPrefix), held until fire.
func arm(pre []string, argv []string) (*armed, error) {
	a := &armed{argv: argv}
	// The shell, already in the namespace, waits for a line on stdin,
	// then becomes the command.
	full := append(append(append([]string{}, pre...), "sh", "-c", `read _ && exec "$@"`, "sh"), argv...)
	a.cmd = exec.Command(full[0], full[1:]...)
	a.cmd.Stdout, a.cmd.Stderr = &a.out, &a.out
	w, err := a.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	a.stdin = w
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return a, nil
}

// fire runs the armed command and waits for it.
func (a *armed) fire() error {
	io.WriteString(a.stdin, "go\n")
	a.stdin.Close()
	if err := a.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(a.argv, " "), err, bytes.TrimSpace(a.out.Bytes()))
	}
	return nil
}

// abort ends an armed command that will not be fired.
func (a *armed) abort() {
	a.cmd.Process.Kill()
	a.stdin.Close()
	a.cmd.Wait()
}

// close deletes the namespaces (the veths and the bridge go with them).
// The cluster has killed its processes by now.
func (nw *network) close() {
	nw.mu.Lock()
	nss := append([]string{}, nw.nss...)
	nw.mu.Unlock()
	for _, ns := range nss {
		run("ip", "netns", "del", ns)
	}
	run("ip", "netns", "del", nw.hub)
	run("ip", "link", "del", nw.rootIf) // gone with the hub already, unless that failed
}

// freeSubnet picks a random 10.a.b.0/24 that no local address is in, and
// returns "10.a.b.".
func freeSubnet() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("list addresses: %w", err)
	}
	for range 100 {
		a, b := 64+rand.IntN(128), rand.IntN(256)
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.%d.%d.0/24", a, b))
		taken := false
		for _, ad := range addrs {
			if ipn, ok := ad.(*net.IPNet); ok && (subnet.Contains(ipn.IP) || ipn.Contains(subnet.IP)) {
				taken = true
			}
		}
		if !taken {
			return fmt.Sprintf("10.%d.%d.", a, b), nil
		}
	}
	return "", fmt.Errorf("no free 10.x.y.0/24 subnet")
}

// sweepNamespaces deletes namespaces left by test binaries that died
// without cleanup (go test -timeout); their processes died with them
// (Pdeathsig).
func sweepNamespaces() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), " ")
		if !strings.HasPrefix(name, "wt") {
			continue
		}
		if pid, ok := namePID(strings.TrimPrefix(name, "wt")); ok && !alive(pid) {
			run("ip", "netns", "del", name)
		}
	}
}

func runAll(cmds ...[]string) error {
	for _, c := range cmds {
		if err := run(c...); err != nil {
			return err
		}
	}
	return nil
}

func run(argv ...string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
