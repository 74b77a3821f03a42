package node

import (
	"sort"
	"strconv"
	"sync"
	"time"
)

// Pub/sub delivery. A subscribed client is in push mode: every byte it
// receives goes through its outbox (Client.push), so replies to its own
// commands and messages pushed by publishers on other goroutines keep one
// order, and a publisher never blocks on a slow subscriber.
//
// Ordering: subscriptions change under hub.mu (write lock) and the
// confirmation frames are moved to the outbox before the lock is released;
// PUBLISH delivers under the read lock. So a subscriber sees its "subscribe"
// confirmation before any message of that channel, and nothing after its
// "unsubscribe".

// Subscription kinds.
const (
	psChannel = iota
	psPattern
	psShard
)

var (
	psSubscribeKind   = [3]string{"subscribe", "psubscribe", "ssubscribe"}
	psUnsubscribeKind = [3]string{"unsubscribe", "punsubscribe", "sunsubscribe"}
)

// psSub is a subscribed client as the hub sees it.
type psSub struct {
	cl    *Client
	resp3 bool
	shard map[string]struct{} // shard channels (SSUBSCRIBE)
}

// pubsubHub holds channel and pattern subscriptions.
type pubsubHub struct {
	mu       sync.RWMutex
	channels map[string]map[*psSub]struct{}
	patterns map[string]map[*psSub]struct{}
	shards   map[string]map[*psSub]struct{}
	clients  map[*Client]*psSub
}

func newPubsubHub() *pubsubHub {
	return &pubsubHub{
		channels: map[string]map[*psSub]struct{}{},
		patterns: map[string]map[*psSub]struct{}{},
		shards:   map[string]map[*psSub]struct{}{},
		clients:  map[*Client]*psSub{},
	}
}

// counts returns the number of active channels, patterns and shard channels
// (INFO stats pubsub_channels / pubsub_patterns / pubsubshard_channels).
func (h *pubsubHub) counts() (channels, patterns, shards int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels), len(h.patterns), len(h.shards)
}

// shardCount returns how many shard channels cl is subscribed to.
func (h *pubsubHub) shardCount(cl *Client) int {
	if !cl.pushMode.Load() {
		return 0
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if sub := h.clients[cl]; sub != nil {
		return len(sub.shard)
	}
	return 0
}

// sub returns (creating it) the hub's record of cl; h.mu must be held.
func (h *pubsubHub) sub(cl *Client, resp3 bool) *psSub {
	sub := h.clients[cl]
	if sub == nil {
		sub = &psSub{cl: cl}
		h.clients[cl] = sub
	}
	sub.resp3 = resp3
	return sub
}

// kindSets returns the client-side set and the hub map of a kind; h.mu must
// be held.
func (h *pubsubHub) kindSets(sub *psSub, kind int) (map[string]struct{}, map[string]map[*psSub]struct{}) {
	cl := sub.cl
	switch kind {
	case psChannel:
		if cl.subs == nil {
			cl.subs = map[string]struct{}{}
		}
		return cl.subs, h.channels
	case psPattern:
		if cl.psubs == nil {
			cl.psubs = map[string]struct{}{}
		}
		return cl.psubs, h.patterns
	default:
		if sub.shard == nil {
			sub.shard = map[string]struct{}{}
		}
		return sub.shard, h.shards
	}
}

// count is the number Redis reports in (un)subscribe confirmations: channels
// plus patterns, or shard channels for the sharded kind.
func (sub *psSub) count(kind int) int64 {
	if kind == psShard {
		return int64(len(sub.shard))
	}
	return int64(len(sub.cl.subs) + len(sub.cl.psubs))
}

func (sub *psSub) total() int {
	return len(sub.cl.subs) + len(sub.cl.psubs) + len(sub.shard)
}

var psPush3, psArray3 = []byte(">3\r\n"), []byte("*3\r\n")

// pushHeader writes the header of a pub/sub frame of n elements: a push in
// RESP3, an array in RESP2.
func (c *Ctx) pushHeader(n int) {
	if n == 3 { // every (un)subscribe confirmation
		if c.resp3() {
			c.conn.WriteRaw(psPush3)
		} else {
			c.conn.WriteRaw(psArray3)
		}
		return
	}
	if c.resp3() {
		c.conn.WriteRaw([]byte(">" + strconv.Itoa(n) + "\r\n"))
		return
	}
	c.conn.WriteArray(n)
}

// subscribe adds subscriptions of one kind for the calling client and
// writes one confirmation per name.
func (h *pubsubHub) subscribe(c *Ctx, kind int, names [][]byte) {
	cl := c.cl
	cl.pushMode.Store(true)
	cl.flushToOutbox() // earlier pipelined replies go first
	h.mu.Lock()
	sub := h.sub(cl, c.resp3())
	mine, all := h.kindSets(sub, kind)
	for _, n := range names {
		if _, ok := mine[string(n)]; !ok {
			name := string(n)
			mine[name] = struct{}{}
			set := all[name]
			if set == nil {
				set = map[*psSub]struct{}{}
				all[name] = set
			}
			set[sub] = struct{}{}
		}
		c.pushHeader(3)
		c.BulkString(psSubscribeKind[kind])
		c.Bulk(n)
		c.Int(sub.count(kind))
	}
	cl.nsubs.Store(int64(len(cl.subs)))
	cl.npsubs.Store(int64(len(cl.psubs)))
	cl.nssubs.Store(int64(len(sub.shard)))
	cl.flushToOutbox()
	h.mu.Unlock()
}

// unsubscribe removes subscriptions of one kind (all of them when names is
// empty) and writes one confirmation per name; when the client has no
// subscription left it leaves push mode.
func (h *pubsubHub) unsubscribe(c *Ctx, kind int, names [][]byte) {
	cl := c.cl
	wasPush := cl.pushMode.Load()
	h.mu.Lock()
	sub := h.clients[cl]
	if sub == nil {
		sub = &psSub{cl: cl}
	} else {
		sub.resp3 = c.resp3()
	}
	mine, all := h.kindSets(sub, kind)
	if len(names) == 0 {
		if len(mine) == 0 {
			c.pushHeader(3)
			c.BulkString(psUnsubscribeKind[kind])
			c.Null()
			c.Int(sub.count(kind))
		}
		list := make([]string, 0, len(mine))
		for n := range mine {
			list = append(list, n)
		}
		sort.Strings(list)
		for _, n := range list {
			h.remove(sub, mine, all, n)
			c.pushHeader(3)
			c.BulkString(psUnsubscribeKind[kind])
			c.BulkString(n)
			c.Int(sub.count(kind))
		}
	} else {
		for _, n := range names {
			h.remove(sub, mine, all, string(n))
			c.pushHeader(3)
			c.BulkString(psUnsubscribeKind[kind])
			c.Bulk(n)
			c.Int(sub.count(kind))
		}
	}
	cl.nsubs.Store(int64(len(cl.subs)))
	cl.npsubs.Store(int64(len(cl.psubs)))
	cl.nssubs.Store(int64(len(sub.shard)))
	last := sub.total() == 0
	if last {
		delete(h.clients, cl)
	}
	if wasPush {
		cl.flushToOutbox()
	}
	h.mu.Unlock()
	if last && wasPush {
		pubsubLeavePushMode(cl)
	}
}

// remove drops one subscription; h.mu must be held.
func (h *pubsubHub) remove(sub *psSub, mine map[string]struct{}, all map[string]map[*psSub]struct{}, name string) {
	if _, ok := mine[name]; !ok {
		return
	}
	delete(mine, name)
	if set := all[name]; set != nil {
		delete(set, sub)
		if len(set) == 0 {
			delete(all, name)
		}
	}
}

// unsubscribeAll drops every subscription of cl (RESET, disconnect).
func (h *pubsubHub) unsubscribeAll(cl *Client) {
	if !cl.pushMode.Load() {
		return
	}
	h.mu.Lock()
	if sub := h.clients[cl]; sub != nil {
		for n := range cl.subs {
			h.remove(sub, cl.subs, h.channels, n)
		}
		for n := range cl.psubs {
			h.remove(sub, cl.psubs, h.patterns, n)
		}
		for n := range sub.shard {
			h.remove(sub, sub.shard, h.shards, n)
		}
		delete(h.clients, cl)
	}
	cl.nsubs.Store(0)
	cl.npsubs.Store(0)
	cl.nssubs.Store(0)
	h.mu.Unlock()
	select {
	case <-cl.killed: // disconnecting: nothing more to send
		cl.pushMode.Store(false)
		return
	default:
	}
	cl.flushToOutbox()
	pubsubLeavePushMode(cl)
}

// pubsubLeavePushMode waits until everything queued for cl has been written
// and returns it to direct replies. No publisher can queue anything new: the
// client has no subscription left.
func pubsubLeavePushMode(cl *Client) {
	if cl.trackPush.Load() {
		return // client-side caching keeps it in push mode
	}
	d := 10 * time.Microsecond
	for {
		cl.outMu.Lock()
		idle := !cl.writing && len(cl.outbox) == 0
		cl.outMu.Unlock()
		if idle {
			break
		}
		select {
		case <-cl.killed:
			cl.pushMode.Store(false)
			return
		default:
		}
		time.Sleep(d)
		if d < time.Millisecond {
			d *= 2
		}
	}
	// The writer leaves a write deadline behind; direct replies must not
	// inherit it.
	cl.netConn.SetWriteDeadline(time.Time{})
	cl.pushMode.Store(false)
}

// appendBulk appends a RESP bulk string.
func pubsubAppendBulk(b []byte, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// deliver pushes frame to every subscriber of set: the frame's first byte is
// switched between '*' (RESP2) and '>' (RESP3) as each client needs (push
// copies the bytes).
func pubsubDeliver(set map[*psSub]struct{}, frame []byte) {
	for sub := range set {
		if sub.resp3 {
			frame[0] = '>'
		} else {
			frame[0] = '*'
		}
		sub.cl.push(frame)
	}
}

// publish delivers msg to the subscribers of channel and of every matching
// pattern; it returns the number of receivers as PUBLISH reports it.
func (h *pubsubHub) publish(channel, msg []byte) int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var n int64
	var frame []byte
	if set := h.channels[string(channel)]; len(set) > 0 {
		frame = make([]byte, 0, 32+len(channel)+len(msg))
		frame = append(frame, "*3\r\n$7\r\nmessage\r\n"...)
		frame = pubsubAppendBulk(frame, channel)
		frame = pubsubAppendBulk(frame, msg)
		pubsubDeliver(set, frame)
		n += int64(len(set))
	}
	for pat, set := range h.patterns {
		if !globMatch([]byte(pat), channel) {
			continue
		}
		frame = append(frame[:0], "*4\r\n$8\r\npmessage\r\n"...)
		frame = pubsubAppendBulk(frame, []byte(pat))
		frame = pubsubAppendBulk(frame, channel)
		frame = pubsubAppendBulk(frame, msg)
		pubsubDeliver(set, frame)
		n += int64(len(set))
	}
	return n
}

// spublish delivers msg to the subscribers of a shard channel.
func (h *pubsubHub) spublish(channel, msg []byte) int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	set := h.shards[string(channel)]
	if len(set) == 0 {
		return 0
	}
	frame := make([]byte, 0, 32+len(channel)+len(msg))
	frame = append(frame, "*3\r\n$8\r\nsmessage\r\n"...)
	frame = pubsubAppendBulk(frame, channel)
	frame = pubsubAppendBulk(frame, msg)
	pubsubDeliver(set, frame)
	return int64(len(set))
}

// channelList returns the active channels (shard channels when shard)
// matching pattern (all when pattern is nil).
func (h *pubsubHub) channelList(pattern []byte, shard bool) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m := h.channels
	if shard {
		m = h.shards
	}
	var out []string
	for ch := range m {
		if pattern == nil || globMatch(pattern, []byte(ch)) {
			out = append(out, ch)
		}
	}
	sort.Strings(out)
	return out
}

// numSub returns the number of subscribers of each channel.
func (h *pubsubHub) numSub(names [][]byte, shard bool) []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m := h.channels
	if shard {
		m = h.shards
	}
	out := make([]int64, len(names))
	for i, n := range names {
		out[i] = int64(len(m[string(n)]))
	}
	return out
}
