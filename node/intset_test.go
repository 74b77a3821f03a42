package node

import (
	"strconv"
	"strings"
	"testing"
)

// TestIntSetSideBySide: sets of integers behave, encode and persist as in
// Redis 7.0 (an intset): replies, OBJECT ENCODING through conversions
// (a non-integer member, the 513th member), random picks of one-member
// sets, DEBUG RELOAD (the RDB intset round trip), COPY, DUMP/RESTORE both
// ways.
func TestIntSetSideBySide(t *testing.T) {
	p := newPair(t)
	ints := make([]string, 0, 514)
	for i := range 513 {
		ints = append(ints, strconv.Itoa(i*7-1000))
	}
	p.same(t, cmds(
		"SADD s 3 1 2 2 -7",
		"OBJECT ENCODING s",
		"SMEMBERS s",
		"SCARD s",
		"SISMEMBER s 2",
		"SISMEMBER s 02",
		"SISMEMBER s x",
		"SMISMEMBER s 1 x 3 +3",
		"SREM s 1 x 01",
		"SMEMBERS s",
		"SADD s -9223372036854775808 9223372036854775807 2",
		"SMEMBERS s",
		"OBJECT ENCODING s",
		"SADD one 42",
		"SRANDMEMBER one",
		"SPOP one",
		"EXISTS one",
		"SADD two 5",
		"SREM two 5",
		"EXISTS two",
		"COPY s c",
		"SMEMBERS c",
		"OBJECT ENCODING c",
		"SADD t 2 3 4 5",
		"SINTER s t",
		"SUNION s t",
		"SDIFF t s",
		"DEBUG RELOAD",
		"OBJECT ENCODING s",
		"SMEMBERS s",
		"SADD s abc",
		"OBJECT ENCODING s",
		"SCARD s",
		"SISMEMBER s abc",
		"SISMEMBER s 3",
		"OBJECT ENCODING c",
	)...)
	// Reads and stores over integer sets: the same replies, the stored
	// results intsets, and the sources still compact afterwards (MEMORY
	// USAGE unchanged: a read must not turn an intset into a hash set).
	p.both(t, "SADD", "ra", "5", "1", "9", "3")
	p.both(t, "SADD", "rb", "3", "9", "11")
	usage := func(key string) int {
		n, err := strconv.Atoi(p.w.mustDo(t, "MEMORY", "USAGE", key).Str)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := usage("ra")
	p.same(t, cmds(
		"SINTER ra rb",
		"SUNION ra rb",
		"SDIFF ra rb",
		"SINTERCARD 2 ra rb",
		"SSCAN ra 0",
		"SSCAN ra 0 MATCH 1*",
		"SRANDMEMBER ra 10",
		"SORT ra",
		"ZUNION 2 ra rb WITHSCORES",
		"SINTERSTORE ri ra rb",
		"OBJECT ENCODING ri",
		"SMEMBERS ri",
		"SUNIONSTORE ru ra rb",
		"OBJECT ENCODING ru",
		"SMEMBERS ru",
		"SDIFFSTORE rd ra rb",
		"SMEMBERS rd",
		"OBJECT ENCODING ra",
	)...)
	if after := usage("ra"); after != before {
		t.Errorf("MEMORY USAGE of an intset went from %d to %d after reads", before, after)
	}
	if a, b := usage("ru"), usage("ra"); a > 2*b {
		t.Errorf("SUNIONSTORE's intset result takes %d bytes, its source of a similar size %d", a, b)
	}
	p.same(t,
		append([]string{"SADD", "big"}, ints[:512]...),
		[]string{"OBJECT", "ENCODING", "big"},
		[]string{"SADD", "big", ints[512]},
		[]string{"OBJECT", "ENCODING", "big"},
		[]string{"SCARD", "big"},
		append([]string{"SADD", "big2"}, ints...),
		[]string{"OBJECT", "ENCODING", "big2"},
	)
	// Each side restores the other's DUMP of an intset (the LZF bytes
	// differ: the compressors are not the same code).
	w, r := p.w.mustDo(t, "DUMP", "c"), p.r.mustDo(t, "DUMP", "c")
	p.r.mustDo(t, "RESTORE", "fromwarden", "0", w.Str)
	p.same(t, cmds("SMEMBERS c")...)
	if got, want := p.r.mustDo(t, "SMEMBERS", "fromwarden").String(), p.r.mustDo(t, "SMEMBERS", "c").String(); got != want {
		t.Errorf("Redis restored warden's DUMP as %s, want %s", got, want)
	}
	if enc := p.r.mustDo(t, "OBJECT", "ENCODING", "fromwarden").Str; enc != "intset" {
		t.Errorf("Redis restored warden's DUMP as %s", enc)
	}
	p.w.mustDo(t, "RESTORE", "fromredis", "0", r.Str)
	if got := p.w.mustDo(t, "SMEMBERS", "fromredis").String(); got != p.r.mustDo(t, "SMEMBERS", "c").String() {
		t.Errorf("restored from Redis's DUMP: %s", got)
	}
	if enc := p.w.mustDo(t, "OBJECT", "ENCODING", "fromredis").Str; !strings.EqualFold(enc, "intset") {
		t.Errorf("restored encoding %s", enc)
	}
}
