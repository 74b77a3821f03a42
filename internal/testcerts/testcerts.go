// Package testcerts makes throwaway X.509 material for tests at run time:
// a CA and certificates it signs, written as PEM files into a test's
// directory. Nothing it makes is ever committed.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority held in memory.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	File    string // where WriteCA put the certificate, once called
}

// Usage says what a certificate is for.
type Usage int

const (
	// Peer certificates serve and also authenticate as clients (a node's
	// own certificate, presented on its outgoing links too).
	Peer Usage = iota
	Server
	Client
)

// NewCA makes a CA valid for a day.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("testcerts: CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"warden tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("testcerts: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// WriteCA writes the CA certificate to dir/name and records the path.
func (ca *CA) WriteCA(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, ca.CertPEM, 0o644); err != nil {
		return "", fmt.Errorf("testcerts: %w", err)
	}
	ca.File = p
	return p, nil
}

// Issue signs a certificate for hosts (IP addresses become IP SANs, other
// names DNS SANs; the first is also the common name) and writes
// dir/name.pem and dir/name-key.pem (mode 0600).
func (ca *CA) Issue(dir, name string, u Usage, hosts ...string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("testcerts: key: %w", err)
	}
	cn := name
	if len(hosts) > 0 {
		cn = hosts[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"warden tests"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	switch u {
	case Peer:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	case Server:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case Client:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return "", "", fmt.Errorf("testcerts: certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("testcerts: key: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", fmt.Errorf("testcerts: %w", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return "", "", fmt.Errorf("testcerts: %w", err)
	}
	return certFile, keyFile, nil
}

// Files is one test's set: a CA, a peer certificate for the loopback
// addresses (and any extra hosts) and a client certificate.
type Files struct {
	CA                    *CA
	CAFile                string
	CertFile, KeyFile     string // peer: serverAuth + clientAuth
	ClientFile, ClientKey string // clientAuth only
}

// Loopback are the hosts every generated peer certificate names.
var Loopback = []string{"127.0.0.1", "localhost", "::1"}

// New writes a fresh CA, a peer certificate for Loopback plus hosts, and a
// client certificate into a new temporary directory of t.
func New(t testing.TB, hosts ...string) Files {
	t.Helper()
	dir := t.TempDir()
	ca, err := NewCA("warden test CA")
	if err != nil {
		t.Fatal(err)
	}
	f := Files{CA: ca}
	if f.CAFile, err = ca.WriteCA(dir, "ca.pem"); err != nil {
		t.Fatal(err)
	}
	if f.CertFile, f.KeyFile, err = ca.Issue(dir, "node", Peer, append(append([]string{}, Loopback...), hosts...)...); err != nil {
		t.Fatal(err)
	}
	if f.ClientFile, f.ClientKey, err = ca.Issue(dir, "client", Client, "warden-test-client"); err != nil {
		t.Fatal(err)
	}
	return f
}

// Directives are the tls-* directives ("name", "value" pairs) that point a
// node at these files.
func (f Files) Directives() []string {
	return []string{"tls-cert-file", f.CertFile, "tls-key-file", f.KeyFile, "tls-ca-cert-file", f.CAFile}
}

// ClientConfig trusts the CA and presents the client certificate.
func (f Files) ClientConfig(t testing.TB) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(f.ClientFile, f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: f.Pool(), Certificates: []tls.Certificate{cert}}
}

// Pool is a pool holding the CA.
func (f Files) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.CA.Cert)
	return p
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}
