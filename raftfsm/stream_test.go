package raftfsm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
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

// acceptAll hands every connection s accepts to the returned channel.
func acceptAll(t *testing.T, s *streamLayer) <-chan net.Conn {
	ch := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := s.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			ch <- c
		}
	}()
	return ch
}

func waitAccepted(t *testing.T, accepted <-chan net.Conn, what string) net.Conn {
	t.Helper()
	select {
	case c := <-accepted:
		return c
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not accepted", what)
		return nil
	}
}

// noneAccepted fails if a connection reached Accept. Called after the
// listener dropped the connection under test, so a hand-over would have
// happened already.
func noneAccepted(t *testing.T, accepted <-chan net.Conn, what string) {
	t.Helper()
	select {
	case <-accepted:
		t.Fatalf("%s: the connection reached Accept", what)
	default:
	}
}

func TestStreamLayerHandshake(t *testing.T) {
	srv := newTestLayer(t, "k1")
	friend := newTestLayer(t, "k1")
	stranger := newTestLayer(t, "k2")
	accepted := acceptAll(t, srv)

	// Wrong secret, either way round: the dialer cannot complete the
	// handshake, so it sends nothing, and the listener drops it.
	if c, err := stranger.Dial(layerAddr(srv), 5*time.Second); !errors.Is(err, ErrHandshake) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial with the wrong secret: %v, want ErrHandshake", err)
	}
	if c, err := friend.Dial(layerAddr(stranger), 5*time.Second); !errors.Is(err, ErrHandshake) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial to a listener with another secret: %v, want ErrHandshake", err)
	}

	// Raw connections that do not complete the handshake are dropped: no
	// handshake, the old static token, a hello and then silence.
	oldToken := sha256.Sum256([]byte("warden-raft:k1"))
	for name, hello := range map[string][]byte{
		"garbage":       []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n!!!!!!!!!!!!!!!!"),
		"v1 token":      append([]byte("WRDNRAFT"), oldToken[:]...),
		"magic no key":  append([]byte(handshakeMagic), make([]byte, handshakeNonce+handshakeMAC)...),
		"short + close": []byte("WRDN"),
		"hello + close": append([]byte(handshakeMagic), make([]byte, handshakeNonce)...),
	} {
		rc, err := net.Dial("tcp", string(layerAddr(srv)))
		if err != nil {
			t.Fatal(err)
		}
		rc.Write(hello)
		if strings.HasSuffix(name, "+ close") {
			rc.(*net.TCPConn).CloseWrite()
		}
		expectClosedByPeer(t, rc, name)
		rc.Close()
	}
	noneAccepted(t, accepted, "wrong secret or no handshake")

	// The right secret: the connection reaches Accept, in both directions.
	fc, err := friend.Dial(layerAddr(srv), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if _, err := fc.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	ac := waitAccepted(t, accepted, "a correctly keyed connection")
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

// recordingProxy relays one connection to target and keeps what each side
// sent, as an eavesdropper on the wire would.
type recordingProxy struct {
	ln           net.Listener
	mu           sync.Mutex
	fromDialer   bytes.Buffer
	fromListener bytes.Buffer
	dialerConn   net.Conn
	targetConn   net.Conn
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{ln: ln}
	t.Cleanup(func() { p.close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		p.mu.Lock()
		p.dialerConn, p.targetConn = c, up
		p.mu.Unlock()
		go p.copy(up, c, &p.fromDialer)
		p.copy(c, up, &p.fromListener)
	}()
	return p
}

// copy records each chunk before forwarding it, so once the far side has
// acted on bytes they are in the record.
func (p *recordingProxy) copy(dst, src net.Conn, rec *bytes.Buffer) {
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			rec.Write(buf[:n])
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *recordingProxy) recorded() (fromDialer, fromListener []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.fromDialer.Bytes()), bytes.Clone(p.fromListener.Bytes())
}

func (p *recordingProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range []net.Conn{p.dialerConn, p.targetConn} {
		if c != nil {
			c.Close()
		}
	}
}

// A handshake captured off the wire is worth nothing later: replayed to
// the listener it came from, the listener drops the connection; replayed
// by an impostor listener, the dialer refuses it.
func TestStreamLayerRefusesReplayedHandshake(t *testing.T) {
	srv := newTestLayer(t, "k1")
	friend := newTestLayer(t, "k1")
	accepted := acceptAll(t, srv)

	proxy := newRecordingProxy(t, string(layerAddr(srv)))
	fc, err := friend.Dial(raft.ServerAddress(proxy.ln.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	waitAccepted(t, accepted, "the connection through the recording proxy").Close()
	fc.Close()
	fromDialer, fromListener := proxy.recorded()
	proxy.close()
	if len(fromDialer) == 0 || len(fromListener) > len(fromDialer)+handshakeNonce+handshakeMAC {
		t.Fatalf("recorded %d bytes from the dialer, %d from the listener", len(fromDialer), len(fromListener))
	}

	// The dialer's side of the capture, sent again to the same listener.
	rc, err := net.Dial("tcp", string(layerAddr(srv)))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rc.Write(fromDialer)
	rc.Write([]byte("pretend raft rpc"))
	expectClosedByPeer(t, rc, "replayed dialer handshake")
	noneAccepted(t, accepted, "replayed dialer handshake")

	// The listener's side of the capture, played by an impostor to a
	// dialer that knows the secret.
	imp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()
	go func() {
		c, err := imp.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.ReadFull(c, make([]byte, len(handshakeMagic)+handshakeNonce))
		c.Write(fromListener)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, c)
	}()
	if c, err := friend.Dial(raft.ServerAddress(imp.Addr().String()), 5*time.Second); err == nil {
		c.Close()
		t.Fatal("dialer accepted a listener that replayed a captured handshake")
	} else if !errors.Is(err, ErrHandshake) {
		t.Fatalf("dial to the impostor: %v, want ErrHandshake", err)
	}
}

// The handshake costs a few microseconds of CPU per connection, and Raft
// keeps its connections pooled.
func BenchmarkHandshake(b *testing.B) {
	key := handshakeKey("secret")
	for b.Loop() {
		d, a := net.Pipe()
		errc := make(chan error, 1)
		go func() { errc <- acceptHandshake(a, key, time.Now().Add(time.Second)) }()
		if err := dialHandshake(d, key, time.Now().Add(time.Second)); err != nil {
			b.Fatal(err)
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		d.Close()
		a.Close()
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
	case <-time.After(30 * time.Second):
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
