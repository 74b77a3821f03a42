package memusage

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

func build(typ keyspace.Type, elems, elemLen int, seed int) *keyspace.Object {
	el := func(i int) []byte {
		return []byte(fmt.Sprintf("%0*d", elemLen, seed*1_000_000+i))
	}
	switch typ {
	case keyspace.TString:
		return keyspace.NewString(el(0))
	case keyspace.TList:
		l := keyspace.NewList()
		for i := range elems {
			l.PushBack(el(i))
		}
		return &keyspace.Object{Type: typ, Val: l}
	case keyspace.THash:
		h := keyspace.NewHash(0)
		for i := range elems {
			h.Set(el(i), el(i))
		}
		return &keyspace.Object{Type: typ, Val: h}
	case keyspace.TStream:
		s := stream.New()
		for i := range elems {
			s.Append(stream.ID{Ms: uint64(i + 1)}, [][]byte{[]byte("field"), el(i)})
		}
		return &keyspace.Object{Type: typ, Val: s}
	case keyspace.TSet:
		s := keyspace.Set{}
		for i := range elems {
			s[string(el(i))] = struct{}{}
		}
		return &keyspace.Object{Type: typ, Val: s}
	default:
		z := keyspace.NewZSet()
		for i := range elems {
			z.Add(string(el(i)), float64(i))
		}
		return &keyspace.Object{Type: typ, Val: z}
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestEstimateNearHeap builds many values of each type and checks the
// estimate is within -33%/+50% of what the Go heap grew by: the
// estimate tracks the real structures, not only the payload.
func TestEstimateNearHeap(t *testing.T) {
	for _, tc := range []struct {
		typ            keyspace.Type
		count, n, size int
	}{
		{keyspace.TString, 50000, 1, 100},
		{keyspace.TString, 50000, 1, 10},
		{keyspace.TList, 2000, 100, 20},
		{keyspace.THash, 2000, 100, 20},
		{keyspace.TSet, 2000, 100, 20},
		{keyspace.TZSet, 2000, 100, 20},
		{keyspace.THash, 20000, 10, 8}, // packed
		{keyspace.TZSet, 20000, 10, 8}, // packed
		{keyspace.TStream, 200, 1000, 20},
	} {
		name := fmt.Sprintf("%s/%dx%dx%d", tc.typ.Name(), tc.count, tc.n, tc.size)
		before := heap()
		objs := make([]*keyspace.Object, tc.count)
		for i := range objs {
			objs[i] = build(tc.typ, tc.n, tc.size, i)
		}
		grew := int64(heap() - before)
		var est int64
		for _, o := range objs {
			est += Value(o, 0)
		}
		runtime.KeepAlive(objs)
		if est < grew*2/3 || est > grew*3/2 {
			t.Errorf("%s: estimated %d bytes, heap grew %d", name, est, grew)
		} else {
			t.Logf("%s: estimated %d bytes, heap grew %d", name, est, grew)
		}
	}
}

// TestSamples: a value of equal-sized elements is estimated the same
// from 5 samples as from all, and a longer element list costs more.
func TestSamples(t *testing.T) {
	for _, typ := range []keyspace.Type{keyspace.TList, keyspace.THash, keyspace.TSet, keyspace.TZSet} {
		o := build(typ, 1000, 16, 1)
		if a, b := Value(o, DefaultSamples), Value(o, 0); a != b {
			t.Errorf("%s: samples 5 %d, all %d", typ.Name(), a, b)
		}
		if a, b := Value(o, 0), Value(build(typ, 2000, 16, 1), 0); b <= a {
			t.Errorf("%s: 1000 elements %d, 2000 elements %d", typ.Name(), a, b)
		}
	}
	if a, b := Key("k", build(keyspace.TString, 1, 10, 1), 5), Key(strings.Repeat("k", 100), build(keyspace.TString, 1, 10, 1), 5); b <= a {
		t.Errorf("key length not counted: %d, %d", a, b)
	}
}

// TestStreamSampledWithoutCopies: used_memory sizes a stream after every
// write to it, so sizing one must look at a few nodes only and copy none
// (it once unpacked every entry of the stream: XADD and XREADGROUP on a
// 20k-entry stream ran at ~200/s).
func TestStreamSampledWithoutCopies(t *testing.T) {
	o := build(keyspace.TStream, 100000, 16, 1)
	if allocs := testing.AllocsPerRun(10, func() { Value(o, DefaultSamples) }); allocs != 0 {
		t.Fatalf("sizing a 100k-entry stream allocated %v times", allocs)
	}
	if a, b := Value(o, DefaultSamples), Value(build(keyspace.TStream, 200000, 16, 1), DefaultSamples); b <= a {
		t.Fatalf("100k entries %d, 200k entries %d", a, b)
	}
}

func TestAlloc(t *testing.T) {
	for n, want := range map[int]int64{0: 0, 1: 8, 8: 8, 9: 16, 100: 112, 32768: 32768, 32769: 40960} {
		if got := Alloc(n); got != want {
			t.Errorf("Alloc(%d) = %d, want %d", n, got, want)
		}
	}
}

// BenchmarkValue is the cost used_memory's accounting adds to a write (one
// Value per key written): a string and a 100k-member sorted set.
func BenchmarkValue(b *testing.B) {
	str := keyspace.NewString(make([]byte, 100))
	z := keyspace.NewZSet()
	for i := range 100000 {
		z.Add("member:"+strconv.Itoa(i), float64(i))
	}
	zo := &keyspace.Object{Type: keyspace.TZSet, Val: z}
	b.Run("string", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			Value(str, DefaultSamples)
		}
	})
	b.Run("zset100k", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			Value(zo, DefaultSamples)
		}
	})
}
