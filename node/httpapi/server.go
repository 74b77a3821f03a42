package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wardenkv/warden/node/tlsconf"
	"golang.org/x/net/netutil"
)

// Config configures a Server. View is required; Metrics may be nil (then
// /metrics serves only the Go and process collectors).
type Config struct {
	Addr    string // listen address, host:port
	Secret  string // when set, every POST (/join, /failover) must be signed with it (sign.go)
	View    View
	Metrics Metrics
	Logger  *slog.Logger
	// TLS, when set (tls-cluster), serves HTTPS that requires a client
	// certificate signed by the cluster CA, and forwards over TLS too.
	TLS *tlsconf.Manager
	// MaxClients bounds the connections served at once (maxclients); past
	// it new ones wait in the listen backlog. 0: no limit.
	MaxClients int // Shards, when set, serves POST /shards and DELETE /shards/N (shards.go).
	Shards     ShardAdmin
}

// Server timeouts. Writes get a long budget because a graceful failover waits
// for the replica to catch up before answering.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	// requestTimeout bounds the work a join or failover may do (and a forward).
	requestTimeout = 45 * time.Second
	maxBodyBytes   = 1 << 20
	closeGrace     = 2 * time.Second
)

// Server is the HTTP endpoint of one node.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler
	srv     *http.Server
	fwd     *http.Client
	sigs    *verifier // nil without a secret

	mu sync.Mutex
	ln net.Listener
}

// New builds a Server; call Listen then Serve.
func New(cfg Config) *Server {
	if cfg.View == nil {
		panic("httpapi: Config.View is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log.With("component", "http")}
	s.fwd = PeerClient(cfg.TLS)
	if cfg.Secret != "" {
		s.sigs = newVerifier(cfg.Secret)
	}
	s.handler = s.routes()
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Method patterns make the mux answer 405 (with Allow) for other methods.
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("GET /leader", s.handleLeader)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.shardRoutes(mux) // POST /shards, DELETE /shards/N (guarded)
	// Every state-changing route needs the secret (when one is set); the
	// read-only ones stay open so operators and probes can scrape them.
	mux.HandleFunc("POST /join", s.guard(s.handleJoin))
	mux.HandleFunc("POST /failover", s.guard(s.handleFailover))
	mux.Handle("GET /metrics", newMetricsHandler(s.cfg.Metrics, s.log))
	s.migrationRoutes(mux)
	return mux
}

// Handler returns the routes, for embedding or httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds Config.Addr so Addr is known before Serve.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", s.cfg.Addr, err)
	}
	if s.cfg.MaxClients > 0 {
		ln = netutil.LimitListener(ln, s.cfg.MaxClients)
	}
	if s.cfg.TLS != nil {
		ln = s.cfg.TLS.Listener(ln, tlsconf.AuthRequire)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.log.Info("http listening", "addr", ln.Addr().String(), "tls", s.cfg.TLS != nil, "maxclients", s.cfg.MaxClients)
	return nil
}

// Serve serves until Close; it returns nil after Close.
func (s *Server) Serve() error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("http serve: Listen was not called")
	}
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http serve: %w", err)
	}
	return nil
}

// Addr is the bound address (nil before Listen).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops the server, giving in-flight requests a short grace period.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln != nil {
		ln.Close() // Shutdown only closes it if Serve ran
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	s.fwd.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("http close: %w", err)
	}
	return nil
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st := s.cfg.View.Status()
	// Empty lists encode as [] so clients need not special-case null.
	if st.Shards == nil {
		st.Shards = []Shard{}
	}
	for i := range st.Shards {
		if st.Shards[i].Replicas == nil {
			st.Shards[i].Replicas = []string{}
		}
	}
	if st.Members == nil {
		st.Members = []Member{}
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleLeader(w http.ResponseWriter, r *http.Request) {
	l := s.cfg.View.Leader()
	if !l.Known() {
		http.Error(w, "no raft leader", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ok, reason := s.cfg.View.Ready()
	if !ok {
		if reason == "" {
			reason = "not ready"
		}
		writeText(w, http.StatusServiceUnavailable, reason)
		return
	}
	writeText(w, http.StatusOK, "ready")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}
