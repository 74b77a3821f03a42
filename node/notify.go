package node

import (
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

// keyEvents holds notify-keyspace-events as flags, read with one atomic
// load on every write so notifications cost nothing while they are off.
type keyEvents struct {
	flags atomic.Uint32
}

func (k *keyEvents) set(v string) error {
	c, err := keyevents.Parse(v)
	if err == nil {
		k.flags.Store(uint32(c))
	}
	return err
}

// notify publishes a keyspace event of class for key in the command's
// database, as Redis's notifyKeyspaceEvent. It is called right after the
// write it reports, with the key's lock held: publishing takes only the
// pub/sub lock and never a keyspace lock, so it cannot deadlock, and events
// leave in the order the writes were applied.
func (c *Ctx) notify(class keyevents.Class, event string, key []byte) {
	if keyevents.Class(c.s.notif.flags.Load())&class == 0 {
		return
	}
	c.s.publishKeyEvent(class, event, key, c.DB.ID())
}

// notifyDB is notify for a key of another database (MOVE, COPY ... DB).
func (c *Ctx) notifyDB(class keyevents.Class, event string, key []byte, db int) {
	if keyevents.Class(c.s.notif.flags.Load())&class == 0 {
		return
	}
	c.s.publishKeyEvent(class, event, key, db)
}

func (s *Server) publishKeyEvent(class keyevents.Class, event string, key []byte, db int) {
	flags := keyevents.Class(s.notif.flags.Load())
	if flags&class == 0 {
		return
	}
	var buf [64]byte
	if flags&keyevents.Keyspace != 0 {
		ch := append(buf[:0], "__keyspace@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		s.hub.publish(ch, []byte(event))
	}
	if flags&keyevents.Keyevent != 0 {
		ch := append(buf[:0], "__keyevent@"...)
		ch = strconv.AppendInt(ch, int64(db), 10)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		s.hub.publish(ch, key)
	}
}

// notifyEmptied publishes the "del" Redis sends after a write that left a
// collection empty (DeleteIfEmpty removed the key; o still reads empty).
func (c *Ctx) notifyEmptied(key []byte, o *keyspace.Object) {
	c.s.notifyEmptied(c.DB.ID(), key, o)
}

func (s *Server) notifyEmptied(db int, key []byte, o *keyspace.Object) {
	if keyevents.Class(s.notif.flags.Load())&keyevents.Generic == 0 || o.Len() != 0 {
		return
	}
	s.publishKeyEvent(keyevents.Generic, "del", key, db)
}

func listPushEvent(side int) string {
	if side == listLeft {
		return "lpush"
	}
	return "rpush"
}

func listPopEvent(side int) string {
	if side == listLeft {
		return "lpop"
	}
	return "rpop"
}

// notifyMove publishes LMOVE's events in Redis's order: the push on dst,
// the pop on src, and src's "del" when it was emptied.
func (s *Server) notifyMove(db int, src, dst []byte, so *keyspace.Object, from, to int) {
	s.publishKeyEvent(keyevents.List, listPushEvent(to), dst, db)
	s.publishKeyEvent(keyevents.List, listPopEvent(from), src, db)
	s.notifyEmptied(db, src, so)
}

// notifyRemoved publishes HDEL / SREM / ZREM's event (by the key's type)
// and the "del" when the collection was emptied.
func (c *Ctx) notifyRemoved(t keyspace.Type, key []byte, o *keyspace.Object) {
	switch t {
	case keyspace.THash:
		c.notify(keyevents.Hash, "hdel", key)
	case keyspace.TSet:
		c.notify(keyevents.Set, "srem", key)
	case keyspace.TZSet:
		c.notify(keyevents.ZSet, "zrem", key)
	}
	c.notifyEmptied(key, o)
}

func zaddEvent(incr bool) string {
	if incr {
		return "zincr"
	}
	return "zadd"
}

// zstoreEvent names the event of a sorted-set *STORE command: Redis names
// the GEO ones after GEORADIUS / GEOSEARCH whatever the variant.
func zstoreEvent(cmd string) string {
	switch {
	case strings.HasPrefix(cmd, "geosearch"):
		return "geosearchstore"
	case strings.HasPrefix(cmd, "georadius"):
		return "georadiusstore"
	}
	return cmd
}

// notifyZPop publishes a ZPOPMIN/ZPOPMAX (blocking and ZMPOP included) and
// the "del" when it emptied the set.
func (s *Server) notifyZPop(db int, key []byte, o *keyspace.Object, max bool) {
	ev := "zpopmin"
	if max {
		ev = "zpopmax"
	}
	s.publishKeyEvent(keyevents.ZSet, ev, key, db)
	s.notifyEmptied(db, key, o)
}

// notifyEvicted is for the eviction loop: call it with the key's lock
// held, right after the key is removed (and its DEL propagated), as
// Redis's performEvictions publishes "evicted".
func (s *Server) notifyEvicted(db int, key []byte) {
	s.publishKeyEvent(keyevents.Evicted, "evicted", key, db)
}
