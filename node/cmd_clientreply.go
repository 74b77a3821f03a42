package node

import (
	"strconv"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/keyspace"
)

// CLIENT REPLY modes (Client.replyMode; only the client's goroutine
// touches it).
const (
	replyOn       = iota
	replyOff      // CLIENT REPLY OFF: nothing is sent until ON
	replySkipNext // CLIENT REPLY SKIP: the next command's reply is dropped
)

// mutedConn drops replies; everything else reaches the real connection.
type mutedConn struct{ redcon.Conn }

func (mutedConn) WriteError(string)      {}
func (mutedConn) WriteString(string)     {}
func (mutedConn) WriteBulk([]byte)       {}
func (mutedConn) WriteBulkString(string) {}
func (mutedConn) WriteInt(int)           {}
func (mutedConn) WriteInt64(int64)       {}
func (mutedConn) WriteUint64(uint64)     {}
func (mutedConn) WriteArray(int)         {}
func (mutedConn) WriteNull()             {}
func (mutedConn) WriteRaw([]byte)        {}
func (mutedConn) WriteAny(any)           {}
func (m mutedConn) unmuted() redcon.Conn { return m.Conn }
func (mutedConn) String() string         { return "muted" }

// callWithReplyMode runs a command of a client that turned replies off or
// skips this one: its replies are dropped, as Redis's
// prepareClientToWrite refuses them under CLIENT_REPLY_OFF/SKIP.
func (s *Server) callWithReplyMode(cl *Client, args [][]byte) {
	if cl.replyMode == replySkipNext {
		cl.replyMode = replyOn // this is the skipped one (unless it skips again)
	}
	real := cl.ctx.conn
	cl.ctx.conn = mutedConn{real}
	defer func() { cl.ctx.conn = real }()
	s.call(cl, args)
}

// cmdClientReply is CLIENT REPLY ON|OFF|SKIP. ON's OK is sent even when
// replies were off; OFF and SKIP answer nothing.
func cmdClientReply(c *Ctx) {
	switch a := c.Args[2]; {
	case eq(a, "on"):
		c.cl.replyMode = replyOn
		if m, ok := c.conn.(mutedConn); ok {
			c.conn = m.unmuted()
		}
		c.OK()
	case eq(a, "off"):
		c.cl.replyMode = replyOff
	case eq(a, "skip"):
		if c.cl.replyMode != replyOff {
			c.cl.replyMode = replySkipNext
		}
	default:
		c.Err(errSyntax)
	}
}

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: a client blocked
// on keys wakes with its timeout reply, or with -UNBLOCKED. 1 when the
// client was blocked, else 0.
func cmdClientUnblock(c *Ctx) {
	id, ok := keyspace.ParseInt(c.Args[2])
	if !ok {
		c.Err(errNotInt)
		return
	}
	withErr := false
	if len(c.Args) == 4 {
		switch {
		case eq(c.Args[3], "timeout"):
		case eq(c.Args[3], "error"):
			withErr = true
		default:
			c.Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(c.Args) > 4 {
		serverSubSyntaxErr(c, "client")
		return
	}
	c.s.clientMu.Lock()
	target := c.s.clients[id]
	c.s.clientMu.Unlock()
	if target == nil {
		c.Int(0)
		return
	}
	ch := target.unblock.Load()
	if ch == nil {
		c.Int(0)
		return
	}
	select {
	case *ch <- withErr:
	default: // already being unblocked
	}
	c.Int(1)
}

const errUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// noteMulti publishes the MULTI queue's length and memory for CLIENT LIST:
// the queued arguments' bytes and their slice headers.
func (cl *Client) noteMulti() {
	if cl.multi == nil {
		cl.multiLen.Store(0)
		cl.multiMem.Store(0)
		return
	}
	var mem int64
	for _, q := range cl.multi.queue {
		mem += 24 * int64(len(q)+1)
		for _, a := range q {
			mem += int64(len(a))
		}
	}
	cl.multiLen.Store(int64(len(cl.multi.queue)) + 1)
	cl.multiMem.Store(mem)
}

// respLen is the length of args encoded as a RESP multibulk: what the
// query buffer holds while the command runs (CLIENT LIST qbuf=).
func respLen(args [][]byte) int64 {
	n := 1 + len(strconv.Itoa(len(args))) + 2
	for _, a := range args {
		n += 1 + len(strconv.Itoa(len(a))) + 2 + len(a) + 2
	}
	return int64(n)
}
