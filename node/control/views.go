package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardenkv/warden/clusterview"
	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/node/sentinel"
	"github.com/wardenkv/warden/slotmap"
)

// memberState is a node's failure state as this node sees it.
func (c *Control) memberState(id string) string {
	switch {
	case id == c.cfg.id:
		return "alive"
	case c.det.Failed(id):
		return "fail"
	case c.det.PFail(id):
		return "pfail"
	}
	return "alive"
}

// status builds /status from the record, Raft and gossip.
func (c *Control) status() httpapi.Status {
	st := c.host.FSM.State()
	stats := c.host.Raft.Stats()
	u := func(k string) uint64 { v, _ := strconv.ParseUint(stats[k], 10, 64); return v }
	out := httpapi.Status{NodeID: c.cfg.id, Epoch: st.Epoch, Leader: c.leader(),
		Raft: httpapi.RaftStatus{State: c.host.Raft.State().String(), Term: u("term"),
			LastLogIndex: u("last_log_index"), CommitIndex: u("commit_index"), AppliedIndex: u("applied_index")}}
	for _, sh := range st.Shards {
		s := httpapi.Shard{ID: sh.ID, Name: sh.Name, Master: sh.Master, Replicas: append([]string{}, sh.Replicas...),
			Epoch: sh.Epoch, Slots: rangesString(sh.Slots)}
		if sh.Unsynced {
			s.Reason = unsyncedReason
		}
		s.Removed = sh.Removed
		if m := st.Nodes[sh.Master]; m != nil {
			s.MasterAddr = m.RedisAddr
		}
		out.Shards = append(out.Shards, s)
	}
	for _, id := range st.NodeIDs() {
		n := st.Nodes[id]
		m := httpapi.Member{ID: id, Addr: n.RedisAddr, State: c.memberState(id), Shard: n.Shard, Voter: n.Voter, HTTPAddr: n.HTTPAddr}
		// The role is the record's, as in the shard list: a dead old
		// master's last gossip report still says master.
		sh, master, ok := st.Role(id)
		if ok {
			m.Role = "replica"
			if master {
				m.Role = "master"
			}
		}
		r, reported := c.det.Report(id)
		if reported {
			m.Offset = r.Meta.Offset
		}
		if ok && !master && reported {
			if mr, ok := c.det.Report(sh.Master); ok {
				m.Lag = max(mr.Meta.Offset-m.Offset, 0)
			}
		}
		out.Members = append(out.Members, m)
	}
	if c.cfg.clusterEnabled {
		out.Migrations = c.migrationsView(st, true)
	}
	return out
}

func rangesString(rs []slotmap.Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, " ")
}

func (c *Control) leader() httpapi.LeaderInfo {
	addr, id := c.host.Raft.LeaderWithID()
	li := httpapi.LeaderInfo{NodeID: string(id), RaftAddr: string(addr)}
	if n := c.host.FSM.State().Nodes[string(id)]; n != nil {
		li.HTTPAddr = n.HTTPAddr
	}
	return li
}

// ready: a leader is known, this node is in the record and has become
// what the record says (a master, or a replica with its link up).
func (c *Control) ready() (bool, string) {
	if id, _ := c.leaderInfo(); id == "" {
		return false, "no raft leader"
	}
	st := c.host.FSM.State()
	if _, _, ok := st.Role(c.cfg.id); !ok {
		return false, "not placed in the cluster record yet"
	}
	if !c.reconciled.Load() {
		return false, "not reconciled to the cluster record (master link down?)"
	}
	return true, ""
}

// Failover implements node.Cluster (CLUSTER FAILOVER on a replica).
func (c *Control) Failover(ctx context.Context, force bool) error {
	if err := c.refuseUnguardedFailover(); err != nil {
		return err
	}
	shard := int(c.myShard.Load())
	if shard < 0 {
		return fmt.Errorf("this node is not placed in a shard")
	}
	_, err := c.requestFailover(ctx, shard, c.cfg.id, force)
	return err
}

// requestFailover runs a manual failover where it must run, on the Raft
// leader: here, or by asking the leader over HTTP (remote reports which).
func (c *Control) requestFailover(ctx context.Context, shard int, target string, force bool) (remote bool, err error) {
	if c.isLeader() {
		_, err := c.failover(ctx, shard, target, force)
		return false, err
	}
	q := url.Values{"shard": {strconv.Itoa(shard)}}
	if target != "" {
		q.Set("target", target)
	}
	if force {
		q.Set("force", "1")
	}
	_, err = c.postLeader(ctx, "", "/failover?"+q.Encode(), nil)
	return true, err
}

// postLeader POSTs to the Raft leader's HTTP API (or to base, when given),
// signed with the cluster secret, returning the body of a 200 answer.
func (c *Control) postLeader(ctx context.Context, base, path string, body []byte) ([]byte, error) {
	if base == "" {
		_, li := c.leaderInfo()
		if li == nil {
			return nil, fmt.Errorf("no raft leader known yet")
		}
		base = li.HTTPAddr
	}
	u := httpapi.BaseURL(base, c.cfg.tlsCluster) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cfg.secret != "" {
		httpapi.SignRequest(req, c.cfg.secret, body)
	}
	resp, err := c.peer.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("POST %s: %s: %s", u, resp.Status, bytes.TrimSpace(msg))
	}
	return msg, nil
}

// Health implements node.Cluster: gossip's view of node name.
func (c *Control) Health(name string) clusterview.Health {
	switch c.memberState(name) {
	case "fail":
		return clusterview.Fail
	case "pfail":
		return clusterview.PFail
	}
	return clusterview.Alive
}

// Offset implements node.Cluster: the replication offset name last
// gossiped (this node's own, live).
func (c *Control) Offset(name string) int64 {
	if name == c.cfg.id {
		return c.srv.ReplOffset()
	}
	if r, ok := c.det.Report(name); ok {
		return r.Meta.Offset
	}
	return 0
}

// httpView adapts Control to httpapi.View.
type httpView struct{ c *Control }

func (v httpView) Status() httpapi.Status     { return v.c.status() }
func (v httpView) Ready() (bool, string)      { return v.c.ready() }
func (v httpView) IsLeader() bool             { return v.c.isLeader() }
func (v httpView) Leader() httpapi.LeaderInfo { return v.c.leader() }
func (v httpView) Join(_ context.Context, req httpapi.JoinRequest) (httpapi.JoinResponse, error) {
	return v.c.join(req)
}
func (v httpView) Failover(ctx context.Context, shard int, target string, force bool) error {
	_, err := v.c.failover(ctx, shard, target, force)
	return err
}
func (v httpView) CompleteHandoff(_ context.Context, shard int, target string, epoch uint64) error {
	return v.c.completeHandoff(shard, target, epoch)
}

// metricsView adapts Control to httpapi.Metrics.
type metricsView struct{ c *Control }

func (m metricsView) RaftState() string { return m.c.host.Raft.State().String() }
func (m metricsView) RaftTerm() uint64 {
	v, _ := strconv.ParseUint(m.c.host.Raft.Stats()["term"], 10, 64)
	return v
}
func (m metricsView) Failovers() uint64 { return m.c.host.FSM.State().Failovers }
func (m metricsView) UnsyncedFailovers() uint64 {
	return m.c.host.FSM.State().UnsyncedFailovers
}
func (m metricsView) Epoch() uint64 { return m.c.host.FSM.State().Epoch }
func (m metricsView) Role() string {
	if addr, _ := m.c.srv.Following(); addr != "" {
		return "replica"
	}
	return "master"
}
func (m metricsView) ReplOffset() int64             { return m.c.srv.ReplOffset() }
func (m metricsView) ReplicaLags() map[string]int64 { return m.c.srv.ReplicaLags() }
func (m metricsView) CommandsProcessed() uint64     { return m.c.srv.CommandsProcessed() }
func (m metricsView) ConnectedClients() int         { return m.c.srv.ConnectedClients() }

// sentinelView adapts Control to sentinel.View.
type sentinelView struct{ c *Control }

func (v sentinelView) MyID() string { return v.c.cfg.id }

func splitAddr(hp string) sentinel.Addr {
	h, p, _ := net.SplitHostPort(hp)
	port, _ := strconv.Atoi(p)
	return sentinel.Addr{Host: h, Port: port}
}

func (v sentinelView) Masters() []sentinel.Master {
	c := v.c
	st := c.host.FSM.State()
	voters := 0
	for _, n := range st.Nodes {
		if n.Voter {
			voters++
		}
	}
	var out []sentinel.Master
	for _, sh := range st.Shards {
		if sh.Removed {
			continue // retired: no master to discover
		}
		m := sentinel.Master{Name: sh.Name, ID: sh.Master, Epoch: sh.Epoch, Quorum: voters/2 + 1,
			FailoverInProgress: sh.Handoff != nil, DownAfterMs: c.cfg.downAfter.Milliseconds()}
		if n := st.Nodes[sh.Master]; n != nil {
			m.Addr = splitAddr(n.RedisAddr)
			m.Down = c.det.Failed(n.ID)
			if r, ok := c.det.Report(n.ID); ok {
				m.RunID = r.Meta.RunID
			}
		}
		for _, id := range sh.Replicas {
			n := st.Nodes[id]
			if n == nil {
				continue
			}
			rp := sentinel.Replica{ID: id, Addr: splitAddr(n.RedisAddr), Down: c.det.Failed(id), Priority: n.Priority}
			if r, ok := c.det.Report(id); ok {
				rp.RunID, rp.LinkUp, rp.Offset = r.Meta.RunID, r.Meta.LinkUp, r.Meta.Offset
			}
			m.Replicas = append(m.Replicas, rp)
		}
		out = append(out, m)
	}
	return out
}

// errCutOff is the Sentinel port's answer to discovery while this node
// does not hear the control-plane majority.
var errCutOff = errors.New("NOQUORUM This node cannot reach the control plane majority, so its record may name a replaced master: ask another sentinel")

func (v sentinelView) Vouch() error {
	if !v.c.hearsMajority() {
		return errCutOff
	}
	return nil
}

func (v sentinelView) Sentinels() []sentinel.Peer {
	c := v.c
	st := c.host.FSM.State()
	var out []sentinel.Peer
	for _, id := range st.NodeIDs() {
		n := st.Nodes[id]
		if id == c.cfg.id || n.SentinelAddr == "" {
			continue
		}
		p := sentinel.Peer{ID: id, Addr: splitAddr(n.SentinelAddr), Down: c.det.Failed(id)}
		if r, ok := c.det.Report(id); ok {
			p.RunID = r.Meta.RunID
		}
		out = append(out, p)
	}
	return out
}

func (v sentinelView) shardByName(name string) (int, bool) {
	for _, sh := range v.c.host.FSM.State().Shards {
		if sh.Name == name {
			return sh.ID, true
		}
	}
	return 0, false
}

func (v sentinelView) Failover(name string) error {
	shard, ok := v.shardByName(name)
	if !ok {
		return fmt.Errorf("ERR No such master with that name")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	remote, err := v.c.requestFailover(ctx, shard, "", false)
	if err != nil && remote {
		return fmt.Errorf("NOGOODSLAVE %w", err)
	}
	return err
}

func (v sentinelView) CKQuorum(name string) (string, error) {
	if _, ok := v.shardByName(name); !ok {
		return "", fmt.Errorf("ERR No such master with that name")
	}
	st := v.c.host.FSM.State()
	voters, usable := 0, 0
	for _, n := range st.Nodes {
		if !n.Voter {
			continue
		}
		voters++
		if !v.c.det.Failed(n.ID) {
			usable++
		}
	}
	if usable < voters/2+1 {
		return "", fmt.Errorf("NOQUORUM %d usable Sentinels. Not enough available Sentinels to reach the majority and authorize a failover", usable)
	}
	return fmt.Sprintf("OK %d usable Sentinels. Quorum and failover authorization can be reached", usable), nil
}
