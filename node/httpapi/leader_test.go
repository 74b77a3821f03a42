package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
)

const joinBody = `{"id":"n4","raft_addr":"127.0.0.1:7004","gossip_addr":"127.0.0.1:7954",
	"http_addr":"127.0.0.1:8084","redis_addr":"127.0.0.1:6384","sentinel_addr":"127.0.0.1:26384",
	"host":"127.0.0.1","voter":true,"priority":100}`

var wantJoin = JoinRequest{ID: "n4", RaftAddr: "127.0.0.1:7004", GossipAddr: "127.0.0.1:7954",
	HTTPAddr: "127.0.0.1:8084", RedisAddr: "127.0.0.1:6384", SentinelAddr: "127.0.0.1:26384",
	Host: "127.0.0.1", Voter: true, Priority: 100}

func TestJoinOnLeader(t *testing.T) {
	v := &fakeView{leader: true, joinResp: JoinResponse{GossipAddrs: []string{"127.0.0.1:7951", "127.0.0.1:7952"}}}
	_, base := start(t, Config{View: v})
	r := do(t, "POST", base+"/join", joinBody, "Content-Type", "application/json")
	r.expect(t, 200, "gossip_addrs")
	var resp JoinResponse
	if err := json.Unmarshal([]byte(r.body), &resp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(resp.GossipAddrs, []string{"127.0.0.1:7951", "127.0.0.1:7952"}) {
		t.Fatalf("response %+v", resp)
	}
	joins, _ := v.calls()
	if len(joins) != 1 || joins[0] != wantJoin {
		t.Fatalf("view got %+v, want %+v", joins, wantJoin)
	}
}

func TestJoinBadInput(t *testing.T) {
	v := &fakeView{leader: true}
	_, base := start(t, Config{View: v})
	for _, c := range []struct{ body, want string }{
		{"", "empty body"},
		{"{", "bad join request"},
		{"[1,2]", "bad join request"},
		{`{"id":"n4"}`, "id and raft_addr are required"},
		{`{"raft_addr":"x:1"}`, "id and raft_addr are required"},
		{`{"id":"n4","raft_addr":"x:1","voter":"yes"}`, "bad join request"},
		{`{"id":"n4","raft_addr":"x:1"} {"id":"n5"}`, "trailing data"},
	} {
		do(t, "POST", base+"/join", c.body).expect(t, 400, c.want)
	}
	do(t, "POST", base+"/join", `{"id":"`+strings.Repeat("x", maxBodyBytes)+`"}`).expect(t, 413, "too large")
	if joins, _ := v.calls(); len(joins) != 0 {
		t.Fatalf("bad input reached the view: %+v", joins)
	}
}

func TestJoinErrorsMapToStatus(t *testing.T) {
	v := &fakeView{leader: true}
	_, base := start(t, Config{View: v})
	for _, c := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("node id taken: %w", ErrInvalid), 400},
		{fmt.Errorf("placement: %w", ErrUnavailable), 409},
		{errors.New("raft apply: disk full"), 500},
	} {
		v.set(func(f *fakeView) { f.joinErr = c.err })
		do(t, "POST", base+"/join", joinBody).expect(t, c.code, c.err.Error())
	}
}

func TestFailoverOnLeader(t *testing.T) {
	st := sampleStatus()
	st.Shards = append(st.Shards, Shard{ID: 2, Name: "mymaster-2", Master: "n3", MasterAddr: "127.0.0.1:6383", Replicas: []string{"n2"}})
	v := &fakeView{leader: true, status: st}
	_, base := start(t, Config{View: v})

	r := do(t, "POST", base+"/failover", "")
	r.expect(t, 200, `"master": "n2"`)
	var resp FailoverResponse
	if err := json.Unmarshal([]byte(r.body), &resp); err != nil {
		t.Fatal(err)
	}
	if resp != (FailoverResponse{Shard: 0, Master: "n2", MasterAddr: "127.0.0.1:6382"}) {
		t.Fatalf("failover response %+v", resp)
	}
	do(t, "POST", base+"/failover?shard=2", "").expect(t, 200, `"shard": 2`)
	if _, f := v.calls(); !reflect.DeepEqual(f, []int{0, 2}) {
		t.Fatalf("failovers %v, want [0 2]", f)
	}

	for _, q := range []string{"x", "-1", "1.5", "99999999999999999999"} {
		do(t, "POST", base+"/failover?shard="+q, "").expect(t, 400, "bad shard")
	}
	if _, f := v.calls(); len(f) != 2 {
		t.Fatalf("bad shard reached the view: %v", f)
	}

	for _, c := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("shard 7: %w", ErrUnknownShard), 404},
		{fmt.Errorf("no replica with priority > 0: %w", ErrUnavailable), 409},
		{errors.New("boom"), 500},
	} {
		v.set(func(f *fakeView) { f.failErr = c.err })
		do(t, "POST", base+"/failover?shard=7", "").expect(t, c.code, c.err.Error())
	}
}

// epoch with a target completes a handoff (CompleteHandoff) instead of
// starting a failover.
func TestFailoverCompletesHandoff(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v})
	do(t, "POST", base+"/failover?shard=0&target=n2&epoch=7", "").expect(t, 200, `"master"`)
	for _, q := range []string{"shard=0&epoch=7", "shard=0&target=n2&epoch=x", "shard=0&target=n2&epoch=-1"} {
		do(t, "POST", base+"/failover?"+q, "").expect(t, 400, "bad epoch")
	}
	v.set(func(f *fakeView) { f.failErr = fmt.Errorf("no handoff at epoch 8: %w", ErrUnavailable) })
	do(t, "POST", base+"/failover?shard=0&target=n2&epoch=8", "").expect(t, 409, "no handoff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if want := []string{"0/n2/7", "0/n2/8"}; !reflect.DeepEqual(v.handoffs, want) {
		t.Fatalf("CompleteHandoff calls %v, want %v", v.handoffs, want)
	}
	if len(v.failovers) != 0 {
		t.Fatalf("a handoff completion started failovers: %v", v.failovers)
	}
}

func TestAuth(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v, Secret: "s3cret"})
	for _, h := range [][]string{
		nil,
		{"Authorization", "Bearer wrong"},
		{"Authorization", "Bearer s3cret"}, // right, but in clear: refused
		{"Authorization", "Basic s3cret"},
		{"Authorization", "s3cret"},
		sign(t, "s3cret2", "POST", base+"/join", joinBody),
	} {
		r := do(t, "POST", base+"/join", joinBody, h...)
		r.expect(t, 401, "unauthorized")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), SignatureScheme) {
			t.Errorf("401 with WWW-Authenticate %q, want the %s scheme", r.header.Get("WWW-Authenticate"), SignatureScheme)
		}
		do(t, "POST", base+"/failover", "", h...).expect(t, 401, "unauthorized")
	}
	if j, f := v.calls(); len(j)+len(f) != 0 {
		t.Fatalf("unauthorized requests reached the view: %v %v", j, f)
	}
	do(t, "POST", base+"/join", joinBody, sign(t, "s3cret", "POST", base+"/join", joinBody)...).expect(t, 200, "gossip_addrs")
	do(t, "POST", base+"/failover", "", sign(t, "s3cret", "POST", base+"/failover", "")...).expect(t, 200, `"shard": 0`)
	// Read-only endpoints stay open for probes and dashboards.
	do(t, "GET", base+"/status", "").expect(t, 200, "n1")
	// Auth is checked before the body is parsed, so a stranger learns nothing from errors.
	do(t, "POST", base+"/join", "{", sign(t, "nope", "POST", base+"/join", "{")...).expect(t, 401, "unauthorized")
	// Signed, the same bad body gets the usual answer.
	do(t, "POST", base+"/join", "{", sign(t, "s3cret", "POST", base+"/join", "{")...).expect(t, 400, "bad join request")
}

// pair starts a follower and a leader that know each other.
func pair(t *testing.T, secret string) (follower, leader *fakeView, fbase, lbase string) {
	leader = &fakeView{leader: true, status: sampleStatus(),
		joinResp: JoinResponse{GossipAddrs: []string{"127.0.0.1:7951"}}}
	_, lbase = start(t, Config{View: leader, Secret: secret})
	lhttp := strings.TrimPrefix(lbase, "http://")
	leader.set(func(f *fakeView) { f.info = LeaderInfo{NodeID: "n1", RaftAddr: "127.0.0.1:7001", HTTPAddr: lhttp} })
	follower = &fakeView{info: LeaderInfo{NodeID: "n1", RaftAddr: "127.0.0.1:7001", HTTPAddr: lhttp}}
	_, fbase = start(t, Config{View: follower, Secret: secret})
	return
}

func TestForwardToLeader(t *testing.T) {
	follower, leader, fbase, _ := pair(t, "tok")
	post := func(path, body string) reply {
		return do(t, "POST", fbase+path, body, sign(t, "tok", "POST", fbase+path, body)...)
	}

	r := post("/join", joinBody)
	r.expect(t, 200, "127.0.0.1:7951")
	if r.header.Get(LeaderHeader) != "n1" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("forwarded reply headers %v", r.header)
	}
	r = post("/failover?shard=0", "")
	r.expect(t, 200, `"master": "n2"`)

	lj, lf := leader.calls()
	if len(lj) != 1 || lj[0] != wantJoin || !reflect.DeepEqual(lf, []int{0}) {
		t.Fatalf("leader saw joins %+v failovers %v", lj, lf)
	}
	if fj, ff := follower.calls(); len(fj)+len(ff) != 0 {
		t.Fatalf("follower's view was called: %v %v", fj, ff)
	}

	// The leader's errors come back unchanged.
	leader.set(func(f *fakeView) { f.failErr = fmt.Errorf("shard 3: %w", ErrUnknownShard) })
	post("/failover?shard=3", "").expect(t, 404, "shard 3: unknown shard")
	// Bad input is refused locally, before any forwarding.
	post("/join", "{").expect(t, 400, "bad join request")
	if lj, _ := leader.calls(); len(lj) != 1 {
		t.Fatalf("bad join was forwarded: %+v", lj)
	}
}

// The follower passes the caller's signature on; the leader checks it too.
func TestForwardCarriesAuth(t *testing.T) {
	follower := &fakeView{}
	leader := &fakeView{leader: true, status: sampleStatus()}
	_, lbase := start(t, Config{View: leader, Secret: "leader-secret"})
	follower.info = LeaderInfo{NodeID: "n1", HTTPAddr: strings.TrimPrefix(lbase, "http://")}
	_, fbase := start(t, Config{View: follower}) // follower itself has no secret
	do(t, "POST", fbase+"/failover", "").expect(t, 401, "unauthorized")
	do(t, "POST", fbase+"/failover", "", sign(t, "other", "POST", fbase+"/failover", "")...).expect(t, 401, "bad signature")
	do(t, "POST", fbase+"/failover", "", sign(t, "leader-secret", "POST", fbase+"/failover", "")...).expect(t, 200, `"shard": 0`)
}

func TestForwardWhenViewSaysNotLeader(t *testing.T) {
	follower, leader, fbase, _ := pair(t, "")
	// The node believed it led, but lost leadership mid-call.
	follower.set(func(f *fakeView) {
		f.leader = true
		f.joinErr = fmt.Errorf("raft apply: %w", ErrNotLeader)
		f.failErr = ErrNotLeader
	})
	do(t, "POST", fbase+"/join", joinBody).expect(t, 200, "gossip_addrs")
	do(t, "POST", fbase+"/failover?shard=0", "").expect(t, 200, `"master": "n2"`)
	lj, lf := leader.calls()
	if len(lj) != 1 || len(lf) != 1 {
		t.Fatalf("leader saw joins %v failovers %v", lj, lf)
	}
	if fj, ff := follower.calls(); len(fj) != 1 || len(ff) != 1 {
		t.Fatalf("follower tried joins %v failovers %v", fj, ff)
	}
}

func TestNoDoubleForward(t *testing.T) {
	// Two nodes that each think the other leads: one hop, then 503.
	a, b := &fakeView{}, &fakeView{}
	_, abase := start(t, Config{View: a})
	_, bbase := start(t, Config{View: b})
	a.set(func(f *fakeView) { f.info = LeaderInfo{NodeID: "b", HTTPAddr: strings.TrimPrefix(bbase, "http://")} })
	b.set(func(f *fakeView) { f.info = LeaderInfo{NodeID: "a", HTTPAddr: strings.TrimPrefix(abase, "http://")} })
	do(t, "POST", abase+"/join", joinBody).expect(t, 503, "already forwarded")
	do(t, "POST", abase+"/failover", "").expect(t, 503, "already forwarded")
	// A request already marked as forwarded is never forwarded again.
	do(t, "POST", abase+"/failover", "", HopHeader, "1").expect(t, 503, "already forwarded")
	for _, v := range []*fakeView{a, b} {
		if j, f := v.calls(); len(j)+len(f) != 0 {
			t.Fatalf("view called: %v %v", j, f)
		}
	}
}

func TestNoLeader(t *testing.T) {
	v := &fakeView{}
	_, base := start(t, Config{View: v})
	do(t, "POST", base+"/join", joinBody).expect(t, 503, "no raft leader")
	do(t, "POST", base+"/failover?shard=1", "").expect(t, 503, "no raft leader")
	// Known leader without an HTTP address cannot be forwarded to either.
	v.set(func(f *fakeView) { f.info = LeaderInfo{NodeID: "n2", RaftAddr: "127.0.0.1:7002"} })
	do(t, "POST", base+"/failover", "").expect(t, 503, "no raft leader")
}

func TestForwardLeaderUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	v := &fakeView{info: LeaderInfo{NodeID: "n2", HTTPAddr: dead}}
	_, base := start(t, Config{View: v})
	do(t, "POST", base+"/failover", "").expect(t, 502, "forward to leader n2 at "+dead)
}

func TestLeaderURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080":      "http://127.0.0.1:8080",
		"http://n1:8080":      "http://n1:8080",
		"https://n1.example/": "https://n1.example",
		"[::1]:8080":          "http://[::1]:8080",
	} {
		if got := leaderURL(in); got != want {
			t.Errorf("leaderURL(%q) = %q, want %q", in, got, want)
		}
	}
}
