package node

import (
	"github.com/wardenkv/warden/evict"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/memusage"
)

// errOOM is Redis's shared.oomerr.
const errOOM = "OOM command not allowed when used memory > 'maxmemory'."

// evictDirectives are the directives that make up evict.Config.
var evictDirectives = []string{"maxmemory", "maxmemory-policy", "maxmemory-samples",
	"maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time"}

// initEviction wires memory accounting and the evictor (called from New,
// before any key is stored).
func (s *Server) initEviction() {
	// used_memory's data set part: memusage's model of each stored key,
	// plus the TTL index entry of a volatile key (a copy of the key, its
	// map slot).
	s.store.SetSizer(func(keyLen int, o *keyspace.Object) int64 {
		n := memusage.Alloc(keyLen) + memusage.DictEntry + memusage.Value(o, memusage.DefaultSamples)
		if o.Expire != 0 {
			n += memusage.Alloc(keyLen) + memusage.DictEntry
		}
		return n
	})
	s.evictor = evict.New(s.store, s.usedMemory, s.onEvicted, s.serveReady, s.done)
	for _, d := range evictDirectives {
		s.cfg.OnSet(d, func(string) error { s.applyEvictConfig(); return nil })
	}
	s.applyEvictConfig()
}

func (s *Server) applyEvictConfig() {
	p, _ := evict.Parse(s.cfg.Get("maxmemory-policy"))
	s.store.SetLFUMode(p.LFU())
	s.store.SetLFUParams(int(s.cfg.Int("lfu-log-factor")), int(s.cfg.Int("lfu-decay-time")))
	s.evictor.SetConfig(evict.Config{
		MaxMemory: s.cfg.Int("maxmemory"),
		Policy:    p,
		Samples:   int(s.cfg.Int("maxmemory-samples")),
		Tenacity:  int(s.cfg.Int("maxmemory-eviction-tenacity")),
		LFUDecay:  int(s.cfg.Int("lfu-decay-time")),
	})
}

// usedMemory is INFO's used_memory and what maxmemory is compared with:
// the store's fixed tables plus the data set's running size (evict.go in
// keyspace). Two atomic loads.
func (s *Server) usedMemory() int64 { return s.store.Overhead() + s.store.Used() }

// onEvicted propagates an eviction as Redis's performEvictions does: a DEL
// to the AOF and replicas, then the "evicted" event (the key is locked).
func (s *Server) onEvicted(db int, key []byte) {
	s.propagate(db, [][]byte{[]byte("DEL"), key})
	s.notifyEvicted(db, key)
}

// oomRefusal is processCommand's maxmemory step: when over the limit, evict
// first; if that fails, denyoom commands (and any command queued in MULTI,
// and an EXEC of a transaction holding one) are refused. Replicas never
// evict: they apply their master's DELs (replica-ignore-maxmemory).
func (s *Server) oomRefusal(cl *Client, cmd *Command) string {
	cl.preOOM = false
	if !s.evictor.Over() || s.replica.active.Load() {
		return ""
	}
	if s.evictor.Perform() != evict.Fail {
		return ""
	}
	cl.preOOM = true
	deny := cmd.Flags&fDenyOOM != 0
	if cl.multi != nil && cmd.Flags&fTxCtl == 0 {
		deny = true
	}
	if cmd.Name == "exec" && cl.multi != nil && !deny {
		deny = s.queuedDenyOOM(cl)
	}
	if deny {
		return errOOM
	}
	return ""
}

// queuedDenyOOM reports whether a queued transaction holds a denyoom
// command (Redis's mstate.cmd_flags & CMD_DENYOOM).
func (s *Server) queuedDenyOOM(cl *Client) bool {
	for _, q := range cl.multi.queue {
		if cmd, _ := s.lookup(&cl.ctx, q); cmd != nil && cmd.Flags&fDenyOOM != 0 {
			return true
		}
	}
	return false
}
