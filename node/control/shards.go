package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
)

// Adding and retiring shards (warden cluster add-shard / remove-shard).
// The record does the work (raftfsm shard_add / shard_remove); this is
// the leader's entry point and its errors.

// Domain errors of shard administration; the HTTP adapter (shardAdmin)
// maps them to statuses.
var (
	ErrNoSuchShard    = errors.New("no such shard")
	ErrShardRemoved   = errors.New("shard is already removed")
	ErrShardHasSlots  = errors.New("shard still owns slots: drain them first (warden cluster remove-shard does)")
	ErrShardMigrating = errors.New("shard is part of an active slot migration")
	ErrLastShard      = errors.New("cannot remove the last shard")
	ErrShardRace      = errors.New("the shard list changed meanwhile: retry")
)

// addShard commits a new, empty shard and returns its id. Nodes that
// join next are placed in it, master first (raftfsm.Place).
func (c *Control) addShard() (int, error) {
	if !c.isLeader() {
		return 0, errNotLeader
	}
	id := len(c.host.FSM.State().Shards)
	cmd, err := raftfsm.WithPayload(raftfsm.OpShardAdd, raftfsm.ShardAdd{ID: id})
	if err != nil {
		return 0, err
	}
	if err := c.host.Apply(cmd, applyTimeout); err != nil {
		return 0, fmt.Errorf("add shard %d: %w", id, shardError(err))
	}
	c.log.Info("shard added", "shard", id)
	return id, nil
}

// removeShard retires shard id once it owns no slots; its nodes become
// spares (fenced, serving no slot) until a later add-shard places them.
func (c *Control) removeShard(id int) error {
	if !c.isLeader() {
		return errNotLeader
	}
	// Shards are only ever added, so an id the record lacks is answered
	// without a log entry (whose commit a leadership change can fail).
	if c.host.FSM.State().Shard(id) == nil {
		return fmt.Errorf("remove shard %d: %w", id, ErrNoSuchShard)
	}
	cmd, err := raftfsm.WithPayload(raftfsm.OpShardRemove, raftfsm.ShardRemove{ID: id})
	if err != nil {
		return err
	}
	if err := c.host.Apply(cmd, applyTimeout); err != nil {
		return fmt.Errorf("remove shard %d: %w", id, shardError(err))
	}
	c.log.Info("shard removed", "shard", id)
	return nil
}

// shardError turns the record's verdict into this package's errors,
// keeping the original text.
func shardError(err error) error {
	for _, m := range []struct{ from, to error }{
		{raftfsm.ErrNoShard, ErrNoSuchShard},
		{raftfsm.ErrShardRemoved, ErrShardRemoved},
		{raftfsm.ErrShardHasSlots, ErrShardHasSlots},
		{raftfsm.ErrShardBusy, ErrShardMigrating},
		{raftfsm.ErrLastShard, ErrLastShard},
		{raftfsm.ErrShardID, ErrShardRace},
	} {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w (%v)", m.to, err)
		}
	}
	return err
}

// shardAdmin adapts Control to httpapi.ShardAdmin, mapping the domain
// errors to the statuses the HTTP API answers with.
type shardAdmin struct{ c *Control }

func (a shardAdmin) AddShard(context.Context) (int, error) {
	id, err := a.c.addShard()
	return id, httpShardError(err)
}

func (a shardAdmin) RemoveShard(_ context.Context, id int) error {
	return httpShardError(a.c.removeShard(id))
}

func httpShardError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoSuchShard):
		return fmt.Errorf("%w: %w", httpapi.ErrUnknownShard, err)
	case errors.Is(err, ErrShardRemoved), errors.Is(err, ErrShardHasSlots), errors.Is(err, ErrShardMigrating),
		errors.Is(err, ErrLastShard), errors.Is(err, ErrShardRace):
		return fmt.Errorf("%w: %w", httpapi.ErrUnavailable, err)
	}
	return err
}
