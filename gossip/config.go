package gossip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberlistConfig tunes memberlist's own probing to DownAfter so that it
// declares a crashed node dead in about the same time our reports do.
func memberlistConfig(cfg Config) (*memberlist.Config, error) {
	bindHost, bindPort, err := splitAddr(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("gossip: bind address: %w", err)
	}
	bindIP := "0.0.0.0"
	if bindHost != "" {
		ip, err := resolveIP(bindHost)
		if err != nil {
			return nil, fmt.Errorf("gossip: bind address: %w", err)
		}
		bindIP = ip.String()
	}

	// memberlist needs an IP to advertise. With no advertise address and a
	// wildcard bind it picks a private interface address itself.
	advIP, advPort := "", bindPort
	switch {
	case cfg.AdvertiseAddr != "":
		host, port, err := splitAddr(cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("gossip: advertise address: %w", err)
		}
		ip, err := resolveIP(host)
		if err != nil {
			return nil, fmt.Errorf("gossip: advertise address: %w", err)
		}
		advIP = ip.String()
		if port != 0 {
			advPort = port
		}
	case !net.ParseIP(bindIP).IsUnspecified():
		advIP = bindIP
	}

	da := cfg.DownAfter
	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.NodeID
	mc.BindAddr, mc.BindPort = bindIP, bindPort
	mc.AdvertiseAddr, mc.AdvertisePort = advIP, advPort
	mc.SecretKey = cfg.SecretKey
	mc.ProbeInterval = max(da/5, 20*time.Millisecond)
	mc.ProbeTimeout = max(da/10, 10*time.Millisecond)
	mc.SuspicionMult = 2
	mc.GossipInterval = 50 * time.Millisecond
	mc.TCPTimeout = max(da, 200*time.Millisecond)
	mc.PushPullInterval = 3 * time.Second
	// Reports and probes are a few hundred bytes: compressing each one
	// (memberlist's default) costs an LZW table per packet and the
	// garbage collections that follow, on every node, all the time.
	mc.EnableCompression = false
	// A restarted node comes back under the same name on a new address; let it
	// take over the dead entry at once instead of being rejected as a conflict.
	mc.DeadNodeReclaimTime = max(da/10, time.Millisecond)
	// memberlist logs a lot at WARN for routine probe failures: keep it at debug.
	mc.Logger = slog.NewLogLogger(cfg.Logger.With("component", "memberlist").Handler(), slog.LevelDebug)
	return mc, nil
}

func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("parse %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("parse %q: bad port", addr)
	}
	return host, port, nil
}

// resolveIP turns a host into one IP, preferring IPv4 (what docker networks
// and loopback use).
func resolveIP(host string) (net.IP, error) {
	ips, err := lookupIPs(host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if ip4 := ip.To4(); ip4 != nil {
			return ip4, nil
		}
	}
	return ips[0], nil
}

func lookupIPs(host string) ([]net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %q: no addresses", host)
	}
	return ips, nil
}
