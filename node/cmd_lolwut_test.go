package node

import (
	"strings"
	"testing"
)

// TestLolwutSideBySide compares LOLWUT with Redis 7.0: the version line,
// errors, and version 5's Schotter whole when it has at most two rows of
// squares (Redis randomises only the rows below), else its first lines,
// line count and caption.
func TestLolwutSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("lolwut", "lolwut version x", "lolwut version", "lolwut foo", "lolwut version 7 foo",
		"lolwut version -1", "lolwut VERSION 5 x", "lolwut version 5 10 x", "lolwut version 5 20 3 2",
		"lolwut version 5 1 1 1", "lolwut version 5 -5 0 -1", "lolwut version 5 2000 300 1", "lolwut version 5 33 7 2")...)
	for _, args := range [][]string{{"lolwut", "version", "5"}, {"lolwut", "version", "5", "40", "5", "9"}} {
		g := strings.Split(p.w.mustDo(t, args...).Str, "\n")
		w := strings.Split(p.r.mustDo(t, args...).Str, "\n")
		if len(g) != len(w) || len(g) < 8 || g[len(g)-2] != w[len(w)-2] || strings.Join(g[:5], "\n") != strings.Join(w[:5], "\n") {
			t.Errorf("%q:\nwarden\n%s\nredis\n%s", args, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
	}
}
