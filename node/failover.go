package node

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// FAILOVER is Redis 6.2's coordinated failover of a standalone master: it
// pauses writes, waits until a replica (any, or the one named) has
// acknowledged every byte of the stream, then becomes that replica's
// replica with PSYNC <replid> <offset> FAILOVER, which the replica takes as
// the order to promote itself and continue the old master's history. Writes
// resume when the PSYNC is answered (then as -READONLY writes to a replica)
// or when the failover is aborted. In cluster mode the control plane
// decides who masters a shard, so FAILOVER is refused there.

const (
	failoverNone = iota
	failoverWaitForSync
	failoverInProgress
)

var failoverStateNames = [...]string{"no-failover", "waiting-for-sync", "failover-in-progress"}

type failoverState struct {
	state atomic.Int32 // checked by every command while nonzero: writes wait
	mu    sync.Mutex
	run   *failoverRun
}

// failoverRun is one FAILOVER from request to end.
type failoverRun struct {
	host   string // "" = any replica
	port   int
	force  bool
	end    time.Time     // zero: no timeout
	abort  chan string   // FAILOVER ABORT's reason
	psync  chan bool     // the PSYNC FAILOVER's outcome (accepted or not)
	paused chan struct{} // closed when writes may go on
}

func registerFailover(t table) {
	t.add(&Command{Name: "failover", Arity: -1, Flags: fAdmin | fNoScript | fStale, Run: cmdFailover, Group: "server"})
}

// cmdFailover parses and checks in Redis 7.0's order.
func cmdFailover(c *Ctx) {
	s := c.s
	if s.cluster != nil {
		c.Err("ERR FAILOVER not allowed in cluster mode.")
		return
	}
	if len(c.Args) == 2 && eq(c.Args[1], "abort") {
		if !s.abortFailover("Failover manually aborted") {
			c.Err("ERR No failover in progress.")
			return
		}
		c.OK()
		return
	}
	var timeout, port int64
	var host string
	force, hasHost := false, false
	for j := 1; j < len(c.Args); j++ {
		a := c.Args[j]
		switch {
		case eq(a, "timeout") && j+1 < len(c.Args) && timeout == 0:
			n, ok := c.ParseInt(c.Args[j+1])
			if !ok {
				return
			}
			if n <= 0 {
				c.Err("ERR FAILOVER timeout must be greater than 0")
				return
			}
			timeout = n
			j++
		case eq(a, "to") && j+2 < len(c.Args) && !hasHost:
			n, ok := c.ParseInt(c.Args[j+2])
			if !ok {
				return
			}
			host, port, hasHost = string(c.Args[j+1]), n, true
			j += 2
		case eq(a, "force") && !force:
			force = true
		default:
			c.Err(errSyntax)
			return
		}
	}
	if s.failover.state.Load() != failoverNone {
		c.Err("ERR FAILOVER already in progress.")
		return
	}
	if s.isReplica() {
		c.Err("ERR FAILOVER is not valid when server is a replica.")
		return
	}
	replicas := s.replicasSnapshot()
	if len(replicas) == 0 {
		c.Err("ERR FAILOVER requires connected replicas.")
		return
	}
	if force && (timeout == 0 || !hasHost) {
		c.Err("ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
		return
	}
	run := &failoverRun{force: force, abort: make(chan string, 1), psync: make(chan bool, 1), paused: make(chan struct{})}
	if hasHost {
		r := findReplica(replicas, host, port)
		if r == nil {
			c.Err("ERR FAILOVER target HOST and PORT is not a replica.")
			return
		}
		r.mu.Lock()
		online := r.online
		r.mu.Unlock()
		if !online {
			c.Err("ERR FAILOVER target replica is not online.")
			return
		}
		run.host, run.port = host, int(port)
		s.log.Info("FAILOVER requested", "target", net.JoinHostPort(host, strconv.Itoa(int(port))))
	} else {
		s.log.Info("FAILOVER requested to any replica")
	}
	if timeout > 0 {
		run.end = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	s.failover.mu.Lock()
	s.failover.run = run
	s.failover.state.Store(failoverWaitForSync)
	s.failover.mu.Unlock()
	// Like a write pause, expiry stops: a DEL in the stream now would move
	// the offset the replica must reach.
	s.store.NoExpire.Store(true)
	go s.runFailover(run)
	c.OK()
}

func findReplica(rs []*replica, host string, port int64) *replica {
	for _, r := range rs {
		if r.addr == host && int64(r.port) == port {
			return r
		}
	}
	return nil
}

// runFailover waits for a replica to catch up (woken by its ACKs), then
// hands the mastership over.
func (s *Server) runFailover(run *failoverRun) {
	l := &s.repl
	var timeout <-chan time.Time
	if !run.end.IsZero() {
		t := time.NewTimer(time.Until(run.end))
		defer t.Stop()
		timeout = t.C
	}
	// One GETACK now; replicas also acknowledge every second by themselves
	// (a real Redis replica's answer to GETACK leaves the GETACK itself out,
	// its next periodic ACK covers it).
	l.requestAck()
	host, port := run.host, run.port
wait:
	for {
		acked := l.acks.wait()
		if r := s.syncedReplica(run); r != nil {
			host, port = r.addr, r.port
			break
		}
		select {
		case <-acked:
		case <-timeout:
			if run.force {
				break wait // to the named replica, caught up or not
			}
			s.endFailover(run, "Replica never caught up before timeout")
			return
		case why := <-run.abort:
			s.endFailover(run, why)
			return
		case <-s.done:
			s.clearFailover(run)
			return
		}
	}
	s.log.Info("failover target is synced, failing over", "target", net.JoinHostPort(host, strconv.Itoa(port)))
	s.failover.state.Store(failoverInProgress)
	s.replica.failoverPsync.Store(run)
	s.follow(host, port)
	select {
	case ok := <-run.psync:
		if !ok {
			s.endFailover(run, "Failover target rejected psync request")
			return
		}
		s.log.Info("failover complete", "master", net.JoinHostPort(host, strconv.Itoa(port)))
		s.clearFailover(run)
	case <-timeout:
		s.endFailover(run, "Failover target never answered before timeout")
	case why := <-run.abort:
		s.endFailover(run, why)
	case <-s.done:
		s.clearFailover(run)
	}
}

// syncedReplica is the target (or any replica) that acknowledged the whole
// stream, nil while none has.
func (s *Server) syncedReplica(run *failoverRun) *replica {
	off := s.replOffset()
	for _, r := range s.replicasSnapshot() {
		if run.host != "" && (r.addr != run.host || r.port != run.port) {
			continue
		}
		r.mu.Lock()
		online := r.online
		r.mu.Unlock()
		if online && r.ackOffset.Load() >= off {
			return r
		}
	}
	return nil
}

// abortFailover asks the running failover to stop; false when none runs.
func (s *Server) abortFailover(why string) bool {
	s.failover.mu.Lock()
	run := s.failover.run
	s.failover.mu.Unlock()
	if run == nil {
		return false
	}
	select {
	case run.abort <- why:
	default:
	}
	// FAILOVER ABORT replies once the failover is over, as Redis (which
	// aborts synchronously) does.
	<-run.paused
	return true
}

// endFailover aborts: a node that had started following its replica is a
// master again.
func (s *Server) endFailover(run *failoverRun, why string) {
	s.log.Warn("FAILOVER aborted", "reason", why)
	s.replica.failoverPsync.CompareAndSwap(run, nil)
	if s.failover.state.Load() == failoverInProgress {
		s.promote()
	} else {
		s.store.NoExpire.Store(false)
	}
	s.clearFailover(run)
}

func (s *Server) clearFailover(run *failoverRun) {
	s.failover.mu.Lock()
	if s.failover.run == run {
		s.failover.run = nil
		s.failover.state.Store(failoverNone)
	}
	s.failover.mu.Unlock()
	close(run.paused)
}

// failoverPsyncDone reports the answer to PSYNC ... FAILOVER (from the
// replication link).
func (s *Server) failoverPsyncDone(run *failoverRun, accepted bool) {
	select {
	case run.psync <- accepted:
	default:
	}
}

// awaitFailoverPause holds a write (or a command that may replicate) while a
// FAILOVER runs; false when the client was killed meanwhile.
func (s *Server) awaitFailoverPause(c *Ctx, cmd *Command) bool {
	if s.failover.state.Load() == failoverNone || c.cl.internal || !s.mayReplicate(c, cmd) {
		return true
	}
	s.failover.mu.Lock()
	run := s.failover.run
	s.failover.mu.Unlock()
	if run == nil {
		return true
	}
	c.cl.flush() // earlier replies of a pipeline are not held back
	c.cl.blocked.Store(true)
	defer c.cl.blocked.Store(false)
	select {
	case <-run.paused:
		return true
	case <-c.cl.killed:
		return false
	}
}

func (s *Server) failoverStateName() string {
	return failoverStateNames[s.failover.state.Load()]
}
