package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// TestPublishReachesReplicaSubscribers: outside cluster mode a PUBLISH on
// the master reaches clients subscribed on its replicas (a warden replica
// and a real redis-server replica), as Redis propagates PUBLISH to
// replicas; it is not written to the AOF.
func TestPublishReachesReplicaSubscribers(t *testing.T) {
	ctx := context.Background()
	s, maddr := startServer(t, "appendonly", "yes")
	m := newClient(t, maddr)
	_, waddr := startServer(t)
	w := newClient(t, waddr)
	r := redistest.Start(t, "").Client(t, 0)
	followAndSync(t, w, m, maddr)
	followAndSync(t, r, m, maddr)

	for name, replica := range map[string]*redis.Client{"warden": w, "redis": r} {
		sub := replica.Subscribe(ctx, "news")
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.Publish(ctx, "news", "hello "+name).Err(); err != nil {
			t.Fatal(err)
		}
		ctxT, cancel := context.WithTimeout(ctx, 30*time.Second)
		msg, err := sub.ReceiveMessage(ctxT)
		cancel()
		if err != nil || msg.Payload != "hello "+name {
			t.Fatalf("%s replica subscriber: %v %v", name, msg, err)
		}
		sub.Close()
	}
	// Replicas stay in step: the PUBLISH bytes count in the offsets.
	m.Set(ctx, "after", "1", 0)
	waitFor(t, func() bool {
		return replInfo(m, "master_repl_offset") == replInfo(w, "slave_repl_offset") && w.Get(ctx, "after").Val() == "1"
	}, "the warden replica to catch up after the publishes")

	files, _ := filepath.Glob(filepath.Join(s.cfg.Get("dir"), "appendonlydir", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(strings.ToLower(string(b)), "publish") {
			t.Fatalf("PUBLISH written to the AOF (%s)", f)
		}
	}
}
