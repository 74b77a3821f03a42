package raftfsm

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/internal/testcerts"
)

// tlsLayer is a stream layer on loopback, with TLS from f when f is set.
func tlsLayer(t *testing.T, secret string, f *testcerts.Files) *streamLayer {
	t.Helper()
	s, err := newStreamLayer("127.0.0.1:0", "127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if f != nil {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		srv := &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: f.Pool(), ClientAuth: tls.RequireAndVerifyClientCert}
		s.setTLS(srv, func(addr string) (*tls.Config, error) {
			host, _, _ := net.SplitHostPort(addr)
			return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: f.Pool(), ServerName: host}, nil
		})
	}
	return s
}

// Raft connections between TLS layers are TLS both ways and carry data;
// a plaintext peer and a peer of another CA never reach Raft.
func TestStreamLayerTLS(t *testing.T) {
	f, other := testcerts.New(t), testcerts.New(t)
	srv := tlsLayer(t, "k", &f)
	peer := tlsLayer(t, "k", &f)
	addr := raft.ServerAddress(srv.ln.Addr().String())

	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := srv.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := peer.Dial(addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial between TLS layers: %v", err)
	}
	defer c.Close()
	if _, ok := c.(*tls.Conn); !ok {
		t.Fatalf("dialled connection is %T, want *tls.Conn", c)
	}
	c.Write([]byte("rpc"))
	var sc net.Conn
	select {
	case sc = <-accepted:
	case <-time.After(15 * time.Second):
		t.Fatal("the TLS connection never reached Accept")
	}
	defer sc.Close()
	if _, ok := sc.(*tls.Conn); !ok {
		t.Fatalf("accepted connection is %T, want *tls.Conn", sc)
	}
	buf := make([]byte, 3)
	sc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(sc, buf); err != nil || string(buf) != "rpc" {
		t.Fatalf("read over TLS: %q %v", buf, err)
	}

	// A plaintext peer with the right secret is dropped before Raft.
	plain := tlsLayer(t, "k", nil)
	pc, err := plain.Dial(addr, 5*time.Second)
	if err == nil {
		pc.Write([]byte("pretend raft rpc"))
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(pc); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("a plaintext peer's connection was left open")
		}
		pc.Close()
	}

	// A peer whose certificates another CA signed fails the handshake.
	stranger := tlsLayer(t, "k", &other)
	if sc, err := stranger.Dial(addr, 5*time.Second); err == nil {
		sc.Close()
		t.Fatal("a peer of another CA completed the TLS handshake")
	}

	// A plaintext connection accepted before TLS was configured is refused.
	p1, p2 := net.Pipe()
	defer p2.Close()
	go func() { srv.conns <- p1 }()
	if c, err := srv.Accept(); err == nil {
		c.Close()
		t.Fatal("Accept handed Raft a plaintext connection on a TLS layer")
	}
}
