package node

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ShutdownFlags are SHUTDOWN's modifiers; a signal shuts down with none.
type ShutdownFlags struct {
	Save, NoSave bool // save dump.rdb even without save rules / never
	Now          bool // skip the wait for replicas (and the cluster handoff)
	Force        bool // exit even when the final save fails
}

// errShutdownAborted: SHUTDOWN ABORT cancelled the attempt.
var errShutdownAborted = errors.New("shutdown aborted (SHUTDOWN ABORT)")

// shutdownState is the shutdown attempt in progress and the write pause it
// holds while replicas catch up (Redis 7's PAUSE_DURING_SHUTDOWN).
type shutdownState struct {
	mu      sync.Mutex
	current *shutdownAttempt
	pause   chan struct{} // non-nil while client writes are paused; closed to resume them
	paused  atomic.Bool
	reason  atomic.Pointer[string] // what started the shutdown that went ahead
}

type shutdownAttempt struct {
	cancel  context.CancelFunc
	waiting atomic.Bool // handing over or waiting for replicas: ABORT can stop it
	aborted atomic.Bool
	done    chan struct{}
	err     error // set before done closes
}

// ShutdownWith runs one shutdown as Redis 7 does, started by reason (a
// signal's name, "SHUTDOWN"): unless flags.Now and while shutdown-timeout
// allows, a cluster master first hands its shard over (node.Cluster
// HandOff) and a master waits, with client writes paused, for its replicas
// to acknowledge every byte; then the data set is saved and Serve returns.
// On an error (the final save failed without Force, SHUTDOWN ABORT) the
// server keeps serving. A call while an attempt runs joins it.
func (s *Server) ShutdownWith(flags ShutdownFlags, reason string) error {
	sh := &s.shut
	sh.mu.Lock()
	if a := sh.current; a != nil {
		sh.mu.Unlock()
		<-a.done
		return a.err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &shutdownAttempt{cancel: cancel, done: make(chan struct{})}
	sh.current = a
	sh.mu.Unlock()

	a.err = s.runShutdown(ctx, a, flags, reason)
	cancel()
	sh.mu.Lock()
	sh.current = nil
	sh.mu.Unlock()
	close(a.done)
	return a.err
}

func (s *Server) runShutdown(ctx context.Context, a *shutdownAttempt, flags ShutdownFlags, reason string) error {
	if timeout := time.Duration(s.cfg.Int("shutdown-timeout")) * time.Second; !flags.Now && timeout > 0 {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		a.waiting.Store(true)
		if s.cluster != nil {
			start := time.Now()
			if err := s.cluster.HandOff(wctx); err != nil {
				s.log.Warn("shutdown: no handoff before exit", "reason", reason, "err", err, "took_ms", time.Since(start).Milliseconds())
			}
		}
		s.waitReplicasForShutdown(wctx)
		a.waiting.Store(false)
		cancel()
	}
	if a.aborted.Load() {
		s.resumeWrites()
		return errShutdownAborted
	}
	if err := s.prepareShutdown(flags.Save, flags.NoSave, flags.Force); err != nil {
		s.resumeWrites()
		return err
	}
	s.shut.reason.Store(&reason)
	s.Shutdown()
	return nil
}

// AbortShutdown is SHUTDOWN ABORT: it stops the attempt that waits for
// replicas (its SHUTDOWN gets an error, paused writes resume). False when
// none runs. A handoff the Raft leader already began completes there.
func (s *Server) AbortShutdown() bool {
	sh := &s.shut
	sh.mu.Lock()
	defer sh.mu.Unlock()
	a := sh.current
	if a == nil || !a.waiting.Load() {
		return false
	}
	a.aborted.Store(true)
	a.cancel()
	s.log.Warn("shutdown aborted by SHUTDOWN ABORT")
	return true
}

// waitReplicasForShutdown is Redis 7's wait before exit: a master with
// replicas behind its offset pauses client writes and waits, woken by
// their acknowledgements, until every online replica has every byte or ctx
// ends. The pause stays on when it returns: the exit follows.
func (s *Server) waitReplicasForShutdown(ctx context.Context) {
	if s.isReplica() || len(s.laggingReplicas()) == 0 {
		return
	}
	if s.cluster != nil {
		if master, _ := s.cluster.MasterEpoch(); !master {
			return // a replica already, or fenced: it takes no writes
		}
	}
	s.pauseWrites()
	start := time.Now()
	s.log.Info("Waiting for replicas before shutting down.", "timeout_s", s.cfg.Int("shutdown-timeout"))
	err := s.awaitAcks(ctx, func() bool { return len(s.laggingReplicas()) == 0 })
	if err == nil {
		s.log.Info("replicas caught up: shutting down", "waited_ms", time.Since(start).Milliseconds())
		return
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return // aborted
	}
	off := s.replOffset()
	for _, r := range s.laggingReplicas() {
		s.log.Warn("Lagging replica reported offset behind master", "replica", net.JoinHostPort(r.addr, strconv.Itoa(r.port)),
			"offset", r.ackOffset.Load(), "lag", off-r.ackOffset.Load(), "waited_ms", time.Since(start).Milliseconds())
	}
}

// ReplicaCaughtUp waits until the replica that named itself id (REPLCONF
// warden-id) has acknowledged the whole stream, and returns its end. The
// caller has stopped client writes (a master frozen for a handoff): writes
// that passed the fence just before it went up are waited out first.
func (s *Server) ReplicaCaughtUp(ctx context.Context, id string) (int64, error) {
	s.store.LockAll().Unlock() // every write under way holds a partition lock
	var off int64
	err := s.awaitAcks(ctx, func() bool {
		off = s.replOffset()
		for _, r := range s.onlineReplicas() {
			if r.cl.replNodeID == id && r.ackOffset.Load() >= off {
				return true
			}
		}
		return false
	})
	return off, err
}

// awaitAcks evaluates done at first and after every replica
// acknowledgement until it holds or ctx ends, asking replicas for an ACK
// (one GETACK per stream end) rather than waiting a second for one.
func (s *Server) awaitAcks(ctx context.Context, done func() bool) error {
	asked := int64(-1) // stream end after the last GETACK sent
	for {
		wake := s.repl.acks.wait()
		if done() {
			return nil
		}
		if s.replOffset() != asked {
			s.repl.requestAck()
			asked = s.replOffset()
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// laggingReplicas lists the online replicas that have not acknowledged the
// whole stream.
func (s *Server) laggingReplicas() []*replica {
	off := s.replOffset()
	var out []*replica
	for _, r := range s.onlineReplicas() {
		if r.ackOffset.Load() < off {
			out = append(out, r)
		}
	}
	return out
}

// onlineReplicas lists the replicas past their full sync, still linked.
func (s *Server) onlineReplicas() []*replica {
	var out []*replica
	for _, r := range s.replicasSnapshot() {
		r.mu.Lock()
		online := r.online && !r.closed
		r.mu.Unlock()
		if online {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) pauseWrites() {
	sh := &s.shut
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.pause == nil {
		sh.pause = make(chan struct{})
		sh.paused.Store(true)
	}
}

func (s *Server) resumeWrites() {
	sh := &s.shut
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.pause != nil {
		close(sh.pause)
		sh.pause = nil
		sh.paused.Store(false)
	}
}

// awaitWritePause holds a client's write (an EXEC with writes) while a
// shutdown pauses writes. False when the client was killed meanwhile (the
// server exits): the write must not run.
func (s *Server) awaitWritePause(c *Ctx, cmd *Command) bool {
	if !s.shut.paused.Load() || c.cl.internal || !s.pausesWrite(c, cmd) {
		return true
	}
	s.shut.mu.Lock()
	ch := s.shut.pause
	s.shut.mu.Unlock()
	if ch == nil {
		return true
	}
	c.cl.flush() // earlier replies of a pipeline are not held back
	select {
	case <-ch:
		return true
	case <-c.cl.killed:
		return false
	}
}

func (s *Server) pausesWrite(c *Ctx, cmd *Command) bool {
	if cmd.Flags&fWrite != 0 {
		return true
	}
	if cmd.Name != "exec" || c.cl.multi == nil {
		return false
	}
	for _, q := range c.cl.multi.queue {
		if qc, _ := s.lookup(c, q); qc != nil && qc.Flags&fWrite != 0 {
			return true
		}
	}
	return false
}
