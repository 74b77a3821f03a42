package node

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// debugFixture writes the same data set of every type, in two databases,
// with an expiring key, to both servers of p.
func debugFixture(t *testing.T, p *pair) {
	t.Helper()
	for _, line := range []string{
		"flushall",
		"set s hello", "set n 12345", "set big " + strings.Repeat("x", 100),
		"rpush l a b c 1 2", "sadd st x y z 7", "sadd ints 1 2 3",
		"hset h f v g 1 longer-field some-value",
		"zadd z 1 a 2.5 b -3 c 0.1 d 1e100 e inf f -inf g",
		"xadd x 1-1 f v", "xadd x 2-5 a b c d",
		"set ttl v ex 1000",
		"select 3", "set s other", "sadd st x", "select 0",
	} {
		p.both(t, strings.Fields(line)...)
	}
}

// TestDebugSideBySide compares DEBUG DIGEST, DIGEST-VALUE, OBJECT,
// PROTOCOL and the argument errors with Redis 7.0 on the same data.
func TestDebugSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("debug digest")...) // empty: 40 zeros
	debugFixture(t, p)
	p.same(t, cmds(
		"debug digest",
		"debug digest-value s n big l st ints h z x ttl nokey",
		"debug digest-value",
		"debug digest x",
		"debug object nokey",
		"debug protocol string", "debug protocol integer", "debug protocol double", "debug protocol bignum",
		"debug protocol null", "debug protocol array", "debug protocol set", "debug protocol map",
		"debug protocol attrib", "debug protocol true", "debug protocol false", "debug protocol verbatim",
		"debug protocol push", "debug protocol nosuch",
		"debug set-active-expire", "debug reload bogus", "debug nosuch",
	)...)
	// 100,000 random glob matches: seconds under -race on a busy machine,
	// so a deadline of its own.
	{
		w, err1 := p.w.do(2*time.Minute, "debug", "stringmatch-test")
		r, err2 := p.r.do(2*time.Minute, "debug", "stringmatch-test")
		if err1 != nil || err2 != nil || w.String() != r.String() {
			t.Errorf("DEBUG STRINGMATCH-TEST: warden %v %v, redis %v %v", w, err1, r, err2)
		}
	}
	// DEBUG OBJECT: the same encoding and serialized length (the address
	// and clock differ by nature).
	strip := regexp.MustCompile(`Value at:\S+ | lru:\d+ lru_seconds_idle:\d+`)
	for _, k := range []string{"s", "n", "big", "st", "ints", "h", "z"} {
		w, r := p.w.mustDo(t, "debug", "object", k), p.r.mustDo(t, "debug", "object", k)
		if g, want := strip.ReplaceAllString(w.String(), ""), strip.ReplaceAllString(r.String(), ""); g != want {
			t.Errorf("DEBUG OBJECT %s:\n warden %s\n redis  %s", k, w, r)
		}
	}
	// RESP3 (attributes aside: the test reader does not parse them).
	p.both(t, "hello", "3")
	p.same(t, cmds("debug protocol double", "debug protocol bignum", "debug protocol null", "debug protocol set",
		"debug protocol map", "debug protocol true", "debug protocol verbatim", "debug digest-value s")...)
	p.same(t, cmds("debug protocol push")...) // the push, then the reply after it
	w, err1 := readResp(p.w.r)
	r, err2 := readResp(p.r.r)
	if err1 != nil || err2 != nil || w.String() != r.String() {
		t.Errorf("reply after the push: warden %v %v, redis %v %v", w, err1, r, err2)
	}
}

// TestDebugReloadKeepsDigest: DEBUG RELOAD saves, empties and loads the data
// set back with the same digest; NOSAVE brings back the saved file's data.
func TestDebugReloadKeepsDigest(t *testing.T) {
	p := newPair(t)
	debugFixture(t, p)
	before := p.w.mustDo(t, "debug", "digest").String()
	p.same(t, cmds("debug reload", "debug digest", "get s", "ttl ttl")...)
	if after := p.w.mustDo(t, "debug", "digest").String(); after != before {
		t.Fatalf("digest after DEBUG RELOAD %s, before %s", after, before)
	}
	p.same(t, cmds("set s changed", "set extra 1", "debug reload nosave", "get s", "exists extra", "debug digest")...)
	p.same(t, cmds("set s changed", "debug reload nosave noflush merge", "get s", "set extra 1",
		"debug reload nosave noflush merge", "get extra", "debug digest")...)
}

// TestDebugSetActiveExpire: with active expiry off a key past its TTL stays
// in the keyspace (DBSIZE counts it) until touched, as in Redis.
func TestDebugSetActiveExpire(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("debug set-active-expire 0", "set k v px 1", "dbsize")...)
	for _, c := range []*respClient{p.w, p.r} {
		waitFor(t, func() bool { return c.mustDo(t, "pttl", "k").String() == ":-2" }, "k to expire")
	}
	// Expired but not deleted: PTTL does not delete, DBSIZE still counts it.
	p.same(t, cmds("dbsize", "get k", "dbsize")...)
	p.same(t, cmds("debug set-active-expire 1", "set k2 v px 1")...)
	for _, c := range []*respClient{p.w, p.r} {
		waitFor(t, func() bool { return c.mustDo(t, "dbsize").String() == ":0" }, "active expiry to delete k2")
	}
}

// TestDebugChangeReplID gives the node a new replication ID and no
// previous one.
func TestDebugChangeReplID(t *testing.T) {
	_, addr := startServer(t, "enable-debug-command", "yes")
	c := newClient(t, addr)
	before := replInfo(c, "master_replid")
	if err := c.Do(t.Context(), "debug", "change-repl-id").Err(); err != nil {
		t.Fatal(err)
	}
	if after := replInfo(c, "master_replid"); after == before || len(after) != 40 {
		t.Fatalf("master_replid %s -> %s", before, after)
	}
	if id2 := replInfo(c, "master_replid2"); id2 != strings.Repeat("0", 40) {
		t.Fatalf("master_replid2 = %s", id2)
	}
}
