// Package httpapi is warden's operator HTTP interface: cluster status, health
// and readiness probes, join and manual failover (forwarded to the Raft
// leader), and Prometheus metrics. It knows nothing about Raft or gossip: the
// control plane supplies a View and Metrics.
package httpapi

import (
	"context"
	"errors"
)

// RaftStatus is this node's view of its Raft instance.
type RaftStatus struct {
	State        string `json:"state"` // Leader, Follower, Candidate, Shutdown
	Term         uint64 `json:"term"`
	LastLogIndex uint64 `json:"last_log_index"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
}

// LeaderInfo names the current Raft leader; all fields are empty when none is known.
type LeaderInfo struct {
	NodeID   string `json:"node_id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
}

// Known reports whether a leader is known.
func (l LeaderInfo) Known() bool { return l.NodeID != "" || l.RaftAddr != "" }

// Shard is one replication group as recorded in the FSM.
type Shard struct {
	ID         int      `json:"id"`
	Name       string   `json:"name"`
	Master     string   `json:"master"`      // node id
	MasterAddr string   `json:"master_addr"` // host:port clients use
	Replicas   []string `json:"replicas"`
	Epoch      uint64   `json:"epoch"`
	Slots      string   `json:"slots"` // e.g. "0-16383"
	// Reason is set when the current master deserves an operator's
	// attention: it was promoted without ever having synced from the
	// master it replaced.
	Reason string `json:"reason,omitempty"`
	// Removed: the shard was retired (DELETE /shards/N); it keeps its id.
	Removed bool `json:"removed,omitempty"`
}

// Member is one node as seen by the FSM and gossip.
type Member struct {
	ID       string `json:"id"`
	Addr     string `json:"addr"`  // RESP host:port
	State    string `json:"state"` // alive | pfail | fail
	Role     string `json:"role"`  // master | replica | ""
	Shard    int    `json:"shard"`
	Offset   int64  `json:"offset"`
	Lag      int64  `json:"lag"` // bytes behind its master (replicas)
	Voter    bool   `json:"voter"`
	HTTPAddr string `json:"http_addr"`
}

// Status is the body of GET /status.
type Status struct {
	NodeID  string     `json:"node_id"`
	Raft    RaftStatus `json:"raft"`
	Leader  LeaderInfo `json:"leader"`
	Epoch   uint64     `json:"epoch"`
	Shards  []Shard    `json:"shards"`
	Members []Member   `json:"members"`
	// Migrations are the slot migrations in progress.
	Migrations []Migration `json:"migrations,omitempty"`
}

// JoinRequest is the body of POST /join: a node asking to be added.
type JoinRequest struct {
	ID           string `json:"id"`
	RaftAddr     string `json:"raft_addr"`
	GossipAddr   string `json:"gossip_addr"`
	HTTPAddr     string `json:"http_addr"`
	RedisAddr    string `json:"redis_addr"`
	SentinelAddr string `json:"sentinel_addr"`
	Host         string `json:"host"`
	Voter        bool   `json:"voter"`
	Priority     int    `json:"priority"`
	ClusterID    string `json:"cluster_id,omitempty"` // 40-hex CLUSTER MYID
}

// JoinResponse tells the joiner whom to gossip with.
type JoinResponse struct {
	GossipAddrs []string `json:"gossip_addrs"`
}

// FailoverResponse is the body of a successful POST /failover.
type FailoverResponse struct {
	Shard      int    `json:"shard"`
	Master     string `json:"master"`
	MasterAddr string `json:"master_addr,omitempty"`
}

// View is what the control plane provides.
type View interface {
	Status() Status
	// Ready reports whether the node is reconciled to the FSM with a known
	// leader; the string says why not.
	Ready() (bool, string)
	IsLeader() bool
	Leader() LeaderInfo
	// Join adds a node; called on the leader only.
	Join(ctx context.Context, req JoinRequest) (JoinResponse, error)
	// Failover moves a shard's mastership to target ("" = the best
	// replica), gracefully unless force; called on the leader only.
	Failover(ctx context.Context, shard int, target string, force bool) error
	// CompleteHandoff switches shard to target if a graceful handoff to it
	// is still under way at epoch: the frozen master saw target acknowledge
	// its every byte. Called on the leader only.
	CompleteHandoff(ctx context.Context, shard int, target string, epoch uint64) error
}

// Metrics are read at scrape time.
type Metrics interface {
	RaftState() string
	RaftTerm() uint64
	Failovers() uint64
	UnsyncedFailovers() uint64 // failovers that promoted a replica that never synced
	Epoch() uint64
	Role() string
	ReplOffset() int64
	ReplicaLags() map[string]int64 // replica addr -> bytes behind (on a master)
	CommandsProcessed() uint64
	ConnectedClients() int
}

// Errors a View may return (wrapped or not) to pick the HTTP status.
var (
	// ErrNotLeader makes the handler forward the request to the leader.
	ErrNotLeader = errors.New("not the raft leader")
	// ErrUnknownShard maps to 404.
	ErrUnknownShard = errors.New("unknown shard")
	// ErrInvalid (a bad join, say) maps to 400.
	ErrInvalid = errors.New("invalid request")
	// ErrUnavailable (no eligible replica, failover already running) maps to 409.
	ErrUnavailable = errors.New("cannot do that now")
)
