package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

// Full resynchronization, as a Redis 7 master does it: with
// repl-diskless-sync (the default) the snapshot streams straight to the
// replicas' sockets between "$EOF:<mark>" and the mark, and replicas that
// arrive within repl-diskless-sync-delay (or until -max-replicas of them
// wait) share one snapshot; otherwise the snapshot is written to a file
// and sent with its length. Either way the snapshot is the per-slot
// capture (no fork, no pause): writes after its cut wait in the shared
// stream from each replica's position.

// fullSyncs holds the diskless sync gathering replicas, if any.
type fullSyncs struct {
	mu      sync.Mutex
	waiting *syncBatch
	streams atomic.Int64 // diskless snapshots streamed (logs, tests)
}

// syncBatch is one diskless sync: the replicas that share a snapshot.
type syncBatch struct {
	replicas []*replica
	full     chan struct{} // closed when repl-diskless-sync-max-replicas wait
	isFull   bool
	finished chan struct{} // closed when errs is final
	errs     map[*replica]error
}

// errShuttingDown ends a full sync the server will not finish.
var errShuttingDown = errors.New("server shutting down")

// fullResync sends the replica a point-in-time RDB and the offset it
// stands for.
func (s *Server) fullResync(r *replica, replID string, oldSync bool) error {
	// SYNC (no PSYNC) predates capa eof: such a replica reads only the
	// length-prefixed form, as in Redis.
	if !oldSync && r.cl.replCapaEOF && s.cfg.Bool("repl-diskless-sync") {
		return s.disklessSync(r)
	}
	return s.diskSync(r, replID, oldSync)
}

// lockAllIdle locks every partition once no snapshot is in progress (one
// at a time: another replica's sync, BGSAVE, a rewrite is waited for, not
// failed on).
func (s *Server) lockAllIdle() (*keyspace.Tx, error) {
	for {
		tx := s.store.LockAll()
		done := s.store.SnapshotDone()
		if done == nil {
			return tx, nil
		}
		tx.Unlock()
		select {
		case <-s.done:
			return nil, errShuttingDown
		case <-done:
		}
	}
}

// disklessSync joins r to the gathering batch (starting one, and then
// running it, when there is none) and waits for the batch's outcome.
func (s *Server) disklessSync(r *replica) error {
	fs := &s.syncs
	fs.mu.Lock()
	b := fs.waiting
	leader := b == nil
	if leader {
		b = &syncBatch{full: make(chan struct{}), finished: make(chan struct{})}
		fs.waiting = b
	}
	b.replicas = append(b.replicas, r)
	if limit := s.cfg.Int("repl-diskless-sync-max-replicas"); limit > 0 && int64(len(b.replicas)) >= limit && !b.isFull {
		b.isFull = true
		close(b.full)
	}
	fs.mu.Unlock()
	if !leader {
		select {
		case <-b.finished:
			return b.errs[r]
		case <-s.done:
			return errShuttingDown
		}
	}
	if delay := time.Duration(s.cfg.Int("repl-diskless-sync-delay")) * time.Second; delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-b.full:
		case <-s.done:
		}
		t.Stop()
	}
	fs.mu.Lock()
	fs.waiting = nil // later arrivals gather for the next snapshot
	fs.mu.Unlock()
	select {
	case <-s.done:
		b.errs = map[*replica]error{}
		for _, r := range b.replicas {
			b.errs[r] = errShuttingDown
		}
	default:
		b.errs = s.runDisklessBatch(b.replicas)
	}
	close(b.finished)
	return b.errs[r]
}

// runDisklessBatch streams one snapshot to every replica of the batch and
// returns the replicas it failed for (nil for the others).
func (s *Server) runDisklessBatch(rs []*replica) map[*replica]error {
	errs := make(map[*replica]error, len(rs))
	failAll := func(err error) map[*replica]error {
		for _, r := range rs {
			if errs[r] == nil {
				errs[r] = err
			}
		}
		return errs
	}
	start := time.Now()
	s.syncs.streams.Add(1)
	fan := &fanout{timeout: time.Duration(max(s.cfg.Int("repl-timeout"), 1)) * time.Second, errs: errs}
	for _, r := range rs {
		fan.conns = append(fan.conns, fanConn{r: r, nc: r.conn.NetConn()})
	}
	bw := bufio.NewWriterSize(fan, 256<<10)
	mark := newReplID() // 40 random hex characters, as Redis's mark
	usedMem := heapInUse()
	tx, err := s.lockAllIdle()
	if err != nil {
		return failAll(err)
	}
	// One cut for the snapshot and the stream: no write can happen while
	// every partition is locked, and each write streams under its locks.
	l := &s.repl
	l.mu.Lock()
	off, id := l.offset, l.id
	for _, r := range rs {
		r.pos, r.gen = streamPos{blk: l.tail, off: off}, l.gen
		r.sent.Store(off)
		l.replicas[r] = struct{}{}
	}
	l.lastDB = -1 // the replicas start in db 0: the next write must SELECT
	l.mu.Unlock()
	// Buffered: nothing reaches a socket while the partitions are locked.
	fmt.Fprintf(bw, "+FULLRESYNC %s %d\r\n$EOF:%s\r\n", id, off, mark)
	finish, err := s.beginSnapshot(tx, bw, snapshotOpts{asRDB: true, usedMem: usedMem})
	tx.Unlock()
	if err != nil {
		return failAll(fmt.Errorf("full resync: %w", err))
	}
	err = finish() // ends the snapshot whatever happens to the sockets
	if err == nil {
		_, err = bw.WriteString(mark)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return failAll(fmt.Errorf("diskless full resync: %w", err))
	}
	// Each replica goes online at its first REPLCONF ACK (runReplica): one
	// reading the payload up to the end mark must not find stream bytes
	// after it (Redis's repl_put_online_on_ack).
	s.log.Info("diskless synchronization with replicas succeeded", "replicas", len(fan.conns), "failed", len(rs)-len(fan.conns),
		"rdb_bytes", fan.n, "offset", off, "ms", time.Since(start).Milliseconds())
	return errs
}

// fanout writes the same bytes to several replicas' sockets; a replica
// whose write fails is left out from then on (its error recorded), and
// the writes fail only when none is left.
type fanout struct {
	conns   []fanConn
	timeout time.Duration
	errs    map[*replica]error
	n       int64 // bytes written
}

type fanConn struct {
	r  *replica
	nc net.Conn
}

func (f *fanout) Write(p []byte) (int, error) {
	live := f.conns[:0]
	for _, c := range f.conns {
		c.nc.SetWriteDeadline(time.Now().Add(f.timeout))
		if _, err := c.nc.Write(p); err != nil {
			f.errs[c.r] = fmt.Errorf("send the RDB: %w", err)
			c.nc.Close()
			continue
		}
		live = append(live, c)
	}
	f.conns = live
	if len(live) == 0 {
		return 0, errors.New("every replica of the sync failed")
	}
	f.n += int64(len(p))
	return len(p), nil
}

// goOnline lets the replica's pending stream flow: once its RDB is sent,
// or, for a diskless one, at its first REPLCONF ACK (it has loaded it).
func (r *replica) goOnline() {
	r.loadedOnce.Do(func() {
		r.mu.Lock()
		r.online = true
		r.mu.Unlock()
		close(r.loaded)
	})
}

// diskSync writes the snapshot to a file and sends it with its length
// (repl-diskless-sync no, or a replica without capa eof).
func (s *Server) diskSync(r *replica, replID string, oldSync bool) error {
	l := &s.repl
	tmp := filepath.Join(s.cfg.Get("dir"), fmt.Sprintf("temp-repl-%d-%d.rdb", os.Getpid(), time.Now().UnixNano()))
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("full resync: %w", err)
	}
	defer os.Remove(tmp)
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	usedMem := heapInUse()
	tx, err := s.lockAllIdle()
	if err != nil {
		return err
	}
	l.mu.Lock()
	off := l.offset
	r.pos, r.gen = streamPos{blk: l.tail, off: off}, l.gen
	r.sent.Store(off)
	l.replicas[r] = struct{}{}
	l.lastDB = -1 // the replica starts in db 0: the next write must SELECT
	l.mu.Unlock()
	finish, err := s.beginSnapshot(tx, bw, snapshotOpts{asRDB: true, usedMem: usedMem})
	tx.Unlock()
	if err != nil {
		return fmt.Errorf("full resync: %w", err)
	}
	// The snapshot is written (and so ended) before anything can fail: a
	// snapshot left running would hold every later one.
	snapErr := finish()
	if !oldSync {
		r.conn.WriteRaw([]byte(fmt.Sprintf("+FULLRESYNC %s %d\r\n", replID, off)))
		if err := r.conn.Flush(); err != nil {
			return err
		}
	}
	if snapErr != nil {
		return fmt.Errorf("full resync snapshot: %w", snapErr)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("full resync snapshot: %w", err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	nc := r.conn.NetConn()
	if _, err := nc.Write([]byte("$" + strconv.FormatInt(size, 10) + "\r\n")); err != nil {
		return err
	}
	if _, err := io.Copy(nc, f); err != nil {
		return fmt.Errorf("send the RDB: %w", err)
	}
	s.log.Info("synchronization with replica succeeded", "replica", r.cl.addr, "rdb_bytes", size, "offset", off)
	r.goOnline()
	return nil
}
