package keyspace

import (
	"strconv"
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
