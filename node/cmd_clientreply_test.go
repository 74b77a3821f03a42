package node

import (
	"strings"
	"testing"
	"time"
)

// pipelineUntilPong sends every command at once, then PING, and returns
// the replies received up to the PONG (commands with replies off answer
// nothing).
func pipelineUntilPong(t *testing.T, c *respClient, cmds [][]string) string {
	t.Helper()
	var buf []byte
	for _, a := range cmds {
		buf = append(buf, respCommand(a...)...)
	}
	buf = append(buf, respCommand("ping", "end")...)
	c.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.c.Write(buf); err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		v, err := readResp(c.r)
		if err != nil {
			t.Fatalf("after %v: %v", out, err)
		}
		if v.Str == "end" {
			return strings.Join(out, " | ")
		}
		out = append(out, v.String())
	}
}

// TestClientReplySideBySide checks which replies CLIENT REPLY OFF, SKIP
// and ON let through, against Redis 7.0.
func TestClientReplySideBySide(t *testing.T) {
	p := newPair(t)
	for _, seq := range [][]string{
		{"client reply off", "set a 1", "get a", "nosuchcmd", "client reply skip", "get a", "client reply on", "get a"},
		{"client reply skip", "get a", "get a", "client reply skip", "client reply skip", "incr a", "get a"},
		{"client reply skip", "client reply on", "get a"},
		{"client reply foo", "client reply", "client reply on x", "client reply ON"},
		{"client reply off", "multi", "incr a", "exec", "client reply on", "get a"},
		{"client reply skip", "multi", "incr a", "exec", "get a"},
	} {
		g, w := pipelineUntilPong(t, p.w, cmds(seq...)), pipelineUntilPong(t, p.r, cmds(seq...))
		if g != w {
			t.Errorf("%q:\n warden %s\n redis  %s", seq, g, w)
		}
	}
}

// TestClientUnblockSideBySide unblocks clients blocked in BLPOP, BZPOPMIN
// and XREAD with TIMEOUT (their timeout reply) and ERROR (-UNBLOCKED), and
// compares every reply with Redis 7.0's.
func TestClientUnblockSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("client unblock x", "client unblock 1 foo", "client unblock 99999", "client unblock 1 timeout x",
		"client unblock", "client id x")...)
	// A client that is not blocked cannot be unblocked.
	p.same(t, cmds("client unblock 99999 error")...)
	addrs := map[*respClient]bool{p.w: true, p.r: false}
	for _, tc := range []struct{ block, mode string }{
		{"blpop q 0", "error"}, {"blpop q 0", "timeout"}, {"blpop q 0", ""},
		{"bzpopmin z 0", "timeout"}, {"xread block 0 streams x $", "timeout"}, {"xread block 0 streams x $", "error"},
		{"blmove q q2 left right 0", "ERROR"},
	} {
		var replies [2]string
		for c, isW := range addrs {
			blocked := dialResp(t, c.c.RemoteAddr().String())
			id := blocked.mustDo(t, "client", "id").Str
			blocked.c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := blocked.c.Write(respCommand(strings.Fields(tc.block)...)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool {
				return strings.Contains(c.mustDo(t, "client", "list", "id", id).Str, " flags=b ")
			}, "the client to block")
			args := []string{"client", "unblock", id}
			if tc.mode != "" {
				args = append(args, tc.mode)
			}
			n := c.mustDo(t, args...)
			v, err := readResp(blocked.r)
			if err != nil {
				t.Fatalf("%s: %v", tc.block, err)
			}
			// Unblocked means no longer blocked: a second UNBLOCK finds nothing.
			again := c.mustDo(t, "client", "unblock", id)
			i := 0
			if !isW {
				i = 1
			}
			replies[i] = n.String() + " " + v.String() + " " + again.String()
			blocked.close()
		}
		if replies[0] != replies[1] {
			t.Errorf("%s, unblock %s:\n warden %s\n redis  %s", tc.block, tc.mode, replies[0], replies[1])
		}
	}
}
