package sentinel

import (
	"sort"
	"strconv"
	"sync"

	"github.com/tidwall/match"
)

// pubsub holds channel and pattern subscriptions (RESP2 only).
//
// Ordering: subscriptions change under mu (write lock) and their
// confirmations reach the client's outbox before the lock is released;
// publish delivers under the read lock. So a subscriber sees its
// "subscribe" confirmation before any message of that channel, and nothing
// after its "unsubscribe".
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*client]struct{}
	patterns map[string]map[*client]struct{}
}

func newPubsub() pubsub {
	return pubsub{
		channels: map[string]map[*client]struct{}{},
		patterns: map[string]map[*client]struct{}{},
	}
}

// sets returns the client's and the server's sets of one kind; mu held.
func (p *pubsub) sets(c *client, pattern bool) (mine map[string]struct{}, all map[string]map[*client]struct{}) {
	if pattern {
		if c.pats == nil {
			c.pats = map[string]struct{}{}
		}
		return c.pats, p.patterns
	}
	if c.chans == nil {
		c.chans = map[string]struct{}{}
	}
	return c.chans, p.channels
}

func kindName(pattern, sub bool) string {
	switch {
	case pattern && sub:
		return "psubscribe"
	case pattern:
		return "punsubscribe"
	case sub:
		return "subscribe"
	}
	return "unsubscribe"
}

// subscribe adds subscriptions and writes one confirmation per name; the
// client's output goes through its outbox from now on.
func (p *pubsub) subscribe(c *client, pattern bool, names []string) {
	c.outboxMode.Store(true)
	c.flushToOutbox() // earlier pipelined replies go first
	p.mu.Lock()
	defer p.mu.Unlock()
	mine, all := p.sets(c, pattern)
	for _, n := range names {
		if _, ok := mine[n]; !ok {
			mine[n] = struct{}{}
			if all[n] == nil {
				all[n] = map[*client]struct{}{}
			}
			all[n][c] = struct{}{}
		}
		c.conn.WriteArray(3)
		c.conn.WriteBulkString(kindName(pattern, true))
		c.conn.WriteBulkString(n)
		c.conn.WriteInt(len(c.chans) + len(c.pats))
	}
	c.flushToOutbox()
}

// unsubscribe removes subscriptions of one kind (all of them when names is
// empty) and writes one confirmation per name, as Redis does even for names
// the client was not subscribed to.
func (p *pubsub) unsubscribe(c *client, pattern bool, names []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mine, all := p.sets(c, pattern)
	if len(names) == 0 {
		for n := range mine {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			c.conn.WriteArray(3)
			c.conn.WriteBulkString(kindName(pattern, false))
			c.conn.WriteNull()
			c.conn.WriteInt(len(c.chans) + len(c.pats))
		}
	}
	for _, n := range names {
		p.remove(c, mine, all, n)
		c.conn.WriteArray(3)
		c.conn.WriteBulkString(kindName(pattern, false))
		c.conn.WriteBulkString(n)
		c.conn.WriteInt(len(c.chans) + len(c.pats))
	}
	if c.outboxMode.Load() {
		c.flushToOutbox()
	}
}

// remove drops one subscription; mu held.
func (p *pubsub) remove(c *client, mine map[string]struct{}, all map[string]map[*client]struct{}, name string) {
	if _, ok := mine[name]; !ok {
		return
	}
	delete(mine, name)
	delete(all[name], c)
	if len(all[name]) == 0 {
		delete(all, name)
	}
}

// unsubscribeAll drops every subscription of c (RESET, disconnect).
func (p *pubsub) unsubscribeAll(c *client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n := range c.chans {
		p.remove(c, c.chans, p.channels, n)
	}
	for n := range c.pats {
		p.remove(c, c.pats, p.patterns, n)
	}
}

// publish queues message for every matching subscription and returns how
// many there were.
func (p *pubsub) publish(channel, message string) int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	n := 0
	if set := p.channels[channel]; len(set) > 0 {
		frame := appendBulks(nil, "message", channel, message)
		for c := range set {
			c.push(frame)
			n++
		}
	}
	for pat, set := range p.patterns {
		if !match.Match(channel, pat) {
			continue
		}
		frame := appendBulks(nil, "pmessage", pat, channel, message)
		for c := range set {
			c.push(frame)
			n++
		}
	}
	return n
}

// appendBulks appends a RESP array of bulk strings.
func appendBulks(b []byte, items ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(items)), 10)
	b = append(b, '\r', '\n')
	for _, s := range items {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, '\r', '\n')
		b = append(b, s...)
		b = append(b, '\r', '\n')
	}
	return b
}
