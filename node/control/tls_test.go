package control_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/clustertest"
)

// A cluster with tls-cluster and tls-replication (and TLS only on the RESP
// ports) forms, replicates and fails over; nothing of it answers a client
// in the clear or one without a certificate the cluster CA signed.
// On loopback, and with each node in its own network namespace (its
// certificate names its own address, which peers verify).
func TestClusterTLS(t *testing.T) {
	t.Run("loopback", func(t *testing.T) { testClusterTLS(t, false) })
	t.Run("netns", func(t *testing.T) { testClusterTLS(t, true) })
}

func testClusterTLS(t *testing.T, netns bool) {
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, TLS: true, Netns: netns})
	m := c.Master(t, 0)
	ctx := context.Background()
	if err := m.Client().Set(ctx, "over", "tls", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if n == m {
			continue
		}
		c.WaitFor(t, 20*time.Second, n.ID+" to replicate over TLS", func() bool {
			v, err := n.Client().Get(ctx, "over").Result()
			return err == nil && v == "tls" && role(n) == "slave"
		})
	}
	// The record holds the TLS ports, and the replicas announce theirs.
	st := statusOf(t, m)
	for _, n := range c.Nodes {
		if mb := st.Member(n.ID); mb == nil || mb.Addr != n.Addr() {
			t.Fatalf("record address of %s: %+v, want its TLS port %s", n.ID, mb, n.Addr())
		}
	}
	info := m.Client().Info(ctx, "replication").Val()
	for _, n := range c.Nodes {
		if n != m && !strings.Contains(info, "port="+strconv.Itoa(n.Port)+",") {
			t.Fatalf("master's INFO replication lacks %s's TLS port %d:\n%s", n.ID, n.Port, info)
		}
	}

	if err := m.Client().ConfigSet(ctx, "tls-replication", "no").Err(); err == nil ||
		!strings.Contains(err.Error(), "tls-replication can't be changed in cluster mode") {
		t.Fatalf("CONFIG SET tls-replication no in cluster mode: %v", err)
	}

	cfg := c.TLSConfig()
	noCert := &tls.Config{RootCAs: cfg.RootCAs}
	for _, n := range c.Nodes {
		host := n.Host
		// RESP: no answer in the clear.
		if plainPong(t, n.Addr()) {
			t.Fatalf("%s answered PING in the clear on its RESP port", n.ID)
		}
		// HTTP: plain HTTP gets no status; HTTPS needs a client certificate.
		httpAddr := net.JoinHostPort(host, strconv.Itoa(n.HTTPPort))
		if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + httpAddr + "/status"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "node_id") {
				t.Fatalf("%s served /status over plain HTTP: %d %s", n.ID, resp.StatusCode, body)
			}
		}
		anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: noCert}}
		if resp, err := anon.Get("https://" + httpAddr + "/status"); err == nil {
			resp.Body.Close()
			t.Fatalf("%s served /status to an HTTPS client without a certificate: %d", n.ID, resp.StatusCode)
		}
		// Raft: speaks TLS, wants a client certificate, drops plain TCP.
		raftAddr := n.RaftAddr()
		if err := tlsRoundTrip(raftAddr, cfg); err != nil {
			t.Fatalf("%s raft port with the cluster's client certificate: %v", n.ID, err)
		}
		if err := tlsRoundTrip(raftAddr, noCert); err == nil {
			t.Fatalf("%s raft port accepted TLS without a client certificate", n.ID)
		}
		if !plainDropped(t, raftAddr, "WRDNRAFT"+strings.Repeat("\x00", 32)) {
			t.Fatalf("%s raft port kept a plain TCP connection open", n.ID)
		}
		// Sentinel: TLS, as the addresses it hands out.
		if plainPong(t, n.SentinelAddr()) {
			t.Fatalf("%s answered PING in the clear on its Sentinel port", n.ID)
		}
		sc := redis.NewSentinelClient(&redis.Options{Addr: n.SentinelAddr(), TLSConfig: cfg, MaxRetries: -1})
		addr, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		sc.Close()
		if err != nil || len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) != m.Addr() {
			t.Fatalf("SENTINEL get-master-addr-by-name over TLS on %s: %v %v, want %s", n.ID, addr, err, m.Addr())
		}
	}

	// go-redis's Sentinel client with one TLS config finds the master.
	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster",
		SentinelAddrs: []string{c.Nodes[0].SentinelAddr()}, TLSConfig: cfg, MaxRetries: -1})
	defer fc.Close()
	if err := fc.Set(ctx, "via", "sentinel", 0).Err(); err != nil {
		t.Fatalf("SET through the Sentinel client over TLS: %v", err)
	}

	// warden status speaks HTTPS with redis-cli's flags.
	ca, cert, key := c.TLSFiles()
	httpAddr := net.JoinHostPort(m.Host, strconv.Itoa(m.HTTPPort))
	out, err := exec.Command(clustertest.Binary(t), "status", "--http", httpAddr, "--cacert", ca, "--cert", cert, "--key", key).CombinedOutput()
	if err != nil || !strings.Contains(string(out), m.ID) {
		t.Fatalf("warden status over TLS: %v\n%s", err, out)
	}
	if out, err := exec.Command(clustertest.Binary(t), "status", "--http", httpAddr, "--cacert", ca).CombinedOutput(); err == nil {
		t.Fatalf("warden status without a client certificate succeeded:\n%s", out)
	}

	// Failover: Raft elects and the replicas follow the new master, all
	// over TLS.
	if err := m.Client().Do(ctx, "WAIT", 2, 10000).Err(); err != nil {
		t.Fatal(err)
	}
	m.Kill()
	m2 := c.Master(t, 0)
	if m2 == m {
		t.Fatalf("%s still master after kill", m.ID)
	}
	if v, err := m2.Client().Get(ctx, "via").Result(); err != nil || v != "sentinel" {
		t.Fatalf("new master %s lost an acknowledged write: %q %v", m2.ID, v, err)
	}
	if err := m2.Client().Set(ctx, "after", "failover", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if n == m || n == m2 {
			continue
		}
		c.WaitFor(t, 20*time.Second, n.ID+" to follow the new master over TLS", func() bool {
			v, err := n.Client().Get(ctx, "after").Result()
			return err == nil && v == "failover"
		})
	}
	// A new node joins over HTTPS (through any node, forwarded to the
	// leader with this node's client certificate) and replicates.
	n4 := c.Add(t, "n4")
	c.WaitFor(t, 20*time.Second, "n4 to join and replicate over TLS", func() bool {
		v, err := n4.Client().Get(ctx, "after").Result()
		return err == nil && v == "failover" && role(n4) == "slave"
	})
	// The harness's POST goes over HTTPS too, signed when the cluster has a
	// secret (the netns one does); an unknown shard changes nothing.
	if code, body, err := n4.Post(ctx, "/failover?shard=99"); err != nil || code != 404 || !strings.Contains(body, "unknown shard") {
		t.Fatalf("POST /failover over HTTPS: %d %q %v, want 404 unknown shard", code, body, err)
	}
}

// plainPong reports whether addr answers an inline PING in plain text.
func plainPong(t *testing.T, addr string) bool {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	conn.Write([]byte("PING\r\n"))
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	return strings.Contains(string(buf[:n]), "PONG")
}

// plainDropped reports whether the server closes a plain TCP connection
// that sent msg (a read error other than our own timeout).
func plainDropped(t *testing.T, addr, msg string) bool {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	conn.Write([]byte(msg))
	_, err = io.ReadAll(conn)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

// tlsRoundTrip completes a TLS handshake with addr and one read, which
// surfaces a server's refusal of the client certificate (TLS 1.3 sends it
// after the client's handshake is done).
func tlsRoundTrip(addr string, cfg *tls.Config) error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return nil // still open: the server accepted us and waits for Raft traffic
	}
	if err == nil {
		return nil
	}
	return err
}
