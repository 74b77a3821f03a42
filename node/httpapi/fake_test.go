package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeView is a View whose answers the test sets and whose calls it records.
type fakeView struct {
	mu        sync.Mutex
	status    Status
	ready     bool
	reason    string
	leader    bool
	info      LeaderInfo
	joinErr   error
	joinResp  JoinResponse
	joins     []JoinRequest
	failErr   error
	failovers []int
	handoffs  []string // "shard/target/epoch" of CompleteHandoff calls
}

func (f *fakeView) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeView) Ready() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready, f.reason
}

func (f *fakeView) IsLeader() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leader
}

func (f *fakeView) Leader() LeaderInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

func (f *fakeView) Join(ctx context.Context, req JoinRequest) (JoinResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins = append(f.joins, req)
	return f.joinResp, f.joinErr
}

func (f *fakeView) Failover(ctx context.Context, shard int, _ string, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failovers = append(f.failovers, shard)
	if f.failErr != nil {
		return f.failErr
	}
	// Like the real leader: the FSM names the new master once Failover returns.
	for i := range f.status.Shards {
		if f.status.Shards[i].ID == shard && len(f.status.Shards[i].Replicas) > 0 {
			sh := &f.status.Shards[i]
			sh.Master, sh.Replicas[0] = sh.Replicas[0], sh.Master
			sh.MasterAddr = "127.0.0.1:" + map[string]string{"n1": "6381", "n2": "6382", "n3": "6383"}[sh.Master]
		}
	}
	return nil
}

func (f *fakeView) CompleteHandoff(_ context.Context, shard int, target string, epoch uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handoffs = append(f.handoffs, fmt.Sprintf("%d/%s/%d", shard, target, epoch))
	return f.failErr
}

func (f *fakeView) set(fn func(f *fakeView)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeView) calls() (joins []JoinRequest, failovers []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]JoinRequest(nil), f.joins...), append([]int(nil), f.failovers...)
}

type fakeMetrics struct{}

func (fakeMetrics) RaftState() string         { return "Leader" }
func (fakeMetrics) RaftTerm() uint64          { return 7 }
func (fakeMetrics) Failovers() uint64         { return 3 }
func (fakeMetrics) UnsyncedFailovers() uint64 { return 1 }
func (fakeMetrics) Epoch() uint64             { return 12 }
func (fakeMetrics) Role() string              { return "master" }
func (fakeMetrics) ReplOffset() int64         { return 123456 }
func (fakeMetrics) ReplicaLags() map[string]int64 {
	return map[string]int64{"127.0.0.1:6382": 0, "127.0.0.1:6383": 4096}
}
func (fakeMetrics) CommandsProcessed() uint64 { return 99 }
func (fakeMetrics) ConnectedClients() int     { return 5 }

func sampleStatus() Status {
	return Status{
		NodeID: "n1",
		Raft:   RaftStatus{State: "Leader", Term: 7, LastLogIndex: 40, CommitIndex: 40, AppliedIndex: 39},
		Leader: LeaderInfo{NodeID: "n1", RaftAddr: "127.0.0.1:7001", HTTPAddr: "127.0.0.1:8081"},
		Epoch:  12,
		Shards: []Shard{{ID: 0, Name: "mymaster", Master: "n1", MasterAddr: "127.0.0.1:6381",
			Replicas: []string{"n2", "n3"}, Epoch: 12, Slots: "0-16383"}},
		Members: []Member{
			{ID: "n1", Addr: "127.0.0.1:6381", State: "alive", Role: "master", Offset: 5000, Voter: true, HTTPAddr: "127.0.0.1:8081"},
			{ID: "n2", Addr: "127.0.0.1:6382", State: "alive", Role: "replica", Offset: 5000, Voter: true, HTTPAddr: "127.0.0.1:8082"},
			{ID: "n3", Addr: "127.0.0.1:6383", State: "pfail", Role: "replica", Offset: 904, Lag: 4096, Voter: false, HTTPAddr: "127.0.0.1:8083"},
		},
	}
}

// start runs a Server on an ephemeral loopback port and returns its base URL.
func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(cfg)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return s, "http://" + s.Addr().String()
}

type reply struct {
	code   int
	body   string
	header http.Header
}

func do(t *testing.T, method, url, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, string(b), resp.Header}
}

func (r reply) expect(t *testing.T, code int, bodyContains string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.body, bodyContains) {
		t.Fatalf("got %d %q, want %d containing %q", r.code, r.body, code, bodyContains)
	}
}
