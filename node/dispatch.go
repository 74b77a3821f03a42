package node

import (
	"fmt"
	"math"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/keyspace"
)

// Ctx is what a command handler sees: its arguments, the client, the locked
// keyspace (DB, valid when the command has keys) and reply helpers.
type Ctx struct {
	s    *Server
	cl   *Client
	conn redcon.Conn
	Args [][]byte
	cmd  *Command
	tx   *keyspace.Tx
	DB   keyspace.View

	inExec  bool
	failed  bool
	nowMs   int64 // wall clock when the outermost command began (ms)
	block   *blockSpec
	keyBuf  [][]byte
	lockBuf []keyspace.Key
	nameBuf [32]byte
	prop    [][]byte
	txBlock [][][]byte // propagateTx's MULTI ... EXEC block, reused
	// idBuf is scratch for bytes a command makes and then stores,
	// replies and propagates (all copy them): XADD's generated ID,
	// INCR's new value.
	idBuf [48]byte
	// txWrites collects the writes of the running EXEC; txArena holds
	// their copies.
	txWrites []txWrite
	txArena  txArena
	// afterExec is work queued by commands inside EXEC for once its
	// locks are released (afterUnlock).
	afterExec []func()
}

// monoEpoch anchors command durations on the monotonic clock.
var monoEpoch = time.Now()

// afterUnlock runs fn once no keyspace lock of this client is held: at once
// outside EXEC (a command that uses it has no keys), after EXEC inside one.
// It is for work that waits on goroutines which may need partition locks
// (stopping the replication link, a manual failover): run under EXEC's
// locks it would wait forever.
func (c *Ctx) afterUnlock(fn func()) {
	if c.inExec {
		c.afterExec = append(c.afterExec, fn)
		return
	}
	fn()
}

// handle is redcon's callback: one parsed command from one connection.
func (s *Server) handle(conn redcon.Conn, rc redcon.Command) {
	cl := conn.Context().(*Client)
	tracked := s.trackBegin(cl)
	if cl.replyMode != replyOn {
		s.callWithReplyMode(cl, rc.Args)
	} else {
		s.call(cl, rc.Args)
	}
	if cl.multi != nil || cl.multiLen.Load() != 0 {
		cl.noteMulti()
	}
	if cl.authed != cl.rdAuthed { // AUTH, HELLO AUTH or RESET ran
		cl.rdAuthed = cl.authed
		redcon.SetAuthenticated(conn, cl.authed)
	}
	// Replies are sent after the last command of a pipeline: make the
	// writes durable (appendfsync) once for the whole batch first.
	if cl.aofPending > 0 && len(conn.PeekPipeline()) == 0 {
		s.syncAOF(cl)
	}
	s.holdReply(cl) // while a shutdown saves
	if cl.pushMode.Load() {
		cl.flushToOutbox()
	}
	s.trackEnd(cl, tracked, rc.Args)
}

// lookup finds the command for args, resolving subcommands and checking
// arity; on failure it returns Redis's error text.
func (s *Server) lookup(c *Ctx, args [][]byte) (*Command, string) {
	name := lowerInto(c.nameBuf[:0], args[0])
	cmd := s.cmds[string(name)]
	if cmd == nil {
		return nil, unknownCommand(args)
	}
	if cmd.Subs != nil {
		if len(args) < 2 {
			return nil, fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name)
		}
		sub := cmd.Subs[strings.ToLower(string(args[1]))]
		if sub == nil {
			return nil, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", args[1], strings.ToUpper(cmd.Name))
		}
		cmd = sub
	}
	if (cmd.Arity > 0 && len(args) != cmd.Arity) || len(args) < -cmd.Arity {
		cmd.rejected.Add(1) // commandstats rejected_calls, as Redis counts it
		return nil, fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name)
	}
	return cmd, ""
}

const errDebugDisabled = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."

// protectedAllowed applies enable-debug-command to cl as Redis's
// allowProtectedAction does: "local" means a unix socket or a TCP peer at
// exactly 127.0.0.1 or ::1.
func (s *Server) protectedAllowed(cl *Client) bool {
	switch s.cfg.Get("enable-debug-command") {
	case "yes":
		return true
	case "local":
		return isLocalPeer(cl.netConn)
	}
	return false
}

func isLocalPeer(conn net.Conn) bool {
	if conn == nil {
		return false
	}
	switch a := conn.RemoteAddr().(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.IP.Equal(net.IPv6loopback)
	}
	return false
}

func unknownCommand(args [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ERR unknown command '%.128s', with args beginning with: ", args[0])
	for _, a := range args[1:] {
		if b.Len() > 128 {
			break
		}
		fmt.Fprintf(&b, "'%.128s' ", a)
	}
	return b.String()
}

func lowerInto(buf []byte, b []byte) []byte {
	for _, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf = append(buf, ch)
	}
	return buf
}

// call runs one command for a client: checks, MULTI queueing, execution.
func (s *Server) call(cl *Client, args [][]byte) {
	if len(args) == 0 {
		return
	}
	c := &cl.ctx
	c.failed, c.block, c.tx, c.inExec = false, nil, nil, false
	c.Args = args
	cmd, msg := s.lookup(c, args)
	if cmd == nil {
		if cl.multi != nil {
			cl.multi.aborted = true
		}
		c.Err(msg)
		return
	}
	// Redis checks protected commands before AUTH: an unauthenticated
	// client learns DEBUG is off, nothing more.
	if cmd.Flags&fProtected != 0 && !cl.internal && !s.protectedAllowed(cl) {
		if cl.multi != nil {
			cl.multi.aborted = true
		}
		c.Err(errDebugDisabled)
		return
	}
	if !cl.authed && cmd.Flags&fNoAuth == 0 {
		if cl.multi != nil {
			cl.multi.aborted = true
		}
		c.Err(errNoAuth)
		return
	}
	if cl.multi != nil && cmd.Flags&fNoMulti != 0 {
		cl.multi.aborted = true
		c.Err("ERR Command not allowed inside a transaction")
		return
	}
	// ACL permissions, where Redis checks them: after NOAUTH and
	// no_multi, before cluster redirects and MULTI queueing.
	if !cl.internal {
		ctx := "toplevel"
		if cl.multi != nil {
			ctx = "multi"
		}
		if msg := s.aclDenied(cl, cmd, args, ctx); msg != "" {
			if cl.multi != nil {
				cl.multi.aborted = true
			}
			c.Err(msg)
			return
		}
	}
	if cl.proto == 2 && cl.subscribed() && cmd.Flags&fPubsubOK == 0 {
		c.Err(fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", cmd.Name))
		return
	}
	// Refusals for clients, never for the internal ones (AOF replay, the
	// master's stream): what they apply was already accepted. Cluster
	// redirects come first, and before MULTI queues, as in Redis.
	if !cl.internal && !cl.importer {
		msg := s.route(cl, cmd, args)
		if msg != "" && s.slots.final.Load() != nil {
			msg = s.awaitFlip(cl, cmd, args, msg)
		}
		if msg != "" {
			s.routeRefused(cl, cmd)
			c.Err(msg)
			return
		}
		if msg := s.refuse(cmd); msg != "" {
			if cl.multi != nil {
				cl.multi.aborted = true
			}
			c.Err(msg)
			return
		}
		if msg := s.oomRefusal(cl, cmd); msg != "" {
			if cl.multi != nil {
				cl.multi.aborted = true
			}
			c.Err(msg)
			return
		}
	}
	if cl.importer {
		if msg := s.importRefusal(cl, cmd, args); msg != "" {
			c.Err(msg)
			return
		}
	}
	if msg := s.busyRefusal(cmd, args); msg != "" {
		if cl.multi != nil {
			cl.multi.aborted = true
		}
		c.Err(msg)
		return
	}
	if cl.multi != nil && cmd.Flags&fTxCtl == 0 {
		q := make([][]byte, len(args))
		for i, a := range args {
			q[i] = append([]byte(nil), a...)
		}
		cl.multi.queue = append(cl.multi.queue, q)
		cl.lastCmd.Store(cmd) // CLIENT LIST cmd= names the queued command, as Redis
		c.Status("QUEUED")
		return
	}
	if !s.awaitWritePause(c, cmd) || !s.awaitClientPause(c, cmd) || !s.awaitFailoverPause(c, cmd) {
		return // killed while writes or clients were paused: it never runs
	}
	if !cl.internal && s.move.Load() != nil {
		release, msg, ok := s.holdSlots(cl, cmd, args)
		if !ok {
			if msg != "" {
				c.Err(msg)
			}
			return
		}
		s.execute(c, cmd, args)
		if release != nil {
			release() // before any blocking wait: a pause must not wait for it
		}
		if c.block != nil {
			s.waitBlocked(c)
		}
		return
	}
	s.execute(c, cmd, args)
	if c.block != nil {
		s.waitBlocked(c)
	}
}

// execute runs cmd with the keyspace locked as it needs. Inside EXEC the
// transaction's locks are already held (c.tx set).
func (s *Server) execute(c *Ctx, cmd *Command, args [][]byte) {
	c.Args, c.cmd = args, cmd
	// Before it runs, as Redis sets lastcmd: a reply some commands write
	// at once (SUBSCRIBE's) must not reach the client before CLIENT LIST
	// on another connection can name the command.
	c.cl.lastCmd.Store(cmd)
	// A command inside EXEC or a script runs at its caller's time (the
	// Tx's now, as Redis freezes its command time snapshot there) and
	// needs only a duration: one monotonic clock read, not a wall one.
	var start time.Duration
	if c.tx == nil {
		now := time.Now()
		start = now.Sub(monoEpoch)
		c.nowMs = now.UnixMilli()
		c.cl.lastInteraction.Store(c.nowMs)
	} else {
		start = time.Since(monoEpoch)
	}
	var ready []keyspace.ReadyKey
	func() {
		owned := false
		// A panic (a bug) answers an error instead of killing the process,
		// and is logged with its stack so it gets seen and fixed. Key
		// extraction is covered too: it parses client arguments.
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("command panicked", "cmd", cmd.Name, "argc", len(args), "panic", r, "stack", string(debug.Stack()))
				c.Err(fmt.Sprintf("ERR internal error while running '%s'", cmd.Name))
			}
			if owned {
				ready = c.tx.Unlock()
				c.tx = nil
				c.DB = keyspace.View{}
			}
		}()
		if c.tx == nil {
			if owned = s.lockFor(c, cmd, args); owned {
				c.tx.SetNow(c.nowMs)
			}
		} else {
			c.DB = c.tx.DB(c.cl.db)
		}
		if c.tx != nil {
			c.tx.SetOwner(c.cl.ID) // client-side caching's NOLOOP
		}
		cmd.Run(c)
		// Remembered before the locks go: a write cannot slip between
		// the read and the registration.
		s.trackRead(c, cmd, args)
	}()
	cmd.calls.Add(1)
	dur := time.Since(monoEpoch) - start
	cmd.usec.Add(dur.Microseconds())
	s.slowlogRecord(c, cmd, args, dur)
	s.latencyRecord(cmd, dur)
	s.feedMonitors(c, cmd, args)
	if c.failed {
		cmd.failed.Add(1)
	}
	s.stats.commands.Add(1)
	if len(ready) > 0 {
		s.serveReady(ready)
	}
}

// lockFor takes the partition locks cmd needs; it reports whether it locked.
func (s *Server) lockFor(c *Ctx, cmd *Command, args [][]byte) bool {
	db := c.cl.db
	switch {
	case cmd.Flags&fScript != 0:
		return false // it locks for itself (cmdEval)
	case cmd.Flags&fAllDBs != 0:
		c.tx = s.store.LockAll()
	case cmd.Flags&fAllKeys != 0 || cmd.WholeDB != nil && cmd.WholeDB(args):
		c.tx = s.store.LockAll(db)
	default:
		keys := cmd.keys(args, c.keyBuf[:0])
		if cmd.Step > 1 {
			c.keyBuf = keys[:0] // keep the grown buffer for the next command
		}
		for {
			switch len(keys) {
			case 0:
				return false
			case 1:
				c.tx = s.store.Lock1(db, keys[0])
			default:
				lk := c.lockBuf[:0]
				for _, k := range keys {
					lk = append(lk, keyspace.Key{DB: db, Key: k})
				}
				c.tx = s.store.Lock(lk)
				clear(lk)
				c.lockBuf = lk[:0]
			}
			// A write to a big value a snapshot is copying unlocked waits
			// for its copy without holding the partition (keyspace.Frozen).
			if cmd.Flags&fWrite == 0 || !s.store.Snapshotting() {
				break
			}
			f := c.tx.DB(db).FrozenAmong(keys)
			if f == nil {
				break
			}
			c.tx.Unlock()
			f.WriteOut()
		}
	}
	if cmd.Flags&fWrite != 0 {
		c.tx.TrackWrites() // re-size what it changed in place (used_memory)
	}
	c.DB = c.tx.DB(db)
	return true
}

// Arguments of propagated writes, read only and shared: a []byte("SET")
// conversion at the call would allocate each time.
var (
	argSET     = []byte("SET")
	argPXAT    = []byte("PXAT")
	argKEEPTTL = []byte("KEEPTTL")
)

// Propagate records the command's write as argv. argv is copied into a
// reused buffer so the variadic slice stays on the caller's stack; feeds must
// copy what they keep.
func (c *Ctx) Propagate(argv ...[]byte) {
	if c.inExec {
		c.queueTxWrite(argv)
		return
	}
	c.prop = append(c.prop[:0], argv...)
	c.notePropagated(c.s.propagate(c.DB.ID(), c.prop))
	clear(c.prop)
}

// PropagateArgs records the command as received.
func (c *Ctx) PropagateArgs() {
	if c.inExec {
		c.queueTxWrite(c.Args)
		return
	}
	c.notePropagated(c.s.propagate(c.DB.ID(), c.Args))
}

func (c *Ctx) notePropagated(end int64) {
	c.cl.replPending = c.s.repl.offsetA.Load()
	if end > c.cl.aofPending {
		c.cl.aofPending = end
	}
}

// queueTxWrite keeps a write made inside EXEC; the transaction's writes are
// propagated together, wrapped in MULTI/EXEC, when it ends.
func (c *Ctx) queueTxWrite(argv [][]byte) {
	c.txWrites = append(c.txWrites, txWrite{db: c.DB.ID(), argv: c.txArena.copy(argv)})
}

// txArena holds the copies of a transaction's queued writes in chunks
// reused from one transaction to the next: a copy is needed only until
// the transaction is propagated (its consumers encode it before they
// return), so a script's or EXEC's writes cost no allocation each.
type txArena struct {
	buf  []byte
	args [][]byte
}

const (
	txArenaChunk = 4 << 10
	txArenaMax   = 64 << 10 // a bigger chunk is not kept for the next transaction
)

func (a *txArena) copy(argv [][]byte) [][]byte {
	n := 0
	for _, x := range argv {
		n += len(x)
	}
	if n > txArenaMax/4 || len(argv) > 1024 { // big: its own allocation
		return copyArgv(argv)
	}
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, min(max(txArenaChunk, 2*cap(a.buf)), txArenaMax))
	}
	if cap(a.args)-len(a.args) < len(argv) {
		a.args = make([][]byte, 0, max(64, 2*cap(a.args), len(argv)))
	}
	l := len(a.args)
	for _, x := range argv {
		start := len(a.buf)
		a.buf = append(a.buf, x...)
		a.args = append(a.args, a.buf[start:len(a.buf):len(a.buf)])
	}
	return a.args[l:len(a.args):len(a.args)]
}

// reset makes the arena's space free again: no copy it made is used any
// more.
func (a *txArena) reset() {
	clear(a.args)
	a.args = a.args[:0]
	a.buf = a.buf[:0]
	if cap(a.args) > txArenaMax/8 {
		a.args = nil
	}
}

// detach gives the arena's chunks to the copies made so far, which live
// on (a script's writes queued into its caller's EXEC).
func (a *txArena) detach() { a.buf, a.args = nil, nil }

// copyArgv copies argv into two allocations: the slice, and one array
// holding every argument's bytes.
func copyArgv(argv [][]byte) [][]byte {
	n := 0
	for _, a := range argv {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	cp := make([][]byte, len(argv))
	for i, a := range argv {
		buf = append(buf, a...)
		cp[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return cp
}

// multiArgv and execArgv wrap a transaction's writes when propagated
// (read only, shared).
var (
	multiArgv = [][]byte{[]byte("MULTI")}
	execArgv  = [][]byte{[]byte("EXEC")}
)

type txWrite struct {
	db   int
	argv [][]byte
}

// propagateTx feeds a transaction's writes as one MULTI ... EXEC unit, still
// under the transaction's locks.
func (c *Ctx) propagateTx() {
	ws := c.txWrites
	c.txWrites = nil
	c.propagateWrites(ws)
	clear(ws)
	c.txWrites = ws[:0]
	c.txArena.reset()
}

// propagateWrites feeds ws (a transaction's writes) as one MULTI ... EXEC
// unit; the consumers encode them before it returns.
func (c *Ctx) propagateWrites(ws []txWrite) {
	if len(ws) == 0 {
		return
	}
	s := c.s
	s.dirty.Add(int64(len(ws)))
	multi, exec := multiArgv, execArgv
	if f := s.feed.Load(); f != nil {
		(*f)(ws[0].db, multi)
		for _, w := range ws {
			(*f)(w.db, w.argv)
		}
		(*f)(ws[len(ws)-1].db, exec)
	}
	// One block; a transaction that switched databases carries its SELECTs
	// inside it (the AOF and the stream follow the SELECTs they write).
	// The consumers below encode the block before they return: its
	// slice is the connection's, reused.
	block := append(c.txBlock[:0], multi)
	db := ws[0].db
	for _, w := range ws {
		if w.db != db {
			block = append(block, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(w.db))})
			db = w.db
		}
		block = append(block, w.argv)
	}
	block = append(block, exec)
	if !s.replica.active.Load() { // a replica forwards its master's bytes instead
		s.repl.feed(ws[0].db, block...)
		s.tapSlots(ws[0].db, block...)
	}
	c.cl.replPending = s.repl.offsetA.Load()
	c.notePropagated(s.aofAppend(ws[0].db, block...))
	clear(block)
	c.txBlock = block[:0]
}

// InMulti reports whether the command runs inside EXEC (blocking commands
// must then not block).
func (c *Ctx) InMulti() bool { return c.inExec }

// Server returns the server (for subsystems).
func (c *Ctx) Server() *Server { return c.s }

// ParseInt parses a whole int64 argument exactly as Redis's string2ll does
// (no sign but '-', no leading zeros) or replies errNotInt.
func (c *Ctx) ParseInt(b []byte) (int64, bool) {
	n, ok := keyspace.ParseInt(b)
	if !ok {
		c.Err(errNotInt)
		return 0, false
	}
	return n, true
}

// ParseInt32 parses an argument as Redis's getIntFromObjectOrReply: an
// int64 within int32's range. msg, when not "", replaces both errors.
func (c *Ctx) ParseInt32(b []byte, msg string) (int, bool) {
	n, ok := keyspace.ParseInt(b)
	switch {
	case !ok && msg == "":
		c.Err(errNotInt)
	case (n < math.MinInt32 || n > math.MaxInt32) && msg == "":
		c.Err("ERR value is out of range, value must between -2147483648 and 2147483647")
	case !ok || n < math.MinInt32 || n > math.MaxInt32:
		c.Err(msg)
	default:
		return int(n), true
	}
	return 0, false
}

// ParsePositive parses a non-negative integer as Redis's
// getPositiveLongFromObjectOrReply: any failure replies msg.
func (c *Ctx) ParsePositive(b []byte, msg string) (int64, bool) {
	n, ok := keyspace.ParseInt(b)
	if !ok || n < 0 {
		c.Err(msg)
		return 0, false
	}
	return n, true
}

// ParseFloat parses a float argument (inf allowed, NaN refused) or replies
// errNotFloat.
func (c *Ctx) ParseFloat(b []byte) (float64, bool) {
	f, ok := parseFloat(b)
	if !ok {
		c.Err(errNotFloat)
	}
	return f, ok
}

// refuse returns the error that keeps cmd from running now, if any: a stale
// replica (MASTERDOWN), a write on a read-only replica (READONLY), too few
// replicas (NOREPLICAS), failing persistence (MISCONF).
func (s *Server) refuse(cmd *Command) string {
	replica := s.replica.active.Load()
	if replica && cmd.Flags&fStale == 0 && !s.replica.linkUp.Load() && !s.replica.serveStale.Load() {
		return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
	}
	if cmd.Flags&fWrite == 0 {
		return ""
	}
	if replica && s.replica.readOnly.Load() {
		return "READONLY You can't write against a read only replica."
	}
	if s.cluster != nil && !replica {
		if msg := s.cluster.WriteRefusal(); msg != "" {
			return msg
		}
	}
	if n := s.minReplicas.Load(); n > 0 && !replica && int64(s.goodReplicas(s.minReplicaLag.Load())) < n {
		return "NOREPLICAS Not enough good replicas to write."
	}
	return s.writesRefused()
}
