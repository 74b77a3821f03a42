package sentinel

import (
	"errors"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testhost"
)

// alive fails the test unless a new connection gets PONG.
func alive(t *testing.T, s *Server) {
	t.Helper()
	c := dialRaw(t, s.Addr().String())
	if got := c.do("PING"); got != status("PONG") {
		t.Fatalf("PING on a new connection = %#v", got)
	}
	c.nc.Close()
}

// TestProtocolGarbage: malformed RESP is answered (or the connection
// dropped) without harming the listener.
func TestProtocolGarbage(t *testing.T) {
	s, _ := startServer(t, sampleView())
	for _, payload := range []string{
		"*abc\r\n",
		"*1\r\n$-5\r\n",
		"*1\r\n$99999999999999\r\n",
		"*2\r\n$3\r\nfoo\r\n", // incomplete, then closed
		"*-1\r\n",
		"*0\r\n",
		"*1\r\n+PING\r\n",
		"$4\r\nPING\r\n",
		"\x00\xff\xfe\x01\r\n",
		"\r\n\r\n\r\n",
		"\"unbalanced quote\r\n",
		"SENTINEL 'master\r\n",
		"*3\r\n$8\r\nSENTINEL\r\n$6\r\nmaster\r\n$3\r\na\r\nb\r\n",
		"ping\nping\n", // inline, bare LF
		"*1\r\n$4\r\nPING\r\nxx",
	} {
		nc, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(nc, payload)
		nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		io.Copy(io.Discard, nc) // whatever it answers, until it closes or goes quiet
		nc.Close()
		alive(t, s)
	}
}

// TestBadArguments sends every command and subcommand with arguments made of
// random bytes, of random count: each must get a well-formed reply and the
// connection must stay in step (no panics: startServer's cleanup checks the
// log).
func TestBadArguments(t *testing.T) {
	s, _ := startServer(t, sampleView())
	rng := rand.New(rand.NewSource(1))
	words := []string{"", "mymaster", "mymaster-1", "nope", "*", "-1", "0", "2", "3", "99999999999999999999",
		"AUTH", "SETNAME", "default", "a b", "\r\n", "\x00", strings.Repeat("x", 5000), "get-master-addr-by-name", "'"}
	arg := func() string {
		if rng.Intn(3) == 0 {
			b := make([]byte, rng.Intn(40))
			rng.Read(b)
			return string(b)
		}
		return words[rng.Intn(len(words))]
	}
	var names [][]string
	for name, cmd := range commands {
		names = append(names, []string{name})
		for sub := range cmd.subs {
			names = append(names, []string{name, sub})
		}
	}
	names = append(names, []string{"bogus"}, []string{"sentinel", "bogus"}, []string{"SeNtInEl", "MaStErS"})
	sort.Slice(names, func(i, j int) bool { return strings.Join(names[i], " ") < strings.Join(names[j], " ") })

	c := dialRaw(t, s.Addr().String())
	for _, name := range names {
		switch name[0] {
		case "quit", "subscribe", "psubscribe", "unsubscribe", "punsubscribe":
			continue // they change the connection's mode: TestSubscribedMode
		}
		for range 30 {
			args := append([]string(nil), name...)
			for range rng.Intn(6) {
				args = append(args, arg())
			}
			c.writeRaw(encode(args...) + encode("PING", "in-step"))
			if _, err := c.read(); err != nil {
				t.Fatalf("%q: %v", args, err)
			}
			if got, err := c.read(); err != nil || got != "in-step" {
				t.Fatalf("after %q the connection is out of step: %#v, %v", args, got, err)
			}
		}
	}

	// The mode-changing commands, each on its own connection.
	for _, name := range []string{"subscribe", "psubscribe", "unsubscribe", "punsubscribe", "quit"} {
		for range 10 {
			args := []string{name}
			for range rng.Intn(4) {
				args = append(args, arg())
			}
			c := dialRaw(t, s.Addr().String())
			c.writeRaw(encode(args...))
			if _, err := c.read(); err != nil {
				t.Fatalf("%q: %v", args, err)
			}
			c.nc.Close()
		}
	}
	alive(t, s)
}

// panickyView fails the way a buggy control plane might.
type panickyView struct{ *fakeView }

func (panickyView) Masters() []Master { panic("boom") }

// TestViewPanic: a panic while serving costs the connection, not the
// process, and is logged.
func TestViewPanic(t *testing.T) {
	logs := &testhost.LogBuffer{}
	s := New("127.0.0.1:0", panickyView{sampleView()}, slog.New(slog.NewTextHandler(logs, nil)))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	c := dialRaw(t, s.Addr().String())
	c.writeRaw(encode("SENTINEL", "masters"))
	if got, err := c.read(); err == nil {
		t.Fatalf("SENTINEL MASTERS with a panicking view = %#v, want the connection dropped", got)
	}
	if !strings.Contains(logs.String(), "panic serving a sentinel command") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
	c = dialRaw(t, s.Addr().String())
	if got := c.do("SENTINEL", "MYID"); got != "n1" {
		t.Errorf("SENTINEL MYID after a panic = %#v", got)
	}
}

// TestLifecycle: Listen reports the address before Serve; Close works
// before Serve and twice; Serve after Close returns at once.
func TestLifecycle(t *testing.T) {
	s := New("127.0.0.1:0", sampleView(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if s.Addr() != nil {
		t.Errorf("Addr before Listen = %v", s.Addr())
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if err := s.Close(); err != nil {
		t.Errorf("Close before Serve: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Serve(); err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
	if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		nc.Close()
		t.Errorf("%s still accepts after Close", addr)
	}

	// Serving, then Close: Serve returns nil and clients are disconnected,
	// subscribers included.
	s = New("127.0.0.1:0", sampleView(), nil)
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	waitFor(t, 30*time.Second, "Serve to bind", func() bool { return s.Addr() != nil })
	c := dialRaw(t, s.Addr().String())
	sub := dialRaw(t, s.Addr().String())
	sub.do("SUBSCRIBE", "+switch-master")
	c.do("PING")
	s.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve after Close = %v", err)
	}
	for _, conn := range []*rawConn{c, sub} {
		conn.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.r.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Errorf("a client was not disconnected by Close: %v", err)
		}
	}

	// A port in use: Listen fails with the address in the error.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := New(busy.Addr().String(), sampleView(), nil).Serve(); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("Serve on a busy port = %v", err)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !errors.Is(err, os.ErrDeadlineExceeded)
}
