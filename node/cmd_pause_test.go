package node

import (
	"regexp"
	"testing"
	"time"
)

// heldClients counts the clients CLIENT LIST shows blocked (flags b; a
// held EXEC shows xb, as in Redis).
func heldClients(t *testing.T, c *respClient) int {
	t.Helper()
	return len(regexp.MustCompile(`flags=[a-zA-Z]*b`).FindAllString(c.mustDo(t, "CLIENT", "LIST").Str, -1))
}

// CLIENT PAUSE WRITE holds writes (and EXEC of queued writes, and
// may_replicate commands such as PFCOUNT) but not reads; ALL holds every
// command, CLIENT UNPAUSE included; UNPAUSE releases them in order.
func TestClientPause(t *testing.T) {
	s, addr := startServer(t, "save", "")
	admin, b, b2 := dialResp(t, addr), dialResp(t, addr), dialResp(t, addr)
	admin.mustDo(t, "SET", "k", "old")
	if v := admin.mustDo(t, "CLIENT", "PAUSE", "600000", "WRITE"); v.String() != "+OK" {
		t.Fatalf("CLIENT PAUSE: %v", v)
	}
	if v := b.mustDo(t, "GET", "k"); v.Str != "old" {
		t.Fatalf("GET during a WRITE pause: %v", v)
	}
	b.c.Write(respCommand("SET", "k", "new"))
	b2.mustDo(t, "MULTI")
	if v := b2.mustDo(t, "INCR", "n"); v.String() != "+QUEUED" {
		t.Fatalf("queueing during a pause: %v", v)
	}
	b2.c.Write(respCommand("EXEC"))
	waitFor(t, func() bool { return heldClients(t, admin) == 2 }, "SET and EXEC to be held")
	if v := admin.mustDo(t, "GET", "k"); v.Str != "old" {
		t.Fatalf("the held SET ran: %v", v)
	}
	admin.mustDo(t, "CLIENT", "UNPAUSE")
	if v := readNext(t, b); v.String() != "+OK" {
		t.Fatalf("held SET answered %v", v)
	}
	if v := readNext(t, b2); v.String() != "*[:1]" {
		t.Fatalf("held EXEC answered %v", v)
	}
	if v := admin.mustDo(t, "GET", "k"); v.Str != "new" {
		t.Fatalf("after UNPAUSE: %v", v)
	}
	// ALL holds reads, and CLIENT UNPAUSE itself (as in Redis): only the
	// pause's end releases them, here forced from inside the server.
	admin.mustDo(t, "CLIENT", "PAUSE", "600000", "ALL")
	b.c.Write(respCommand("GET", "k"))
	b2.c.Write(respCommand("PFCOUNT", "h"))
	admin.c.Write(respCommand("CLIENT", "UNPAUSE"))
	waitFor(t, func() bool { return heldCount(s) == 3 }, "GET, PFCOUNT and CLIENT UNPAUSE to be held")
	s.clientPause.unpause()
	for _, cl := range []*respClient{b, b2, admin} {
		if v := readNext(t, cl); v.isErr() {
			t.Fatalf("held command answered %v", v)
		}
	}
	// A pause that ends by itself releases what it held.
	admin.mustDo(t, "CLIENT", "PAUSE", "50", "ALL")
	if v := b.mustDo(t, "PING"); v.String() != "+PONG" {
		t.Fatalf("PING after a short pause: %v", v)
	}
}

func heldCount(s *Server) int {
	n := 0
	for _, cl := range s.clientList() {
		if cl.blocked.Load() {
			n++
		}
	}
	return n
}

// CLIENT PAUSE's errors are Redis 7.0's.
func TestClientPauseErrors(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("client pause", "client pause x", "client pause -1", "client pause 10 xx", "client pause x xx",
		"client pause 9223372036854775807", "client pause 1 write 1", "client pause 0 write", "client pause 0", "client unpause", "client unpause x")...)
}

// A new pause never shortens or weakens the one in force (Redis keeps the
// later end and the stronger mode).
func TestClientPauseExtends(t *testing.T) {
	var p clientPause
	now := time.Now()
	p.pause(now.Add(time.Hour), true)
	p.pause(now.Add(time.Millisecond), false)
	if all, end, _ := p.state(); !all || !end.Equal(now.Add(time.Hour)) {
		t.Fatalf("after a shorter WRITE pause: all=%v end=%v", all, end)
	}
	p.pause(now.Add(2*time.Hour), false)
	if all, end, _ := p.state(); !all || !end.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("after a longer WRITE pause: all=%v end=%v", all, end)
	}
	p.unpause()
	if _, end, _ := p.state(); !end.IsZero() {
		t.Fatal("still paused after unpause")
	}
}
