package clusterpub

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// peerServer is a minimal RESP peer: it wants AUTH pass first, then
// records each CLUSTER PUBLISH-LOCAL and answers :1.
type peerServer struct {
	ln   net.Listener
	pass string
	got  chan [2]string

	mu    sync.Mutex
	conns []net.Conn
}

func newPeer(t *testing.T, pass string) *peerServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peerServer{ln: ln, pass: pass, got: make(chan [2]string, 10000)}
	t.Cleanup(func() { ln.Close(); p.dropAll() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			go p.serve(c)
		}
	}()
	return p
}

func (p *peerServer) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func readArray(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || line[0] != '*' {
		return nil, fmt.Errorf("not an array: %q", line)
	}
	var args []string
	for range n {
		hdr, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l, _ := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args = append(args, string(b[:l]))
	}
	return args, nil
}

func (p *peerServer) serve(c net.Conn) {
	r := bufio.NewReader(c)
	authed := p.pass == ""
	for {
		args, err := readArray(r)
		if err != nil {
			c.Close()
			return
		}
		switch {
		case !authed && len(args) == 2 && args[0] == "AUTH" && args[1] == p.pass:
			authed = true
			io.WriteString(c, "+OK\r\n")
		case !authed:
			io.WriteString(c, "-NOAUTH Authentication required.\r\n")
		case len(args) == 4 && args[0] == "CLUSTER" && args[1] == "PUBLISH-LOCAL":
			p.got <- [2]string{args[2], args[3]}
			io.WriteString(c, ":1\r\n")
		default:
			io.WriteString(c, "-ERR unexpected\r\n")
		}
	}
}

func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func (p *peerServer) expect(t *testing.T, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		select {
		case m := <-p.got:
			if want := [2]string{"ch", strconv.Itoa(i)}; m != want {
				t.Fatalf("message %d: got %v, want %v", i, m, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("message %d never arrived", i)
		}
	}
}

// Messages reach every peer in order after AUTH, survive a dropped
// connection (redialled), and stop when a peer leaves the set.
func TestFanout(t *testing.T) {
	a, b := newPeer(t, "pw"), newPeer(t, "pw")
	f := New(Config{Dial: dial, Auth: func() (string, string) { return "", "pw" }})
	defer f.Close()
	f.SetPeers([]string{a.ln.Addr().String(), b.ln.Addr().String()})
	for i := range 1000 {
		f.Publish([]byte("ch"), []byte(strconv.Itoa(i)))
	}
	a.expect(t, 0, 1000)
	b.expect(t, 0, 1000)

	a.dropAll() // the peer's end goes away: the sender notices and redials
	deadline := time.Now().Add(30 * time.Second)
	next := 1000
	for got := false; !got; {
		if time.Now().After(deadline) {
			t.Fatal("no message reached a after its connection dropped")
		}
		f.Publish([]byte("ch"), []byte(strconv.Itoa(next)))
		next++
		select {
		case <-a.got:
			got = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	b.expect(t, 1000, next)

	f.SetPeers([]string{b.ln.Addr().String()})
	f.Publish([]byte("ch"), []byte(strconv.Itoa(next)))
	b.expect(t, next, next+1)
	select {
	case m := <-a.got:
		// A frame in flight when it left may land; none published after.
		if m[1] == strconv.Itoa(next) {
			t.Fatalf("a got %v after leaving the set", m)
		}
	case <-time.After(200 * time.Millisecond):
	}
	if sent, _ := f.Stats(); sent < 2000 {
		t.Fatalf("sent %d, want at least 2000", sent)
	}
}

// A peer that cannot be reached holds at most QueueLen messages; the rest
// are dropped and counted, and Publish never blocks.
func TestFanoutDropsWhenQueueFull(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	f := New(Config{Dial: dial, QueueLen: 10})
	defer f.Close()
	f.SetPeers([]string{addr})
	for i := range 25 {
		f.Publish([]byte("ch"), []byte(strconv.Itoa(i)))
	}
	if _, dropped := f.Stats(); dropped != 15 {
		t.Fatalf("dropped %d, want 15", dropped)
	}
}

func TestFrame(t *testing.T) {
	got := string(Frame([]byte("c"), []byte("hello")))
	want := "*4\r\n$7\r\nCLUSTER\r\n$13\r\nPUBLISH-LOCAL\r\n$1\r\nc\r\n$5\r\nhello\r\n"
	if got != want {
		t.Fatalf("Frame = %q, want %q", got, want)
	}
}
