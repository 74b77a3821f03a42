package node

import "sync"

// ackWaiters are the WAITs blocked on replica acknowledgements. The
// goroutine reading a replica's REPLCONF ACK completes the WAITs the ACK
// satisfies, handing each its count, so a waiter wakes once, when it can
// reply, and never recounts the replicas itself (Redis unblocks them the
// same way, from the ACK).
type ackWaiters struct {
	mu   sync.Mutex
	list []*ackWaiter
	offs []int64 // scratch: the replicas' ACK offsets
}

// ackWaiter is one WAIT: want replicas must acknowledge target.
type ackWaiter struct {
	target, want int64
	done         chan int64 // the count, sent once (buffered)
}

func (w *ackWaiters) add(a *ackWaiter) {
	w.mu.Lock()
	w.list = append(w.list, a)
	w.mu.Unlock()
}

// remove takes a back; false when an ACK completed it first (its count is
// then in done).
func (w *ackWaiters) remove(a *ackWaiter) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, x := range w.list {
		if x == a {
			last := len(w.list) - 1
			w.list[i], w.list[last] = w.list[last], nil
			w.list = w.list[:last]
			return true
		}
	}
	return false
}

// ackArrived completes the waiters that the replicas' ACK offsets now
// satisfy. Called on every REPLCONF ACK.
func (l *replLog) ackArrived() {
	w := &l.waiters
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.list) == 0 {
		return
	}
	offs := w.offs[:0]
	l.mu.Lock()
	for r := range l.replicas {
		offs = append(offs, r.ackOffset.Load())
	}
	l.mu.Unlock()
	w.offs = offs
	for i := 0; i < len(w.list); {
		a := w.list[i]
		n := int64(0)
		for _, off := range offs {
			if off >= a.target {
				n++
			}
		}
		if n < a.want {
			i++
			continue
		}
		a.done <- n
		last := len(w.list) - 1
		w.list[i], w.list[last] = w.list[last], nil
		w.list = w.list[:last]
	}
}
