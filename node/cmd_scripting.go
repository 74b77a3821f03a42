package node

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/scripting"
	"github.com/wardenkv/warden/slotmap"
)

// Scripting: EVAL*, FCALL*, SCRIPT, FUNCTION. The Lua side lives in
// package scripting; this file is the node's side of it: locking, running
// a script's redis.call as a command, propagation, BUSY.
//
// Locking: a script runs holding scriptState.mu (one script at a time, as
// in Redis) and the partitions of the keys it declares. A command of the
// script touching a key it did not declare extends the script's Tx with
// that key's partition (the whole database for KEYS-like commands), holding
// what it has: strict two-phase locking, so the script stays atomic, and
// only scripts that touch undeclared keys pay. Being the only Tx that ever
// waits while holding locks (every other locker backs off, keyspace
// lockParts), the script cannot deadlock.

type scriptState struct {
	engine *scripting.Engine
	// mu serializes scripts: only one Tx may extend its locks at a time.
	mu sync.Mutex
	// busyMs is busy-reply-threshold (lua-time-limit).
	busyMs atomic.Int64
	hosts  sync.Pool // *scriptHost
	// queue feeds scriptExecutor (unbuffered: a job sent is a job run).
	queue chan *scriptJob
}

func (s *Server) initScripting() {
	st := &s.scripting
	st.engine = scripting.New()
	st.engine.Log = func(level int, msg string) {
		switch level {
		case scripting.LogWarning:
			s.log.Warn(msg, "source", "script")
		case scripting.LogNotice:
			s.log.Info(msg, "source", "script")
		default:
			s.log.Debug(msg, "source", "script")
		}
	}
	st.busyMs.Store(s.cfg.Int("busy-reply-threshold"))
	if v := s.cfg.Int("lua-time-limit"); v != 5000 {
		st.busyMs.Store(v)
	}
	for _, name := range []string{"busy-reply-threshold", "lua-time-limit"} {
		s.cfg.OnSet(name, func(v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				st.busyMs.Store(n)
			}
			return nil
		})
	}
	st.hosts.New = func() any { return s.newScriptHost() }
	st.queue = make(chan *scriptJob)
	go s.scriptExecutor()
}

// Scripts returns the scripting engine (persistence, tests).
func (s *Server) Scripts() *scripting.Engine { return s.scripting.engine }

func registerScripting(t table) {
	evalCmd := func(name string, flags Flags, sha, ro, fcall bool) *Command {
		return &Command{Name: name, Arity: -3, Flags: fNoScript | fStale | fSkipMonitor | fScript | flags,
			KeyFn: evalKeys, Group: "scripting",
			Run: func(c *Ctx) { c.s.cmdEval(c, sha, ro, fcall) }}
	}
	t.add(
		evalCmd("eval", 0, false, false, false),
		evalCmd("evalsha", 0, true, false, false),
		evalCmd("eval_ro", fReadonly, false, true, false),
		evalCmd("evalsha_ro", fReadonly, true, true, false),
		evalCmd("fcall", 0, false, false, true),
		evalCmd("fcall_ro", fReadonly, false, true, true),
		&Command{Name: "script", Arity: -2, Group: "scripting", Subs: subs(
			&Command{Name: "load", Arity: 3, Flags: fNoScript | fStale, Run: cmdScriptLoad},
			&Command{Name: "exists", Arity: -3, Flags: fNoScript, Run: cmdScriptExists},
			&Command{Name: "flush", Arity: -2, Flags: fNoScript, Run: cmdScriptFlush},
			&Command{Name: "kill", Arity: 2, Flags: fNoScript | fAllowBusy, Run: func(c *Ctx) { cmdKill(c, false) }},
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdScriptHelp},
		)},
		&Command{Name: "function", Arity: -2, Group: "scripting", Subs: subs(
			&Command{Name: "load", Arity: -3, Flags: fWrite | fDenyOOM | fNoScript, Run: cmdFunctionLoad},
			&Command{Name: "delete", Arity: 3, Flags: fWrite | fNoScript, Run: cmdFunctionDelete},
			&Command{Name: "flush", Arity: -2, Flags: fWrite | fNoScript, Run: cmdFunctionFlush},
			&Command{Name: "list", Arity: -2, Flags: fNoScript, Run: cmdFunctionList},
			&Command{Name: "dump", Arity: 2, Flags: fNoScript, Run: cmdFunctionDump},
			&Command{Name: "restore", Arity: -3, Flags: fWrite | fDenyOOM | fNoScript, Run: cmdFunctionRestore},
			&Command{Name: "stats", Arity: 2, Flags: fNoScript | fAllowBusy, Run: cmdFunctionStats},
			&Command{Name: "kill", Arity: 2, Flags: fNoScript | fAllowBusy, Run: func(c *Ctx) { cmdKill(c, true) }},
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdFunctionHelp},
		)},
	)
}

// evalKeys returns the declared keys of EVAL-like commands (numkeys at 2);
// nothing when numkeys is bad (the command then replies the error).
func evalKeys(args [][]byte) [][]byte {
	if len(args) < 3 {
		return nil
	}
	n, ok := keyspace.ParseInt(args[2])
	if !ok || n <= 0 || n > int64(len(args)-3) {
		return nil
	}
	return args[3 : 3+n]
}

// busyRefusal is the BUSY error for cmd while a script has run longer
// than busy-reply-threshold, or "".
func (s *Server) busyRefusal(cmd *Command, args [][]byte) string {
	r := s.scripting.engine.Current()
	if r == nil || time.Since(r.Start) < time.Duration(s.scripting.busyMs.Load())*time.Millisecond {
		return ""
	}
	if cmd.Flags&fAllowBusy != 0 {
		if cmd.Name != "shutdown" {
			return ""
		}
		for _, a := range args[1:] {
			if eq(a, "nosave") {
				return ""
			}
		}
	}
	if r.Function {
		return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	}
	return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
}

// cmdEval runs EVAL, EVALSHA, their _RO forms, FCALL and FCALL_RO.
func (s *Server) cmdEval(c *Ctx, sha, ro, fcall bool) {
	st := &s.scripting
	n, ok := keyspace.ParseInt(c.Args[2])
	switch {
	case !ok:
		c.Err(errNotInt)
		return
	case n > int64(len(c.Args)-3):
		c.Err("ERR Number of keys can't be greater than number of args")
		return
	case n < 0:
		c.Err("ERR Number of keys can't be negative")
		return
	}
	keys, args := c.Args[3:3+n], c.Args[3+n:]
	var script *scripting.Script
	var fn *scripting.Function
	var flags scripting.Flags
	switch {
	case fcall:
		if fn = st.engine.LookupFunction(string(c.Args[1])); fn == nil {
			c.Err("ERR Function not found")
			return
		}
		flags = fn.Flags
	case sha:
		if script = st.engine.Lookup(c.Args[1]); script == nil {
			c.Err("NOSCRIPT No matching script. Please use EVAL.")
			return
		}
		flags = script.Flags
	default:
		var msg string
		if script, msg = st.engine.Load(c.Args[1]); script == nil {
			c.Err(msg)
			return
		}
		flags = script.Flags
	}
	if msg := s.scriptRefusal(c, flags, ro); msg != "" {
		c.Err(msg)
		return
	}
	// The connection's own job: it runs one command at a time, and the
	// job is done (replied) before its next.
	job := &c.cl.scriptJob
	*job = scriptJob{c: c, script: script, fn: fn, keys: keys, args: args,
		readOnly: ro || flags&scripting.FlagNoWrites != 0, allowOOM: flags&scripting.FlagAllowOOM != 0,
		replyBuf: job.replyBuf}
	defer job.release()
	if c.tx != nil { // inside EXEC: EXEC holds the script lock and the keys
		s.runScript(job)
		c.afterExec = append(c.afterExec, job.after...)
		job.reply(c)
		return
	}
	// Scripts run one at a time. Uncontended, here; when another script
	// holds the lock, on the executor goroutine, which keeps the lock
	// across the batch queued meanwhile: under contention the lock is not
	// handed from goroutine to goroutine per script.
	if st.mu.TryLock() {
		s.runScript(job)
		st.mu.Unlock()
		s.finishScript(c, job)
		return
	}
	if c.cl.scriptDone == nil {
		c.cl.scriptDone = make(chan struct{}, 1)
	}
	job.done = c.cl.scriptDone
	select {
	case st.queue <- job:
	case <-s.done:
		c.Err("ERR server is shutting down")
		return
	}
	<-job.done
	s.finishScript(c, job)
}

// finishScript does what waits for the script's unlock, then replies.
func (s *Server) finishScript(c *Ctx, job *scriptJob) {
	for _, fn := range job.after {
		fn()
	}
	if len(job.ready) > 0 {
		s.serveReady(job.ready)
	}
	job.reply(c)
}

// scriptJob is one EVAL/FCALL for runScript.
type scriptJob struct {
	c          *Ctx
	script     *scripting.Script
	fn         *scripting.Function
	keys, args [][]byte
	readOnly   bool
	allowOOM   bool // allow-oom: denyoom commands run even over maxmemory
	done       chan struct{}
	// results
	res   scripting.Result
	after []func()
	ready []keyspace.ReadyKey
	// replyBuf is the connection's buffer for script replies (res.Reply
	// is built in it), kept from job to job.
	replyBuf []byte
}

// release keeps the reply buffer for the connection's next script and
// drops the rest (a big reply's buffer is not kept).
func (j *scriptJob) release() {
	buf := j.res.Reply
	if cap(buf) < cap(j.replyBuf) {
		buf = j.replyBuf
	}
	if cap(buf) > 64<<10 {
		buf = nil
	}
	*j = scriptJob{replyBuf: buf[:0]}
}

func (j *scriptJob) reply(c *Ctx) {
	if j.res.Err != "" {
		c.Err(j.res.Err)
		return
	}
	c.conn.WriteRaw(j.res.Reply)
}

// scriptExecutor runs queued scripts until the server closes.
func (s *Server) scriptExecutor() {
	st := &s.scripting
	for {
		var job *scriptJob
		select {
		case job = <-st.queue:
		case <-s.done:
			return
		}
		st.mu.Lock()
		for job != nil {
			s.runScript(job)
			job.done <- struct{}{}
			select {
			case job = <-st.queue:
			default:
				job = nil
			}
		}
		st.mu.Unlock()
	}
}

// runScript runs a job with the script lock held: outside EXEC it locks
// the declared keys, runs, propagates and unlocks; inside EXEC the
// transaction holds the locks and collects the writes.
func (s *Server) runScript(j *scriptJob) {
	st, c := &s.scripting, j.c
	owned := c.tx == nil
	if owned {
		lk := c.lockBuf[:0]
		for _, k := range j.keys {
			lk = append(lk, keyspace.Key{DB: c.cl.db, Key: k})
		}
		c.tx = s.store.Lock(lk)
		c.tx.TrackWrites() // a script may write in place
		clear(lk)
		c.lockBuf = lk[:0]
		c.tx.SetNow(c.nowMs) // the EVAL's start, as Redis freezes a script's time
	}
	h := st.hosts.Get().(*scriptHost)
	h.begin(c, j.keys, j.readOnly)
	h.allowOOM = j.allowOOM
	h.req = scripting.Request{Keys: j.keys, Args: j.args, ReadOnly: j.readOnly, Proto: c.cl.proto, Host: h, ReplyBuf: j.replyBuf}
	req := &h.req
	if j.fn != nil {
		// FUNCTION STATS shows it from other goroutines: a copy.
		req.Command = make([][]byte, len(c.Args))
		for i, a := range c.Args {
			req.Command[i] = append([]byte(nil), a...)
		}
		j.res = st.engine.FCall(j.fn, req)
	} else {
		j.res = st.engine.Eval(j.script, req)
	}
	h.req = scripting.Request{}
	ws, after := h.end()
	j.after = after
	switch {
	case j.res.Aborted:
		// The server is closing under it (SHUTDOWN NOSAVE): as in Redis,
		// the effects of an unfinished script never reach AOF or replicas.
	case c.inExec:
		c.txWrites = append(c.txWrites, ws...)
		h.cl.ctx.txArena.detach() // the copies go on living in the EXEC
	case len(ws) == 1:
		c.notePropagated(s.propagate(ws[0].db, ws[0].argv))
	case len(ws) > 1:
		c.propagateWrites(ws)
	}
	h.recycle(ws)
	st.hosts.Put(h)
	if owned {
		j.ready = c.tx.Unlock()
		c.tx = nil
		c.DB = keyspace.View{}
	}
}

// scriptRefusal applies a script's flags before it runs, as Redis's
// scriptPrepareForRun.
func (s *Server) scriptRefusal(c *Ctx, flags scripting.Flags, ro bool) string {
	if flags&scripting.FlagCompat != 0 {
		return ""
	}
	if ro && flags&scripting.FlagNoWrites == 0 {
		return "ERR Can not execute a script with write flag using *_ro command."
	}
	if s.cluster != nil && flags&scripting.FlagNoCluster != 0 {
		return "ERR Can not run script on cluster, 'no-cluster' flag is set."
	}
	replica := s.replica.active.Load()
	if flags&scripting.FlagAllowStale == 0 && replica && !s.replica.linkUp.Load() && !s.replica.serveStale.Load() {
		return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
	}
	if flags&scripting.FlagNoWrites == 0 {
		// Redis counts such a script as a write command (its
		// getCommandFlags): processCommand's refusals apply, and
		// without allow-oom it is denyoom.
		if flags&scripting.FlagAllowOOM == 0 && c.cl.preOOM && !c.cl.internal {
			return errOOM
		}
		if replica && s.replica.readOnly.Load() && !c.cl.internal {
			return "READONLY You can't write against a read only replica."
		}
		if msg := s.writesRefused(); msg != "" && !c.cl.internal {
			return msg
		}
	}
	return ""
}

// scriptHost is the node's scripting.Host for one run: a client of its own
// (database, protocol) whose commands run under the script's Tx and whose
// replies are captured.
type scriptHost struct {
	s        *Server
	caller   *Ctx
	readOnly bool
	allowOOM bool // the script's allow-oom flag
	cluster  bool // check keys as Redis 7.0's scriptVerifyClusterState
	cl       Client
	conn     captureConn
	req      scripting.Request // the run's, reused
}

func (s *Server) newScriptHost() *scriptHost {
	h := &scriptHost{s: s}
	h.cl.authed = true
	h.cl.killed = make(chan struct{})
	h.cl.ctx.s = s
	h.cl.ctx.cl = &h.cl
	h.cl.ctx.conn = &h.conn
	h.cl.conn = &h.conn
	return h
}

func (h *scriptHost) begin(caller *Ctx, keys [][]byte, readOnly bool) {
	h.caller, h.readOnly = caller, readOnly
	h.cl.db, h.cl.internal = caller.cl.db, caller.cl.internal
	h.cl.ID = caller.cl.ID
	h.cl.tracking.Store(caller.cl.tracking.Load()) // its reads are the caller's (client-side caching)
	// Redis Cluster's script rules apply with cluster-enabled only: a
	// Sentinel-style node (control plane, no slot routing) is a plain Redis.
	h.cluster = h.s.slots.on.Load() && !caller.cl.internal
}

// clusterRefusal is Redis 7.0's check of a script's command in cluster
// mode: its keys must be in one slot this node serves (undeclared keys are
// allowed when local; 7.0 has no cross-slot rule between commands).
func (h *scriptHost) clusterRefusal(keys [][]byte) string {
	const nonLocal = "-ERR Script attempted to access a non local key in a cluster node\r\n"
	slot := -1
	for _, k := range keys {
		s := slotmap.Slot(k)
		if slot != -1 && s != slot {
			return nonLocal
		}
		slot = s
	}
	if slot == -1 {
		return ""
	}
	var f slotmap.RouteFlags
	if h.readOnly {
		f |= slotmap.Read
	}
	if h.caller != nil && h.caller.cl.readOnlyCluster {
		f |= slotmap.ReadOnlyConn
	}
	if t := h.s.slots.table.Load(); t == nil || t.RouteSlot(slot, f).Kind != slotmap.Serve {
		return nonLocal
	}
	return ""
}

// end returns the writes the script made and the work its commands left
// for after the unlock.
func (h *scriptHost) end() ([]txWrite, []func()) {
	ws, after := h.cl.ctx.txWrites, h.cl.ctx.afterExec
	h.cl.ctx.txWrites, h.cl.ctx.afterExec = nil, nil
	h.cl.ctx.tx, h.cl.ctx.DB = nil, keyspace.View{}
	h.caller = nil
	if cap(h.conn.b) > 1<<20 { // a huge reply once: not kept for ever
		h.conn.b = nil
	}
	h.conn.b = h.conn.b[:0]
	return ws, after
}

// recycle takes back the writes end returned, once propagated: their
// slice and copies serve the next run.
func (h *scriptHost) recycle(ws []txWrite) {
	clear(ws)
	h.cl.ctx.txWrites = ws[:0]
	h.cl.ctx.txArena.reset()
}

func (h *scriptHost) Call(argv [][]byte, resp int, repl int) []byte {
	s, c := h.s, &h.cl.ctx
	h.conn.b = h.conn.b[:0]
	cmd, msg := s.lookup(c, argv)
	if cmd == nil {
		if strings.HasPrefix(msg, "ERR wrong number") {
			return []byte("-ERR Wrong number of args calling Redis command from script\r\n")
		}
		return []byte("-ERR Unknown Redis command called from script\r\n")
	}
	if cmd.Flags&fNoScript != 0 || cmd.Subs != nil {
		return []byte("-ERR This Redis command is not allowed from script\r\n")
	}
	if h.caller != nil && !h.cl.internal {
		if msg := s.aclScriptDenied(h.caller.cl, cmd, argv); msg != "" {
			return []byte("-ERR " + msg + "\r\n")
		}
	}
	write := cmd.Flags&fWrite != 0
	if write {
		if h.readOnly {
			return []byte("-ERR Write commands are not allowed from read-only scripts.\r\n")
		}
		if !h.cl.internal {
			if msg := s.refuse(cmd); msg != "" {
				return []byte("-" + msg + "\r\n")
			}
		}
		// Redis's scriptVerifyOOM: over maxmemory at the script's start,
		// a denyoom command is refused until the script has written.
		if cmd.Flags&fDenyOOM != 0 && !h.allowOOM && !h.cl.internal && h.caller.cl.preOOM {
			if r := s.scripting.engine.Current(); r == nil || !r.Wrote() {
				return []byte("-" + errOOM + "\r\n")
			}
		}
	}
	tx := h.caller.tx
	db := h.cl.db
	switch {
	case cmd.Flags&fAllDBs != 0:
		all := make([]int, s.store.NumDBs())
		for i := range all {
			all[i] = i
		}
		tx.Extend(nil, all...)
	case cmd.Flags&fAllKeys != 0:
		tx.Extend(nil, db)
	default:
		keys := cmd.keys(argv, nil)
		if h.cluster {
			if msg := h.clusterRefusal(keys); msg != "" {
				return []byte(msg)
			}
		}
		for _, k := range keys {
			if !tx.Holds(db, k) {
				tx.Extend([]keyspace.Key{{DB: db, Key: k}})
			}
		}
	}
	if write {
		if r := s.scripting.engine.Current(); r != nil {
			r.NoteWrite()
		}
	}
	h.cl.setProto(resp)
	nw := len(c.txWrites)
	c.tx, c.inExec, c.failed, c.block = tx, true, false, nil
	s.execute(c, cmd, argv)
	if repl == scripting.ReplNone {
		c.txWrites = c.txWrites[:nw]
	}
	return h.conn.b
}

// Allowed is redis.acl_check_cmd: the caller's user's full check
// (command, keys, channels), not logged.
func (h *scriptHost) Allowed(argv [][]byte) (allowed, ok bool) {
	cmd := h.s.cmds[strings.ToLower(string(argv[0]))]
	if cmd == nil {
		return false, false
	}
	if cmd.Subs != nil && len(argv) > 1 {
		sub := cmd.Subs[strings.ToLower(string(argv[1]))]
		if sub == nil {
			return false, false
		}
		cmd = sub
	}
	if h.caller == nil {
		return true, true
	}
	return h.s.aclAllowed(h.caller.cl, cmd, argv), true
}

// captureConn is the script client's connection: replies accumulate in b.
type captureConn struct {
	b   []byte
	ctx any
}

func (w *captureConn) RemoteAddr() string             { return "script" }
func (w *captureConn) Close() error                   { return nil }
func (w *captureConn) WriteError(msg string)          { w.b = redcon.AppendError(w.b, msg) }
func (w *captureConn) WriteString(str string)         { w.b = redcon.AppendString(w.b, str) }
func (w *captureConn) WriteBulk(bulk []byte)          { w.b = redcon.AppendBulk(w.b, bulk) }
func (w *captureConn) WriteBulkString(bulk string)    { w.b = redcon.AppendBulkString(w.b, bulk) }
func (w *captureConn) WriteInt(num int)               { w.b = redcon.AppendInt(w.b, int64(num)) }
func (w *captureConn) WriteInt64(num int64)           { w.b = redcon.AppendInt(w.b, num) }
func (w *captureConn) WriteUint64(num uint64)         { w.b = redcon.AppendUint(w.b, num) }
func (w *captureConn) WriteArray(count int)           { w.b = redcon.AppendArray(w.b, count) }
func (w *captureConn) WriteNull()                     { w.b = redcon.AppendNull(w.b) }
func (w *captureConn) WriteRaw(data []byte)           { w.b = append(w.b, data...) }
func (w *captureConn) WriteAny(v any)                 { w.b = redcon.AppendAny(w.b, v) }
func (w *captureConn) Context() any                   { return w.ctx }
func (w *captureConn) SetContext(v any)               { w.ctx = v }
func (w *captureConn) SetReadBuffer(int)              {}
func (w *captureConn) Detach() redcon.DetachedConn    { return nil }
func (w *captureConn) ReadPipeline() []redcon.Command { return nil }
func (w *captureConn) PeekPipeline() []redcon.Command { return nil }
func (w *captureConn) NetConn() net.Conn              { return nil }
func (w *captureConn) WriteBulkFrom(int64, io.Reader) {}

// ---- SCRIPT

func cmdScriptLoad(c *Ctx) {
	sc, msg := c.s.scripting.engine.Load(c.Args[2])
	if sc == nil {
		c.Err(msg)
		return
	}
	c.BulkString(sc.SHA)
}

func cmdScriptExists(c *Ctx) {
	c.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if c.s.scripting.engine.Lookup(a) != nil {
			c.Int(1)
		} else {
			c.Int(0)
		}
	}
}

// flushMode parses FLUSH's optional ASYNC|SYNC.
func flushMode(c *Ctx, container string) bool {
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 3 && (eq(c.Args[2], "async") || eq(c.Args[2], "sync")):
	default:
		c.Err(fmt.Sprintf("ERR %s FLUSH only support SYNC|ASYNC option", container))
		return false
	}
	return true
}

func cmdScriptFlush(c *Ctx) {
	if !flushMode(c, "SCRIPT") {
		return
	}
	c.s.scripting.engine.Flush()
	c.OK()
}

func cmdKill(c *Ctx, function bool) {
	if msg := c.s.scripting.engine.Kill(function); msg != "" {
		c.Err(msg)
		return
	}
	c.OK()
}

func cmdScriptHelp(c *Ctx) {
	serverHelp(c, "script",
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	)
}
