package raftfsm

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// contactTransport wraps Raft's transport to record when this node last
// *accepted* an AppendEntries (heartbeat or not) from a leader. Raft's own
// LastContact is not a lease: it is also set when a leader steps down or a
// vote is granted, so a deposed leader waking from a pause would look as if
// it had just heard a majority.
//
// On a leader it also records, per peer, when the last AppendEntries that
// peer accepted in the same term was *sent*: a quorum of those is the
// leader's proof that nobody else leads. Send times, not receipt times, so
// an answer delayed by a pause or a partition proves nothing new.
type contactTransport struct {
	*raft.NetworkTransport
	out  chan raft.RPC
	last atomic.Int64 // unix ns when the last accepted AppendEntries arrived
	done chan struct{}

	mu   sync.Mutex
	acks map[raft.ServerID]int64 // unix ns a peer's accepted AppendEntries was sent
}

func newContactTransport(t *raft.NetworkTransport) *contactTransport {
	c := &contactTransport{NetworkTransport: t, out: make(chan raft.RPC), done: make(chan struct{}),
		acks: map[raft.ServerID]int64{}}
	go c.pump()
	return c
}

// LeaderContact is when an AppendEntries that Raft accepted arrived.
func (c *contactTransport) LeaderContact() time.Time {
	if ns := c.last.Load(); ns > 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

func (c *contactTransport) Consumer() <-chan raft.RPC { return c.out }

// AppendEntries is the leader's side (heartbeats and non-pipelined
// replication): remember when an accepted one was sent.
func (c *contactTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	sent := time.Now().UnixNano()
	err := c.NetworkTransport.AppendEntries(id, target, args, resp)
	if err == nil && resp.Success && resp.Term == args.Term {
		c.mu.Lock()
		if sent > c.acks[id] {
			c.acks[id] = sent
		}
		c.mu.Unlock()
	}
	return err
}

// quorumContact is the latest time t such that a quorum of voters
// (counting this node) accepted an AppendEntries sent at or after t.
func (c *contactTransport) quorumContact(self raft.ServerID, voters []raft.ServerID) time.Time {
	need := len(voters)/2 + 1
	times := []int64{}
	c.mu.Lock()
	for _, v := range voters {
		if v == self {
			need--
		} else if t := c.acks[v]; t > 0 {
			times = append(times, t)
		}
	}
	c.mu.Unlock()
	if need <= 0 {
		return time.Now()
	}
	if len(times) < need {
		return time.Time{}
	}
	slices.Sort(times)
	return time.Unix(0, times[len(times)-need])
}

// SetHeartbeatHandler wraps Raft's heartbeat fast path, which answers
// synchronously.
func (c *contactTransport) SetHeartbeatHandler(cb func(raft.RPC)) {
	if cb == nil {
		c.NetworkTransport.SetHeartbeatHandler(nil)
		return
	}
	c.NetworkTransport.SetHeartbeatHandler(func(rpc raft.RPC) {
		at, orig := time.Now(), rpc.RespChan
		ch := make(chan raft.RPCResponse, 1)
		rpc.RespChan = ch
		cb(rpc)
		select {
		case r := <-ch:
			c.note(at, r)
			orig <- r
		default: // Raft is shutting down and did not answer
		}
	})
}

func (c *contactTransport) pump() {
	in := c.NetworkTransport.Consumer()
	for {
		var rpc raft.RPC
		select {
		case rpc = <-in:
		case <-c.done:
			return
		}
		if _, ok := rpc.Command.(*raft.AppendEntriesRequest); ok {
			at, orig := time.Now(), rpc.RespChan
			ch := make(chan raft.RPCResponse, 1)
			rpc.RespChan = ch
			go func() {
				select {
				case r := <-ch:
					c.note(at, r)
					orig <- r
				case <-c.done:
				}
			}()
		}
		select {
		case c.out <- rpc:
		case <-c.done:
			return
		}
	}
}

// note records contact for a successful answer: Raft has by then stored the
// entries and advanced its commit index.
func (c *contactTransport) note(at time.Time, r raft.RPCResponse) {
	if resp, ok := r.Response.(*raft.AppendEntriesResponse); ok && r.Error == nil && resp.Success {
		for {
			prev := c.last.Load()
			if at.UnixNano() <= prev || c.last.CompareAndSwap(prev, at.UnixNano()) {
				return
			}
		}
	}
}

func (c *contactTransport) Close() error {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	return c.NetworkTransport.Close()
}
