package control

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
)

// registerLoop gets this node into the record (the leader adds itself; any
// other node asks the leader over HTTP, through --join or through the
// leader's address once the log names it) and keeps gossip joined to every
// node the record lists. A record change wakes it at once: a new leader
// (whose first entry adds itself) is asked without waiting out the backoff,
// and gossip meets new members, so that votes on a master that died as the
// cluster formed can count (see watchLoop).
func (c *Control) registerLoop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		changed := c.host.FSM.Changed()
		st := c.host.FSM.State()
		registered := false
		if n := st.Nodes[c.cfg.id]; n != nil && sameRecord(*n, c.self) {
			registered = true
		} else if !c.isLeader() {
			if err := c.register(ctx); err != nil {
				c.log.Debug("registration pending", "err", err)
			}
		}
		c.joinGossip(st)
		wait := time.Second
		if !registered {
			wait = backoff
			backoff = min(backoff*2, 2*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(wait):
		}
	}
}

// register asks the leader to add this node.
func (c *Control) register(ctx context.Context) error {
	req := httpapi.JoinRequest{ID: c.self.ID, RaftAddr: c.self.RaftAddr, GossipAddr: c.self.GossipAddr,
		HTTPAddr: c.self.HTTPAddr, RedisAddr: c.self.RedisAddr, SentinelAddr: c.self.SentinelAddr,
		Host: c.self.Host, Voter: c.self.Voter, Priority: c.self.Priority, ClusterID: c.self.ClusterID}
	body, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// --join names any node (it forwards to the leader); without it, ask
	// the leader the log names.
	msg, err := c.postLeader(ctx, c.cfg.join, "/join", body)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	var jr httpapi.JoinResponse
	if json.Unmarshal(msg, &jr) == nil && len(jr.GossipAddrs) > 0 {
		c.det.Join(jr.GossipAddrs)
	}
	c.log.Info("joined the cluster", "via", cmp.Or(c.cfg.join, "the raft leader"))
	return nil
}

// watchLoop has gossip watch every node the record names from the moment
// this node applies it, so the leader watches each one at the latest from
// when it took leadership or the node entered the record. A node gossip
// never heard from (a master killed as the cluster formed, before gossip
// met it) is then silent from that moment and fails after down-after
// like any other, instead of never failing.
func (c *Control) watchLoop(ctx context.Context) {
	for {
		changed := c.host.FSM.Changed()
		c.det.Watch(c.host.FSM.State().NodeIDs())
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// joinGossip joins gossip to record members it has not met yet (a member
// only watched, never heard from, has neither address nor report).
func (c *Control) joinGossip(st *raftfsm.State) {
	known := map[string]bool{}
	for _, m := range c.det.Members() {
		known[m.ID] = m.Addr != "" || !m.LastHeard.IsZero()
	}
	var addrs []string
	for _, id := range st.NodeIDs() {
		if n := st.Nodes[id]; !known[id] && id != c.cfg.id && n.GossipAddr != "" {
			addrs = append(addrs, n.GossipAddr)
		}
	}
	if len(addrs) > 0 {
		if err := c.det.Join(addrs); err != nil {
			c.log.Debug("gossip join", "err", err)
		}
	}
}

// join adds a node on the leader: to the Raft configuration (voter or
// not), then to the record, where placement happens.
func (c *Control) join(req httpapi.JoinRequest) (httpapi.JoinResponse, error) {
	var out httpapi.JoinResponse
	if !c.isLeader() {
		return out, httpapi.ErrNotLeader
	}
	if req.ID == "" || req.RaftAddr == "" || req.RedisAddr == "" {
		return out, fmt.Errorf("join needs id, raft_addr and redis_addr")
	}
	cf := c.host.Raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return out, fmt.Errorf("read raft configuration: %w", err)
	}
	present := false
	for _, s := range cf.Configuration().Servers {
		if s.ID == raft.ServerID(req.ID) {
			present = s.Address == raft.ServerAddress(req.RaftAddr)
		}
	}
	if !present {
		var f raft.IndexFuture
		if req.Voter {
			f = c.host.Raft.AddVoter(raft.ServerID(req.ID), raft.ServerAddress(req.RaftAddr), 0, applyTimeout)
		} else {
			f = c.host.Raft.AddNonvoter(raft.ServerID(req.ID), raft.ServerAddress(req.RaftAddr), 0, applyTimeout)
		}
		if err := f.Error(); err != nil {
			return out, fmt.Errorf("add %s to raft: %w", req.ID, err)
		}
	}
	n := raftfsm.Node{ID: req.ID, RaftAddr: req.RaftAddr, GossipAddr: req.GossipAddr, HTTPAddr: req.HTTPAddr,
		RedisAddr: req.RedisAddr, SentinelAddr: req.SentinelAddr, Host: req.Host, Voter: req.Voter, Priority: req.Priority,
		ClusterID: req.ClusterID}
	if req.ClusterID != "" && !raftfsm.ValidClusterID(req.ClusterID) {
		return out, fmt.Errorf("join: cluster_id %q is not 40 hex digits", req.ClusterID)
	}
	if err := c.host.Apply(raftfsm.Command{Op: raftfsm.OpAddNode, Node: &n}, applyTimeout); err != nil {
		return out, err
	}
	st := c.host.FSM.State()
	for _, id := range st.NodeIDs() {
		if g := st.Nodes[id].GossipAddr; g != "" && id != req.ID {
			out.GossipAddrs = append(out.GossipAddrs, g)
		}
	}
	c.log.Info("node joined", "id", req.ID, "voter", req.Voter, "redis", req.RedisAddr)
	return out, nil
}
