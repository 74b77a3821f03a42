package node

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
	"github.com/wardenkv/warden/node/config"
)

// startServer runs an in-process node on a free loopback port with the given
// directives ("name", "value", ...) and stops it when the test ends.
func startServer(t testing.TB, directives ...string) (*Server, string) {
	t.Helper()
	cfg := config.New()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cfg.Set("port", "0", false))
	must(cfg.Set("dir", t.TempDir(), false))
	// Full syncs start at once unless a test asks for Redis's delay.
	must(cfg.Set("repl-diskless-sync-delay", "0", false))
	for i := 0; i+1 < len(directives); i += 2 {
		must(cfg.Set(directives[i], directives[i+1], false))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.Default()
	}
	s, err := New(cfg, log)
	must(err)
	return s, serveUntilCleanup(t, s)
}

// newClient returns a go-redis client for addr, closed when the test ends.
func newClient(t testing.TB, addr string, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, Protocol: 2, DisableIndentity: true, ReadTimeout: 10 * time.Second}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// setup starts a server and returns a client for it and a context.
func setup(t testing.TB, directives ...string) (*redis.Client, context.Context) {
	t.Helper()
	_, addr := startServer(t, directives...)
	return newClient(t, addr), context.Background()
}

// do runs a raw command and returns its result and error.
func do(ctx context.Context, c *redis.Client, args ...any) (any, error) {
	return c.Do(ctx, args...).Result()
}

// step is one command and the reply it must produce: want is the go-redis
// decoded value, or wantErr a prefix of the error text.
type step struct {
	args    []any
	want    any
	wantErr string
}

// run executes steps in order on one connection, comparing replies.
func run(t *testing.T, c *redis.Client, steps []step) {
	t.Helper()
	ctx := context.Background()
	for _, s := range steps {
		got, err := do(ctx, c, s.args...)
		if s.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), s.wantErr) {
				t.Errorf("%v: got (%v, %v), want error %q", s.args, got, err, s.wantErr)
			}
			continue
		}
		if err == redis.Nil {
			err, got = nil, nil
		}
		if err != nil {
			t.Errorf("%v: unexpected error %v", s.args, err)
			continue
		}
		if !equalReply(got, s.want) {
			t.Errorf("%v: got %#v, want %#v", s.args, got, s.want)
		}
	}
}

func equalReply(got, want any) bool {
	switch w := want.(type) {
	case int:
		g, ok := got.(int64)
		return ok && g == int64(w)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !equalReply(g[i], w[i]) {
				return false
			}
		}
		return true
	case []string:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if g[i] != w[i] {
				return false
			}
		}
		return true
	case nil:
		return got == nil
	}
	return got == want
}

// feedLog records the writes a server propagates, one "CMD arg ..." line
// each (prefixed with "db:" when withDB).
type feedLog struct {
	mu     sync.Mutex
	lines  []string
	withDB bool
}

func captureWrites(s *Server, withDB bool) *feedLog {
	f := &feedLog{withDB: withDB}
	fn := func(db int, argv [][]byte) {
		parts := make([]string, len(argv))
		for i, a := range argv {
			parts[i] = string(a)
		}
		line := strings.Join(parts, " ")
		if f.withDB {
			line = strconv.Itoa(db) + ":" + line
		}
		f.mu.Lock()
		f.lines = append(f.lines, line)
		f.mu.Unlock()
	}
	s.feed.Store(&fn)
	return f
}

// take returns and clears what was recorded.
func (f *feedLog) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.lines
	f.lines = nil
	return out
}

// all returns what was recorded so far.
func (f *feedLog) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

// expireNow gives key a TTL in the past without deleting it, as if it had
// just expired.
func expireNow(t *testing.T, s *Server, db int, key string) {
	t.Helper()
	tx := s.Store().Lock1(db, []byte(key))
	defer tx.Unlock()
	v := tx.DB(db)
	if !v.SetExpire([]byte(key), v.Now()-1) {
		t.Fatalf("expireNow: %q missing", key)
	}
}

// sortedReply runs a command returning an array and sorts the result.
func sortedReply(t *testing.T, c *redis.Client, args ...any) []string {
	t.Helper()
	v, err := c.Do(context.Background(), args...).StringSlice()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	slices.Sort(v)
	return v
}

// waitBlocked polls until n clients are blocked.
func waitBlocked(t *testing.T, s *Server, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.stats.blockedClients.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("blocked clients: %d, want %d", s.stats.blockedClients.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// serveUntilCleanup listens and serves s until the test ends, and returns
// its address once it accepts clients (or Serve has returned early).
func serveUntilCleanup(t testing.TB, s *Server) string {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-s.Started():
	case <-done:
	}
	return s.Addr().String()
}

// redisReplicaOf starts a redis-server replicating the node at addr (with
// extra flags) and returns it and a client once its link is up.
func redisReplicaOf(t *testing.T, addr string, flags ...string) (*redistest.Server, *redis.Client) {
	t.Helper()
	_, port, _ := strings.Cut(addr, ":")
	rs := redistest.Start(t, "", append([]string{"--replicaof", "127.0.0.1", port}, flags...)...)
	replica := rs.Client(t, 0)
	waitFor(t, func() bool {
		return strings.Contains(replica.Info(context.Background(), "replication").Val(), "master_link_status:up")
	}, "the replica to link up")
	return rs, replica
}
