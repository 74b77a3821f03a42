// Package testhost holds what tests need from the machine they run on: a
// non-loopback address to connect from, and a log sink a test reads while a
// process writes it.
package testhost

import (
	"bytes"
	"net"
	"sync"
	"testing"
)

// HostIP returns a non-loopback IPv4 address of this host: a connection to
// it from this host comes from that address, not from loopback. Without one
// the test is skipped, saying what could not be exercised (why).
func HostIP(t testing.TB, why string) string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				return n.IP.String()
			}
		}
	}
	t.Skipf("no non-loopback IPv4 address on this host: %s cannot be exercised", why)
	return ""
}

// LogBuffer collects a process's log while it runs; safe for concurrent
// writes and reads.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
