// Package hll is Redis's HyperLogLog, byte for byte: the "HYLL" header with
// the cached cardinality, the sparse (ZERO/XZERO/VAL opcodes) and dense
// (6-bit registers) representations, MurmurHash64A and Redis 7's estimator
// (Ertl's improved one). Values are plain strings, so a HLL written here and
// one written by Redis are interchangeable (DUMP/RESTORE, RDB, GET/SET).
//
// The functions work on the string value itself ([]byte) and return the new
// slice when they have to grow or convert it.
package hll

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

const (
	P          = 14     // register index bits
	Q          = 64 - P // bits of the hash that count leading zeros
	Registers  = 1 << P // 16384
	pMask      = Registers - 1
	regBits    = 6
	regMax     = 1<<regBits - 1
	HeaderSize = 16
	// DenseSize is the exact length of a dense HLL value.
	DenseSize = HeaderSize + (Registers*regBits+7)/8

	Dense  = 0
	Sparse = 1
	raw    = 255 // internal only: one byte per register (PFCOUNT of many keys)

	maxEncoding = 1

	xzeroBit       = 0x40
	valBit         = 0x80
	valMaxValue    = 32
	valMaxLen      = 4
	zeroMaxLen     = 64
	xzeroMaxLen    = 16384
	alphaInf       = 0.721347520444481703680 // 0.5/ln(2)
	murmurSeed     = 0xadc83b19
	DefaultMaxSize = 3000 // hll-sparse-max-bytes
)

// ErrInvalid is Redis's "Corrupted HLL object detected": a value with a
// valid header whose registers do not decode.
var ErrInvalid = errors.New("INVALIDOBJ Corrupted HLL object detected")

// New returns an empty sparse HLL, as Redis creates one: one XZERO opcode
// covering every register, cached cardinality 0.
func New() []byte {
	b := make([]byte, HeaderSize+2)
	copy(b, "HYLL")
	b[4] = Sparse
	setXZero(b[HeaderSize:], Registers)
	return b
}

// Valid reports whether v passes Redis's isHLLObjectOrReply: the magic, a
// known encoding, and the exact length for a dense value.
func Valid(v []byte) bool {
	if len(v) < HeaderSize || string(v[:4]) != "HYLL" || v[4] > maxEncoding {
		return false
	}
	return v[4] != Dense || len(v) == DenseSize
}

// Encoding returns the value's encoding byte (Dense or Sparse).
func Encoding(v []byte) byte { return v[4] }

// cached returns the cached cardinality and whether it is valid.
func cached(v []byte) (uint64, bool) {
	if v[15]&0x80 != 0 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(v[8:16]), true
}

// Invalidate marks the cached cardinality stale (Redis's
// HLL_INVALIDATE_CACHE: the top bit of the last card byte).
func Invalidate(v []byte) { v[15] |= 0x80 }

// MurmurHash64A is Redis's variant (little-endian reads, 32-bit seed).
func MurmurHash64A(key []byte, seed uint32) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := uint64(seed) ^ (uint64(len(key)) * m)
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	if n := len(key); n > 0 {
		for i := n - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// patLen returns the register an element maps to and the run length of
// zeros plus one it counts (hllPatLen).
func patLen(ele []byte) (int, uint8) {
	hash := MurmurHash64A(ele, murmurSeed)
	index := int(hash & pMask)
	hash >>= P
	hash |= 1 << Q // the loop ends
	return index, uint8(bits.TrailingZeros64(hash) + 1)
}

// ---- dense registers

func denseGet(regs []byte, i int) uint8 {
	b := i * regBits / 8
	fb := uint(i * regBits & 7)
	b0 := uint(regs[b])
	var b1 uint
	if b+1 < len(regs) {
		b1 = uint(regs[b+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & regMax)
}

func denseSetReg(regs []byte, i int, val uint8) {
	b := i * regBits / 8
	fb := uint(i * regBits & 7)
	v := uint(val)
	regs[b] &^= byte(regMax << fb)
	regs[b] |= byte(v << fb)
	if b+1 < len(regs) {
		regs[b+1] &^= byte(regMax >> (8 - fb))
		regs[b+1] |= byte(v >> (8 - fb))
	}
}

// denseSet raises register i to count; it reports whether it changed.
func denseSet(regs []byte, i int, count uint8) bool {
	if count > denseGet(regs, i) {
		denseSetReg(regs, i, count)
		return true
	}
	return false
}

// ---- sparse opcodes

func isZero(b byte) bool  { return b&0xc0 == 0 }
func isXZero(b byte) bool { return b&0xc0 == xzeroBit }
func isVal(b byte) bool   { return b&valBit != 0 }
func zeroLen(b byte) int  { return int(b&0x3f) + 1 }
func xzeroLen(p []byte) int {
	return (int(p[0]&0x3f)<<8 | int(p[1])) + 1
}

// xzeroAt is the XZERO length at sp[p], reading a missing second byte as
// the 0 of Redis's string terminator.
func xzeroAt(sp []byte, p int) int {
	var b1 byte
	if p+1 < len(sp) {
		b1 = sp[p+1]
	}
	return (int(sp[p]&0x3f)<<8 | int(b1)) + 1
}
func valValue(b byte) int      { return int(b>>2&0x1f) + 1 }
func valLen(b byte) int        { return int(b&3) + 1 }
func valOp(val, n int) byte    { return byte((val-1)<<2|(n-1)) | valBit }
func setXZero(p []byte, n int) { n--; p[0] = byte(n>>8) | xzeroBit; p[1] = byte(n) }

// sparseWalk calls fn(first, runlen, value) for each opcode; it fails
// (ErrInvalid) when the opcodes do not cover exactly Registers registers.
// A VAL run past the end stops the walk, as Redis's decoders do.
func sparseWalk(sp []byte, fn func(first, n, val int)) error {
	idx := 0
	for i := 0; i < len(sp); {
		b := sp[i]
		switch {
		case isZero(b):
			n := zeroLen(b)
			fn(idx, n, 0)
			idx += n
			i++
		case isXZero(b):
			n := xzeroAt(sp, i)
			fn(idx, n, 0)
			idx += n
			i += 2
		default:
			n, v := valLen(b), valValue(b)
			if idx+n > Registers {
				return ErrInvalid
			}
			fn(idx, n, v)
			idx += n
			i++
		}
	}
	if idx != Registers {
		return ErrInvalid
	}
	return nil
}

// ToDense converts a sparse value to the dense representation, keeping the
// header (and its cached cardinality); a dense value is returned as is.
func ToDense(v []byte) ([]byte, error) {
	if v[4] == Dense {
		return v, nil
	}
	d := make([]byte, DenseSize)
	copy(d, v[:HeaderSize])
	d[4] = Dense
	regs := d[HeaderSize:]
	err := sparseWalk(v[HeaderSize:], func(first, n, val int) {
		if val == 0 {
			return
		}
		for i := first; i < first+n; i++ {
			denseSetReg(regs, i, uint8(val))
		}
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// sparseSet raises register index to count in a sparse value, exactly as
// Redis's hllSparseSet does (the same opcode splits and merges, so the
// bytes match), promoting to dense when the value would pass maxBytes or
// count does not fit a VAL opcode.
func sparseSet(v []byte, index int, count uint8, maxBytes int) ([]byte, bool, error) {
	if count > valMaxValue {
		return promote(v, index, count)
	}
	sp := v[HeaderSize:]
	end := len(sp)
	first, span, p, prev := 0, 0, 0, -1
	for p < end {
		oplen := 1
		switch b := sp[p]; {
		case isZero(b):
			span = zeroLen(b)
		case isVal(b):
			span = valLen(b)
		default:
			span = xzeroAt(sp, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return nil, false, ErrInvalid
	}
	b := sp[p]
	zero, xzero := isZero(b), isXZero(b)
	var runlen int
	switch {
	case zero:
		runlen = zeroLen(b)
	case xzero:
		runlen = xzeroAt(sp, p)
	default:
		runlen = valLen(b)
	}
	if !zero && !xzero {
		if uint8(valValue(b)) >= count {
			return v, false, nil
		}
		if runlen == 1 {
			sp[p] = valOp(int(count), 1)
			return merge(v, prev), true, nil
		}
	}
	if zero && runlen == 1 {
		sp[p] = valOp(int(count), 1)
		return merge(v, prev), true, nil
	}
	// The general case: split the opcode into up to three.
	var seq [5]byte
	n := 0
	last := first + span - 1
	zeros := func(l int) {
		if l > zeroMaxLen {
			setXZero(seq[n:], l)
			n += 2
		} else {
			seq[n] = byte(l - 1)
			n++
		}
	}
	if zero || xzero {
		if index != first {
			zeros(index - first)
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			zeros(last - index)
		}
	} else {
		cur := valValue(b)
		if index != first {
			seq[n] = valOp(cur, index-first)
			n++
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			seq[n] = valOp(cur, last-index)
			n++
		}
	}
	oldlen := 1
	if xzero {
		oldlen = 2
	}
	delta := n - oldlen
	if delta > 0 && len(v)+delta > maxBytes {
		return promote(v, index, count)
	}
	pos := HeaderSize + p
	if pos+oldlen > len(v) {
		// A final XZERO missing its second byte (a corrupt value Redis
		// reads up to its string terminator) loses the sequence's last
		// byte there.
		out := append(append(make([]byte, 0, len(v)+n), v[:pos]...), seq[:n]...)
		return merge(out[:len(v)+delta], prev), true, nil
	}
	// In place, growing with headroom as Redis's sdsMakeRoomFor does, so
	// a run of adds does not copy the value each time.
	vlen := len(v)
	if delta > 0 {
		if cap(v) < vlen+delta {
			nv := make([]byte, vlen, min(vlen+delta+vlen/2+16, max(maxBytes, vlen+delta)))
			copy(nv, v)
			v = nv
		}
		v = v[:vlen+delta]
	}
	copy(v[pos+n:], v[pos+oldlen:vlen])
	copy(v[pos:], seq[:n])
	v = v[:vlen+delta]
	return merge(v, prev), true, nil
}

// merge joins adjacent VAL opcodes of the same value, scanning up to five
// opcodes from prev (Redis's step 4).
func merge(v []byte, prev int) []byte {
	p := HeaderSize
	if prev >= 0 {
		p += prev
	}
	for scan := 5; p < len(v) && scan > 0; scan-- {
		b := v[p]
		if isXZero(b) {
			p += 2
			continue
		}
		if isZero(b) {
			p++
			continue
		}
		if p+1 < len(v) && isVal(v[p+1]) {
			v1, v2 := valValue(b), valValue(v[p+1])
			if l := valLen(b) + valLen(v[p+1]); v1 == v2 && l <= valMaxLen {
				v[p+1] = valOp(v1, l)
				copy(v[p:], v[p+1:])
				v = v[:len(v)-1]
				continue
			}
		}
		p++
	}
	Invalidate(v)
	return v
}

func promote(v []byte, index int, count uint8) ([]byte, bool, error) {
	d, err := ToDense(v)
	if err != nil {
		return nil, false, err
	}
	denseSet(d[HeaderSize:], index, count)
	return d, true, nil
}

// Add adds ele; it returns the (possibly new) value and whether a register
// changed. maxBytes is hll-sparse-max-bytes.
func Add(v []byte, ele []byte, maxBytes int) ([]byte, bool, error) {
	index, count := patLen(ele)
	switch v[4] {
	case Dense:
		return v, denseSet(v[HeaderSize:], index, count), nil
	case Sparse:
		return sparseSet(v, index, count, maxBytes)
	}
	return nil, false, ErrInvalid
}

// MergeInto raises max[i] to the value's register i (max has Registers
// entries).
func MergeInto(max []uint8, v []byte) error {
	if v[4] == Dense {
		regs := v[HeaderSize:]
		for i := range Registers {
			if r := denseGet(regs, i); r > max[i] {
				max[i] = r
			}
		}
		return nil
	}
	return sparseWalk(v[HeaderSize:], func(first, n, val int) {
		if val == 0 {
			return
		}
		for i := first; i < first+n; i++ {
			if uint8(val) > max[i] {
				max[i] = uint8(val)
			}
		}
	})
}

// SetFrom writes the registers of max (Registers entries) into v, as
// PFMERGE does: dense when dense, else through sparseSet (which may
// promote). The cache is invalidated.
func SetFrom(v []byte, max []uint8, maxBytes int) ([]byte, error) {
	var err error
	for i, m := range max {
		if m == 0 {
			continue
		}
		if v[4] == Dense {
			denseSet(v[HeaderSize:], i, m)
			continue
		}
		if v, _, err = sparseSet(v, i, m, maxBytes); err != nil {
			return nil, err
		}
	}
	Invalidate(v)
	return v, nil
}

// histogram counts registers by value.
func histogram(v []byte) ([64]int, error) {
	var h [64]int
	switch v[4] {
	case Dense:
		regs := v[HeaderSize:]
		for i := range Registers {
			h[denseGet(regs, i)]++
		}
	case Sparse:
		err := sparseWalk(v[HeaderSize:], func(_, n, val int) { h[val] += n })
		return h, err
	default:
		return h, ErrInvalid
	}
	return h, nil
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := 1 - x
		z -= d * d * y
		if zp == z {
			return z / 3
		}
	}
}

// estimate is hllCount's estimator over a register histogram.
func estimate(h *[64]int) uint64 {
	m := float64(Registers)
	z := m * tau((m-float64(h[Q+1]))/m)
	for j := Q; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += m * sigma(float64(h[0])/m)
	return uint64(math.Round(alphaInf * m * m / z))
}

// Count returns the cardinality, from the cache when valid; updated reports
// that the cache was recomputed and written into v (the value changed, as
// Redis then propagates PFCOUNT).
func Count(v []byte) (card uint64, updated bool, err error) {
	if c, ok := cached(v); ok {
		return c, false, nil
	}
	h, err := histogram(v)
	if err != nil {
		return 0, false, err
	}
	card = estimate(&h)
	binary.LittleEndian.PutUint64(v[8:16], card)
	return card, true, nil
}

// CountRegisters estimates the cardinality of raw registers (PFCOUNT of
// several keys).
func CountRegisters(max []uint8) uint64 {
	var h [64]int
	for _, r := range max {
		h[r]++
	}
	return estimate(&h)
}

// Registers returns every register of a value (PFDEBUG GETREG on a dense
// value).
func DenseRegisters(v []byte) []uint8 {
	out := make([]uint8, Registers)
	regs := v[HeaderSize:]
	for i := range out {
		out[i] = denseGet(regs, i)
	}
	return out
}

// Op is one decoded sparse opcode (PFDEBUG DECODE).
type Op struct {
	Kind  byte // 'z' ZERO, 'Z' XZERO, 'v' VAL
	Len   int
	Value int
}

// Decode lists the sparse opcodes as Redis's PFDEBUG DECODE prints them,
// without validating the total.
func Decode(v []byte) []Op {
	var out []Op
	sp := v[HeaderSize:]
	for i := 0; i < len(sp); {
		b := sp[i]
		switch {
		case isZero(b):
			out = append(out, Op{Kind: 'z', Len: zeroLen(b)})
			i++
		case isXZero(b):
			out = append(out, Op{Kind: 'Z', Len: xzeroAt(sp, i)})
			i += 2
		default:
			out = append(out, Op{Kind: 'v', Len: valLen(b), Value: valValue(b)})
			i++
		}
	}
	return out
}
