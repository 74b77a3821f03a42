package node

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"strings"

	"github.com/tidwall/redcon"
)

// errDenied is Redis 7.0's protected-mode refusal, word for word.
const errDenied = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
	"2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
	"4) Setup a an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

// protectedRefuse is Redis's protected mode (networking.c,
// clientAcceptHandler): with protected-mode yes and no password for the
// default user, a connection from anywhere but loopback gets DENIED and is
// closed, whatever bind says. It reports whether conn was refused.
func (s *Server) protectedRefuse(conn redcon.Conn) bool {
	if !s.acl.Default().NoPass() || !s.cfg.Bool("protected-mode") || peerIsLoopback(conn.NetConn()) {
		return false
	}
	s.stats.rejectedConns.Add(1)
	redcon.Refuse(conn, errDenied)
	return true
}

// peerIsLoopback is Redis's connIsLocal: the peer is 127.x or ::1.
func peerIsLoopback(nc net.Conn) bool {
	a, ok := nc.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// warnExposed warns at start when the data port listens beyond loopback
// and the default user has no password.
func (s *Server) warnExposed() {
	addr := s.Addr().String() // the TLS listener when port is 0
	host, _, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	if (ip != nil && ip.IsLoopback()) || *s.requirePass.Load() != "" {
		return
	}
	if s.cfg.Bool("protected-mode") {
		s.log.Warn("listening on a non-loopback address without requirepass: protected mode refuses clients from other hosts (DENIED)", "addr", addr)
		return
	}
	s.log.Warn("listening on a non-loopback address without requirepass and with protected-mode no: anyone who reaches this port can read and change all data", "addr", addr)
}

// replAuth is the credential of a cluster with a secret: the master takes
// replication commands only from a connection that AUTHed with it, and a
// replica link sends it.
type replAuth struct{ user, pass string }

// SetReplicationAuth turns the replication guard on (call before Serve):
// SYNC, PSYNC and REPLCONF need AUTH user pass first, and this node's
// replica link authenticates with it instead of masteruser/masterauth.
func (s *Server) SetReplicationAuth(user, pass string) {
	s.replAuth.Store(&replAuth{user: user, pass: pass})
}

// isReplicationCredential reports whether user/pass is the replication
// credential (constant time in the password).
func (s *Server) isReplicationCredential(user, pass []byte) bool {
	ra := s.replAuth.Load()
	if ra == nil || user == nil || string(user) != ra.user {
		return false
	}
	g, w := sha256.Sum256(pass), sha256.Sum256([]byte(ra.pass))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// replicationRefused answers NOPERM (Redis's ACL text) for a replication
// command from a client that did not AUTH as the replication user while
// the guard is on, and reports whether it did.
func (c *Ctx) replicationRefused() bool {
	if c.s.replAuth.Load() == nil || c.cl.replAuthed || c.cl.internal {
		return false
	}
	c.Err(fmt.Sprintf("NOPERM this user has no permissions to run the '%s' command", strings.ToLower(string(c.Args[0]))))
	return true
}
