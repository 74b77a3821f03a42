package node

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/internal/testhost"
	"github.com/wardenkv/warden/node/config"
)

// firstReply dials addr from src and returns the first reply line to PING.
func firstReply(t *testing.T, addr, src string) string {
	t.Helper()
	line, _ := reply(t, addr, src, false)
	return line
}

// deniedReply is firstReply that also reports whether the server closed
// the connection after the reply.
func deniedReply(t *testing.T, addr, src string) (string, bool) {
	t.Helper()
	return reply(t, addr, src, true)
}

func reply(t *testing.T, addr, src string, waitClose bool) (string, bool) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, "*1\r\n$4\r\nPING\r\n"); err != nil && !errors.Is(err, io.EOF) {
		// A refused connection may be closed before the write lands.
		t.Logf("write: %v", err)
	}
	r := bufio.NewReader(nc)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the reply from %s: %v", addr, err)
	}
	if !waitClose {
		return strings.TrimRight(line, "\r\n"), false
	}
	// Closed: EOF, or a reset when the PING arrived after the close.
	_, err = r.ReadByte()
	var ne net.Error
	return strings.TrimRight(line, "\r\n"), err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// startOn runs an in-process node bound to bind with directives and its
// log collected.
func startOn(t *testing.T, bind string, directives ...string) (*Server, *testhost.LogBuffer) {
	t.Helper()
	cfg := config.New()
	for _, kv := range [][2]string{{"port", "0"}, {"dir", t.TempDir()}, {"bind", bind}, {"save", ""}} {
		if err := cfg.Set(kv[0], kv[1], false); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i+1 < len(directives); i += 2 {
		if err := cfg.Set(directives[i], directives[i+1], false); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testhost.LogBuffer{}
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serveUntilCleanup(t, s)
	return s, logs
}

// Protected mode as Redis 7.0 applies it: with protected-mode yes and no
// password, a client from a non-loopback address gets DENIED (the same
// bytes a real redis-server sends) and is disconnected, whatever bind
// says; loopback clients, a password or protected-mode no let clients in.
func TestProtectedMode(t *testing.T) {
	ip := testhost.HostIP(t, "protected mode")

	// What Redis 7.0 itself answers, bound to the same address.
	real := redistest.Start(t, "", "--bind", ip+" 127.0.0.1")
	_, realPort, _ := net.SplitHostPort(real.Addr)
	want, closed := deniedReply(t, net.JoinHostPort(ip, realPort), ip)
	if !strings.HasPrefix(want, "-DENIED ") || !closed {
		t.Fatalf("real redis-server: %q (closed %v), want DENIED and a closed connection", want, closed)
	}
	if want != "-"+errDenied {
		t.Errorf("errDenied differs from Redis 7.0's text:\nredis %q\nours  %q", want, "-"+errDenied)
	}

	s, logs := startOn(t, ip)
	got, closed := deniedReply(t, s.Addr().String(), ip)
	if got != want || !closed {
		t.Fatalf("bind %s, protected-mode yes, no password: %q (closed %v); want Redis's DENIED and a close", ip, got, closed)
	}
	if !strings.Contains(logs.String(), "protected mode refuses clients from other hosts") {
		t.Errorf("no start-up warning for a non-loopback bind without a password:\n%s", logs)
	}
	// CONFIG SET protected-mode no (from loopback in Redis; here through
	// the config, as the server is bound to ip only) lets the next one in.
	if err := s.cfg.Set("protected-mode", "no", true); err != nil {
		t.Fatal(err)
	}
	if got := firstReply(t, s.Addr().String(), ip); got != "+PONG" {
		t.Errorf("after CONFIG SET protected-mode no: %q, want +PONG", got)
	}
	if n := s.stats.rejectedConns.Load(); n != 1 {
		t.Errorf("rejected_connections = %d, want 1", n)
	}

	// A password: the client is let in, and asked to authenticate.
	s2, _ := startOn(t, ip, "requirepass", "pw")
	if got := firstReply(t, s2.Addr().String(), ip); got != "-NOAUTH Authentication required." {
		t.Errorf("with requirepass: %q, want NOAUTH", got)
	}
	// protected-mode no from the start.
	s3, logs3 := startOn(t, ip, "protected-mode", "no")
	if got := firstReply(t, s3.Addr().String(), ip); got != "+PONG" {
		t.Errorf("with protected-mode no: %q, want +PONG", got)
	}
	if !strings.Contains(logs3.String(), "anyone who reaches this port can read and change all data") {
		t.Errorf("no start-up warning for protected-mode no on a non-loopback bind:\n%s", logs3)
	}
	// Bound everywhere: loopback clients are in, the others refused.
	s4, _ := startOn(t, "*")
	_, port, _ := net.SplitHostPort(s4.Addr().String())
	if got := firstReply(t, net.JoinHostPort("127.0.0.1", port), "127.0.0.1"); got != "+PONG" {
		t.Errorf("bind *, loopback client: %q, want +PONG", got)
	}
	if got := firstReply(t, net.JoinHostPort(ip, port), ip); got != want {
		t.Errorf("bind *, client from %s: %q, want DENIED", ip, got)
	}
	// The default loopback bind says nothing.
	_, logs5 := startOn(t, "127.0.0.1")
	if strings.Contains(logs5.String(), "non-loopback") {
		t.Errorf("a warning on a loopback bind:\n%s", logs5)
	}
}
