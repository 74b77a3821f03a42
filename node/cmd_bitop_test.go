package node

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBitOpSideBySide compares BITOP, BITFIELD and BITFIELD_RO with Redis
// 7.0 on a corpus of edge cases and random operations, values included.
func TestBitOpSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds(
		"set a foobar", "set b abcdef", "set c \x00\xff", "rpush l x",
		"bitop and d a b", "get d", "bitop or d a b c", "get d", "bitop xor d a b nosuch", "get d", "bitop not d a", "get d",
		"bitop not d a b", "bitop not d", "bitop nand d a", "bitop and d nosuch nosuch2", "exists d", "bitop or d l", "bitop or d a l",
		"bitop or l a", "type l", "set e x ex 100", "bitop or e a", "ttl e", "bitop AND d c", "get d", "bitop",
		"bitfield bf", "bitfield bf get u8 0", "exists bf", "bitfield bf set i8 0 -1", "get bf", "bitfield bf get i8 0 get u8 0 get u4 4 get i4 4",
		"bitfield bf set u8 #1 255 get u8 #1 get u16 0", "bitfield bf incrby u2 100 1 overflow sat incrby u2 102 1", "get bf",
		"bitfield bf overflow fail incrby i8 0 200", "bitfield bf overflow sat incrby i8 0 -1000 overflow wrap incrby i8 0 -1000",
		"bitfield bf set i64 0 -9223372036854775808 get i64 0 incrby i64 0 -1 overflow sat incrby i64 0 -1 get u63 0",
		"bitfield bf set u63 0 9223372036854775807 incrby u63 0 1 overflow fail incrby u63 0 1 overflow sat incrby u63 0 5",
		"bitfield bf set u64 0 1", "bitfield bf set i65 0 1", "bitfield bf set i0 0 1", "bitfield bf set x8 0 1", "bitfield bf set I8 0 1",
		"bitfield bf set u8 -1 1", "bitfield bf set u8 x 1", "bitfield bf set u8 #x 1", "bitfield bf set u8 ##1 1", "bitfield bf set u8 4294967296 1",
		"bitfield bf set u8 0 x", "bitfield bf set u8 0", "bitfield bf foo", "bitfield bf get u8",
		"bitfield bf overflow", "bitfield bf overflow foo get u8 0", "bitfield bf overflow wrap", "bitfield l get u8 0", "bitfield l set u8 0 1",
		"bitfield bf get u8 1000 get i64 1 get u63 3", "bitfield bf2 overflow fail set u2 0 8", "get bf2", "bitfield bf2 set u2 0 3 set u2 0 7 incrby u2 0 -1",
		"bitfield bf3 get u8 0 set u8 100 1", "strlen bf3", "bitfield bf3 get u8 #1000000 get i1 7 get u1 0",
		"bitfield_ro bf get u8 0 get i8 8", "bitfield_ro bf set u8 0 1", "bitfield_ro bf incrby u8 0 1", "bitfield_ro bf get u64 0",
		"bitfield_ro bf overflow fail get u8 0", "bitfield_ro l get u8 0", "bitfield_ro nosuch get u8 0", "bitfield_ro bf",
		"set n 123", "bitfield n get u8 0 set u8 0 255", "get n",
	)...)
	rng := rand.New(rand.NewPCG(7, 8))
	owTypes := []string{"wrap", "sat", "fail"}
	for range 2000 {
		var args []string
		args = append(args, "bitfield", "r")
		for range 1 + rng.IntN(4) {
			if rng.IntN(4) == 0 {
				args = append(args, "overflow", owTypes[rng.IntN(3)])
			}
			typ := fmt.Sprintf("u%d", 1+rng.IntN(63))
			if rng.IntN(2) == 0 {
				typ = fmt.Sprintf("i%d", 1+rng.IntN(64))
			}
			off := fmt.Sprint(rng.IntN(200))
			if rng.IntN(5) == 0 {
				off = fmt.Sprintf("#%d", rng.IntN(5))
			}
			vals := []string{fmt.Sprint(rng.Int64N(1000) - 500), fmt.Sprint(int64(rng.Uint64())), "9223372036854775807", "-9223372036854775808", "1", "-1"}
			switch rng.IntN(3) {
			case 0:
				args = append(args, "get", typ, off)
			case 1:
				args = append(args, "set", typ, off, vals[rng.IntN(len(vals))])
			default:
				args = append(args, "incrby", typ, off, vals[rng.IntN(len(vals))])
			}
		}
		p.same(t, args)
		if t.Failed() {
			t.Fatalf("stopped after %q", strings.Join(args, " "))
		}
	}
	p.same(t, cmds("get r")...)
	for range 200 {
		p.both(t, "setrange", "x"+fmt.Sprint(rng.IntN(3)), fmt.Sprint(rng.IntN(20)), fmt.Sprint(rng.Uint64()))
		ops := []string{"and", "or", "xor"}
		p.same(t, []string{"bitop", ops[rng.IntN(3)], "y", "x0", "x1", "x2"}, []string{"get", "y"}, []string{"bitop", "not", "y", "x1"}, []string{"get", "y"})
	}
}

// BITOP and BITFIELD propagate as sent when they wrote; a BITFIELD of GETs
// and an empty BITOP over missing keys with no destination do not.
func TestBitOpPropagation(t *testing.T) {
	s, addr := startServer(t, "save", "")
	feed := captureWrites(s, false)
	c := dialResp(t, addr)
	for _, args := range cmds("set a x", "bitop not d a", "bitop and d2 nosuch", "bitfield b get u8 0", "bitfield b set u8 0 1", "bitfield b overflow fail incrby u8 0 1000") {
		c.mustDo(t, args...)
	}
	want := []string{"SET a x", "bitop not d a", "bitfield b set u8 0 1", "bitfield b overflow fail incrby u8 0 1000"}
	if got := feed.take(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("propagated %q, want %q", got, want)
	}
}
