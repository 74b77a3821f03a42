package node

import (
	"net"
	"sync"
)

// streamBlockSize is the size of one piece of the replication stream.
const streamBlockSize = 64 << 10

// streamBlock is one piece of the replication stream. The backlog and every
// replica share the blocks, as Redis 7's replication buffer does: a write is
// encoded once into the tail block and each replica's sender writes straight
// from the blocks it has not sent yet. Bytes below the log's offset are never
// written again, so senders read them without the lock (the lock they took to
// learn the offset orders them); blocks that neither the backlog nor any
// replica reaches any more are left to the GC.
type streamBlock struct {
	start int64  // stream offset of data[0]
	data  []byte // fixed length, filled up to the next block's start or the log's offset
	next  *streamBlock
}

// streamPos is a reader's place in the stream.
type streamPos struct {
	blk *streamBlock
	off int64
}

// gather appends to vec the stream bytes from p up to end and moves p there.
// end must not pass the offset the caller read under the log's lock.
func (p *streamPos) gather(vec net.Buffers, end int64) net.Buffers {
	for p.off < end {
		b := p.blk
		i := p.off - b.start
		if i == int64(len(b.data)) {
			p.blk = b.next
			continue
		}
		j := min(int64(len(b.data)), end-b.start)
		vec = append(vec, b.data[i:j])
		p.off += j - i
	}
	return vec
}

// resetStream starts an empty stream (and backlog) at offset off.
// Callers hold l.mu.
func (l *replLog) resetStream(off int64) {
	l.gen++ // replicas fed from the old stream must sync again
	l.offset, l.histlen = off, 0
	l.offsetA.Store(off)
	if l.size > 0 {
		b := &streamBlock{start: off, data: make([]byte, streamBlockSize)}
		l.head, l.tail = b, b
	}
}

// appendStream adds bytes to the stream, shared by the backlog and every
// replica, and wakes the idle senders. Callers hold l.mu.
func (l *replLog) appendStream(b []byte) {
	n := int64(len(b))
	if l.tail == nil { // no backlog: the offset still counts
		l.offset += n
		l.offsetA.Store(l.offset)
		return
	}
	for len(b) > 0 {
		t := l.tail
		used := l.offset - t.start
		if used == int64(len(t.data)) {
			nb := &streamBlock{start: l.offset, data: make([]byte, max(streamBlockSize, len(b)))}
			t.next, l.tail = nb, nb
			l.trimBacklog()
			l.dropOverflowing()
			continue
		}
		k := copy(t.data[used:], b)
		b = b[k:]
		l.offset += int64(k)
	}
	l.histlen = min(l.histlen+n, l.size)
	l.offsetA.Store(l.offset)
	l.wakeSenders()
}

// wakeSenders wakes the senders waiting for data: one wake-up per batch,
// not per write. Callers hold l.mu.
func (l *replLog) wakeSenders() {
	if l.dataCh != nil {
		close(l.dataCh)
		l.dataCh = nil
	}
}

// trimBacklog lets go of the blocks wholly before the last repl-backlog-size
// bytes. Callers hold l.mu.
func (l *replLog) trimBacklog() {
	for l.head.next != nil && l.offset-l.head.next.start >= l.size {
		l.head = l.head.next
	}
}

// dropOverflowing disconnects the replicas that are more than
// client-output-buffer-limit replica behind, as Redis does. The close runs
// on its own goroutine: the caller holds l.mu and the writing command's
// partition locks. Callers hold l.mu.
func (l *replLog) dropOverflowing() {
	limit := l.outLimit
	if limit == 0 {
		limit = replicaOutputLimit
	}
	for r := range l.replicas {
		if l.offset-r.sent.Load() > limit && !r.overflowed.Swap(true) {
			go r.cut()
		}
	}
}

// cut closes a replica's socket from any goroutine. Not the redcon
// connection's Close: that flushes first, and so waits for the sender's
// write to a replica that does not read (until repl-timeout).
func (r *replica) cut() {
	socketOf(r.conn.NetConn()).Close()
}

// posAt returns a reader's position at offset off, or false when those bytes
// are no longer (or not yet) in the backlog. Callers hold l.mu.
func (l *replLog) posAt(off int64) (streamPos, bool) {
	if l.head == nil || off < l.offset-l.histlen || off > l.offset {
		return streamPos{}, false
	}
	b := l.head
	for b.next != nil && b.next.start <= off {
		b = b.next
	}
	return streamPos{blk: b, off: off}, true
}

// waitData returns a channel closed when the stream grows past the offset
// the caller just read. Callers hold l.mu.
func (l *replLog) waitData() <-chan struct{} {
	if l.dataCh == nil {
		l.dataCh = make(chan struct{})
	}
	return l.dataCh
}

// requestAck asks the replicas for a REPLCONF ACK (WAIT). Requests coalesce
// until a sender puts one GETACK in the stream after the writes it sends,
// as Redis sends one per event loop iteration whatever the number of WAITs.
func (l *replLog) requestAck() {
	l.ackRequests.Add(1)
	if l.ackWanted.Load() {
		return
	}
	l.mu.Lock()
	if !l.ackWanted.Load() {
		l.ackWanted.Store(true)
		l.wakeSenders()
	}
	l.mu.Unlock()
}

// getackCmd is REPLCONF GETACK *, as Redis sends it.
var getackCmd = []byte("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n")

// takeAckRequest puts the pending GETACK, if any, at the end of the stream.
// Callers hold l.mu.
func (l *replLog) takeAckRequest() {
	if l.ackWanted.Load() {
		l.ackWanted.Store(false)
		l.getacksSent.Add(1)
		l.appendStream(getackCmd)
	}
}

// acked counts the replicas that acknowledged offset target.
func (l *replLog) acked(target int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int64(0)
	for r := range l.replicas {
		if r.ackOffset.Load() >= target {
			n++
		}
	}
	return n
}

// broadcast wakes every goroutine waiting for an event (a replica's ACK)
// at once, without a timer.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify. Take it before checking
// the condition waited for, so a notify in between is not missed.
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) notify() {
	b.mu.Lock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
	b.mu.Unlock()
}
