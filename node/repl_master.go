package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/keyspace/aof"
)

// replLog is the master side of Redis's replication: the stream of applied
// writes, encoded as Redis sends them (RESP, with SELECT when the database
// changes), a ring-buffer backlog of the last repl-backlog-size bytes for
// partial resynchronization, and the connected replicas. master_repl_offset
// counts every byte of the stream, as Redis counts it.
type replLog struct {
	mu        sync.Mutex
	id        string       // master_replid: this history's id
	id2       string       // master_replid2: the history before a promotion
	secondOff int64        // second_repl_offset: up to where id2's history is shared
	active    atomic.Bool  // a backlog exists (created with the first replica)
	offset    int64        // master_repl_offset
	offsetA   atomic.Int64 // offset, readable without mu
	size      int64        // repl-backlog-size of the backlog
	head      *streamBlock // the backlog's first block (see streamBlock)
	tail      *streamBlock // the block being filled
	gen       int64        // bumped when the stream starts over (a full sync of this node)
	outLimit  int64        // a replica's output limit; 0: replicaOutputLimit
	histlen   int64        // valid bytes in the backlog, ending at offset
	lastDB    int          // database of the last command streamed; -1 forces a SELECT
	replicas  map[*replica]struct{}
	scratch   []byte
	lonely    time.Time     // when the last replica left (repl-backlog-ttl)
	dataCh    chan struct{} // closed when the stream grows (senders wait on it)
	// ackWanted: a WAIT asked for a GETACK not yet in the stream.
	ackWanted   atomic.Bool
	ackRequests atomic.Int64 // WAITs that asked for an ACK
	getacksSent atomic.Int64 // GETACKs put in the stream for them
	acks        broadcast    // notified on every REPLCONF ACK
	waiters     ackWaiters   // WAITs, completed by the ACKs
}

// replica is one connected replica, written by a sender goroutine straight
// from the shared stream blocks (Redis's replica output buffer is the part
// of the stream it has not been sent yet).
type replica struct {
	cl         *Client
	conn       redcon.DetachedConn
	addr       string
	port       int
	mu         sync.Mutex
	online     bool          // the RDB was sent (or, diskless, loaded); the stream may flow
	loaded     chan struct{} // closed by goOnline
	loadedOnce sync.Once
	closed     bool
	pos        streamPos // the next byte to send; set under the log's lock, then the sender's
	gen        int64     // the stream generation pos is in
	sent       atomic.Int64
	overflowed atomic.Bool
	ackOffset  atomic.Int64
	ackTime    atomic.Int64 // unix ms of the last REPLCONF ACK
}

// replicaOutputLimit is client-output-buffer-limit replica's hard limit.
const replicaOutputLimit = 256 << 20

// feed streams one write (or a transaction block) applied to db.
func (l *replLog) feed(db int, cmds ...[][]byte) {
	if !l.active.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.scratch[:0]
	if db >= 0 && db != l.lastDB {
		b = aof.AppendCommand(b, []byte("SELECT"), []byte(strconv.Itoa(db)))
		l.lastDB = db
	}
	for _, argv := range cmds {
		b = aof.AppendCommand(b, argv...)
		if d, ok := aof.SelectedDB(argv); ok { // a block may switch databases itself
			l.lastDB = d
		}
	}
	l.appendStream(b)
	l.scratch = b[:0]
}

// ensureBacklog creates the backlog (on the first replica). Callers hold l.mu.
func (s *Server) ensureBacklog() {
	l := &s.repl
	if l.head == nil {
		l.size = max(s.cfg.Int("repl-backlog-size"), 16<<10)
		l.resetStream(l.offset)
		l.lastDB = -1
		l.replicas = map[*replica]struct{}{}
		l.active.Store(true)
	}
}

func registerReplication(t table) {
	const g = "server"
	t.add(
		&Command{Name: "psync", Arity: -3, Flags: fAdmin | fNoScript | fNoMulti, Run: cmdPsync, Group: g},
		&Command{Name: "sync", Arity: 1, Flags: fAdmin | fNoScript | fNoMulti, Run: cmdPsync, Group: g},
		&Command{Name: "replconf", Arity: -1, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdReplconf, Group: g},
		&Command{Name: "wait", Arity: 3, Flags: fNoScript, Run: cmdWait, Group: "generic"},
		&Command{Name: "role", Arity: 1, Flags: fNoScript | fLoading | fStale | fFast, Run: cmdRole, Group: g},
	)
}

func cmdReplconf(c *Ctx) {
	if c.replicationRefused() {
		return
	}
	args := c.Args[1:]
	if len(args)%2 != 0 {
		c.Err(errSyntax)
		return
	}
	for i := 0; i < len(args); i += 2 {
		switch {
		case eq(args[i], "listening-port"):
			port, err := strconv.Atoi(string(args[i+1]))
			if err != nil {
				c.Err(errNotInt)
				return
			}
			c.cl.replPort = port
		case eq(args[i], "ip-address"):
			c.cl.replIP = string(args[i+1])
		case eq(args[i], "capa"):
			if eq(args[i+1], "eof") {
				c.cl.replCapaEOF = true
			}
		case eq(args[i], "rdb-only"), eq(args[i], "rdb-filter-only"):
			// Accepted (redis-cli --rdb): the stream follows the RDB anyway.
		case eq(args[i], "warden-epoch"):
			// A warden replica names the shard epoch it follows; a master
			// the record no longer names (or names at an older epoch) must
			// not feed it a stale history.
			want, err := strconv.ParseUint(string(args[i+1]), 10, 64)
			if err != nil {
				c.Err(errNotInt)
				return
			}
			if cl := c.s.cluster; cl != nil {
				if master, epoch := cl.MasterEpoch(); !master || epoch < want {
					c.Err(fmt.Sprintf("ERR stale master: this node is not master at epoch %d", want))
					return
				}
			}
		case eq(args[i], "warden-id"):
			c.cl.replNodeID = string(args[i+1])
		case eq(args[i], "ack"), eq(args[i], "getack"):
			// Only meaningful on an established replication link.
			return
		default:
			c.Err(fmt.Sprintf("ERR Unrecognized REPLCONF option: %s", args[i]))
			return
		}
	}
	c.OK()
}

// cmdPsync turns the connection into a replication link: the connection is
// detached from the command loop and served by serveReplica.
func cmdPsync(c *Ctx) {
	if c.replicationRefused() {
		return
	}
	if c.cl.multi != nil {
		c.Err("ERR Replica can't sync in a transaction")
		return
	}
	if len(c.Args) > 3 && c.cmd.Name == "psync" && eq(c.Args[3], "failover") {
		// FAILOVER's handover: the master this node follows orders it to
		// take over (never in cluster mode, where only the record does).
		switch {
		case c.s.cluster != nil:
			c.Err("ERR PSYNC FAILOVER not allowed in cluster mode.")
			return
		case string(c.Args[1]) != c.s.replID():
			c.Err("ERR PSYNC FAILOVER replid must match my replid.")
			return
		}
		if c.s.isReplica() {
			c.s.promote()
			c.s.log.Info("MASTER MODE enabled (failover request)", "from", c.cl.addr)
		}
	}
	if c.s.failover.state.Load() != failoverNone {
		c.Err("NOMASTERLINK Can't SYNC while failing over")
		return
	}
	reqID, reqOff := "?", int64(-1)
	if c.cmd.Name == "psync" {
		reqID = string(c.Args[1])
		off, err := strconv.ParseInt(string(c.Args[2]), 10, 64)
		if err != nil {
			c.Err(errNotInt)
			return
		}
		reqOff = off
	}
	cl := c.cl
	cl.replicaLink.Store(true)
	cl.mu.Lock()
	cl.flags = "S" // CLIENT LIST / KILL TYPE replica
	cl.mu.Unlock()
	dc := c.conn.Detach()
	go c.s.serveReplica(cl, dc, reqID, reqOff, c.cmd.Name == "sync")
}

// serveReplica answers PSYNC (partial or full) and then streams.
func (s *Server) serveReplica(cl *Client, dc redcon.DetachedConn, reqID string, reqOff int64, oldSync bool) {
	host, _, _ := net.SplitHostPort(cl.addr)
	if cl.replIP != "" {
		host = cl.replIP
	}
	r := &replica{cl: cl, conn: dc, addr: host, port: cl.replPort, loaded: make(chan struct{})}
	l := &s.repl
	l.mu.Lock()
	replID := l.id
	l.mu.Unlock()

	// Partial resync when the replica follows this history and the bytes it
	// misses are still in the backlog.
	l.mu.Lock()
	s.ensureBacklog()
	if reqID == replID || (reqID == l.replID2() && reqOff <= l.secondOffset()) {
		// PSYNC names the first byte the replica lacks, counting from 1.
		if pos, ok := l.posAt(reqOff - 1); ok {
			r.pos, r.gen = pos, l.gen
			r.sent.Store(pos.off)
			r.goOnline()
			l.replicas[r] = struct{}{}
			l.mu.Unlock()
			s.stats.syncPartialOK.Add(1)
			dc.WriteRaw([]byte("+CONTINUE " + replID + "\r\n"))
			if err := dc.Flush(); err != nil {
				s.dropReplica(r, err)
				return
			}
			s.log.Info("partial resynchronization accepted", "replica", cl.addr, "offset", reqOff)
			s.runReplica(r)
			return
		}
	}
	l.mu.Unlock()
	if reqID != "?" {
		s.stats.syncPartialErr.Add(1)
	}
	s.stats.syncFull.Add(1)
	if err := s.fullResync(r, replID, oldSync); err != nil {
		s.dropReplica(r, err)
		return
	}
	s.runReplica(r)
}

// runReplica streams the stream from the replica's position and reads
// REPLCONF ACKs until the link breaks. Each wake-up sends everything written
// since the last one in one write (writev of the shared blocks).
func (s *Server) runReplica(r *replica) {
	l := &s.repl
	errc := make(chan error, 1)
	go func() { // reader: REPLCONF ACK <offset>
		for {
			cmd, err := r.conn.ReadCommand()
			if err != nil {
				errc <- err
				return
			}
			if len(cmd.Args) >= 3 && eq(cmd.Args[0], "replconf") && eq(cmd.Args[1], "ack") {
				if off, err := strconv.ParseInt(string(cmd.Args[2]), 10, 64); err == nil {
					r.ackOffset.Store(off)
					r.ackTime.Store(time.Now().UnixMilli())
					l.ackArrived()
					l.acks.notify()
				}
				r.goOnline()
			}
		}
	}()
	r.ackTime.Store(time.Now().UnixMilli())
	// After a diskless RDB the stream waits for the replica's first ACK: a
	// replica reading the payload up to the end mark must not find stream
	// bytes after it (Redis's repl_put_online_on_ack).
	select {
	case <-r.loaded:
	case err := <-errc:
		s.dropReplica(r, err)
		return
	case <-s.done:
		s.dropReplica(r, nil)
		return
	}
	nc := r.conn.NetConn()
	pos := r.pos
	var vec net.Buffers
	var deadlineSet time.Time
	for {
		l.mu.Lock()
		if l.gen != r.gen || l.tail == nil {
			// This node full-synced from its own master: a new history
			// (Redis disconnects its sub-replicas then too).
			l.mu.Unlock()
			s.dropReplica(r, errors.New("the stream started over: resync"))
			return
		}
		l.takeAckRequest()
		end := l.offset
		var more <-chan struct{}
		if end == pos.off {
			more = l.waitData()
		}
		l.mu.Unlock()
		if more != nil {
			select {
			case err := <-errc:
				s.dropReplica(r, err)
				return
			case <-more:
				// Let writes that are under way join this batch, as Redis
				// sends replicas one buffer per event loop iteration.
				runtime.Gosched()
				continue
			case <-s.done:
				s.dropReplica(r, nil)
				return
			}
		}
		vec = pos.gather(vec[:0], end)
		out := vec // WriteTo consumes its receiver
		// The deadline (a timer update, and a config lookup) at most
		// every 100 ms: a write still fails within repl-timeout of its
		// start, less 100 ms at worst.
		if now := time.Now(); now.Sub(deadlineSet) >= 100*time.Millisecond {
			nc.SetWriteDeadline(now.Add(time.Duration(max(s.cfg.Int("repl-timeout"), 1)) * time.Second))
			deadlineSet = now
		}
		if _, err := out.WriteTo(nc); err != nil {
			if r.overflowed.Load() {
				err = errors.New("output buffer over its limit")
			}
			s.dropReplica(r, err)
			return
		}
		clear(vec) // the blocks may go once the backlog lets go of them
		r.sent.Store(pos.off)
	}
}

func (s *Server) dropReplica(r *replica, err error) {
	l := &s.repl
	l.mu.Lock()
	delete(l.replicas, r)
	if len(l.replicas) == 0 {
		l.lonely = time.Now()
	}
	l.mu.Unlock()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.conn.Close()
	l.acks.notify() // a replica gone is no longer waited for
	s.clientMu.Lock()
	delete(s.clients, r.cl.ID)
	s.clientMu.Unlock()
	if err != nil {
		s.log.Warn("replica link lost", "replica", r.cl.addr, "err", err)
	}
}

// replicasSnapshot lists the connected replicas.
func (s *Server) replicasSnapshot() []*replica {
	l := &s.repl
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*replica, 0, len(l.replicas))
	for r := range l.replicas {
		out = append(out, r)
	}
	return out
}

// replOffset returns master_repl_offset.
func (s *Server) replOffset() int64 {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	return s.repl.offset
}

// pingReplicas puts a PING in the stream (repl-ping-replica-period) so
// replicas see the link alive, as Redis does.
func (s *Server) pingReplicas() {
	// A replica forwards its master's stream (pings included) byte for
	// byte; a ping of its own would move its replicas' offsets off the
	// master's. Redis pings only from masters too.
	if !s.repl.active.Load() || s.replica.active.Load() {
		return
	}
	l := &s.repl
	l.mu.Lock()
	if len(l.replicas) > 0 {
		l.appendStream(aof.AppendCommand(nil, []byte("PING")))
	}
	l.mu.Unlock()
}

// goodReplicas counts online replicas whose last ACK is at most maxLag
// seconds old (min-replicas-max-lag).
func (s *Server) goodReplicas(maxLag int64) int {
	n := 0
	now := time.Now().UnixMilli()
	for _, r := range s.replicasSnapshot() {
		r.mu.Lock()
		online := r.online
		r.mu.Unlock()
		if online && now-r.ackTime.Load() <= maxLag*1000 {
			n++
		}
	}
	return n
}

// cmdWait blocks until numreplicas acknowledged the client's writes or the
// timeout (ms, 0 = forever) passes, and replies how many did.
func cmdWait(c *Ctx) {
	want, ok := c.ParseInt(c.Args[1])
	if !ok {
		return
	}
	ms, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	if ms < 0 {
		c.Err("ERR timeout is negative")
		return
	}
	l := &c.s.repl
	target := c.cl.replPending
	if n := l.acked(target); n >= want || c.InMulti() {
		c.Int(n)
		return
	}
	// Registered, then checked again: an ACK that came in between would
	// not complete it.
	w := &ackWaiter{target: target, want: want, done: make(chan int64, 1)}
	l.waiters.add(w)
	reply := func() { // once the wait ends without a count from an ACK
		if l.waiters.remove(w) {
			c.Int(l.acked(target))
		} else {
			c.Int(<-w.done)
		}
	}
	if n := l.acked(target); n >= want {
		reply()
		return
	}
	// Ask the replicas for an ACK now rather than within a second; the
	// ACK that satisfies this WAIT completes it (no polling).
	l.requestAck()
	c.cl.flush()
	var timeout <-chan time.Time
	if ms > 0 {
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case n := <-w.done:
		c.Int(n)
	case <-timeout:
		reply()
	case <-c.cl.killed:
		reply()
	}
}

func cmdRole(c *Ctx) {
	s := c.s
	s.replica.mu.Lock()
	host, port := s.replica.host, s.replica.port
	s.replica.mu.Unlock()
	if host != "" {
		state := "connect"
		switch {
		case s.replica.linkUp.Load():
			state = "connected"
		case s.replica.syncing.Load():
			state = "sync"
		}
		c.Array(5)
		c.BulkString("slave")
		c.BulkString(host)
		c.Int(int64(port))
		c.BulkString(state)
		c.Int(s.repl.offsetA.Load())
		return
	}
	rs := c.s.replicasSnapshot()
	c.Array(3)
	c.BulkString("master")
	c.Int(c.s.replOffset())
	c.Array(len(rs))
	for _, r := range rs {
		c.Array(3)
		c.BulkString(r.addr)
		c.BulkString(strconv.Itoa(r.port))
		c.BulkString(strconv.FormatInt(r.ackOffset.Load(), 10))
	}
}

// infoReplication is INFO's Replication section for a master.
func infoReplication(s *Server, w *infoWriter) {
	rs := s.replicasSnapshot()
	if !s.infoReplicaFields(w) {
		w.str("role", "master")
	}
	w.int("connected_slaves", int64(len(rs)))
	now := time.Now().UnixMilli()
	for i, r := range rs {
		r.mu.Lock()
		state := "wait_bgsave"
		if r.online {
			state = "online"
		}
		r.mu.Unlock()
		w.line(fmt.Sprintf("slave%d:ip=%s,port=%d,state=%s,offset=%d,lag=%d", i, r.addr, r.port, state, r.ackOffset.Load(), (now-r.ackTime.Load())/1000))
	}
	l := &s.repl
	l.mu.Lock()
	off, histlen, size, active := l.offset, l.histlen, int(l.size), l.active.Load()
	l.mu.Unlock()
	w.str("master_failover_state", s.failoverStateName())
	l.mu.Lock()
	id, id2, second := l.id, l.id2, l.secondOff
	l.mu.Unlock()
	w.str("master_replid", id)
	w.str("master_replid2", id2)
	w.int("master_repl_offset", off)
	w.int("second_repl_offset", second)
	flag := int64(0)
	if active {
		flag = 1
	}
	w.int("repl_backlog_active", flag)
	if size == 0 {
		size = int(s.cfg.Int("repl-backlog-size"))
	}
	w.int("repl_backlog_size", int64(size))
	first := int64(0)
	if active {
		first = off - histlen + 1
	}
	w.int("repl_backlog_first_byte_offset", first)
	w.int("repl_backlog_histlen", histlen)
}

// replID is master_replid.
func (s *Server) replID() string {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	return s.repl.id
}

// replID2 and secondOffset describe the history before the last promotion
// (PSYNC2): a former sibling may continue from it. Callers hold l.mu.
func (l *replLog) replID2() string     { return l.id2 }
func (l *replLog) secondOffset() int64 { return l.secondOff }

// newReplID returns a fresh 40-hex replication id.
func newReplID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// dropSilentReplicas disconnects online replicas that sent no ACK for
// repl-timeout, as a Redis master does.
func (s *Server) dropSilentReplicas(timeout time.Duration) {
	cut := time.Now().Add(-timeout).UnixMilli()
	for _, r := range s.replicasSnapshot() {
		r.mu.Lock()
		online := r.online
		r.mu.Unlock()
		if online && r.ackTime.Load() < cut {
			s.log.Warn("disconnecting timed out replica", "replica", r.cl.addr)
			r.cut()
		}
	}
}

// expireBacklog frees the backlog of a master that had no replica for
// repl-backlog-ttl (0 = never), as Redis does. Replicas keep theirs: they
// may be promoted and serve partial resyncs.
func (s *Server) expireBacklog(ttl time.Duration) {
	l := &s.repl
	if ttl <= 0 || !l.active.Load() || s.replica.active.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.replicas) == 0 && !l.lonely.IsZero() && time.Since(l.lonely) > ttl {
		l.head, l.tail, l.histlen, l.replicas = nil, nil, 0, nil
		l.active.Store(false)
		// The next replica cannot continue this history.
		l.id = newReplID()
		s.log.Info("replication backlog freed", "after", ttl)
	}
}
