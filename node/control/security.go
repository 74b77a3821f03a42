package control

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/wardenkv/warden/node/config"
)

// ReplicationUser is the user name a replica AUTHs with on a master of a
// cluster with a secret; ReplicationPassword derives its password.
const ReplicationUser = "warden-replica"

// ReplicationPassword is the replication credential of a cluster secret:
// hex(HMAC-SHA256(secret, "warden-replication")). A replica sends this,
// never the secret itself, over the (plain-text) replication link.
func ReplicationPassword(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("warden-replication"))
	return hex.EncodeToString(m.Sum(nil))
}

// ErrNoSecret is why a node refuses to start: a listener is reachable from
// other hosts and the cluster has no secret.
var ErrNoSecret = errors.New("cluster-secret is required")

// insecureWarnEvery is how often a node running with insecure-cluster
// repeats its warning.
const insecureWarnEvery = time.Minute

// listener is one address a node listens on.
type listener struct{ name, addr string }

// listeners are every address this node listens on: the data port and the
// control plane's.
func (s settings) listeners(data string) []listener {
	out := []listener{{"data (port)", data}, {"raft-addr", s.raftBind}, {"gossip-addr", s.gossipBind}, {"http-addr", s.httpBind}}
	if s.sentinelBind != "" {
		out = append(out, listener{"sentinel-port", s.sentinelBind})
	}
	return out
}

// exposedListener returns the first listener whose address is not
// loopback-only.
func exposedListener(ls []listener) (listener, bool) {
	for _, l := range ls {
		host, _, err := net.SplitHostPort(l.addr)
		if err != nil || !loopbackHost(host) {
			return l, true
		}
	}
	return listener{}, false
}

// loopbackHost reports whether every address host names is a loopback
// one. An empty or unspecified host (all interfaces) is not; a name that
// does not resolve counts as exposed.
func loopbackHost(host string) bool {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return ip.IsLoopback()
	}
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return false
		}
	}
	return true
}

// checkExposure is the secure default: a node any of whose listeners is
// reachable from other hosts needs a cluster secret, unless the operator
// says insecure-cluster yes. It returns the exposed listener it found (for
// the warning) when running without a secret is allowed.
func checkExposure(cfg *config.Config, s settings, data string) (listener, bool, error) {
	l, exposed := exposedListener(s.listeners(data))
	if !exposed || s.secret != "" {
		return listener{}, false, nil
	}
	if !cfg.Bool("insecure-cluster") {
		return listener{}, false, fmt.Errorf("%w: %s listens on %s, which is not a loopback address, so anyone who reaches it could join, vote, fail the cluster over and replicate its data; "+
			"set the same --cluster-secret on every node, keep every listener on loopback (bind, raft-addr, gossip-addr, http-addr), "+
			"or pass --insecure-cluster yes to run without one", ErrNoSecret, l.name, l.addr)
	}
	return l, true, nil
}

// insecureLoop repeats the warning of a node running with insecure-cluster
// every interval, so it cannot go unnoticed in the logs.
func (c *Control) insecureLoop(ctx context.Context, l listener, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		c.log.Warn("running without cluster-secret on a non-loopback address (insecure-cluster yes): anyone who reaches this node can join the cluster, vote, force failovers and replicate all data",
			"listener", l.name, "addr", l.addr)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sentinelPassword is the Sentinel listener's password: sentinel-requirepass,
// else the node's requirepass (both may change at run time).
func sentinelPassword(cfg *config.Config) func() string {
	return func() string {
		if p := cfg.Get("sentinel-requirepass"); p != "" {
			return p
		}
		return cfg.Get("requirepass")
	}
}

// warnProtectedMode: with protected mode on and no requirepass, a data
// port on a non-loopback address refuses every other host, replicas of
// this node included, with DENIED; say so at start rather than let the
// cluster fail to replicate.
func (c *Control) warnProtectedMode() {
	host, _, _ := net.SplitHostPort(c.srv.Addr().String())
	if loopbackHost(host) || !c.conf.Bool("protected-mode") || c.conf.Get("requirepass") != "" {
		return
	}
	c.log.Warn("protected mode is on and requirepass is not set: replicas and clients on other hosts will be refused (DENIED); "+
		"set requirepass (cluster replicas authenticate with the cluster secret) or protected-mode no", "addr", c.srv.Addr().String())
}

// refuseUnguardedFailover is the data port's CLUSTER FAILOVER guard, the
// Sentinel listener's rule: in a cluster with a secret, a port without a
// password must not be a way around it.
func (c *Control) refuseUnguardedFailover() error {
	if c.cfg.secret != "" && c.conf.Get("requirepass") == "" {
		return errors.New("CLUSTER FAILOVER is refused: this cluster has a cluster-secret but the node has no requirepass. Set requirepass, or use `warden failover` (POST /failover signed with the cluster secret)")
	}
	return nil
}
