package keyspace

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
)

// FuzzPackedHash runs the ops the input spells against a Hash and an
// ordered model: each op is a kind byte, a field byte and a value length
// byte (lengths past 64 convert the hash to its indexed form).
func FuzzPackedHash(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 2, 70, 1, 1, 0, 2, 2, 0})
	f.Add(bytes.Repeat([]byte{0, 7, 3, 0, 9, 1, 1, 7, 0}, 20))
	f.Fuzz(func(t *testing.T, ops []byte) {
		h := NewHash(0)
		var order []string
		model := map[string]string{}
		for i := 0; i+2 < len(ops) && i < 3*2000; i += 3 {
			f := "f" + strings.Repeat("x", int(ops[i+1]%4)) + string(rune('a'+ops[i+1]%200))
			v := strings.Repeat(string(rune('a'+ops[i]%26)), int(ops[i+2]%80))
			switch ops[i] % 3 {
			case 0:
				if _, had := model[f]; !had {
					order = append(order, f)
				}
				if h.Set([]byte(f), []byte(v)) != (len(order) > len(model)) {
					t.Fatalf("Set(%s) new/existing disagrees", f)
				}
				model[f] = v
			case 1:
				_, had := model[f]
				if h.Delete([]byte(f)) != had {
					t.Fatalf("Delete(%s) disagrees", f)
				}
				delete(model, f)
				order = slices.DeleteFunc(order, func(s string) bool { return s == f })
			case 2:
				got, ok := h.Get([]byte(f))
				if want, had := model[f]; ok != had || string(got) != want {
					t.Fatalf("Get(%s) = %q %v, want %q %v", f, got, ok, want, had)
				}
			}
		}
		if h.Len() != len(order) {
			t.Fatalf("Len %d, want %d", h.Len(), len(order))
		}
		i := 0
		h.Range(func(f string, v []byte) bool {
			if f != order[i] || string(v) != model[f] {
				t.Fatalf("entry %d: %s=%q, want %s=%q", i, f, v, order[i], model[order[i]])
			}
			i++
			return true
		})
	})
}

// FuzzPackedZSet runs the ops the input spells against a ZSet (packed
// while small, a skiplist past 128 members or a 65-byte member) and a
// sorted model: each op is a kind byte, a member byte and a score byte.
func FuzzPackedZSet(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 2, 70, 1, 1, 0, 0, 1, 9, 3, 0, 0})
	f.Add(bytes.Repeat([]byte{0, 7, 3, 0, 9, 200, 1, 7, 0}, 20))
	f.Fuzz(func(t *testing.T, ops []byte) {
		z := NewZSet()
		m := &zsetModel{}
		for i := 0; i+2 < len(ops) && i < 3*2000; i += 3 {
			member := string(rune('a'+ops[i+1]%26)) + strings.Repeat("m", int(ops[i+1]/26))
			if ops[i]%7 == 6 {
				member = strings.Repeat("L", 65+int(ops[i+1]%3))
			}
			score := []float64{float64(ops[i+2]) - 100, float64(ops[i+2]) / 8, math.Inf(1), math.Inf(-1), 1 << 53, 1e18, float64(ops[i+2]) / 10}[ops[i+2]%7]
			switch ops[i] % 4 {
			case 0, 3:
				if z.Add(member, score) != m.add(member, score) {
					t.Fatalf("Add(%q) disagrees", member)
				}
			case 1:
				if z.Remove(member) != m.remove(member) {
					t.Fatalf("Remove(%q) disagrees", member)
				}
			case 2:
				r, ok := z.Rank(member, false)
				wr := slices.IndexFunc(m.es, func(e ZEntry) bool { return e.Member == member })
				if ok != (wr >= 0) || ok && r != wr {
					t.Fatalf("Rank(%q) = %d %v, want %d", member, r, ok, wr)
				}
			}
		}
		checkStructure(t, z)
		if !sameEntries(z.All(), m.es) {
			t.Fatalf("entries %v, want %v", z.All(), m.es)
		}
		for i := range m.es {
			if got := z.At(i); got != m.es[i] {
				t.Fatalf("At(%d) = %v, want %v", i, got, m.es[i])
			}
		}
	})
}
