package node

import (
	"strings"
	"testing"
)

// slowlogShape renders SLOWLOG GET without what differs between servers
// (timestamps, durations, client ports).
func slowlogShape(v respVal) string {
	var b strings.Builder
	for _, e := range v.Elems {
		if len(e.Elems) != 6 {
			return "malformed " + v.String()
		}
		b.WriteString(e.Elems[0].String() + " " + e.Elems[3].String() + " " + e.Elems[5].String() + "\n")
	}
	return b.String()
}

// TestSlowlogSideBySide logs every command (threshold 0) on warden and
// Redis 7.0 and compares the entries: ids, arguments (shortened and
// redacted as Redis does), client names, and the subcommands' replies.
func TestSlowlogSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("slowlog reset", "config set slowlog-log-slower-than 0", "client setname tester",
		"set k v", "get k", "auth nosuch pass")...)
	p.both(t, "hello", "3", "auth", "default", "wrong", "setname", "x")
	p.both(t, "hello", "2")
	p.same(t, cmds("multi", "set a 1", "incr a", "exec")...)
	long := strings.Repeat("x", 200)
	args := []string{"rpush", "l"}
	for i := 0; i < 40; i++ {
		args = append(args, long[:i*5])
	}
	p.same(t, args)
	got, want := p.w.mustDo(t, "slowlog", "get", "-1"), p.r.mustDo(t, "slowlog", "get", "-1")
	if g, w := slowlogShape(got), slowlogShape(want); g != w {
		t.Errorf("SLOWLOG GET -1:\nwarden\n%s\nredis\n%s", g, w)
	}
	got, want = p.w.mustDo(t, "slowlog", "get", "2"), p.r.mustDo(t, "slowlog", "get", "2")
	if g, w := slowlogShape(got), slowlogShape(want); g != w {
		t.Errorf("SLOWLOG GET 2:\nwarden\n%s\nredis\n%s", g, w)
	}
	if e := got.Elems[0]; !strings.HasPrefix(e.Elems[4].Str, "127.0.0.1:") || e.Elems[1].Kind != ':' || e.Elems[2].Kind != ':' {
		t.Errorf("entry %v", e)
	}
	p.same(t, cmds("slowlog get x", "slowlog get -2", "slowlog get 0", "slowlog get 1 2", "slowlog help", "slowlog foo", "slowlog",
		"slowlog len x", "config set slowlog-max-len 3", "slowlog len", "ping", "slowlog len", "config set slowlog-log-slower-than -1",
		"slowlog reset", "ping", "slowlog len", "config set slowlog-log-slower-than 100000000", "ping", "slowlog len")...)
}
