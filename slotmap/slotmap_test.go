package slotmap

import (
	"math/rand/v2"
	"testing"
)

func TestCRC16Reference(t *testing.T) {
	// The check value of CRC-16/XMODEM and the example in the Redis Cluster spec.
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16(123456789) = %#x, want 0x31c3", got)
	}
}

func TestSlot(t *testing.T) {
	cases := []struct {
		key  string
		slot int
	}{
		{"foo", 12182}, // values from redis-cli CLUSTER KEYSLOT
		{"bar", 5061},
		{"hello", 866},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"foo{}{bar}", 8363},    // empty first tag: whole key hashed
		{"foo{{bar}}zap", 4015}, // tag is "{bar"
		{"foo{bar}{zap}", 5061}, // only the first tag counts
		{"", 0},
	}
	for _, c := range cases {
		if got := Slot([]byte(c.key)); got != c.slot {
			t.Errorf("Slot(%q) = %d, want %d", c.key, got, c.slot)
		}
	}
}

func TestRanges(t *testing.T) {
	got := Ranges([]int{0, 1, 2, 5, 7, 8})
	want := []Range{{0, 2}, {5, 5}, {7, 8}}
	if len(got) != len(want) {
		t.Fatalf("Ranges = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Ranges = %v, want %v", got, want)
		}
	}
	r, err := ParseRange("100-200")
	if err != nil || r != (Range{100, 200}) {
		t.Fatalf("ParseRange = %v %v", r, err)
	}
	for _, bad := range []string{"x", "5-1", "0-16384", "-1"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
}

func FuzzSlot(f *testing.F) {
	f.Add([]byte("{a}b"))
	f.Fuzz(func(t *testing.T, key []byte) {
		s := Slot(key)
		if s < 0 || s >= NumSlots {
			t.Fatalf("slot %d out of range", s)
		}
		if tag := HashTag(key); Slot(tag) != s && len(tag) != len(key) {
			t.Fatalf("tag %q hashes differently from key %q", tag, key)
		}
	})
}

// CRC16 (8 bytes per step) and HashTag agree with their one-byte-at-a-time
// definitions on keys of every length up to 80 and every brace layout.
func TestCRC16AndHashTagAgainstBytewise(t *testing.T) {
	bytewise := func(b []byte) uint16 {
		var crc uint16
		for _, c := range b {
			crc ^= uint16(c) << 8
			for i := 0; i < 8; i++ {
				if crc&0x8000 != 0 {
					crc = crc<<1 ^ 0x1021
				} else {
					crc <<= 1
				}
			}
		}
		return crc
	}
	tag := func(key []byte) []byte {
		for i, c := range key {
			if c == '{' {
				for j := i + 1; j < len(key); j++ {
					if key[j] == '}' {
						if j == i+1 {
							return key
						}
						return key[i+1 : j]
					}
				}
				return key
			}
		}
		return key
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab{}\x00\xff")
	for n := 0; n <= 80; n++ {
		for range 200 {
			b := make([]byte, n)
			for i := range b {
				if r.IntN(2) == 0 {
					b[i] = alphabet[r.IntN(len(alphabet))]
				} else {
					b[i] = byte(r.Uint32())
				}
			}
			if got, want := CRC16(b), bytewise(b); got != want {
				t.Fatalf("CRC16(%q) = %#x, want %#x", b, got, want)
			}
			if got, want := HashTag(b), tag(b); string(got) != string(want) {
				t.Fatalf("HashTag(%q) = %q, want %q", b, got, want)
			}
		}
	}
}

func BenchmarkSlot(b *testing.B) {
	key := []byte("key:000000123456")
	for b.Loop() {
		Slot(key)
	}
}
