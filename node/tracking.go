package node

import (
	"github.com/wardenkv/warden/tracking"
)

// Client-side caching (CLIENT TRACKING): the table lives in tracking/; the
// node reports key modifications to it (keyspace OnTouch, under the key's
// lock), remembers the keys read-only commands read (before their locks are
// released), and gives it connections to push invalidations to.

// trackConn is a client as the tracking table sees it.
type trackConn struct{ cl *Client }

func (t trackConn) RESP3() bool      { return t.cl.protoShared.Load() == 3 }
func (t trackConn) Subscribed() bool { return t.cl.subscribed() }
func (t trackConn) Closed() bool {
	select {
	case <-t.cl.killed:
		return true
	default:
		return false
	}
}

// Push queues an invalidation. A connection that is not in push mode yet (a
// RESP3 redirect target) enters it: from then on its replies go through the
// outbox too, so frames never interleave.
func (t trackConn) Push(frame []byte) {
	if !t.cl.pushMode.Load() {
		t.cl.trackPush.Store(true)
		t.cl.pushMode.Store(true)
	}
	t.cl.push(frame)
}

func (s *Server) initTracking() {
	s.track = tracking.New()
	s.track.SetMaxKeys(s.cfg.Int("tracking-table-max-keys"))
	s.cfg.OnSet("tracking-table-max-keys", func(string) error {
		s.track.SetMaxKeys(s.cfg.Int("tracking-table-max-keys"))
		return nil
	})
	s.store.OnTouch = s.track.Invalidate
}

// clientByID returns a connected client.
func (s *Server) clientByID(id int64) *Client {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	return s.clients[id]
}

func cmdClientTracking(c *Ctx) {
	s := c.s
	cmd, err := tracking.Parse(c.Args[2:], func(id int64) tracking.Conn {
		if cl := s.clientByID(id); cl != nil {
			return trackConn{cl}
		}
		return nil
	})
	if err != nil {
		c.Err(err.Error())
		return
	}
	if !cmd.On {
		s.track.Disable(c.cl.ID)
		c.cl.tracking.Store(false)
		c.OK()
		return
	}
	if err := s.track.Enable(c.cl.ID, trackConn{c.cl}, cmd.Options); err != nil {
		c.Err(err.Error())
		return
	}
	cl := c.cl
	cl.tracking.Store(true)
	if !cl.pushMode.Load() {
		// Invalidations come from other goroutines: every byte to this
		// client goes through its outbox from now on.
		cl.flushToOutbox()
		cl.trackPush.Store(true)
		cl.pushMode.Store(true)
	}
	c.OK()
}

func cmdClientCaching(c *Ctx) {
	a := c.Args[2]
	var yes bool
	switch {
	case eq(a, "yes"):
		yes = true
	case eq(a, "no"):
	default:
		if !c.s.track.Tracking(c.cl.ID) {
			c.Err(tracking.ErrCachingMode.Error())
			return
		}
		c.Err(errSyntax)
		return
	}
	if err := c.s.track.Caching(c.cl.ID, yes); err != nil {
		c.Err(err.Error())
		return
	}
	c.OK()
}

func cmdClientGetRedir(c *Ctx) { c.Int(c.s.track.ClientInfo(c.cl.ID).Redirect) }

func cmdClientTrackingInfo(c *Ctx) {
	in := c.s.track.ClientInfo(c.cl.ID)
	c.Map(3)
	c.BulkString("flags")
	c.SetHeader(len(in.Flags))
	for _, f := range in.Flags {
		c.BulkString(f)
	}
	c.BulkString("redirect")
	c.Int(in.Redirect)
	c.BulkString("prefixes")
	c.Array(len(in.Prefixes))
	for _, p := range in.Prefixes {
		c.BulkString(p)
	}
}

// trackingFlags returns CLIENT LIST's tracking flags (t, R, B) and redir.
func (s *Server) trackingFlags(cl *Client) (string, int64) {
	if !cl.tracking.Load() {
		return "", -1
	}
	in := s.track.ClientInfo(cl.ID)
	if !in.On {
		return "", -1
	}
	f := "t"
	if in.Broken {
		f += "R"
	}
	if in.BCast {
		f += "B"
	}
	return f, in.Redirect
}

// trackBegin starts a command of a tracking client: invalidations for it
// wait for its reply (trackEnd).
func (s *Server) trackBegin(cl *Client) bool {
	if !s.track.Used() {
		return false
	}
	s.track.Limit()
	if !cl.tracking.Load() {
		return false
	}
	s.track.Begin(cl.ID)
	return true
}

// trackEnd runs once the command's reply is queued: CLIENT CACHING's flag
// ends with the command (not with CLIENT itself, nor inside MULTI, as
// Redis's resetClient), waiting invalidations go out, and broadcast
// prefixes send what changed.
func (s *Server) trackEnd(cl *Client, began bool, args [][]byte) {
	if !s.track.Used() {
		return
	}
	if began {
		if cl.multi == nil && !eq(args[0], "client") {
			s.track.ResetCaching(cl.ID)
		}
		s.track.End(cl.ID)
	}
	s.track.Broadcast()
}

// trackRead remembers the keys a read-only command read (Redis's
// trackingRememberKeys); scripts' own commands are remembered for their
// caller (the script client carries the caller's id).
func (s *Server) trackRead(c *Ctx, cmd *Command, args [][]byte) {
	if cmd.Flags&fReadonly == 0 || cmd.Flags&(fScript|fPubsub) != 0 || !c.cl.tracking.Load() {
		return
	}
	s.track.Remember(c.cl.ID, cmd.keys(args, nil))
}
