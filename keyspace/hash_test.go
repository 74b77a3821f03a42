package keyspace

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func hashFields(h *Hash) []string {
	var out []string
	h.Range(func(f string, _ []byte) bool {
		out = append(out, f)
		return true
	})
	return out
}

func TestHashOrderAndCompaction(t *testing.T) {
	h := NewHash(0)
	for i := 0; i < 100; i++ {
		if !h.Set([]byte(strconv.Itoa(i)), []byte("v")) {
			t.Fatalf("field %d reported as existing", i)
		}
	}
	if h.Set([]byte("5"), []byte("new")) {
		t.Fatal("update reported as new field")
	}
	for i := 0; i < 90; i++ { // enough holes to trigger compaction
		if i != 5 && !h.Delete([]byte(strconv.Itoa(i))) {
			t.Fatalf("delete %d", i)
		}
	}
	h.Set([]byte("0"), []byte("again"))
	got := hashFields(h)
	want := []string{"5", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99", "0"}
	if len(got) != len(want) || h.Len() != len(want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fields %v, want %v", got, want)
		}
		if f, _ := h.At(i); f != want[i] {
			t.Fatalf("At(%d) = %s, want %s", i, f, want[i])
		}
	}
	if v, ok := h.Get([]byte("5")); !ok || string(v) != "new" {
		t.Fatalf("Get(5) = %q %v", v, ok)
	}
	c := h.Clone()
	c.Set([]byte("5"), []byte("changed"))
	if v, _ := h.Get([]byte("5")); string(v) != "new" {
		t.Fatal("Clone shares values with the original")
	}
	var nilHash *Hash
	if nilHash.Len() != 0 {
		t.Fatal("nil hash not empty")
	}
	if _, ok := nilHash.Get([]byte("x")); ok {
		t.Fatal("nil hash has a field")
	}
}

// TestHashAgainstModel drives random writes through both forms (small
// hashes stay packed, 130 fields or a 65-byte value convert them) and
// checks every read against a plain ordered model.
func TestHashAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		h := NewHash(0)
		var order []string
		model := map[string]string{}
		maxFields := []int{8, 40, 200}[round%3]
		longEvery := []int{0, 50, 400}[round/100]
		for op := range 400 {
			f := "f" + strconv.Itoa(rng.IntN(maxFields))
			switch rng.IntN(4) {
			case 0, 1:
				v := strconv.Itoa(op)
				if longEvery > 0 && rng.IntN(longEvery) == 0 {
					v = strings.Repeat("x", 65)
				}
				_, had := model[f]
				if isNew := h.Set([]byte(f), []byte(v)); isNew == had {
					t.Fatalf("round %d: Set(%s) new=%v, model had it: %v", round, f, isNew, had)
				}
				if !had {
					order = append(order, f)
				}
				model[f] = v
			case 2:
				_, had := model[f]
				if h.Delete([]byte(f)) != had {
					t.Fatalf("round %d: Delete(%s) disagrees", round, f)
				}
				if had {
					delete(model, f)
					order = slices.DeleteFunc(order, func(s string) bool { return s == f })
				}
			case 3:
				v, ok := h.Get([]byte(f))
				if mv, had := model[f]; ok != had || string(v) != mv {
					t.Fatalf("round %d: Get(%s) = %q %v, want %q %v", round, f, v, ok, mv, had)
				}
			}
		}
		if h.Len() != len(order) {
			t.Fatalf("round %d: Len %d, want %d", round, h.Len(), len(order))
		}
		i := 0
		h.Range(func(f string, v []byte) bool {
			if f != order[i] || string(v) != model[f] {
				t.Fatalf("round %d: entry %d = %s:%s, want %s:%s", round, i, f, v, order[i], model[order[i]])
			}
			if af, av := h.At(i); af != f || string(av) != string(v) {
				t.Fatalf("round %d: At(%d) = %s, want %s", round, i, af, f)
			}
			i++
			return true
		})
		c := h.Clone()
		if !slices.Equal(hashFields(c), order) {
			t.Fatalf("round %d: clone fields differ", round)
		}
	}
}

// TestHashPackedViewsStayValid: values handed out by Get and fields by
// Range are not changed by later writes to the same hash.
func TestHashPackedViewsStayValid(t *testing.T) {
	h := NewHash(0)
	h.Set([]byte("a"), []byte("one"))
	h.Set([]byte("b"), []byte("two"))
	v, _ := h.Get([]byte("b"))
	f, _ := h.At(1)
	h.Delete([]byte("a"))
	h.Set([]byte("b"), []byte("TWO"))
	if string(v) != "two" || f != "b" {
		t.Fatalf("views changed: %q %q", v, f)
	}
	if packed, _ := h.Packed(); !packed {
		t.Fatal("a small hash is not packed")
	}
	h.Set([]byte("long"), []byte(strings.Repeat("v", 65)))
	if packed, _ := h.Packed(); packed {
		t.Fatal("a 65-byte value left the hash packed")
	}
	if got, _ := h.Get([]byte("b")); string(got) != "TWO" || h.Len() != 2 {
		t.Fatalf("after unpacking: %q, %d fields", got, h.Len())
	}
}

// BenchmarkHashSmall compares the packed and the indexed form of a hash of
// n fields: a Get and an overwriting Set per iteration.
func BenchmarkHashSmall(b *testing.B) {
	for _, n := range []int{10, 128} {
		for _, form := range []string{"packed", "indexed"} {
			b.Run(form+"-"+strconv.Itoa(n), func(b *testing.B) {
				h := NewHash(0)
				fields := make([][]byte, n)
				for i := range fields {
					fields[i] = []byte("field:" + strconv.Itoa(i))
					h.Set(fields[i], []byte("value:"+strconv.Itoa(i)))
				}
				if form == "indexed" {
					h.unpack()
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					f := fields[i%n]
					v, _ := h.Get(f)
					h.Set(f, v)
				}
			})
		}
	}
}
