package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawPing sends PING on a new connection to addr and returns the reply line
// ("" when the connection closed first).
func rawPing(t *testing.T, addr string) (net.Conn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "PING\r\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	c.SetDeadline(time.Time{})
	return c, strings.TrimSpace(line)
}

// flood opens n connections to addr, each sending PING, and returns the
// ones the server kept (they got PONG) and how many it refused with "max
// number of clients reached".
func flood(t *testing.T, addr string, n int) (held []net.Conn, refused int) {
	t.Helper()
	for i := 0; i < n; i++ {
		c, reply := rawPing(t, addr)
		switch reply {
		case "+PONG":
			held = append(held, c)
		case "-ERR max number of clients reached":
			refused++
			c.Close()
		default:
			t.Fatalf("%s: connection %d got %q", addr, i, reply)
		}
	}
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	return held, refused
}

// cpuTicks is the user+system CPU time of pid in clock ticks.
func cpuTicks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// TestFDLimitMaxClients runs a cluster-mode node (data port, Sentinel
// port, HTTP) under `ulimit -n 256` with a maxclients the limit cannot
// hold. As Redis, it lowers maxclients to what the descriptors allow
// ((256-32)/3 listeners = 74) and says so; every listener then refuses
// clients past it with "max number of clients reached", so flooding one
// port leaves the others answering and the accept loops quiet. Before,
// maxclients stayed as asked, the Sentinel port took connections until
// accept failed with EMFILE, the loop retried at once (hundreds of
// thousands of "accept failed" lines in seconds) and the data port and
// HTTP stopped answering.
func TestFDLimitMaxClients(t *testing.T) {
	nrOpen, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		t.Skipf("no /proc/sys/fs/nr_open (not Linux?): %v", err)
	}
	// More than the kernel allows any process, so raising the limit fails
	// even for root (which may raise the hard limit).
	want := strings.TrimSpace(string(nrOpen))
	dir := t.TempDir()
	logPath := dir + "/warden.log"
	port, raft, gossip, httpPort, sent := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	cmd := exec.Command("sh", "-c", `ulimit -n 256 && exec "$0" "$@"`, wardenBin, "server",
		"--port", port, "--dir", dir, "--save", "", "--logfile", logPath, "--maxclients", want,
		"--node-id", "n1", "--raft-addr", "127.0.0.1:"+raft, "--gossip-addr", "127.0.0.1:"+gossip,
		"--http-addr", "127.0.0.1:"+httpPort, "--sentinel-port", sent, "--peers", "n1=127.0.0.1:"+raft)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", "127.0.0.1:"+sent)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinel port did not open:\n%s", logs())
		}
	}
	if l := logs(); !strings.Contains(l, "maxclients has been reduced to compensate for low ulimit") || !strings.Contains(l, "maxclients=74") {
		t.Fatalf("no reduction logged:\n%s", l)
	}

	sentHeld, sentRefused := flood(t, "127.0.0.1:"+sent, 120)
	if len(sentHeld) != 74 || sentRefused != 46 {
		t.Fatalf("sentinel port: %d kept, %d refused; want 74 and 46", len(sentHeld), sentRefused)
	}
	// The data port still answers, and has its own 74.
	dataHeld, dataRefused := flood(t, "127.0.0.1:"+port, 100)
	if len(dataHeld) != 74 || dataRefused != 26 {
		t.Fatalf("data port: %d kept, %d refused; want 74 and 26", len(dataHeld), dataRefused)
	}
	if _, err := io.WriteString(dataHeld[0], "CONFIG GET maxclients\r\n"); err != nil {
		t.Fatal(err)
	}
	dataHeld[0].SetReadDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(dataHeld[0])
	var got []string
	for len(got) < 5 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("CONFIG GET: %v after %q", err, got)
		}
		got = append(got, strings.TrimSpace(line))
	}
	if got[4] != "74" {
		t.Fatalf("CONFIG GET maxclients = %q", got)
	}
	io.WriteString(dataHeld[0], "CONFIG SET maxclients 1000\r\n")
	if line, _ := r.ReadString('\n'); !strings.Contains(line, "The operating system is not able to handle the specified number of clients, try with 74") {
		t.Fatalf("CONFIG SET maxclients 1000 = %q", line)
	}
	// HTTP has its own share of descriptors.
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get("http://127.0.0.1:" + httpPort + "/healthz")
	if err != nil {
		t.Fatalf("HTTP with both RESP ports full: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
	// Holding every slot costs nothing while idle.
	before := cpuTicks(t, cmd.Process.Pid)
	time.Sleep(3 * time.Second)
	if used := cpuTicks(t, cmd.Process.Pid) - before; used > 100 {
		t.Fatalf("%d CPU ticks in 3 s idle", used)
	}
	l := logs()
	if n := strings.Count(l, "accept failed"); n > 0 {
		t.Fatalf("%d accept failures logged:\n%.2000s", n, l)
	}
	if n := strings.Count(l, "\n"); n > 200 {
		t.Fatalf("%d log lines:\n%.2000s", n, l)
	}
	// A freed slot is usable again.
	dataHeld[1].Close()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, reply := rawPing(t, "127.0.0.1:"+port)
		c.Close()
		if reply == "+PONG" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("data port after a client left: %q", reply)
		}
	}
}
