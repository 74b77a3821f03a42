package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/redistest"
)

// Switching masters quickly (the control plane replaying the record after a
// restart does exactly this) must never wait on the old link: a link whose
// dial had just completed when it was cancelled used to keep streaming from
// the old master until repl-timeout, and Follow waited for it all along
// (seed 104's fault 102: a restarted replica stuck for 2 minutes).
func TestFollowSwitchNeverWaitsForTheOldLink(t *testing.T) {
	var masters [2]*redistest.Server
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range masters {
		masters[i] = redistest.Start(t, "", "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1")
		c := masters[i].Client(t, 0)
		wg.Add(1)
		go func() { // a busy master: its stream never goes quiet
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				c.Set(ctx, "k"+strconv.Itoa(n%100), n, 0)
			}
		}()
	}
	// A stuck link would only end after repl-timeout: far past the deadline.
	s, addr := startServer(t, "save", "", "repl-timeout", "3600")
	replica := newClient(t, addr)
	for i := 0; i < 400; i++ {
		m := masters[i%2]
		port, _ := strconv.Atoi(m.Port)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Follow("127.0.0.1", port)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("switch %d: Follow(%s) still waiting for the previous link after 30s", i, m.Addr)
		}
		// Cancel the new link at varying points of its dial and handshake.
		spin := time.Duration(rand.IntN(300)) * time.Microsecond
		for t0 := time.Now(); time.Since(t0) < spin; {
		}
	}
	last := masters[399%2]
	waitFor(t, func() bool {
		info := replica.Info(context.Background(), "replication").Val()
		return strings.Contains(info, "master_link_status:up") && strings.Contains(info, fmt.Sprintf("master_port:%s\r", last.Port))
	}, "the link to the last master named")
}
