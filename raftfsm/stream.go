package raftfsm

import (
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// streamLayer is Raft's TCP transport with a handshake (handshake.go):
// both ends of every connection prove the cluster secret, so a stray or
// foreign process can neither feed this node log entries nor receive them.
type streamLayer struct {
	ln    net.Listener
	adv   net.Addr
	key   []byte
	conns chan net.Conn
	done  chan struct{}
	tls   tlsSlot // tls.go: set with tls-cluster
}

func newStreamLayer(bind, advertise, secret string) (*streamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen for raft on %s: %w", bind, err)
	}
	adv, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("resolve raft advertise address %s: %w", advertise, err)
	}
	if adv.IP == nil || adv.IP.IsUnspecified() || adv.Port == 0 {
		adv = ln.Addr().(*net.TCPAddr)
	}
	s := &streamLayer{ln: ln, adv: adv, key: handshakeKey(secret),
		conns: make(chan net.Conn), done: make(chan struct{})}
	go s.acceptLoop()
	return s, nil
}

// acceptLoop checks handshakes off the accept path so one slow peer
// cannot hold up the others.
func (s *streamLayer) acceptLoop() {
	for {
		c, err := s.accept()
		if err != nil {
			close(s.done)
			return
		}
		go func() {
			if err := acceptHandshake(c, s.key, time.Now().Add(handshakeTimeout)); err != nil {
				c.Close()
				return
			}
			select {
			case s.conns <- c:
			case <-s.done:
				c.Close()
			}
		}()
	}
}

func (s *streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return s.admit(c)
	case <-s.done:
		return nil, net.ErrClosed
	}
}

func (s *streamLayer) Close() error   { return s.ln.Close() }
func (s *streamLayer) Addr() net.Addr { return s.adv }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := s.dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	if err := dialHandshake(c, s.key, time.Now().Add(timeout)); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft handshake with %s: %w", addr, err)
	}
	return c, nil
}
