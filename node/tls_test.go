package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/internal/testcerts"
	"github.com/wardenkv/warden/internal/testhost"
	"github.com/wardenkv/warden/node/config"
)

// freeTCPPort returns a loopback port that was free a moment ago.
func freeTCPPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// startTLS runs a node with f's certificates on a free tls-port and no
// plain port (startServer's port 0 plus a tls-port is TLS only, as in
// Redis), returning it and its TLS address.
func startTLS(t *testing.T, f testcerts.Files, directives ...string) (*Server, string) {
	t.Helper()
	args := append(append(f.Directives(), "tls-port", freeTCPPort(t)), directives...)
	s, _ := startServer(t, args...)
	if s.TLSAddr() == nil {
		t.Fatal("no TLS listener")
	}
	return s, s.TLSAddr().String()
}

func tlsClient(t *testing.T, addr string, c *tls.Config) *redis.Client {
	t.Helper()
	return newClient(t, addr, func(o *redis.Options) { o.TLSConfig = c; o.MaxRetries = -1 })
}

// The client port over TLS: go-redis and redis-cli with certificates get
// in; plain TCP and certificate-less clients do not while tls-auth-clients
// is yes; no and optional relax that at run time.
func TestTLSClientPort(t *testing.T) {
	f := testcerts.New(t)
	s, addr := startTLS(t, f)
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(addr)

	c := tlsClient(t, addr, f.ClientConfig(t))
	if err := c.Set(ctx, "k", "over tls", 0).Err(); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "over tls" {
		t.Fatalf("GET over TLS: %q %v", v, err)
	}
	// port 0 with a tls-port: only the TLS listener, which INFO reports as
	// tcp_port (as Redis does).
	if s.ln != nil {
		t.Fatalf("a plain listener on %v with port 0 and a tls-port", s.ln.Addr())
	}
	if info := c.Info(ctx, "server").Val(); !strings.Contains(info, "tcp_port:"+port+"\r\n") {
		t.Fatalf("INFO server does not report tcp_port:%s:\n%s", port, info)
	}
	if got := c.ConfigGet(ctx, "tls-port").Val(); got["tls-port"] != port {
		t.Fatalf("CONFIG GET tls-port = %v, want %s", got, port)
	}

	// Plain RESP on the TLS port gets no answer but a closed connection.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	raw.Write([]byte("PING\r\n"))
	buf := make([]byte, 64)
	n, _ := raw.Read(buf)
	raw.Close()
	if strings.Contains(string(buf[:n]), "PONG") {
		t.Fatal("plain TCP client got PONG from the TLS port")
	}

	noCert := &tls.Config{RootCAs: f.Pool()}
	if err := tlsClient(t, addr, noCert).Ping(ctx).Err(); err == nil {
		t.Fatal("a client without a certificate got in with tls-auth-clients yes")
	}
	other := testcerts.New(t) // a certificate from a CA the server does not trust
	foreign := other.ClientConfig(t)
	foreign.RootCAs = f.Pool()
	if err := tlsClient(t, addr, foreign).Ping(ctx).Err(); err == nil {
		t.Fatal("a client with a certificate from another CA got in")
	}

	if err := c.ConfigSet(ctx, "tls-auth-clients", "no").Err(); err != nil {
		t.Fatal(err)
	}
	if err := tlsClient(t, addr, noCert).Ping(ctx).Err(); err != nil {
		t.Fatalf("tls-auth-clients no, no certificate: %v", err)
	}
	if err := c.ConfigSet(ctx, "tls-auth-clients", "optional").Err(); err != nil {
		t.Fatal(err)
	}
	if err := tlsClient(t, addr, noCert).Ping(ctx).Err(); err != nil {
		t.Fatalf("tls-auth-clients optional, no certificate: %v", err)
	}
	if err := tlsClient(t, addr, f.ClientConfig(t)).Ping(ctx).Err(); err != nil {
		t.Fatalf("tls-auth-clients optional, good certificate: %v", err)
	}
	if err := tlsClient(t, addr, foreign).Ping(ctx).Err(); err == nil {
		t.Fatal("tls-auth-clients optional let in a certificate from another CA")
	}
	if err := c.ConfigSet(ctx, "tls-auth-clients", "maybe").Err(); err == nil ||
		err.Error() != "ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional" {
		t.Fatalf("CONFIG SET tls-auth-clients maybe: %v", err)
	}

	t.Run("redis-cli", func(t *testing.T) {
		if _, err := exec.LookPath("redis-cli"); err != nil {
			t.Skip("redis-cli not installed: the redis-cli --tls check is skipped")
		}
		cli := func(args ...string) (string, error) {
			base := []string{"--tls", "--cert", f.ClientFile, "--key", f.ClientKey, "--cacert", f.CAFile, "-h", "127.0.0.1", "-p", port}
			out, err := exec.Command("redis-cli", append(base, args...)...).CombinedOutput()
			return strings.TrimSpace(string(out)), err
		}
		if out, err := cli("SET", "cli", "tls"); err != nil || out != "OK" {
			t.Fatalf("redis-cli --tls SET: %q %v", out, err)
		}
		if out, err := cli("GET", "cli"); err != nil || out != "tls" {
			t.Fatalf("redis-cli --tls GET: %q %v", out, err)
		}
		out, _ := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", port, "PING").CombinedOutput()
		if strings.Contains(string(out), "PONG") {
			t.Fatalf("plain redis-cli got PONG from the TLS port: %s", out)
		}
	})
}

// port and tls-port together serve one keyspace on both.
func TestTLSAlongsidePlainPort(t *testing.T) {
	f := testcerts.New(t)
	plain := freeTCPPort(t)
	s, addr := startTLS(t, f, "port", plain)
	ctx := context.Background()
	if got := s.Addr().String(); got != "127.0.0.1:"+plain {
		t.Fatalf("plain address %s, want port %s", got, plain)
	}
	if err := newClient(t, s.Addr().String()).Set(ctx, "both", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v := tlsClient(t, addr, f.ClientConfig(t)).Get(ctx, "both").Val(); v != "1" {
		t.Fatalf("TLS client reads %q, want the plain client's write", v)
	}
}

// peerSerial dials addr trusting ca and returns the serial of the
// certificate the server presents.
func peerSerial(t *testing.T, addr string, c *tls.Config) (string, error) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, c)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

// CONFIG SET of the certificate directives reloads them for new
// connections: several at once, the same path after the files were
// replaced, and a change that does not load is refused with Redis's text
// while the old material keeps serving.
func TestTLSReloadOnConfigSet(t *testing.T) {
	f1, f2 := testcerts.New(t), testcerts.New(t)
	_, addr := startTLS(t, f1)
	ctx := context.Background()
	c := tlsClient(t, addr, f1.ClientConfig(t))
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	const refused = "ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs."
	for _, bad := range []string{f2.CertFile, "/nonexistent/cert.pem"} { // a cert not matching the key; a missing file
		if err := c.ConfigSet(ctx, "tls-cert-file", bad).Err(); err == nil || err.Error() != refused {
			t.Fatalf("CONFIG SET tls-cert-file %s: %v", bad, err)
		}
	}
	if got := c.ConfigGet(ctx, "tls-cert-file").Val()["tls-cert-file"]; got != f1.CertFile {
		t.Fatalf("tls-cert-file after a refused change: %q", got)
	}
	if err := tlsClient(t, addr, f1.ClientConfig(t)).Ping(ctx).Err(); err != nil {
		t.Fatalf("old material after a refused change: %v", err)
	}

	// All three at once: the new CA, certificate and key load together.
	if err := c.Do(ctx, "CONFIG", "SET", "tls-cert-file", f2.CertFile, "tls-key-file", f2.KeyFile,
		"tls-ca-cert-file", f2.CAFile).Err(); err != nil {
		t.Fatalf("CONFIG SET of a new certificate, key and CA: %v", err)
	}
	if err := tlsClient(t, addr, f1.ClientConfig(t)).Ping(ctx).Err(); err == nil {
		t.Fatal("a client trusting only the old CA still connects after the reload")
	}
	if err := tlsClient(t, addr, f2.ClientConfig(t)).Ping(ctx).Err(); err != nil {
		t.Fatalf("client of the new CA after the reload: %v", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("a connection made before the reload: %v", err)
	}

	// Rotation in place: new files at the same paths, CONFIG SET the path.
	before, err := peerSerial(t, addr, f2.ClientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key, err := f2.CA.Issue(dir, "rotated", testcerts.Peer, testcerts.Loopback...)
	if err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{cert: f2.CertFile, key: f2.KeyFile} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.ConfigSet(ctx, "tls-cert-file", f2.CertFile).Err(); err != nil {
		t.Fatal(err)
	}
	after, err := peerSerial(t, addr, f2.ClientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	want := mustSerial(t, cert)
	if after == before || after != want {
		t.Fatalf("serial after rotation %s (before %s), want %s", after, before, want)
	}
}

func mustSerial(t *testing.T, certFile string) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, strings.TrimSuffix(certFile, ".pem")+"-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}

// Startup errors name what is wrong instead of serving plain text.
func TestTLSStartupErrors(t *testing.T) {
	f := testcerts.New(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tls-port", "1"}, "tls-cert-file and tls-key-file are required"},
		{[]string{"tls-port", "1", "tls-cert-file", f.CertFile, "tls-key-file", f.KeyFile},
			"Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!"},
		{append(f.Directives(), "tls-port", "1", "tls-protocols", "TLSv1.9"), `invalid tls-protocols "TLSv1.9"`},
		{append(f.Directives(), "tls-port", "1", "tls-ciphers", "NOPE"), `unknown cipher suite "NOPE"`},
		{append(f.Directives(), "tls-replication", "yes", "tls-key-file", f.ClientKey), "private key does not match public key"},
	} {
		cfg := newTestConfig(t, tc.args...)
		_, err := New(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
	// tls-auth-clients no needs no CA, as in Redis.
	cfg := newTestConfig(t, "tls-port", "1", "tls-cert-file", f.CertFile, "tls-key-file", f.KeyFile, "tls-auth-clients", "no")
	if _, err := New(cfg, nil); err != nil {
		t.Fatalf("tls-auth-clients no without a CA: %v", err)
	}
}

// A warden replica follows a TLS-only warden master with tls-replication
// yes, announcing its own TLS port; without TLS, with a CA that does not
// sign the master's certificate, or against a certificate for another
// host, the link does not come up and says why.
func TestTLSReplicationWardenToWarden(t *testing.T) {
	f := testcerts.New(t)
	_, maddr := startTLS(t, f, "save", "")
	_, mport, _ := net.SplitHostPort(maddr)
	master := tlsClient(t, maddr, f.ClientConfig(t))
	ctx := context.Background()
	master.Set(ctx, "before", "sync", 0)

	_, raddr := startTLS(t, f, "save", "", "tls-replication", "yes", "replicaof", "127.0.0.1 "+mport)
	replica := tlsClient(t, raddr, f.ClientConfig(t))
	waitFor(t, func() bool { return replica.Get(ctx, "before").Val() == "sync" }, "the snapshot over TLS")
	for i := range 100 {
		master.Incr(ctx, "counter")
		master.RPush(ctx, "list", i)
	}
	waitFor(t, func() bool { return replica.Get(ctx, "counter").Val() == "100" }, "the stream over TLS")
	_, rport, _ := net.SplitHostPort(raddr)
	if info := master.Info(ctx, "replication").Val(); !strings.Contains(info, "port="+rport+",") {
		t.Fatalf("the replica does not announce its TLS port %s:\n%s", rport, info)
	}

	linkErr := func(s *Server) string {
		if p := s.replica.linkErr.Load(); p != nil {
			return *p
		}
		return ""
	}
	// Plain replication against the TLS port: the handshake bytes are not
	// RESP, the master drops the connection.
	plain, _ := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	waitFor(t, func() bool { return linkErr(plain) != "" }, "the plain replica's link error")

	// The replica verifies the master: a CA that did not sign it...
	other := testcerts.New(t)
	wrongCA, _ := startServer(t, "save", "", "tls-replication", "yes", "replicaof", "127.0.0.1 "+mport,
		"tls-cert-file", other.CertFile, "tls-key-file", other.KeyFile, "tls-ca-cert-file", other.CAFile)
	waitFor(t, func() bool { return strings.Contains(linkErr(wrongCA), "certificate signed by unknown authority") },
		"the link error of a replica that does not trust the master's CA")

	// ...and a certificate issued for another host.
	dir := t.TempDir()
	cert, key, err := f.CA.Issue(dir, "elsewhere", testcerts.Peer, "elsewhere.example")
	if err != nil {
		t.Fatal(err)
	}
	_, eaddr := startTLS(t, testcerts.Files{CA: f.CA, CAFile: f.CAFile, CertFile: cert, KeyFile: key}, "save", "")
	_, eport, _ := net.SplitHostPort(eaddr)
	wrongHost, _ := startServer(t, append(f.Directives(), "save", "", "tls-replication", "yes", "replicaof", "127.0.0.1 "+eport)...)
	waitFor(t, func() bool { return strings.Contains(linkErr(wrongHost), "cannot validate certificate for 127.0.0.1") },
		"the link error of a replica reaching a master whose certificate names another host")
	t.Logf("link errors: plain %q; wrong CA %q; wrong host %q", linkErr(plain), linkErr(wrongCA), linkErr(wrongHost))
}

// A real redis-server (Debian's is built with TLS) replicates from a warden
// master over TLS, presenting its certificate as a client.
func TestTLSReplicationRedisReplicaOfWarden(t *testing.T) {
	f := testcerts.New(t)
	_, maddr := startTLS(t, f, "save", "")
	_, mport, _ := net.SplitHostPort(maddr)
	master := tlsClient(t, maddr, f.ClientConfig(t))
	ctx := context.Background()
	master.Set(ctx, "before", "sync", 0)
	rs := redistest.Start(t, "", "--tls-replication", "yes", "--tls-cert-file", f.CertFile,
		"--tls-key-file", f.KeyFile, "--tls-ca-cert-file", f.CAFile, "--replicaof", "127.0.0.1", mport)
	replica := rs.Client(t, 0)
	waitFor(t, func() bool { return replica.Get(ctx, "before").Val() == "sync" }, "redis-server's snapshot over TLS")
	master.HSet(ctx, "h", "f", "v")
	waitFor(t, func() bool { return replica.HGet(ctx, "h", "f").Val() == "v" }, "redis-server's stream over TLS")
}

// A warden replica follows a real redis-server master on its tls-port.
func TestTLSReplicationWardenReplicaOfRedis(t *testing.T) {
	f := testcerts.New(t)
	tport := freeTCPPort(t)
	rs := redistest.Start(t, "", "--tls-port", tport, "--tls-cert-file", f.CertFile,
		"--tls-key-file", f.KeyFile, "--tls-ca-cert-file", f.CAFile)
	master := rs.Client(t, 0)
	ctx := context.Background()
	master.Set(ctx, "from", "redis", 0)
	_, raddr := startTLS(t, f, "save", "", "tls-replication", "yes", "replicaof", "127.0.0.1 "+tport)
	replica := tlsClient(t, raddr, f.ClientConfig(t))
	waitFor(t, func() bool { return replica.Get(ctx, "from").Val() == "redis" }, "warden's snapshot from redis-server over TLS")
	master.Set(ctx, "stream", "too", 0)
	waitFor(t, func() bool { return replica.Get(ctx, "stream").Val() == "too" }, "warden's stream from redis-server over TLS")
}

// newTestConfig is a config with port 0, a temporary dir and directives.
func newTestConfig(t *testing.T, directives ...string) *config.Config {
	t.Helper()
	cfg := config.New()
	args := append([]string{"port", "0", "dir", t.TempDir()}, directives...)
	for i := 0; i+1 < len(args); i += 2 {
		if err := cfg.Set(args[i], args[i+1], false); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// Over maxclients a TLS connection is closed at once: a client that never
// starts its handshake must not stall the accept loop for everyone after.
func TestTLSMaxclientsDoesNotStallAccept(t *testing.T) {
	f := testcerts.New(t)
	_, addr := startTLS(t, f, "maxclients", "1")
	ctx := context.Background()
	a := tlsClient(t, addr, f.ClientConfig(t))
	if err := a.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	silent, err := net.Dial("tcp", addr) // over the limit, and never says hello
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatal("the server wrote to a TLS client before its handshake")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a TLS connection over maxclients was left open")
	}
	a.Close()
	waitFor(t, func() bool {
		c := tlsClient(t, addr, f.ClientConfig(t))
		defer c.Close()
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return c.Ping(cctx).Err() == nil
	}, "a new TLS client once the slot is free")
}

// Protected mode on the TLS port refuses a client from another host by
// closing its socket: writing DENIED would run the handshake on the accept
// loop, and a client that never says hello would stall every later accept.
func TestTLSProtectedModeDoesNotStallAccept(t *testing.T) {
	ip := testhost.HostIP(t, "protected mode on the TLS port")
	f := testcerts.New(t)
	_, addr := startTLS(t, f, "bind", ip, "protected-mode", "yes")
	silent, err := net.Dial("tcp", addr) // from ip, not loopback; never says hello
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for i := range 2 { // the second one is accepted only if the first did not stall the loop
		c := silent
		if i == 1 {
			if c, err = net.Dial("tcp", addr); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("connection %d: the server wrote to a TLS client before its handshake", i+1)
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection %d from %s was left open (protected mode should refuse it)", i+1, ip)
		}
	}
}
