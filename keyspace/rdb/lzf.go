package rdb

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"
)

// LZF as liblzf (used by Redis for rdbcompression): a literal run is a
// control byte 000LLLLL followed by L+1 bytes; a back reference is LLLooooo
// [extra length when LLL == 7] oooooooo, copying len+2 bytes from
// distance offset+1 back in the output.
const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = (1 << 8) + (1 << 3)
)

var errLZF = errors.New("invalid LZF data")

var lzfTables = sync.Pool{New: func() any { return new([lzfHSize]int32) }}

// lzfCompress compresses in into out (len(out) is the most it may use) and
// returns the compressed length, or 0 when the data does not fit in out.
func lzfCompress(in, out []byte) int {
	inLen, outLen := len(in), len(out)
	if inLen == 0 || outLen == 0 {
		return 0
	}
	// The table is sized to the input (a short string needs no 256 KB
	// table) and recycled: allocating and zeroing it per string dominated.
	hlog := min(max(bits.Len(uint(inLen)), 8), lzfHLog)
	tp := lzfTables.Get().(*[lzfHSize]int32)
	defer lzfTables.Put(tp)
	htab := tp[:1<<hlog]
	clear(htab)
	shift, mask := uint32(3*8-hlog), uint32(1<<hlog-1)
	idx := func(h uint32) uint32 { return ((h >> shift) - h*5) & mask }
	ip, op, lit := 0, 1, 0 // op 0 holds the first literal run's control byte
	hval := uint32(in[0])<<8 | uint32(in[min(1, inLen-1)])
	for ip < inLen-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := idx(hval)
		ref := int(htab[slot]) - 1
		htab[slot] = int32(ip + 1)
		off := ip - ref - 1
		if ref > 0 && off < lzfMaxOff && in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			n := 2
			maxLen := min(inLen-ip-n, lzfMaxRef)
			if op+3+1 >= outLen {
				if op-b2i(lit == 0)+3+1 >= outLen {
					return 0
				}
			}
			out[op-lit-1] = byte(lit - 1) // stop run
			if lit == 0 {
				op--
			}
			n = 3 // the hash check matched three bytes
			if maxLen > n {
				n += matchLen(in[ref+n:ref+maxLen], in[ip+n:ip+maxLen])
			}
			n -= 2
			ip++
			if n < 7 {
				out[op] = byte(off>>8) + byte(n<<5)
				op++
			} else {
				out[op] = byte(off>>8) + 7<<5
				out[op+1] = byte(n - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start run
			ip += n + 1
			if ip >= inLen-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab[idx(hval)] = int32(ip + 1)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab[idx(hval)] = int32(ip + 1)
			ip++
			continue
		}
		if op >= outLen {
			return 0
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outLen {
		return 0
	}
	for ip < inLen {
		if op >= outLen {
			return 0
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			if op >= outLen {
				return 0
			}
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1)
	if lit == 0 {
		op--
	}
	return op
}

// matchLen is the length of the common prefix of a and b (len(a) <= len(b)),
// compared eight bytes at a time.
func matchLen(a, b []byte) int {
	n := 0
	for len(a)-n >= 8 {
		if x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:]); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < len(a) && a[n] == b[n] {
		n++
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lzfDecompress expands in into out, which must be exactly filled.
func lzfDecompress(in, out []byte) error {
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			n := ctrl + 1
			if ip+n > len(in) || op+n > len(out) {
				return errLZF
			}
			copy(out[op:], in[ip:ip+n])
			ip += n
			op += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if ip >= len(in) {
				return errLZF
			}
			n += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return errLZF
		}
		ref := op - (ctrl&0x1f)<<8 - int(in[ip]) - 1
		ip++
		n += 2
		if ref < 0 || op+n > len(out) {
			return errLZF
		}
		// An overlapping reference repeats the last op-ref bytes: copy
		// them in doubling chunks (a run of zeros is one such reference,
		// and a byte at a time dominated loading padded values).
		if op-ref == 1 && out[ref] == 0 { // a run of zeros (padding): one clear
			clear(out[op : op+n])
			op += n
			n = 0
		}
		for n > 0 {
			k := copy(out[op:op+n], out[ref:op])
			op += k
			n -= k
		}
	}
	if op != len(out) {
		return errLZF
	}
	return nil
}
