// Package tlsconf builds a node's TLS configurations from Redis's tls-*
// directives: the server side of the client port, the Sentinel port and
// the control plane, and the client side of the replication link and the
// control plane. The material (certificates, CAs, client auth, protocols,
// ciphers) is rebuilt on CONFIG SET of any of them; handshakes after that
// use the new material, established connections keep theirs.
package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/wardenkv/warden/node/config"
)

// Auth is how a server side treats client certificates.
type Auth int

const (
	// AuthConfigured follows tls-auth-clients (the client and Sentinel ports).
	AuthConfigured Auth = iota
	// AuthRequire always demands a certificate signed by the configured CA
	// (the control plane: HTTP API and Raft).
	AuthRequire
	nAuth
)

// ErrNotConfigured is returned when TLS is used but none of tls-port,
// tls-replication and tls-cluster turned it on.
var ErrNotConfigured = errors.New("TLS is not configured: set tls-port, tls-replication or tls-cluster with tls-cert-file and tls-key-file")

// errUpdate is CONFIG SET's answer when new TLS settings do not load (as
// Redis's, which also leaves the details to the log).
var errUpdate = errors.New("Unable to update TLS configuration. Check server logs.")

// reloadOn are the directives whose change rebuilds the material.
var reloadOn = []string{"tls-cert-file", "tls-key-file", "tls-client-cert-file", "tls-client-key-file",
	"tls-ca-cert-file", "tls-ca-cert-dir", "tls-auth-clients", "tls-protocols", "tls-ciphers",
	"tls-ciphersuites", "tls-session-caching", "tls-replication", "tls-dh-params-file"}

// Enabled reports whether cfg asks for TLS anywhere (as Redis, which sets
// up its TLS context only then).
func Enabled(cfg *config.Config) bool {
	return cfg.Int("tls-port") > 0 || cfg.Bool("tls-replication") || cfg.Bool("tls-cluster")
}

// Manager holds the current TLS material of a node.
type Manager struct {
	cfg *config.Config
	log *slog.Logger
	cur atomic.Pointer[material]
}

type material struct {
	server [nAuth]*tls.Config
	client *tls.Config // cloned per connection with its ServerName
}

// New loads the material when cfg enables TLS (an error names what does
// not load) and reloads it whenever a tls-* directive changes at run time.
func New(cfg *config.Config, log *slog.Logger) (*Manager, error) {
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{cfg: cfg, log: log.With("component", "tls")}
	if Enabled(cfg) {
		mat, err := build(cfg)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		m.cur.Store(mat)
	}
	for _, name := range reloadOn {
		cfg.OnSet(name, func(string) error { return m.reload(name) })
	}
	return m, nil
}

func (m *Manager) reload(name string) error {
	if !Enabled(m.cfg) {
		return nil // as Redis: kept, applied once something turns TLS on
	}
	mat, err := build(m.cfg)
	if err != nil {
		m.log.Warn("new TLS configuration not applied; keeping the previous one", "directive", name, "err", err)
		return errUpdate
	}
	m.cur.Store(mat)
	m.log.Info("TLS configuration reloaded", "directive", name)
	return nil
}

// Ready reports whether material is loaded.
func (m *Manager) Ready() bool { return m != nil && m.cur.Load() != nil }

// Server returns a server configuration that takes the current material at
// each handshake, so reloads apply to new connections.
func (m *Manager) Server(a Auth) *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		mat := m.cur.Load()
		if mat == nil {
			return nil, ErrNotConfigured
		}
		return mat.server[a], nil
	}}
}

// Listener wraps ln so that every accepted connection speaks TLS.
func (m *Manager) Listener(ln net.Listener, a Auth) net.Listener {
	return tls.NewListener(ln, m.Server(a))
}

// Client returns the configuration for a connection to addr ("host:port"):
// this node's client certificate, and the server's certificate verified
// against the configured CAs for addr's host (an IP is matched against
// the certificate's IP SANs).
func (m *Manager) Client(addr string) (*tls.Config, error) {
	if m == nil {
		return nil, ErrNotConfigured
	}
	mat := m.cur.Load()
	if mat == nil {
		return nil, ErrNotConfigured
	}
	c := mat.client.Clone()
	c.ServerName = hostOf(addr)
	return c, nil
}

// Handshake runs a client handshake on conn (already dialled to addr) and
// returns the TLS connection; it closes conn on failure.
func (m *Manager) Handshake(ctx context.Context, conn net.Conn, addr string) (net.Conn, error) {
	c, err := m.Client(addr)
	if err != nil {
		conn.Close()
		return nil, err
	}
	tc := tls.Client(conn, c)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// DialContext dials addr over TCP with d and runs the TLS handshake; it
// fits http.Transport.DialTLSContext.
func (m *Manager) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return m.Handshake(ctx, conn, addr)
	}
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func build(cfg *config.Config) (*material, error) {
	certFile, keyFile := cfg.Get("tls-cert-file"), cfg.Get("tls-key-file")
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls-cert-file and tls-key-file are required")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load tls-cert-file %s with tls-key-file %s: %w", certFile, keyFile, err)
	}
	clientCert := cert
	if cf := cfg.Get("tls-client-cert-file"); cf != "" {
		kf := cfg.Get("tls-client-key-file")
		if kf == "" {
			return nil, errors.New("tls-client-cert-file needs tls-client-key-file")
		}
		if clientCert, err = tls.LoadX509KeyPair(cf, kf); err != nil {
			return nil, fmt.Errorf("load tls-client-cert-file %s with tls-client-key-file %s: %w", cf, kf, err)
		}
	}
	if f := cfg.Get("tls-dh-params-file"); f != "" {
		// Go offers no finite-field DHE suites, so the parameters are unused;
		// a missing file is still an error, as in Redis.
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("tls-dh-params-file: %w", err)
		}
	}
	pool, err := loadCAs(cfg.Get("tls-ca-cert-file"), cfg.Get("tls-ca-cert-dir"))
	if err != nil {
		return nil, err
	}
	auth := cfg.Get("tls-auth-clients")
	if pool == nil && (auth != "no" || cfg.Bool("tls-replication") || cfg.Bool("tls-cluster")) {
		return nil, errors.New("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!")
	}
	minV, maxV, err := ParseProtocols(cfg.Get("tls-protocols"))
	if err != nil {
		return nil, err
	}
	suites, err := ParseCiphers(cfg.Get("tls-ciphers"))
	if err != nil {
		return nil, err
	}
	if err := checkCiphersuites(cfg.Get("tls-ciphersuites")); err != nil {
		return nil, err
	}
	base := &tls.Config{MinVersion: minV, MaxVersion: maxV, CipherSuites: suites,
		SessionTicketsDisabled: !cfg.Bool("tls-session-caching")}
	srv := base.Clone()
	srv.Certificates = []tls.Certificate{cert}
	srv.ClientCAs = pool
	m := &material{}
	m.server[AuthConfigured] = srv.Clone()
	switch auth {
	case "no":
		m.server[AuthConfigured].ClientAuth = tls.NoClientCert
	case "optional":
		m.server[AuthConfigured].ClientAuth = tls.VerifyClientCertIfGiven
	default:
		m.server[AuthConfigured].ClientAuth = tls.RequireAndVerifyClientCert
	}
	m.server[AuthRequire] = srv.Clone()
	m.server[AuthRequire].ClientAuth = tls.RequireAndVerifyClientCert
	m.client = base.Clone()
	m.client.Certificates = []tls.Certificate{clientCert}
	m.client.RootCAs = pool
	return m, nil
}

// loadCAs reads the CA bundle and every certificate file of the CA
// directory (files that hold none, such as CRLs, are skipped). nil, nil
// when neither is set.
func loadCAs(file, dir string) (*x509.CertPool, error) {
	if file == "" && dir == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("tls-ca-cert-file: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("tls-ca-cert-file %s: no PEM certificate in it", file)
		}
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("tls-ca-cert-dir: %w", err)
		}
		found := false
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && pool.AppendCertsFromPEM(b) {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("tls-ca-cert-dir %s: no PEM certificate in it", dir)
		}
	}
	return pool, nil
}

var protocolVersions = map[string]uint16{"tlsv1": tls.VersionTLS10, "tlsv1.1": tls.VersionTLS11,
	"tlsv1.2": tls.VersionTLS12, "tlsv1.3": tls.VersionTLS13}

// ParseProtocols reads tls-protocols ("TLSv1.2 TLSv1.3"; empty means those
// two, Redis's default) into the range of versions Go accepts: the lowest
// to the highest named.
func ParseProtocols(v string) (minV, maxV uint16, err error) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, p := range f {
		ver, ok := protocolVersions[strings.ToLower(p)]
		if !ok {
			return 0, 0, fmt.Errorf("invalid tls-protocols %q: want TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", p)
		}
		if minV == 0 || ver < minV {
			minV = ver
		}
		maxV = max(maxV, ver)
	}
	return minV, maxV, nil
}

// opensslNames maps OpenSSL's names of the TLS 1.2 suites Go implements
// to the IANA names Go uses, so redis.conf cipher lists load.
var opensslNames = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
}

// ParseCiphers reads tls-ciphers, the TLS 1.2 (and older) suites: a list
// separated by ':', ',' or spaces of suite names, IANA's or OpenSSL's.
// OpenSSL's keywords and operators (HIGH, !aNULL) are not understood; Go's
// insecure suites are refused. Empty means Go's defaults (nil).
func ParseCiphers(v string) ([]uint16, error) {
	names := strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
	if len(names) == 0 {
		return nil, nil
	}
	secure := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		secure[s.Name] = s.ID
	}
	insecure := map[string]bool{}
	for _, s := range tls.InsecureCipherSuites() {
		insecure[s.Name] = true
	}
	var ids []uint16
	for _, n := range names {
		iana := n
		if a, ok := opensslNames[strings.ToUpper(n)]; ok {
			iana = a
		}
		iana = strings.ToUpper(iana)
		id, ok := secure[iana]
		switch {
		case ok:
			ids = append(ids, id)
		case insecure[iana]:
			return nil, fmt.Errorf("tls-ciphers: %s is insecure and not offered", n)
		default:
			return nil, fmt.Errorf("tls-ciphers: unknown cipher suite %q (want IANA or OpenSSL suite names)", n)
		}
	}
	return ids, nil
}

// tls13Suites are the TLS 1.3 suites; Go always enables all three, so
// tls-ciphersuites is checked but cannot narrow them.
var tls13Suites = map[string]bool{"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true,
	"TLS_CHACHA20_POLY1305_SHA256": true}

func checkCiphersuites(v string) error {
	for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if !tls13Suites[strings.ToUpper(n)] {
			return fmt.Errorf("tls-ciphersuites: unknown TLS 1.3 suite %q", n)
		}
	}
	return nil
}

// ClientFromFiles is a client configuration from PEM files, for tools
// (warden status) and tests: caFile verifies the server, certFile and
// keyFile (both or neither) are presented to it.
func ClientFromFiles(caFile, certFile, keyFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadCAs(caFile, "")
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("a client certificate needs both the certificate and the key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s: %w", certFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
