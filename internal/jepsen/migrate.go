package jepsen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
	"github.com/wardenkv/warden/slotmap"
)

// migration is GET /migrations' entry, the fields the suite reads.
type migration struct {
	ID     uint64 `json:"id"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// migrate moves the slots around one of the set workload's keys (every
// client writes them) from their shard to another, through POST
// /migrations as an operator's `warden reshard` does, and 2 times in 3
// kills the source's or the target's master while the slots are copied.
func (e *env) migrate(ctx context.Context, rng *rand.Rand, v view) (string, time.Duration, func(), error) {
	if v.st == nil {
		return "", 0, nil, errors.New("no node answers /status")
	}
	tb, _ := parseSlotTable(slotTableOf(*v.st))
	key := fmt.Sprintf("s:%d", rng.IntN(setKeys))
	slot := slotmap.SlotString(key)
	from := int(tb.owner[slot])
	var tos []int
	for id := range v.masters {
		if id != from {
			tos = append(tos, id)
		}
	}
	if from < 0 || v.masters[from] == nil || len(tos) == 0 {
		return "", 0, nil, fmt.Errorf("slot %d: owner %d has no master, or no other shard has one", slot, from)
	}
	slices.Sort(tos)
	to := tos[rng.IntN(len(tos))]
	// A run of up to 256 slots around the key's, all owned by from.
	lo, hi, want := slot, slot, 1+rng.IntN(256)
	for hi-lo+1 < want {
		grew := false
		if lo > 0 && int(tb.owner[lo-1]) == from {
			lo, grew = lo-1, true
		}
		if hi-lo+1 < want && hi < slotmap.NumSlots-1 && int(tb.owner[hi+1]) == from {
			hi, grew = hi+1, true
		}
		if !grew {
			break
		}
	}
	via := v.leader
	if via == nil || !via.Running() || via.Stopped() || via.Partitioned() {
		via = v.masters[from]
	}
	body, _ := json.Marshal(map[string]any{"from": from, "to": to, "ranges": [][2]int{{lo, hi}}})
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	code, resp, err := via.PostJSON(cctx, "/migrations", body)
	cancel()
	if err != nil || code != http.StatusCreated {
		return "", 0, nil, fmt.Errorf("POST /migrations via %s: %d %s %v", via.ID, code, resp, err)
	}
	var created struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(resp), &created); err != nil || created.ID == 0 {
		return "", 0, nil, fmt.Errorf("POST /migrations answered %q: %v", resp, err)
	}
	e.mu.Lock()
	e.migrations = append(e.migrations, created.ID)
	e.mu.Unlock()
	// In effect: the leader lists it (checked now: the kill below may take
	// the leader, and GET /migrations with it, down for a while).
	if err := e.migrationListed(created.ID); err != nil {
		return "", 0, nil, err
	}
	target := fmt.Sprintf("slots %d-%d (%s) shard %d->%d, migration %d", lo, hi, key, from, to, created.ID)
	var victim *clustertest.Node
	switch rng.IntN(3) {
	case 1:
		victim, target = v.masters[from], target+", killed "+v.masters[from].ID+" (source master)"
	case 2:
		victim, target = v.masters[to], target+", killed "+v.masters[to].ID+" (target master)"
	}
	if victim != nil {
		sleepCtx(ctx, time.Duration(rng.Int64N(int64(300*time.Millisecond))))
		victim.Kill()
	}
	hold := time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
	return target, hold, func() {
		if victim != nil {
			victim.RestartAsync(e.t)
		}
	}, nil
}

// listMigrations is GET /migrations from the first node that answers.
func (e *env) listMigrations(ctx context.Context) ([]migration, error) {
	err := errors.New("no node running")
	for _, n := range e.c.Nodes {
		if !n.Running() || n.Stopped() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		body, code, gerr := n.Get(cctx, "/migrations")
		cancel()
		if gerr != nil || code != http.StatusOK {
			err = fmt.Errorf("GET /migrations on %s: %d %s %v", n.ID, code, body, gerr)
			continue
		}
		var ms []migration
		if err = json.Unmarshal(body, &ms); err == nil {
			return ms, nil
		}
	}
	return nil, err
}

// migrationListed checks that migration id is known.
func (e *env) migrationListed(id uint64) error {
	ms, err := e.listMigrations(context.Background())
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID == id {
			return nil
		}
	}
	return fmt.Errorf("migration %d not in GET /migrations", id)
}

// settleMigrations waits until none of the suite's migrations is still
// copying and counts them by final state.
func (e *env) settleMigrations(ctx context.Context, limit time.Duration) (map[string]int, error) {
	e.mu.Lock()
	ours := map[uint64]bool{}
	for _, id := range e.migrations {
		ours[id] = true
	}
	e.mu.Unlock()
	if len(ours) == 0 {
		return nil, nil
	}
	deadline := time.Now().Add(limit)
	for {
		ms, err := e.listMigrations(ctx)
		states := map[string]int{}
		copying := 0
		for _, m := range ms {
			if ours[m.ID] {
				states[m.State]++
				if m.State == "copying" {
					copying++
				}
			}
		}
		if err == nil && copying == 0 {
			return states, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("%d migrations still copying after %v", copying, limit)
			}
			return states, err
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}
