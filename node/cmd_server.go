package node

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

func registerServer(t table) {
	const g = "server"
	adm := fAdmin | fNoScript | fLoading | fStale
	cl := fNoScript | fLoading | fStale
	t.add(
		&Command{Name: "info", Arity: -1, Flags: fLoading | fStale, Run: cmdInfo, Group: g},
		&Command{Name: "dbsize", Arity: 1, Flags: fReadonly | fFast, Run: cmdDBSize, Group: g},
		&Command{Name: "time", Arity: 1, Flags: fLoading | fStale | fFast, Run: cmdTime, Group: g},
		&Command{Name: "flushdb", Arity: -1, Flags: fWrite | fAllKeys, Run: cmdFlushDB, Group: g},
		&Command{Name: "flushall", Arity: -1, Flags: fWrite | fAllDBs, Run: cmdFlushAll, Group: g},
		&Command{Name: "swapdb", Arity: 3, Flags: fWrite | fFast | fAllDBs, Run: cmdSwapDB, Group: g},
		&Command{Name: "shutdown", Arity: -1, Flags: adm | fNoMulti, Run: cmdShutdown, Group: g},
		&Command{Name: "debug", Arity: -2, Flags: adm | fProtected, Run: cmdDebug, Group: g},
		// COMMAND answers without a subcommand too, so it dispatches its
		// subcommands itself (serverCommandSubs) instead of using Subs.
		&Command{Name: "command", Arity: -1, Flags: fLoading | fStale, Run: cmdCommand, Group: g},
		&Command{Name: "config", Arity: -2, Group: g, Subs: subs(
			&Command{Name: "get", Arity: -3, Flags: adm, Run: cmdConfigGet, Group: g},
			&Command{Name: "set", Arity: -4, Flags: adm, Run: cmdConfigSet, Group: g},
			&Command{Name: "resetstat", Arity: 2, Flags: adm, Run: cmdConfigResetStat, Group: g},
			&Command{Name: "rewrite", Arity: 2, Flags: adm, Run: cmdConfigRewrite, Group: g},
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdConfigHelp, Group: g},
		)},
		&Command{Name: "client", Arity: -2, Group: "connection", Subs: subs(
			&Command{Name: "id", Arity: 2, Flags: cl, Run: cmdClientID, Group: "connection"},
			&Command{Name: "setname", Arity: 3, Flags: cl, Run: cmdClientSetName, Group: "connection"},
			&Command{Name: "getname", Arity: 2, Flags: cl, Run: cmdClientGetName, Group: "connection"},
			&Command{Name: "info", Arity: 2, Flags: cl, Run: cmdClientInfo, Group: "connection"},
			&Command{Name: "list", Arity: -2, Flags: adm, Run: cmdClientList, Group: "connection"},
			&Command{Name: "kill", Arity: -3, Flags: adm, Run: cmdClientKill, Group: "connection"},
			&Command{Name: "no-evict", Arity: 3, Flags: adm, Run: cmdClientNoEvict, Group: "connection"},
			&Command{Name: "no-touch", Arity: 3, Flags: cl, Run: cmdClientNoTouch, Group: "connection"},
			&Command{Name: "setinfo", Arity: 4, Flags: cl, Run: cmdClientSetInfo, Group: "connection"},
			&Command{Name: "getredir", Arity: 2, Flags: cl, Run: cmdClientGetRedir, Group: "connection"},
			&Command{Name: "tracking", Arity: -3, Flags: cl, Run: cmdClientTracking, Group: "connection"},
			&Command{Name: "caching", Arity: 3, Flags: cl, Run: cmdClientCaching, Group: "connection"},
			&Command{Name: "trackinginfo", Arity: 2, Flags: cl, Run: cmdClientTrackingInfo, Group: "connection"},
			&Command{Name: "pause", Arity: -3, Flags: adm, Run: cmdClientPause, Group: "connection"},
			&Command{Name: "unpause", Arity: 2, Flags: adm, Run: cmdClientUnpause, Group: "connection"},
			&Command{Name: "reply", Arity: 3, Flags: cl, Run: cmdClientReply, Group: "connection"},
			&Command{Name: "unblock", Arity: -3, Flags: adm, Run: cmdClientUnblock, Group: "connection"},
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdClientHelp, Group: "connection"},
		)},
	)
}

// serverHelp writes a HELP reply as Redis's addReplyHelp does.
func serverHelp(c *Ctx, container string, lines ...string) {
	c.Array(len(lines) + 3)
	c.Status(strings.ToUpper(container) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.Status(l)
	}
	c.Status("HELP")
	c.Status("    Prints this help.")
}

// serverSubSyntaxErr is Redis's addReplySubcommandSyntaxError.
func serverSubSyntaxErr(c *Ctx, container string) {
	c.Err(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.", c.Args[1], strings.ToUpper(container)))
}

// ---- keyspace-wide commands

func cmdDBSize(c *Ctx) { c.Int(c.s.store.DB(c.cl.db).Len()) }

func cmdTime(c *Ctx) {
	now := time.Now()
	c.Array(2)
	c.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// flushArgs checks FLUSHDB/FLUSHALL's optional ASYNC|SYNC.
func flushArgs(c *Ctx) bool {
	if len(c.Args) > 2 || len(c.Args) == 2 && !eq(c.Args[1], "async") && !eq(c.Args[1], "sync") {
		c.Err(errSyntax)
		return false
	}
	return true
}

func cmdFlushDB(c *Ctx) {
	if !flushArgs(c) {
		return
	}
	c.DB.Flush()
	c.s.track.Flush() // Redis's trackingInvalidateKeysOnFlush
	c.PropagateArgs()
	c.OK()
}

func cmdFlushAll(c *Ctx) {
	if !flushArgs(c) {
		return
	}
	for i := 0; i < c.s.store.NumDBs(); i++ {
		c.tx.DB(i).Flush()
	}
	c.s.track.Flush()
	c.PropagateArgs()
	c.OK()
}

func cmdSwapDB(c *Ctx) {
	a, ok := c.ParseInt32(c.Args[1], "ERR invalid first DB index")
	if !ok {
		return
	}
	b, ok := c.ParseInt32(c.Args[2], "ERR invalid second DB index")
	if !ok {
		return
	}
	n := c.s.store.NumDBs()
	if a < 0 || a >= n || b < 0 || b >= n {
		c.Err(errDBIndex)
		return
	}
	if a != b {
		c.tx.DB(a).Swap(c.tx.DB(b))
	}
	c.PropagateArgs()
	c.OK()
}

func cmdShutdown(c *Ctx) {
	var save, nosave, now, force, abort bool
	for _, a := range c.Args[1:] {
		switch {
		case eq(a, "nosave"):
			nosave = true
		case eq(a, "save"):
			save = true
		case eq(a, "now"):
			now = true
		case eq(a, "force"):
			force = true
		case eq(a, "abort"):
			abort = true
		default:
			c.Err(errSyntax)
			return
		}
	}
	if save && nosave || abort && (save || nosave || now || force) {
		c.Err(errSyntax)
		return
	}
	if abort {
		if !c.s.AbortShutdown() {
			c.Err("ERR No shutdown in progress.")
			return
		}
		c.OK()
		return
	}
	c.s.log.Info("user requested shutdown", "now", now, "force", force)
	if err := c.s.ShutdownWith(ShutdownFlags{Save: save, NoSave: nosave, Now: now, Force: force}, "SHUTDOWN"); err != nil { // logged there
		c.Err("ERR Errors trying to SHUTDOWN. Check logs.")
	}
	// On success Redis sends no reply: the connection just closes.
}

// ---- DEBUG (the subset warden supports)

func cmdDebug(c *Ctx) {
	sub := strings.ToLower(string(c.Args[1]))
	n := len(c.Args)
	switch {
	case sub == "help" && n == 2:
		serverHelp(c, "debug", debugHelp...)
	case sub == "populate" && n >= 3 && n <= 5:
		debugPopulate(c)
	case sub == "sleep" && n == 3:
		// Like Redis's strtod: a bad number sleeps 0. Only this client
		// waits: warden has no global lock.
		f, _ := strconv.ParseFloat(string(c.Args[2]), 64)
		if f > 0 {
			t := time.NewTimer(time.Duration(f * float64(time.Second)))
			select {
			case <-t.C:
			case <-c.cl.killed:
				t.Stop()
			}
		}
		c.OK()
	case sub == "log" && n == 3:
		c.s.log.Warn("DEBUG LOG: " + string(c.Args[2]))
		c.OK()
	case sub == "error" && n == 3:
		c.Err(string(c.Args[2]))
	case debugMore(c, sub):
	default:
		serverSubSyntaxErr(c, "debug")
	}
}

// debugPopulate is DEBUG POPULATE count [prefix] [size] as in Redis 7.0:
// keys prefix:N (cut to 127 bytes) with values value:N, or size bytes
// starting with value:N and zero-padded; existing keys are skipped; nothing
// is propagated. Outside EXEC it locks one key at a time so other clients
// keep being served; inside EXEC the transaction holds the whole database
// (see cmdExec). Like Redis it does not bound count or size (DEBUG is off
// unless enable-debug-command allows it), but each value is allocated once,
// a value is at most proto-max-bulk-len, and a killed client stops it.
func debugPopulate(c *Ctx) {
	const errPositive = "ERR value is out of range, must be positive"
	count, ok := keyspace.ParseInt(c.Args[2])
	if !ok || count < 0 {
		c.Err(errPositive)
		return
	}
	size := int64(0)
	if len(c.Args) == 5 {
		if size, ok = keyspace.ParseInt(c.Args[4]); !ok || size < 0 {
			c.Err(errPositive)
			return
		}
		// Redis would abort on the failed allocation of a larger value;
		// no other command can build a string past proto-max-bulk-len.
		if !c.checkStringLength(size, 0) {
			return
		}
	}
	prefix := []byte("key")
	if len(c.Args) >= 4 {
		prefix = c.Args[3]
	}
	db := c.cl.db
	var key, label []byte
	for i := int64(0); i < count; i++ {
		if i%1024 == 0 {
			select {
			case <-c.cl.killed:
				return
			default:
			}
		}
		key = strconv.AppendInt(append(append(key[:0], prefix...), ':'), i, 10)
		if len(key) > 127 { // Redis formats into a 128-byte buffer
			key = key[:127]
		}
		label = strconv.AppendInt(append(label[:0], "value:"...), i, 10)
		var val []byte
		if size > 0 {
			val = make([]byte, size)
			copy(val, label)
		} else {
			val = append([]byte(nil), label...)
		}
		v := c.DB
		var tx *keyspace.Tx
		if c.tx == nil {
			tx = c.s.store.Lock1(db, key)
			v = tx.DB(db)
		}
		if v.Get(key) == nil {
			v.Set(key, &keyspace.Object{Type: keyspace.TString, Str: val, LRU: keyspace.LRUClock()})
		}
		if tx != nil {
			tx.Unlock()
		}
	}
	c.OK()
}
