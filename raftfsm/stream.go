package raftfsm

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// streamLayer is Raft's TCP transport with a handshake: every connection
// starts with a hash of the cluster secret, so a stray or foreign process
// cannot feed this node log entries.
type streamLayer struct {
	ln    net.Listener
	adv   net.Addr
	token [32]byte
	conns chan net.Conn
	done  chan struct{}
	tls   tlsSlot // tls.go: set with tls-cluster
}

const handshakeMagic = "WRDNRAFT"

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
	s := &streamLayer{ln: ln, adv: adv, token: sha256.Sum256([]byte("warden-raft:" + secret)),
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
			if err := s.check(c); err != nil {
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

func (s *streamLayer) check(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len(handshakeMagic)+32)
	if _, err := io.ReadFull(c, buf); err != nil {
		return fmt.Errorf("read raft handshake: %w", err)
	}
	if string(buf[:len(handshakeMagic)]) != handshakeMagic ||
		subtle.ConstantTimeCompare(buf[len(handshakeMagic):], s.token[:]) != 1 {
		return fmt.Errorf("raft handshake from %s: wrong cluster secret", c.RemoteAddr())
	}
	return c.SetReadDeadline(time.Time{})
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
	c.SetWriteDeadline(time.Now().Add(timeout))
	hdr := append([]byte(handshakeMagic), s.token[:]...)
	if _, err := c.Write(hdr); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft handshake to %s: %w", addr, err)
	}
	c.SetWriteDeadline(time.Time{})
	return c, nil
}
