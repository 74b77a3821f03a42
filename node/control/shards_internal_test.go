package control

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
)

// TestShardErrors: the record's verdicts become control's domain errors,
// which the HTTP adapter maps to the API's status classes.
func TestShardErrors(t *testing.T) {
	cases := []struct {
		record  error
		domain  error
		httpErr error
	}{
		{raftfsm.ErrNoShard, ErrNoSuchShard, httpapi.ErrUnknownShard},
		{raftfsm.ErrShardRemoved, ErrShardRemoved, httpapi.ErrUnavailable},
		{raftfsm.ErrShardHasSlots, ErrShardHasSlots, httpapi.ErrUnavailable},
		{raftfsm.ErrShardBusy, ErrShardMigrating, httpapi.ErrUnavailable},
		{raftfsm.ErrLastShard, ErrLastShard, httpapi.ErrUnavailable},
		{raftfsm.ErrShardID, ErrShardRace, httpapi.ErrUnavailable},
	}
	for _, c := range cases {
		applied := fmt.Errorf("apply shard_remove: shard_remove 3: %w", c.record)
		d := shardError(applied)
		if !errors.Is(d, c.domain) {
			t.Errorf("%v: domain error %v, want %v", c.record, d, c.domain)
		}
		h := httpShardError(d)
		if !errors.Is(h, c.httpErr) || !errors.Is(h, c.domain) {
			t.Errorf("%v: http error %v, want %v wrapping %v", c.record, h, c.httpErr, c.domain)
		}
	}
	other := errors.New("commit shard_add: timed out")
	if got := httpShardError(shardError(other)); got != other {
		t.Errorf("an unrelated error became %v", got)
	}
	if httpShardError(errNotLeader) != errNotLeader {
		t.Error("not-leader must pass through unchanged (the handler forwards on it)")
	}
}
