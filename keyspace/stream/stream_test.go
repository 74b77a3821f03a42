package stream

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in      string
		missing uint64
		strict  bool
		want    ID
		auto    bool
		ok      bool
	}{
		{"1-2", 0, true, ID{1, 2}, false, true},
		{"5", 7, true, ID{5, 7}, false, true},
		{"-", 0, false, ID{}, false, true},
		{"+", 0, false, MaxID, false, true},
		{"-", 0, true, ID{}, false, false},
		{"+", 0, true, ID{}, false, false},
		{"3-*", 0, true, ID{3, 0}, true, true},
		{"18446744073709551615-18446744073709551615", 0, true, MaxID, false, true},
		{"18446744073709551616-0", 0, true, ID{}, false, false},
		{"1-x", 0, true, ID{}, false, false},
		{"", 0, true, ID{}, false, false},
		{"-1", 0, true, ID{}, false, false},
		{"1--1", 0, true, ID{}, false, false},
		{"007-1", 0, true, ID{7, 1}, false, true}, // strtoull takes leading zeros
		{"+7", 0, true, ID{7, 0}, false, true},
	} {
		auto := false
		got, ok := Parse([]byte(c.in), c.missing, c.strict, &auto)
		if ok != c.ok || (ok && (got != c.want || auto != c.auto)) {
			t.Errorf("Parse(%q) = %v %v auto %v, want %v %v auto %v", c.in, got, ok, auto, c.want, c.ok, c.auto)
		}
	}
}

func TestNextPrev(t *testing.T) {
	if n, ok := (ID{1, math.MaxUint64}).Next(); !ok || n != (ID{2, 0}) {
		t.Errorf("Next wraps the sequence: %v", n)
	}
	if _, ok := MaxID.Next(); ok {
		t.Error("MaxID has a successor")
	}
	if p, ok := (ID{2, 0}).Prev(); !ok || p != (ID{1, math.MaxUint64}) {
		t.Errorf("Prev: %v", p)
	}
	if _, ok := (ID{}).Prev(); ok {
		t.Error("0-0 has a predecessor")
	}
}

// A stream of n entries in nodes of 10: ranges, deletes and trims keep the
// counters Redis keeps.
func TestStreamOps(t *testing.T) {
	s := New()
	s.NodeMaxEntries = 10
	for i := uint64(1); i <= 95; i++ {
		s.Append(ID{i, 0}, [][]byte{[]byte("f"), []byte(fmt.Sprint(i))})
	}
	if s.Len() != 95 || s.Nodes() != 10 || s.EntriesAdded != 95 || s.FirstID != (ID{1, 0}) {
		t.Fatalf("len %d nodes %d added %d first %v", s.Len(), s.Nodes(), s.EntriesAdded, s.FirstID)
	}
	var got []uint64
	s.Range(ID{10, 0}, ID{13, 0}, false, func(id ID, _ [][]byte) bool { got = append(got, id.Ms); return true })
	s.Range(ID{10, 0}, ID{13, 0}, true, func(id ID, _ [][]byte) bool { got = append(got, id.Ms); return true })
	if fmt.Sprint(got) != "[10 11 12 13 13 12 11 10]" {
		t.Errorf("ranges: %v", got)
	}
	if !s.Delete(ID{1, 0}) || s.Delete(ID{1, 0}) || s.FirstID != (ID{2, 0}) || s.MaxDeletedID != (ID{1, 0}) {
		t.Errorf("delete of the first entry: first %v maxdel %v", s.FirstID, s.MaxDeletedID)
	}
	// Approximate trims drop whole nodes only: node 1 holds 9 live entries.
	if n := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: 90, Approx: true}); n != 0 {
		t.Errorf("MAXLEN ~ 90 removed %d", n)
	}
	if n := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: 80, Approx: true}); n != 9 || s.Len() != 85 {
		t.Errorf("MAXLEN ~ 80 removed %d, len %d", n, s.Len())
	}
	if n := s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: 50, Approx: true, Limit: 15}); n != 10 {
		t.Errorf("LIMIT 15 removed %d", n)
	}
	if n := s.Trim(TrimArgs{Strategy: TrimMinID, MinID: ID{33, 0}}); n != 12 || s.FirstID != (ID{33, 0}) {
		t.Errorf("MINID 33 removed %d, first %v", n, s.FirstID)
	}
	if n := s.Trim(TrimArgs{Strategy: TrimMaxLen}); n != 63 || s.Len() != 0 || s.FirstID != (ID{}) || s.Nodes() != 0 {
		t.Errorf("MAXLEN 0 removed %d, len %d, first %v", n, s.Len(), s.FirstID)
	}
	if s.LastID != (ID{95, 0}) {
		t.Errorf("last ID %v after trimming everything", s.LastID)
	}
}

func TestPEL(t *testing.T) {
	p := newPEL()
	for _, ms := range []uint64{5, 1, 9, 3, 7} {
		p.Put(ID{ms, 0}, &NACK{DeliveryCount: ms})
	}
	var got []uint64
	p.Range(ID{2, 0}, ID{8, 0}, func(id ID, _ *NACK) bool { got = append(got, id.Ms); return true })
	if fmt.Sprint(got) != "[3 5 7]" || p.First() != (ID{1, 0}) || p.Last() != (ID{9, 0}) {
		t.Errorf("PEL order: %v", got)
	}
	if !p.Remove(ID{5, 0}) || p.Remove(ID{5, 0}) || p.Len() != 4 || p.Get(ID{7, 0}).DeliveryCount != 7 {
		t.Error("PEL remove")
	}
}

// The chunked PEL against a plain model under random puts and removes.
func TestPELModel(t *testing.T) {
	p := newPEL()
	model := map[ID]uint64{}
	r := uint64(12345)
	next := func() uint64 { r ^= r << 13; r ^= r >> 7; r ^= r << 17; return r }
	for step := 0; step < 20000; step++ {
		id := ID{next() % 3000, next() % 2}
		if next()%3 == 0 {
			_, in := model[id]
			if p.Remove(id) != in {
				t.Fatalf("step %d: Remove(%v) disagrees", step, id)
			}
			delete(model, id)
		} else {
			p.Put(id, &NACK{DeliveryCount: uint64(step)})
			model[id] = uint64(step)
		}
	}
	if p.Len() != len(model) {
		t.Fatalf("len %d, model %d", p.Len(), len(model))
	}
	var prev ID
	k := 0
	p.Range(ID{}, MaxID, func(id ID, n *NACK) bool {
		if k > 0 && !prev.Less(id) {
			t.Fatalf("out of order: %v after %v", id, prev)
		}
		if model[id] != n.DeliveryCount || p.Get(id) != n {
			t.Fatalf("%v: %d, model %d", id, n.DeliveryCount, model[id])
		}
		prev = id
		k++
		return true
	})
	if k != len(model) {
		t.Fatalf("ranged %d of %d", k, len(model))
	}
}

// Random appends (fields of varying count and size), deletes, trims,
// clones and reloads against a model: every live entry reads back its
// fields, and Footprint equals a recount over the nodes.
// Small nodes split often; big ones have entry counts past 127, where a
// delete changes the size of the listpack's header.
func TestStreamModel(t *testing.T) {
	t.Run("small nodes", func(t *testing.T) { testStreamModel(t, 7, 300) })
	t.Run("big nodes", func(t *testing.T) { testStreamModel(t, 300, 1<<20) })
}

func testStreamModel(t *testing.T, maxEntries, maxBytes int) {
	rnd := rand.New(rand.NewPCG(1, 2))
	s := New()
	s.NodeMaxEntries = maxEntries
	s.NodeMaxBytes = maxBytes
	model := map[ID][][]byte{}
	var ms uint64
	check := func(s *Stream, step int) {
		t.Helper()
		n, slots, lp := 0, 0, 0
		for _, b := range s.blocks {
			n++
			slots += len(b.ids)
			lp += b.lpBytes()
		}
		if gn, gs, gl := s.Footprint(); gn != n || gs != slots || gl != lp {
			t.Fatalf("step %d: Footprint %d/%d/%d, recount %d/%d/%d", step, gn, gs, gl, n, slots, lp)
		}
		if s.Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", step, s.Len(), len(model))
		}
		if step%20 != 0 { // reading every entry back is the slow part
			return
		}
		seen := 0
		s.Range(ID{}, MaxID, false, func(id ID, fv [][]byte) bool {
			want, ok := model[id]
			if !ok || !slices.EqualFunc(fv, want, bytes.Equal) {
				t.Fatalf("step %d: %v = %q, model %q (%v)", step, id, fv, want, ok)
			}
			seen++
			return true
		})
		if seen != len(model) {
			t.Fatalf("step %d: Range saw %d of %d", step, seen, len(model))
		}
	}
	for step := range 3000 {
		switch r := rnd.IntN(100); {
		case r < 70:
			ms += uint64(rnd.IntN(3))
			id, _ := s.AutoID(ms)
			var fv [][]byte
			for i := range 2 * (1 + rnd.IntN(3)) {
				fv = append(fv, []byte(fmt.Sprintf("f%d-%s", i%3, strings.Repeat("x", rnd.IntN(40)))))
			}
			s.Append(id, fv)
			model[id] = fv
		case r < 85 && len(model) > 0:
			for id := range model {
				if !s.Delete(id) {
					t.Fatalf("step %d: Delete %v failed", step, id)
				}
				delete(model, id)
				break
			}
		case r < 92:
			max := int64(rnd.IntN(len(model) + 1))
			s.Trim(TrimArgs{Strategy: TrimMaxLen, MaxLen: max, Approx: rnd.IntN(2) == 0})
			// The model keeps the newest entries the stream kept.
			for id := range model {
				if _, ok := s.Get(id); !ok {
					delete(model, id)
				}
			}
		case r < 96:
			c := s.Clone()
			c.Append(ID{ms + 1000, 0}, [][]byte{[]byte("clone"), []byte("only")})
			if _, ok := s.Get(ID{ms + 1000, 0}); ok {
				t.Fatalf("step %d: an append to a clone shows in the original", step)
			}
		default:
			r := New()
			var err error
			s.EachNode(func(master ID, mf [][]byte, _ int, es []NodeEntry) {
				if err == nil {
					err = r.LoadNode(master, mf, es)
				}
			})
			if err != nil {
				t.Fatalf("step %d: reload: %v", step, err)
			}
			r.LastID, r.FirstID, r.NodeMaxBytes, r.NodeMaxEntries = s.LastID, s.FirstID, s.NodeMaxBytes, s.NodeMaxEntries
			s = r
		}
		check(s, step)
	}
}
