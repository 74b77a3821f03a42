package clustertest

import (
	"fmt"
	"net"
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
