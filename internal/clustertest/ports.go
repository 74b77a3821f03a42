package clustertest

import (
	"fmt"
	"net"
	"slices"
	"strconv"
)

// freePorts returns n distinct loopback ports that were free a moment ago
// for TCP and UDP alike (gossip uses both). All are held open until every
// one is found so that no two are the same; another process may still take
// one before the node binds it, which is rare enough to accept.
func freePorts(n int) ([]int, error) {
	var held []func() error
	defer func() {
		for _, c := range held {
			c()
		}
	}()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 10*n {
			return nil, fmt.Errorf("clustertest: no free loopback port with UDP free too after %d tries", tries)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("clustertest: free port: %w", err)
		}
		held = append(held, ln.Close)
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // UDP side taken: keep the TCP one held so it is not picked again
		}
		held = append(held, pc.Close)
		ports = append(ports, port)
	}
	return ports, nil
}

// freshPorts is freePorts without any port an earlier node of this cluster
// was given: each freePorts call releases its ports when it returns, so the
// kernel may hand one out again to the next node, and the second node to
// bind it would fail to start.
func (c *Cluster) freshPorts(n int) ([]int, error) {
	c.portsMu.Lock()
	defer c.portsMu.Unlock()
	if c.usedPorts == nil {
		c.usedPorts = map[int]bool{}
	}
	for tries := 0; tries < 20; tries++ {
		ports, err := freePorts(n)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(ports, func(p int) bool { return c.usedPorts[p] }) {
			for _, p := range ports {
				c.usedPorts[p] = true
			}
			return ports, nil
		}
	}
	return nil, fmt.Errorf("clustertest: no %d loopback ports unused by this cluster after 20 tries", n)
}
