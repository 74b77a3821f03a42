package node

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var monitorPrefix = regexp.MustCompile(`^\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] `)

// monitorLines reads a monitor's lines up to the one of "ECHO END",
// keeping the database and the arguments (times and ports differ).
func monitorLines(t *testing.T, m *respClient) []string {
	t.Helper()
	var out []string
	for {
		v := readNext(t, m)
		if v.Kind != '+' {
			t.Fatalf("monitor sent %v", v)
		}
		sub := monitorPrefix.FindStringSubmatch(v.Str)
		if sub == nil {
			t.Fatalf("monitor line %q", v.Str)
		}
		line := sub[1] + " " + v.Str[len(sub[0]):]
		if line == `0 "ECHO" "END"` {
			return out
		}
		out = append(out, line)
	}
}

// TestMonitorSideBySide compares MONITOR's stream with Redis 7.0's for the
// same commands: which are shown (not admin ones, not queued ones until
// EXEC runs them), in which order, quoted how, with which database.
func TestMonitorSideBySide(t *testing.T) {
	p := newPair(t)
	mw, mr := dialResp(t, p.w.c.RemoteAddr().String()), dialResp(t, p.r.c.RemoteAddr().String())
	for _, m := range []*respClient{mw, mr} {
		if v := m.mustDo(t, "MONITOR"); v.String() != "+OK" {
			t.Fatalf("MONITOR: %v", v)
		}
	}
	p.same(t, cmds("set k v", "get k", "config get maxmemory", "client setname mon", "select 2", "set x y", "select 0",
		"multi", "set a 1", "incr a", "exec", "geoadd g 1 2 m", "ping", "hset h f v",
		"auth secret", "auth user secret", "migrate 127.0.0.1 1 nokey 0 10 auth secret",
		"migrate 127.0.0.1 1 nokey 0 10 auth2 user secret copy", "migrate 127.0.0.1 1 nokey 0 10 replace auth")...)
	p.same(t, []string{"set", "bin", "a\"b\\c\nd\r\te\x00\x7f\xff é"}, []string{"pfadd", "h2", "x"}, []string{"nosuch"}, []string{"get"})
	p.same(t, []string{"ECHO", "END"})
	if g, w := monitorLines(t, mw), monitorLines(t, mr); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("monitor lines\nwarden:\n%s\nredis:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	// A monitor still runs commands; a second MONITOR is ignored; MULTI
	// refuses it; RESET ends it.
	for _, m := range []*respClient{mw, mr} {
		m.c.Write(respCommand("MONITOR"))
		m.c.Write(respCommand("PING"))
	}
	gw, gr := readNext(t, mw), readNext(t, mr)
	if gw.String() != gr.String() {
		t.Errorf("after a second MONITOR: warden %v, redis %v", gw, gr)
	}
	p.same(t, []string{"ECHO", "END"})
	monitorLines(t, mw)
	monitorLines(t, mr)
	for _, m := range []*respClient{mw, mr} {
		if v := m.mustDo(t, "RESET"); v.String() != "+RESET" {
			t.Fatalf("RESET: %v", v)
		}
	}
	p.same(t, cmds("set after reset")...)
	(&pair{w: mw, r: mr}).same(t, cmds("get after", "multi", "monitor", "exec")...)
}

// readNext reads one reply without sending anything.
func readNext(t *testing.T, rc *respClient) respVal {
	t.Helper()
	rc.c.SetDeadline(time.Now().Add(20 * time.Second))
	v, err := readResp(rc.r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
