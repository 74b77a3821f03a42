package sentinel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

func addrOf(t *testing.T, srv *redistest.Server) Addr {
	t.Helper()
	p, err := strconv.Atoi(srv.Port)
	if err != nil {
		t.Fatal(err)
	}
	return Addr{"127.0.0.1", p}
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) Addr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return Addr{"127.0.0.1", l.Addr().(*net.TCPAddr).Port}
}

// TestFailoverClient: go-redis's FailoverClient finds the master through the
// listener, and after the view switches to the other server and
// +switch-master is published, it writes to the new master. The old master
// stays writable (the worst case: a client left on it would keep writing
// there), so a key showing up on B proves the client moved.
func TestFailoverClient(t *testing.T) {
	a := redistest.Start(t, "")
	b := redistest.Start(t, "", "--replicaof", "127.0.0.1", a.Port)
	aAddr, bAddr := addrOf(t, a), addrOf(t, b)
	ac, bc := a.Client(t, 0), b.Client(t, 0)
	ctx := context.Background()

	v := &fakeView{id: "n1", peers: []Peer{{ID: "n2", Addr: deadAddr(t), Down: true}}}
	v.masters = []Master{{
		Name: "mymaster", ID: "a", Addr: aAddr, RunID: "run-a", Epoch: 1, Quorum: 2, DownAfterMs: 1000,
		Replicas: []Replica{{ID: "b", Addr: bAddr, RunID: "run-b", LinkUp: true, Priority: 100}},
	}}
	s, _ := startServer(t, v)

	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    "mymaster",
		SentinelAddrs: []string{s.Addr().String()},
		MaxRetries:    -1, // every error is seen by the test
		DialTimeout:   time.Second,
		ReadTimeout:   time.Second,
		WriteTimeout:  time.Second,
	})
	defer fc.Close()

	for i := range 20 {
		k := fmt.Sprintf("before:%d", i)
		if err := fc.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s before the switch: %v", k, err)
		}
		if got, err := ac.Get(ctx, k).Result(); err != nil || got != "v" {
			t.Fatalf("%s on A = %q, %v", k, got, err)
		}
	}
	waitFor(t, 30*time.Second, "go-redis to subscribe to +switch-master", func() bool {
		return subscribers(s, "+switch-master") == 1
	})

	// The switch: B becomes master, the view names it, the event goes out.
	if err := bc.ReplicaOf(ctx, "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	v.setMaster(0, Master{
		Name: "mymaster", ID: "b", Addr: bAddr, RunID: "run-b", Epoch: 2, Quorum: 2, DownAfterMs: 1000,
		Replicas: []Replica{{ID: "a", Addr: aAddr, RunID: "run-a", Priority: 100}},
	})
	msg := fmt.Sprintf("mymaster %s %d %s %d", aAddr.Host, aAddr.Port, bAddr.Host, bAddr.Port)
	if n := s.Publish("+switch-master", msg); n != 1 {
		t.Fatalf("+switch-master reached %d subscribers, want 1", n)
	}

	// During the switch errors are allowed; poll until a write lands on B.
	switched := time.Now()
	var errs []string
	for i := 0; ; i++ {
		if time.Since(switched) > 30*time.Second {
			t.Fatalf("the FailoverClient never wrote to B within 30s (errors: %q)", errs)
		}
		k := fmt.Sprintf("during:%d", i)
		if err := fc.Set(ctx, k, "v", 0).Err(); err != nil {
			errs = append(errs, err.Error())
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if n, _ := bc.Exists(ctx, k).Result(); n == 1 {
			break
		}
	}
	t.Logf("switched in %v, %d errors during the switch", time.Since(switched).Round(time.Millisecond), len(errs))

	// After the switch: no errors, every write on B and none on A.
	for i := range 50 {
		k := fmt.Sprintf("after:%d", i)
		if err := fc.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s after the switch: %v", k, err)
		}
		if n, _ := bc.Exists(ctx, k).Result(); n != 1 {
			t.Fatalf("%s is not on the new master B", k)
		}
		if n, _ := ac.Exists(ctx, k).Result(); n != 0 {
			t.Fatalf("%s was written to the old master A", k)
		}
	}
}

// TestFailoverClientReplicaOnly: a ReplicaOnly FailoverClient reads from
// the replicas SENTINEL REPLICAS lists, never from one flagged down.
func TestFailoverClientReplicaOnly(t *testing.T) {
	a := redistest.Start(t, "")
	b := redistest.Start(t, "", "--replicaof", "127.0.0.1", a.Port)
	v := &fakeView{id: "n1"}
	v.masters = []Master{{
		Name: "mymaster", ID: "a", Addr: addrOf(t, a), Epoch: 1, Quorum: 2, DownAfterMs: 1000,
		Replicas: []Replica{
			{ID: "b", Addr: addrOf(t, b), LinkUp: true, Priority: 100},
			{ID: "c", Addr: deadAddr(t), Down: true, Priority: 100},
		},
	}}
	s, _ := startServer(t, v)
	ctx := context.Background()
	// Each new client dials a random usable replica: with the down one
	// kept, about half of these would fail.
	for i := range 16 {
		fc := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: "mymaster", SentinelAddrs: []string{s.Addr().String()},
			ReplicaOnly: true, MaxRetries: -1, DialTimeout: time.Second,
		})
		info, err := fc.Info(ctx, "replication").Result()
		fc.Close()
		if err != nil {
			t.Fatalf("client %d: INFO replication: %v", i, err)
		}
		if !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_port:"+a.Port) {
			t.Fatalf("client %d reached a non-replica:\n%s", i, info)
		}
	}
}

// TestCutOffSentinelSendsClientsOn: a node cut off from the control-plane
// majority answers SENTINEL get-master-addr-by-name with an error and
// marks the master down in SENTINEL MASTER(S), so clients that ask it
// first go on to the next sentinel, which names the real master: go-redis's
// FailoverClient (errors), Jedis and Lettuce (errors), redis-py (reads
// SENTINEL MASTERS and skips an s_down master).
func TestCutOffSentinelSendsClientsOn(t *testing.T) {
	real := redistest.Start(t, "")
	stale := sampleView()
	stale.masters[0].Addr = deadAddr(t) // what the cut-off node last knew
	stale.vouchErr = errors.New("NOQUORUM this sentinel cannot reach the control plane majority: ask another one")
	good := sampleView()
	good.masters[0].Addr = addrOf(t, real)
	sStale, _ := startServer(t, stale)
	sGood, _ := startServer(t, good)
	ctx := context.Background()

	raw := dialRaw(t, sStale.Addr().String())
	if got := raw.do("SENTINEL", "get-master-addr-by-name", "mymaster"); got != respErr(stale.vouchErr.Error()) {
		t.Errorf("cut-off get-master-addr-by-name = %#v, want the error", got)
	}
	// Unknown names stay a null array, as on Redis Sentinel.
	if got := raw.do("SENTINEL", "get-master-addr-by-name", "nope"); got != (nullArray{}) {
		t.Errorf("cut-off get-master-addr-by-name(nope) = %#v", got)
	}
	m, err := sentinelClient(t, sStale).Master(ctx, "mymaster").Result()
	if err != nil || !slices.Contains(strings.Split(m["flags"], ","), "s_down") {
		t.Errorf("cut-off SENTINEL MASTER flags = %q, %v; want s_down", m["flags"], err)
	}

	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster",
		SentinelAddrs: []string{sStale.Addr().String(), sGood.Addr().String()}, MaxRetries: -1})
	t.Cleanup(func() { fc.Close() })
	if err := fc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("FailoverClient with the cut-off sentinel first: %v", err)
	}
	if v, err := real.Client(t, 0).Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("the real master has k=%q (%v): the write went elsewhere", v, err)
	}
}
