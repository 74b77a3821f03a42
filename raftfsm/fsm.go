package raftfsm

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/slotmap"
)

// FSM applies commands to State. It is a thin adapter: decode, mutate under
// the lock, wake watchers.
type FSM struct {
	mu      sync.RWMutex
	st      *State
	changed chan struct{} // closed and replaced on every applied change
	index   atomic.Uint64 // last applied command index
	observe func(*State)  // called under the lock after every change
}

// Observe registers fn to run synchronously after every applied command
// and restore, before Apply returns: fences must drop before anyone can
// see the new record as applied. fn must be quick, must not call the FSM
// and must not keep s (it is the live record).
// It also runs once at once, on the record applied so far (Raft may have
// restored a snapshot and replayed entries before the observer existed).
func (f *FSM) Observe(fn func(*State)) {
	f.mu.Lock()
	f.observe = fn
	if fn != nil {
		fn(f.st)
	}
	f.mu.Unlock()
}

// Index is the log index of the last applied command.
func (f *FSM) Index() uint64 { return f.index.Load() }

// New returns an empty FSM.
func New() *FSM { return &FSM{st: newState(), changed: make(chan struct{})} }

// State returns a deep copy of the current record.
func (f *FSM) State() *State {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.Clone()
}

// Changed returns a channel closed at the next applied change.
func (f *FSM) Changed() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.changed
}

func (f *FSM) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Apply implements raft.FSM. It returns nil or an error.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	c, err := Decode(l.Data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	err = f.st.apply(c)
	f.st.Index = l.Index
	if f.observe != nil {
		f.observe(f.st)
	}
	f.index.Store(l.Index)
	f.notify()
	return err
}

// apply mutates s; on error s is unchanged.
func (s *State) apply(c Command) error {
	if err := s.refuseRemovedShard(c); err != nil {
		return err
	}
	switch c.Op {
	case OpMark:
		return nil
	case OpInit:
		if len(s.Shards) > 0 {
			return nil // the first init wins; later leaders re-send harmlessly
		}
		n := min(max(c.Shards, 1), slotmap.NumSlots)
		slots := splitSlots(n)
		s.Name = c.Name
		s.ReplicasPerShard = c.ReplicasPerShard
		for i := range n {
			s.Shards = append(s.Shards, &Shard{ID: i, Name: ShardName(c.Name, i), Slots: slots[i], Replicas: []string{}})
		}
		for _, id := range s.NodeIDs() { // nodes registered before init
			if s.Nodes[id].Shard < 0 {
				s.place(s.Nodes[id])
			}
		}
		return nil
	case OpAddNode:
		if c.Node == nil || c.Node.ID == "" {
			return fmt.Errorf("add_node: %w", ErrUnknownNode)
		}
		n := *c.Node
		if old := s.Nodes[n.ID]; old != nil {
			n.Shard = old.Shard // re-registration keeps the placement
		} else {
			n.Shard = -1
		}
		s.Nodes[n.ID] = &n
		if n.Shard < 0 {
			s.place(&n)
		}
		return nil
	case OpRemoveNode:
		n := s.Nodes[c.ID]
		if n == nil {
			return fmt.Errorf("remove_node %s: %w", c.ID, ErrUnknownNode)
		}
		if sh := s.Shard(n.Shard); sh != nil {
			sh.Replicas = slices.DeleteFunc(sh.Replicas, func(r string) bool { return r == c.ID })
			if sh.Master == c.ID {
				sh.Master, sh.Handoff = "", nil
			}
		}
		delete(s.Nodes, c.ID)
		return nil
	case OpSetMaster:
		sh := s.Shard(c.Shard)
		if sh == nil {
			return ErrNoShard
		}
		if sh.Epoch != c.PrevEpoch {
			return ErrStaleEpoch
		}
		if s.Nodes[c.ID] == nil {
			return fmt.Errorf("set_master %s: %w", c.ID, ErrUnknownNode)
		}
		// Only a replica of this shard, or (for a masterless shard) an
		// unplaced node, may be named: a node lives in one shard.
		if !slices.Contains(sh.Replicas, c.ID) && (sh.Master != "" || s.Nodes[c.ID].Shard >= 0) {
			return fmt.Errorf("set_master %s: %w", c.ID, ErrNotReplica)
		}
		sh.Replicas = slices.DeleteFunc(sh.Replicas, func(r string) bool { return r == c.ID })
		replaced := sh.Master != ""
		if replaced {
			sh.Replicas = append(sh.Replicas, sh.Master) // the old master rejoins as a replica
			s.Failovers++
			if c.Unsynced {
				s.UnsyncedFailovers++
			}
		}
		s.Nodes[c.ID].Shard = sh.ID
		s.Epoch++
		sh.Master, sh.Epoch, sh.Handoff = c.ID, s.Epoch, nil
		sh.Unsynced = replaced && c.Unsynced
		return nil
	case OpBeginHandoff:
		sh := s.Shard(c.Shard)
		if sh == nil {
			return ErrNoShard
		}
		if sh.Epoch != c.PrevEpoch {
			return ErrStaleEpoch
		}
		if !slices.Contains(sh.Replicas, c.ID) {
			return fmt.Errorf("begin_handoff %s: %w", c.ID, ErrNotReplica)
		}
		sh.Handoff = &Handoff{Target: c.ID, Deadline: c.Deadline}
		return nil
	case OpEndHandoff:
		sh := s.Shard(c.Shard)
		if sh == nil {
			return ErrNoShard
		}
		if sh.Epoch != c.PrevEpoch {
			return ErrStaleEpoch
		}
		sh.Handoff = nil
		return nil
	}
	if ok, err := s.applyMigration(c); ok {
		return err
	}
	if ok, err := s.applyShard(c); ok {
		return err
	}
	return fmt.Errorf("unknown command %q", c.Op)
}

// Snapshot implements raft.FSM.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := json.Marshal(f.st)
	if err != nil {
		return nil, fmt.Errorf("snapshot state: %w", err)
	}
	return snapshot(b), nil
}

// Restore implements raft.FSM.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st := newState()
	if err := json.NewDecoder(rc).Decode(st); err != nil {
		return fmt.Errorf("restore state: %w", err)
	}
	if st.Nodes == nil {
		st.Nodes = map[string]*Node{}
	}
	for id, n := range st.Nodes {
		if n == nil {
			return fmt.Errorf("restore state: node %q is empty", id)
		}
	}
	for i, sh := range st.Shards {
		if sh == nil {
			return fmt.Errorf("restore state: shard %d is empty", i)
		}
	}
	for i, m := range st.Migrations {
		if m == nil {
			return fmt.Errorf("restore state: migration %d is empty", i)
		}
	}
	f.mu.Lock()
	f.st = st
	if f.observe != nil {
		f.observe(f.st)
	}
	f.index.Store(st.Index)
	f.notify()
	f.mu.Unlock()
	return nil
}

type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return fmt.Errorf("write snapshot: %w", err)
	}
	return sink.Close()
}

func (s snapshot) Release() {}
