package sentinel

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
)

// Auth is the listener's access policy, set before Serve.
type Auth struct {
	// Password returns the password of the default user (Sentinel's
	// requirepass), "" for none. It is read on every check, so it may
	// follow CONFIG SET. Nil means no password.
	Password func() string
	// Guarded refuses the state-changing SENTINEL subcommands outright
	// while no password is set: the node belongs to a cluster with a
	// secret, and a listener anyone may use must not be a way around it.
	Guarded bool
	// Users, when set, authenticates the node's ACL users other than
	// "default" (AUTH user pass) and returns what each may run here.
	Users func(user string, pass []byte) (allowed func(cmd string) bool, ok bool)
}

// Redis's error texts.
const (
	errNoAuth    = "NOAUTH Authentication required."
	errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."
	errNoPass    = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	// Redis 7.0's text (7.2 says "HELLO <proto> AUTH").
	errHelloNoAuth = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
)

// SetAuth sets the access policy; call it before Serve.
func (s *Server) SetAuth(a Auth) { s.auth = a }

func (s *Server) password() string {
	if s.auth.Password == nil {
		return ""
	}
	return s.auth.Password()
}

// authenticate is AUTH/HELLO AUTH: the default user (the listener's
// password) or, with Auth.Users, one of the node's ACL users, whose
// command permissions then apply on this port.
func (s *Server) authenticate(c *client, user, pass []byte) bool {
	if string(user) == "default" {
		if !s.checkDefault(pass) {
			return false
		}
		c.allowed = nil
		return true
	}
	if s.auth.Users == nil {
		return false
	}
	allowed, ok := s.auth.Users(string(user), pass)
	if ok {
		c.allowed = allowed
	}
	return ok
}

// checkDefault checks the default user's password, Redis's rule: a
// default user without a password accepts any password.
func (s *Server) checkDefault(pass []byte) bool {
	want := s.password()
	if want == "" {
		return true
	}
	// Hashing first makes the comparison constant-time in the length too.
	g, w := sha256.Sum256(pass), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// mayRun answers for a command the client may not run yet and reports
// whether it may: NOAUTH before AUTH when a password is set (except the
// no_auth commands, as in Redis), and the guard on state changes.
func (s *Server) mayRun(c *client, noAuth, mutates bool, name string) bool {
	pass := s.password()
	if pass != "" && !c.authed && !noAuth {
		c.err(errNoAuth)
		return false
	}
	if c.allowed != nil && !noAuth && !c.allowed(name) {
		c.err(fmt.Sprintf("NOPERM this user has no permissions to run the '%s' command", name))
		return false
	}
	if mutates && pass == "" && s.auth.Guarded {
		c.err(fmt.Sprintf("NOPERM %s is refused: this cluster has a cluster-secret but the Sentinel listener has no password. "+
			"Set sentinel-requirepass (or requirepass) and AUTH first, or use `warden failover` (POST /failover signed with the cluster secret)",
			strings.ToUpper(strings.ReplaceAll(name, "|", " "))))
		return false
	}
	return true
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}
