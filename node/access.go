package node

import (
	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

// Read returns key's live value for a read command, counting keyspace
// hits and misses as INFO reports them.
func (c *Ctx) Read(key []byte) *keyspace.Object {
	o := c.DB.Get(key)
	c.countRead(key, o != nil)
	return o
}

// countRead counts a read command's lookup of key as a hit or a miss.
func (c *Ctx) countRead(key []byte, found bool) {
	if !found {
		c.s.stats.keyspaceMisses.Add(1)
		c.notify(keyevents.KeyMiss, "keymiss", key) // where Redis counts the miss
	} else {
		c.s.stats.keyspaceHits.Add(1)
	}
}

// ReadType is Read that also checks the type: it returns (nil, true) for a
// missing key and replies WRONGTYPE, returning ok=false, on a mismatch.
func (c *Ctx) ReadType(key []byte, t keyspace.Type) (*keyspace.Object, bool) {
	o := c.Read(key)
	if o != nil && o.Type != t {
		c.Err(errWrongType)
		return nil, false
	}
	return o, true
}

// WriteType is ReadType for write commands (no hit/miss accounting).
func (c *Ctx) WriteType(key []byte, t keyspace.Type) (*keyspace.Object, bool) {
	o := c.DB.Get(key)
	if o != nil && o.Type != t {
		c.Err(errWrongType)
		return nil, false
	}
	return o, true
}

// removeMembers is HDEL, SREM and ZREM: remove takes each member argument
// out of the collection at Args[1]; the reply is how many were removed. The
// key goes when the collection empties, as Redis never keeps empty ones.
func (c *Ctx) removeMembers(t keyspace.Type, remove func(o *keyspace.Object, member []byte) bool) {
	key := c.Args[1]
	o, ok := c.WriteType(key, t)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	n := 0
	for _, m := range c.Args[2:] {
		if remove(o, m) {
			n++
		}
		if o.Len() == 0 {
			break
		}
	}
	if n > 0 {
		c.DB.Touch(key)
		c.DB.DeleteIfEmpty(key, o)
		c.PropagateArgs()
		c.notifyRemoved(t, key, o)
	}
	c.Int(int64(n))
}
