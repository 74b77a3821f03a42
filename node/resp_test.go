package node

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// respVal is one decoded RESP2/RESP3 reply, kept exact enough to compare
// warden's replies with redis-server's.
type respVal struct {
	Kind  byte // the RESP type byte: + - : $ * _ , # % ~ > ( =
	Str   string
	Null  bool
	Elems []respVal
}

func (v respVal) isErr() bool { return v.Kind == '-' }

// String renders the reply the way it reads in a test failure.
func (v respVal) String() string {
	switch {
	case v.Null:
		return "(nil)"
	case v.Kind == '-':
		return "-" + v.Str
	case v.Kind == '+':
		return "+" + v.Str
	case v.Kind == ':':
		return ":" + v.Str
	case v.Kind == '*' || v.Kind == '~' || v.Kind == '>' || v.Kind == '%':
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = e.String()
		}
		return string(v.Kind) + "[" + strings.Join(parts, " ") + "]"
	}
	return strconv.Quote(v.Str)
}

// readResp reads one reply.
func readResp(r *bufio.Reader) (respVal, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return respVal{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return respVal{}, fmt.Errorf("malformed line %q", line)
	}
	v := respVal{Kind: line[0]}
	body := line[1 : len(line)-2]
	switch v.Kind {
	case '+', '-', ':', ',', '#', '(':
		v.Str = body
	case '_':
		v.Null = true
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return v, fmt.Errorf("bad bulk length %q", line)
		}
		if n == -1 {
			v.Null = true
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return v, err
		}
		v.Str = string(buf[:n])
		if v.Kind == '!' {
			v.Kind = '-'
		}
	case '*', '~', '>', '%':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return v, fmt.Errorf("bad aggregate length %q", line)
		}
		if n == -1 {
			v.Null = true
			return v, nil
		}
		if v.Kind == '%' {
			n *= 2
		}
		for range n {
			e, err := readResp(r)
			if err != nil {
				return v, err
			}
			v.Elems = append(v.Elems, e)
		}
	default:
		return v, fmt.Errorf("unknown reply type %q", line)
	}
	return v, nil
}

// respClient is one raw connection that sends commands and reads replies
// with a deadline, so a server that never answers fails the test instead of
// hanging it.
type respClient struct {
	c net.Conn
	r *bufio.Reader
}

func dialResp(t testing.TB, addr string) *respClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &respClient{c: c, r: bufio.NewReader(c)}
}

// do sends args and reads one reply within timeout.
func (rc *respClient) do(timeout time.Duration, args ...string) (respVal, error) {
	rc.c.SetDeadline(time.Now().Add(timeout))
	if _, err := rc.c.Write(respCommand(args...)); err != nil {
		return respVal{}, err
	}
	return readResp(rc.r)
}

// mustDo is do that fails the test on a transport error.
func (rc *respClient) mustDo(t testing.TB, args ...string) respVal {
	t.Helper()
	v, err := rc.do(20*time.Second, args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return v
}

func (rc *respClient) close() { rc.c.Close() }
