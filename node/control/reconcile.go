package control

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/gossip"
	"github.com/wardenkv/warden/raftfsm"
)

// leaseLoop keeps the master lease: a master takes writes only while the
// control plane majority vouches for it, measured from send times on this
// node's own clock so that a pause or a delayed message can never extend it.
// A Raft leader holds a lease from the send time of the heartbeats a quorum
// accepted (no other leader can exist before then plus an election
// timeout); any other master from the send time of its own report that the
// leader echoed back as a grant (leaseGrants). A lease is renewed only when
// the record is applied up to the commit index: a master waking from a
// pause must first apply whatever demoted it.
func (c *Control) leaseLoop(ctx context.Context) {
	t := time.NewTicker(min(c.cfg.lease/10, 25*time.Millisecond))
	defer t.Stop()
	var voters []raft.ServerID
	var votersAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r := c.host.Raft
		if time.Since(votersAt) > 500*time.Millisecond {
			if v, err := c.host.Voters(); err == nil {
				voters, votersAt = v, time.Now()
			}
		}
		var until time.Time
		if r.State() == raft.Leader {
			q := c.host.QuorumContact(voters)
			c.quorumAt.Store(q.UnixNano())
			if !q.IsZero() {
				until = q.Add(c.cfg.lease)
			}
		} else {
			c.quorumAt.Store(0)
			until = c.grantedUntil()
		}
		if until.IsZero() || c.host.FSM.Index() < r.CommitIndex() {
			continue
		}
		for { // only ever extend: every bound was valid when computed
			cur := c.leaseUntil.Load()
			if until.UnixNano() <= cur || c.leaseUntil.CompareAndSwap(cur, until.UnixNano()) {
				break
			}
		}
	}
}

// grantedUntil is the lease the Raft leader's latest report grants this node.
func (c *Control) grantedUntil() time.Time {
	_, lid := c.host.Raft.LeaderWithID()
	if lid == "" || string(lid) == c.cfg.id {
		return time.Time{}
	}
	rep, ok := c.det.Report(string(lid))
	if !ok {
		return time.Time{}
	}
	t0, ok := rep.Meta.Grants[c.cfg.id]
	if !ok || t0 <= 0 {
		return time.Time{}
	}
	return time.Unix(0, t0).Add(c.cfg.lease)
}

// leaseGrants is what a leader with a fresh quorum vouches for: every other
// master the record names, at the epoch it reports, gets its own lease
// request echoed back.
func (c *Control) leaseGrants() map[string]int64 {
	q := c.quorumAt.Load()
	if q <= 0 || time.Since(time.Unix(0, q)) >= c.cfg.lease || !c.isLeader() {
		return nil
	}
	var out map[string]int64
	for _, sh := range c.host.FSM.State().Shards {
		if sh.Master == "" || sh.Master == c.cfg.id {
			continue
		}
		rep, ok := c.det.Report(sh.Master)
		if !ok || rep.Meta.LeaseReq <= 0 || rep.Meta.Epoch != sh.Epoch {
			continue
		}
		if out == nil {
			out = map[string]int64{}
		}
		out[sh.Master] = rep.Meta.LeaseReq
	}
	return out
}

// hearsMajority: see hearsMajorityAt.
func (c *Control) hearsMajority() bool {
	var raftAt time.Time
	if c.isLeader() {
		if q := c.quorumAt.Load(); q > 0 {
			raftAt = time.Unix(0, q)
		}
	} else {
		raftAt = c.host.LeaderContact()
	}
	voters := 0
	var reports []time.Time
	for id, n := range c.host.FSM.State().Nodes {
		if !n.Voter {
			continue
		}
		voters++
		if r, ok := c.det.Report(id); ok { // this node's own is always fresh
			reports = append(reports, r.Received)
		}
	}
	return hearsMajorityAt(time.Now(), raftAt, reports, voters, c.cfg.lease)
}

// hearsMajorityAt: within the last lease this node, as Raft leader, had
// its heartbeats accepted by a quorum, or accepted a leader's (raftAt is
// the later of those), or (between leaders, during an election) got gossip
// reports from a majority of the voters (reports: when it last heard
// each voter it has heard). Only then is the record it serves current:
// cut off, it cannot know that a new master was promoted, and must not
// tell clients the old one (often itself).
func hearsMajorityAt(now, raftAt time.Time, reports []time.Time, voters int, lease time.Duration) bool {
	if !raftAt.IsZero() && now.Sub(raftAt) < lease {
		return true
	}
	heard := 0
	for _, at := range reports {
		if now.Sub(at) < lease {
			heard++
		}
	}
	return heard > voters/2
}

// observe runs inside the FSM's apply: once the record stops naming this
// node master, writes stop before the entry counts as applied.
func (c *Control) observe(st *raftfsm.State) {
	// The slot table is derived here, once per applied change, so a
	// command's routing check is one atomic load.
	c.publishSlots(st)
	sh, master, ok := st.Role(c.cfg.id)
	c.fenceMu.Lock()
	defer c.fenceMu.Unlock()
	c.fsmNamed.Store(ok && master)
	if !ok || !master {
		c.fsmMaster.Store(false)
		c.frozen.Store(false)
		return
	}
	c.frozen.Store(sh.Handoff != nil)
}

// WriteRefusal implements node.Cluster: the fence on a master's writes.
func (c *Control) WriteRefusal() string {
	if !c.fsmMaster.Load() {
		return "READONLY You can't write against a read only replica."
	}
	if c.frozen.Load() {
		return "READONLY Writes are paused: a manual failover is handing this shard to a replica."
	}
	if time.Now().UnixNano() >= c.leaseUntil.Load() {
		// READONLY, not CLUSTERDOWN: Sentinel clients (go-redis, redis-py,
		// Jedis) drop the connection on READONLY and ask the sentinels
		// again, which is what a client of a cut-off master must do; on
		// CLUSTERDOWN they would retry here until the partition heals.
		return "READONLY The master lost contact with the control plane majority; writes are fenced."
	}
	return ""
}

// MasterEpoch implements node.Cluster.
func (c *Control) MasterEpoch() (bool, uint64) {
	return c.fsmMaster.Load(), c.shardEpoch.Load()
}

// MyID implements node.Cluster: the 40-hex id in cluster mode, else the
// node's name (what Sentinel-mode CLUSTER NODES shows).
func (c *Control) MyID() string {
	if c.cfg.clusterEnabled {
		return c.self.ClusterID
	}
	return c.cfg.id
}

// Name implements node.Cluster: the record's id of this node. In cluster
// mode MyID is the 40-hex id, which the record's handoffs do not use.
func (c *Control) Name() string { return c.cfg.id }

// reconcileLoop makes the data node what the record says, on every change
// and periodically (a missed change, a link that went down).
func (c *Control) reconcileLoop(ctx context.Context) {
	select { // roles change only once the node's own data is loaded
	case <-ctx.Done():
		return
	case <-c.srv.Started():
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		changed := c.host.FSM.Changed()
		st := c.host.FSM.State()
		c.reconcile(st)
		c.announceSwitches(st)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		}
	}
}

func (c *Control) reconcile(st *raftfsm.State) {
	sh, master, ok := st.Role(c.cfg.id)
	if n := st.Nodes[c.cfg.id]; n != nil {
		c.myShard.Store(int64(n.Shard))
	}
	if !ok {
		c.fsmMaster.Store(false)
		c.reconciled.Store(false)
		return
	}
	c.shardEpoch.Store(sh.Epoch)
	if master {
		if addr, _ := c.srv.Following(); addr != "" {
			c.log.Info("record names this node master: promoting", "shard", sh.ID, "epoch", sh.Epoch)
			c.srv.Promote()
		}
		// st may already be stale: lift the fence only if the record as
		// applied still names this node (observe holds fenceMu too).
		c.fenceMu.Lock()
		c.fsmMaster.Store(c.fsmNamed.Load())
		c.fenceMu.Unlock()
		c.reconciled.Store(true)
		return
	}
	// Fence first, then move: no write may land after the record named
	// someone else.
	wasMaster := c.fsmMaster.Swap(false)
	m := st.Nodes[sh.Master]
	if m == nil {
		c.reconciled.Store(false)
		return
	}
	host, portStr, err := net.SplitHostPort(m.RedisAddr)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil {
		c.log.Error("master has a bad address in the record", "master", m.ID, "addr", m.RedisAddr)
		return
	}
	cur, _ := c.srv.Following()
	if cur != net.JoinHostPort(host, portStr) {
		c.log.Info("record names another master: following", "master", m.ID, "addr", m.RedisAddr, "epoch", sh.Epoch)
		c.srv.Follow(host, port)
		if wasMaster || cur == "" {
			// As Sentinel's CLIENT KILL on demotion: clients re-discover
			// the master instead of looping on -READONLY.
			// A fresh node joining as a replica has none: say nothing.
			if n := c.srv.KillNormalClients(); n > 0 {
				c.log.Info("demoted: disconnected clients", "clients", n)
			}
		}
	}
	_, up := c.srv.Following()
	c.reconciled.Store(up)
}

// announceSwitches publishes +switch-master on the Sentinel listener when
// a shard's master changes in the record.
func (c *Control) announceSwitches(st *raftfsm.State) {
	c.mu.Lock()
	prev := c.lastState
	c.lastState = st
	c.mu.Unlock()
	if prev == nil || c.sent == nil {
		return
	}
	for _, sh := range st.Shards {
		old := prev.MasterNode(sh.ID)
		cur := st.MasterNode(sh.ID)
		if old == nil || cur == nil || old.RedisAddr == cur.RedisAddr {
			continue
		}
		oh, op, _ := net.SplitHostPort(old.RedisAddr)
		nh, np, _ := net.SplitHostPort(cur.RedisAddr)
		msg := fmt.Sprintf("%s %s %s %s %s", sh.Name, oh, op, nh, np)
		c.sent.Publish("+switch-master", msg)
		c.log.Info("+switch-master", "msg", msg)
	}
}

// localMeta is what gossip reports about this node.
func (c *Control) localMeta() gossip.Meta {
	addr, up := c.srv.Following()
	role := "master"
	if addr != "" {
		role = "replica"
	}
	m := gossip.Meta{ID: c.cfg.id, Role: role, Shard: int(c.myShard.Load()), Epoch: c.shardEpoch.Load(), Offset: c.srv.ReplOffset(),
		Priority: c.cfg.priority, RunID: c.srv.RunID(), RedisAddr: c.self.RedisAddr, Frozen: c.frozen.Load(), LinkUp: up, Synced: c.srv.Synced(),
		Grants: c.leaseGrants()}
	if c.fsmNamed.Load() {
		m.LeaseReq = time.Now().UnixNano()
	}
	return m
}
