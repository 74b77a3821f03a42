package hll

import (
	"bytes"
	"strconv"
	"testing"
)

// MurmurHash64A's values for a few inputs, as Redis's C code computes them
// (seed 0xadc83b19): checked through PFADD's register choice in the node
// side-by-side tests; here the tail handling of every length is exercised
// against a straightforward byte-by-byte version.
func TestMurmurTail(t *testing.T) {
	ref := func(key []byte, seed uint32) uint64 {
		const m = 0xc6a4a7935bd1e995
		h := uint64(seed) ^ uint64(len(key))*m
		n := len(key) - len(key)%8
		for i := 0; i < n; i += 8 {
			var k uint64
			for j := 7; j >= 0; j-- {
				k = k<<8 | uint64(key[i+j])
			}
			k *= m
			k ^= k >> 47
			k *= m
			h ^= k
			h *= m
		}
		tail := key[n:]
		switch len(tail) {
		case 7:
			h ^= uint64(tail[6]) << 48
			fallthrough
		case 6:
			h ^= uint64(tail[5]) << 40
			fallthrough
		case 5:
			h ^= uint64(tail[4]) << 32
			fallthrough
		case 4:
			h ^= uint64(tail[3]) << 24
			fallthrough
		case 3:
			h ^= uint64(tail[2]) << 16
			fallthrough
		case 2:
			h ^= uint64(tail[1]) << 8
			fallthrough
		case 1:
			h ^= uint64(tail[0])
			h *= m
		}
		h ^= h >> 47
		h *= m
		h ^= h >> 47
		return h
	}
	key := []byte("abcdefghijklmnopqrstuvwxyz0123456789")
	for n := range len(key) {
		if got, want := MurmurHash64A(key[:n], murmurSeed), ref(key[:n], murmurSeed); got != want {
			t.Errorf("len %d: %x, want %x", n, got, want)
		}
	}
}

func TestDenseRegisters(t *testing.T) {
	d, err := ToDense(New())
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != DenseSize || !Valid(d) {
		t.Fatalf("dense length %d", len(d))
	}
	regs := d[HeaderSize:]
	want := make([]uint8, Registers)
	for i := range Registers {
		want[i] = uint8((i*7 + i/3) % 64)
		denseSetReg(regs, i, want[i])
	}
	for i := range Registers {
		if g := denseGet(regs, i); g != want[i] {
			t.Fatalf("register %d = %d, want %d", i, g, want[i])
		}
	}
}

// Sparse and dense values of the same adds hold the same registers and
// the same estimate, and the estimate is within Redis's error bound.
func TestSparseMatchesDense(t *testing.T) {
	sp := New()
	d, _ := ToDense(New())
	var err error
	for i := range 20000 {
		ele := []byte("item:" + strconv.Itoa(i))
		var c1, c2 bool
		if sp, c1, err = Add(sp, ele, 1<<30); err != nil {
			t.Fatal(err)
		}
		if d, c2, err = Add(d, ele, 1<<30); err != nil {
			t.Fatal(err)
		}
		if c1 != c2 {
			t.Fatalf("add %d: sparse changed %v, dense %v", i, c1, c2)
		}
	}
	if Encoding(sp) != Sparse {
		t.Fatal("with no size limit the value should stay sparse")
	}
	conv, err := ToDense(sp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(conv[HeaderSize:], d[HeaderSize:]) {
		t.Fatal("sparse registers differ from dense ones")
	}
	Invalidate(sp)
	Invalidate(d)
	a, _, _ := Count(sp)
	b, _, _ := Count(d)
	if a != b {
		t.Fatalf("sparse count %d, dense %d", a, b)
	}
	if a < 19000 || a > 21000 {
		t.Fatalf("estimate %d for 20000", a)
	}
	// The cache is then used.
	if c, updated, _ := Count(d); updated || c != b {
		t.Fatalf("cached count %d updated=%v", c, updated)
	}
}

func TestEmpty(t *testing.T) {
	v := New()
	if string(v) != "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff" {
		t.Fatalf("New() = %q", v)
	}
	if c, _, err := Count(v); c != 0 || err != nil {
		t.Fatalf("Count = %d, %v", c, err)
	}
	if Valid([]byte("HYLL")) || Valid([]byte("HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")) {
		t.Fatal("short values must be invalid")
	}
}

// FuzzDecode feeds arbitrary bodies behind a valid header to every decoder
// and to Add: errors are fine, panics and out-of-range registers are not.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x7f, 0xff}, []byte("a"))
	f.Add([]byte{0x7f}, []byte("b"))
	f.Add([]byte{0x80, 0x7f, 0xfe}, []byte("c"))
	f.Add([]byte{0xff, 0xff, 0xff, 0x3f}, []byte(""))
	f.Fuzz(func(t *testing.T, body, ele []byte) {
		for _, enc := range []byte{Dense, Sparse, 2} {
			v := append([]byte("HYLL\x00\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00\x00"), body...)
			v[4] = enc
			if !Valid(v) {
				continue
			}
			max := make([]uint8, Registers)
			if err := MergeInto(max, v); err == nil {
				for _, r := range max {
					if r > regMax {
						t.Fatalf("register %d", r)
					}
				}
			}
			Decode(v)
			Count(append([]byte(nil), v...))
			if d, err := ToDense(append([]byte(nil), v...)); err == nil && len(d) != DenseSize {
				t.Fatalf("dense length %d", len(d))
			}
			w, _, err := Add(append([]byte(nil), v...), ele, 3000)
			if err == nil && !Valid(w) {
				t.Fatalf("Add made an invalid value %q", w)
			}
		}
	})
}
