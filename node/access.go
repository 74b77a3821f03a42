package node

import "github.com/wardenkv/warden/keyspace"

// Read returns key's live value for a read command, counting keyspace
// hits and misses as INFO reports them.
func (c *Ctx) Read(key []byte) *keyspace.Object {
	o := c.DB.Get(key)
	if o == nil {
		c.s.stats.keyspaceMisses.Add(1)
	} else {
		c.s.stats.keyspaceHits.Add(1)
	}
	return o
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
