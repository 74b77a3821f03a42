// Package sentinel is a Redis-Sentinel-compatible RESP listener. It holds no
// state of its own: every reply is built from a View of warden's replicated
// control-plane state, so any node answers as well as any other and there is
// no Sentinel voting here. Clients that speak to Redis Sentinel (go-redis
// NewFailoverClient, redis-cli, ...) work against it unchanged.
package sentinel

// Addr is a host and port as clients are told (the announce address).
type Addr struct {
	Host string
	Port int
}

// Replica is one replica of a master as SENTINEL REPLICAS lists it.
type Replica struct {
	ID       string // node id
	Addr     Addr
	RunID    string
	Down     bool  // s_down/o_down flags
	LinkUp   bool  // master-link-status ok/err
	Offset   int64 // slave-repl-offset
	Priority int
}

// Master is one shard's master as SENTINEL MASTER shows it.
type Master struct {
	Name               string
	ID                 string // node id of the master, "" if none
	Addr               Addr
	RunID              string
	Epoch              uint64 // config-epoch
	Down               bool
	Replicas           []Replica
	Quorum             int
	FailoverInProgress bool
	DownAfterMs        int64
}

// Peer is another node's sentinel listener.
type Peer struct {
	ID    string
	Addr  Addr
	RunID string
	Down  bool
}

// View is what the listener needs from the control plane. Its methods are
// called from connection goroutines, concurrently.
type View interface {
	MyID() string
	Masters() []Master          // one per shard, in shard order
	Sentinels() []Peer          // the OTHER nodes' sentinel listeners
	Failover(name string) error // manual graceful failover; the error text is the reply error
	CKQuorum(name string) (string, error)
	// Vouch is nil while this node hears the control-plane majority, so
	// the record it serves is current; else why not (the reply error).
	// Meanwhile every master shows as down.
	Vouch() error
}

// masters is v.Masters(), every one marked down while v cannot vouch for
// the record: redis-py skips a master flagged s_down and asks the next
// sentinel.
func masters(v View) []Master {
	ms := v.Masters()
	if v.Vouch() != nil {
		for i := range ms {
			ms[i].Down = true
		}
	}
	return ms
}

// master returns the master called name (names are case-sensitive, as in
// Redis Sentinel).
func master(v View, name string) (Master, bool) {
	for _, m := range masters(v) {
		if m.Name == name {
			return m, true
		}
	}
	return Master{}, false
}
