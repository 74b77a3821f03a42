package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace/aof"
	"github.com/wardenkv/warden/keyspace/rdb"
)

// replicaState is the replica side of replication: the link to the master
// named by REPLICAOF, as Redis 7 speaks it (PING, AUTH, REPLCONF, PSYNC,
// the RDB, then the command stream with REPLCONF ACKs).
type replicaState struct {
	mu         sync.Mutex
	host       string // "" when this node is a master
	port       int
	cancel     context.CancelFunc
	done       chan struct{}
	active     atomic.Bool // a master is configured (hot-path copy of host != "")
	readOnly   atomic.Bool // replica-read-only
	serveStale atomic.Bool // replica-serve-stale-data
	linkUp     atomic.Bool
	synced     atomic.Bool // a sync with the master followed now completed (reset by follow)
	syncing    atomic.Bool
	lastIO     atomic.Int64 // unix ms of the last byte from the master
	linkErr    atomic.Pointer[string]
	masterConn net.Conn
	// failoverPsync: the next PSYNC is FAILOVER's (failover.go), which
	// hands the mastership to the master being followed.
	failoverPsync atomic.Pointer[failoverRun]
	// applyMu is held while one command from the master is applied and
	// forwarded, so a snapshot sees applied at a command boundary.
	applyMu sync.Mutex
	applied replPos
}

// isReplica reports whether this node follows a master.
func (s *Server) isReplica() bool {
	s.replica.mu.Lock()
	defer s.replica.mu.Unlock()
	return s.replica.host != ""
}

func (s *Server) roleName() string {
	if s.isReplica() {
		return "slave"
	}
	return "master"
}

func registerReplicaCommands(t table) {
	t.add(
		&Command{Name: "replicaof", Arity: 3, Flags: fAdmin | fNoScript | fStale, Run: cmdReplicaof, Group: "server"},
		&Command{Name: "slaveof", Arity: 3, Flags: fAdmin | fNoScript | fStale, Run: cmdReplicaof, Group: "server"},
	)
}

func cmdReplicaof(c *Ctx) {
	if c.s.cluster != nil { // the control plane decides who follows whom
		c.Err("ERR REPLICAOF not allowed in cluster mode.")
		return
	}
	if c.s.failover.state.Load() != failoverNone {
		c.Err("ERR REPLICAOF not allowed while failing over.")
		return
	}
	// Changing the link waits for the link's goroutine, which may be
	// applying a write under a partition lock this EXEC holds: inside EXEC
	// the change happens once EXEC has released its locks.
	if eq(c.Args[1], "no") && eq(c.Args[2], "one") {
		c.afterUnlock(func() {
			if c.s.isReplica() {
				c.s.promote()
			}
		})
		c.OK()
		return
	}
	port, err := strconv.Atoi(string(c.Args[2]))
	if err != nil || port < 0 || port > 65535 {
		c.Err("ERR Invalid master port")
		return
	}
	host := string(c.Args[1])
	s := c.s
	s.replica.mu.Lock()
	same := s.replica.host == host && s.replica.port == port
	s.replica.mu.Unlock()
	if same {
		c.Status("OK Already connected to specified master")
		return
	}
	c.afterUnlock(func() { s.follow(host, port) })
	c.OK()
}

// follow makes this node a replica of host:port (REPLICAOF, the replicaof
// directive): it refuses client writes, stops expiring keys itself, and
// keeps a link to the master until told otherwise.
func (s *Server) follow(host string, port int) {
	s.stopLink()
	rs := &s.replica
	rs.synced.Store(false)
	ctx, cancel := context.WithCancel(context.Background())
	rs.mu.Lock()
	rs.host, rs.port, rs.cancel, rs.done = host, port, cancel, make(chan struct{})
	done := rs.done
	rs.mu.Unlock()
	rs.active.Store(true)
	s.store.NoExpire.Store(true)
	s.log.Info("connecting to master", "master", net.JoinHostPort(host, strconv.Itoa(port)))
	go func() {
		defer close(done)
		s.replicaLoop(ctx, host, port)
	}()
}

// stopLink ends the current link to a master, if any.
func (s *Server) stopLink() {
	rs := &s.replica
	rs.mu.Lock()
	cancel, done, conn := rs.cancel, rs.done, rs.masterConn
	rs.cancel, rs.done = nil, nil
	rs.mu.Unlock()
	if cancel != nil {
		cancel()
		if conn != nil {
			socketOf(conn).Close() // no TLS close_notify to a master that may not read
		}
		<-done
	}
	rs.linkUp.Store(false)
}

// promote turns this replica into a master (REPLICAOF NO ONE), keeping the
// history it shares with its former master as replid2 so former siblings can
// partially resynchronize (PSYNC2).
func (s *Server) promote() {
	s.stopLink()
	rs := &s.replica
	rs.mu.Lock()
	rs.host, rs.port = "", 0
	rs.mu.Unlock()
	rs.active.Store(false)
	l := &s.repl
	l.mu.Lock()
	l.id2, l.secondOff = l.id, l.offset+1
	l.id = newReplID()
	l.lastDB = -1 // our own writes must SELECT first
	l.mu.Unlock()
	s.store.NoExpire.Store(false)
	s.log.Info("promoted to master", "replid", s.replID(), "replid2", l.id2)
}

// replicaLoop keeps the link up, retrying with backoff.
func (s *Server) replicaLoop(ctx context.Context, host string, port int) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.syncWithMaster(ctx, host, port)
		s.replica.linkUp.Store(false)
		s.replica.syncing.Store(false)
		if ctx.Err() != nil {
			return
		}
		msg := err.Error()
		s.replica.linkErr.Store(&msg)
		s.log.Warn("master link down", "master", net.JoinHostPort(host, strconv.Itoa(port)), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// masterReader reads the master's replies and stream, keeping the raw
// bytes of the current command for forwarding.
type masterReader struct {
	r     *bufio.Reader
	raw   []byte
	argv  [][]byte
	spans [][2]int
}

func (m *masterReader) line() (string, error) {
	l, err := m.r.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

// rawLine reads one line into raw and returns it without its CRLF; the
// result is valid until the next read.
func (m *masterReader) rawLine() ([]byte, error) {
	l, err := m.r.ReadSlice('\n')
	m.raw = append(m.raw, l...)
	return bytes.TrimRight(l, "\r\n"), err
}

// syncWithMaster runs one link: handshake, sync, stream.
func (s *Server) syncWithMaster(ctx context.Context, host string, port int) (err error) {
	// FAILOVER's attempt: whatever stops it before the PSYNC is answered
	// fails the handover, and the old master takes its role back.
	failover := s.replica.failoverPsync.Swap(nil)
	if failover != nil {
		defer func() {
			if err != nil {
				s.failoverPsyncDone(failover, false)
			}
		}()
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	conn, err := s.dialMaster(ctx, addr)
	if err != nil {
		return fmt.Errorf("connect to master %s: %w", addr, err)
	}
	defer conn.Close()
	// stopLink closes the link's connection, but it may have read
	// masterConn before this dial returned (a stale one or nil): without
	// this, a link cancelled just as its dial completed would go on
	// syncing and streaming from a master the record no longer names until
	// repl-timeout, and stopLink (so Follow, so the control plane's
	// reconcile) would wait for it all along.
	defer context.AfterFunc(ctx, func() { socketOf(conn).Close() })()
	s.replica.mu.Lock()
	s.replica.masterConn = conn
	s.replica.mu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	timeout := time.Duration(max(s.cfg.Int("repl-timeout"), 1)) * time.Second
	mr := &masterReader{r: bufio.NewReaderSize(conn, 1<<16)}
	w := bufio.NewWriter(conn)
	send := func(argv ...string) (string, error) {
		bs := make([][]byte, len(argv))
		for i, a := range argv {
			bs[i] = []byte(a)
		}
		w.Write(aof.AppendCommand(nil, bs...))
		if err := w.Flush(); err != nil {
			return "", err
		}
		conn.SetReadDeadline(time.Now().Add(timeout))
		return mr.line()
	}
	reply, err := send("PING")
	if err != nil {
		return fmt.Errorf("PING master: %w", err)
	}
	user, pass := s.cfg.Get("masteruser"), s.cfg.Get("masterauth")
	if ra := s.replAuth.Load(); ra != nil {
		user, pass = ra.user, ra.pass // a cluster with a secret: its credential
	}
	if pass != "" {
		args := []string{"AUTH", pass}
		if user != "" {
			args = []string{"AUTH", user, pass}
		}
		if reply, err = send(args...); err != nil || !strings.HasPrefix(reply, "+OK") {
			return fmt.Errorf("AUTH with master failed: %s %v", reply, err)
		}
	} else if strings.HasPrefix(reply, "-NOAUTH") {
		return errors.New("master requires authentication (set masterauth)")
	}
	if strings.HasPrefix(reply, "-") && !strings.HasPrefix(reply, "-NOAUTH") {
		return fmt.Errorf("master replied to PING: %s", reply)
	}
	announce := s.replListeningPort()
	if p := s.cfg.Get("replica-announce-port"); p != "0" && p != "" {
		announce = p
	}
	if reply, err = send("REPLCONF", "listening-port", announce); err != nil {
		return fmt.Errorf("REPLCONF listening-port: %w", err)
	}
	if ip := s.cfg.Get("replica-announce-ip"); ip != "" {
		send("REPLCONF", "ip-address", ip)
	}
	if s.cluster != nil {
		_, epoch := s.cluster.MasterEpoch()
		if reply, err = send("REPLCONF", "warden-epoch", strconv.FormatUint(epoch, 10)); err != nil || strings.HasPrefix(reply, "-") {
			return fmt.Errorf("master refused epoch %d: %s %v", epoch, reply, err)
		}
		// Names this node so a master handing its shard over knows which
		// replica has caught up (ReplicaCaughtUp); an older master's error
		// is no reason to fail the link.
		send("REPLCONF", "warden-id", s.cluster.Name())
	}
	if _, err = send("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return fmt.Errorf("REPLCONF capa: %w", err)
	}
	l := &s.repl
	psyncID, psyncOff := l.psyncTarget()
	psync := []string{"PSYNC", psyncID, strconv.FormatInt(psyncOff, 10)}
	if failover != nil {
		// The replica promotes itself only for its own master's history.
		psync = []string{"PSYNC", s.replID(), strconv.FormatInt(s.replOffset()+1, 10), "FAILOVER"}
	}
	s.replica.syncing.Store(true)
	reply, err = send(psync...)
	for reply == "" && err == nil { // newlines keep the link alive while the master prepares
		conn.SetReadDeadline(time.Now().Add(timeout))
		reply, err = mr.line()
	}
	if failover != nil {
		s.failoverPsyncDone(failover, err == nil && (strings.HasPrefix(reply, "+FULLRESYNC") || strings.HasPrefix(reply, "+CONTINUE")))
	}
	if err != nil {
		return fmt.Errorf("PSYNC: %w", err)
	}
	switch {
	case strings.HasPrefix(reply, "+FULLRESYNC"):
		f := strings.Fields(reply)
		if len(f) < 3 {
			return fmt.Errorf("bad FULLRESYNC reply %q", reply)
		}
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("bad FULLRESYNC offset %q", reply)
		}
		s.replica.applyMu.Lock()
		s.replica.applied.valid = false // the data set is about to be replaced
		s.replica.applyMu.Unlock()
		if err := s.loadFromMaster(mr, conn, timeout); err != nil {
			return err
		}
		s.replica.applyMu.Lock()
		l.mu.Lock()
		l.id = f[1]
		l.id2, l.secondOff = noReplID, -1
		s.ensureBacklog()
		l.resetStream(off) // the history starts over at the RDB's offset
		for r := range l.replicas {
			go r.cut() // their senders see the new generation and resync them
		}
		l.mu.Unlock()
		s.replica.applied = replPos{off: off, valid: true} // the master's stream starts with a SELECT
		s.replica.applyMu.Unlock()
		s.log.Info("full resynchronization from master done", "master", addr, "replid", f[1], "offset", off)
		if err := s.rewriteAOFAfterSync(ctx); err != nil {
			return err
		}
	case strings.HasPrefix(reply, "+CONTINUE"):
		f := strings.Fields(reply)
		l.mu.Lock()
		switch {
		case len(f) == 2 && f[1] != psyncID:
			// The master was promoted: its history continues ours.
			l.id2, l.secondOff = psyncID, l.offset+1
			l.id = f[1]
		case psyncID != l.id:
			// We asked for the history we held before a restart or a
			// promotion (psyncTarget): it is ours again.
			l.id, l.id2, l.secondOff = psyncID, noReplID, -1
		}
		s.ensureBacklog()
		l.mu.Unlock()
		s.log.Info("partial resynchronization from master accepted", "master", addr)
	default:
		return fmt.Errorf("PSYNC refused: %s", reply)
	}
	s.replica.syncing.Store(false)
	s.replica.synced.Store(true)
	s.replica.linkUp.Store(true)
	s.replica.linkErr.Store(nil)
	return s.streamFromMaster(ctx, mr, conn, w, timeout)
}

// loadFromMaster reads the RDB payload ($<len> or diskless $EOF:<mark>) into
// an emptied keyspace.
func (s *Server) loadFromMaster(mr *masterReader, conn net.Conn, timeout time.Duration) error {
	var header string
	for {
		conn.SetReadDeadline(time.Now().Add(timeout))
		l, err := mr.line()
		if err != nil {
			return fmt.Errorf("read the RDB header: %w", err)
		}
		if l != "" { // the master sends newlines while it prepares the RDB
			header = l
			break
		}
	}
	if !strings.HasPrefix(header, "$") {
		return fmt.Errorf("unexpected RDB header %q", header)
	}
	tx := s.store.LockAll()
	for i := 0; i < s.store.NumDBs(); i++ {
		tx.DB(i).Flush()
	}
	s.track.Flush() // the data set is replaced: tracking clients drop their caches
	tx.Unlock()
	conn.SetReadDeadline(time.Time{})
	var body *bufio.Reader
	var mark []byte
	if strings.HasPrefix(header, "$EOF:") {
		mark = []byte(header[5:])
		body = mr.r
	} else {
		n, err := strconv.ParseInt(header[1:], 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad RDB length %q", header)
		}
		body = bufio.NewReaderSize(io.LimitReader(mr.r, n), 1<<16)
		defer io.Copy(io.Discard, body) // whatever the loader left of the payload
	}
	info, err := rdb.Load(body, s.insertLoaded)
	if err == nil {
		// The master's libraries replace this node's, as in Redis.
		err = s.loadFunctions(info.Functions, "flush")
	}
	if err != nil {
		return fmt.Errorf("load the master's RDB: %w", err)
	}
	if mark != nil {
		got := make([]byte, len(mark))
		if _, err := io.ReadFull(mr.r, got); err != nil || !bytes.Equal(got, mark) {
			return errors.New("diskless RDB end mark mismatch")
		}
	}
	s.dirty.Add(1)
	return nil
}

// streamFromMaster applies the master's commands, forwarding the exact
// bytes to this node's own backlog and replicas (chained replication), and
// acknowledges the offset every second and on REPLCONF GETACK.
func (s *Server) streamFromMaster(ctx context.Context, mr *masterReader, conn net.Conn, w *bufio.Writer, timeout time.Duration) error {
	cl := s.internalClient()
	s.replica.applyMu.Lock()
	cl.db = s.replica.applied.db // a continued stream selected it already
	s.replica.applyMu.Unlock()
	var wmu sync.Mutex
	// written is the offset whose writes the AOF holds (per appendfsync):
	// what an ACK may claim, the periodic one included.
	var written atomic.Int64
	written.Store(s.repl.offsetA.Load())
	ack := func() error {
		wmu.Lock()
		defer wmu.Unlock()
		off := written.Load()
		w.Write(aof.AppendCommand(nil, []byte("REPLCONF"), []byte("ACK"), []byte(strconv.FormatInt(off, 10))))
		return w.Flush()
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if ack() != nil {
					conn.Close()
					return
				}
			}
		}
	}()
	ack()
	conn.SetReadDeadline(time.Now().Add(timeout))
	lastDeadline := time.Now()
	var argvBuf [][]byte
	for {
		if ctx.Err() != nil {
			// Replaced: not one more command from a master the record
			// no longer names, even one already buffered.
			return nil
		}
		if mr.r.Buffered() == 0 {
			if _, err := mr.r.Peek(1); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("read the replication stream: %w", err)
			}
		}
		// The clock once per batch, and the deadline (a timer update) at
		// most every 100 ms: a silent master still times out within
		// repl-timeout of its last byte, less 100 ms at worst.
		now := time.Now()
		s.replica.lastIO.Store(now.UnixMilli())
		if now.Sub(lastDeadline) >= 100*time.Millisecond {
			conn.SetReadDeadline(now.Add(timeout))
			lastDeadline = now
		}
		// Apply every whole command already read, under one hold of the
		// apply lock, and forward them as one append; a GETACK ends the
		// batch so that its ACK covers it.
		buf, _ := mr.r.Peek(mr.r.Buffered())
		used, boundary, bdb, getack := 0, -1, 0, false
		s.replica.applyMu.Lock()
		for used < len(buf) && !getack {
			argv, n, ok := parseBuffered(buf[used:], argvBuf[:0])
			if !ok {
				break // a partial or unusual command: readCommand below
			}
			argvBuf = argv
			getack = s.applyFromMaster(cl, argv)
			used += n
			if cl.multi == nil { // inside MULTI the data lags the offset until EXEC
				boundary, bdb = used, cl.db
			}
		}
		if used > 0 {
			// Forward exactly what the master sent: offsets stay equal
			// along a chain, as PSYNC2 needs.
			end := s.repl.forward(buf[:used])
			if boundary >= 0 {
				s.replica.applied = replPos{off: end - int64(used-boundary), db: bdb, valid: true}
			}
		}
		s.replica.applyMu.Unlock()
		clear(argvBuf[:cap(argvBuf)]) // no argument outlives its batch
		// The batch goes to the AOF per appendfsync before anything more is
		// read or acknowledged, as Redis flushes it before its next event
		// loop iteration: not only once a second, which a kill -9 right
		// after an acknowledged write would lose.
		s.syncAOF(cl)
		written.Store(s.repl.offsetA.Load())
		if used > 0 {
			mr.r.Discard(used)
			if getack {
				if err := ack(); err != nil {
					return err
				}
			}
			continue
		}
		// One command that is not wholly buffered (or is malformed): read
		// it on its own.
		argv, err := readCommand(mr)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read the replication stream: %w", err)
		}
		if len(argv) == 0 {
			continue
		}
		s.replica.applyMu.Lock()
		getack = s.applyFromMaster(cl, argv)
		end := s.repl.forward(mr.raw)
		if cl.multi == nil {
			s.replica.applied = replPos{off: end, db: cl.db, valid: true}
		}
		s.replica.applyMu.Unlock()
		s.syncAOF(cl)
		written.Store(s.repl.offsetA.Load())
		if getack {
			if err := ack(); err != nil {
				return err
			}
		}
	}
}

// applyFromMaster applies one command of the master's stream (not PING or
// REPLCONF) and reports whether it was REPLCONF GETACK. Callers hold
// replica.applyMu.
func (s *Server) applyFromMaster(cl *Client, argv [][]byte) (getack bool) {
	if eq(argv[0], "replconf") {
		return len(argv) >= 2 && eq(argv[1], "getack")
	}
	if !eq(argv[0], "ping") {
		s.call(cl, argv)
		s.track.Broadcast() // BCAST clients of the replica see the master's writes
	}
	return false
}

// parseBuffered parses the RESP multibulk command at the start of buf
// without copying: the arguments are slices of buf. ok is false unless buf
// starts with a whole, strictly well-formed command of at least one
// argument; readCommand then reads it (and reports any error) as before.
func parseBuffered(buf []byte, argv [][]byte) (_ [][]byte, n int, ok bool) {
	if len(buf) == 0 || buf[0] != '*' {
		return argv, 0, false
	}
	count, i, ok := parseRESPLen(buf, 1)
	if !ok || count < 1 || count > 1<<20 {
		return argv, 0, false
	}
	for range count {
		if i >= len(buf) || buf[i] != '$' {
			return argv, 0, false
		}
		size, j, ok := parseRESPLen(buf, i+1)
		if !ok || size > 512<<20 {
			return argv, 0, false
		}
		end := j + size
		if end+2 > len(buf) || buf[end] != '\r' || buf[end+1] != '\n' {
			return argv, 0, false
		}
		argv = append(argv, buf[j:end:end])
		i = end + 2
	}
	return argv, i, true
}

// parseRESPLen parses the decimal digits from buf[i] up to CRLF and returns
// the value and the index after the CRLF.
func parseRESPLen(buf []byte, i int) (v, next int, ok bool) {
	start := i
	for i < len(buf) && i-start < 10 && '0' <= buf[i] && buf[i] <= '9' {
		v = v*10 + int(buf[i]-'0')
		i++
	}
	if i == start || i+1 >= len(buf) || buf[i] != '\r' || buf[i+1] != '\n' {
		return 0, 0, false
	}
	return v, i + 2, true
}

// readCommand reads one RESP multibulk command (inline newlines skipped).
// The arguments live in mr.raw, valid until the next call: commands copy
// what they keep, as they do redcon's arguments.
func readCommand(mr *masterReader) ([][]byte, error) {
	mr.raw = mr.raw[:0]
	line, err := mr.rawLine()
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, nil
	}
	if line[0] != '*' {
		return nil, fmt.Errorf("protocol error: %q", line)
	}
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("protocol error: bad multibulk %q", line)
	}
	argv := mr.argv[:0]
	spans := mr.spans[:0]
	for range n {
		l, err := mr.rawLine()
		if err != nil {
			return nil, err
		}
		if len(l) == 0 || l[0] != '$' {
			return nil, fmt.Errorf("protocol error: expected bulk, got %q", l)
		}
		size, err := strconv.Atoi(string(l[1:]))
		if err != nil || size < 0 || int64(size) > int64(512<<20) {
			return nil, fmt.Errorf("protocol error: bad bulk length %q", l)
		}
		from := len(mr.raw)
		mr.raw = append(mr.raw, make([]byte, size+2)...)
		if _, err := io.ReadFull(mr.r, mr.raw[from:]); err != nil {
			return nil, err
		}
		spans = append(spans, [2]int{from, from + size})
	}
	// Sliced once raw stopped growing.
	for _, sp := range spans {
		argv = append(argv, mr.raw[sp[0]:sp[1]])
	}
	mr.argv, mr.spans = argv, spans
	return argv, nil
}

// forward appends bytes received from this node's master to its own stream
// (backlog and sub-replicas) unchanged and returns the offset after them.
func (l *replLog) forward(b []byte) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.appendStream(b)
	return l.offset
}

// infoReplicaFields are INFO replication's lines for a replica.
func (s *Server) infoReplicaFields(w *infoWriter) bool {
	rs := &s.replica
	rs.mu.Lock()
	host, port := rs.host, rs.port
	rs.mu.Unlock()
	if host == "" {
		return false
	}
	flag := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	status := "down"
	if rs.linkUp.Load() {
		status = "up"
	}
	w.str("role", "slave")
	w.str("master_host", host)
	w.int("master_port", int64(port))
	w.str("master_link_status", status)
	lastIO := int64(-1)
	if t := rs.lastIO.Load(); t > 0 {
		lastIO = (time.Now().UnixMilli() - t) / 1000
	}
	w.int("master_last_io_seconds_ago", lastIO)
	w.int("master_sync_in_progress", flag(rs.syncing.Load()))
	off := s.repl.offsetA.Load()
	w.int("slave_read_repl_offset", off)
	w.int("slave_repl_offset", off)
	w.int("slave_priority", s.cfg.Int("replica-priority"))
	w.int("slave_read_only", flag(rs.readOnly.Load()))
	w.int("replica_announced", 1)
	if msg := rs.linkErr.Load(); msg != nil && status == "down" {
		w.str("master_link_down_reason", strings.ReplaceAll(*msg, "\n", " "))
	}
	return true
}
