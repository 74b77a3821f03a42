// Package node is a warden data node: the RESP listener, per-connection
// state, the command table and dispatch, and the commands themselves.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/acl"
	"github.com/wardenkv/warden/evict"
	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/aof"
	"github.com/wardenkv/warden/node/config"
	"github.com/wardenkv/warden/node/tlsconf"
	"github.com/wardenkv/warden/tracking"
)

// Version is the Redis version warden reports (the command set it follows).
const Version = "7.0.15"

// WardenVersion is warden's own release.
var WardenVersion = "0.1.0"

// Server is one data node.
type Server struct {
	cfg   *config.Config
	log   *slog.Logger
	store *keyspace.Store
	cmds  map[string]*Command
	hub   *pubsubHub
	track *tracking.Table // client-side caching (tracking.go)
	notif keyEvents       // notify-keyspace-events (notify.go)
	stats stats
	runID string
	// slowlog is SLOWLOG's log and settings (cmd_slowlog.go).
	slowlog slowlogState
	// latency is LATENCY's monitor and histogram settings (cmd_latency.go).
	latency latencyState
	// monitors are the clients in MONITOR mode (cmd_monitor.go).
	monitors monitorHub
	// migrateConns are MIGRATE's cached connections (cmd_migrate.go).
	migrateConns migrateConns
	// failover is FAILOVER's state (failover.go).
	failover failoverState
	// noActiveExpire and cronPaused are DEBUG SET-ACTIVE-EXPIRE 0 and
	// DEBUG PAUSE-CRON 1 (cmd_debug.go).
	noActiveExpire, cronPaused atomic.Bool
	// clientPause is CLIENT PAUSE's state (cmd_pause.go).
	clientPause clientPause
	start       time.Time

	srv      *redcon.Server
	ln       net.Listener // nil with port 0 and a tls-port (TLS only, as Redis)
	tls      tlsState
	nextID   atomic.Int64
	clientMu sync.Mutex
	clients  map[int64]*Client

	dirty       atomic.Int64 // changes since last save
	lastSave    atomic.Int64 // unix seconds
	shutdown    chan struct{}
	closeOnce   sync.Once
	onStop      []func() // OnStop; run by close before its last line
	onStopMu    sync.Mutex
	done        chan struct{}
	requirePass atomic.Pointer[string]
	acl         *acl.Store // users (the default one follows requirepass)
	aclLog      acl.Log
	replAuth    atomic.Pointer[replAuth] // cluster with a secret: the replication credential
	// feed receives every applied write in apply order (AOF, replication).
	feed atomic.Pointer[func(db int, argv [][]byte)]
	// move is the slot migration this node streams as source (slotmove.go).
	move atomic.Pointer[slotMove]

	persist persist
	shut    shutdownState
	repl    replLog
	replica replicaState
	syncs   fullSyncs // diskless full syncs gathering replicas
	// min-replicas-to-write / -max-lag, cached for the write path.
	minReplicas   atomic.Int64
	minReplicaLag atomic.Int64
	aofLog        atomic.Pointer[aof.AOF] // the open AOF, nil when appendonly is off
	aofEnd        atomic.Int64
	cluster       Cluster     // nil: standalone
	slots         slotRouting // cluster-enabled: the slot table commands are routed by
	scripting     scriptState
	started       chan struct{}  // closed once data is loaded and clients are accepted
	evictor       *evict.Evictor // maxmemory enforcement (evict.go)

	// Directives commands read on every call (XADD; APPEND, SETRANGE,
	// SETBIT; PFADD), kept current by CONFIG SET.
	streamNodeMaxBytes, streamNodeMaxEntries *atomic.Int64
	protoMaxBulkLen, hllSparseMaxBytes       *atomic.Int64
}

// New builds a server from cfg; call Serve to accept clients.
func New(cfg *config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	id := make([]byte, 20)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("generate run id: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		store:    keyspace.New(int(cfg.Int("databases"))),
		hub:      newPubsubHub(),
		runID:    hex.EncodeToString(id),
		start:    time.Now(),
		clients:  map[int64]*Client{},
		shutdown: make(chan struct{}),
		done:     make(chan struct{}),
		started:  make(chan struct{}),
	}
	s.cmds = buildCommandTable()
	// Redis directives warden accepts but does not act on: say so when set.
	ignored := func(name, val, why string) {
		log.Warn("directive has no effect in warden", "directive", name, "value", val, "reason", why)
	}
	for _, d := range cfg.IgnoredSettings() {
		ignored(d[0], d[1], d[2])
	}
	cfg.OnIgnoredSet(ignored)
	s.initScripting()
	s.initEviction()
	var err error
	if s.tls.m, err = tlsconf.New(cfg, log); err != nil {
		return nil, err
	}
	s.repl.id, s.repl.id2, s.repl.secondOff = newReplID(), noReplID, -1
	s.lastSave.Store(time.Now().Unix())
	s.setRequirePass(cfg.Get("requirepass"))
	if err := s.initACL(cfg); err != nil {
		return nil, err
	}
	cfg.OnSet("requirepass", func(v string) error { s.setRequirePass(v); s.acl.SetDefaultPassword(v); return nil })
	for _, name := range []string{"min-replicas-to-write", "min-replicas-max-lag"} {
		cfg.OnSet(name, func(string) error { s.loadReplicaLimits(); return nil })
	}
	s.loadReplicaLimits()
	s.initSlowlog()
	s.initLatency()
	s.streamNodeMaxBytes = cfg.IntVar("stream-node-max-bytes")
	s.streamNodeMaxEntries = cfg.IntVar("stream-node-max-entries")
	s.protoMaxBulkLen = cfg.IntVar("proto-max-bulk-len")
	s.hllSparseMaxBytes = cfg.IntVar("hll-sparse-max-bytes")
	s.initTracking()
	s.replica.readOnly.Store(cfg.Bool("replica-read-only"))
	s.replica.serveStale.Store(cfg.Bool("replica-serve-stale-data"))
	cfg.OnSet("replica-serve-stale-data", func(v string) error { s.replica.serveStale.Store(v == "yes"); return nil })
	cfg.OnSet("replica-read-only", func(v string) error { s.replica.readOnly.Store(v == "yes"); return nil })
	cfg.OnSet("appendonly", func(v string) error { return s.setAppendOnly(v == "yes") })
	cfg.OnSet("appendfsync", func(v string) error {
		p, err := aof.ParseFsync(v)
		if err == nil {
			if a := s.aofLog.Load(); a != nil {
				a.SetFsync(p)
			}
		}
		return err
	})
	redcon.SetMaxBulkLen(cfg.Int("proto-max-bulk-len"))
	cfg.OnSet("proto-max-bulk-len", func(string) error {
		redcon.SetMaxBulkLen(cfg.Int("proto-max-bulk-len"))
		return nil
	})
	redcon.SetQueryBufferLimit(cfg.Int("client-query-buffer-limit"))
	cfg.OnSet("client-query-buffer-limit", func(string) error {
		redcon.SetQueryBufferLimit(cfg.Int("client-query-buffer-limit"))
		return nil
	})
	s.store.OnExpire = func(db int, key []byte) {
		s.stats.expiredKeys.Add(1)
		s.propagate(db, [][]byte{[]byte("DEL"), key})
		s.publishKeyEvent(keyevents.Expired, "expired", key, db)
	}
	s.store.OnNew = func(db int, key []byte) { s.publishKeyEvent(keyevents.New, "new", key, db) }
	_ = s.notif.set(cfg.Get("notify-keyspace-events"))
	cfg.OnSet("notify-keyspace-events", s.notif.set)
	if dir := cfg.Get("dir"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create dir %s: %w", dir, err)
		}
	}
	// dir is held absolute, as Redis (which chdirs into it) reports it in
	// CONFIG GET dir; the files under it stay where they were.
	abs, err := filepath.Abs(cfg.Get("dir"))
	if err != nil {
		return nil, fmt.Errorf("resolve dir: %w", err)
	}
	if err := cfg.Set("dir", abs, false); err != nil {
		return nil, fmt.Errorf("set dir: %w", err)
	}
	return s, nil
}

func (s *Server) setRequirePass(p string) { s.requirePass.Store(&p) }

// Store exposes the keyspace (tests, later subsystems).
func (s *Server) Store() *keyspace.Store { return s.store }

// Addr returns the listening address once Serve has started (the TLS one
// when the node listens only for TLS).
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return s.TLSAddr()
	}
	return s.ln.Addr()
}

// Listen binds the configured address (bind may list several; the first is used).
func (s *Server) Listen() error {
	host := strings.Fields(s.cfg.Get("bind"))
	h := "127.0.0.1"
	if len(host) > 0 {
		h = strings.TrimPrefix(host[0], "-")
	}
	if h == "*" {
		h = ""
	}
	if err := s.listenTLS(h); err != nil {
		return err
	}
	if s.tls.ln != nil && s.cfg.Int("port") == 0 {
		return nil // TLS only
	}
	addr := net.JoinHostPort(h, s.cfg.Get("port"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.closeTLS()
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.ln = ln
	return nil
}

// Serve accepts clients until ctx is done or SHUTDOWN; it calls Listen if
// needed.
func (s *Server) Serve(ctx context.Context) error {
	if s.Addr() == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	if err := s.startPersistence(); err != nil {
		if s.ln != nil {
			s.ln.Close()
		}
		s.closeTLS()
		return err
	}
	select {
	case <-ctx.Done():
		s.persist.exiting.Store(true) // stopped while loading: nothing changed, nothing to save
	case <-s.shutdown:
		s.persist.exiting.Store(true)
	default:
	}
	target := s.cfg.Get("replicaof")
	if target == "" {
		target = s.cfg.Get("slaveof") // the old name
	}
	if v := strings.Fields(target); len(v) == 2 {
		port, err := strconv.Atoi(v[1])
		if err != nil {
			return fmt.Errorf("replicaof %q: bad port", target)
		}
		s.follow(v[0], port)
	}
	errc := make(chan error, 2)
	if s.ln != nil {
		s.srv = redcon.NewServerNetwork("tcp", s.ln.Addr().String(), s.handle, s.accept, s.closed)
		// redcon backs off after a failed Accept (5 ms doubling to 1 s), which
		// bounds this log to about a line a second while fds are exhausted.
		s.srv.AcceptError = func(err error) { s.log.Warn("accept failed", "err", err) }
		s.log.Info("ready to accept connections", "addr", s.ln.Addr().String(), "run_id", s.runID, "version", WardenVersion)
		go func() { errc <- s.srv.Serve(s.ln) }()
	}
	s.warnExposed()
	s.serveTLS(errc)
	go s.cron()
	go s.tuneGC(os.Getenv("GOGC"))
	close(s.started)
	var err error
	select {
	case <-ctx.Done():
	case <-s.shutdown:
	case err = <-errc:
	}
	s.close()
	return err
}

func (s *Server) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.srv != nil {
			s.srv.Close()
		}
		s.closeTLS()
		s.clientMu.Lock()
		for _, cl := range s.clients {
			cl.Kill()
		}
		s.clientMu.Unlock()
		s.scripting.engine.Abort() // a busy script would hold its locks forever
		s.migrateConns.closeAll()  // a MIGRATE waiting on its target holds locks too
		if f := s.slots.fan.Load(); f != nil {
			f.Close()
		}
		s.stopLink()
		// After SHUTDOWN or a signal this is done already; if ctx ended
		// instead, flush the AOF and save as a forced shutdown would.
		s.finalPersist()
		s.closePersistence()
		s.onStopMu.Lock()
		stops := s.onStop
		s.onStopMu.Unlock()
		for _, fn := range stops {
			fn()
		}
		reason := "stopped by its owner" // Serve's context ended
		if r := s.shut.reason.Load(); r != nil {
			reason = *r
		}
		s.log.Info("server stopped", "reason", reason)
	})
}

// Shutdown asks Serve to return (SHUTDOWN, signals).
func (s *Server) Shutdown() {
	select {
	case <-s.shutdown:
	default:
		close(s.shutdown)
	}
}

func (s *Server) accept(conn redcon.Conn) bool {
	s.clientMu.Lock()
	n := len(s.clients)
	s.clientMu.Unlock()
	if int64(n) >= s.cfg.Int("maxclients") {
		s.stats.rejectedConns.Add(1)
		redcon.Refuse(conn, "ERR max number of clients reached")
		return false
	}
	if s.protectedRefuse(conn) {
		return false
	}
	cl := &Client{
		ID:      s.nextID.Add(1),
		conn:    conn,
		netConn: conn.NetConn(),
		addr:    conn.RemoteAddr(),
		created: time.Now(),
		killed:  make(chan struct{}),
	}
	cl.laddr = cl.netConn.LocalAddr().String()
	cl.setProto(2)
	cl.lastInteraction.Store(time.Now().UnixMilli())
	cl.user.Store(s.acl.Default())
	cl.authed = s.defaultAuthed()
	cl.rdAuthed = cl.authed
	if !cl.authed {
		redcon.SetAuthenticated(conn, false) // Redis's limits until AUTH
	}
	cl.ctx = Ctx{s: s, cl: cl, conn: conn}
	conn.SetContext(cl)
	s.clientMu.Lock()
	s.clients[cl.ID] = cl
	s.clientMu.Unlock()
	s.stats.connsReceived.Add(1)
	if tc, ok := socketOf(cl.netConn).(*net.TCPConn); ok {
		if ka := s.cfg.Int("tcp-keepalive"); ka > 0 {
			tc.SetKeepAlive(true)
			tc.SetKeepAlivePeriod(time.Duration(ka) * time.Second)
		}
	}
	return true
}

func (s *Server) closed(conn redcon.Conn, err error) {
	cl, ok := conn.Context().(*Client)
	if !ok {
		return
	}
	if cl.replicaLink.Load() {
		return // detached: the replication link owns the connection now
	}
	switch {
	case errors.Is(err, redcon.ErrQueryBufferLimit):
		s.log.Warn("closing client that reached max query buffer length", "id", cl.ID, "addr", cl.addr, "err", err)
	case redcon.IsProtocolError(err):
		s.log.Debug("protocol error from client", "id", cl.ID, "addr", cl.addr, "err", err)
	}
	cl.Kill()
	s.monitors.remove(cl)
	s.hub.unsubscribeAll(cl)
	s.unwatchAll(cl)
	s.track.Gone(cl.ID)
	s.clientMu.Lock()
	delete(s.clients, cl.ID)
	s.clientMu.Unlock()
}

// Clients returns a snapshot of connected clients ordered by id.
func (s *Server) clientList() []*Client {
	s.clientMu.Lock()
	out := make([]*Client, 0, len(s.clients))
	for _, cl := range s.clients {
		select {
		case <-cl.killed:
			// Killed, its goroutine not yet gone: Redis frees a killed
			// client at once, so CLIENT LIST, KILL and INFO no longer
			// see it.
		default:
			out = append(out, cl)
		}
	}
	s.clientMu.Unlock()
	sortClients(out)
	return out
}

// cron runs periodic work at hz: active expiry and idle-client timeouts.
func (s *Server) cron() {
	hz := s.cfg.Int("hz")
	tick := int64(1)
	t := time.NewTicker(time.Second / time.Duration(max(hz, 1)))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		if s.cronPaused.Load() {
			continue
		}
		s.persistCron()
		// No pings while a FAILOVER waits for the stream's end to be acknowledged.
		if period := s.cfg.Int("repl-ping-replica-period"); period > 0 && tick%(period*max(hz, 1)) == 0 && s.failover.state.Load() == failoverNone {
			s.pingReplicas()
		}
		if tick%max(hz, 1) == 0 {
			s.dropSilentReplicas(time.Duration(s.cfg.Int("repl-timeout")) * time.Second)
			s.expireBacklog(time.Duration(s.cfg.Int("repl-backlog-ttl")) * time.Second)
			s.migrateConns.closeIdle(time.Now())
		}
		tick++
		// Redis spends at most 25% of a cron tick on active expiry.
		if !s.noActiveExpire.Load() {
			s.store.ActiveExpire(time.Second / time.Duration(max(hz, 1)) / 4)
		}
		s.store.DemoteQueued() // small values read or written since the last tick go back inline
		s.track.Broadcast()    // keys expired under BCAST prefixes
		if to := s.cfg.Int("timeout"); to > 0 {
			cut := time.Now().Add(-time.Duration(to) * time.Second).UnixMilli()
			for _, cl := range s.clientList() {
				if !cl.blocked.Load() && !cl.subscribed() && !cl.monitor.Load() && cl.lastInteraction.Load() < cut {
					cl.Kill()
				}
			}
		}
	}
}

// propagate feeds one applied write to persistence and replication. It is
// called with the keys' partitions locked, so its order is the apply order.
// It returns the AOF offset the write reaches (0 without an AOF).
func (s *Server) propagate(db int, argv [][]byte) int64 {
	s.dirty.Add(1)
	if f := s.feed.Load(); f != nil {
		(*f)(db, argv)
	}
	if !s.replica.active.Load() { // a replica forwards its master's bytes instead
		s.repl.feed(db, argv)
		s.tapSlots(db, argv)
	}
	return s.aofAppend(db, argv)
}

func (s *Server) loadReplicaLimits() {
	s.minReplicas.Store(s.cfg.Int("min-replicas-to-write"))
	s.minReplicaLag.Store(s.cfg.Int("min-replicas-max-lag"))
}
