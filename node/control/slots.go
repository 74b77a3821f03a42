package control

import (
	"context"
	"sync"
	"time"

	"github.com/wardenkv/warden/raftfsm"
	"github.com/wardenkv/warden/slotmap"
)

// slotPublisher derives the data node's slot table from the record, with
// this node's failure detector's view of each shard's master laid over it
// (cluster mode: a shard whose master is failed answers CLUSTERDOWN, as a
// Redis Cluster node does for slots of a failed master, until the leader
// promotes a replica).
type slotPublisher struct {
	mu    sync.Mutex
	index uint64 // record index of the last published table
}

// publishSlots builds and publishes the table for st. It is called from
// the FSM observer (under the FSM lock) and from downLoop; mu orders them
// and a table never replaces one built from a newer record.
func (c *Control) publishSlots(st *raftfsm.State) {
	c.slots.mu.Lock()
	defer c.slots.mu.Unlock()
	if st.Index < c.slots.index {
		return
	}
	t := st.Table(c.cfg.id, c.cfg.clusterEnabled)
	if c.cfg.clusterEnabled {
		for i := range t.Shards {
			// Not yet published: setting Down here keeps the table immutable
			// for its readers.
			t.Shards[i].Down = c.masterFailed(t, i)
		}
	}
	c.slots.index = st.Index
	c.srv.SetSlotTable(t)
}

// masterFailed: shard i's master is failed as this node's gossip sees it.
func (c *Control) masterFailed(t *slotmap.Table, i int) bool {
	det := c.detReady.Load()
	m := t.MasterOf(i)
	return det != nil && m != nil && m.Name != c.cfg.id && det.Failed(m.Name)
}

// downLoop republishes the table when this node's view of a master's
// failure changes. Failure is a matter of time passing (silence longer
// than down-after), not an event, so it is checked on a tick; the record
// is copied only when the view changed.
func (c *Control) downLoop(ctx context.Context) {
	if !c.cfg.clusterEnabled {
		return
	}
	tick := time.NewTicker(max(c.cfg.downAfter/10, 20*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := c.srv.SlotTable()
		if t == nil {
			continue
		}
		changed := false
		for i := range t.Shards {
			if t.Shards[i].Down != c.masterFailed(t, i) {
				changed = true
				break
			}
		}
		if changed {
			c.publishSlots(c.host.FSM.State())
		}
	}
}
