package node

import (
	"sync"
	"sync/atomic"

	"github.com/wardenkv/warden/clusterpub"
	"github.com/wardenkv/warden/slotmap"
)

// slotRouting is cluster mode's view of slot ownership: an immutable table
// the control plane swaps in whole, so the per-command check is one atomic
// load plus a CRC16 of the keys.
type slotRouting struct {
	table atomic.Pointer[slotmap.Table]
	on    atomic.Bool // cluster-enabled: commands are routed by slot
	// fan carries PUBLISH to the other nodes (cluster-enabled), else nil.
	fan atomic.Pointer[clusterpub.Fanout]
	// changed is closed and replaced when a table is published (commands
	// waiting for a migration's flip to arrive here, slotmove.go).
	mu      sync.Mutex
	changed chan struct{}
	// final: slots whose migration into this node's shard has its source
	// paused; the flip is imminent (slotmove.go).
	final atomic.Pointer[SlotSet]
}

// SetSlotTable publishes the slot table derived from a new record.
func (s *Server) SetSlotTable(t *slotmap.Table) {
	s.slots.table.Store(t)
	if f := s.slots.fan.Load(); f != nil && t != nil {
		peers := make([]string, 0, len(t.Nodes))
		for i := range t.Nodes {
			if i != t.Self {
				peers = append(peers, t.Nodes[i].Addr())
			}
		}
		f.SetPeers(peers)
	}
	s.slots.mu.Lock()
	if s.slots.changed != nil {
		close(s.slots.changed)
		s.slots.changed = nil
	}
	s.slots.mu.Unlock()
}

// tableChanged returns a channel closed at the next SetSlotTable.
func (s *Server) tableChanged() <-chan struct{} {
	s.slots.mu.Lock()
	defer s.slots.mu.Unlock()
	if s.slots.changed == nil {
		s.slots.changed = make(chan struct{})
	}
	return s.slots.changed
}

// SlotTable returns the last published slot table, or nil.
func (s *Server) SlotTable() *slotmap.Table { return s.slots.table.Load() }

// EnableSlotRouting turns Redis Cluster routing on (cluster-enabled yes):
// keys of slots this node does not serve get MOVED, CROSSSLOT or
// CLUSTERDOWN. Until a table is published every keyed command gets
// CLUSTERDOWN.
// PUBLISH then reaches every node's subscribers, as over Redis Cluster's
// bus (clusterpub).
func (s *Server) EnableSlotRouting() {
	s.slots.fan.CompareAndSwap(nil, clusterpub.New(clusterpub.Config{Dial: s.dialMaster, Auth: s.ReplicationCredential,
		Log: s.log.With("component", "clusterpub")}))
	s.slots.on.Store(true)
}

// SlotRouting reports whether cluster routing is on.
func (s *Server) SlotRouting() bool { return s.slots.on.Load() }

// route returns the redirect or refusal for cmd in cluster mode, or "".
// EXEC checks the queued transaction as a whole: its commands must share
// one slot, as Redis's getNodeByQuery does.
func (s *Server) route(cl *Client, cmd *Command, args [][]byte) string {
	if !s.slots.on.Load() {
		return ""
	}
	t := s.slots.table.Load()
	flags := slotmap.RouteFlags(0)
	if cl.readOnlyCluster {
		flags |= slotmap.ReadOnlyConn
	}
	if cmd.Name == "exec" {
		if cl.multi == nil || cl.multi.aborted {
			return "" // EXEC's own error
		}
		slot, read := -1, true
		for _, q := range cl.multi.queue {
			qc, _ := s.lookup(&cl.ctx, q)
			if qc == nil {
				continue
			}
			if qc.Flags&fReadonly == 0 && len(qc.routeKeys(q, nil)) > 0 {
				read = false
			}
			for _, k := range qc.routeKeys(q, nil) {
				ks := slotmap.Slot(k)
				if slot >= 0 && ks != slot {
					return slotmap.Decision{Kind: slotmap.CrossSlot}.Error()
				}
				slot = ks
			}
		}
		if slot < 0 {
			return ""
		}
		if t == nil {
			return slotmap.Decision{Kind: slotmap.ClusterDown}.Error()
		}
		if read {
			flags |= slotmap.Read
		}
		return t.RouteSlot(slot, flags).Error()
	}
	keys := cmd.routeKeys(args, cl.ctx.keyBuf[:0])
	if len(keys) == 0 {
		return ""
	}
	if cmd.Step > 1 {
		cl.ctx.keyBuf = keys[:0] // keep the grown buffer
	}
	if t == nil {
		return slotmap.Decision{Kind: slotmap.ClusterDown}.Error()
	}
	switch {
	case cmd.Flags&fReadonly != 0:
		flags |= slotmap.Read
	case cmd.Name == "ssubscribe" || cmd.Name == "sunsubscribe":
		// A replica serves its shard's channels without READONLY, as
		// Redis's getNodeByQuery does for sharded pub/sub; what its
		// master SPUBLISHes reaches it down the replication stream.
		flags |= slotmap.Read | slotmap.ReadOnlyConn
	}
	return t.Route(keys, flags).Error()
}

// routeRefused updates the transaction after a redirect: inside MULTI the
// transaction is flagged (EXEC answers EXECABORT); a redirected EXEC
// discards it, as Redis does.
func (s *Server) routeRefused(cl *Client, cmd *Command) {
	if cl.multi == nil {
		return
	}
	if cmd.Name == "exec" {
		cl.multi = nil
		s.unwatchAll(cl)
		return
	}
	cl.multi.aborted = true
}
