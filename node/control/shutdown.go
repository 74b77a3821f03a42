package control

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
)

// HandOff implements node.Cluster: before this node exits (SIGTERM,
// SHUTDOWN), a master hands its shard to a caught-up replica with the same
// frozen catch-up handoff as a manual failover, and a Raft leader hands
// its leadership over, so that neither waits for failure detection.
func (c *Control) HandOff(ctx context.Context) error {
	return errors.Join(c.handOffShard(ctx), c.handOffLeadership())
}

// handOffShard asks the leader for a graceful failover of this master's
// shard and returns once the record applied here names the new master.
func (c *Control) handOffShard(ctx context.Context) error {
	sh, master, ok := c.host.FSM.State().Role(c.cfg.id)
	if !ok || !master {
		return nil
	}
	// Without a leader that hears a majority nothing can be committed:
	// exit now rather than wait out shutdown-timeout.
	if id, _ := c.leaderInfo(); id == "" || (c.isLeader() && time.Since(time.Unix(0, c.quorumAt.Load())) >= c.cfg.lease) {
		return fmt.Errorf("hand shard %d over: no raft leader with a majority", sh.ID)
	}
	start := time.Now()
	c.log.Info("shutdown: handing the shard to a replica", "shard", sh.ID, "epoch", sh.Epoch)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	asked := make(chan error, 1)
	go func() { _, err := c.requestFailover(ctx, sh.ID, "", false); asked <- err }()
	go c.confirmHandoff(ctx)
	for c.fsmNamed.Load() {
		changed := c.host.FSM.Changed()
		if !c.fsmNamed.Load() {
			break
		}
		select {
		case err := <-asked:
			if err != nil {
				return fmt.Errorf("hand shard %d over: %w", sh.ID, err)
			}
			asked = nil // switched: wait until it is applied here
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("hand shard %d over: %w", sh.ID, ctx.Err())
		}
	}
	c.log.Info("shutdown: shard handed over", "shard", sh.ID, "new_master", c.host.FSM.State().Shard(sh.ID).Master,
		"took_ms", time.Since(start).Milliseconds())
	return nil
}

// confirmHandoff shortens a handoff of this master's shard: once frozen,
// the master itself sees the target acknowledge its every byte (REPLCONF
// ACK, at once on GETACK) and tells the leader (completeHandoff), sooner
// than the leader can tell from gossip reports. Should it fail, the
// leader's own check (tendHandoff) still completes the handoff.
func (c *Control) confirmHandoff(ctx context.Context) {
	for {
		changed := c.host.FSM.Changed()
		sh, master, ok := c.host.FSM.State().Role(c.cfg.id)
		if !ok || !master {
			return // switched meanwhile
		}
		if h := sh.Handoff; h != nil && c.frozen.Load() {
			off, err := c.srv.ReplicaCaughtUp(ctx, h.Target)
			if err == nil {
				err = c.requestCompleteHandoff(ctx, sh.ID, h.Target, sh.Epoch)
			}
			if err != nil {
				c.log.Info("handoff: leaving the catch-up check to the leader", "shard", sh.ID, "target", h.Target, "err", err)
				return
			}
			c.log.Info("handoff: target caught up with the frozen master", "shard", sh.ID, "target", h.Target, "offset", off)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// requestCompleteHandoff runs completeHandoff on the Raft leader: here,
// or over its HTTP API.
func (c *Control) requestCompleteHandoff(ctx context.Context, shard int, target string, epoch uint64) error {
	if c.isLeader() {
		return c.completeHandoff(shard, target, epoch)
	}
	q := url.Values{"shard": {strconv.Itoa(shard)}, "target": {target}, "epoch": {strconv.FormatUint(epoch, 10)}}
	_, err := c.postLeader(ctx, "", "/failover?"+q.Encode(), nil)
	return err
}

// completeHandoff switches shard to target if the handoff to it is still
// under way at epoch: its frozen master saw target catch up. Runs on the
// leader; the switch is a compare-and-set on the epoch.
func (c *Control) completeHandoff(shard int, target string, epoch uint64) error {
	if !c.isLeader() {
		return errNotLeader
	}
	sh := c.host.FSM.State().Shard(shard)
	if sh == nil {
		return fmt.Errorf("shard %d: %w", shard, httpapi.ErrUnknownShard)
	}
	if sh.Epoch != epoch || sh.Handoff == nil || sh.Handoff.Target != target {
		return fmt.Errorf("shard %d has no handoff to %s at epoch %d: %w", shard, target, epoch, httpapi.ErrUnavailable)
	}
	return c.setMaster(sh, target, true, "handoff: the frozen master saw the replica catch up")
}

// handOffLeadership transfers Raft leadership rather than leaving the
// others to notice the silence and elect a leader: to the master this node
// handed its shard to when that is a voter (a leader holds its master lease
// from its own quorum, at once, instead of waiting for a grant by gossip),
// else to the most up-to-date voter.
func (c *Control) handOffLeadership() error {
	if !c.isLeader() {
		return nil
	}
	start := time.Now()
	// Followers learn that the switch committed only with the next
	// append: send one now (a mark), so the new master applies its
	// promotion at once rather than after the transfer and an election.
	if err := c.host.Apply(raftfsm.Command{Op: raftfsm.OpMark}, applyTimeout); err != nil {
		c.log.Warn("shutdown: mark before the leadership transfer failed", "err", err)
	}
	f, to := c.host.Raft.LeadershipTransfer, "any voter"
	st := c.host.FSM.State()
	if n := st.MasterNode(int(c.myShard.Load())); n != nil && n.ID != c.cfg.id && c.isVoter(n.ID) {
		f = func() raft.Future {
			return c.host.Raft.LeadershipTransferToServer(raft.ServerID(n.ID), raft.ServerAddress(n.RaftAddr))
		}
		to = n.ID
	}
	if err := f().Error(); err != nil {
		return fmt.Errorf("transfer raft leadership to %s: %w", to, err)
	}
	c.log.Info("shutdown: raft leadership transferred", "to", to, "took_ms", time.Since(start).Milliseconds())
	return nil
}

func (c *Control) isVoter(id string) bool {
	voters, err := c.host.Voters()
	return err == nil && slices.Contains(voters, raft.ServerID(id))
}
