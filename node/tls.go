package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/node/tlsconf"
)

// tlsState is the TLS side of the client port: the tls-port listener,
// serving the same handlers as the plain one.
type tlsState struct {
	m   *tlsconf.Manager
	ln  net.Listener // TLS-wrapped; nil without tls-port
	srv *redcon.Server
}

// TLS returns the node's TLS material (the control plane uses it too).
func (s *Server) TLS() *tlsconf.Manager { return s.tls.m }

// TLSAddr returns the tls-port listener's address (nil without one).
func (s *Server) TLSAddr() net.Addr {
	if s.tls.ln == nil {
		return nil
	}
	return s.tls.ln.Addr()
}

// listenTLS binds tls-port on host when it is set.
func (s *Server) listenTLS(host string) error {
	port := s.cfg.Int("tls-port")
	if port == 0 || s.tls.ln != nil {
		return nil
	}
	addr := net.JoinHostPort(host, strconv.FormatInt(port, 10))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for TLS on %s: %w", addr, err)
	}
	s.tls.ln = s.tls.m.Listener(ln, tlsconf.AuthConfigured)
	return nil
}

// serveTLS serves the tls-port listener, if any, reporting its end on errc.
func (s *Server) serveTLS(errc chan<- error) {
	if s.tls.ln == nil {
		return
	}
	s.tls.srv = redcon.NewServerNetwork("tcp", s.tls.ln.Addr().String(), s.handle, s.accept, s.closed)
	s.tls.srv.AcceptError = func(err error) { s.log.Warn("accept failed", "err", err, "tls", true) }
	s.log.Info("ready to accept TLS connections", "addr", s.tls.ln.Addr().String())
	go func() { errc <- s.tls.srv.Serve(s.tls.ln) }()
}

func (s *Server) closeTLS() {
	if s.tls.srv != nil {
		s.tls.srv.Close()
	} else if s.tls.ln != nil {
		s.tls.ln.Close()
	}
}

// dialMaster connects a replica to its master, over TLS (verifying the
// master's certificate for host) with tls-replication yes.
func (s *Server) dialMaster(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || !s.cfg.Bool("tls-replication") {
		return conn, err
	}
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return s.tls.m.Handshake(hctx, conn, addr)
}

// replListeningPort is the port a replica announces to its master: as in
// Redis, its TLS port when it replicates over TLS and has one.
func (s *Server) replListeningPort() string {
	if a := s.TLSAddr(); a != nil && s.cfg.Bool("tls-replication") {
		if t, ok := a.(*net.TCPAddr); ok {
			return strconv.Itoa(t.Port)
		}
	}
	if s.cfg.Get("port") == "0" && s.ln != nil { // an ephemeral port: the one bound
		if t, ok := s.ln.Addr().(*net.TCPAddr); ok {
			return strconv.Itoa(t.Port)
		}
	}
	return s.cfg.Get("port")
}

// socketOf is the TCP connection under a TLS one, for socket-level work
// (keepalive, peeking for a hang-up, the fd CLIENT LIST shows).
func socketOf(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}
