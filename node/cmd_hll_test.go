package node

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/redistest"
)

// TestHLLSideBySide feeds warden and Redis 7.0 the same HyperLogLog
// commands and compares every reply, the raw string values (so the sparse
// and dense bytes and the cached cardinality are Redis's) included.
func TestHLLSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds(
		"pfadd h", "get h", "pfcount h", "pfadd h a b c", "pfadd h a", "get h", "pfcount h", "get h",
		"pfdebug encoding h", "pfdebug decode h", "pfcount h nosuch", "pfcount nosuch", "pfcount nosuch nosuch2",
		"pfadd h2 c d e f", "pfcount h h2", "pfmerge m h h2", "get m", "pfcount m", "pfmerge m", "pfmerge m2", "get m2",
		"pfdebug todense h2", "pfdebug todense h2", "get h2", "pfdebug encoding h2", "pfdebug decode h2",
		"pfmerge m3 h h2", "get m3", "pfdebug encoding m3", "pfcount m3",
		"pfdebug getreg h",
		"set s hello", "pfadd s a", "pfcount s", "pfcount h s", "pfmerge s h", "pfmerge h s", "pfdebug encoding s",
		"rpush l a", "pfadd l a", "pfcount l", "pfcount h l", "pfmerge l h", "pfmerge h l", "pfdebug encoding l",
		"pfdebug encoding nosuch", "pfdebug foo h", "pfdebug foo nosuch", "pfdebug getreg", "pfadd", "pfcount", "pfmerge",
		"set num 12345", "pfadd num x", "set fake HYLLxxxxxxxxxxxx", "pfcount fake",
		"pfselftest", "pfselftest x", "config get hll-sparse-max-bytes",
	)...)
	// Hand-made headers: a sparse body that does not cover the registers,
	// a dense value of the wrong length, an unknown encoding.
	for _, v := range []string{
		"HYLL\x01\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x7f",
		"HYLL\x01\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x7f\xff\x80",
		"HYLL\x01\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x80\x7f\xff",
		"HYLL\x01\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00\x7f\xfe\x80",
		"HYLL\x01\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00",
		"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xfe",
		"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff",
		"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff",
	} {
		p.both(t, "set", "bad", v)
		p.same(t, []string{"pfcount", "bad"}, []string{"pfcount", "bad", "h"}, []string{"pfdebug", "decode", "bad"},
			[]string{"pfdebug", "encoding", "bad"})
		p.both(t, "set", "bad", v)
		p.same(t, []string{"pfmerge", "x", "bad"}, []string{"pfadd", "bad", "a", "b", "c"}, []string{"get", "bad"})
		p.both(t, "set", "bad", v)
		p.same(t, []string{"pfdebug", "todense", "bad"}, []string{"get", "bad"})
	}
	// Growth through the sparse opcodes to dense (hll-sparse-max-bytes),
	// comparing the bytes and the estimate at every step.
	for i := 0; i < 3000; i += 7 {
		args := []string{"pfadd", "big"}
		for j := i; j < i+7; j++ {
			args = append(args, "e"+strconv.Itoa(j))
		}
		p.same(t, args, []string{"get", "big"}, []string{"pfcount", "big"})
		if t.Failed() {
			t.FailNow()
		}
	}
	p.same(t, cmds("pfdebug encoding big", "pfcount big h h2", "pfmerge big2 h big", "get big2", "pfcount big2",
		"pfmerge h big", "get h", "config set hll-sparse-max-bytes 100")...)
	for i := range 60 {
		p.same(t, []string{"pfadd", "small", "x" + strconv.Itoa(i)}, []string{"get", "small"}, []string{"pfdebug", "encoding", "small"})
	}
}

// TestHLLInterop moves HLLs between Redis and warden through DUMP/RESTORE
// and plain SET of GET's bytes; both count them the same.
func TestHLLInterop(t *testing.T) {
	real := redistest.Start(t, "").Client(t, 0)
	w, ctx := setup(t)
	for _, n := range []int{0, 1, 50, 400, 5000} {
		key := "hll" + strconv.Itoa(n)
		els := make([]any, n)
		for i := range els {
			els[i] = "el" + strconv.Itoa(i*31)
		}
		real.PFAdd(ctx, key, els...)
		w.PFAdd(ctx, key, els...)
		// Redis -> warden.
		d, err := real.Dump(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Restore(ctx, "r:"+key, time.Duration(0), d).Err(); err != nil {
			t.Fatalf("%s: warden refused Redis's dump: %v", key, err)
		}
		// warden -> Redis.
		d, err = w.Dump(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := real.Restore(ctx, "w:"+key, 0, d).Err(); err != nil {
			t.Fatalf("%s: Redis refused warden's dump: %v", key, err)
		}
		want := real.PFCount(ctx, key).Val()
		for _, got := range []int64{w.PFCount(ctx, key).Val(), w.PFCount(ctx, "r:"+key).Val(), real.PFCount(ctx, "w:"+key).Val()} {
			if got != want {
				t.Errorf("%s: PFCOUNT %d, Redis's own %d", key, got, want)
			}
		}
		if n > 0 && want == 0 {
			t.Errorf("%s: count 0 after %d adds", key, n)
		}
		// Adding to the other's value gives the same bytes.
		real.PFAdd(ctx, "w:"+key, "more", "and more")
		w.PFAdd(ctx, key, "more", "and more")
		if g, r := w.Get(ctx, key).Val(), real.Get(ctx, "w:"+key).Val(); g != r {
			t.Errorf("%s: after more adds the values differ (%d vs %d bytes)", key, len(g), len(r))
		}
	}
}

// PFADD propagates as sent when a register changed; PFCOUNT propagates
// when it rewrote the cached cardinality (Redis counts it as a change).
func TestHLLPropagation(t *testing.T) {
	s, addr := startServer(t, "save", "")
	feed := captureWrites(s, false)
	c := dialResp(t, addr)
	for _, args := range cmds("pfadd h a b", "pfadd h a", "pfcount h", "pfcount h", "pfcount h nosuch", "pfmerge m h", "pfdebug todense m", "pfdebug todense m") {
		c.mustDo(t, args...)
	}
	want := []string{"pfadd h a b", "pfcount h", "pfmerge m h", "pfdebug todense m"}
	if got := feed.take(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("propagated %q, want %q", got, want)
	}
}
