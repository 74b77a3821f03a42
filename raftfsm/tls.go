package raftfsm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// streamTLS wraps every Raft connection in TLS (tls-cluster): the server
// side should require and verify client certificates, so both ends are
// authenticated, and the cluster-secret handshake then runs inside TLS.
type streamTLS struct {
	server *tls.Config
	client func(addr string) (*tls.Config, error) // for the peer at addr
}

// tlsSlot holds the streamLayer's TLS settings (nil: plain TCP).
type tlsSlot struct{ p atomic.Pointer[streamTLS] }

func (s *streamLayer) setTLS(server *tls.Config, client func(string) (*tls.Config, error)) {
	if server != nil && client != nil {
		s.tls.p.Store(&streamTLS{server: server, client: client})
	}
}

// accept takes the next connection, as the TLS server side when TLS is on;
// the TLS handshake runs on the connection's first read, in its own
// goroutine, so a slow peer cannot hold up the accept loop.
func (s *streamLayer) accept() (net.Conn, error) {
	c, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	if t := s.tls.p.Load(); t != nil {
		return tls.Server(c, t.server), nil
	}
	return c, nil
}

// admit drops, once TLS is on, a plaintext connection accepted in the
// moment between listening and configuring TLS.
func (s *streamLayer) admit(c net.Conn) (net.Conn, error) {
	if _, ok := c.(*tls.Conn); !ok && s.tls.p.Load() != nil {
		c.Close()
		return nil, errors.New("raft: dropped a plaintext connection accepted before TLS was configured")
	}
	return c, nil
}

// dial connects to a peer, completing the TLS handshake (verifying the
// peer's certificate for addr's host) when TLS is on.
func (s *streamLayer) dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil {
		return nil, err
	}
	t := s.tls.p.Load()
	if t == nil {
		return c, nil
	}
	cfg, err := t.client(string(addr))
	if err != nil {
		c.Close()
		return nil, err
	}
	tc := tls.Client(c, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}
