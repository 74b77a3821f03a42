package node

import (
	"errors"
	"strconv"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace/rdb"
)

func registerDump(t table) {
	t.add(
		&Command{Name: "dump", Arity: 2, Flags: fReadonly, FirstKey: 1, Run: cmdDump, Group: "generic"},
		&Command{Name: "restore", Arity: -4, Flags: fWrite | fDenyOOM, FirstKey: 1, Run: cmdRestore, Group: "generic"},
	)
}

func cmdDump(c *Ctx) {
	o := c.Read(c.Args[1])
	if o == nil {
		c.Null()
		return
	}
	c.Bulk(rdb.DumpPayload(o))
}

// cmdRestore is RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s]
// [FREQ f], checked in Redis 7.0's order.
func cmdRestore(c *Ctx) {
	key := c.Args[1]
	var replace, absTTL bool
	idle, freq := int64(-1), int64(-1)
	for i := 4; i < len(c.Args); i++ {
		a, more := c.Args[i], i+1 < len(c.Args)
		switch {
		case eq(a, "replace"):
			replace = true
		case eq(a, "absttl"):
			absTTL = true
		case eq(a, "idletime") && more && freq == -1:
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if n < 0 {
				c.Err("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			i++
		case eq(a, "freq") && more && idle == -1:
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if n < 0 || n > 255 {
				c.Err("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			i++
		default:
			c.Err(errSyntax)
			return
		}
	}
	if !replace && c.DB.Get(key) != nil {
		c.Err("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if ttl < 0 {
		c.Err("ERR Invalid TTL value, must be >= 0")
		return
	}
	o, err := rdb.ParsePayload(c.Args[3])
	if err != nil {
		if errors.Is(err, rdb.ErrPayload) {
			c.Err("ERR DUMP payload version or checksum are wrong")
		} else {
			c.Err("ERR Bad data format")
		}
		return
	}
	deleted := replace && c.DB.Delete(key)
	if ttl != 0 && !absTTL {
		ttl += c.DB.Now() // wraps like Redis's on absurd TTLs: then already expired
	}
	if ttl != 0 && ttl <= c.DB.Now() {
		if deleted {
			c.Propagate([]byte("DEL"), key)
			c.notify(keyevents.Generic, "del", key)
		}
		c.OK()
		return
	}
	o.Expire = ttl
	c.DB.Set(key, o)
	if st := c.DB.Peek(key); st != nil {
		c.DB.SetAccess(st, min(idle, 1<<31), int(freq)) // objectSetLRUOrLFU
	}
	keysSignal(c.DB, key, o)
	if ttl != 0 && !absTTL {
		argv := make([][]byte, 0, len(c.Args)+1)
		argv = append(argv, c.Args[0], key, strconv.AppendInt(nil, ttl, 10))
		argv = append(argv, c.Args[3:]...)
		c.Propagate(append(argv, []byte("ABSTTL"))...)
	} else {
		c.PropagateArgs()
	}
	c.notify(keyevents.Generic, "restore", key)
	c.OK()
}
