package node

import (
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

// routedBench is benchCommand on a cluster-mode server mastering every
// slot: the difference from the plain benchmark is the routing check.
func routedBench(b *testing.B, gen func(i int) [][]byte) {
	s, cl := benchServer(b)
	s.EnableSlotRouting()
	s.SetSlotTable(slotmap.NewTable(1, []slotmap.Shard{{ID: 0, Master: 0, Slots: []slotmap.Range{{Start: 0, End: slotmap.NumSlots - 1}}}},
		[]slotmap.Node{{ID: "n1", Name: "n1", Host: "127.0.0.1", Port: 1}}, 0))
	w := cl.conn.(*nullConn).w
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.call(cl, gen(i))
		if i%64 == 0 {
			w.Flush()
		}
	}
}

func BenchmarkDispatchGetRouted(b *testing.B) {
	args := make([][]byte, 2)
	routedBench(b, func(i int) [][]byte {
		args[0], args[1] = []byte("GET"), keyArg(i)
		return args
	})
}

func BenchmarkDispatchMSetRouted(b *testing.B) {
	args := make([][]byte, 7)
	routedBench(b, func(i int) [][]byte {
		args[0] = []byte("MSET")
		for j := 0; j < 3; j++ {
			args[1+2*j], args[2+2*j] = []byte("{t}"+string(rune('a'+j))), []byte("v")
		}
		return args
	})
}
