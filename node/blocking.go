package node

import (
	"math"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

// blockSpec describes a client blocked on keys (BLPOP, BLMOVE, BZPOPMIN,
// ...). The server that makes one of the keys ready performs the operation on
// the client's behalf under the keys' locks (so the element is never seen by
// anyone else) and hands the result over; the client goroutine only writes it.
type blockSpec struct {
	w     keyspace.Waiter
	cl    *Client
	db    int
	keys  [][]byte
	extra [][]byte // other keys the operation writes (BLMOVE destination)
	// deadline is zero for "block forever".
	deadline time.Time
	// ready reports whether the operation can run now on key.
	ready func(v keyspace.View, key []byte) bool
	// serve performs it (with propagation) and returns the reply data.
	serve func(v keyspace.View, key []byte) any
	// reply writes the result; reply(nil) is the timeout reply.
	reply  func(c *Ctx, result any)
	result chan any
}

// Block parks the client after the handler returns: the caller has found
// nothing to serve and keys are still locked, so no push can slip between the
// check and the registration.
func (c *Ctx) Block(timeout time.Duration, keys, extra [][]byte,
	ready func(v keyspace.View, key []byte) bool,
	serve func(v keyspace.View, key []byte) any,
	reply func(c *Ctx, result any)) {
	b := &blockSpec{cl: c.cl, db: c.DB.ID(), ready: ready, serve: serve, reply: reply, result: make(chan any, 1)}
	b.w.Data = b
	if timeout > 0 {
		b.deadline = time.Now().Add(timeout)
	}
	for _, k := range keys {
		kc := append([]byte(nil), k...)
		b.keys = append(b.keys, kc)
		c.DB.AddWaiter(kc, &b.w)
	}
	for _, k := range extra {
		b.extra = append(b.extra, append([]byte(nil), k...))
	}
	c.block = b
}

// ParseTimeout parses a blocking timeout in seconds (fractions allowed) the
// way Redis 7.0 does: the value is truncated to whole milliseconds (so 0.0001
// blocks forever, like 0), and values too large for a millisecond count
// (including inf) are reported as negative, as Redis's conversion makes them.
// A zero duration means no timeout.
func (c *Ctx) ParseTimeout(arg []byte) (time.Duration, bool) {
	f, err := strconv.ParseFloat(string(arg), 64)
	if (err != nil && !math.IsInf(f, 0)) || math.IsNaN(f) || len(arg) == 0 {
		c.Err(errTimeout)
		return 0, false
	}
	ms := f * 1000
	if ms >= math.MaxInt64 || ms <= math.MinInt64 || int64(ms) < 0 {
		c.Err(errNegTimeout)
		return 0, false
	}
	tval := int64(ms)
	if tval > math.MaxInt64-time.Now().UnixMilli() {
		c.Err("ERR timeout is out of range")
		return 0, false
	}
	if tval > int64(math.MaxInt64/time.Millisecond) {
		return 0, true // longer than time.Duration holds: forever in practice
	}
	return time.Duration(tval) * time.Millisecond, true
}

// waitBlocked waits for the client's blockSpec to be served, time out, or the
// client to be killed, then writes the reply.
func (s *Server) waitBlocked(c *Ctx) {
	b := c.block
	c.block = nil
	cl := c.cl
	// CLIENT UNBLOCK finds the channel from the moment flags show b.
	unblock := make(chan bool, 1)
	cl.unblock.Store(&unblock)
	cl.blocked.Store(true)
	s.stats.blockedClients.Add(1)
	cl.flush() // replies before the blocking command must reach the client
	var timer <-chan time.Time
	if !b.deadline.IsZero() {
		t := time.NewTimer(time.Until(b.deadline))
		defer t.Stop()
		timer = t.C
	}
	gone := make(chan struct{})
	stopWatch := watchHangup(cl, gone)
	var res any
	got, unblockErr := false, false
	select {
	case res = <-b.result:
		got = true
	case unblockErr = <-unblock:
	case <-timer:
	case <-cl.killed:
	case <-gone:
		cl.Kill()
	}
	// Cancel unless a server already claimed this client (then its result
	// is on the way) or cancelled it (a hung-up client found while serving).
	if !got && !b.w.Cancel() && b.w.Served() {
		res = <-b.result
	}
	cl.unblock.Store(nil)
	stopWatch()
	if got {
		// The element was moved and propagated by another goroutine: the
		// reply waits for the AOF to reach it too.
		cl.aofPending = s.aofEnd.Load()
	}
	s.stats.blockedClients.Add(-1)
	cl.blocked.Store(false)
	// Leave every queue this client was waiting in.
	lk := make([]keyspace.Key, 0, len(b.keys))
	for _, k := range b.keys {
		lk = append(lk, keyspace.Key{DB: b.db, Key: k})
	}
	tx := s.store.Lock(lk)
	v := tx.DB(b.db)
	for _, k := range b.keys {
		v.RemoveWaiter(k, &b.w)
	}
	tx.Unlock()
	if unblockErr && res == nil {
		c.Err(errUnblocked)
		return
	}
	b.reply(c, res)
}

// serveReady hands elements of keys that became ready to the clients
// blocked on them, oldest first.
func (s *Server) serveReady(ready []keyspace.ReadyKey) {
	for len(ready) > 0 {
		rk := ready[0]
		ready = ready[1:]
		key := []byte(rk.Key)
		for {
			more, again := s.serveOne(rk.DB, key)
			ready = append(ready, more...)
			if !again {
				break
			}
		}
	}
}

// serveOne serves the first client blocked on key, if it can be served now.
// It reports keys made ready in turn and whether to try the next client.
func (s *Server) serveOne(db int, key []byte) (ready []keyspace.ReadyKey, again bool) {
	tx := s.store.Lock1(db, key)
	tx.TrackWrites() // a served pop changes the value in place
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("serving a blocked client panicked", "key", string(key), "panic", r, "stack", string(debug.Stack()))
			again = false
		}
		ready = append(ready, tx.Unlock()...)
	}()
	readyOn := func(v keyspace.View) func(*keyspace.Waiter) bool {
		return func(w *keyspace.Waiter) bool { return w.Data.(*blockSpec).ready(v, key) }
	}
	// The oldest client the key can serve: with streams, clients blocked
	// after a later ID than the new entries keep waiting behind others.
	w := tx.DB(db).FirstReadyWaiter(key, readyOn(tx.DB(db)))
	if w == nil {
		return nil, false
	}
	b := w.Data.(*blockSpec)
	if len(b.extra) > 0 {
		// Relock with the destination keys too, then make sure the same
		// client is still first.
		ready = append(ready, tx.Unlock()...)
		lk := []keyspace.Key{{DB: db, Key: key}}
		for _, k := range b.extra {
			lk = append(lk, keyspace.Key{DB: b.db, Key: k})
		}
		tx = s.store.Lock(lk)
		tx.TrackWrites()
		if tx.DB(db).FirstReadyWaiter(key, readyOn(tx.DB(db))) != w {
			return ready, true
		}
	}
	v := tx.DB(db)
	if !b.ready(v, key) {
		return ready, false
	}
	if hungUp(b.cl) {
		// Never hand an element to a client that has gone away.
		w.Cancel()
		b.cl.Kill()
		return ready, true
	}
	if w.Claim() {
		// The claimed client must get an answer even if serve panics.
		var res any
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("serving a blocked client panicked", "key", string(key), "panic", r, "stack", string(debug.Stack()))
					res = nil
				}
			}()
			res = b.serve(v, key)
		}()
		b.result <- res
	}
	return ready, true
}

// hungUp reports whether a blocked client's peer has closed its connection.
// It peeks at the socket without consuming anything: while the client is
// blocked nobody else reads it.
func hungUp(cl *Client) bool {
	select {
	case <-cl.killed:
		return true
	default:
	}
	sc, ok := socketOf(cl.netConn).(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	// Control, not Read: the hang-up watcher may be parked in Read holding
	// the descriptor's read lock.
	gone := false
	err = rc.Control(func(fd uintptr) { gone = peekHangup(fd) == hangup })
	return gone || err != nil
}

type peekResult int

const (
	noData peekResult = iota
	hasData
	hangup
)

func peekHangup(fd uintptr) peekResult {
	var buf [1]byte
	n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case err == nil && n == 0:
		return hangup // orderly shutdown by the peer
	case err == nil:
		return hasData
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return noData
	}
	return hangup // reset and other socket errors
}

// watchHangup closes gone if the blocked client's peer hangs up, so the
// client stops waiting (and stops counting as blocked) at once. The returned
// function stops the watch before the connection is read again.
func watchHangup(cl *Client, gone chan struct{}) (stop func()) {
	sc, ok := socketOf(cl.netConn).(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rc.Read(func(fd uintptr) bool {
			switch peekHangup(fd) {
			case noData:
				return false // wait until the socket is readable
			case hangup:
				close(gone)
			}
			return true // hung up, or the client sent more commands
		})
	}()
	return func() {
		// A past deadline makes the pending Read return; then clear it for
		// the connection's normal reads.
		cl.netConn.SetReadDeadline(time.Now())
		<-done
		cl.netConn.SetReadDeadline(time.Time{})
	}
}
