package main

// Unit tests of the resharding tools' client side: planning from /status,
// submission, polling and rendering, against an httptest server that
// serves the HTTP contract (POST/GET /migrations, POST/DELETE /shards)
// with a simulated mover. The same tools against real warden processes
// are in reshard_cluster_test.go.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
	"github.com/wardenkv/warden/reshard"
	"github.com/wardenkv/warden/slotmap"
)

// fakeCluster serves the contract over a slot table it keeps: an
// accepted migration moves keys on every GET /migrations and flips its
// slots after polls polls, unless cancel names it.
type fakeCluster struct {
	t      *testing.T
	mu     sync.Mutex
	shards []reshard.Shard
	master []string // per shard; "" = no master yet
	ms     []*migrationInfo
	polls  map[uint64]int
	// cancel: migration id -> reason to cancel it with.
	cancel   map[uint64]string
	pollsFor int
	// leaderless: state-changing requests answered 503 "no raft leader"
	// (an election) before one is served.
	leaderless int
	maxBusy    int // most migrations under way at once
	noMover    bool
	requests   []string // "METHOD path" of the state-changing requests
	unsigned   int      // state-changing requests without a signature
	removed    map[int]bool
}

func newFakeCluster(t *testing.T, slots ...string) *fakeCluster {
	f := &fakeCluster{t: t, polls: map[uint64]int{}, cancel: map[uint64]string{}, pollsFor: 3, removed: map[int]bool{}}
	for i, s := range slots {
		var rs []slotmap.Range
		for _, part := range strings.Fields(s) {
			r, err := slotmap.ParseRange(part)
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		f.shards = append(f.shards, reshard.Shard{ID: i, Slots: rs})
		f.master = append(f.master, fmt.Sprintf("m%d", i))
	}
	return f
}

func (f *fakeCluster) serve() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		st := httpapi.Status{NodeID: "fake"}
		for i, sh := range f.shards {
			var parts []string
			for _, r := range sh.Slots {
				parts = append(parts, r.String())
			}
			st.Shards = append(st.Shards, httpapi.Shard{ID: sh.ID, Master: f.master[i], Slots: strings.Join(parts, " "), Removed: f.removed[i]})
		}
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /migrations", f.signed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.noMover {
			http.NotFound(w, r)
			return
		}
		var req migrationRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var rs []slotmap.Range
		for _, p := range req.Ranges {
			rs = append(rs, slotmap.Range{Start: p[0], End: p[1]})
		}
		if req.From < 0 || req.From >= len(f.shards) || req.To < 0 || req.To >= len(f.shards) ||
			!reshard.Contains(f.shards[req.From].Slots, rs) {
			http.Error(w, "source does not own the slots", http.StatusConflict)
			return
		}
		busy := 0
		for _, m := range f.ms {
			if m.terminal() {
				continue
			}
			busy++
			for _, p := range m.Ranges {
				if reshard.Contains(rs, []slotmap.Range{{Start: p[0], End: p[0]}}) || reshard.Contains(rs, []slotmap.Range{{Start: p[1], End: p[1]}}) {
					http.Error(w, "slots are already being migrated", http.StatusConflict)
					return
				}
			}
		}
		f.maxBusy = max(f.maxBusy, busy+1)
		m := &migrationInfo{ID: uint64(len(f.ms) + 1), From: req.From, To: req.To, Ranges: req.Ranges, State: raftfsm.MigrationCopying}
		f.ms = append(f.ms, m)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, m.ID)
	}))
	mux.HandleFunc("GET /migrations", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, m := range f.ms {
			if m.terminal() {
				continue
			}
			f.polls[m.ID]++
			m.KeysMoved += 100
			m.BytesMoved += 10_000
			if reason, ok := f.cancel[m.ID]; ok && f.polls[m.ID] >= 2 {
				m.State, m.Reason = raftfsm.MigrationCancelled, reason
				continue
			}
			if f.polls[m.ID] >= f.pollsFor {
				var rs []slotmap.Range
				for _, p := range m.Ranges {
					rs = append(rs, slotmap.Range{Start: p[0], End: p[1]})
				}
				f.shards[m.From].Slots = reshard.Subtract(f.shards[m.From].Slots, rs)
				f.shards[m.To].Slots = reshard.Subtract(append(f.shards[m.To].Slots, rs...), nil)
				m.State = raftfsm.MigrationDone
			}
		}
		list := []migrationInfo{}
		for _, m := range f.ms {
			list = append(list, *m)
		}
		json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("DELETE /shards/{id}", f.signed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		id, _ := strconv.Atoi(r.PathValue("id"))
		if len(f.shards[id].Slots) > 0 {
			http.Error(w, "shard still owns slots", http.StatusConflict)
			return
		}
		f.removed[id] = true
		fmt.Fprintf(w, `{"id":%d,"removed":true}`, id)
	}))
	mux.HandleFunc("POST /shards", f.signed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.shards = append(f.shards, reshard.Shard{ID: len(f.shards)})
		f.master = append(f.master, "")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, len(f.shards)-1)
	}))
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return srv
}

// signed records the request and counts those without a signature.
func (f *fakeCluster) signed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.leaderless > 0 {
			f.leaderless--
			f.mu.Unlock()
			http.Error(w, "no raft leader", http.StatusServiceUnavailable)
			return
		}
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		if !strings.HasPrefix(r.Header.Get("Authorization"), httpapi.SignatureScheme+" ") {
			f.unsigned++
		}
		f.mu.Unlock()
		h(w, r)
	}
}

func (f *fakeCluster) counts() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int, len(f.shards))
	for i, s := range f.shards {
		out[i] = reshard.Count(s.Slots)
	}
	return out
}

func fastPolls(t *testing.T) {
	old := pollEvery
	pollEvery = time.Millisecond
	t.Cleanup(func() { pollEvery = old })
	t.Setenv(secretEnv, "s3cret")
}

func TestReshardCLIPlain(t *testing.T) {
	fastPolls(t)
	f := newFakeCluster(t, "0-5460", "5461-10922", "10923-16383")
	srv := f.serve()
	var out bytes.Buffer
	err := runReshard([]string{"--http", srv.URL, "--from", "2", "--to", "0", "--slots", "1500", "--batch", "1024"}, &out)
	if err != nil {
		t.Fatalf("reshard: %v\n%s", err, out.String())
	}
	if got := f.counts(); got[0] != 5461+1500 || got[2] != 5461-1500 {
		t.Fatalf("slot counts after the move: %v", got)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"migration 1: slots 14884-15907 shard 2 -> 0: done, 1024 slots, 300 keys, 29.3 KiB in",
		"migration 2: slots 15908-16383 shard 2 -> 0: done, 476 slots, 300 keys, 29.3 KiB in",
		"moved 1500 slots, 600 keys, 58.6 KiB in",
	}
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s\nwant %d lines", out.String(), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d: %q, want prefix %q", i, lines[i], want[i])
		}
	}
	if f.unsigned != 0 {
		t.Errorf("%d state-changing requests were not signed", f.unsigned)
	}

	// --slot-range moves exactly that range, back.
	out.Reset()
	if err := runReshard([]string{"--http", srv.URL, "--from", "0", "--to", "2", "--slot-range", "14884-16383"}, &out); err != nil {
		t.Fatalf("reshard --slot-range: %v\n%s", err, out.String())
	}
	if got := f.counts(); got[0] != 5461 || got[2] != 5461 {
		t.Fatalf("slot counts after moving back: %v", got)
	}
	if !strings.Contains(out.String(), "slots 14884-15907 shard 0 -> 2: done") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestReshardCLICancelled: a migration the cluster rolls back ends the
// tool with a non-zero exit, the reason and how far it got.
func TestReshardCLICancelled(t *testing.T) {
	fastPolls(t)
	f := newFakeCluster(t, "0-8191", "8192-16383")
	f.cancel[2] = "target master failed"
	srv := f.serve()
	var out bytes.Buffer
	err := runReshard([]string{"--http", srv.URL, "--from", "0", "--to", "1", "--slots", "3000"}, &out)
	if err == nil {
		t.Fatalf("a cancelled migration gave no error:\n%s", out.String())
	}
	for _, want := range []string{"1024 of 3000 slots moved", "migration 2", "cancelled", "target master failed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if !strings.Contains(out.String(), "migration 2: slots 6216-7239 shard 0 -> 1: cancelled") {
		t.Errorf("output does not show the cancelled range:\n%s", out.String())
	}
	if n := len(f.ms); n != 2 {
		t.Errorf("%d migrations submitted, want 2 (none after the failure)", n)
	}
}

func TestRebalanceCLI(t *testing.T) {
	fastPolls(t)
	f := newFakeCluster(t, "0-5460", "5461-10922", "10923-16383")
	srv := f.serve()
	var out bytes.Buffer
	// add-shard (through an election: retried), then a rebalance that
	// leaves the masterless new shard out.
	f.leaderless = 2
	if err := runCluster([]string{"add-shard", "--http", srv.URL}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "shard 3 added") {
		t.Fatalf("add-shard output: %s", out.String())
	}
	out.Reset()
	if err := runRebalance([]string{"--http", srv.URL}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nothing to move") || len(f.ms) != 0 {
		t.Fatalf("rebalance with the new shard masterless moved slots:\n%s", out.String())
	}
	f.mu.Lock()
	f.master[3] = "m3"
	f.mu.Unlock()
	out.Reset()
	if err := runRebalance([]string{"--http", srv.URL, "--dry-run"}, &out); err != nil {
		t.Fatal(err)
	}
	if len(f.ms) != 0 || !strings.Contains(out.String(), "plan: shard 0 -> 3: 1365 slots (4096-5460)") {
		t.Fatalf("dry run:\n%s", out.String())
	}
	out.Reset()
	if err := runRebalance([]string{"--http", srv.URL}, &out); err != nil {
		t.Fatalf("rebalance: %v\n%s", err, out.String())
	}
	got := f.counts()
	for i, n := range got {
		if n < 4096 || n > 4096 {
			t.Errorf("shard %d has %d slots after rebalancing: %v", i, n, got)
		}
	}
	if len(f.ms) != 6 { // 1365, 1366, 1365 slots, each in batches of 1024
		t.Errorf("%d migrations, want 6", len(f.ms))
	}
	out.Reset()
	if err := runRebalance([]string{"--http", srv.URL}, &out); err != nil || !strings.Contains(out.String(), "nothing to move") {
		t.Fatalf("second rebalance: %v\n%s", err, out.String())
	}
	want := []string{"POST /shards"}
	for range 6 {
		want = append(want, "POST /migrations")
	}
	if strings.Join(f.requests, ",") != strings.Join(want, ",") || f.unsigned != 0 {
		t.Errorf("requests %q (%d unsigned), want %q", f.requests, f.unsigned, want)
	}
}

// TestRebalanceCLIParallel: --parallel 3 keeps up to three migrations
// under way, and still moves every slot.
func TestRebalanceCLIParallel(t *testing.T) {
	fastPolls(t)
	f := newFakeCluster(t, "0-16383", "", "", "")
	srv := f.serve()
	var out bytes.Buffer
	if err := runRebalance([]string{"--http", srv.URL, "--parallel", "3", "--batch", "512"}, &out); err != nil {
		t.Fatalf("rebalance: %v\n%s", err, out.String())
	}
	for i, n := range f.counts() {
		if n != 4096 {
			t.Errorf("shard %d has %d slots", i, n)
		}
	}
	if f.maxBusy != 3 {
		t.Errorf("at most %d migrations were under way at once, want 3", f.maxBusy)
	}
	if got := strings.Count(out.String(), ": done, 512 slots"); got != 24 {
		t.Errorf("%d lines of 512 slots done, want 24:\n%s", got, out.String())
	}
}

func TestRemoveShardCLI(t *testing.T) {
	fastPolls(t)
	f := newFakeCluster(t, "0-4095", "4096-8191", "8192-12287", "12288-16383")
	srv := f.serve()
	var out bytes.Buffer
	if err := runCluster([]string{"remove-shard", "3", "--http", srv.URL}, &out); err != nil {
		t.Fatalf("remove-shard: %v\n%s", err, out.String())
	}
	if got := f.counts(); got[3] != 0 || got[0]+got[1]+got[2] != slotmap.NumSlots || got[0] != 5462 {
		t.Fatalf("counts after draining shard 3: %v", got)
	}
	if !f.removed[3] || !strings.Contains(out.String(), "shard 3 removed") {
		t.Fatalf("shard 3 not removed:\n%s", out.String())
	}
	if last := f.requests[len(f.requests)-1]; last != "DELETE /shards/3" {
		t.Errorf("last request %q, want DELETE /shards/3", last)
	}
	// Removing it again: it is no longer a shard in service.
	if err := runCluster([]string{"remove-shard", "--http", srv.URL, "3"}, &out); err == nil {
		t.Error("removing a removed shard succeeded")
	}
}

func TestReshardCLIRefuses(t *testing.T) {
	fastPolls(t)
	f := newFakeCluster(t, "0-8191", "8192-16383")
	srv := f.serve()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"too many slots", []string{"--from", "0", "--to", "1", "--slots", "9000"}, "does not own that many"},
		{"range not owned", []string{"--from", "0", "--to", "1", "--slot-range", "8000-8200"}, "does not own every slot"},
		{"unknown target", []string{"--from", "0", "--to", "5", "--slots", "1"}, "no such shard"},
		{"both forms", []string{"--from", "0", "--to", "1", "--slots", "1", "--slot-range", "1-2"}, "exactly one"},
		{"no target", []string{"--from", "0", "--slots", "1"}, "--from and --to are required"},
	}
	for _, c := range cases {
		err := runReshard(append([]string{"--http", srv.URL}, c.args...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	// A migration under way: planning is refused.
	f.ms = append(f.ms, &migrationInfo{ID: 1, From: 1, To: 0, State: raftfsm.MigrationCopying})
	f.pollsFor = 1 << 30
	err := runRebalance([]string{"--http", srv.URL}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "migration 1 (shard 1 -> 0) is still copying") {
		t.Errorf("rebalance during a migration: %v", err)
	}
	f.ms = nil
	// A build without the mover.
	f.noMover = true
	err = runReshard([]string{"--http", srv.URL, "--from", "0", "--to", "1", "--slots", "1"}, &bytes.Buffer{})
	if !errors.Is(err, errNoMigrations) {
		t.Errorf("POST /migrations 404: %v, want errNoMigrations", err)
	}
}

// TestReshardBar renders the terminal progress bar into a buffer: slot
// count, keys and bytes moved, rate.
func TestReshardBar(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, 2048)
	b.update(1024, 5000, 3<<20)
	time.Sleep(150 * time.Millisecond) // past the bar's render throttle
	b.update(2048, 10000, 6<<20)
	b.close()
	s := buf.String()
	for _, want := range []string{"2048/2048", "10000 keys", "6.0 MiB", "slots/s"} {
		if !strings.Contains(s, want) {
			t.Errorf("bar output %q lacks %q", s, want)
		}
	}
}
