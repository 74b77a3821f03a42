package node

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestBitmapCommands' expectations were recorded from Redis 7.0.15.
func TestBitmapCommands(t *testing.T) {
	c, _ := setup(t)
	run(t, c, []step{
		{args: []any{"set", "str", "hello"}, want: "OK"},
		{args: []any{"sadd", "lst", "x"}, want: 1},
		{args: []any{"setbit", "b", "7", "1"}, want: 0},
		{args: []any{"get", "b"}, want: "\x01"},
		{args: []any{"setbit", "b", "7", "1"}, want: 1},
		{args: []any{"setbit", "b", "7", "0"}, want: 1},
		{args: []any{"setbit", "b", "0", "1"}, want: 0},
		{args: []any{"setbit", "b", "100", "1"}, want: 0},
		{args: []any{"strlen", "b"}, want: 13},
		{args: []any{"get", "b"}, want: "\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08"},
		{args: []any{"getbit", "b", "100"}, want: 1},
		{args: []any{"getbit", "b", "101"}, want: 0},
		{args: []any{"getbit", "b", "0"}, want: 1},
		{args: []any{"getbit", "b", "99999999"}, want: 0},
		{args: []any{"getbit", "b", "-1"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"getbit", "b", "x"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"getbit", "b", "4294967296"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"getbit", "b", "4294967295"}, want: 0},
		{args: []any{"getbit", "nosuch", "5"}, want: 0},
		{args: []any{"getbit", "lst", "5"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"getbit", "lst", "x"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"setbit", "lst", "1", "1"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"setbit", "lst", "x", "1"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"setbit", "lst", "1", "x"}, wantErr: "ERR bit is not an integer or out of range"},
		{args: []any{"setbit", "b", "1", "2"}, wantErr: "ERR bit is not an integer or out of range"},
		{args: []any{"setbit", "b", "1", "-1"}, wantErr: "ERR bit is not an integer or out of range"},
		{args: []any{"setbit", "b", "1", "x"}, wantErr: "ERR bit is not an integer or out of range"},
		{args: []any{"setbit", "b", "-1", "1"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"setbit", "b", "4294967296", "1"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"setbit", "b", "+1", "1"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"setbit", "b", "01", "1"}, wantErr: "ERR bit offset is not an integer or out of range"},
		{args: []any{"setbit", "z", "20", "0"}, want: 0},
		{args: []any{"get", "z"}, want: "\x00\x00\x00"},
		{args: []any{"setbit", "str", "0", "1"}, want: 0},
		{args: []any{"get", "str"}, want: "\xe8ello"},
		{args: []any{"setbit", "str", "60", "1"}, want: 0},
		{args: []any{"get", "str"}, want: "\xe8ello\x00\x00\x08"},
		{args: []any{"bitcount", "str"}, want: 23},
		{args: []any{"bitcount", "str", "0", "0"}, want: 4},
		{args: []any{"bitcount", "str", "1", "-1"}, want: 19},
		{args: []any{"bitcount", "str", "-2", "-1"}, want: 1},
		{args: []any{"bitcount", "str", "-1", "-2"}, want: 0},
		{args: []any{"bitcount", "str", "-100", "100"}, want: 23},
		{args: []any{"bitcount", "str", "5", "2"}, want: 0},
		{args: []any{"bitcount", "str", "0", "-1", "bit"}, want: 23},
		{args: []any{"bitcount", "str", "0", "-1", "byte"}, want: 23},
		{args: []any{"bitcount", "str", "3", "12", "bit"}, want: 3},
		{args: []any{"bitcount", "str", "1", "1", "bit"}, want: 1},
		{args: []any{"bitcount", "str", "-5", "-1", "bit"}, want: 1},
		{args: []any{"bitcount", "str", "8", "15", "BIT"}, want: 4},
		{args: []any{"bitcount", "str", "8", "15", "BYTE"}, want: 0},
		{args: []any{"bitcount", "str", "0", "-1", "xx"}, wantErr: "ERR syntax error"},
		{args: []any{"bitcount", "str", "0"}, wantErr: "ERR syntax error"},
		{args: []any{"bitcount", "str", "0", "1", "bit", "x"}, wantErr: "ERR syntax error"},
		{args: []any{"bitcount", "str", "x", "1"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitcount", "str", "1", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitcount", "str", "+1", "2"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitcount", "nosuch"}, want: 0},
		{args: []any{"bitcount", "nosuch", "0"}, want: 0},
		{args: []any{"bitcount", "nosuch", "x", "y", "z", "w"}, want: 0},
		{args: []any{"bitcount", "lst"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"bitcount", "lst", "0"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"set", "empty", ""}, want: "OK"},
		{args: []any{"bitcount", "empty"}, want: 0},
		{args: []any{"bitcount", "empty", "0", "-1"}, want: 0},
		{args: []any{"bitcount", "empty", "0", "-1", "bit"}, want: 0},
		{args: []any{"bitpos", "empty", "0"}, want: -1},
		{args: []any{"bitpos", "empty", "1"}, want: -1},
		{args: []any{"bitpos", "empty", "0", "0"}, want: -1},
		{args: []any{"bitpos", "empty", "0", "0", "-1"}, want: -1},
		{args: []any{"set", "ff", "\xff\xff\xff"}, want: "OK"},
		{args: []any{"bitpos", "ff", "0"}, want: 24},
		{args: []any{"bitpos", "ff", "1"}, want: 0},
		{args: []any{"bitpos", "ff", "0", "1"}, want: 24},
		{args: []any{"bitpos", "ff", "0", "1", "2"}, want: -1},
		{args: []any{"bitpos", "ff", "0", "0", "-1", "bit"}, want: -1},
		{args: []any{"bitpos", "ff", "0", "5", "9", "bit"}, want: -1},
		{args: []any{"bitpos", "ff", "1", "5", "9", "bit"}, want: 5},
		{args: []any{"bitpos", "ff", "0", "-1"}, want: 24},
		{args: []any{"bitpos", "ff", "0", "100"}, want: -1},
		{args: []any{"bitpos", "ff", "0", "-100"}, want: 24},
		{args: []any{"bitpos", "ff", "0", "3"}, want: -1},
		{args: []any{"set", "zz", "\x00\x00\x00"}, want: "OK"},
		{args: []any{"bitpos", "zz", "1"}, want: -1},
		{args: []any{"bitpos", "zz", "0"}, want: 0},
		{args: []any{"bitpos", "zz", "0", "1"}, want: 8},
		{args: []any{"bitpos", "zz", "1", "1"}, want: -1},
		{args: []any{"bitpos", "zz", "1", "0", "-1", "bit"}, want: -1},
		{args: []any{"set", "mix", "\x00\x01\x80\x00"}, want: "OK"},
		{args: []any{"bitpos", "mix", "1"}, want: 15},
		{args: []any{"bitpos", "mix", "1", "2"}, want: 16},
		{args: []any{"bitpos", "mix", "1", "15", "16", "bit"}, want: 15},
		{args: []any{"bitpos", "mix", "1", "16", "bit"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitpos", "mix", "1", "8", "14", "bit"}, want: -1},
		{args: []any{"bitpos", "mix", "1", "8", "15", "bit"}, want: 15},
		{args: []any{"bitpos", "mix", "0", "8", "15", "bit"}, want: 8},
		{args: []any{"bitpos", "mix", "0", "7", "7", "bit"}, want: 7},
		{args: []any{"bitpos", "mix", "1", "-1"}, want: -1},
		{args: []any{"bitpos", "mix", "1", "-2", "-1"}, want: 16},
		{args: []any{"bitpos", "mix", "1", "-17", "-1", "bit"}, want: 15},
		{args: []any{"bitpos", "mix", "1", "-17", "-10", "bit"}, want: 15},
		{args: []any{"bitpos", "mix", "1", "0", "-1", "byte"}, want: 15},
		{args: []any{"bitpos", "mix", "1", "0", "-1", "xx"}, wantErr: "ERR syntax error"},
		{args: []any{"bitpos", "mix", "1", "0", "-1", "bit", "x"}, wantErr: "ERR syntax error"},
		{args: []any{"bitpos", "mix", "2"}, wantErr: "ERR The bit argument must be 1 or 0."},
		{args: []any{"bitpos", "mix", "-1"}, wantErr: "ERR The bit argument must be 1 or 0."},
		{args: []any{"bitpos", "mix", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitpos", "mix", "1", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitpos", "mix", "1", "0", "x"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitpos", "nosuch", "1"}, want: -1},
		{args: []any{"bitpos", "nosuch", "0"}, want: 0},
		{args: []any{"bitpos", "nosuch", "0", "x"}, want: 0},
		{args: []any{"bitpos", "nosuch", "3"}, wantErr: "ERR The bit argument must be 1 or 0."},
		{args: []any{"bitpos", "lst", "1"}, wantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{args: []any{"bitpos", "lst", "3"}, wantErr: "ERR The bit argument must be 1 or 0."},
		{args: []any{"set", "long", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"}, want: "OK"},
		{args: []any{"bitpos", "long", "1"}, want: 191},
		{args: []any{"bitpos", "long", "1", "3"}, want: 191},
		{args: []any{"bitpos", "long", "0", "3"}, want: 24},
		{args: []any{"bitpos", "long", "1", "3", "22"}, want: -1},
		{args: []any{"bitpos", "long", "1", "3", "-1"}, want: 191},
		{args: []any{"bitcount", "long"}, want: 1},
		{args: []any{"bitcount", "long", "1", "-1"}, want: 1},
		{args: []any{"bitcount", "long", "190", "191", "bit"}, want: 1},
		{args: []any{"bitcount", "long", "0", "190", "bit"}, want: 0},
		{args: []any{"bitpos", "long", "1", "100", "191", "bit"}, want: 191},
		{args: []any{"bitpos", "long", "1", "191", "191", "bit"}, want: 191},
		{args: []any{"set", "lf", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff"}, want: "OK"},
		{args: []any{"bitpos", "lf", "0"}, want: 159},
		{args: []any{"bitpos", "lf", "0", "0", "-1"}, want: 159},
		{args: []any{"bitpos", "lf", "0", "0", "-1", "bit"}, want: 159},
		{args: []any{"bitpos", "lf", "0", "0", "158", "bit"}, want: -1},
		{args: []any{"bitpos", "lf", "0", "160", "bit"}, wantErr: "ERR value is not an integer or out of range"},
		{args: []any{"bitpos", "lf", "0", "20"}, want: 168},
		{args: []any{"bitpos", "lf", "0", "20", "20"}, want: -1},
		{args: []any{"setbit", "k"}, wantErr: "ERR wrong number of arguments for 'setbit' command"},
		{args: []any{"getbit", "k"}, wantErr: "ERR wrong number of arguments for 'getbit' command"},
		{args: []any{"bitcount"}, wantErr: "ERR wrong number of arguments for 'bitcount' command"},
		{args: []any{"bitpos", "k"}, wantErr: "ERR wrong number of arguments for 'bitpos' command"},
	})
}

func TestBitmapReusedBuffer(t *testing.T) {
	c, _ := setup(t)
	// SET reuses the old buffer; growing it with SETBIT must zero the tail.
	run(t, c, []step{
		{args: []any{"set", "k", "abcdefghijklmnop"}, want: "OK"},
		{args: []any{"set", "k", "a"}, want: "OK"},
		{args: []any{"setbit", "k", "100", "0"}, want: 0},
		{args: []any{"get", "k"}, want: "a" + strings.Repeat("\x00", 12)},
		{args: []any{"bitcount", "k"}, want: 3},
		{args: []any{"setbit", "k", "103", "1"}, want: 0},
		{args: []any{"get", "k"}, want: "a" + strings.Repeat("\x00", 11) + "\x01"},
	})
}

func TestBitmapExpired(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	c.Set(context.Background(), "e", "\xff", 0)
	expireNow(t, s, 0, "e")
	run(t, c, []step{
		{args: []any{"getbit", "e", "0"}, want: 0},
		{args: []any{"bitcount", "e"}, want: 0},
		{args: []any{"bitpos", "e", "0"}, want: 0},
		{args: []any{"bitpos", "e", "1"}, want: -1},
		{args: []any{"setbit", "e", "9", "1"}, want: 0},
		{args: []any{"get", "e"}, want: "\x00\x40"},
	})
}

func TestBitmapPropagation(t *testing.T) {
	s, addr := startServer(t)
	c := newClient(t, addr)
	ctx := context.Background()
	feed := captureWrites(s, false)
	for _, tc := range []struct {
		args []any
		want []string
	}{
		{[]any{"setbit", "b", "3", "0"}, []string{"setbit b 3 0"}}, // creates the key
		{[]any{"setbit", "b", "3", "0"}, nil},
		{[]any{"setbit", "b", "3", "1"}, []string{"setbit b 3 1"}},
		{[]any{"setbit", "b", "3", "1"}, nil},
		{[]any{"setbit", "b", "20", "0"}, []string{"setbit b 20 0"}}, // grows
		{[]any{"setbit", "b", "x", "0"}, nil},
		{[]any{"getbit", "b", "3"}, nil},
		{[]any{"bitcount", "b"}, nil},
		{[]any{"bitpos", "b", "1"}, nil},
	} {
		c.Do(ctx, tc.args...)
		if got := feed.take(); !slices.Equal(got, tc.want) {
			t.Errorf("%v propagated %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestBitmapRangesAgainstNaive compares the word-at-a-time bit scanning and
// counting with a bit-by-bit reference on random data and ranges.
func TestBitmapRangesAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		n := 1 + rng.IntN(40)
		p := make([]byte, n)
		for i := range p {
			switch rng.IntN(4) {
			case 0:
				p[i] = 0
			case 1:
				p[i] = 0xff
			default:
				p[i] = byte(rng.IntN(256))
			}
		}
		total := int64(n * 8)
		from := rng.Int64N(total)
		to := from + rng.Int64N(total-from)
		get := func(i int64) bool { return p[i>>3]&(0x80>>(i&7)) != 0 }
		var wantCount int64
		wantPos := [2]int64{-1, -1}
		for i := from; i <= to; i++ {
			b := get(i)
			if b {
				wantCount++
			}
			idx := 0
			if b {
				idx = 1
			}
			if wantPos[idx] == -1 {
				wantPos[idx] = i
			}
		}
		if got := bitmapCount(p, from, to); got != wantCount {
			t.Fatalf("iter %d: count(%x, %d, %d) = %d, want %d", iter, p, from, to, got, wantCount)
		}
		for bit := range 2 {
			if got := bitmapFind(p, from, to, bit == 1); got != wantPos[bit] {
				t.Fatalf("iter %d: find(%x, %d, %d, %d) = %d, want %d", iter, p, from, to, bit, got, wantPos[bit])
			}
		}
		var pop int64
		for _, b := range p {
			pop += int64(bits.OnesCount8(b))
		}
		if got := bitmapPopcount(p); got != pop {
			t.Fatalf("popcount = %d, want %d", got, pop)
		}
	}
}

func TestBitmapConcurrentSetBit(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newClient(t, addr)
			for i := range 100 {
				cl.SetBit(ctx, "b", int64(w*1000+i*7), 1)
			}
		}()
	}
	wg.Wait()
	c := newClient(t, addr)
	if n := c.BitCount(ctx, "b", nil).Val(); n != 800 {
		t.Fatalf("bitcount %d, want 800", n)
	}
	if p := c.BitPos(ctx, "b", 1).Val(); p != 0 {
		t.Fatalf("bitpos %d, want 0", p)
	}
}
