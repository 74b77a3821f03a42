package httpapi

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wardenkv/warden/node/tlsconf"
)

// BaseURL is the base URL to reach a node's API at addr ("host:port" or a
// URL): https when the control plane runs over TLS, where an http:// URL
// (a --join flag, say) is upgraded since a TLS node serves nothing in the
// clear.
func BaseURL(addr string, useTLS bool) string {
	u := leaderURL(addr)
	if rest, ok := strings.CutPrefix(u, "http://"); ok && useTLS {
		u = "https://" + rest
	}
	return u
}

// PeerClient is the HTTP client for other nodes' APIs: no proxy, no
// redirects, and with m (tls-cluster) TLS dials that present this node's
// certificate and verify the peer's against the cluster CA.
func PeerClient(m *tlsconf.Manager) *http.Client {
	c := forwardClient()
	if m != nil {
		tr := c.Transport.(*http.Transport)
		tr.DialTLSContext = m.DialContext(&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second})
	}
	return c
}
