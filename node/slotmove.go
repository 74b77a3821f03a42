package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/aof"
	"github.com/wardenkv/warden/slotmap"
)

// Slot migration, the data node's side (the mover itself lives in
// slotmove/): a point-in-time capture of chosen slots plus a tap on the
// write stream for them, a gate that pauses their commands, and slot
// deletion through the normal write path. The seams are narrow so the
// mover never reaches into the keyspace.

// SlotSet is a set of hash slots.
type SlotSet = [slotmap.NumSlots]bool

// SlotSink receives a migrating slot set's data, in apply order. Both
// methods run under the slot's partition lock: they must only copy.
// (An alias of an interface literal, so the mover's package can name
// the same type without importing node.)
type SlotSink = interface {
	// Snapshot is one slot's keys (n of them) at the capture's start, as
	// AOF commands beginning with a SELECT of db.
	Snapshot(db, n int, cmds []byte)
	// Reserve is a place in the stream, in apply order, for a big key's
	// copy (AOF commands beginning with a SELECT of db) that is serialized
	// later with no lock held and handed to fill, exactly once; the stream
	// waits there until then.
	Reserve(db int) (fill func(cmds []byte))
	// Write is one applied write (or MULTI/EXEC block) to the slots, as
	// RESP commands without SELECT.
	Write(db int, resp []byte)
	// Abort is a write the stream cannot carry: FLUSHALL, FLUSHDB and
	// SWAPDB change every slot's keys without naming them, and sent on
	// they would change the target's own slots too. The migration fails
	// (the leader rolls it back; the target drops what it got) rather
	// than flip slots whose copy the source no longer matches.
	Abort(err error)
}

// slotMove is the state of the one slot stream a node may run as source.
type slotMove struct {
	slots *SlotSet
	sink  SlotSink
	gate  slotGate
}

// slotGate pauses commands on the migrating slots: enter counts a command
// in, pause waits until none is inside and holds new ones at enter.
type slotGate struct {
	inflight atomic.Int64
	paused   atomic.Bool
	mu       sync.Mutex
	cond     *sync.Cond
	resumed  chan struct{} // closed by resume
	once     sync.Once
	pausedAt atomic.Int64 // unix ns
}

// ErrSlotStreamRunning refuses a second slot stream on one node.
var ErrSlotStreamRunning = errors.New("a slot migration stream is already running on this node")

// StreamSlots starts streaming slots to sink: it begins a snapshot (one
// consistent cut with the tap's start) and returns its walk, to run on
// the caller's goroutine (between runs after each captured slot, no lock
// held: where the caller paces itself). Stop ends the tap.
func (s *Server) StreamSlots(slots *SlotSet, sink SlotSink, between func()) (walk func(), err error) {
	mv := &slotMove{slots: slots, sink: sink}
	mv.gate.cond = sync.NewCond(&mv.gate.mu)
	mv.gate.resumed = make(chan struct{})
	for {
		// One snapshot at a time in the store: wait out a BGSAVE or a
		// full sync's (an event, not a timer).
		if ch := s.store.SnapshotDone(); ch != nil {
			<-ch
		}
		tx := s.store.LockAll()
		if s.store.Snapshotting() {
			tx.Unlock()
			continue
		}
		if !s.move.CompareAndSwap(nil, mv) {
			tx.Unlock()
			return nil, ErrSlotStreamRunning
		}
		return s.beginSlotSnapshot(tx, mv, between)
	}
}

func (s *Server) beginSlotSnapshot(tx *keyspace.Tx, mv *slotMove, between func()) (walk func(), err error) {
	slots, sink := mv.slots, mv.sink
	sn, err := tx.BeginSnapshot(func(db int, pv keyspace.PartView) {
		// Every captured slot comes here; only the migrating ones are kept.
		var slot = -1
		pv.Each(func(key []byte, _ *keyspace.Object) bool { slot = slotmap.Slot(key); return false })
		if slot < 0 || !slots[slot] {
			return
		}
		b := aof.AppendSelect(nil, db)
		n := 0
		pv.Each(func(key []byte, o *keyspace.Object) bool {
			if o.Big() {
				// Its place in the stream is taken now (before any
				// write to it is tapped); its copy is made unlocked.
				fill := sink.Reserve(db)
				pv.Freeze(key, o, func(db int, key []byte, o *keyspace.Object) {
					fill(aof.AppendEntryCommands(aof.AppendSelect(nil, db), key, o))
				})
				return true
			}
			b = aof.AppendEntryCommands(b, key, o)
			n++
			return true
		})
		sink.Snapshot(db, n, b)
	})
	tx.Unlock()
	if err != nil {
		s.move.Store(nil)
		return nil, fmt.Errorf("slot stream: %w", err)
	}
	sn.Between = between
	return sn.Run, nil
}

// StopSlotStream ends the tap and releases any command held by the gate
// (they route again: after a flip they get MOVED).
// It returns how long the slots were paused (0: never).
func (s *Server) StopSlotStream() time.Duration {
	mv := s.move.Swap(nil)
	if mv == nil {
		return 0
	}
	mv.gate.resume()
	if at := mv.gate.pausedAt.Load(); at != 0 {
		return time.Since(time.Unix(0, at))
	}
	return 0
}

// PauseSlots holds new commands on the streaming slots and waits until
// the ones already running them are done: after it returns (nil), no
// write to those slots runs until StopSlotStream.
func (s *Server) PauseSlots(ctx context.Context) error {
	mv := s.move.Load()
	if mv == nil {
		return errors.New("no slot stream running")
	}
	g := &mv.gate
	g.pausedAt.Store(time.Now().UnixNano())
	g.paused.Store(true)
	done := make(chan struct{})
	go func() {
		g.mu.Lock()
		for g.inflight.Load() != 0 {
			g.cond.Wait()
		}
		g.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		// The waiter above ends when the last command leaves.
		return ctx.Err()
	}
}

func (g *slotGate) exit() {
	if g.inflight.Add(-1) == 0 && g.paused.Load() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	}
}

func (g *slotGate) resume() {
	g.paused.Store(false)
	g.once.Do(func() { close(g.resumed) })
}

// holdSlots runs before a client's command executes: a command on a
// migrating slot is counted in (release must be called after it ran), or
// waits while the slots are paused and is then routed again. It returns
// ok false when the command must not run (msg, if any, is the reply).
func (s *Server) holdSlots(cl *Client, cmd *Command, args [][]byte) (release func(), msg string, ok bool) {
	for {
		mv := s.move.Load()
		if mv == nil {
			return nil, "", true
		}
		slot := s.cmdSlot(cl, cmd, args)
		if slot != anySlot && (slot < 0 || !mv.slots[slot]) {
			return nil, "", true
		}
		g := &mv.gate
		g.inflight.Add(1)
		if !g.paused.Load() {
			return g.exit, "", true
		}
		g.exit()
		cl.flush()
		select {
		case <-g.resumed:
		case <-cl.killed:
			return nil, "", false
		}
		if msg := s.route(cl, cmd, args); msg != "" {
			s.routeRefused(cl, cmd)
			return nil, msg, false
		}
	}
}

// touchesEverySlot: commands that change keys of every slot without
// naming them (the slot stream cannot carry them: tapSlots).
func touchesEverySlot(cmd *Command) bool {
	switch cmd.Name {
	case "flushall", "flushdb", "swapdb":
		return true
	}
	return false
}

// anySlot stands for every migrating slot: cmdSlot's answer for a command
// that touches every slot, which the gate must hold like a migrating
// slot's command.
const anySlot = -2

// cmdSlot is the slot cmd's keys hash to (EXEC: its queue's), anySlot
// for a command that touches every slot, or -1.
func (s *Server) cmdSlot(cl *Client, cmd *Command, args [][]byte) int {
	if touchesEverySlot(cmd) {
		return anySlot
	}
	if cmd.Name == "exec" {
		if cl.multi == nil {
			return -1
		}
		slot := -1
		for _, q := range cl.multi.queue {
			qc, _ := s.lookup(&cl.ctx, q)
			switch {
			case qc == nil:
			case touchesEverySlot(qc):
				return anySlot
			case slot < 0:
				if ks := qc.routeKeys(q, nil); len(ks) > 0 {
					slot = slotmap.Slot(ks[0])
				}
			}
		}
		return slot
	}
	ks := cmd.routeKeys(args, nil)
	if len(ks) == 0 {
		return -1
	}
	return slotmap.Slot(ks[0])
}

// tapSlots hands a write applied on this master to the slot stream when
// it touches a migrating slot. Called where the replication stream is
// fed, under the keys' locks: the order is the apply order.
func (s *Server) tapSlots(db int, cmds ...[][]byte) {
	mv := s.move.Load()
	if mv == nil {
		return
	}
	var c Ctx
	slot := -1
	for _, argv := range cmds {
		cmd, _ := s.lookup(&c, argv)
		if cmd == nil {
			continue
		}
		if touchesEverySlot(cmd) {
			mv.sink.Abort(fmt.Errorf("%s during the migration: its slots no longer match the copy", strings.ToUpper(cmd.Name)))
			return
		}
		if ks := cmd.routeKeys(argv, nil); len(ks) > 0 {
			slot = slotmap.Slot(ks[0])
			break
		}
	}
	if slot < 0 || !mv.slots[slot] {
		return
	}
	var b []byte
	for _, argv := range cmds {
		b = aof.AppendCommand(b, argv...)
	}
	mv.sink.Write(db, b)
}

// DropSlots deletes every key of slots in every database through the
// write path (DEL, so replicas and the AOF follow), in small batches so
// commands interleave. keep, when it returns true for a slot, skips it
// (checked per batch: ownership may change meanwhile). It returns the
// keys deleted.
func (s *Server) DropSlots(ctx context.Context, slots []int, keep func(slot int) bool) (int, error) {
	if s.isReplica() {
		return 0, errors.New("drop slots: a replica deletes what its master streams")
	}
	cl := s.internalClient()
	n := 0
	for _, slot := range slots {
		for db := range s.store.NumDBs() {
			for {
				if err := ctx.Err(); err != nil {
					return n, err
				}
				if keep != nil && keep(slot) {
					break
				}
				tx := s.store.LockSlot(db, slot)
				keys := tx.DB(db).SlotKeys(slot, 256)
				tx.Unlock()
				if len(keys) == 0 {
					break
				}
				if db != cl.db {
					s.call(cl, [][]byte{[]byte("SELECT"), fmt.Appendf(nil, "%d", db)})
				}
				for _, k := range keys {
					s.call(cl, [][]byte{[]byte("DEL"), []byte(k)})
					n++
				}
			}
		}
	}
	return n, nil
}

// SlotKeyCount counts the keys of slot over every database.
func (s *Server) SlotKeyCount(slot int) int {
	n := 0
	for db := range s.store.NumDBs() {
		tx := s.store.LockSlot(db, slot)
		n += tx.DB(db).SlotLen(slot)
		tx.Unlock()
	}
	return n
}

// ReplicationCredential is what this node's replica link authenticates
// with (the cluster's replication credential, else masteruser and
// masterauth): a slot stream to another master uses it too.
func (s *Server) ReplicationCredential() (user, pass string) {
	if ra := s.replAuth.Load(); ra != nil {
		return ra.user, ra.pass
	}
	return s.cfg.Get("masteruser"), s.cfg.Get("masterauth")
}

// flipWait bounds how long a command waits here for a migration's flip
// to be applied, rather than bouncing between source and target.
const flipWait = 2 * time.Second

// awaitFlip runs on the target of a migration whose source has paused:
// a command on one of its slots would be sent back to the source, which
// (having applied the flip already) would send it here again. It waits
// for this node's table to change and routes again; msg is the redirect
// route gave.
func (s *Server) awaitFlip(cl *Client, cmd *Command, args [][]byte, msg string) string {
	final := s.slots.final.Load()
	slot := s.cmdSlot(cl, cmd, args)
	if final == nil || slot < 0 || !final[slot] {
		return msg
	}
	deadline := time.NewTimer(flipWait)
	defer deadline.Stop()
	for {
		t := s.slots.table.Load()
		if t == nil {
			return msg
		}
		if _, importing := t.Migrating[slot]; !importing {
			s.slots.final.CompareAndSwap(final, nil) // resolved
			return s.route(cl, cmd, args)
		}
		ch := s.tableChanged()
		if s.slots.table.Load() != t {
			continue
		}
		cl.flush()
		select {
		case <-ch:
		case <-deadline.C:
			return s.route(cl, cmd, args)
		case <-cl.killed:
			return msg
		}
	}
}

// importRefusal refuses a migration stream's write to a slot this node's
// shard neither imports nor owns any more (the migration was cancelled:
// its keys are being swept), or "".
func (s *Server) importRefusal(cl *Client, cmd *Command, args [][]byte) string {
	slot := s.cmdSlot(cl, cmd, args)
	if slot < 0 {
		return ""
	}
	t := s.slots.table.Load()
	me := t.SelfNode()
	if me == nil {
		return "ERR slot import: this node is not in the slot table"
	}
	if to, ok := t.Migrating[slot]; ok && to == me.Shard {
		return ""
	}
	if o := t.Owner(slot); o != slotmap.NoShard && t.Shards[o].ID == me.Shard {
		return ""
	}
	return "ERR slot import: slot " + fmt.Sprint(slot) + " is no longer migrating to this shard"
}

// KillImporters disconnects the migration streams into this node that
// write any of slots (a cancelled migration: nothing more of it may land).
func (s *Server) KillImporters(slots []slotmap.Range) int {
	n := 0
	for _, cl := range s.clientList() {
		set := cl.importSlots.Load()
		if set == nil {
			continue
		}
		hit := false
		for _, r := range slots {
			for i := max(r.Start, 0); i <= r.End && i < slotmap.NumSlots && !hit; i++ {
				hit = set[i]
			}
		}
		if hit {
			cl.Kill()
			n++
		}
	}
	return n
}
