package node

import (
	"context"

	"github.com/wardenkv/warden/clusterview"
	"net"
	"strconv"
)

// Cluster is how the control plane (node/control) steers a data node in
// cluster mode. Standalone nodes have none and behave as plain Redis.
type Cluster interface {
	// WriteRefusal is the error for a write on this (master) node now, or
	// "": the fence for a lost lease, a record naming another master, or a
	// manual failover in progress.
	WriteRefusal() string
	// MasterEpoch reports whether the applied record names this node
	// master, and the config epoch of its shard.
	MasterEpoch() (master bool, epoch uint64)
	MyID() string
	// Name is the node's id in the Raft record (--node-id): how a replica
	// names itself to its master (REPLCONF warden-id), so that a master
	// handing its shard over recognises the target the record names.
	Name() string
	// Health is a node's failure state (by its human name) for CLUSTER
	// replies; Offset its last known replication offset.
	Health(name string) clusterview.Health
	Offset(name string) int64
	// Failover asks for a manual failover to this replica (CLUSTER FAILOVER).
	Failover(ctx context.Context, force bool) error
	// HandOff runs before a shutdown (SIGTERM, SHUTDOWN) and returns by
	// ctx's deadline (shutdown-timeout): a master hands its shard to a
	// caught-up replica, a Raft leader its leadership, so the cluster
	// loses no acknowledged write and waits for no failure detection. An
	// error says why not (no eligible replica, say); the shutdown goes on.
	HandOff(ctx context.Context) error
}

// SetCluster switches cluster mode on (call before Serve).
func (s *Server) SetCluster(c Cluster) { s.cluster = c }

// OnStop has fn run when the server stops, after its clients and files are
// closed and before it logs "server stopped": the control plane stops
// there, so no line of its (Raft's shutdown) follows that one.
func (s *Server) OnStop(fn func()) {
	s.onStopMu.Lock()
	defer s.onStopMu.Unlock()
	s.onStop = append(s.onStop, fn)
}

// Started is closed once Serve has loaded the data and accepts clients:
// the control plane must not change roles before that.
func (s *Server) Started() <-chan struct{} { return s.started }

// Follow makes this node a replica of host:port unless it already is.
func (s *Server) Follow(host string, port int) {
	s.replica.mu.Lock()
	same := s.replica.host == host && s.replica.port == port
	s.replica.mu.Unlock()
	if !same {
		s.follow(host, port)
	}
}

// Promote makes this node a master (REPLICAOF NO ONE) if it is a replica.
func (s *Server) Promote() {
	if s.isReplica() {
		s.promote()
	}
}

// Following returns the configured master ("" when master) and whether
// the link is up.
func (s *Server) Following() (addr string, linkUp bool) {
	s.replica.mu.Lock()
	defer s.replica.mu.Unlock()
	if s.replica.host == "" {
		return "", false
	}
	return net.JoinHostPort(s.replica.host, strconv.Itoa(s.replica.port)), s.replica.linkUp.Load()
}

// Synced reports whether this replica has completed a sync (full or
// partial) with the master it follows now; false on a master.
func (s *Server) Synced() bool { return s.isReplica() && s.replica.synced.Load() }

// ReplOffset is the replication offset (master_repl_offset).
func (s *Server) ReplOffset() int64 { return s.replOffset() }

// RunID is this process's run id.
func (s *Server) RunID() string { return s.runID }

// CommandsProcessed counts commands served.
func (s *Server) CommandsProcessed() uint64 { return uint64(s.stats.commands.Load()) }

// ConnectedClients counts normal client connections.
func (s *Server) ConnectedClients() int {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	return len(s.clients)
}

// ReplicaLags maps each attached replica (ip:port) to the bytes it has not
// acknowledged.
func (s *Server) ReplicaLags() map[string]int64 {
	off := s.replOffset()
	out := map[string]int64{}
	for _, r := range s.replicasSnapshot() {
		out[net.JoinHostPort(r.addr, strconv.Itoa(r.port))] = max(off-r.ackOffset.Load(), 0)
	}
	return out
}

// KillNormalClients disconnects every client that is not a replica link,
// as Sentinel's CLIENT KILL on demotion: clients re-discover the master
// instead of looping on -READONLY.
func (s *Server) KillNormalClients() int {
	n := 0
	for _, cl := range s.clientList() {
		if cl.internal || cl.replicaLink.Load() {
			continue
		}
		cl.Kill()
		n++
	}
	return n
}
