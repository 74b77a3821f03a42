package clustertest

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testcerts"
)

// clusterTLS is the material of a cluster started with Options.TLS: a CA
// made for the test, one certificate per node naming its address, and a
// client certificate for the harness and the test.
type clusterTLS struct {
	files  testcerts.Files
	client *tls.Config
	http   *http.Client
}

func newClusterTLS(t testing.TB) *clusterTLS {
	t.Helper()
	f := testcerts.New(t)
	ct := &clusterTLS{files: f, client: f.ClientConfig(t)}
	ct.http = &http.Client{Timeout: 3 * time.Second,
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: ct.client.Clone()}}
	return ct
}

// tlsArgs are the node's TLS flags: TLS only on its RESP port (port 0,
// tls-port n.Port), and TLS for replication and the control plane. The
// node's certificate is issued on first use.
func (c *Cluster) tlsArgs(n *Node) []string {
	if c.tls == nil {
		return nil
	}
	cert, key := filepath.Join(n.Dir, "tls", "node.pem"), filepath.Join(n.Dir, "tls", "node-key.pem")
	if n.tlsCert == "" {
		dir := filepath.Join(n.Dir, "tls")
		if err := mkdir(dir); err != nil {
			c.t.Fatalf("clustertest: %v", err)
		}
		var err error
		if cert, key, err = c.tls.files.CA.Issue(dir, "node", testcerts.Peer, n.Host, "127.0.0.1", "localhost"); err != nil {
			c.t.Fatalf("clustertest: certificate for %s: %v", n.ID, err)
		}
		n.tlsCert = cert
	}
	return []string{"--port", "0", "--tls-port", itoa(n.Port), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", c.tls.files.CAFile, "--tls-cluster", "yes", "--tls-replication", "yes"}
}

// TLSConfig is a client configuration trusted by a cluster started with
// Options.TLS (nil otherwise): it trusts the cluster CA and presents a
// client certificate it signed.
func (c *Cluster) TLSConfig() *tls.Config {
	if c.tls == nil {
		return nil
	}
	return c.tls.client.Clone()
}

// TLSFiles are the PEM files of the cluster CA and of the client
// certificate (empty without Options.TLS).
func (c *Cluster) TLSFiles() (ca, cert, key string) {
	if c.tls == nil {
		return "", "", ""
	}
	return c.tls.files.CAFile, c.tls.files.ClientFile, c.tls.files.ClientKey
}

func (c *Cluster) httpClient() *http.Client {
	if c.tls == nil {
		return httpClient
	}
	return c.tls.http
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }

func itoa(n int) string { return strconv.Itoa(n) }
