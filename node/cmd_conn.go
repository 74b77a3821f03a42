package node

import "strconv"

func registerConnection(t table) {
	const g = "connection"
	t.add(
		&Command{Name: "ping", Arity: -1, Flags: fFast | fStale | fPubsubOK, Run: cmdPing, Group: g},
		&Command{Name: "echo", Arity: 2, Flags: fFast, Run: cmdEcho, Group: g},
		&Command{Name: "hello", Arity: -1, Flags: fNoScript | fLoading | fStale | fFast | fNoAuth, Run: cmdHello, Group: g},
		&Command{Name: "auth", Arity: -2, Flags: fNoScript | fLoading | fStale | fFast | fNoAuth, Run: cmdAuth, Group: g},
		&Command{Name: "select", Arity: 2, Flags: fLoading | fStale | fFast, Run: cmdSelect, Group: g},
		&Command{Name: "quit", Arity: -1, Flags: fNoScript | fLoading | fStale | fFast | fNoAuth | fTxCtl | fPubsubOK, Run: cmdQuit, Group: g},
		&Command{Name: "reset", Arity: 1, Flags: fNoScript | fLoading | fStale | fFast | fNoAuth | fTxCtl | fPubsubOK, Run: cmdReset, Group: g},
	)
}

func cmdPing(c *Ctx) {
	if len(c.Args) > 2 {
		c.Err("ERR wrong number of arguments for 'ping' command")
		return
	}
	if c.cl.proto == 2 && c.cl.subscribed() {
		c.Array(2)
		c.BulkString("pong")
		if len(c.Args) == 2 {
			c.Bulk(c.Args[1])
		} else {
			c.BulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.Bulk(c.Args[1])
		return
	}
	c.Status("PONG")
}

func cmdEcho(c *Ctx) { c.Bulk(c.Args[1]) }

func cmdSelect(c *Ctx) {
	n, ok := c.ParseInt32(c.Args[1], "")
	if !ok {
		return
	}
	if n < 0 || n >= c.s.store.NumDBs() {
		c.Err(errDBIndex)
		return
	}
	c.cl.db = n
	c.cl.dbShared.Store(int64(n))
	if c.tx != nil { // inside EXEC: later commands use the new database
		c.DB = c.tx.DB(n)
	}
	c.OK()
}

func cmdAuth(c *Ctx) {
	var user, pass []byte
	switch len(c.Args) {
	case 2:
		pass = c.Args[1]
		if c.s.acl.Default().NoPass() {
			c.Err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	case 3:
		user, pass = c.Args[1], c.Args[2]
	default:
		c.Err(errSyntax)
		return
	}
	if !c.authenticate(user, pass) {
		c.Err("WRONGPASS invalid username-password pair or user is disabled.")
		return
	}
	c.OK()
}

func cmdHello(c *Ctx) {
	proto := c.cl.proto
	args := c.Args[1:]
	if len(args) > 0 {
		v, err := strconv.Atoi(string(args[0]))
		if err != nil {
			c.Err("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.Err("NOPROTO unsupported protocol version")
			return
		}
		proto = v
		args = args[1:]
	}
	var name []byte
	for len(args) > 0 {
		switch {
		case eq(args[0], "auth") && len(args) >= 3:
			// Redis 7.0 authenticates as it parses: a later syntax
			// error leaves the connection authenticated.
			if !c.authenticate(args[1], args[2]) {
				c.Err("WRONGPASS invalid username-password pair or user is disabled.")
				return
			}
			args = args[3:]
		case eq(args[0], "setname") && len(args) >= 2:
			if !validClientName(args[1]) {
				c.Err("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			name = args[1]
			args = args[2:]
		default:
			c.Err("ERR Syntax error in HELLO option '" + string(args[0]) + "'")
			return
		}
	}
	if !c.cl.authed {
		c.Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	c.cl.setProto(proto)
	if name != nil {
		c.cl.mu.Lock()
		c.cl.name = string(name)
		c.cl.mu.Unlock()
	}
	c.Map(7)
	c.BulkString("server")
	c.BulkString("redis")
	c.BulkString("version")
	c.BulkString(Version)
	c.BulkString("proto")
	c.Int(int64(proto))
	c.BulkString("id")
	c.Int(c.cl.ID)
	c.BulkString("mode")
	c.BulkString("standalone")
	c.BulkString("role")
	c.BulkString(c.s.roleName())
	c.BulkString("modules")
	c.Array(0)
}

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func cmdQuit(c *Ctx) {
	c.OK()
	c.cl.flush()
	c.conn.Close()
}

func cmdReset(c *Ctx) {
	cl := c.cl
	cl.multi = nil
	c.s.unwatchAll(cl)
	c.s.monitors.remove(cl) // RESET ends MONITOR mode; push mode ends below
	c.s.hub.unsubscribeAll(cl)
	c.s.track.Disable(cl.ID) // RESET turns CLIENT TRACKING off
	cl.tracking.Store(false)
	cl.db = 0
	cl.dbShared.Store(0)
	cl.setProto(2)
	cl.user.Store(c.s.acl.Default())
	cl.authed, cl.replAuthed = c.s.defaultAuthed(), false
	cl.mu.Lock()
	cl.name = ""
	cl.mu.Unlock()
	cl.noEvict, cl.noTouch = false, false
	c.Status("RESET")
}
