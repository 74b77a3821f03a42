package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenkv/warden/node/httpapi"
)

// statusFakeView serves a fixed Status through a real httpapi server.
type statusFakeView struct {
	mu     sync.Mutex
	st     httpapi.Status
	ready  bool
	reason string
}

func (v *statusFakeView) Status() httpapi.Status {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.st
}

func (v *statusFakeView) Ready() (bool, string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.ready, v.reason
}
func (v *statusFakeView) IsLeader() bool { return false }
func (v *statusFakeView) Leader() httpapi.LeaderInfo {
	return v.Status().Leader
}
func (v *statusFakeView) Join(context.Context, httpapi.JoinRequest) (httpapi.JoinResponse, error) {
	return httpapi.JoinResponse{}, httpapi.ErrNotLeader
}
func (v *statusFakeView) Failover(context.Context, int, string, bool) error {
	return httpapi.ErrNotLeader
}
func (v *statusFakeView) CompleteHandoff(context.Context, int, string, uint64) error {
	return httpapi.ErrNotLeader
}

func (v *statusFakeView) setReady(ok bool, reason string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ready, v.reason = ok, reason
}

func statusSample() httpapi.Status {
	return httpapi.Status{
		NodeID: "n2",
		Raft:   httpapi.RaftStatus{State: "Follower", Term: 4, LastLogIndex: 31, CommitIndex: 30, AppliedIndex: 30},
		Leader: httpapi.LeaderInfo{NodeID: "n1", RaftAddr: "127.0.0.1:7001", HTTPAddr: "127.0.0.1:8081"},
		Epoch:  6,
		Shards: []httpapi.Shard{
			{ID: 0, Name: "mymaster", Master: "n1", MasterAddr: "127.0.0.1:6381", Replicas: []string{"n3", "n2"}, Epoch: 6, Slots: "0-16383"},
			{ID: 1, Name: "mymaster-1", Master: "n4", MasterAddr: "127.0.0.1:6384", Epoch: 2, Reason: "promoted unsynced"},
		},
		Members: []httpapi.Member{
			{ID: "n3", Addr: "127.0.0.1:6383", State: "pfail", Role: "replica", Offset: 900, Lag: 5 << 10, HTTPAddr: "127.0.0.1:8083"},
			{ID: "n1", Addr: "127.0.0.1:6381", State: "alive", Role: "master", Offset: 6020, Voter: true, HTTPAddr: "127.0.0.1:8081"},
			{ID: "n2", Addr: "127.0.0.1:6382", State: "alive", Role: "replica", Offset: 6000, Lag: 20, Voter: true, HTTPAddr: "127.0.0.1:8082"},
			{ID: "n4", Addr: "127.0.0.1:6384", State: "fail", Role: "master", Shard: 1, Offset: 77, Voter: true},
			{ID: "n5", Addr: "127.0.0.1:6385", State: "alive"},
		},
	}
}

// startStatusAPI runs a real httpapi server on loopback and returns host:port.
func startStatusAPI(t *testing.T, v *statusFakeView) string {
	t.Helper()
	s := httpapi.New(httpapi.Config{Addr: "127.0.0.1:0", View: v,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return s.Addr().String()
}

func TestStatusSummary(t *testing.T) {
	addr := startStatusAPI(t, &statusFakeView{st: statusSample()})
	var out bytes.Buffer
	if err := runStatus([]string{"--http", addr}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Logf("warden status:\n%s", got)
	for _, want := range []string{
		"node:    n2\n",
		"raft:    Follower, term 4, log 31, commit 30, applied 30\n",
		"leader:  n1  [raft 127.0.0.1:7001, http 127.0.0.1:8081]\n",
		"epoch:   6\n",
		"shard 0 mymaster  (epoch 6, slots 0-16383)\n",
		"shard 1 mymaster-1  (epoch 2, slots -)\n",
		"  note: promoted unsynced\n",
		"members (5)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	// Row contents, whitespace-insensitive (tabwriter pads columns).
	for _, want := range [][]string{
		{"master", "n1", "127.0.0.1:6381", "alive", "offset", "6020"},
		{"replica", "n2", "127.0.0.1:6382", "alive", "lag", "20", "B"},
		{"replica", "n3", "127.0.0.1:6383", "pfail", "lag", "5.0", "KiB"},
		{"master", "n4", "127.0.0.1:6384", "fail", "offset", "77"},
		{"replica", "-", "(none)"},
		{"ID", "ADDR", "STATE", "ROLE", "SHARD", "OFFSET", "LAG", "VOTER", "HTTP"},
		{"n3", "127.0.0.1:6383", "pfail", "replica", "0", "900", "5120", "no", "127.0.0.1:8083"},
		{"n4", "127.0.0.1:6384", "fail", "master", "1", "77", "-", "yes", "-"},
		{"n5", "127.0.0.1:6385", "alive", "-", "-", "0", "-", "no", "-"},
	} {
		if !hasRow(got, want) {
			t.Errorf("summary lacks a row %v", want)
		}
	}
	// Replicas of a shard are listed in id order, n2 before n3.
	if strings.Index(got, "127.0.0.1:6382  alive") > strings.Index(got, "127.0.0.1:6383  pfail") {
		t.Error("replicas not sorted")
	}
}

func hasRow(out string, fields []string) bool {
	for _, line := range strings.Split(out, "\n") {
		if reflect.DeepEqual(strings.Fields(line), fields) {
			return true
		}
	}
	return false
}

func TestStatusThisNodeLeadsAndNoLeader(t *testing.T) {
	st := statusSample()
	st.NodeID = "n1"
	v := &statusFakeView{st: st}
	addr := startStatusAPI(t, v)
	var out bytes.Buffer
	if err := runStatus([]string{"--http", addr}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "leader:  n1 (this node)") {
		t.Errorf("no (this node) marker:\n%s", out.String())
	}

	v.mu.Lock()
	v.st = httpapi.Status{NodeID: "n1", Raft: httpapi.RaftStatus{State: "Candidate", Term: 9}}
	v.mu.Unlock()
	out.Reset()
	if err := runStatus([]string{"--http", addr}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "leader:  none (no raft leader)") || !strings.Contains(out.String(), "members (0)") {
		t.Errorf("empty cluster summary:\n%s", out.String())
	}
}

func TestStatusJSON(t *testing.T) {
	addr := startStatusAPI(t, &statusFakeView{st: statusSample()})
	var out bytes.Buffer
	if err := runStatus([]string{"--json", "--http", "http://" + addr}, &out); err != nil {
		t.Fatal(err)
	}
	var got httpapi.Status
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out.String())
	}
	want := statusSample()
	want.Shards[1].Replicas = []string{} // the server sends [] for none
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("--json round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestStatusDefaultAddrFromEnv(t *testing.T) {
	addr := startStatusAPI(t, &statusFakeView{st: statusSample()})
	t.Setenv("WARDEN_HTTP_ADDR", addr)
	var out bytes.Buffer
	if err := runStatus(nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "node:    n2") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestStatusErrors(t *testing.T) {
	dead := deadAddr(t)
	var out bytes.Buffer
	if err := runStatus([]string{"--http", dead}, &out); err == nil || !strings.Contains(err.Error(), dead) {
		t.Errorf("unreachable node: %v", err)
	}
	if err := runStatus([]string{"--nope"}, &out); err == nil {
		t.Error("unknown flag accepted")
	}
	if err := runStatus([]string{"extra"}, &out); err == nil {
		t.Error("extra argument accepted")
	}
	if out.Len() != 0 {
		t.Errorf("output on error: %q", out.String())
	}
}

func TestHealthcheck(t *testing.T) {
	v := &statusFakeView{reason: "not reconciled to the FSM"}
	addr := startStatusAPI(t, v)

	err := runHealthcheck([]string{"--http", addr})
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "not reconciled to the FSM") {
		t.Fatalf("not ready: %v", err)
	}
	// Liveness only needs the process to answer.
	if err := runHealthcheck([]string{"--http", addr, "--live"}); err != nil {
		t.Fatalf("--live: %v", err)
	}
	v.setReady(true, "")
	if err := runHealthcheck([]string{"--http", addr}); err != nil {
		t.Fatalf("ready: %v", err)
	}

	t.Setenv("WARDEN_HTTP_ADDR", addr)
	if err := runHealthcheck(nil); err != nil {
		t.Fatalf("env default: %v", err)
	}
	t.Setenv("WARDEN_HTTP_ADDR", deadAddr(t))
	if err := runHealthcheck(nil); err == nil {
		t.Fatal("healthy with nothing listening")
	}
	if err := runHealthcheck([]string{"--bogus"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

// A node that accepts but never answers must fail the check within the 2 s budget.
func TestHealthcheckTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	err = runHealthcheck([]string{"--http", ln.Addr().String()})
	took := time.Since(start)
	if err == nil {
		t.Fatal("healthy although the node never answered")
	}
	// It waits out its 2 s timeout; the upper bound only tells giving up
	// from hanging on a busy machine.
	if took < 1500*time.Millisecond || took > 30*time.Second {
		t.Fatalf("gave up after %v, want after its 2s timeout (%v)", took, err)
	}
	t.Logf("gave up after %v (timeout 2s)", took)
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080":       "http://127.0.0.1:8080",
		"0.0.0.0:8080":         "http://127.0.0.1:8080",
		":8080":                "http://127.0.0.1:8080",
		"[::]:8080":            "http://127.0.0.1:8080",
		"n1:8080":              "http://n1:8080",
		"http://n1:8080/":      "http://n1:8080",
		"https://warden.local": "https://warden.local",
	} {
		if got := baseURL(in); got != want {
			t.Errorf("baseURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBytesHuman(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 5 << 10: "5.0 KiB",
		3 << 20: "3.0 MiB", 1536 << 20: "1.5 GiB"} {
		if got := bytesHuman(n); got != want {
			t.Errorf("bytesHuman(%d) = %q, want %q", n, got, want)
		}
	}
}

// deadAddr is a loopback address with nothing listening.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}
