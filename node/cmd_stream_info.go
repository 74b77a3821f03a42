package node

import (
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

// xinfoStream resolves XINFO's key: missing is "no such key".
func (c *Ctx) xinfoStream(key []byte) (*stream.Stream, bool) {
	o, ok := c.ReadType(key, keyspace.TStream)
	if !ok {
		return nil, false
	}
	if o == nil {
		c.Err(errNoSuchKey)
		return nil, false
	}
	return streamOf(o), true
}

func (c *Ctx) streamLag(s *stream.Stream, g *stream.Group) {
	c.BulkString("entries-read")
	if g.EntriesRead != stream.InvalidEntriesRead {
		c.Int(g.EntriesRead)
	} else {
		c.Null()
	}
	c.BulkString("lag")
	if lag, ok := s.Lag(g); ok {
		c.Int(lag)
	} else {
		c.Null()
	}
}

func cmdXInfoStream(c *Ctx) {
	s, ok := c.xinfoStream(c.Args[2])
	if !ok {
		return
	}
	full := false
	count := int64(10)
	if len(c.Args) > 3 {
		if !eq(c.Args[3], "full") {
			c.xinfoArgsErr()
			return
		}
		full = true
		if len(c.Args) > 4 {
			if len(c.Args) != 6 || !eq(c.Args[4], "count") {
				c.xinfoArgsErr()
				return
			}
			n, ok := c.ParseInt(c.Args[5])
			if !ok {
				return
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
	}
	if full {
		c.Map(9)
	} else {
		c.Map(10)
	}
	c.BulkString("length")
	c.Int(int64(s.Len()))
	c.BulkString("radix-tree-keys")
	c.Int(int64(s.Nodes()))
	c.BulkString("radix-tree-nodes")
	c.Int(int64(s.RaxNodes()))
	c.BulkString("last-generated-id")
	c.Bulk(streamIDBulk(s.LastID))
	c.BulkString("max-deleted-entry-id")
	c.Bulk(streamIDBulk(s.MaxDeletedID))
	c.BulkString("entries-added")
	c.Int(int64(s.EntriesAdded))
	c.BulkString("recorded-first-entry-id")
	c.Bulk(streamIDBulk(s.FirstID))
	if !full {
		c.BulkString("groups")
		c.Int(int64(s.NumGroups()))
		c.BulkString("first-entry")
		c.streamEdge(s, false)
		c.BulkString("last-entry")
		c.streamEdge(s, true)
		return
	}
	c.BulkString("entries")
	n := count
	if n == 0 {
		n = -1
	}
	c.streamReplyRange(s, stream.ID{}, stream.MaxID, n, false)
	c.BulkString("groups")
	groups := s.Groups()
	c.Array(len(groups))
	for _, g := range groups {
		c.Map(7)
		c.BulkString("name")
		c.BulkString(g.Name)
		c.BulkString("last-delivered-id")
		c.Bulk(streamIDBulk(g.LastID))
		c.streamLag(s, g)
		c.BulkString("pel-count")
		c.Int(int64(g.PEL.Len()))
		c.BulkString("pending")
		pend := pelHead(g.PEL, count)
		c.Array(len(pend))
		for _, r := range pend {
			c.Array(4)
			c.Bulk(streamIDBulk(r.id))
			c.BulkString(r.n.Consumer.Name)
			c.Int(r.n.DeliveryTime)
			c.Int(int64(r.n.DeliveryCount))
		}
		c.BulkString("consumers")
		cons := g.Consumers()
		c.Array(len(cons))
		for _, cn := range cons {
			c.Map(4)
			c.BulkString("name")
			c.BulkString(cn.Name)
			c.BulkString("seen-time")
			c.Int(cn.SeenTime)
			c.BulkString("pel-count")
			c.Int(int64(cn.PEL.Len()))
			c.BulkString("pending")
			pend := pelHead(cn.PEL, count)
			c.Array(len(pend))
			for _, r := range pend {
				c.Array(3)
				c.Bulk(streamIDBulk(r.id))
				c.Int(r.n.DeliveryTime)
				c.Int(int64(r.n.DeliveryCount))
			}
		}
	}
}

// pelRow is a pending entry collected for a reply.
type pelRow struct {
	id stream.ID
	n  *stream.NACK
}

// pelHead is the first count entries of p, all of them when count is 0.
func pelHead(p *stream.PEL, count int64) []pelRow {
	var rows []pelRow
	p.Range(stream.ID{}, stream.MaxID, func(id stream.ID, n *stream.NACK) bool {
		rows = append(rows, pelRow{id, n})
		return count == 0 || int64(len(rows)) < count
	})
	return rows
}

// streamEdge writes the first or last entry, or null.
func (c *Ctx) streamEdge(s *stream.Stream, last bool) {
	found := false
	s.Range(stream.ID{}, stream.MaxID, last, func(id stream.ID, fv [][]byte) bool {
		c.streamReplyEntry(id, fv)
		found = true
		return false
	})
	if !found {
		c.Null()
	}
}

func cmdXInfoGroups(c *Ctx) {
	s, ok := c.xinfoStream(c.Args[2])
	if !ok {
		return
	}
	groups := s.Groups()
	c.Array(len(groups))
	for _, g := range groups {
		c.Map(6)
		c.BulkString("name")
		c.BulkString(g.Name)
		c.BulkString("consumers")
		c.Int(int64(g.NumConsumers()))
		c.BulkString("pending")
		c.Int(int64(g.PEL.Len()))
		c.BulkString("last-delivered-id")
		c.Bulk(streamIDBulk(g.LastID))
		c.streamLag(s, g)
	}
}

func cmdXInfoConsumers(c *Ctx) {
	key, gname := c.Args[2], c.Args[3]
	s, ok := c.xinfoStream(key)
	if !ok {
		return
	}
	g := s.Group(string(gname))
	if g == nil {
		c.streamNoSuchGroup(key, gname)
		return
	}
	now := c.DB.Now()
	cons := g.Consumers()
	c.Array(len(cons))
	for _, cn := range cons {
		c.Map(3)
		c.BulkString("name")
		c.BulkString(cn.Name)
		c.BulkString("pending")
		c.Int(int64(cn.PEL.Len()))
		c.BulkString("idle")
		c.Int(max(now-cn.SeenTime, 0))
	}
}

func (c *Ctx) xinfoArgsErr() {
	c.Err("ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try XINFO HELP.")
}
