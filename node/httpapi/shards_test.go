package httpapi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// fakeShards is a ShardAdmin whose answers the test sets and whose calls it records.
type fakeShards struct {
	mu      sync.Mutex
	next    int
	err     error
	added   int
	removed []int
}

func (f *fakeShards) AddShard(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	f.added++
	f.next++
	return f.next - 1, nil
}

func (f *fakeShards) RemoveShard(_ context.Context, id int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.removed = append(f.removed, id)
	return nil
}

func (f *fakeShards) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func TestShardRoutes(t *testing.T) {
	// Without a ShardAdmin the routes do not exist.
	_, plain := start(t, Config{View: &fakeView{leader: true}})
	do(t, "POST", plain+"/shards", "").expect(t, 404, "not found")

	sh := &fakeShards{next: 3}
	_, base := start(t, Config{View: &fakeView{leader: true}, Secret: "tok", Shards: sh})
	signed := func(method, path string) reply {
		return do(t, method, base+path, "", sign(t, "tok", method, base+path, "")...)
	}
	do(t, "POST", base+"/shards", "").expect(t, 401, "unauthorized")
	do(t, "DELETE", base+"/shards/1", "").expect(t, 401, "unauthorized")
	signed("POST", "/shards").expect(t, 201, `"id": 3`)
	signed("DELETE", "/shards/x").expect(t, 400, "bad shard")
	signed("DELETE", "/shards/-1").expect(t, 400, "bad shard")
	signed("DELETE", "/shards/2").expect(t, 200, `"removed": true`)
	signed("GET", "/shards").expect(t, 405, "")
	for _, c := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("%w: shard still owns slots", ErrUnavailable), 409},
		{fmt.Errorf("%w: no such shard", ErrUnknownShard), 404},
		{context.DeadlineExceeded, 504},
	} {
		sh.setErr(c.err)
		signed("DELETE", "/shards/5").expect(t, c.code, strings.SplitN(c.err.Error(), ":", 2)[0])
	}
	if sh.added != 1 || len(sh.removed) != 1 || sh.removed[0] != 2 {
		t.Fatalf("admin saw %d adds, removes %v; want 1 add and remove [2]", sh.added, sh.removed)
	}
}

// A follower forwards both routes to the leader, signature and all.
func TestShardRoutesForward(t *testing.T) {
	leaderShards, followerShards := &fakeShards{next: 4}, &fakeShards{}
	leader := &fakeView{leader: true}
	_, lbase := start(t, Config{View: leader, Secret: "tok", Shards: leaderShards})
	follower := &fakeView{info: LeaderInfo{NodeID: "n1", HTTPAddr: strings.TrimPrefix(lbase, "http://")}}
	_, fbase := start(t, Config{View: follower, Secret: "tok", Shards: followerShards})
	r := do(t, "POST", fbase+"/shards", "", sign(t, "tok", "POST", fbase+"/shards", "")...)
	r.expect(t, 201, `"id": 4`)
	if r.header.Get(LeaderHeader) != "n1" {
		t.Errorf("reply not marked as the leader's: %v", r.header)
	}
	do(t, "DELETE", fbase+"/shards/4", "", sign(t, "tok", "DELETE", fbase+"/shards/4", "")...).expect(t, 200, "removed")
	if leaderShards.added != 1 || len(leaderShards.removed) != 1 || followerShards.added+len(followerShards.removed) != 0 {
		t.Fatalf("leader saw %d adds %v removes, follower %d adds %v removes", leaderShards.added, leaderShards.removed,
			followerShards.added, followerShards.removed)
	}
}
