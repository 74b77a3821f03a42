package keyspace

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestIntSetAgainstModel: random adds and removes of integers (and of
// strings that only look like them) agree with a map, members stay
// sorted, and AddAll refuses, unchanged, what would break the form.
func TestIntSetAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := NewIntSet()
	model := map[int64]bool{}
	for range 20000 {
		n := rng.Int64N(1200) - 600
		switch rng.IntN(50) { // wider members upgrade the encoding
		case 0:
			n *= 100_000 // 4 bytes
		case 1:
			n *= 1 << 40 // 8 bytes
		case 2:
			n = []int64{math.MinInt64, math.MaxInt64, math.MinInt32, math.MaxInt32, math.MinInt16, math.MaxInt16}[rng.IntN(6)]
		}
		m := []byte(strconv.FormatInt(n, 10))
		switch rng.IntN(3) {
		case 0:
			added, ok := s.AddAll([][]byte{m, m})
			switch {
			case !ok && len(model) < IntSetMax:
				t.Fatalf("AddAll(%s) refused at %d members", m, len(model))
			case ok && added == 1 == model[n]:
				t.Fatalf("AddAll(%s) added %d, model had it: %v", m, added, model[n])
			case ok:
				model[n] = true
			}
		case 1:
			if s.Remove(m) != model[n] {
				t.Fatalf("Remove(%s) disagrees", m)
			}
			delete(model, n)
		case 2:
			if s.Has(m) != model[n] {
				t.Fatalf("Has(%s) disagrees", m)
			}
		}
		if s.Len() != len(model) || s.Len() > IntSetMax {
			t.Fatalf("Len %d, model %d", s.Len(), len(model))
		}
	}
	if !slices.IsSorted(s.Values()) || s.Len() != len(model) {
		t.Fatal("members not sorted")
	}
	for _, v := range s.Values() {
		if !model[v] {
			t.Fatalf("member %d not in the model", v)
		}
	}
	for _, m := range []string{"007", "+7", " 7", "7.0", "", "99999999999999999999"} {
		if s.Has([]byte(m)) || s.Remove([]byte(m)) {
			t.Fatalf("%q found as an integer member", m)
		}
		if _, ok := s.AddAll([][]byte{[]byte(m)}); ok {
			t.Fatalf("AddAll(%q) accepted", m)
		}
	}
	if _, ok := IntSetFrom([][]byte{[]byte("1"), []byte("x")}); ok {
		t.Fatal("IntSetFrom accepted a non-integer")
	}
	many := make([][]byte, IntSetMax+1)
	for i := range many {
		many[i] = []byte(strconv.Itoa(i))
	}
	if _, ok := IntSetFrom(many); ok {
		t.Fatal("IntSetFrom accepted more than IntSetMax members")
	}
	if is, ok := IntSetFrom(many[:IntSetMax]); !ok || is.Len() != IntSetMax {
		t.Fatal("IntSetFrom refused IntSetMax members")
	}
}

// TestObjectSetConvertsIntSet: Object.Set turns an IntSet into a Set
// holding the same members, for good.
func TestObjectSetConvertsIntSet(t *testing.T) {
	is, _ := IntSetFrom([][]byte{[]byte("3"), []byte("-1"), []byte("3")})
	o := &Object{Type: TSet, Val: is}
	if o.Len() != 2 || o.Encoding() != "intset" {
		t.Fatalf("len %d, encoding %s", o.Len(), o.Encoding())
	}
	s := o.Set()
	if _, ok := s["-1"]; !ok || len(s) != 2 {
		t.Fatalf("converted to %v", s)
	}
	if _, still := o.IntSet(); still {
		t.Fatal("still an IntSet after Set()")
	}
}
