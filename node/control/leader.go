package control

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
)

// applyTimeout bounds one Raft commit.
const applyTimeout = 5 * time.Second

// leaderLoop runs the leader sentinel's duties. Every step reads the record
// and commits a compare-and-set command, so a new leader simply resumes
// whatever its predecessor left half done.
func (c *Control) leaderLoop(ctx context.Context) {
	t := time.NewTicker(max(c.cfg.downAfter/20, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !c.isLeader() {
			c.mu.Lock()
			clear(c.failSince)
			clear(c.handoffSaw)
			c.mu.Unlock()
			continue
		}
		if err := c.markIfBehind(); err != nil {
			c.log.Warn("leader mark failed", "err", err)
		}
		if err := c.lead(); err != nil {
			c.log.Warn("leader step failed", "err", err)
		}
	}
}

// markIfBehind appends a mark command when the FSM has stayed behind the
// commit index (the newest entry is an election no-op or a configuration
// change), so applied indexes catch up and masters' leases can renew.
func (c *Control) markIfBehind() error {
	commit := c.host.Raft.CommitIndex()
	if c.host.FSM.Index() >= commit {
		c.behindAt = 0
		return nil
	}
	if c.behindAt != commit {
		c.behindAt = commit // give the FSM one tick to apply
		return nil
	}
	c.behindAt = 0
	return c.host.Apply(raftfsm.Command{Op: raftfsm.OpMark}, applyTimeout)
}

func (c *Control) lead() error {
	st := c.host.FSM.State()
	if len(st.Shards) == 0 {
		return c.host.Apply(raftfsm.Command{Op: raftfsm.OpInit, Name: c.cfg.name, Shards: c.cfg.shards,
			ReplicasPerShard: c.cfg.replicasPerShard}, applyTimeout)
	}
	if n := st.Nodes[c.cfg.id]; n == nil || !sameRecord(*n, c.self) {
		self := c.self
		return c.host.Apply(raftfsm.Command{Op: raftfsm.OpAddNode, Node: &self}, applyTimeout)
	}
	var errs []error
	for _, sh := range st.Shards {
		errs = append(errs, c.tend(st, sh))
	}
	return errors.Join(errs...)
}

// tend decides for one shard: promote when the master is missing or FAIL,
// or finish (or abort) a manual handoff.
func (c *Control) tend(st *raftfsm.State, sh *raftfsm.Shard) error {
	now := time.Now()
	if sh.Master == "" {
		if best := c.bestReplica(st, sh, time.Time{}, ""); best != "" {
			return c.setMaster(sh, best, false, "shard has no master")
		}
		return nil
	}
	if c.failed(sh.Master) {
		c.mu.Lock()
		since, seen := c.failSince[sh.Master]
		if !seen {
			since = now
			c.failSince[sh.Master] = now
		}
		c.mu.Unlock()
		if !seen {
			c.log.Warn("master is FAIL", "shard", sh.ID, "master", sh.Master, "epoch", sh.Epoch)
		}
		// Only offsets reported after the master fell silent are final.
		best := c.bestReplica(st, sh, since.Add(-c.cfg.downAfter), "")
		if best == "" {
			return nil // no candidate yet: retry next tick
		}
		return c.setMaster(sh, best, false, "master FAIL")
	}
	c.mu.Lock()
	delete(c.failSince, sh.Master)
	c.mu.Unlock()
	if sh.Handoff == nil {
		return nil
	}
	return c.tendHandoff(sh, now)
}

// failed: FAIL agreed by gossip and silent, as the leader hears it, for
// at least down-after (a node it never heard from: since it watched it,
// see watchLoop). Gossip can agree sooner (a refused connection is
// quick to see), but the old master's lease is only guaranteed to have
// run out after down-after: two masters must never take writes together.
func (c *Control) failed(id string) bool {
	if !c.det.Failed(id) {
		return false
	}
	quiet, _ := c.det.Silence(id)
	return quiet >= c.cfg.downAfter
}

// tendHandoff completes a graceful failover once the target has every
// byte the frozen master wrote.
func (c *Control) tendHandoff(sh *raftfsm.Shard, now time.Time) error {
	h := sh.Handoff
	if now.UnixMilli() > h.Deadline {
		c.log.Warn("manual failover timed out: resuming the old master", "shard", sh.ID, "target", h.Target)
		return c.host.Apply(raftfsm.Command{Op: raftfsm.OpEndHandoff, Shard: sh.ID, PrevEpoch: sh.Epoch}, applyTimeout)
	}
	c.mu.Lock()
	saw, ok := c.handoffSaw[sh.ID]
	if !ok {
		saw = now
		c.handoffSaw[sh.ID] = now
	}
	c.mu.Unlock()
	mr, ok1 := c.det.Report(sh.Master)
	tr, ok2 := c.det.Report(h.Target)
	// The master's report must be frozen and sent after any write that
	// slipped in before the freeze: wait two report periods.
	settle := saw.Add(c.cfg.downAfter / 5)
	if !ok1 || !ok2 || !mr.Meta.Frozen || mr.Received.Before(settle) || tr.Received.Before(settle) {
		return nil
	}
	if tr.Meta.Offset < mr.Meta.Offset {
		return nil
	}
	c.mu.Lock()
	delete(c.handoffSaw, sh.ID)
	c.mu.Unlock()
	return c.setMaster(sh, h.Target, true, "manual failover: replica caught up")
}

// unsyncedReason is /status's reason for a shard whose master was promoted
// without ever having synced from the master it replaced.
const unsyncedReason = "promoted a replica that never synced from the failed master: writes only that master took are lost"

// setMaster commits id as sh's master. A shard must not stay down forever:
// when the old master died before any replica synced from it (killed as
// the cluster formed, say), the best reachable replica (bestReplica) is
// promoted anyway, and the record marks the shard Unsynced: a warning in
// the log, a reason in /status and warden_failovers_unsynced_total.
func (c *Control) setMaster(sh *raftfsm.Shard, id string, manual bool, why string) error {
	unsynced := sh.Master != "" && !c.synced(id)
	err := c.host.Apply(raftfsm.Command{Op: raftfsm.OpSetMaster, Shard: sh.ID, ID: id, PrevEpoch: sh.Epoch, Manual: manual,
		Unsynced: unsynced}, applyTimeout)
	if err != nil {
		return fmt.Errorf("promote %s in shard %d: %w", id, sh.ID, err)
	}
	if unsynced {
		why += "; " + unsyncedReason
	}
	c.log.Warn("promoted a new master", "shard", sh.ID, "old", sh.Master, "new", id, "why", why, "epoch", sh.Epoch+1,
		"synced", !unsynced)
	return nil
}

// synced: id reports it completed a sync with the master it follows.
func (c *Control) synced(id string) bool {
	r, ok := c.det.Report(id)
	return ok && r.Meta.Synced
}

// bestReplica picks the replica to promote: never priority 0 or a FAIL
// node; then lowest priority, highest replication offset, lowest run id —
// Sentinel's order. Reports older than freshAfter are not trusted.
func (c *Control) bestReplica(st *raftfsm.State, sh *raftfsm.Shard, freshAfter time.Time, only string) string {
	type cand struct {
		id     string
		prio   int
		offset int64
		runID  string
	}
	var cs []cand
	for _, id := range sh.Replicas {
		if (only != "" && id != only) || c.det.Failed(id) {
			continue
		}
		r, ok := c.det.Report(id)
		if !ok || r.Received.Before(freshAfter) || r.Meta.Priority == 0 {
			continue
		}
		cs = append(cs, cand{id, r.Meta.Priority, r.Meta.Offset, r.Meta.RunID})
	}
	if len(cs) == 0 {
		return ""
	}
	slices.SortFunc(cs, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.prio, b.prio), cmp.Compare(b.offset, a.offset), cmp.Compare(a.runID, b.runID))
	})
	return cs[0].id
}

// failover runs a manual failover of shard to target ("" = the best
// replica). Graceful: the master freezes, the target catches up, then the
// switch is committed; force switches at once. Runs on the leader.
func (c *Control) failover(ctx context.Context, shard int, target string, force bool) (string, error) {
	if !c.isLeader() {
		return "", errNotLeader
	}
	st := c.host.FSM.State()
	sh := st.Shard(shard)
	if sh == nil {
		return "", fmt.Errorf("shard %d: %w", shard, httpapi.ErrUnknownShard)
	}
	if target == "" {
		target = c.bestReplica(st, sh, time.Now().Add(-c.cfg.downAfter), "")
	} else if !slices.Contains(sh.Replicas, target) {
		return "", fmt.Errorf("%s is not a replica of shard %d: %w", target, shard, httpapi.ErrInvalid)
	} else {
		target = c.bestReplica(st, sh, time.Now().Add(-c.cfg.downAfter), target)
	}
	if target == "" {
		return "", errNoGoodReplica
	}
	if force || sh.Master == "" || c.failed(sh.Master) {
		return target, c.setMaster(sh, target, true, "forced manual failover")
	}
	deadline := time.Now().Add(10 * time.Second)
	if err := c.host.Apply(raftfsm.Command{Op: raftfsm.OpBeginHandoff, Shard: shard, ID: target, PrevEpoch: sh.Epoch,
		Deadline: deadline.UnixMilli()}, applyTimeout); err != nil {
		return "", err
	}
	for {
		changed := c.host.FSM.Changed()
		now := c.host.FSM.State().Shard(shard)
		if now.Epoch != sh.Epoch {
			if now.Master == target {
				return target, nil
			}
			return "", fmt.Errorf("shard %d changed master to %s meanwhile", shard, now.Master)
		}
		if now.Handoff == nil {
			return "", errors.New("failover aborted: the replica did not catch up in time")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var (
	errNotLeader     = httpapi.ErrNotLeader
	errNoGoodReplica = fmt.Errorf("NOGOODSLAVE No suitable replica to promote: %w", httpapi.ErrUnavailable)
)

func sameRecord(a, b raftfsm.Node) bool {
	a.Shard, b.Shard = 0, 0
	return a == b
}
