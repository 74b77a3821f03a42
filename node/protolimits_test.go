package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testhost"
	"github.com/wardenkv/warden/node/config"
)

// startLoggedServer is startServer with the log kept for the test.
func startLoggedServer(t *testing.T, directives ...string) (*Server, string, *testhost.LogBuffer) {
	t.Helper()
	cfg := config.New()
	directives = append([]string{"port", "0", "dir", t.TempDir()}, directives...)
	for i := 0; i+1 < len(directives); i += 2 {
		if err := cfg.Set(directives[i], directives[i+1], false); err != nil {
			t.Fatal(err)
		}
	}
	logs := &testhost.LogBuffer{}
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	serveUntilCleanup(t, s)
	return s, s.Addr().String(), logs
}

// exchange sends in on a new connection and returns what the server
// answers. When the server is expected to close, that is everything until
// it does (closed true); otherwise a PING is sent after in and the answers
// up to its PONG are returned, with closed false. A server that keeps the
// connection open when it should close fails the test at a 20 s deadline.
func exchange(t *testing.T, addr, in string, expectClose bool) (reply string, closed bool) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(nc, in); err != nil {
		t.Fatalf("write %.40q: %v", in, err)
	}
	if !expectClose {
		io.WriteString(nc, "PING\r\n")
	}
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		got = append(got, buf[:n]...)
		// An input that itself holds a PING (and then must close) may see
		// its +PONG in a read of its own: only the trailing PING ends early.
		if !expectClose && bytes.HasSuffix(got, []byte("+PONG\r\n")) {
			return strings.TrimSuffix(string(got), "+PONG\r\n"), false
		}
		if err != nil {
			if err == io.EOF || errors.Is(err, syscall.ECONNRESET) {
				return string(got), true
			}
			t.Fatalf("%.40q: read: %v after %.200q", in, err, got)
		}
	}
}

type protoCase struct {
	in     string
	reply  string
	closed bool
}

// protoCases are complete inputs and what redis-server 7.0.15 answers.
var protoCases = []protoCase{
	{"*0\r\n", "", false},
	{"*-5\r\n", "", false},
	{"*-1\r\n", "", false},
	{"*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"*9223372036854775807\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"*99999999999999999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"*01\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"*+1\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"*1\r\nx\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n", true},
	{"*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"*1\r\n$04\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"*2\r\n$4\r\nECHO\r\n$2\r\nhixx", "$2\r\nhi\r\n", false},
	{"PING\r\n*abc\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n", true},
	{"ECHO \"a\"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"ECHO 'ab\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"ECHO a\"b c\"d\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"ECHO a\"b c\" \r\n", "$4\r\nab c\r\n", false},
	{"ECHO \"\\x41\\n\"\r\n", "$2\r\nA\n\r\n", false},
	{"ECHO 'it\\'s'\r\n", "$4\r\nit's\r\n", false},
	{"ECHO \vx\r\n", "$1\r\nx\r\n", false},
	{"\r\n  \r\nECHO x\n", "$1\r\nx\r\n", false},
	{strings.Repeat("x", 65537), "-ERR Protocol error: too big inline request\r\n", true},
	{"*" + strings.Repeat("1", 70000), "-ERR Protocol error: too big mbulk count string\r\n", true},
	{"*1\r\n$" + strings.Repeat("1", 70000), "-ERR Protocol error: too big bulk count string\r\n", true},
}

func checkProtoCases(t *testing.T, addr, who string, cases []protoCase) {
	t.Helper()
	for _, tc := range cases {
		reply, closed := exchange(t, addr, tc.in, tc.closed)
		if reply != tc.reply || closed != tc.closed {
			t.Errorf("%s: %.40q: reply %q closed=%v, want %q closed=%v", who, tc.in, reply, closed, tc.reply, tc.closed)
		}
	}
}

// startRedis runs a real redis-server on a free port, or skips.
func startRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: cannot compare with Redis")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cmd := exec.Command(bin, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + port
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
}

// TestProtocolErrorsMatchRedis: malformed input gets Redis's exact replies
// and the connection is closed (or kept) as Redis does. The same table runs
// against a real redis-server, so it is Redis's behaviour, not a guess.
func TestProtocolErrorsMatchRedis(t *testing.T) {
	_, addr, _ := startLoggedServer(t)
	checkProtoCases(t, addr, "warden", protoCases)
	t.Run("redis", func(t *testing.T) {
		checkProtoCases(t, startRedis(t), "redis", protoCases)
	})
}

// unauthCases need requirepass "secret".
var unauthCases = []protoCase{
	{"*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n", true},
	{"*1\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n", true},
	{"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$450000000\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n", true},
	{"PING\r\n*11\r\n", "-NOAUTH Authentication required.\r\n-ERR Protocol error: unauthenticated multibulk length\r\n", true},
	// A pipelined AUTH lifts the limits for what follows it.
	{"AUTH secret\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n" + strings.Repeat("v", 20000) + "\r\n", "+OK\r\n+OK\r\n", false},
	{"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n*12\r\n" + strings.Repeat("$1\r\nx\r\n", 12), "+OK\r\n-ERR unknown command 'x', with args beginning with: 'x' 'x' 'x' 'x' 'x' 'x' 'x' 'x' 'x' 'x' 'x' \r\n", false},
	// RESET puts them back.
	{"AUTH secret\r\nRESET\r\n*11\r\n", "+OK\r\n+RESET\r\n-ERR Protocol error: unauthenticated multibulk length\r\n", true},
}

// TestUnauthenticatedLimits: with requirepass set, a client that has not
// authenticated cannot send more than 10 arguments or a bulk above 16 KB
// (before, it could stream a 450 MB bulk into the server's memory).
func TestUnauthenticatedLimits(t *testing.T) {
	_, addr, _ := startLoggedServer(t, "requirepass", "secret")
	checkProtoCases(t, addr, "warden", unauthCases)
	t.Run("redis", func(t *testing.T) {
		checkProtoCases(t, startRedis(t, "--requirepass", "secret"), "redis", unauthCases)
	})
}

// processCPU is the CPU time this process used so far.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func connectedClients(t *testing.T, addr string) int {
	t.Helper()
	reply, closed := exchange(t, addr, "INFO clients\r\n", false)
	if closed {
		t.Fatalf("INFO: connection closed: %q", reply)
	}
	for _, l := range strings.Split(reply, "\r\n") {
		if v, ok := strings.CutPrefix(l, "connected_clients:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatalf("no connected_clients in %q", reply)
	return 0
}

// waitClients polls connected_clients (the polling connection counts one)
// until it is n.
func waitClients(t *testing.T, addr string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := connectedClients(t, addr)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connected_clients is %d, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHugeMultibulkCount: a declared count costs nothing until elements
// arrive. Before, "*9223372036854775807\r\n" (22 bytes) pinned a core
// forever and left the connection in connected_clients after the client
// left, and "*2147483647\r\n" cost about 1.4 s of CPU per read.
func TestHugeMultibulkCount(t *testing.T) {
	_, addr, _ := startLoggedServer(t)
	before := processCPU(t)
	if reply, closed := exchange(t, addr, "*9223372036854775807\r\n", true); !closed || reply != "-ERR Protocol error: invalid multibulk length\r\n" {
		t.Fatalf("reply %q closed=%v", reply, closed)
	}
	// INT_MAX is a valid count: feed elements in separate reads.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(nc, "*2147483647\r\n")
	for i := 0; i < 5; i++ {
		time.Sleep(50 * time.Millisecond) // separate reads on the server
		io.WriteString(nc, "$1\r\nx\r\n")
	}
	waitClients(t, addr, 2) // the pending command's connection and the poller
	nc.Close()
	waitClients(t, addr, 1)
	if used := processCPU(t) - before; used > 3*time.Second {
		t.Fatalf("the server used %v of CPU on two 22-byte headers", used)
	}
}

// flood writes total bytes of chunk (after head) until the server stops
// reading, and returns what the server answered, whether it closed, and
// how much was written.
func flood(t *testing.T, addr, head string, chunk []byte, total int64) (reply string, closed bool, written int64) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	type result struct {
		reply  []byte
		closed bool
	}
	readc := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(nc) // until EOF or reset
		readc <- result{b, err == nil || errors.Is(err, syscall.ECONNRESET)}
	}()
	io.WriteString(nc, head)
	for written < total {
		n, err := nc.Write(chunk)
		written += int64(n)
		if err != nil {
			break
		}
	}
	// The whole flood went through: the server kept reading. Give it time
	// to answer anyway, then stop waiting.
	nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	r := <-readc
	return string(r.reply), r.closed, written
}

// TestInlineRequestLimit: an inline line without a newline is refused past
// 64 KB. Before, it was buffered without bound (1 GB sent, 3.1 GB RSS).
func TestInlineRequestLimit(t *testing.T) {
	_, addr, _ := startLoggedServer(t)
	rss := rssBytes()
	const total = 200 << 20
	reply, closed, written := flood(t, addr, "", bytes.Repeat([]byte("x"), 64<<10), total)
	if reply != "-ERR Protocol error: too big inline request\r\n" || !closed {
		t.Fatalf("after %d bytes: reply %q closed=%v", written, reply, closed)
	}
	if written >= total {
		t.Fatalf("the server read all %d bytes", written)
	}
	if grew := rssBytes() - rss; grew > 64<<20 {
		t.Fatalf("RSS grew by %d MB", grew>>20)
	}
	waitClients(t, addr, 1)
}

// TestQueryBufferLimit: client-query-buffer-limit is enforced as Redis
// does: the client is closed without a reply and the server logs it.
// Before, the directive was accepted but not enforced.
func TestQueryBufferLimit(t *testing.T) {
	_, addr, logs := startLoggedServer(t, "client-query-buffer-limit", "1mb")
	rss := rssBytes()
	const total = 300 << 20
	reply, closed, written := flood(t, addr, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n", bytes.Repeat([]byte("v"), 64<<10), total)
	if reply != "" || !closed {
		t.Fatalf("after %d bytes: reply %q closed=%v, want a silent close", written, reply, closed)
	}
	if written >= total {
		t.Fatalf("the server read all %d bytes", written)
	}
	if grew := rssBytes() - rss; grew > 64<<20 {
		t.Fatalf("RSS grew by %d MB", grew>>20)
	}
	waitClients(t, addr, 1)
	if l := logs.String(); !strings.Contains(l, "closing client that reached max query buffer length") {
		t.Fatalf("not logged:\n%s", l)
	}
	// A command under the limit still works.
	val := strings.Repeat("w", 900<<10)
	if reply, closed := exchange(t, addr, fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n", len(val), val), false); reply != "+OK\r\n" || closed {
		t.Fatalf("900 KB SET under a 1 MB limit: %q closed=%v", reply, closed)
	}
}

// TestUnauthenticatedBulkNotBuffered: before AUTH, a big bulk is refused
// from its header, before any of it is buffered.
func TestUnauthenticatedBulkNotBuffered(t *testing.T) {
	_, addr, _ := startLoggedServer(t, "requirepass", "secret")
	rss := rssBytes()
	const total = 450 << 20
	reply, closed, written := flood(t, addr, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$450000000\r\n", bytes.Repeat([]byte("v"), 64<<10), total)
	if reply != "-ERR Protocol error: unauthenticated bulk length\r\n" || !closed || written >= total {
		t.Fatalf("after %d bytes: reply %q closed=%v", written, reply, closed)
	}
	if grew := rssBytes() - rss; grew > 64<<20 {
		t.Fatalf("RSS grew by %d MB", grew>>20)
	}
}
