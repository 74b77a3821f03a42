package node

import (
	"time"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

// xreadBlockedCount is Redis's XREAD_BLOCKED_DEFAULT_COUNT: a client that
// blocked without COUNT is served at most this many entries.
const xreadBlockedCount = 1000

// xreadKeys finds the keys after STREAMS (half of what follows it).
func xreadKeys(args [][]byte) [][]byte {
	for i := 1; i < len(args); i++ {
		if eq(args[i], "streams") {
			rest := args[i+1:]
			return rest[:len(rest)/2]
		}
		if eq(args[i], "block") || eq(args[i], "count") {
			i++
		} else if eq(args[i], "group") {
			i += 2
		}
	}
	return nil
}

// xreadReq is one XREAD/XREADGROUP: what to read and, once blocked, how.
type xreadReq struct {
	keys     [][]byte
	ids      []stream.ID // "greater than"; MaxID means ">"
	count    int64
	group    []byte
	consumer []byte
	noack    bool
}

func cmdXRead(c *Ctx)      { xread(c, false) }
func cmdXReadGroup(c *Ctx) { xread(c, true) }

func xread(c *Ctx, xgroup bool) {
	timeout := time.Duration(-1)
	req := &xreadReq{}
	streamsArg := 0
	nstreams := 0
	for i := 1; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		o := c.Args[i]
		switch {
		case eq(o, "block") && more > 0:
			i++
			n, ok := keyspace.ParseInt(c.Args[i])
			if !ok {
				c.Err("ERR timeout is not an integer or out of range")
				return
			}
			if n < 0 {
				c.Err(errNegTimeout)
				return
			}
			timeout = time.Duration(n) * time.Millisecond
		case eq(o, "count") && more > 0:
			i++
			n, ok := c.ParseInt(c.Args[i])
			if !ok {
				return
			}
			req.count = max(n, 0)
		case eq(o, "streams") && more > 0:
			streamsArg = i + 1
			nstreams = len(c.Args) - streamsArg
			if nstreams%2 != 0 {
				sym := "$"
				if xgroup {
					sym = ">"
				}
				c.Err("ERR Unbalanced '" + c.cmd.Name + "' list of streams: for each stream key an ID or '" + sym + "' must be specified.")
				return
			}
			nstreams /= 2
			i = len(c.Args)
		case eq(o, "group") && more >= 2:
			if !xgroup {
				c.Err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			req.group, req.consumer = c.Args[i+1], c.Args[i+2]
			i += 2
		case eq(o, "noack"):
			if !xgroup {
				c.Err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			req.noack = true
		default:
			c.Err(errSyntax)
			return
		}
	}
	if streamsArg == 0 {
		c.Err(errSyntax)
		return
	}
	if xgroup && req.group == nil {
		c.Err("ERR Missing GROUP option for XREADGROUP")
		return
	}
	req.keys = c.Args[streamsArg : streamsArg+nstreams]
	req.ids = make([]stream.ID, nstreams)
	groups := make([]*stream.Group, nstreams)
	for k := 0; k < nstreams; k++ {
		key, arg := req.keys[k], c.Args[streamsArg+nstreams+k]
		o := c.Read(key) // Redis's lookupKeyRead: hit/miss counted, keymiss published
		if o != nil && o.Type != keyspace.TStream {
			c.Err(errWrongType)
			return
		}
		if req.group != nil {
			var g *stream.Group
			if o != nil {
				g = streamOf(o).Group(string(req.group))
			}
			if g == nil {
				c.Err("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(req.group) + "' in XREADGROUP with GROUP option")
				return
			}
			groups[k] = g
		}
		switch {
		case len(arg) == 1 && arg[0] == '$':
			if xgroup {
				c.Err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
				return
			}
			if o != nil {
				req.ids[k] = streamOf(o).LastID
			}
		case len(arg) == 1 && arg[0] == '>':
			if !xgroup {
				c.Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return
			}
			req.ids[k] = stream.MaxID
		default:
			id, ok := c.streamParseID(arg, 0, true)
			if !ok {
				return
			}
			req.ids[k] = id
		}
	}
	// Serve synchronously what can be served.
	type served struct {
		key []byte
		fn  func()
	}
	var out []served
	var b streamBatch
	now := c.DB.Now()
	for k, key := range req.keys {
		o := c.Read(key) // looked up again, as Redis does
		if o == nil {
			continue
		}
		s := streamOf(o)
		gt := req.ids[k]
		sync, history := false, false
		var cons *stream.Consumer
		if groups[k] != nil {
			g := groups[k]
			if gt != stream.MaxID {
				sync, history = true, true
			} else if s.Len() > 0 && g.LastID.Less(s.Last()) {
				sync = true
				gt = g.LastID
			}
		} else if s.Len() > 0 && gt.Less(s.Last()) {
			sync = true
		}
		if !sync {
			continue
		}
		if groups[k] != nil {
			// Redis 7.0 creates the consumer only when it serves it.
			cons = streamConsumer(c.s, c.DB.ID(), groups[k], key, req.group, req.consumer, now, &b, req.noack)
		}
		k, key, s, gt, cons, history := k, key, s, gt, cons, history
		// Collect now (the entries must be read in order with the PEL
		// updates); the reply is written after the count is known.
		w := c.streamCollect(s, key, groups[k], cons, req, gt, history, now, &b)
		out = append(out, served{key, w})
	}
	if len(out) > 0 {
		if c.resp3() {
			c.Map(len(out))
		} else {
			c.Array(len(out))
		}
		for _, sv := range out {
			if !c.resp3() {
				c.Array(2)
			}
			c.Bulk(sv.key)
			sv.fn()
		}
		b.flush(c.s, c, c.DB.ID())
		return
	}
	b.flush(c.s, c, c.DB.ID())
	if timeout < 0 || c.InMulti() {
		c.NullArray()
		return
	}
	if req.count == 0 {
		req.count = xreadBlockedCount
	}
	// Copy what the blocked client keeps past this command.
	req.keys = cloneArgs(req.keys)
	req.group = append([]byte(nil), req.group...)
	req.consumer = append([]byte(nil), req.consumer...)
	if !xgroup {
		req.group = nil
	}
	srv := c.s
	idOf := func(key []byte) int {
		for k, kk := range req.keys {
			if string(kk) == string(key) {
				return k
			}
		}
		return -1
	}
	c.Block(timeout, req.keys, nil,
		func(v keyspace.View, key []byte) bool {
			k := idOf(key)
			o := v.Get(key)
			if req.group != nil && (o == nil || o.Type != keyspace.TStream || streamOf(o).Group(string(req.group)) == nil) {
				return true // unblocked with an error
			}
			if o == nil || o.Type != keyspace.TStream || k < 0 {
				return false
			}
			s := streamOf(o)
			gt := req.ids[k]
			if req.group != nil {
				gt = s.Group(string(req.group)).LastID
			}
			return s.Len() > 0 && gt.Less(s.Last())
		},
		func(v keyspace.View, key []byte) any {
			k := idOf(key)
			o := v.Get(key)
			if req.group != nil {
				if o == nil || o.Type != keyspace.TStream {
					return xreadErr("UNBLOCKED the stream key no longer exists")
				}
				if streamOf(o).Group(string(req.group)) == nil {
					return xreadErr("NOGROUP the consumer group this client was blocked on no longer exists")
				}
			}
			s := streamOf(o)
			gt := req.ids[k]
			var g *stream.Group
			var cons *stream.Consumer
			var b streamBatch
			now := v.Now()
			if req.group != nil {
				g = s.Group(string(req.group))
				gt = g.LastID
				cons = streamConsumer(srv, v.ID(), g, key, req.group, req.consumer, now, &b, req.noack)
			}
			var res xreadResult
			res.key = key
			start, _ := gt.Next()
			s.Range(start, stream.MaxID, false, func(id stream.ID, fv [][]byte) bool {
				res.ids = append(res.ids, id)
				res.fvs = append(res.fvs, cloneArgs(fv))
				streamDeliver(s, g, cons, req, id, now, &b, key)
				return int64(len(res.ids)) < req.count
			})
			if g != nil && len(res.ids) > 0 {
				b.add(streamSetIDArgv(key, req.group, g)...)
			}
			b.flush(srv, nil, v.ID())
			return &res
		},
		func(c *Ctx, res any) {
			switch r := res.(type) {
			case *xreadResult:
				if c.resp3() {
					c.Map(1)
				} else {
					c.Array(1)
					c.Array(2)
				}
				c.Bulk(r.key)
				c.Array(len(r.ids))
				for i, id := range r.ids {
					c.streamReplyEntry(id, r.fvs[i])
				}
			case xreadErr:
				c.Err(string(r))
			default:
				c.NullArray()
			}
		})
}

type xreadErr string

type xreadResult struct {
	key []byte
	ids []stream.ID
	fvs [][][]byte
}

func cloneArgs(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, a := range in {
		out[i] = append([]byte(nil), a...)
	}
	return out
}

// streamDeliver records one entry delivered to a group consumer (">"): the
// group's last ID and entries-read move, and unless NOACK the entry becomes
// pending for the consumer (a NACK it may already have is taken over).
func streamDeliver(s *stream.Stream, g *stream.Group, cons *stream.Consumer, req *xreadReq, id stream.ID, now int64, b *streamBatch, key []byte) {
	if g == nil {
		return
	}
	if g.LastID.Less(id) {
		if g.EntriesRead != stream.InvalidEntriesRead && !s.RangeHasTombstones(id, stream.MaxID) {
			g.EntriesRead++
		} else if s.EntriesAdded > 0 {
			g.EntriesRead = s.EstimateDistance(id)
		}
		g.LastID = id
	}
	if req.noack {
		return
	}
	nack := &stream.NACK{DeliveryTime: now, DeliveryCount: 1, Consumer: cons}
	if old := g.PEL.Get(id); old != nil {
		old.Consumer.PEL.Remove(id)
	}
	g.PEL.Put(id, nack)
	cons.PEL.Put(id, nack)
	b.add(streamClaimArgv(key, req.group, g, id, nack)...)
}

// streamCollect serves one stream of an XREAD/XREADGROUP now and returns the
// function that writes its entries.
func (c *Ctx) streamCollect(s *stream.Stream, key []byte, g *stream.Group, cons *stream.Consumer, req *xreadReq, gt stream.ID, history bool, now int64, b *streamBatch) func() {
	type ent struct {
		id stream.ID
		fv [][]byte
		ok bool
	}
	var ents []ent
	count := req.count
	if history {
		// The consumer's own pending entries after gt; deleted ones come
		// back with a null body.
		start, ok := gt.Next()
		if ok {
			cons.PEL.Range(start, stream.MaxID, func(id stream.ID, n *stream.NACK) bool {
				fv, exists := s.Get(id)
				ents = append(ents, ent{id, fv, exists})
				// Redis updates these without propagating them.
				n.DeliveryTime = now
				n.DeliveryCount++
				return count == 0 || int64(len(ents)) < count
			})
		}
	} else {
		start, ok := gt.Next()
		lastBefore := stream.ID{}
		if g != nil {
			lastBefore = g.LastID
		}
		if ok {
			s.Range(start, stream.MaxID, false, func(id stream.ID, fv [][]byte) bool {
				ents = append(ents, ent{id, fv, true})
				streamDeliver(s, g, cons, req, id, now, b, key)
				return count == 0 || int64(len(ents)) < count
			})
		}
		// Redis 7.0 leaves this out without NOACK (the XCLAIMs' LASTID
		// moves the group but not its entries-read, so replicas and the AOF
		// drift); like Redis 7.2, warden always propagates it.
		if g != nil && g.LastID != lastBefore {
			b.add(streamSetIDArgv(key, req.group, g)...)
		}
	}
	return func() {
		c.Array(len(ents))
		for _, e := range ents {
			if !e.ok {
				c.Array(2)
				c.Bulk(streamIDBulk(e.id))
				c.NullArray()
				continue
			}
			c.streamReplyEntry(e.id, e.fv)
		}
	}
}
