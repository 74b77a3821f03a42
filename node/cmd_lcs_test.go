package node

import (
	"math/rand/v2"
	"testing"
)

// TestLCSSideBySide compares LCS with Redis 7.0: options, errors, and
// random strings over a small alphabet (many ranges).
func TestLCSSideBySide(t *testing.T) {
	p := newPair(t)
	for _, s := range cmds("set a ohmytext", "set b mynewtext", "set e \"\"", "rpush l x", "set same ohmytext") {
		p.both(t, s...)
	}
	p.same(t, cmds(
		"lcs a b", "lcs a b len", "lcs a b idx", "lcs a b idx withmatchlen", "lcs a b idx minmatchlen 4", "lcs a b idx minmatchlen 4 withmatchlen",
		"lcs a b idx minmatchlen -3", "lcs a b idx minmatchlen x", "lcs a b minmatchlen", "lcs a b len idx", "lcs a b foo",
		"lcs a nosuch", "lcs nosuch nosuch2 idx", "lcs a l", "lcs l a len", "lcs a same idx withmatchlen", "lcs a b LEN WITHMATCHLEN",
		"lcs a", "lcs a b withmatchlen", "lcs a b minmatchlen 100 len",
	)...)
	p.both(t, "hello", "3")
	p.same(t, cmds("lcs a b idx withmatchlen", "lcs a b")...)
	p.both(t, "hello", "2")
	rng := rand.New(rand.NewPCG(9, 10))
	rs := func() string {
		b := make([]byte, rng.IntN(60))
		for i := range b {
			b[i] = "abc"[rng.IntN(3)]
		}
		return string(b)
	}
	for range 300 {
		p.both(t, "set", "x", rs())
		p.both(t, "set", "y", rs())
		p.same(t, cmds("lcs x y", "lcs x y len", "lcs x y idx withmatchlen", "lcs x y idx minmatchlen 2")...)
		if t.Failed() {
			t.FailNow()
		}
	}
	p.both(t, "config", "set", "proto-max-bulk-len", "1048576")
	p.both(t, "setrange", "big1", "1000", "x")
	p.same(t, cmds("lcs big1 big1 len")...)
}
