package redcon

// warden: tests of the rewritten reader (reader.go). The expected replies
// are what redis-server 7.0.15 answers to the same bytes (node's
// TestProtocolErrorsMatchRedis replays these cases against a real
// redis-server too).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chunkReader hands out data n bytes per Read, as a slow client would.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.n, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readAll parses everything r yields and returns the commands (arguments
// joined by "|") and the error that ended the stream (nil at a clean EOF).
func readAll(t testing.TB, rd *Reader, check func()) ([]string, error) {
	var got []string
	for {
		cmds, err := rd.readCommands(nil)
		if check != nil {
			check()
		}
		for _, c := range cmds {
			args := make([]string, len(c.Args))
			for i, a := range c.Args {
				args[i] = string(a)
			}
			got = append(got, strings.Join(args, "|"))
		}
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		if len(cmds) == 0 {
			t.Fatalf("readCommands returned neither commands nor an error")
		}
	}
}

type readerCase struct {
	in   string
	auth bool // the client must authenticate first
	want []string
	err  string // "" when the input ends cleanly (possibly mid-command)
}

var readerCases = []readerCase{
	// Empty multibulks are ignored, as Redis does.
	{in: "*0\r\nPING\r\n", want: []string{"PING"}},
	{in: "*-5\r\nPING\r\n", want: []string{"PING"}},
	{in: "*-1\r\n*1\r\n$4\r\nPING\r\n", want: []string{"PING"}},
	// Counts up to INT_MAX are accepted (and cost nothing until elements
	// arrive); above, or not a strict decimal, they are refused.
	{in: "*2147483647\r\n"},
	{in: "*1048577\r\n$1\r\na\r\n"},
	{in: "*2147483648\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*9223372036854775807\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*99999999999999999999\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*abc\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*1 \r\n$4\r\nPING\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "* 1\r\n$4\r\nPING\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*+1\r\n$4\r\nPING\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*01\r\n$4\r\nPING\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*-0\r\n", err: "Protocol error: invalid multibulk length"},
	{in: "*1\r\nx\r\n", err: "Protocol error: expected '$', got 'x'"},
	{in: "*1\r\n$-1\r\n", err: "Protocol error: invalid bulk length"},
	{in: "*1\r\n$abc\r\n", err: "Protocol error: invalid bulk length"},
	{in: "*1\r\n$04\r\nPING\r\n", err: "Protocol error: invalid bulk length"},
	{in: "*1\r\n$536870913\r\n", err: "Protocol error: invalid bulk length"},
	// Redis skips the two bytes after a bulk unchecked, and needs "\r"
	// (not a bare "\n") to end a count line.
	{in: "*1\r\n$4\r\nPINGxx", want: []string{"PING"}},
	{in: "*1\n$4\nPING\n"},
	{in: "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", want: []string{"GET|"}},
	// Commands before a bad one run first.
	{in: "PING\r\n*abc\r\n", want: []string{"PING"}, err: "Protocol error: invalid multibulk length"},
	// Inline requests: sdssplitargs rules.
	{in: "SET a b\r\nGET a\n", want: []string{"SET|a|b", "GET|a"}},
	{in: "\r\n\r\n   \r\nPING\n", want: []string{"PING"}},
	{in: "ECHO \"a\"b\r\n", err: "Protocol error: unbalanced quotes in request"},
	{in: "ECHO \"ab\r\n", err: "Protocol error: unbalanced quotes in request"},
	{in: "ECHO a\"b c\"d\r\n", err: "Protocol error: unbalanced quotes in request"},
	{in: "ECHO 'ab\r\n", err: "Protocol error: unbalanced quotes in request"},
	{in: "ECHO a\"b c\" d\r\n", want: []string{"ECHO|ab c|d"}},
	{in: "ECHO \"\\x41\\n\\q\\a\" '\\'x\\n'\r\n", want: []string{"ECHO|A\nq\a|'x\\n"}},
	{in: "ECHO \"\" '' x\r\n", want: []string{"ECHO|||x"}},
	{in: "ECHO \vx\r\n", want: []string{"ECHO|x"}},
	{in: "ECHO a\vb\tc\r\n", want: []string{"ECHO|a\vb|c"}},
	{in: "ECHO a\x00b c\r\n", want: []string{"ECHO|a"}},
	// Line limits (PROTO_INLINE_MAX_SIZE).
	{in: strings.Repeat("x", 65536)},
	{in: strings.Repeat("x", 65537), err: "Protocol error: too big inline request"},
	{in: "ECHO " + strings.Repeat("x", 70000) + "\r\n", err: "Protocol error: too big inline request"},
	{in: "ECHO " + strings.Repeat("x", 60000) + "\r\n", want: []string{"ECHO|" + strings.Repeat("x", 60000)}},
	{in: "*" + strings.Repeat("1", 70000), err: "Protocol error: too big mbulk count string"},
	{in: "*1\r\n$" + strings.Repeat("1", 70000), err: "Protocol error: too big bulk count string"},
	// Clients that must authenticate first.
	{in: "*11\r\n", auth: true, err: "Protocol error: unauthenticated multibulk length"},
	{in: "*10\r\n", auth: true},
	{in: "*1\r\n$16385\r\n", auth: true, err: "Protocol error: unauthenticated bulk length"},
	{in: "*1\r\n$16384\r\n", auth: true},
	{in: "*1\r\n$4\r\nPING\r\n*11\r\n", auth: true, want: []string{"PING"}, err: "Protocol error: unauthenticated multibulk length"},
	{in: "AUTH x\r\n*1\r\n$450000000\r\n", auth: true, want: []string{"AUTH|x"}, err: "Protocol error: unauthenticated bulk length"},
}

func TestReaderMatchesRedis(t *testing.T) {
	for _, tc := range readerCases {
		for _, chunk := range []int{1 << 30, 1, 3, 4096} {
			for _, zc := range []bool{false, true} {
				rd := NewReader(&chunkReader{data: []byte(tc.in), n: chunk})
				rd.zeroCopy, rd.authRequired = zc, tc.auth
				got, err := readAll(t, rd, nil)
				name := fmt.Sprintf("%.40q chunk=%d zeroCopy=%v", tc.in, chunk, zc)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
					t.Errorf("%s: commands %q, want %q", name, got, tc.want)
				}
				if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
					t.Errorf("%s: error %v, want %q", name, err, tc.err)
				}
				if err != nil && !IsProtocolError(err) {
					t.Errorf("%s: %v is not a protocol error", name, err)
				}
			}
		}
	}
}

// A pipelined AUTH lifts the unauthenticated limits for the commands after
// it: the reader stops after each command while the client must
// authenticate, and the handler flips the flag in between.
func TestReaderAuthLiftsLimits(t *testing.T) {
	big := strings.Repeat("v", 20000)
	in := "AUTH pw\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n" + big + "\r\n" + "*12\r\n" + strings.Repeat("$1\r\nx\r\n", 12)
	rd := NewReader(bytes.NewReader([]byte(in)))
	rd.zeroCopy, rd.authRequired = true, true
	cmds, err := rd.readCommands(nil)
	if err != nil || len(cmds) != 1 || string(cmds[0].Args[0]) != "AUTH" {
		t.Fatalf("first batch %v, %v; want AUTH alone", cmds, err)
	}
	rd.authRequired = false // what SetAuthenticated(conn, true) does
	got, err := readAll(t, rd, nil)
	if err != nil || len(got) != 2 || got[0] != "SET|k|"+big || got[1] != strings.Repeat("x|", 11)+"x" {
		t.Fatalf("after AUTH: %d commands, %v", len(got), err)
	}
}

// A command that drops the authentication (RESET) puts the limits back for
// what follows it in the same pipeline, although the reader had already
// begun (or refused) the next command without them.
func TestReaderDeauthReparses(t *testing.T) {
	for _, in := range []string{
		"*1\r\n$5\r\nRESET\r\n*11\r\n",         // next command begun
		"*1\r\n$5\r\nRESET\r\n*11\r\nPING\r\n", // next command refused
	} {
		rd := NewReader(bytes.NewReader([]byte(in)))
		rd.zeroCopy = true
		cmds, err := rd.readCommands(nil)
		if err != nil || len(cmds) != 1 || string(cmds[0].Args[0]) != "RESET" {
			t.Fatalf("%q: first batch %v, %v", in, cmds, err)
		}
		rd.setAuthRequired(true) // what SetAuthenticated(conn, false) does
		if _, err := readAll(t, rd, nil); err != errUnauthMultiBulkLength {
			t.Fatalf("%q: after RESET: %v, want %v", in, err, errUnauthMultiBulkLength)
		}
	}
}

// threadCPU is the CPU time the calling OS thread used.
func threadCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		t.Skipf("no per-thread CPU time here: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A declared count is not work: the old reader looped over it on every
// read (about 1.4 s of CPU per read for INT_MAX, forever for larger ones).
// This parses INT_MAX-count commands fed one byte per read and measures
// the CPU of this thread only, so other load on the machine does not count.
func TestReaderDeclaredCountCostsNothing(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	in := "*2147483647\r\n" + strings.Repeat("$1\r\nx\r\n", 200)
	before := threadCPU(t)
	rd := NewReader(&chunkReader{data: []byte(in), n: 1})
	rd.zeroCopy = true
	got, err := readAll(t, rd, nil)
	used := threadCPU(t) - before
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want an incomplete command", got, err)
	}
	if used > time.Second {
		t.Fatalf("parsing %d bytes one per read used %v of CPU", len(in), used)
	}
	if len(rd.marks) != 400 {
		t.Fatalf("%d marks recorded, want 400 (two per argument received)", len(rd.marks))
	}
}

func withQueryBufferLimit(t *testing.T, n int64) {
	old := queryBufLimit.Load()
	SetQueryBufferLimit(n)
	t.Cleanup(func() { SetQueryBufferLimit(old) })
}

// endless repeats a pattern forever after a prefix.
type endless struct {
	prefix  []byte
	pattern []byte
	off     int
	sent    int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(e.prefix) > 0 {
			c := copy(p[n:], e.prefix)
			e.prefix = e.prefix[c:]
			n += c
			continue
		}
		c := copy(p[n:], e.pattern[e.off:])
		e.off = (e.off + c) % len(e.pattern)
		n += c
	}
	e.sent += int64(n)
	return n, nil
}

func TestReaderQueryBufferLimit(t *testing.T) {
	const limit = 1 << 20
	withQueryBufferLimit(t, limit)
	for _, tc := range []struct {
		name    string
		prefix  string
		pattern string
	}{
		{"one big bulk", "*1\r\n$400000000\r\n", "x"},
		{"endless small arguments", "*2147483647\r\n", "$0\r\n\r\n"},
		{"many bulks of one command", "*2147483647\r\n", "$100\r\n" + strings.Repeat("y", 100) + "\r\n"},
	} {
		src := &endless{prefix: []byte(tc.prefix), pattern: []byte(tc.pattern)}
		rd := NewReader(src)
		rd.zeroCopy = true
		_, err := readAll(t, rd, func() {})
		var qe *QueryBufferError
		if !errors.Is(err, ErrQueryBufferLimit) || !errors.As(err, &qe) {
			t.Fatalf("%s: error %v, want the query buffer limit", tc.name, err)
		}
		if IsProtocolError(err) {
			t.Fatalf("%s: %v must close without a reply, not as a protocol error", tc.name, err)
		}
		if !bytes.HasPrefix([]byte(tc.prefix+tc.pattern), qe.Head[:min(len(qe.Head), len(tc.prefix)+1)]) {
			t.Fatalf("%s: head %q", tc.name, qe.Head)
		}
		if cap(rd.buf) > limit+1 || len(rd.marks)*markCost > limit+16 {
			t.Fatalf("%s: buffer %d bytes, %d marks past the %d limit", tc.name, cap(rd.buf), len(rd.marks), limit)
		}
		if src.sent > 2*limit {
			t.Fatalf("%s: read %d bytes before refusing", tc.name, src.sent)
		}
	}
	// A command just under the limit is fine.
	val := strings.Repeat("z", limit-100)
	in := fmt.Sprintf("*1\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n", len(val), val)
	got, err := readAll(t, NewReader(&chunkReader{data: []byte(in), n: 65536}), nil)
	if err != nil || len(got) != 2 || got[1] != "PING" {
		t.Fatalf("command under the limit: %d commands, %v", len(got), err)
	}
}

// The buffer grows with what arrives, never with what is declared.
func TestReaderAllocatesAsDataArrives(t *testing.T) {
	rd := NewReader(&chunkReader{data: []byte("*1\r\n$536870000\r\n" + strings.Repeat("x", 10000)), n: 1 << 20})
	got, err := readAll(t, rd, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	if cap(rd.buf) > 32<<10 {
		t.Fatalf("buffer grew to %d bytes for 10 KB received", cap(rd.buf))
	}
}

// FuzzReader feeds arbitrary bytes in chunks and checks that parsing ends,
// that memory stays proportional to the input (never to declared counts or
// lengths), and that the result does not depend on how the bytes arrive.
func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in), uint8(1), tc.auth)
			f.Add([]byte(tc.in), uint8(7), tc.auth)
		}
	}
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n"), uint8(2), false)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, auth bool) {
		whole := NewReader(bytes.NewReader(data))
		whole.authRequired = auth
		want, wantErr := readAll(t, whole, nil)

		rd := NewReader(&chunkReader{data: data, n: int(chunk%16) + 1})
		rd.zeroCopy, rd.authRequired = chunk&0x80 != 0, auth
		calls := 0
		got, err := readAll(t, rd, func() {
			calls++
			if calls > len(data)+2 {
				t.Fatalf("%d readCommands calls for %d bytes", calls, len(data))
			}
			if cap(rd.buf) > max(initialBuf, 2*len(data)) {
				t.Fatalf("buffer of %d bytes for %d bytes of input", cap(rd.buf), len(data))
			}
			if len(rd.marks) > len(data)/3 {
				t.Fatalf("%d argument marks for %d bytes of input", len(rd.marks), len(data))
			}
			if rd.start > rd.end || rd.end > len(rd.buf) {
				t.Fatalf("buffer state start=%d end=%d len=%d", rd.start, rd.end, len(rd.buf))
			}
		})
		if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("chunked: %q, %v; whole: %q, %v", got, err, want, wantErr)
		}
		if err != nil && !IsProtocolError(err) {
			t.Fatalf("error %v is not a protocol error", err)
		}
		n := 0
		for _, c := range got {
			n += len(c)
		}
		if n > 2*len(data) {
			t.Fatalf("%d bytes of arguments from %d bytes of input", n, len(data))
		}
	})
}
