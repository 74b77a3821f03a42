package gossip

import (
	"log/slog"
	"time"
)

// Member states, as shown in /status and CLUSTER NODES.
const (
	StateAlive = "alive"
	StatePFail = "pfail"
	StateFail  = "fail"
)

// Meta is what a node says about itself in every report.
type Meta struct {
	ID        string `json:"id"`
	Role      string `json:"role"` // "master", "replica" or ""
	Shard     int    `json:"shard"`
	Epoch     uint64 `json:"epoch"`  // config epoch the node last applied
	Offset    int64  `json:"offset"` // replication offset
	Priority  int    `json:"priority"`
	RunID     string `json:"run_id"`
	RedisAddr string `json:"redis_addr"`
	Frozen    bool   `json:"frozen"`           // master paused writes for a manual failover
	LinkUp    bool   `json:"link_up"`          // replica: link to master is up
	Synced    bool   `json:"synced,omitempty"` // replica: completed a sync with the master it follows
	// Master leases ride on reports: a master sends the time it built the
	// report (its own clock); the Raft leader echoes it back in Grants
	// while the record names that node master and a quorum follows the
	// leader. The master's lease runs from its own send time, so a grant
	// delivered late can never extend it.
	LeaseReq int64            `json:"lease_req,omitempty"` // unix ns, this node's clock
	Grants   map[string]int64 `json:"grants,omitempty"`    // node id -> its LeaseReq, granted
}

// Config configures a Detector.
type Config struct {
	NodeID        string
	BindAddr      string        // host:port for memberlist (UDP+TCP); port 0 picks a free one
	AdvertiseAddr string        // host:port peers use; "" = BindAddr. Hostnames are resolved to an IP.
	SecretKey     []byte        // nil, or 16/24/32 bytes: memberlist encryption
	DownAfter     time.Duration // PFAIL threshold (default 1s)
	Local         func() Meta   // called each report interval, must be cheap
	Logger        *slog.Logger
}

// Report is the latest self-description received from a node.
type Report struct {
	Meta     Meta
	Suspects []string // node ids the sender currently holds PFAIL
	Received time.Time
}

// Member is one node as this detector sees it.
type Member struct {
	ID        string
	Addr      string // gossip address
	State     string // "alive", "pfail" or "fail"
	Meta      Meta   // from its latest report (zero if none yet)
	LastHeard time.Time
}
