package node

import (
	"strconv"
	"strings"
	"testing"
)

// statsKeys lists MEMORY STATS' field names (db.N's nested names after it).
func statsKeys(v respVal) string {
	var ks []string
	for i := 0; i+1 < len(v.Elems); i += 2 {
		ks = append(ks, v.Elems[i].Str)
		if sub := v.Elems[i+1]; len(sub.Elems) > 0 {
			ks = append(ks, "{"+statsKeys(sub)+"}")
		}
	}
	return strings.Join(ks, " ")
}

// TestMemorySideBySide compares MEMORY's replies and errors with Redis
// 7.0's, MEMORY STATS' field names, and checks MEMORY USAGE's estimates
// rank keys as Redis's do.
func TestMemorySideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("memory usage nosuch", "memory", "memory foo", "memory help", "memory purge", "memory stats x",
		"memory doctor", "memory usage")...)
	p.same(t, cmds("set s hello", "set big "+strings.Repeat("x", 5000), "rpush l a b c", "hset h f v", "sadd st a b",
		"zadd z 1 a", "xadd x 1-1 f v", "expire s 1000")...)
	p.same(t, cmds("memory usage s samples", "memory usage s samples x", "memory usage s samples -1", "memory usage s foo",
		"memory usage s samples 1 foo", "memory usage nosuch samples 3")...)
	for _, k := range []string{"s", "big", "l", "h", "st", "z", "x"} {
		for _, args := range [][]string{{"memory", "usage", k}, {"memory", "usage", k, "samples", "0"}, {"memory", "usage", k, "SAMPLES", "2", "samples", "3"}} {
			got, want := p.w.mustDo(t, args...), p.r.mustDo(t, args...)
			if got.Kind != ':' || want.Kind != ':' {
				t.Fatalf("%q: warden %s redis %s", args, got, want)
			}
			if n, _ := strconv.Atoi(got.Str); n < 16+len(k) {
				t.Errorf("%q: %d bytes", args, n)
			}
		}
	}
	usage := func(c *respClient, k string) int {
		n, _ := strconv.Atoi(c.mustDo(t, "memory", "usage", k).Str)
		return n
	}
	if b, s := usage(p.w, "big"), usage(p.w, "s"); b < 5000 || b <= s {
		t.Errorf("warden: big %d bytes, s %d", b, s)
	}
	p.both(t, "rpush", "l", strings.Repeat("y", 1000))
	if n := usage(p.w, "l"); n < 1000 {
		t.Errorf("list with a 1000-byte element: %d bytes", n)
	}
	got, want := p.w.mustDo(t, "memory", "stats"), p.r.mustDo(t, "memory", "stats")
	if g, w := statsKeys(got), statsKeys(want); g != w {
		t.Errorf("MEMORY STATS fields:\nwarden %s\nredis  %s", g, w)
	}
	for i := 0; i+1 < len(got.Elems); i += 2 {
		if got.Elems[i].Str == "keys.count" && got.Elems[i+1].Str != "7" {
			t.Errorf("keys.count %s", got.Elems[i+1])
		}
	}
	if s := p.w.mustDo(t, "memory", "malloc-stats").Str; !strings.Contains(s, "heap_alloc: ") {
		t.Errorf("malloc-stats: %s", s)
	}
}
