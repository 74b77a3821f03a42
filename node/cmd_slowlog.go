package node

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/slowlog"
)

// slowlogState is the slow log and its settings, read on every command
// (atomics, not the config map).
type slowlogState struct {
	log     slowlog.Log
	slower  atomic.Int64 // slowlog-log-slower-than, µs (<0: off)
	maxLen  atomic.Int64
	enabled atomic.Bool // set once initialised
}

func (s *Server) initSlowlog() {
	sl := &s.slowlog
	load := func(dst *atomic.Int64) func(string) error {
		return func(v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				dst.Store(n)
			}
			return nil
		}
	}
	sl.slower.Store(s.cfg.Int("slowlog-log-slower-than"))
	sl.maxLen.Store(s.cfg.Int("slowlog-max-len"))
	s.cfg.OnSet("slowlog-log-slower-than", load(&sl.slower))
	s.cfg.OnSet("slowlog-max-len", load(&sl.maxLen))
	sl.enabled.Store(true)
}

// slowlogRecord logs a command that ran for d, as Redis's
// slowlogPushCurrentCommand: not EXEC itself (its commands are logged one
// by one), and with AUTH's secrets redacted.
func (s *Server) slowlogRecord(c *Ctx, cmd *Command, args [][]byte, d time.Duration) {
	sl := &s.slowlog
	limit := sl.slower.Load()
	if !sl.enabled.Load() || limit < 0 || d.Microseconds() < limit || c.cl.internal {
		return
	}
	if strings.Contains(serverCmdTable[cmd.Name].flags, "skip_slowlog") {
		return
	}
	argv := slowlog.Shorten(redactArgs(cmd, args))
	sl.log.Add(argv, d, c.cl.addr, c.cl.Name(), time.Now(), int(sl.maxLen.Load()))
}

// redactArgs replaces secrets as Redis's redactClientCommandArgument does
// (AUTH's arguments, HELLO's AUTH username and password, MIGRATE's AUTH
// and AUTH2 credentials).
func redactArgs(cmd *Command, args [][]byte) [][]byte {
	var red []int
	switch cmd.Name {
	case "auth":
		for i := 1; i < len(args); i++ {
			red = append(red, i)
		}
	case "migrate":
		for i := 6; i < len(args); i++ {
			switch {
			case eq(args[i], "auth") && i+1 < len(args):
				red = append(red, i+1)
				i++
			case eq(args[i], "auth2") && i+2 < len(args):
				red = append(red, i+1, i+2)
				i += 2
			case eq(args[i], "keys"):
				i = len(args)
			}
		}
	case "hello":
		for i := 2; i < len(args); i++ {
			if eq(args[i], "auth") && i+2 < len(args) {
				red = append(red, i+1, i+2)
				i += 2
			}
		}
	}
	if len(red) == 0 {
		return args
	}
	out := append([][]byte(nil), args...)
	for _, i := range red {
		out[i] = []byte("(redacted)")
	}
	return out
}

func registerSlowlog(t table) {
	const g = "server"
	adm := fAdmin | fLoading | fStale
	t.add(&Command{Name: "slowlog", Arity: -2, Group: g, Subs: subs(
		&Command{Name: "get", Arity: -2, Flags: adm, Run: cmdSlowlogGet, Group: g},
		&Command{Name: "len", Arity: 2, Flags: adm, Run: func(c *Ctx) { c.Int(int64(c.s.slowlog.log.Len())) }, Group: g},
		&Command{Name: "reset", Arity: 2, Flags: adm, Run: func(c *Ctx) { c.s.slowlog.log.Reset(); c.OK() }, Group: g},
		&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdSlowlogHelp, Group: g},
	)})
}

func cmdSlowlogGet(c *Ctx) {
	if len(c.Args) > 3 {
		serverSubSyntaxErr(c, "slowlog")
		return
	}
	count := 10
	if len(c.Args) == 3 {
		n, ok := keyspace.ParseInt(c.Args[2])
		if !ok || n < -1 {
			c.Err("ERR count should be greater than or equal to -1")
			return
		}
		count = int(min(n, 1<<31))
		if n == -1 {
			count = c.s.slowlog.log.Len()
		}
	}
	es := c.s.slowlog.log.Get(count)
	c.Array(len(es))
	for _, e := range es {
		c.Array(6)
		c.Int(e.ID)
		c.Int(e.Time)
		c.Int(e.Duration)
		c.Bulks(e.Args)
		c.BulkString(e.Peer)
		c.BulkString(e.Name)
	}
}

func cmdSlowlogHelp(c *Ctx) {
	serverHelp(c, "slowlog",
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	)
}
