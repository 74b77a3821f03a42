package node

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

// clientPause is CLIENT PAUSE's state: until end, commands of normal
// clients wait (all of them, or those that may write or replicate). A new
// pause extends (never shortens) the current one, as Redis's pauseClients.
type clientPause struct {
	on    atomic.Bool // a pause was set and not yet seen over: every command checks it
	mu    sync.Mutex
	all   bool      // ALL rather than WRITE
	end   time.Time // zero: not paused
	woken chan struct{}
}

func (p *clientPause) pause(end time.Time, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.end.IsZero() || time.Now().After(p.end) {
		p.all, p.end = all, end
	} else {
		p.all = p.all || all
		if end.After(p.end) {
			p.end = end
		}
	}
	if p.woken == nil {
		p.woken = make(chan struct{})
	}
	p.on.Store(true)
}

func (p *clientPause) unpause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.end = time.Time{}
	p.on.Store(false)
	if p.woken != nil {
		close(p.woken)
		p.woken = nil
	}
}

// state returns the pause in force: end is zero when there is none.
func (p *clientPause) state() (all bool, end time.Time, woken chan struct{}) {
	if !p.on.Load() {
		return false, time.Time{}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.end.IsZero() || !time.Now().Before(p.end) {
		p.on.Store(false)
		return false, time.Time{}, nil
	}
	return p.all, p.end, p.woken
}

func cmdClientPause(c *Ctx) {
	if len(c.Args) > 4 {
		serverSubSyntaxErr(c, "client")
		return
	}
	all := true
	if len(c.Args) == 4 {
		switch m := c.Args[3]; {
		case eq(m, "write"):
			all = false
		case eq(m, "all"):
		default:
			c.Err("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := keyspace.ParseInt(c.Args[2])
	switch {
	case !ok:
		c.Err("ERR timeout is not an integer or out of range")
		return
	case ms < 0:
		c.Err(errNegTimeout)
		return
	case ms > math.MaxInt64-time.Now().UnixMilli():
		// Redis 7.0's end time overflows into the past: a pause that
		// is already over.
		c.OK()
		return
	}
	c.s.clientPause.pause(time.Now().Add(time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond)))*time.Millisecond), all)
	c.OK()
}

func cmdClientUnpause(c *Ctx) {
	c.s.clientPause.unpause()
	c.OK()
}

// mayReplicate is Redis's is_may_replicate_command: a write, a command
// flagged may_replicate (PFCOUNT, PUBLISH, EVAL...), or an EXEC queueing
// one.
func (s *Server) mayReplicate(c *Ctx, cmd *Command) bool {
	may := func(cmd *Command) bool {
		if cmd.Flags&fWrite != 0 {
			return true
		}
		return strings.Contains(serverCmdTable[cmd.Name].flags, "may_replicate")
	}
	if may(cmd) {
		return true
	}
	if cmd.Name != "exec" || c.cl.multi == nil {
		return false
	}
	for _, q := range c.cl.multi.queue {
		if qc, _ := s.lookup(c, q); qc != nil && may(qc) {
			return true
		}
	}
	return false
}

// awaitClientPause holds a client's command while CLIENT PAUSE applies to
// it; false when the client was killed meanwhile (the command never runs).
// Replicas and internal clients are never paused.
func (s *Server) awaitClientPause(c *Ctx, cmd *Command) bool {
	if c.cl.internal {
		return true
	}
	for {
		all, end, woken := s.clientPause.state()
		if end.IsZero() || !all && !s.mayReplicate(c, cmd) {
			return true
		}
		c.cl.flush() // earlier replies of a pipeline are not held back
		c.cl.blocked.Store(true)
		t := time.NewTimer(time.Until(end))
		select {
		case <-woken:
		case <-t.C:
		case <-c.cl.killed:
			t.Stop()
			c.cl.blocked.Store(false)
			return false
		}
		t.Stop()
		c.cl.blocked.Store(false)
	}
}
