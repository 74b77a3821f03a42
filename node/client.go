package node

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/acl"
	"github.com/wardenkv/warden/keyspace"
)

// Client is one connection's state. Fields read by other goroutines (CLIENT
// LIST, KILL, pub/sub delivery) are atomics or guarded by mu.
type Client struct {
	ID      int64
	conn    redcon.Conn
	netConn net.Conn
	addr    string
	laddr   string
	created time.Time

	// replAuthed (this goroutine's too): AUTHed as the replication user of
	// a cluster with a secret, which SYNC/PSYNC/REPLCONF then require.
	replAuthed bool

	// Only the connection's own goroutine touches these.
	db     int
	proto  int
	authed bool
	multi  *multiState
	watch  []watchedKey
	wstate *keyspace.Watch
	// readOnlyCluster: READONLY was sent (cluster mode: a replica serves
	// this client's reads of its shard's slots).
	readOnlyCluster bool
	// aofPending is the AOF offset this client's writes reach; its replies
	// wait until the AOF is that far (appendfsync).
	aofPending int64
	// replPending is master_repl_offset after this client's last write (WAIT).
	replPending int64
	// Set by REPLCONF before PSYNC; replicaLink once the connection became a
	// replication link (detached from the command loop).
	replPort    int
	replIP      string
	replNodeID  string // REPLCONF warden-id: a cluster replica's node id
	replCapaEOF bool   // REPLCONF capa eof: it reads a diskless ($EOF:) RDB
	replicaLink atomic.Bool
	// internal marks a client without a connection (AOF replay, the
	// master's stream): refusals meant for clients do not apply to it.
	internal bool
	// importer: the stream of a slot migration's source (CLUSTER
	// SYNCSLOTS): it writes slots this node imports, so it is not routed.
	importer    bool
	importSlots atomic.Pointer[SlotSet] // read by KillImporters
	ctx         Ctx
	rdAuthed    bool // what the reader was last told (redcon.SetAuthenticated)
	// scriptDone is where the script executor signals this client's
	// EVAL/FCALL finished (made on first use).
	scriptDone chan struct{}
	// scriptJob is this client's EVAL/FCALL being run (one at a time).
	scriptJob scriptJob

	lastInteraction atomic.Int64 // unix ms
	dbShared        atomic.Int64 // db, for CLIENT LIST
	blocked         atomic.Bool
	protoShared     atomic.Int32 // proto, for CLIENT LIST from other goroutines
	lastCmd         atomic.Pointer[Command]
	user            atomic.Pointer[acl.User] // the ACL user (AUTH, HELLO AUTH)
	aclBuf          aclBufs                  // this goroutine's: the check's key lists
	killed          chan struct{}
	killOnce        sync.Once

	mu      sync.Mutex
	name    string
	libName string
	libVer  string
	flags   string

	// Pub/sub: while subscribed, every byte to the client goes through
	// outbox so replies and pushed messages keep one order.
	subs     map[string]struct{}
	psubs    map[string]struct{}
	pushMode atomic.Bool
	monitor  atomic.Bool // in MONITOR mode (push mode too, not subscribed)
	outMu    sync.Mutex
	outbox   []byte
	writing  bool
	nsubs    atomic.Int64
	npsubs   atomic.Int64
	nssubs   atomic.Int64 // shard channels
	// tracking: CLIENT TRACKING is on. trackPush: push mode was entered for
	// tracking (own invalidations or as a redirect target), so it outlives
	// the client's subscriptions and does not make it a subscriber.
	tracking  atomic.Bool
	trackPush atomic.Bool
	noEvict   bool
	noTouch   bool
	// preOOM: over maxmemory with nothing evictable when the current
	// command started (Redis's pre_command_oom_state; scripts check it).
	preOOM bool
	// replyMode is CLIENT REPLY's state (cmd_clientreply.go).
	replyMode uint8
	// unblock is set while blocked on keys: CLIENT UNBLOCK sends on it
	// (true: reply -UNBLOCKED, false: the timeout reply).
	unblock atomic.Pointer[chan bool]
	// multiLen and multiMem mirror the MULTI queue for CLIENT LIST
	// (multi=, multi-mem=), updated after each command. multiLen is the
	// queue's length plus one (0: not in MULTI, so the zero value is right).
	multiLen atomic.Int64
	multiMem atomic.Int64
}

type multiState struct {
	queue   [][][]byte
	aborted bool
}

type watchedKey struct {
	db      int
	key     string
	expired bool // was logically expired (or absent) when watched
}

// Kill closes the client's connection from any goroutine and wakes it if it
// is blocked.
func (cl *Client) Kill() {
	cl.killOnce.Do(func() {
		// Closed first: a goroutine that wakes on killed (DEBUG SLEEP, a
		// held reply) must find the connection closed, or the reply it
		// writes next still reaches the killed client.
		socketOf(cl.netConn).Close() // no TLS close_notify: it could block on a full buffer
		close(cl.killed)
	})
}

// Name returns the client's name (CLIENT SETNAME).
func (cl *Client) Name() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.name
}

// outboxLimit is the hard limit of client-output-buffer-limit pubsub.
const outboxLimit = 32 << 20

// push queues bytes for a client in push mode and starts its writer.
func (cl *Client) push(b []byte) {
	cl.outMu.Lock()
	if len(cl.outbox)+len(b) > outboxLimit {
		cl.outMu.Unlock()
		cl.Kill() // a subscriber that cannot keep up is dropped, as Redis does
		return
	}
	cl.outbox = append(cl.outbox, b...)
	if !cl.writing {
		cl.writing = true
		go cl.writeLoop()
	}
	cl.outMu.Unlock()
}

func (cl *Client) writeLoop() {
	var buf []byte
	for {
		cl.outMu.Lock()
		if len(cl.outbox) == 0 {
			// Clear the deadline: redcon's own (empty) flushes use the same
			// connection and would fail on an expired one.
			cl.netConn.SetWriteDeadline(time.Time{})
			cl.writing = false
			cl.outMu.Unlock()
			return
		}
		buf, cl.outbox = cl.outbox, buf[:0]
		cl.outMu.Unlock()
		cl.netConn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := cl.netConn.Write(buf); err != nil {
			cl.Kill()
			cl.outMu.Lock()
			cl.outbox, cl.writing = nil, false
			cl.outMu.Unlock()
			return
		}
	}
}

// flushToOutbox moves redcon's buffered replies into the outbox (push mode).
func (cl *Client) flushToOutbox() {
	w := redcon.BaseWriter(cl.conn)
	if b := w.Buffer(); len(b) > 0 {
		w.SetBuffer(nil)
		cl.push(b)
	}
}

// flush sends buffered replies now (before blocking, or in push mode).
func (cl *Client) flush() {
	if cl.aofPending > 0 {
		cl.ctx.s.syncAOF(cl)
	}
	if cl.ctx.tx == nil { // inside EXEC the keys stay locked: never wait then
		cl.ctx.s.holdReply(cl)
	}
	if cl.pushMode.Load() {
		cl.flushToOutbox()
		return
	}
	// Nothing buffered, nothing to send: an empty Write is still a syscall.
	if w := redcon.BaseWriter(cl.conn); w != nil && len(w.Buffer()) > 0 {
		w.Flush()
	}
}

// setProto switches the client's protocol (HELLO, RESET).
func (cl *Client) setProto(p int) {
	cl.proto = p
	cl.protoShared.Store(int32(p))
}
