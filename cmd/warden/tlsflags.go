package main

import (
	"flag"
	"net/http"
	"strings"
	"time"

	"github.com/wardenkv/warden/node/tlsconf"
)

// tlsFlags are redis-cli's TLS flags, for nodes running with tls-cluster
// (their HTTP API is HTTPS and wants a client certificate).
type tlsFlags struct {
	on                bool
	cacert, cert, key string
}

func addTLSFlags(fs *flag.FlagSet) *tlsFlags {
	f := &tlsFlags{}
	fs.BoolVar(&f.on, "tls", false, "use HTTPS (implied by --cacert, --cert or an https:// address)")
	fs.StringVar(&f.cacert, "cacert", "", "CA certificate file that signs the node's certificate")
	fs.StringVar(&f.cert, "cert", "", "client certificate file (tls-cluster nodes require one)")
	fs.StringVar(&f.key, "key", "", "private key file of --cert")
	return f
}

func (f *tlsFlags) enabled() bool { return f.on || f.cacert != "" || f.cert != "" }

// url is baseURL, https when TLS is asked for.
func (f *tlsFlags) url(addr string) string {
	u := baseURL(addr)
	if rest, ok := strings.CutPrefix(u, "http://"); ok && f.enabled() {
		u = "https://" + rest
	}
	return u
}

func (f *tlsFlags) client(timeout time.Duration) (*http.Client, error) {
	c := httpClient(timeout)
	if !f.enabled() {
		return c, nil
	}
	tc, err := tlsconf.ClientFromFiles(f.cacert, f.cert, f.key)
	if err != nil {
		return nil, err
	}
	c.Transport.(*http.Transport).TLSClientConfig = tc
	return c, nil
}
