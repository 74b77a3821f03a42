package node

import (
	"github.com/wardenkv/warden/keyspace"
)

func registerTransactions(t table) {
	t.add(
		&Command{Name: "multi", Arity: 1, Flags: fNoScript | fLoading | fStale | fFast | fTxCtl, Run: cmdMulti, Group: "transactions"},
		&Command{Name: "exec", Arity: 1, Flags: fNoScript | fLoading | fStale | fSkipMonitor | fTxCtl, Run: cmdExec, Group: "transactions"},
		&Command{Name: "discard", Arity: 1, Flags: fNoScript | fLoading | fStale | fFast | fTxCtl, Run: cmdDiscard, Group: "transactions"},
		&Command{Name: "watch", Arity: -2, Flags: fNoScript | fLoading | fStale | fFast | fTxCtl, FirstKey: 1, LastKey: -1, Step: 1, Run: cmdWatch, Group: "transactions"},
		&Command{Name: "unwatch", Arity: 1, Flags: fNoScript | fLoading | fStale | fFast, Run: cmdUnwatch, Group: "transactions"},
	)
}

func cmdMulti(c *Ctx) {
	if c.cl.multi != nil {
		c.Err("ERR MULTI calls can not be nested")
		return
	}
	c.cl.multi = &multiState{}
	c.OK()
}

func cmdDiscard(c *Ctx) {
	if c.cl.multi == nil {
		c.Err("ERR DISCARD without MULTI")
		return
	}
	c.cl.multi = nil
	c.s.unwatchAll(c.cl)
	c.OK()
}

func cmdWatch(c *Ctx) {
	if c.cl.multi != nil {
		c.Err("ERR WATCH inside MULTI is not allowed")
		return
	}
	cl := c.cl
	if cl.wstate == nil {
		cl.wstate = &keyspace.Watch{}
	}
	for _, k := range c.Args[1:] {
		dup := false
		for _, w := range cl.watch {
			if w.db == cl.db && w.key == string(k) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		cl.watch = append(cl.watch, watchedKey{db: cl.db, key: string(k), expired: c.DB.IsExpired(k)})
		c.DB.AddWatch(k, cl.wstate)
	}
	c.OK()
}

func cmdUnwatch(c *Ctx) {
	c.s.unwatchAll(c.cl)
	c.OK()
}

// unwatchAll drops every WATCH of cl (after EXEC, DISCARD, UNWATCH, close).
func (s *Server) unwatchAll(cl *Client) {
	if len(cl.watch) == 0 {
		return
	}
	keys := make([]keyspace.Key, len(cl.watch))
	for i, w := range cl.watch {
		keys[i] = keyspace.Key{DB: w.db, Key: []byte(w.key)}
	}
	tx := s.store.Lock(keys)
	unwatchHeld(cl, tx)
	tx.Unlock()
}

// unwatchHeld drops every WATCH of cl under tx, which holds the partitions
// of all the watched keys.
func unwatchHeld(cl *Client, tx *keyspace.Tx) {
	for _, w := range cl.watch {
		tx.DB(w.db).RemoveWatch([]byte(w.key), cl.wstate)
	}
	cl.watch = nil
	cl.wstate = nil
}

// cmdExec runs the queued commands atomically: it locks the partitions of
// every key the transaction touches (all of them if any command needs the
// whole keyspace), checks WATCH under those locks, then runs the queue.
func cmdExec(c *Ctx) {
	cl, s := c.cl, c.s
	m := cl.multi
	if m == nil {
		c.Err("ERR EXEC without MULTI")
		return
	}
	cl.multi = nil
	c.afterExec = nil // nothing left by an EXEC that panicked
	if m.aborted {
		s.unwatchAll(cl)
		c.Err("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	var keys []keyspace.Key
	var allDBs []int
	whole := false
	db := cl.db
	cmds := make([]*Command, len(m.queue))
	for i, args := range m.queue {
		cmd, _ := s.lookup(c, args)
		cmds[i] = cmd
		if cmd == nil {
			continue
		}
		switch {
		case cmd.Name == "select" && len(args) == 2:
			// Parsed as cmdSelect parses it: the queue must run in the
			// databases whose keys were locked.
			if n, ok := keyspace.ParseInt(args[1]); ok && n >= 0 && n < int64(s.store.NumDBs()) {
				db = int(n)
			}
		case cmd.Name == "swapdb" || cmd.Name == "debug" && debugAllDBs(args):
			whole, allDBs = true, nil
		case cmd.Name == "debug" && len(args) > 2 && eq(args[1], "populate"):
			// It writes keys it derives from its arguments: hold the
			// whole database rather than locking inside the transaction.
			if !whole {
				allDBs = append(allDBs, db)
			}
		}
		if cmd.Flags&fAllDBs != 0 {
			whole, allDBs = true, nil
		} else if (cmd.Flags&fAllKeys != 0 || cmd.WholeDB != nil && cmd.WholeDB(args)) && !whole {
			allDBs = append(allDBs, db)
		}
		for _, k := range cmd.keys(args, nil) {
			keys = append(keys, keyspace.Key{DB: db, Key: k})
		}
	}
	for _, w := range cl.watch {
		keys = append(keys, keyspace.Key{DB: w.db, Key: []byte(w.key)})
	}
	// A script inside extends its locks: it must hold the script lock
	// before EXEC takes any (cmdEval, scriptState).
	for _, cmd := range cmds {
		if cmd != nil && cmd.Flags&fScript != 0 {
			s.scripting.mu.Lock()
			defer s.scripting.mu.Unlock()
			break
		}
	}
	var tx *keyspace.Tx
	switch {
	case whole:
		tx = s.store.LockAll()
	case len(allDBs) > 0:
		for _, k := range keys {
			allDBs = append(allDBs, k.DB)
		}
		tx = s.store.LockAll(allDBs...)
	default:
		tx = s.store.Lock(keys)
	}
	tx.TrackWrites() // queued writes may change values in place
	if watchFailed(cl, tx) {
		tx.Unlock()
		s.unwatchAll(cl)
		c.NullArray()
		return
	}
	// Unwatch before running the queue, as Redis does: the transaction's
	// locks cover every watched key, and an UNWATCH in the queue must not
	// take them again.
	unwatchHeld(cl, tx)
	c.Array(len(m.queue))
	for i, args := range m.queue {
		c.tx, c.inExec, c.failed = tx, true, false
		cmd := cmds[i]
		if cmd == nil { // cannot happen: lookup succeeded when queued
			c.Err(unknownCommand(args))
			continue
		}
		if !cl.internal {
			if msg := s.aclExecDenied(cl, cmd, args); msg != "" {
				c.Err(msg)
				continue
			}
		}
		s.execute(c, cmd, args)
	}
	c.inExec = false
	c.propagateTx()
	c.tx, c.inExec = nil, false
	c.DB = keyspace.View{}
	ready := tx.Unlock()
	c.cmd = nil
	after := c.afterExec
	c.afterExec = nil
	for _, fn := range after {
		fn()
	}
	if len(ready) > 0 {
		s.serveReady(ready)
	}
}

func watchFailed(cl *Client, tx *keyspace.Tx) bool {
	if cl.wstate == nil {
		return false
	}
	if cl.wstate.Dirty.Load() {
		return true
	}
	for _, w := range cl.watch {
		if !w.expired && tx.DB(w.db).IsExpired([]byte(w.key)) {
			return true
		}
	}
	return false
}
