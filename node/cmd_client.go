package node

import (
	"fmt"
	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/acl"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ---- CLIENT

func cmdClientID(c *Ctx) { c.Int(c.cl.ID) }

func cmdClientSetName(c *Ctx) {
	name := c.Args[2]
	if !validClientName(name) {
		c.Err("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.cl.mu.Lock()
	c.cl.name = string(name)
	c.cl.mu.Unlock()
	c.OK()
}

func cmdClientGetName(c *Ctx) {
	if name := c.cl.Name(); name != "" {
		c.BulkString(name)
		return
	}
	c.Null()
}

func cmdClientSetInfo(c *Ctx) {
	attr, val := c.Args[2], c.Args[3]
	if !eq(attr, "lib-name") && !eq(attr, "lib-ver") {
		c.Err(fmt.Sprintf("ERR Unrecognized option '%s'", attr))
		return
	}
	if !validClientName(val) {
		c.Err(fmt.Sprintf("ERR %s cannot contain spaces, newlines or special characters.", attr))
		return
	}
	c.cl.mu.Lock()
	if eq(attr, "lib-name") {
		c.cl.libName = string(val)
	} else {
		c.cl.libVer = string(val)
	}
	c.cl.mu.Unlock()
	c.OK()
}

// clientOnOff parses ON|OFF.
func clientOnOff(c *Ctx, arg []byte) (bool, bool) {
	switch {
	case eq(arg, "on"):
		return true, true
	case eq(arg, "off"):
		return false, true
	}
	c.Err(errSyntax)
	return false, false
}

func cmdClientNoEvict(c *Ctx) {
	if v, ok := clientOnOff(c, c.Args[2]); ok {
		c.cl.noEvict = v
		c.OK()
	}
}

func cmdClientNoTouch(c *Ctx) {
	if v, ok := clientOnOff(c, c.Args[2]); ok {
		c.cl.noTouch = v
		c.OK()
	}
}

// cmdClientUnpause: warden never pauses clients, so there is nothing to
// resume.
func cmdClientInfo(c *Ctx) {
	c.Verbatim(string(c.clientLine(nil, c.cl)))
}

// Client types as CLIENT LIST TYPE / CLIENT KILL TYPE name them.
const (
	clientNormal = iota
	clientReplica
	clientMaster
	clientPubsub
)

func clientTypeByName(b []byte) (int, bool) {
	switch {
	case eq(b, "normal"):
		return clientNormal, true
	case eq(b, "replica"), eq(b, "slave"):
		return clientReplica, true
	case eq(b, "master"):
		return clientMaster, true
	case eq(b, "pubsub"):
		return clientPubsub, true
	}
	return 0, false
}

func clientType(cl *Client) int {
	cl.mu.Lock()
	f := cl.flags
	cl.mu.Unlock()
	switch {
	case strings.Contains(f, "M"):
		return clientMaster
	case strings.Contains(f, "S"):
		return clientReplica
	case cl.subscribed():
		return clientPubsub
	}
	return clientNormal
}

func cmdClientList(c *Ctx) {
	var ids map[int64]bool
	typ := -1
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 4 && eq(c.Args[2], "type"):
		t, ok := clientTypeByName(c.Args[3])
		if !ok {
			c.Err(fmt.Sprintf("ERR Unknown client type '%s'", c.Args[3]))
			return
		}
		typ = t
	case len(c.Args) >= 4 && eq(c.Args[2], "id"):
		ids = map[int64]bool{}
		for _, a := range c.Args[3:] {
			id, err := strconv.ParseInt(string(a), 10, 64)
			if err != nil {
				c.Err("ERR Invalid client ID")
				return
			}
			ids[id] = true
		}
	default:
		c.Err(errSyntax)
		return
	}
	var b []byte
	for _, cl := range c.s.clientList() {
		if ids != nil && !ids[cl.ID] || typ >= 0 && clientType(cl) != typ {
			continue
		}
		b = c.clientLine(b, cl)
	}
	c.Verbatim(string(b))
}

// clientFD returns the connection's file descriptor (-1 when closed).
func clientFD(cl *Client) int64 {
	fd := int64(-1)
	if sc, ok := socketOf(cl.netConn).(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(f uintptr) { fd = int64(f) })
		}
	}
	return fd
}

// clientLine appends one CLIENT LIST line for cl: Redis 7.0's fields plus
// lib-name/lib-ver at the end, where Redis 7.2 puts them (go-redis's
// ClientInfo parser expects exactly those names). Fields only the connection's own goroutine may
// read are reported exactly for the calling client.
func (c *Ctx) clientLine(b []byte, cl *Client) []byte {
	self := cl == c.cl
	now := time.Now()
	last := cl.lastInteraction.Load() // orders the reads below after the client's last command
	cl.mu.Lock()
	name, libName, libVer, extra := cl.name, cl.libName, cl.libVer, cl.flags
	cl.mu.Unlock()
	proto := cl.protoShared.Load()
	flags := extra
	switch {
	case cl.monitor.Load():
		flags += "O"
	case cl.subscribed():
		flags += "P"
	}
	multi, multiMem := cl.multiLen.Load()-1, cl.multiMem.Load()
	if self {
		cl.noteMulti()
		multi, multiMem = cl.multiLen.Load()-1, cl.multiMem.Load()
	}
	if multi >= 0 {
		flags += "x"
	}
	if cl.blocked.Load() {
		flags += "b"
	}
	tflags, redir := c.s.trackingFlags(cl)
	flags += tflags
	if self && cl.noEvict {
		flags += "e"
	}
	if self && cl.noTouch {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	cmd := "NULL"
	if self && c.cmd != nil {
		cmd = c.cmd.Name
	} else if lc := cl.lastCmd.Load(); lc != nil {
		cmd = lc.Name
	}
	var argvMem, qbuf, qbufFree, rbs, rbp int64 = 0, 0, 0, 1024, 0
	if self {
		for _, a := range c.Args {
			argvMem += int64(len(a))
		}
		qbuf = respLen(c.Args)
		qbufFree, rbs = max(20474-qbuf, 0), 16384
		rbp = rbs
	} else if cl.conn != nil {
		// Another client: what its reader holds of a command not yet
		// whole (a big upload in progress shows here), and its buffer.
		held, size := redcon.QueryBuffer(cl.conn)
		qbuf, qbufFree = held, max(size-held, 0)
	}
	cl.outMu.Lock()
	omem := int64(len(cl.outbox))
	cl.outMu.Unlock()
	idle := (now.UnixMilli() - last) / 1000
	if idle < 0 || self {
		idle = 0
	}
	b = append(b, "id="...)
	b = strconv.AppendInt(b, cl.ID, 10)
	b = append(b, " addr="...)
	b = append(b, cl.addr...)
	b = append(b, " laddr="...)
	b = append(b, cl.laddr...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, clientFD(cl), 10)
	b = append(b, " name="...)
	b = append(b, name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, int64(now.Sub(cl.created)/time.Second), 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, idle, 10)
	b = append(b, " flags="...)
	b = append(b, flags...)
	b = append(b, " db="...)
	b = strconv.AppendInt(b, cl.dbShared.Load(), 10)
	b = append(b, " sub="...)
	b = strconv.AppendInt(b, cl.nsubs.Load(), 10)
	b = append(b, " psub="...)
	b = strconv.AppendInt(b, cl.npsubs.Load(), 10)
	b = append(b, " ssub="...)
	b = strconv.AppendInt(b, int64(c.s.hub.shardCount(cl)), 10)
	b = append(b, " multi="...)
	b = strconv.AppendInt(b, multi, 10)
	b = append(b, " qbuf="...)
	b = strconv.AppendInt(b, qbuf, 10)
	b = append(b, " qbuf-free="...)
	b = strconv.AppendInt(b, qbufFree, 10)
	b = append(b, " argv-mem="...)
	b = strconv.AppendInt(b, argvMem, 10)
	b = append(b, " multi-mem="...)
	b = strconv.AppendInt(b, multiMem, 10)
	b = append(b, " rbs="...)
	b = strconv.AppendInt(b, rbs, 10)
	b = append(b, " rbp="...)
	b = strconv.AppendInt(b, rbp, 10)
	b = append(b, " obl=0 oll=0 omem="...)
	b = strconv.AppendInt(b, omem, 10)
	b = append(b, " tot-mem="...)
	b = strconv.AppendInt(b, 1024+rbs+qbuf+qbufFree+argvMem+multiMem+omem, 10)
	b = append(b, " events=r cmd="...)
	b = append(b, cmd...)
	b = append(b, " user="...)
	if u := cl.user.Load(); u != nil {
		b = append(b, u.Name()...)
	} else {
		b = append(b, "default"...)
	}
	b = append(b, " redir="...)
	b = strconv.AppendInt(b, redir, 10)
	b = append(b, " resp="...)
	b = strconv.AppendInt(b, int64(proto), 10)
	b = append(b, " lib-name="...)
	b = append(b, libName...)
	b = append(b, " lib-ver="...)
	b = append(b, libVer...)
	return append(b, '\n')
}

func cmdClientKill(c *Ctx) {
	args := c.Args[2:]
	if len(args) == 1 { // old form: CLIENT KILL addr:port
		for _, cl := range c.s.clientList() {
			if cl.addr == string(args[0]) {
				c.OK()
				c.clientKillOne(cl)
				return
			}
		}
		c.Err("ERR No such client")
		return
	}
	if len(args)%2 != 0 {
		c.Err(errSyntax)
		return
	}
	var (
		id          int64
		typ         = -1
		addr, laddr []byte
		skipMe      = true
		user        *acl.User
	)
	for i := 0; i < len(args); i += 2 {
		opt, val := args[i], args[i+1]
		switch {
		case eq(opt, "id"):
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || n <= 0 {
				c.Err("ERR client-id should be greater than 0")
				return
			}
			id = n
		case eq(opt, "type"):
			t, ok := clientTypeByName(val)
			if !ok {
				c.Err(fmt.Sprintf("ERR Unknown client type '%s'", val))
				return
			}
			typ = t
		case eq(opt, "addr"):
			addr = val
		case eq(opt, "laddr"):
			laddr = val
		case eq(opt, "user"):
			if user = c.s.acl.User(string(val)); user == nil {
				c.Err(fmt.Sprintf("ERR No such user '%s'", val))
				return
			}
		case eq(opt, "skipme"):
			switch {
			case eq(val, "yes"):
				skipMe = true
			case eq(val, "no"):
				skipMe = false
			default:
				c.Err(errSyntax)
				return
			}
		default:
			c.Err(errSyntax)
			return
		}
	}
	var killed int64
	var killSelf bool
	for _, cl := range c.s.clientList() {
		if id != 0 && cl.ID != id ||
			addr != nil && cl.addr != string(addr) ||
			laddr != nil && cl.laddr != string(laddr) ||
			typ >= 0 && clientType(cl) != typ ||
			user != nil && cl.user.Load() != user ||
			cl == c.cl && skipMe {
			continue
		}
		killed++
		if cl == c.cl {
			killSelf = true
			continue
		}
		cl.Kill()
	}
	c.Int(killed)
	if killSelf {
		c.clientKillOne(c.cl)
	}
}

// clientKillOne closes cl; the calling client is closed after its reply,
// as Redis's CLIENT_CLOSE_AFTER_REPLY.
func (c *Ctx) clientKillOne(cl *Client) {
	if cl == c.cl {
		cl.flush()
		c.conn.Close()
		return
	}
	cl.Kill()
}

func cmdClientHelp(c *Ctx) {
	serverHelp(c, "client",
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
	)
}
