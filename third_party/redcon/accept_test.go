package redcon

// warden: the accept loop backs off after errors.

import (
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// emfileListener fails every Accept as a process out of descriptors does.
type emfileListener struct {
	calls  atomic.Int64
	closed chan struct{}
}

func (l *emfileListener) Accept() (net.Conn, error) {
	l.calls.Add(1)
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
}

func (l *emfileListener) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}

func (l *emfileListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestAcceptBackoff: while Accept fails (EMFILE) the loop sleeps 5 ms
// doubling to 1 s between attempts, as net/http does. Before, it retried at
// once: one core spinning and ~130 k "accept failed" log lines a second.
func TestAcceptBackoff(t *testing.T) {
	ln := &emfileListener{closed: make(chan struct{})}
	srv := NewServerNetwork("tcp", "127.0.0.1:0", func(Conn, Command) {}, nil, nil)
	var reported atomic.Int64
	srv.AcceptError = func(error) { reported.Add(1) }
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	time.Sleep(2 * time.Second)
	// 5+10+...+640 ms then 1 s steps: about 9 attempts in 2 s (fewer on a
	// loaded machine, never more).
	if n := ln.calls.Load(); n > 15 || n < 1 {
		t.Fatalf("%d Accept calls in 2 s", n)
	}
	if n := reported.Load(); n > 15 || n < 1 {
		t.Fatalf("AcceptError called %d times in 2 s", n)
	}
	srv.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
}
