package raftfsm

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// HostConfig configures the Raft participant of one node.
type HostConfig struct {
	ID        string
	Dir       string        // raft.db and snapshots live here
	Bind      string        // host:port to listen on
	Advertise string        // host:port peers dial; "" = Bind
	Secret    string        // shared cluster secret, proved both ways on every connection
	Peers     []raft.Server // initial voters; bootstraps when this node has no state
	DownAfter time.Duration // scales Raft's timeouts
	Logger    *slog.Logger
	// ServerTLS and ClientTLS (both or neither) wrap every Raft connection
	// in TLS; ClientTLS gives the configuration for the peer at an address.
	ServerTLS *tls.Config
	ClientTLS func(addr string) (*tls.Config, error)
}

// Host is a running Raft participant applying to an FSM.
type Host struct {
	Raft  *raft.Raft
	FSM   *FSM
	trans *contactTransport
	id    raft.ServerID
	store *raftboltdb.BoltStore
}

// Open starts Raft with bolt log/stable stores, file snapshots and a TCP
// transport whose connections prove the cluster secret (handshake.go), after
// checking that state on disk is sound (storecheck.go).
func Open(cfg HostConfig) (*Host, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create raft dir: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	hlog := newHCLogger("raft", log)
	if err := checkRaftState(cfg.Dir, log.With("component", "raft")); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cfg.Dir, "raft.db")
	store, err := raftboltdb.New(raftboltdb.Options{Path: dbPath, BoltOptions: &bbolt.Options{Timeout: lockTimeout}})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("raft store %s is locked by another process", dbPath)
	}
	if err != nil {
		return nil, fmt.Errorf("open raft log store %s: %w", dbPath, err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hlog)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("open raft snapshot store: %w", err)
	}
	adv := cfg.Advertise
	if adv == "" {
		adv = cfg.Bind
	}
	layer, err := newStreamLayer(cfg.Bind, adv, cfg.Secret)
	if err != nil {
		store.Close()
		return nil, err
	}
	layer.setTLS(cfg.ServerTLS, cfg.ClientTLS)
	trans := newContactTransport(raft.NewNetworkTransportWithLogger(layer, 3, 5*time.Second, hlog))

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = hlog
	d := cfg.DownAfter
	if d <= 0 {
		d = time.Second
	}
	// Fast, but not so fast that a loaded 2-core box flaps: a leader is
	// replaced within about one down-after period.
	rc.HeartbeatTimeout = max(d/2, 50*time.Millisecond)
	rc.ElectionTimeout = rc.HeartbeatTimeout
	rc.LeaderLeaseTimeout = rc.HeartbeatTimeout / 2
	// CommitTimeout paces the leader's idle AppendEntries to each follower
	// (heartbeats go out apart from it, every HeartbeatTimeout/10). The
	// record's changes do not wait for it: Apply nudges followers at once.
	rc.CommitTimeout = 100 * time.Millisecond
	rc.SnapshotThreshold = 1024

	fsm := New()
	r, err := raft.NewRaft(rc, fsm, store, store, snaps, trans)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("start raft: %w", err)
	}
	h := &Host{Raft: r, FSM: fsm, trans: trans, store: store, id: raft.ServerID(cfg.ID)}
	if len(cfg.Peers) > 0 {
		existing, err := raft.HasExistingState(store, store, snaps)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("inspect raft state: %w", err)
		}
		if !existing {
			// Every node started with the same list bootstraps the same
			// configuration; Raft elects one leader among them.
			err := r.BootstrapCluster(raft.Configuration{Servers: cfg.Peers}).Error()
			if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
				h.Close()
				return nil, fmt.Errorf("bootstrap raft: %w", err)
			}
		}
	}
	return h, nil
}

// LeaderContact is when this node last accepted entries or a heartbeat
// from a leader (zero if never): the basis of a follower's master lease.
func (h *Host) LeaderContact() time.Time { return h.trans.LeaderContact() }

// QuorumContact is, on a leader, the latest time t such that a quorum of
// voters accepted this leader's AppendEntries sent at or after t: no other
// leader can be elected before t plus the election timeout. voters is the
// current configuration's voter ids.
func (h *Host) QuorumContact(voters []raft.ServerID) time.Time {
	return h.trans.quorumContact(h.id, voters)
}

// Voters lists the voters of the latest Raft configuration.
func (h *Host) Voters() ([]raft.ServerID, error) {
	f := h.Raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	var out []raft.ServerID
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			out = append(out, s.ID)
		}
	}
	return out, nil
}

// Apply commits c and returns the FSM's verdict.
func (h *Host) Apply(c Command, timeout time.Duration) error {
	b, err := Encode(c)
	if err != nil {
		return err
	}
	f := h.Raft.Apply(b, timeout)
	if err := f.Error(); err != nil {
		return fmt.Errorf("commit %s: %w", c.Op, err)
	}
	if c.Op != OpMark {
		h.nudge()
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return fmt.Errorf("apply %s: %w", c.Op, err)
	}
	return nil
}

// nudge tells followers now that the entry just committed is committed.
// A follower learns the commit index from the leader's next AppendEntries,
// which without a new entry waits for CommitTimeout (heartbeats carry no
// commit index): a mark appended behind it goes out at once, so a node
// the record just promoted hears it in one round trip. Not waited for.
// A mark, not a Raft barrier: the FSM sees a mark, so its applied index
// keeps up with the commit index (leases renew only then).
func (h *Host) nudge() {
	if b, err := Encode(Command{Op: OpMark}); err == nil {
		h.Raft.Apply(b, 0)
	}
}

// Close shuts Raft down and releases the stores.
func (h *Host) Close() error {
	err := h.Raft.Shutdown().Error()
	h.trans.Close()
	if cerr := h.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// ParsePeers reads "id=host:port,id=host:port".
func ParsePeers(s string) ([]raft.Server, error) {
	var out []raft.Server
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		id, addr, ok := strings.Cut(p, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("peer %q: want id=host:port", p)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("peer %q: %w", p, err)
		}
		if seen[id] || seen["@"+addr] {
			return nil, fmt.Errorf("peer %q: id or address listed twice", p)
		}
		seen[id], seen["@"+addr] = true, true
		out = append(out, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addr), Suffrage: raft.Voter})
	}
	return out, nil
}
