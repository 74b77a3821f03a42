package sentinel

import (
	"io"
	"testing"
	"time"
)

// TestMaxClients: past maxclients the Sentinel port answers "-ERR max number
// of clients reached" and disconnects, as the data port does. Before, it
// accepted every connection: 20 k of them exhausted the process's
// descriptors and stalled the data port and HTTP.
func TestMaxClients(t *testing.T) {
	s, _ := startServer(t, sampleView())
	s.SetMaxClients(func() int { return 3 })
	var held []*rawConn
	for i := 0; i < 3; i++ {
		c := dialRaw(t, s.Addr().String())
		if got := c.do("PING"); got != status("PONG") {
			t.Fatalf("client %d: PING = %#v", i, got)
		}
		held = append(held, c)
	}
	extra := dialRaw(t, s.Addr().String())
	if got, err := extra.read(); got != respErr("ERR max number of clients reached") || err != nil {
		t.Fatalf("client past maxclients: %#v, %v", got, err)
	}
	extra.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, err := extra.r.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("refused connection left open: read %d, %v", n, err)
	}
	held[0].nc.Close()
	waitFor(t, 20*time.Second, "a slot to free", func() bool { return s.numClients() < 3 })
	alive(t, s)
}

// TestHugeMultibulkCount: the Sentinel port shares the data port's reader:
// a 22-byte header is refused at once instead of pinning a core, and the
// connection goes away.
func TestHugeMultibulkCount(t *testing.T) {
	s, _ := startServer(t, sampleView())
	c := dialRaw(t, s.Addr().String())
	c.writeRaw("*9223372036854775807\r\n")
	if got, err := c.read(); got != respErr("ERR Protocol error: invalid multibulk length") || err != nil {
		t.Fatalf("reply %#v, %v", got, err)
	}
	waitFor(t, 20*time.Second, "the connection to be dropped", func() bool { return s.numClients() == 0 })
	alive(t, s)
}
