package node

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// shutdown-timeout as Redis 7: SHUTDOWN on a master whose replica lags
// pauses writes and waits; SHUTDOWN ABORT ends the wait (the waiting
// SHUTDOWN gets an error, the paused write runs); a SHUTDOWN that waits
// until the replica (a real redis-server, asleep in DEBUG SLEEP) has
// acknowledged everything exits with the replica holding every write.
func TestShutdownWaitsForLaggingReplica(t *testing.T) {
	s, addr := startServer(t, "save", "", "shutdown-timeout", "60")
	ctx := context.Background()
	noRetry := func(o *redis.Options) { o.MaxRetries = -1; o.ReadTimeout = time.Minute }
	master := newClient(t, addr, noRetry)
	if err := master.Do(ctx, "SHUTDOWN", "ABORT").Err(); err == nil || !strings.Contains(err.Error(), "No shutdown in progress") {
		t.Fatalf("SHUTDOWN ABORT with none in progress: %v", err)
	}
	rs, replica := redisReplicaOf(t, addr, "--enable-debug-command", "yes")
	asleep := make(chan struct{})
	go func() {
		defer close(asleep)
		replica.Do(context.Background(), "DEBUG", "SLEEP", "4")
	}()
	rs.WaitAsleep(t)
	if err := master.Set(ctx, "k1", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	// The replica lags: SHUTDOWN waits with writes paused, until ABORT.
	first := make(chan error, 1)
	go func() { first <- newClient(t, addr, noRetry).Shutdown(ctx).Err() }()
	waitFor(t, s.shut.paused.Load, "SHUTDOWN to pause writes while the replica lags")
	paused := make(chan error, 1)
	go func() { paused <- newClient(t, addr, noRetry).Set(ctx, "k2", "v", 0).Err() }()
	if err := master.Ping(ctx).Err(); err != nil {
		t.Fatalf("reads stop while SHUTDOWN waits: %v", err)
	}
	if err := master.Do(ctx, "SHUTDOWN", "ABORT").Err(); err != nil {
		t.Fatalf("SHUTDOWN ABORT: %v", err)
	}
	if err := <-first; err == nil || !strings.Contains(err.Error(), "Errors trying to SHUTDOWN") {
		t.Fatalf("aborted SHUTDOWN answered %v", err)
	}
	if err := <-paused; err != nil {
		t.Fatalf("the write paused by SHUTDOWN, after ABORT: %v", err)
	}

	// Again, while the replica still sleeps: this time it wakes, acknowledges,
	// and only then does the master exit.
	second := make(chan error, 1)
	go func() { second <- newClient(t, addr, noRetry).Shutdown(ctx).Err() }()
	select {
	case <-asleep:
		t.Log("the replica woke before the second SHUTDOWN waited (slow machine): the wait is not exercised twice")
	default:
		waitFor(t, s.shut.paused.Load, "the second SHUTDOWN to wait")
	}
	if err := <-second; err != nil { // go-redis takes the closed connection as success
		t.Fatalf("SHUTDOWN after the replica caught up: %v", err)
	}
	waitFor(t, func() bool {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, "the master to stop accepting connections")
	for _, k := range []string{"k1", "k2"} {
		if v, err := replica.Get(ctx, k).Result(); err != nil || v != "v" {
			t.Fatalf("replica lacks %s after the master's shutdown: %q %v", k, v, err)
		}
	}
}
