package raftfsm

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func newTestLayer(t *testing.T, secret string) *streamLayer {
	t.Helper()
	s, err := newStreamLayer("127.0.0.1:0", "127.0.0.1:0", secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func layerAddr(s *streamLayer) raft.ServerAddress { return raft.ServerAddress(s.ln.Addr().String()) }

// expectClosedByPeer reads from c until the listener drops it. A timeout
// means the connection was left open, which is the failure.
func expectClosedByPeer(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: connection still open after 10s", what)
	}
}

func TestStreamLayerHandshake(t *testing.T) {
	srv := newTestLayer(t, "k1")
	friend := newTestLayer(t, "k1")
	stranger := newTestLayer(t, "k2")

	// Wrong secret: the listener drops the connection, Accept never sees it.
	c, err := stranger.Dial(layerAddr(srv), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("pretend raft rpc"))
	expectClosedByPeer(t, c, "wrong secret")
	c.Close()

	// Raw connections that do not speak the handshake are dropped too.
	for name, hello := range map[string][]byte{
		"garbage":       []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n!!!!!!!!!!!!!!!!"),
		"magic no key":  append([]byte(handshakeMagic), make([]byte, 32)...),
		"short + close": []byte("WRDN"),
	} {
		rc, err := net.Dial("tcp", string(layerAddr(srv)))
		if err != nil {
			t.Fatal(err)
		}
		rc.Write(hello)
		if name == "short + close" {
			rc.(*net.TCPConn).CloseWrite()
		}
		expectClosedByPeer(t, rc, name)
		rc.Close()
	}

	// The right secret: the connection reaches Accept, in both directions.
	accepted := make(chan net.Conn, 1)
	go func() {
		ac, err := srv.Accept()
		if err != nil {
			t.Errorf("Accept: %v", err)
			close(accepted)
			return
		}
		accepted <- ac
	}()
	fc, err := friend.Dial(layerAddr(srv), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if _, err := fc.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	var ac net.Conn
	select {
	case ac = <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("a correctly keyed connection was not accepted")
	}
	if ac == nil {
		t.FailNow()
	}
	defer ac.Close()
	buf := make([]byte, 5)
	ac.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(ac, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("accepted conn read %q %v, want the first payload after the handshake", buf, err)
	}
	if _, err := ac.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	fc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(fc, buf[:4]); err != nil || string(buf[:4]) != "back" {
		t.Fatalf("dialer read %q %v", buf[:4], err)
	}
}

func TestStreamLayerCloseUnblocksAccept(t *testing.T) {
	s, err := newStreamLayer("127.0.0.1:0", "127.0.0.1:0", "k")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Accept()
		errc <- err
	}()
	s.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Accept after Close returned a connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
	if _, err := s.Accept(); err == nil {
		t.Fatal("second Accept after Close succeeded")
	}
}

func TestStreamLayerAdvertise(t *testing.T) {
	s, err := newStreamLayer("127.0.0.1:0", "10.0.0.5:7000", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Addr().String(); got != "10.0.0.5:7000" {
		t.Fatalf("Addr %s, want the advertised 10.0.0.5:7000", got)
	}
	// An unspecified advertise host falls back to what was bound.
	s2, err := newStreamLayer("127.0.0.1:0", "0.0.0.0:7000", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, want := s2.Addr().String(), s2.ln.Addr().String(); got != want {
		t.Fatalf("Addr %s, want the bound %s", got, want)
	}
	if _, err := newStreamLayer("127.0.0.1:0", "no-port", "k"); err == nil {
		t.Fatal("bad advertise address accepted")
	}
}

func TestStreamLayerDialRefused(t *testing.T) {
	s := newTestLayer(t, "k")
	if _, err := s.Dial(raft.ServerAddress(freeAddr(t)), 500*time.Millisecond); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
}
