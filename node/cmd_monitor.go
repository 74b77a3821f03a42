package node

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
)

// monitorHub holds the clients in MONITOR mode. A monitor receives a line
// for every command run after it ran, through its outbox (push mode), so
// the lines and its own replies keep one order.
type monitorHub struct {
	mu      sync.RWMutex
	clients map[*Client]struct{}
	n       atomic.Int32 // len(clients): the fast path of every command
}

func (h *monitorHub) add(cl *Client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[cl]; ok {
		return false
	}
	if h.clients == nil {
		h.clients = map[*Client]struct{}{}
	}
	h.clients[cl] = struct{}{}
	cl.monitor.Store(true)
	h.n.Store(int32(len(h.clients)))
	return true
}

// remove takes cl out of MONITOR mode; it reports whether it was in it.
func (h *monitorHub) remove(cl *Client) bool {
	if h.n.Load() == 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.clients[cl]
	delete(h.clients, cl)
	cl.monitor.Store(false)
	h.n.Store(int32(len(h.clients)))
	return ok
}

// subscribed reports whether cl is in RESP2's subscribed mode: push mode
// for pub/sub, not for MONITOR.
func (cl *Client) subscribed() bool {
	if !cl.pushMode.Load() || cl.monitor.Load() {
		return false
	}
	// Push mode entered for client-side caching is no subscription.
	return !cl.trackPush.Load() || cl.nsubs.Load()+cl.npsubs.Load()+cl.nssubs.Load() > 0
}

func registerMonitor(t table) {
	t.add(&Command{Name: "monitor", Arity: 1, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdMonitor, Group: "server"})
}

func cmdMonitor(c *Ctx) {
	if c.inExec {
		c.Err("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if !c.s.monitors.add(c.cl) {
		return // already monitoring: Redis ignores it, without a reply
	}
	// From now on every byte goes through the outbox, behind this OK.
	c.cl.pushMode.Store(true)
	c.OK()
}

// monitorSkips reports whether cmd is hidden from monitors: admin
// commands and those flagged skip_monitor (Redis 7.0's flags).
func monitorSkips(cmd *Command) bool {
	if m, ok := serverCmdTable[cmd.Name]; ok {
		return strings.Contains(" "+m.flags+" ", " admin ") || strings.Contains(m.flags, "skip_monitor")
	}
	return cmd.Flags&(fAdmin|fSkipMonitor) != 0
}

// feedMonitors sends the monitors the line of a command that ran, as
// Redis's replicationFeedMonitors formats it:
// +<sec>.<usec> [<db> <ip:port>] "arg" "arg"...
func (s *Server) feedMonitors(c *Ctx, cmd *Command, args [][]byte) {
	if s.monitors.n.Load() == 0 || c.cl.internal || monitorSkips(cmd) {
		return
	}
	now := time.Now()
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.AppendInt(nil, int64(now.Nanosecond()/1000), 10)
	for range 6 - len(us) {
		b = append(b, '0')
	}
	b = append(b, us...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.cl.db), 10)
	b = append(b, ' ')
	b = append(b, c.cl.addr...)
	b = append(b, "] "...)
	for i, a := range redactArgs(cmd, args) {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	s.monitors.mu.RLock()
	for m := range s.monitors.clients {
		if m == c.cl {
			// A monitor's own command: its reply goes first, as in
			// Redis, in the same push (another command's line must not
			// get between them once the reply is out).
			w := redcon.BaseWriter(m.conn)
			if reply := w.Buffer(); len(reply) > 0 {
				w.SetBuffer(nil)
				m.push(append(append(make([]byte, 0, len(reply)+len(b)), reply...), b...))
				continue
			}
		}
		m.push(b)
	}
	s.monitors.mu.RUnlock()
}

// appendRepr quotes b as Redis's sdscatrepr.
func appendRepr(out, b []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, ch := range b {
		switch ch {
		case '\\', '"':
			out = append(out, '\\', ch)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		case '\a':
			out = append(out, '\\', 'a')
		case '\b':
			out = append(out, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				out = append(out, ch)
			} else {
				out = append(out, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(out, '"')
}
