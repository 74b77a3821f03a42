package httpapi

import (
	"encoding/json"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	v := &fakeView{status: sampleStatus()}
	_, base := start(t, Config{View: v})
	r := do(t, "GET", base+"/status", "")
	r.expect(t, 200, `"node_id": "n1"`)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	var got Status
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sampleStatus()) {
		t.Fatalf("status round trip:\n got %+v\nwant %+v", got, sampleStatus())
	}
	// The field names, spelled out.
	for _, k := range []string{`"raft"`, `"last_log_index"`, `"commit_index"`, `"applied_index"`, `"leader"`,
		`"raft_addr"`, `"http_addr"`, `"epoch"`, `"shards"`, `"replicas"`, `"slots"`, `"members"`,
		`"addr"`, `"state": "pfail"`, `"role"`, `"offset"`, `"lag"`, `"voter"`, `"master_addr"`} {
		if !strings.Contains(r.body, k) {
			t.Errorf("status JSON lacks %s", k)
		}
	}
}

func TestStatusEmptyListsAreArrays(t *testing.T) {
	v := &fakeView{status: Status{NodeID: "n9", Shards: []Shard{{ID: 0, Name: "mymaster"}}}}
	_, base := start(t, Config{View: v})
	r := do(t, "GET", base+"/status", "")
	r.expect(t, 200, `"members": []`)
	if !strings.Contains(r.body, `"replicas": []`) || strings.Contains(r.body, "null") {
		t.Fatalf("want [] not null: %s", r.body)
	}
}

func TestLeader(t *testing.T) {
	v := &fakeView{}
	_, base := start(t, Config{View: v})
	do(t, "GET", base+"/leader", "").expect(t, 503, "no raft leader")

	want := LeaderInfo{NodeID: "n2", RaftAddr: "127.0.0.1:7002", HTTPAddr: "127.0.0.1:8082"}
	v.set(func(f *fakeView) { f.info = want })
	r := do(t, "GET", base+"/leader", "")
	r.expect(t, 200, `"node_id": "n2"`)
	var got LeaderInfo
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || got != want {
		t.Fatalf("leader %+v (%v), want %+v", got, err, want)
	}
}

func TestHealthAndReady(t *testing.T) {
	v := &fakeView{reason: "no raft leader yet"}
	_, base := start(t, Config{View: v})
	r := do(t, "GET", base+"/healthz", "")
	if r.code != 200 || strings.TrimSpace(r.body) != "ok" {
		t.Fatalf("healthz %d %q", r.code, r.body)
	}
	do(t, "GET", base+"/readyz", "").expect(t, 503, "no raft leader yet")

	v.set(func(f *fakeView) { f.reason = "" })
	do(t, "GET", base+"/readyz", "").expect(t, 503, "not ready")

	v.set(func(f *fakeView) { f.ready = true })
	r = do(t, "GET", base+"/readyz", "")
	if r.code != 200 || strings.TrimSpace(r.body) != "ready" {
		t.Fatalf("readyz %d %q", r.code, r.body)
	}
	// HEAD works for probes that only look at the status.
	if r := do(t, "HEAD", base+"/healthz", ""); r.code != 200 {
		t.Fatalf("HEAD healthz %d", r.code)
	}
}

func TestWrongMethodsAndPaths(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v})
	for _, c := range []struct{ method, path string }{
		{"POST", "/status"}, {"DELETE", "/leader"}, {"PUT", "/healthz"}, {"POST", "/readyz"},
		{"GET", "/join"}, {"PUT", "/join"}, {"GET", "/failover"}, {"POST", "/metrics"},
	} {
		r := do(t, c.method, base+c.path, "{}")
		if r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") == "" {
			t.Errorf("%s %s: %d (Allow %q), want 405 with Allow", c.method, c.path, r.code, r.header.Get("Allow"))
		}
	}
	do(t, "GET", base+"/nope", "").expect(t, 404, "")
	if j, f := v.calls(); len(j)+len(f) != 0 {
		t.Fatalf("wrong methods reached the view: %v %v", j, f)
	}
}

func TestLifecycle(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0", View: &fakeView{}})
	if s.Addr() != nil {
		t.Fatal("Addr before Listen should be nil")
	}
	if err := s.Serve(); err == nil {
		t.Fatal("Serve before Listen should fail")
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()

	// The port is taken now.
	s2 := New(Config{Addr: addr, View: &fakeView{}})
	if err := s2.Listen(); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("second Listen on %s: %v", addr, err)
	}

	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	do(t, "GET", "http://"+addr+"/healthz", "").expect(t, 200, "ok")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("still accepting after Close")
	}
}

func TestCloseWithoutServeReleasesPort(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0", View: &fakeView{}})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	ln.Close()
}

func TestServerTimeoutsSet(t *testing.T) {
	s := New(Config{View: &fakeView{}})
	if s.srv.ReadHeaderTimeout == 0 || s.srv.ReadTimeout == 0 || s.srv.WriteTimeout == 0 || s.srv.IdleTimeout == 0 {
		t.Fatalf("timeouts unset: %+v", s.srv)
	}
}

// A client that never finishes its headers is cut off by ReadHeaderTimeout
// (checked against the real listener with a shortened timeout).
func TestSlowHeadersAreCutOff(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0", View: &fakeView{}})
	s.srv.ReadHeaderTimeout = 200 * time.Millisecond
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	_, err = c.Read(buf) // server closes (possibly after a 408) instead of waiting forever
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("server kept a header-less connection open past ReadHeaderTimeout")
	}
}
