package sentinel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testhost"
)

// fakeView is a View the tests change at will.
type fakeView struct {
	mu          sync.Mutex
	id          string
	masters     []Master
	peers       []Peer
	failoverErr error
	failovers   []string
	ckquorum    string
	ckquorumErr error
	vouchErr    error
}

func (v *fakeView) MyID() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.id
}

func (v *fakeView) Masters() []Master {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Master, len(v.masters))
	copy(out, v.masters)
	return out
}

func (v *fakeView) Sentinels() []Peer {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Peer(nil), v.peers...)
}

func (v *fakeView) Failover(name string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failovers = append(v.failovers, name)
	return v.failoverErr
}

func (v *fakeView) CKQuorum(name string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.ckquorum, v.ckquorumErr
}

func (v *fakeView) Vouch() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.vouchErr
}

func (v *fakeView) setMaster(i int, m Master) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.masters[i] = m
}

// sampleView: shard 0 "mymaster" with two replicas (one down), shard 1
// "mymaster-1" with none, shard 2 "mymaster-2" without a master yet; two
// other sentinels, one down.
func sampleView() *fakeView {
	return &fakeView{
		id: "n1",
		masters: []Master{
			{
				Name: "mymaster", ID: "n1", Addr: Addr{"127.0.0.1", 6379}, RunID: "run-n1", Epoch: 7,
				Quorum: 2, DownAfterMs: 1000,
				Replicas: []Replica{
					{ID: "n2", Addr: Addr{"127.0.0.1", 6380}, RunID: "run-n2", LinkUp: true, Offset: 1234, Priority: 100},
					{ID: "n3", Addr: Addr{"127.0.0.1", 6381}, RunID: "run-n3", Down: true, Offset: 1000, Priority: 0},
				},
			},
			{Name: "mymaster-1", ID: "n2", Addr: Addr{"10.0.0.2", 7000}, RunID: "run-n2b", Epoch: 3, Quorum: 2, DownAfterMs: 1000, Down: true, FailoverInProgress: true},
			{Name: "mymaster-2", Quorum: 2, DownAfterMs: 1000},
		},
		peers: []Peer{
			{ID: "n2", Addr: Addr{"127.0.0.1", 26380}, RunID: "run-n2"},
			{ID: "n3", Addr: Addr{"127.0.0.1", 26381}, Down: true},
		},
		ckquorum: "OK 3 usable Sentinels. Quorum and failover authorization can be reached",
	}
}

// startServer runs a listener on a free loopback port until cleanup.
func startServer(t testing.TB, v View) (*Server, *testhost.LogBuffer) {
	t.Helper()
	logs := &testhost.LogBuffer{}
	s := New("127.0.0.1:0", v, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return after Close")
		}
		if strings.Contains(logs.String(), "panic serving") {
			t.Errorf("a command panicked:\n%s", logs.String())
		}
	})
	return s, logs
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---- a raw RESP2 client, to see reply types exactly

type (
	status    string   // +...
	respErr   string   // -...
	nullBulk  struct{} // $-1
	nullArray struct{} // *-1
)

type rawConn struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *rawConn) writeRaw(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func encode(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// do sends one command and reads its reply.
func (c *rawConn) do(args ...string) any {
	c.t.Helper()
	c.writeRaw(encode(args...))
	v, err := c.read()
	if err != nil {
		c.t.Fatalf("%q: reading reply: %v", args, err)
	}
	return v
}

func (c *rawConn) read() (any, error) {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return readReply(c.r)
}

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(line, "\r\n") || len(line) < 3 {
		return nil, fmt.Errorf("bad line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return status(body), nil
	case '-':
		return respErr(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nullBulk{}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nullArray{}, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errors.New("unknown reply type " + strconv.Quote(line))
}

// fieldMap turns a flat field/value array into a map.
func fieldMap(t testing.TB, v any) map[string]string {
	t.Helper()
	a, ok := v.([]any)
	if !ok || len(a)%2 != 0 {
		t.Fatalf("not a field/value array: %#v", v)
	}
	m := map[string]string{}
	for i := 0; i < len(a); i += 2 {
		k, ok1 := a[i].(string)
		val, ok2 := a[i+1].(string)
		if !ok1 || !ok2 {
			t.Fatalf("field %d is not two bulk strings: %#v", i/2, a[i:i+2])
		}
		m[k] = val
	}
	return m
}

// fieldNames returns the field names of a flat field/value array in order.
func fieldNames(t testing.TB, v any) []string {
	t.Helper()
	a := v.([]any)
	var out []string
	for i := 0; i < len(a); i += 2 {
		out = append(out, a[i].(string))
	}
	return out
}
