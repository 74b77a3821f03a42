package tlsconf

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testcerts"
	"github.com/wardenkv/warden/node/config"
)

func newConfig(t *testing.T, kv ...string) *config.Config {
	t.Helper()
	cfg := config.New()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := cfg.Set(kv[i], kv[i+1], false); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// serve accepts TLS connections with m (AuthRequire) and echoes one line.
func serve(t *testing.T, m *Manager) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tl := m.Listener(ln, AuthRequire)
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err == nil {
					c.Write(buf)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip dials addr with the manager's client side and echoes a line.
func roundTrip(m *Manager, addr string) (*tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := m.DialContext(&net.Dialer{})(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("hello")); err != nil {
		return nil, err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, err
	}
	st := c.(*tls.Conn).ConnectionState()
	return &st, nil
}

// Both sides of one manager authenticate each other; a CA directory works
// like a CA file; the protocol and cipher directives reach the handshake.
func TestManagerMutualAuthAndSettings(t *testing.T) {
	f := testcerts.New(t)
	caDir := t.TempDir()
	b, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(caDir, "1a2b3c4d.0"), b, 0o644)
	os.WriteFile(filepath.Join(caDir, "README"), []byte("not a certificate"), 0o644)
	cfg := newConfig(t, "tls-cluster", "yes", "tls-cert-file", f.CertFile, "tls-key-file", f.KeyFile,
		"tls-ca-cert-dir", caDir, "tls-protocols", "TLSv1.2", "tls-ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384")
	m, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, m)
	st, err := roundTrip(m, addr)
	if err != nil {
		t.Fatalf("mutual TLS with a CA directory: %v", err)
	}
	if st.Version != tls.VersionTLS12 || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Fatalf("negotiated %s %s, want TLS 1.2 with ECDHE-ECDSA-AES256-GCM-SHA384",
			tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	// A run-time change reaches the next handshake.
	if err := cfg.Set("tls-protocols", "TLSv1.3", true); err != nil {
		t.Fatal(err)
	}
	if st, err = roundTrip(m, addr); err != nil || st.Version != tls.VersionTLS13 {
		t.Fatalf("after tls-protocols TLSv1.3: %v %v", st, err)
	}

	// A peer of another CA is refused both ways.
	other := testcerts.New(t)
	om, err := New(newConfig(t, "tls-cluster", "yes", "tls-cert-file", other.CertFile, "tls-key-file", other.KeyFile,
		"tls-ca-cert-file", f.CAFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(om, addr); err == nil {
		t.Fatal("a client certificate of another CA was accepted")
	}
	if _, err := roundTrip(m, serve(t, om)); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("a server certificate of another CA: %v", err)
	}
}

func TestParseDirectives(t *testing.T) {
	if lo, hi, err := ParseProtocols(""); err != nil || lo != tls.VersionTLS12 || hi != tls.VersionTLS13 {
		t.Fatalf("default protocols %x %x %v", lo, hi, err)
	}
	if lo, hi, err := ParseProtocols("tlsv1.3 TLSv1.1"); err != nil || lo != tls.VersionTLS11 || hi != tls.VersionTLS13 {
		t.Fatalf("TLSv1.1..1.3: %x %x %v", lo, hi, err)
	}
	if ids, err := ParseCiphers("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:ecdhe-rsa-chacha20-poly1305"); err != nil || len(ids) != 2 ||
		ids[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 || ids[1] != tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 {
		t.Fatalf("IANA and OpenSSL names: %v %v", ids, err)
	}
	if _, err := ParseCiphers("TLS_RSA_WITH_RC4_128_SHA"); err == nil || !strings.Contains(err.Error(), "insecure") {
		t.Fatalf("an insecure suite: %v", err)
	}
	if _, err := ParseCiphers("HIGH:!aNULL"); err == nil {
		t.Fatal("OpenSSL keywords accepted")
	}
	if err := checkCiphersuites("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"); err != nil {
		t.Fatal(err)
	}
	if err := checkCiphersuites("TLS_AES_128_CCM_SHA256"); err == nil {
		t.Fatal("a TLS 1.3 suite Go lacks accepted")
	}
}
