package sentinel

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
)

const (
	// outboxLimit drops a subscriber that stops reading (Redis's
	// client-output-buffer-limit pubsub); sentinel messages are tiny.
	outboxLimit = 1 << 20
	// writeTimeout bounds one write to a subscriber.
	writeTimeout = 10 * time.Second
)

// client is one connection. Its fields are used by its own redcon
// goroutine, except the outbox (publishers) and kill (Close).
type client struct {
	id   int64
	conn redcon.Conn
	nc   net.Conn

	name   string
	authed bool // AUTH passed, or no password when it connected
	// allowed is the ACL user's command check (nil: the default user,
	// who may run everything).
	allowed  func(cmd string) bool
	quitting bool // QUIT seen: ignore the rest of the pipeline

	// Subscriptions, changed under pubsub.mu by this client's goroutine.
	chans map[string]struct{}
	pats  map[string]struct{}

	// Once a client subscribes, every byte to it goes through the outbox
	// (for the rest of the connection) so replies and messages pushed by
	// publishers on other goroutines keep one order.
	outboxMode atomic.Bool
	outMu      sync.Mutex
	outbox     []byte
	writing    bool
	closeAfter bool // QUIT in outbox mode: close once the outbox is written

	killOnce sync.Once
}

func (c *client) subscribed() bool { return len(c.chans)+len(c.pats) > 0 }

// kill closes the connection from any goroutine.
func (c *client) kill() {
	c.killOnce.Do(func() { c.nc.Close() })
}

// err writes an error reply. Error text must stay on one line (it may come
// from the View or echo client input), as Redis ensures.
func (c *client) err(msg string) {
	c.conn.WriteError(strings.NewReplacer("\r", " ", "\n", " ").Replace(msg))
}

// push queues bytes for a client in outbox mode and starts its writer.
func (c *client) push(b []byte) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if len(c.outbox)+len(b) > outboxLimit {
		c.kill() // a subscriber that cannot keep up is dropped, as Redis does
		return
	}
	c.outbox = append(c.outbox, b...)
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

func (c *client) writeLoop() {
	var buf []byte
	for {
		c.outMu.Lock()
		if len(c.outbox) == 0 {
			c.writing = false
			closeAfter := c.closeAfter
			// Clear the deadline: redcon's own (empty) flushes use the
			// same connection and would fail on an expired one.
			c.nc.SetWriteDeadline(time.Time{})
			c.outMu.Unlock()
			if closeAfter {
				c.kill()
			}
			return
		}
		buf, c.outbox = c.outbox, buf[:0]
		c.outMu.Unlock()
		c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.nc.Write(buf); err != nil {
			c.kill()
			c.outMu.Lock()
			c.outbox, c.writing = nil, false
			c.outMu.Unlock()
			return
		}
	}
}

// flushToOutbox moves redcon's buffered replies into the outbox.
func (c *client) flushToOutbox() {
	w := redcon.BaseWriter(c.conn)
	if w == nil {
		return
	}
	if b := w.Buffer(); len(b) > 0 {
		w.SetBuffer(nil)
		c.push(b)
	}
}

// quit closes the connection once the replies so far are sent.
func (c *client) quit() {
	c.quitting = true
	if !c.outboxMode.Load() {
		c.conn.Close() // flushes first
		return
	}
	c.flushToOutbox()
	c.outMu.Lock()
	c.closeAfter = true
	idle := !c.writing
	c.outMu.Unlock()
	if idle {
		c.kill()
	}
}

// setAuthed records AUTH's outcome and tells the reader, which holds a
// client that has not authenticated to Redis's limits (10 arguments, 16 KB
// per argument) so it cannot make the listener buffer much before AUTH.
func (c *client) setAuthed(ok bool) {
	c.authed = ok
	redcon.SetAuthenticated(c.conn, ok)
}
