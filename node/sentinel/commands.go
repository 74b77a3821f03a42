package sentinel

import (
	"fmt"
	"sort"
	"strings"
)

// command is one entry of the command table.
type command struct {
	arity    int // Redis's: n exact, -n at least n
	flags    []string
	acl      []string
	pubsubOK bool // allowed while subscribed (RESP2)
	fn       func(s *Server, c *client, args [][]byte)
	subs     map[string]subcommand // a container (SENTINEL, CLIENT, COMMAND)
}

// subcommand is one entry of a container command (SENTINEL, CLIENT, COMMAND).
type subcommand struct {
	arity int // counts the container's name too, as Redis's
	fn    func(s *Server, c *client, args [][]byte)
}

// commands is what the listener answers; the rest is "unknown command", as
// on a real Sentinel (which has no data commands either). Flags and ACL
// categories are Redis 7.0's (COMMAND INFO); QUIT and RESET, which 7.0's
// Sentinel lacks, as a Redis server has them.
var commands map[string]*command

func init() {
	commands = map[string]*command{
		"ping":         {arity: -1, flags: []string{"fast"}, acl: []string{"@fast", "@connection"}, pubsubOK: true, fn: cmdPing},
		"quit":         {arity: -1, flags: []string{"allow_busy", "noscript", "loading", "stale", "fast", "no_auth"}, acl: []string{"@fast", "@connection"}, pubsubOK: true, fn: cmdQuit},
		"reset":        {arity: 1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth"}, acl: []string{"@fast", "@connection"}, pubsubOK: true, fn: cmdReset},
		"auth":         {arity: -2, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}, acl: []string{"@fast", "@connection"}, fn: cmdAuth},
		"hello":        {arity: -1, flags: []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}, acl: []string{"@fast", "@connection"}, fn: cmdHello},
		"client":       {arity: -2, acl: []string{"@slow"}, subs: clientSubs},
		"command":      {arity: -1, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@connection"}, fn: cmdCommand, subs: commandSubs},
		"info":         {arity: -1, flags: []string{"loading", "stale"}, acl: []string{"@slow", "@dangerous"}, fn: cmdInfo},
		"role":         {arity: 1, flags: []string{"noscript", "loading", "stale", "fast"}, acl: []string{"@admin", "@fast", "@dangerous"}, fn: cmdRole},
		"sentinel":     {arity: -2, flags: []string{"admin"}, acl: []string{"@admin", "@slow", "@dangerous"}, subs: sentinelSubs},
		"subscribe":    {arity: -2, flags: []string{"pubsub", "noscript", "loading", "stale"}, acl: []string{"@pubsub", "@slow"}, pubsubOK: true, fn: cmdSubscribe},
		"psubscribe":   {arity: -2, flags: []string{"pubsub", "noscript", "loading", "stale"}, acl: []string{"@pubsub", "@slow"}, pubsubOK: true, fn: cmdPsubscribe},
		"unsubscribe":  {arity: -1, flags: []string{"pubsub", "noscript", "loading", "stale"}, acl: []string{"@pubsub", "@slow"}, pubsubOK: true, fn: cmdUnsubscribe},
		"punsubscribe": {arity: -1, flags: []string{"pubsub", "noscript", "loading", "stale"}, acl: []string{"@pubsub", "@slow"}, pubsubOK: true, fn: cmdPunsubscribe},
	}
}

func strs(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// ---- connection commands

func cmdPing(s *Server, c *client, args [][]byte) {
	if len(args) > 2 {
		c.err("ERR wrong number of arguments for 'ping' command")
		return
	}
	if c.subscribed() { // RESP2 subscribed mode answers with a push-like array
		c.conn.WriteArray(2)
		c.conn.WriteBulkString("pong")
		if len(args) == 2 {
			c.conn.WriteBulk(args[1])
		} else {
			c.conn.WriteBulkString("")
		}
		return
	}
	if len(args) == 2 {
		c.conn.WriteBulk(args[1])
		return
	}
	c.conn.WriteString("PONG")
}

func cmdQuit(s *Server, c *client, args [][]byte) {
	c.conn.WriteString("OK")
	c.quit()
}

func cmdReset(s *Server, c *client, args [][]byte) {
	s.ps.unsubscribeAll(c)
	c.name = ""
	c.setAuthed(s.password() == "") // as Redis: RESET logs the client out
	c.conn.WriteString("RESET")
}

// cmdAuth is Redis's AUTH for the default user, the listener's only one:
// without a password (Auth.Password) any password works with
// "AUTH default", and the one-argument form is refused.
func cmdAuth(s *Server, c *client, args [][]byte) {
	var user, pass []byte
	switch len(args) {
	case 2:
		if s.password() == "" {
			c.err(errNoPass)
			return
		}
		user, pass = []byte("default"), args[1]
	case 3:
		user, pass = args[1], args[2]
	default:
		c.err("ERR syntax error")
		return
	}
	if !s.authenticate(c, user, pass) {
		s.log.Debug("AUTH failed", "client", c.nc.RemoteAddr().String())
		c.err(errWrongPass)
		return
	}
	c.setAuthed(true)
	c.conn.WriteString("OK")
}

// cmdHello follows Redis's order (version, options with AUTH taking effect
// at once, then the NOAUTH check) but speaks RESP2 only: HELLO 3 is
// refused with NOPROTO, which go-redis treats as "stay on RESP2".
func cmdHello(s *Server, c *client, args [][]byte) {
	var ver int64
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			c.err("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.err("NOPROTO unsupported protocol version")
			return
		}
		ver = v
	}
	name, setName := "", false
	for i := 2; i < len(args); i++ {
		opt := strings.ToLower(string(args[i]))
		switch {
		case opt == "auth" && i+2 < len(args):
			if !s.authenticate(c, args[i+1], args[i+2]) {
				s.log.Debug("HELLO AUTH failed", "client", c.nc.RemoteAddr().String())
				c.err(errWrongPass)
				return
			}
			c.setAuthed(true)
			i += 2
		case opt == "setname" && i+1 < len(args):
			name, setName = string(args[i+1]), true
			i++
		default:
			c.err(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", truncate(string(args[i]), 128)))
			return
		}
	}
	if !c.authed && s.password() != "" {
		c.err(errHelloNoAuth)
		return
	}
	if ver == 3 {
		c.err("NOPROTO unsupported protocol version")
		return
	}
	if setName {
		if !validName(name) {
			c.err("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		c.name = name
	}
	c.conn.WriteArray(12)
	c.conn.WriteBulkString("server")
	c.conn.WriteBulkString("redis")
	c.conn.WriteBulkString("version")
	c.conn.WriteBulkString(redisVersion)
	c.conn.WriteBulkString("proto")
	c.conn.WriteInt(2)
	c.conn.WriteBulkString("id")
	c.conn.WriteInt64(c.id)
	c.conn.WriteBulkString("mode")
	c.conn.WriteBulkString("sentinel")
	c.conn.WriteBulkString("modules")
	c.conn.WriteArray(0)
}

func parseInt(b []byte) (int64, bool) {
	var n int64
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// validName is Redis's rule for client names and library info.
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

var clientSubs = map[string]subcommand{
	"setname": {3, func(s *Server, c *client, args [][]byte) {
		name := string(args[2])
		if !validName(name) {
			c.err("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		c.name = name
		c.conn.WriteString("OK")
	}},
	"getname": {2, func(s *Server, c *client, args [][]byte) {
		if c.name == "" {
			c.conn.WriteNull()
			return
		}
		c.conn.WriteBulkString(c.name)
	}},
	"setinfo": {4, func(s *Server, c *client, args [][]byte) {
		attr := strings.ToLower(string(args[2]))
		if attr != "lib-name" && attr != "lib-ver" {
			c.err(fmt.Sprintf("ERR Unrecognized option '%s'", truncate(string(args[2]), 128)))
			return
		}
		if !validName(string(args[3])) {
			c.err(fmt.Sprintf("ERR %s cannot contain spaces, newlines or special characters.", attr))
			return
		}
		c.conn.WriteString("OK")
	}},
	"id": {2, func(s *Server, c *client, args [][]byte) { c.conn.WriteInt64(c.id) }},
}

// ---- COMMAND: just this listener's own table.

var commandSubs = map[string]subcommand{
	"count": {2, func(s *Server, c *client, args [][]byte) { c.conn.WriteInt(len(commands)) }},
	"info": {-2, func(s *Server, c *client, args [][]byte) {
		names := strs(args[2:])
		if len(names) == 0 {
			names = commandNames()
		}
		c.conn.WriteArray(len(names))
		for _, n := range names {
			writeCommandInfo(c, strings.ToLower(n))
		}
	}},
	"list": {-2, func(s *Server, c *client, args [][]byte) {
		names := commandNames()
		c.conn.WriteArray(len(names))
		for _, n := range names {
			c.conn.WriteBulkString(n)
		}
	}},
	"docs": {-2, func(s *Server, c *client, args [][]byte) { c.conn.WriteArray(0) }},
}

// cmdCommand is COMMAND without a subcommand.
func cmdCommand(s *Server, c *client, args [][]byte) {
	names := commandNames()
	c.conn.WriteArray(len(names))
	for _, n := range names {
		writeCommandInfo(c, n)
	}
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// writeCommandInfo writes one COMMAND INFO entry (Redis 7's ten fields),
// nil for an unknown name.
func writeCommandInfo(c *client, name string) {
	cmd, ok := commands[name]
	if !ok {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteArray(10)
	c.conn.WriteBulkString(name)
	c.conn.WriteInt(cmd.arity)
	c.conn.WriteArray(len(cmd.flags))
	for _, f := range cmd.flags {
		c.conn.WriteString(f)
	}
	c.conn.WriteInt(0) // first key
	c.conn.WriteInt(0) // last key
	c.conn.WriteInt(0) // step
	c.conn.WriteArray(len(cmd.acl))
	for _, a := range cmd.acl {
		c.conn.WriteString(a)
	}
	c.conn.WriteArray(0) // tips
	c.conn.WriteArray(0) // key specs
	c.conn.WriteArray(0) // subcommands
}

// ---- pub/sub

func cmdSubscribe(s *Server, c *client, args [][]byte)  { s.ps.subscribe(c, false, strs(args[1:])) }
func cmdPsubscribe(s *Server, c *client, args [][]byte) { s.ps.subscribe(c, true, strs(args[1:])) }
func cmdUnsubscribe(s *Server, c *client, args [][]byte) {
	s.ps.unsubscribe(c, false, strs(args[1:]))
}
func cmdPunsubscribe(s *Server, c *client, args [][]byte) {
	s.ps.unsubscribe(c, true, strs(args[1:]))
}
