// Package slotmove is the data mover of an atomic slot migration, on the
// source master: a point-in-time copy of the slots (the keyspace's
// per-slot snapshot capture, as AOF commands) followed by every write to
// them in apply order, streamed over one RESP connection to the target
// master, which applies it through its normal write path (its AOF and
// replicas follow). When the target has caught up, the source pauses
// the slots' commands and reports; the Raft leader flips ownership in one
// command, and the control plane ends the stream (Stop). The package
// knows neither Raft nor the node: both come in through Node and Config.
package slotmove

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace/aof"
	"github.com/wardenkv/warden/slotmap"
)

// Sink receives the slots' data under their locks (node.SlotSink).
type Sink = interface {
	Snapshot(db, n int, cmds []byte)
	Reserve(db int) (fill func(cmds []byte))
	Write(db int, resp []byte)
	Abort(err error)
}

// Node is the source data node's side (node.Server implements it).
type Node interface {
	StreamSlots(slots *[slotmap.NumSlots]bool, sink Sink, between func()) (walk func(), err error)
	PauseSlots(ctx context.Context) error
}

// Progress is what a source reports about its migration.
type Progress struct {
	Keys, Bytes int64
	// Paused and CaughtUp: the slots' commands are held and the target
	// (and, within a bound, its replicas) applied every write to them.
	Paused, CaughtUp bool
}

// Config is one migration's source.
type Config struct {
	ID     uint64
	Slots  []slotmap.Range
	Target string // target master's RESP host:port
	// User and Password authenticate to the target ("" user: AUTH password).
	User, Password string
	TLS            *tls.Config
	// Replicas is how many replicas the target has: the source waits (a
	// bounded time) for them to acknowledge the stream before reporting.
	Replicas int
	// Report is called on progress and once caught up; it may block
	// briefly (an HTTP call to the leader).
	Report func(Progress)
	Log    *slog.Logger
}

// Limits of the stream.
const (
	// queueHigh: the snapshot walk waits while this much is unsent, so a
	// slow target slows the copy, never the source's commands.
	queueHigh = 8 << 20
	// queueMax: writes arriving faster than the target takes them for
	// this long fail the migration rather than grow without bound.
	queueMax = 512 << 20
	// pauseWait bounds waiting for commands already running on the
	// slots when pausing.
	pauseWait = 5 * time.Second
	ackPrefix = "warden-slotmove-ack:"
)

// Source streams one migration. Run it once.
type Source struct {
	cfg  Config
	node Node
	log  *slog.Logger

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []chunk
	queued   int64 // bytes in queue
	unfilled int   // reserved chunks not filled yet
	lastDB   int
	seq      int64 // chunks enqueued
	acked    int64 // highest seq the target acknowledged
	failed   error
	stopped  bool

	keys, bytes atomic.Int64
}

// chunk is a piece of the stream: bytes, or a place reserved for a big
// key's copy (Reserve) that the sender waits at until it is filled.
type chunk struct {
	b []byte
	r *reserved
}

type reserved struct {
	b      []byte
	filled bool
}

// New prepares a source for cfg on node.
func New(node Node, cfg Config) *Source {
	s := &Source{cfg: cfg, node: node, log: cfg.Log, lastDB: -1}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "slotmove", "migration", cfg.ID)
	s.cond = sync.NewCond(&s.mu)
	return s
}

// Snapshot implements the node's sink: one slot's keys (AOF commands
// starting with SELECT). Runs under the slot's lock.
func (s *Source) Snapshot(db, n int, cmds []byte) {
	s.mu.Lock()
	s.lastDB = db
	s.push(cmds)
	s.mu.Unlock()
	s.keys.Add(int64(n))
}

// Reserve implements the node's sink: the place of a big key's copy,
// filled later with no lock held. Runs under the slot's lock.
func (s *Source) Reserve(db int) func(cmds []byte) {
	r := &reserved{}
	s.mu.Lock()
	s.lastDB = db // the copy starts with its SELECT
	queued := !s.stopped && s.failed == nil
	if queued {
		s.queue = append(s.queue, chunk{r: r})
		s.unfilled++
		s.seq++
		s.cond.Broadcast()
	}
	s.mu.Unlock()
	return func(cmds []byte) {
		s.mu.Lock()
		r.b, r.filled = cmds, true
		if queued {
			s.unfilled--
		}
		s.cond.Broadcast()
		s.mu.Unlock()
		s.keys.Add(1)
	}
}

// Write implements the node's sink: one write to the slots. Runs under
// the key's lock, so the queue's order is the apply order.
func (s *Source) Write(db int, resp []byte) {
	s.mu.Lock()
	if db != s.lastDB {
		s.push(aof.AppendCommand(nil, []byte("SELECT"), []byte(strconv.Itoa(db))))
		s.lastDB = db
	}
	s.push(resp)
	if s.queued > queueMax && s.failed == nil {
		s.failed = fmt.Errorf("target too slow: %d bytes unsent", s.queued)
	}
	s.mu.Unlock()
}

func (s *Source) push(b []byte) {
	if s.stopped || s.failed != nil {
		return
	}
	s.queue = append(s.queue, chunk{b: b})
	s.queued += int64(len(b))
	s.seq++
	s.cond.Broadcast()
}

// Abort implements the node's sink: a write the stream cannot carry
// fails the migration.
func (s *Source) Abort(err error) { s.fail(err) }

func (s *Source) fail(err error) {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Run streams until ctx ends (the control plane cancels it once the
// record resolved the migration). It returns the error that ended the
// stream early; after a report of CaughtUp it only returns at ctx's end.
func (s *Source) Run(ctx context.Context) error {
	conn, r, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.stopped = true
		s.cond.Broadcast()
		s.mu.Unlock()
		conn.Close()
	})
	defer stop()
	go s.readAcks(r)
	go s.send(conn)

	set := new([slotmap.NumSlots]bool)
	for _, rg := range s.cfg.Slots {
		for i := rg.Start; i <= rg.End; i++ {
			set[i] = true
		}
	}
	walk, err := s.node.StreamSlots(set, s, s.pace)
	if err != nil {
		return err
	}
	walk()
	s.log.Info("slot snapshot captured", "keys", s.keys.Load(), "bytes", s.bytes.Load())
	// Let the target and its replicas catch up with the copy, then with
	// the writes since, before pausing: the pause only covers the tail.
	for range 2 {
		if s.cfg.Replicas > 0 {
			s.mu.Lock()
			s.push(aof.AppendCommand(nil, []byte("WAIT"), []byte(strconv.Itoa(s.cfg.Replicas)), []byte("5000")))
			s.mu.Unlock()
		}
		if err := s.waitAcked(ctx, s.mark()); err != nil {
			return err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, pauseWait)
	err = s.node.PauseSlots(pctx)
	cancel()
	if err != nil {
		return fmt.Errorf("pause slots: %w", err)
	}
	paused := time.Now()
	s.mu.Lock()
	s.push(aof.AppendCommand(nil, []byte("CLUSTER"), []byte("SYNCSLOTS"), []byte("FINAL")))
	s.mu.Unlock()
	if s.cfg.Replicas > 0 {
		s.mu.Lock()
		s.push(aof.AppendCommand(nil, []byte("WAIT"), []byte(strconv.Itoa(s.cfg.Replicas)), []byte("1000")))
		s.mu.Unlock()
	}
	if err := s.waitAcked(ctx, s.mark()); err != nil {
		return err
	}
	s.log.Info("target caught up with the paused slots", "keys", s.keys.Load(), "bytes", s.bytes.Load(),
		"catch_up", time.Since(paused))
	p := s.progress()
	p.Paused, p.CaughtUp = true, true
	s.report(p)
	// Keep the stream (expiries still flow) and re-report until the
	// record resolves the migration and ctx ends.
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.report(p)
		}
	}
}

func (s *Source) progress() Progress {
	return Progress{Keys: s.keys.Load(), Bytes: s.bytes.Load()}
}

func (s *Source) report(p Progress) {
	if s.cfg.Report != nil {
		s.cfg.Report(p)
	}
}

// pace runs between captured slots, no lock held: it holds the walk
// while the target is behind, and reports progress now and then. Not
// while a reserved copy is unfilled: the walk fills it, and the sender
// waits for that.
func (s *Source) pace() {
	s.mu.Lock()
	for s.queued > queueHigh && s.unfilled == 0 && s.failed == nil && !s.stopped {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

// mark enqueues an acknowledgement marker and returns its number.
func (s *Source) mark() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.seq + 1
	s.push(aof.AppendCommand(nil, []byte("ECHO"), []byte(ackPrefix+strconv.FormatInt(n, 10))))
	return n
}

func (s *Source) waitAcked(ctx context.Context, n int64) error {
	last := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.acked < n {
		if s.failed != nil {
			return s.failed
		}
		if s.stopped || ctx.Err() != nil {
			return context.Cause(ctx)
		}
		s.cond.Wait()
		if time.Since(last) > 500*time.Millisecond {
			last = time.Now()
			p := s.progress()
			s.mu.Unlock()
			s.report(p)
			s.mu.Lock()
		}
	}
	return nil
}

// send writes the queue to the target, a marker after every batch so
// progress is acknowledged.
func (s *Source) send(conn net.Conn) {
	w := bufio.NewWriterSize(conn, 256<<10)
	var since time.Time
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && s.failed == nil && !s.stopped {
			s.cond.Wait()
		}
		if s.failed != nil || s.stopped {
			s.mu.Unlock()
			return
		}
		batch := s.queue
		s.queue = nil
		n := s.queued
		s.queued = 0
		s.cond.Broadcast() // the walk may go on
		s.mu.Unlock()
		for _, c := range batch {
			b := c.b
			if c.r != nil {
				if b = s.awaitFill(w, c.r); b == nil {
					return
				}
				n += int64(len(b))
			}
			if _, err := w.Write(b); err != nil {
				s.fail(fmt.Errorf("stream to %s: %w", s.cfg.Target, err))
				return
			}
		}
		if err := w.Flush(); err != nil {
			s.fail(fmt.Errorf("stream to %s: %w", s.cfg.Target, err))
			return
		}
		s.bytes.Add(n)
		if time.Since(since) > 500*time.Millisecond {
			since = time.Now()
			if s.cfg.Report != nil {
				go s.cfg.Report(s.progress())
			}
		}
	}
}

// awaitFill returns a reserved chunk's bytes once filled (what is buffered
// goes out meanwhile), or nil when the stream ended first.
func (s *Source) awaitFill(w *bufio.Writer, r *reserved) []byte {
	s.mu.Lock()
	filled := r.filled
	s.mu.Unlock()
	if !filled {
		if err := w.Flush(); err != nil {
			s.fail(fmt.Errorf("stream to %s: %w", s.cfg.Target, err))
			return nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for !r.filled && s.failed == nil && !s.stopped {
		s.cond.Wait()
	}
	if s.failed != nil || s.stopped {
		return nil
	}
	return r.b
}

// readAcks reads the target's replies: errors fail the migration, ack
// markers advance acked.
func (s *Source) readAcks(r *bufio.Reader) {
	for {
		v, isErr, err := readReply(r, 0)
		if err != nil {
			s.fail(fmt.Errorf("read from target %s: %w", s.cfg.Target, err))
			return
		}
		if isErr {
			s.fail(fmt.Errorf("target %s refused the stream: %s", s.cfg.Target, v))
			return
		}
		if n, ok := strings.CutPrefix(v, ackPrefix); ok {
			if seq, err := strconv.ParseInt(n, 10, 64); err == nil {
				s.mu.Lock()
				s.acked = max(s.acked, seq)
				s.cond.Broadcast()
				s.mu.Unlock()
			}
		}
	}
}

// connect dials the target, authenticates and announces the migration
// (the target clears the slots and takes the stream unrouted). The
// target may not have applied the migration record yet: retry a while.
func (s *Source) connect(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, r, err := s.handshake(ctx)
		if err == nil {
			return conn, r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, nil, err
		}
		s.log.Info("slot stream handshake failed, retrying", "target", s.cfg.Target, "err", err)
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Source) handshake(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	var conn net.Conn
	var err error
	if s.cfg.TLS != nil {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: s.cfg.TLS}).DialContext(ctx, "tcp", s.cfg.Target)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.cfg.Target)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dial target %s: %w", s.cfg.Target, err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	cmd := func(args ...string) error {
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		conn.SetDeadline(time.Now().Add(60 * time.Second))
		defer conn.SetDeadline(time.Time{})
		if _, err := conn.Write(aof.AppendCommand(nil, bs...)); err != nil {
			return err
		}
		v, isErr, err := readReply(r, 0)
		if err != nil {
			return err
		}
		if isErr {
			return fmt.Errorf("%s: %s", args[0], v)
		}
		return nil
	}
	if s.cfg.Password != "" {
		args := []string{"AUTH", s.cfg.Password}
		if s.cfg.User != "" {
			args = []string{"AUTH", s.cfg.User, s.cfg.Password}
		}
		if err := cmd(args...); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	if err := cmd("CLUSTER", "SYNCSLOTS", "ESTABLISH", strconv.FormatUint(s.cfg.ID, 10)); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, r, nil
}

// readReply reads one RESP2 reply; it returns a simple/bulk string's
// text (or the error's), and skips arrays' elements (an error inside
// EXEC's array is the command's, not the stream's).
func readReply(r *bufio.Reader, depth int) (string, bool, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", false, err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", false, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], false, nil
	case '-':
		return line[1:], depth == 0, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", false, fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", false, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", false, err
		}
		return string(b[:n]), false, nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", false, fmt.Errorf("bad array length %q", line)
		}
		for range max(n, 0) {
			if _, _, err := readReply(r, depth+1); err != nil {
				return "", false, err
			}
		}
		return "", false, nil
	}
	return "", false, fmt.Errorf("unexpected reply %q", line)
}
