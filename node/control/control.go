// Package control is the control plane on one warden node: it runs the
// Raft participant (the replicated record of who is master), gossip
// (failure detection), the HTTP and Sentinel interfaces, and reconciles
// the local data node to the record. The Raft leader also decides:
// placement, failover, manual handoffs.
package control

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/wardenkv/warden/gossip"
	"github.com/wardenkv/warden/node"
	"github.com/wardenkv/warden/node/config"
	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/node/sentinel"
	"github.com/wardenkv/warden/node/tlsconf"
	"github.com/wardenkv/warden/raftfsm"
)

// Control is a node's control plane.
type Control struct {
	log *slog.Logger
	// baseLog is for the subsystems, which add their own component.
	baseLog *slog.Logger
	srv     *node.Server
	conf    *config.Config
	cfg     settings
	self    raftfsm.Node
	// insecure is the exposed listener of a node running without a secret
	// under insecure-cluster yes (warned about every minute).
	insecure *listener

	host *raftfsm.Host
	det  *gossip.Detector
	http *httpapi.Server
	sent *sentinel.Server
	tls  *tlsconf.Manager // nil unless tls-cluster
	peer *http.Client     // to other nodes' HTTP APIs

	// Reconciled view of the record, read on every write (WriteRefusal).
	fsmMaster  atomic.Bool
	frozen     atomic.Bool
	shardEpoch atomic.Uint64
	leaseUntil atomic.Int64 // unix ns; a master takes writes only before it
	quorumAt   atomic.Int64 // leader: unix ns send time a quorum last accepted
	fsmNamed   atomic.Bool  // the applied record names this node master
	fenceMu    sync.Mutex   // orders observe's fence with reconcile lifting it
	reconciled atomic.Bool
	myShard    atomic.Int64
	slots      slotPublisher
	mig        migrations // slot migrations (migrate.go)
	// detReady is det once started: the FSM observer may run before.
	detReady atomic.Pointer[gossip.Detector]

	mu         sync.Mutex
	failSince  map[string]time.Time // leader: when a master was first seen FAIL
	handoffSaw map[int]time.Time    // leader: when a handoff was first seen
	lastState  *raftfsm.State       // for +switch-master events
	behindAt   uint64               // leader loop only: commit index the FSM was behind

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// Close runs once (the server's OnStop, then main's deferred Close).
	closeOnce sync.Once
	closeErr  error
}

// settings are the directives the control plane reads, resolved.
type settings struct {
	id, dir, secret, peers, join, name string
	raftBind, raftAdv                  string
	gossipBind, gossipAdv              string
	httpBind, httpAdv                  string
	sentinelBind, sentinelAdv          string
	announce                           string
	voter                              bool
	clusterEnabled                     bool // cluster-enabled: route by slot, CLUSTER ids are 40-hex
	tlsCluster, tlsData                bool // control plane over TLS; record and Sentinel give TLS ports
	shards, replicasPerShard, priority int
	downAfter, lease                   time.Duration
}

// Enabled reports whether cfg asks for cluster mode.
func Enabled(cfg *config.Config) bool { return cfg.Get("raft-addr") != "" }

// ErrClusterNoControlPlane refuses cluster-enabled yes on a node without
// the control plane: slot ownership lives in the Raft record, so such a
// node could never learn which slots it serves.
var ErrClusterNoControlPlane = errors.New("cluster-enabled yes needs the control plane: set raft-addr and either peers (to found a cluster) or join (to enter one); warden keeps slot ownership in its Raft record, not in nodes.conf")

// Check refuses settings the control plane cannot run with, before the
// data node starts.
func Check(cfg *config.Config) error {
	if cfg.Bool("cluster-enabled") && !Enabled(cfg) {
		return ErrClusterNoControlPlane
	}
	return nil
}

// New prepares the control plane for srv (already listening) and switches
// srv to cluster mode: until the record names it master, it takes no writes.
func New(cfg *config.Config, srv *node.Server, log *slog.Logger) (*Control, error) {
	if log == nil {
		log = slog.Default()
	}
	st, err := resolve(cfg, srv)
	if err != nil {
		return nil, err
	}
	exposed, insecure, err := checkExposure(cfg, st, srv.Addr().String())
	if err != nil {
		return nil, err
	}
	c := &Control{log: log.With("component", "control"), baseLog: log, srv: srv, conf: cfg, cfg: st,
		failSince: map[string]time.Time{}, handoffSaw: map[int]time.Time{}}
	if insecure {
		c.insecure = &exposed
	}
	if st.secret != "" {
		// Replication joins the secret's guard: a master takes SYNC/PSYNC
		// only from replicas that AUTH with the derived credential, and
		// this node's replica link sends it.
		srv.SetReplicationAuth(ReplicationUser, ReplicationPassword(st.secret))
	}
	c.myShard.Store(-1)
	if st.tlsCluster {
		c.tls = srv.TLS()
	}
	c.peer = httpapi.PeerClient(c.tls)
	dataAddr := srv.Addr()
	if st.tlsData {
		dataAddr = srv.TLSAddr() // replicas and Sentinel clients reach it over TLS
	}
	c.self = raftfsm.Node{ID: st.id, RaftAddr: st.raftAdv, GossipAddr: st.gossipAdv, HTTPAddr: st.httpAdv,
		RedisAddr: net.JoinHostPort(st.announce, strconv.Itoa(tcpPort(dataAddr))), SentinelAddr: st.sentinelAdv,
		Host: st.announce, Voter: st.voter, Priority: st.priority}
	if c.self.ClusterID, err = raftfsm.LoadClusterID(cfg.Get("dir")); err != nil {
		return nil, err
	}
	srv.SetCluster(c)
	if st.clusterEnabled {
		srv.EnableSlotRouting()
	}
	return c, nil
}

func resolve(cfg *config.Config, srv *node.Server) (settings, error) {
	s := settings{
		id: cfg.Get("node-id"), secret: cfg.Get("cluster-secret"), peers: cfg.Get("peers"),
		join: cfg.Get("join"), name: cfg.Get("master-name"), announce: cfg.Get("announce-host"),
		voter: cfg.Bool("voter"), clusterEnabled: cfg.Bool("cluster-enabled"), shards: int(cfg.Int("shards")), replicasPerShard: int(cfg.Int("replicas-per-shard")),
		priority:  int(cfg.Int("replica-priority")),
		downAfter: time.Duration(cfg.Int("down-after-milliseconds")) * time.Millisecond,
		lease:     time.Duration(cfg.Int("master-lease-ms")) * time.Millisecond,
	}
	if s.id == "" {
		h, err := os.Hostname()
		if err != nil {
			return s, fmt.Errorf("node-id not set and no hostname: %w", err)
		}
		s.id = h
	}
	bindHost, _, _ := net.SplitHostPort(srv.Addr().String())
	if s.announce == "" {
		s.announce = bindHost
		if ip := net.ParseIP(bindHost); bindHost == "" || (ip != nil && ip.IsUnspecified()) {
			h, err := os.Hostname()
			if err != nil {
				return s, fmt.Errorf("announce-host not set and no hostname: %w", err)
			}
			s.announce = h
		}
	}
	if err := resolveTLS(cfg, srv, &s); err != nil {
		return s, err
	}
	if s.lease >= s.downAfter {
		return s, fmt.Errorf("master-lease-ms (%v) must be shorter than down-after-milliseconds (%v): otherwise an old master could take writes after its replacement", s.lease, s.downAfter)
	}
	s.dir = filepath.Join(cfg.Get("dir"), "raft")
	var err error
	if s.raftBind, s.raftAdv, err = advertise(cfg.Get("raft-addr"), s.announce); err != nil {
		return s, fmt.Errorf("raft-addr: %w", err)
	}
	// Unless told otherwise, the control plane listens where the data
	// port does (bind), never on every interface behind its back.
	gossipAddr := cfg.Get("gossip-addr")
	if gossipAddr == "" {
		gossipAddr = net.JoinHostPort(bindHost, "7946")
	}
	if s.gossipBind, s.gossipAdv, err = advertise(gossipAddr, s.announce); err != nil {
		return s, fmt.Errorf("gossip-addr: %w", err)
	}
	httpAddr := cfg.Get("http-addr")
	if httpAddr == "" {
		httpAddr = net.JoinHostPort(bindHost, "8080")
	}
	if s.httpBind, s.httpAdv, err = advertise(httpAddr, s.announce); err != nil {
		return s, fmt.Errorf("http-addr: %w", err)
	}
	if p := cfg.Int("sentinel-port"); p > 0 {
		s.sentinelBind = net.JoinHostPort(bindHost, strconv.FormatInt(p, 10))
		s.sentinelAdv = net.JoinHostPort(s.announce, strconv.FormatInt(p, 10))
	}
	return s, nil
}

// advertise returns the bind address and the address peers use: the bind
// address itself unless its host is unspecified (0.0.0.0, ""), in which
// case the announce host.
func advertise(addr, announce string) (bind, adv string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return addr, net.JoinHostPort(announce, port), nil
	}
	return addr, addr, nil
}

func tcpPort(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	return 0
}

// Start brings up Raft, gossip, HTTP and Sentinel, and the loops.
func (c *Control) Start() error {
	var peers []raft.Server
	if c.cfg.peers != "" {
		var err error
		if peers, err = raftfsm.ParsePeers(c.cfg.peers); err != nil {
			return fmt.Errorf("peers: %w", err)
		}
	}
	hc := raftfsm.HostConfig{ID: c.cfg.id, Dir: c.cfg.dir, Bind: c.cfg.raftBind,
		Advertise: c.cfg.raftAdv, Secret: c.cfg.secret, Peers: peers, DownAfter: c.cfg.downAfter, Logger: c.baseLog}
	if c.tls != nil {
		hc.ServerTLS, hc.ClientTLS = c.tls.Server(tlsconf.AuthRequire), c.tls.Client
	}
	host, err := raftfsm.Open(hc)
	if err != nil {
		return err
	}
	c.host = host
	host.FSM.Observe(c.observe)
	var key []byte
	if c.cfg.secret != "" {
		k := sha256.Sum256([]byte("warden-gossip:" + c.cfg.secret))
		key = k[:]
	}
	c.det, err = gossip.Start(gossip.Config{NodeID: c.cfg.id, BindAddr: c.cfg.gossipBind, AdvertiseAddr: c.cfg.gossipAdv,
		SecretKey: key, DownAfter: c.cfg.downAfter, Local: c.localMeta, Logger: c.baseLog})
	if err != nil {
		host.Close()
		return fmt.Errorf("start gossip: %w", err)
	}
	c.detReady.Store(c.det)
	c.http = httpapi.New(httpapi.Config{Addr: c.cfg.httpBind, Secret: c.cfg.secret, View: httpView{c}, Metrics: metricsView{c}, Logger: c.baseLog, TLS: c.tls,
		MaxClients: c.srv.MaxClients(), Shards: shardAdmin{c}})
	if err := c.http.Listen(); err != nil {
		c.det.Close()
		host.Close()
		return fmt.Errorf("http: %w", err)
	}
	if c.cfg.sentinelBind != "" {
		c.sent = sentinel.New(c.cfg.sentinelBind, sentinelView{c}, c.baseLog)
		c.sent.SetMaxClients(c.srv.MaxClients)
		c.sent.SetAuth(sentinel.Auth{Password: sentinelPassword(c.conf), Guarded: c.cfg.secret != "", Users: c.srv.SentinelUsers})
		if c.cfg.tlsData {
			c.sent.TLS = c.srv.TLS().Server(tlsconf.AuthConfigured)
		}
		if err := c.sent.Listen(); err != nil {
			c.http.Close()
			c.det.Close()
			host.Close()
			return fmt.Errorf("sentinel: %w", err)
		}
		go c.sent.Serve()
	}
	go c.http.Serve()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.loop(c.watchLoop)
	c.loop(c.leaseLoop)
	c.loop(c.reconcileLoop)
	c.loop(c.leaderLoop)
	c.loop(c.registerLoop)
	c.loop(c.downLoop)
	c.loop(c.migrationLoop)
	if l := c.insecure; l != nil {
		c.loop(func(ctx context.Context) { c.insecureLoop(ctx, *l, insecureWarnEvery) })
	}
	c.warnProtectedMode()
	c.log.Info("control plane started", "node_id", c.cfg.id, "raft", c.cfg.raftAdv, "gossip", c.cfg.gossipAdv,
		"http", c.cfg.httpAdv, "sentinel", c.cfg.sentinelAdv, "bootstrap", len(peers) > 0, "join", c.cfg.join)
	return nil
}

func (c *Control) loop(fn func(context.Context)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn(c.ctx)
	}()
}

// Close stops everything; the data node keeps its data.
func (c *Control) Close() error {
	if c.cancel == nil {
		return nil
	}
	c.closeOnce.Do(func() {
		c.cancel()
		c.wg.Wait()
		var errs []error
		if c.sent != nil {
			errs = append(errs, c.sent.Close())
		}
		errs = append(errs, c.http.Close(), c.det.Close(), c.host.Close())
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// leaderInfo returns the Raft leader's id and its record (nil if unknown).
func (c *Control) leaderInfo() (string, *raftfsm.Node) {
	_, id := c.host.Raft.LeaderWithID()
	if id == "" {
		return "", nil
	}
	st := c.host.FSM.State()
	return string(id), st.Nodes[string(id)]
}

func (c *Control) isLeader() bool { return c.host.Raft.State() == raft.Leader }
