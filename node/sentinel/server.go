package sentinel

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// redisVersion is the Redis (Sentinel) version warden answers as.
const redisVersion = "7.0.15"

// Server is the Sentinel listener.
type Server struct {
	addr  string
	view  View
	log   *slog.Logger
	runID string // INFO run_id: random per process, as Redis's
	start time.Time
	// TLS, when set before Listen, makes the port speak only TLS.
	TLS *tls.Config

	mu      sync.Mutex
	ln      net.Listener
	srv     *redcon.Server
	closed  bool
	nextID  int64
	clients map[*client]struct{}
	// maxClients returns maxclients; nil: no limit (see SetMaxClients).
	maxClients func() int

	ps   pubsub
	auth Auth
}

// New returns a listener for addr ("host:port") answering from v; log may
// be nil (slog.Default).
func New(addr string, v View, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	var id [20]byte
	rand.Read(id[:])
	return &Server{
		addr:    addr,
		view:    v,
		log:     log.With("component", "sentinel"),
		runID:   hex.EncodeToString(id[:]),
		start:   time.Now(),
		clients: map[*client]struct{}{},
		ps:      newPubsub(),
	}
}

// SetMaxClients bounds the connections the listener holds: past max(),
// read at each accept, a client gets "-ERR max number of clients reached"
// and is disconnected, as on the data port. Call it before Serve.
func (s *Server) SetMaxClients(max func() int) {
	s.mu.Lock()
	s.maxClients = max
	s.mu.Unlock()
}

// Listen binds the address, so callers learn Addr before Serve.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sentinel: listener closed")
	}
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("sentinel: listen on %s: %w", s.addr, err)
	}
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	s.ln = ln
	return nil
}

// Serve accepts clients until Close (then it returns nil); it calls Listen
// if needed.
func (s *Server) Serve() error {
	if err := s.Listen(); err != nil {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return nil
		}
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	ln := s.ln
	s.srv = redcon.NewServerNetwork("tcp", ln.Addr().String(), s.handle, s.accept, s.onClosed)
	// redcon backs off after a failed Accept (5 ms doubling to 1 s), which
	// bounds this log to about a line a second while fds are exhausted.
	s.srv.AcceptError = func(err error) { s.log.Warn("accept failed", "err", err) }
	srv := s.srv
	s.mu.Unlock()
	s.log.Info("sentinel listener ready", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil {
		return fmt.Errorf("sentinel: serve on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Addr returns the bound address (nil before Listen).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops the listener and disconnects every client. It may be called
// before Serve and more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln, srv := s.ln, s.srv
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	if srv != nil {
		srv.Close() // redcon then closes its connections
	}
	// Close ln ourselves too: Serve may not have handed it to redcon yet
	// (redcon's Close then only says "not serving"); its Accept then fails
	// and Serve returns.
	var err error
	if ln != nil {
		if err = ln.Close(); errors.Is(err, net.ErrClosed) {
			err = nil
		}
	}
	for _, c := range clients {
		c.kill()
	}
	if err != nil {
		return fmt.Errorf("sentinel: closing the listener: %w", err)
	}
	return nil
}

// Publish sends message to the clients subscribed to channel (SUBSCRIBE or
// a matching PSUBSCRIBE) and returns how many subscriptions received it, as
// Redis's PUBLISH does. It never blocks on a slow subscriber.
func (s *Server) Publish(channel, message string) int {
	n := s.ps.publish(channel, message)
	s.log.Debug("published", "channel", channel, "message", message, "receivers", n)
	return n
}

func (s *Server) accept(conn redcon.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.maxClients != nil && len(s.clients) >= s.maxClients() {
		redcon.Refuse(conn, "ERR max number of clients reached")
		return false
	}
	s.nextID++
	// As Redis: a connection made while there is no password stays
	// authenticated if one is set later.
	c := &client{id: s.nextID, conn: conn, nc: conn.NetConn()}
	c.setAuthed(s.password() == "")
	conn.SetContext(c)
	s.clients[c] = struct{}{}
	return true
}

func (s *Server) onClosed(conn redcon.Conn, err error) {
	c, ok := conn.Context().(*client)
	if !ok {
		return
	}
	c.kill()
	s.ps.unsubscribeAll(c)
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

func (s *Server) numClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// handle is redcon's callback: one command of one connection.
func (s *Server) handle(conn redcon.Conn, cmd redcon.Command) {
	c, ok := conn.Context().(*client)
	if !ok || c.quitting || len(cmd.Args) == 0 {
		return
	}
	defer func() {
		// A bug (here or in the View) must cost one connection, not the
		// process: the reply stream may be half written, so drop it.
		if r := recover(); r != nil {
			s.log.Error("panic serving a sentinel command", "command", string(cmd.Args[0]), "panic", r, "stack", string(debug.Stack()))
			c.kill()
		}
	}()
	s.call(c, cmd.Args)
	if c.outboxMode.Load() {
		c.flushToOutbox()
	}
}

// call looks the command (and subcommand) up, checks arity and the
// subscribed-mode restriction in Redis's order, and runs it.
func (s *Server) call(c *client, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	cmd, ok := commands[name]
	if !ok {
		c.err(unknownCommand(args))
		return
	}
	fn := cmd.fn
	noAuth := hasFlag(cmd.flags, "no_auth")
	if cmd.subs != nil && len(args) >= 2 {
		subName := strings.ToLower(string(args[1]))
		sub, ok := cmd.subs[subName]
		if !ok {
			c.err(fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", truncate(string(args[1]), 128), strings.ToUpper(name)))
			return
		}
		name += "|" + subName
		cmd = &command{arity: sub.arity, pubsubOK: cmd.pubsubOK}
		fn = sub.fn
	}
	if !arityOK(cmd.arity, len(args)) {
		c.err(fmt.Sprintf("ERR wrong number of arguments for '%s' command", name))
		return
	}
	// After the lookup and arity errors, as Redis's processCommand.
	if !s.mayRun(c, noAuth, mutating[name], name) {
		return
	}
	if c.subscribed() && !cmd.pubsubOK {
		c.err(fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", name))
		return
	}
	fn(s, c, args)
}

func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// unknownCommand is Redis 7.0's error text for a command it does not have.
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		fmt.Fprintf(&b, "'%s' ", truncate(string(a), 128-b.Len()))
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", truncate(string(args[0]), 128), b.String())
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
