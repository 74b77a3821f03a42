package rdb

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Compact encodings stored as RDB strings: listpack, ziplist, intset and
// zipmap. Parsers bounds-check every length: the input is untrusted.

// listpackWriter builds a listpack (Redis 7's compact sequence).
type listpackWriter struct {
	buf   []byte
	count int
}

func (w *listpackWriter) size() int { return 6 + len(w.buf) + 1 }

// add appends one element, integer-encoded when s is a canonical integer as
// lpAppend does.
func (w *listpackWriter) add(s []byte) {
	if w.buf == nil {
		w.buf = make([]byte, 6, 64)
	}
	start := len(w.buf)
	b := w.buf
	if v, ok := parseCanonicalInt(s); ok {
		switch {
		case v >= 0 && v <= 127:
			b = append(b, byte(v))
		case v >= -4096 && v <= 4095:
			u := uint64(v)
			if v < 0 {
				u = uint64(1<<13 + v)
			}
			b = append(b, 0xC0|byte(u>>8), byte(u))
		case v >= math.MinInt16 && v <= math.MaxInt16:
			b = append(b, 0xF1)
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case v >= -1<<23 && v < 1<<23:
			b = append(b, 0xF2, byte(v), byte(v>>8), byte(v>>16))
		case v >= math.MinInt32 && v <= math.MaxInt32:
			b = append(b, 0xF3)
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = append(b, 0xF4)
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	} else {
		switch n := len(s); {
		case n < 64:
			b = append(b, 0x80|byte(n))
		case n < 4096:
			b = append(b, 0xE0|byte(n>>8), byte(n))
		default:
			b = append(b, 0xF0)
			b = binary.LittleEndian.AppendUint32(b, uint32(n))
		}
		b = append(b, s...)
	}
	w.buf = appendBacklen(b, uint64(len(b)-start))
	w.count++
}

// finish completes the header and terminator and returns the listpack.
func (w *listpackWriter) finish() []byte {
	if w.buf == nil {
		w.buf = make([]byte, 6, 7)
	}
	b := append(w.buf, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], uint16(min(w.count, 65535)))
	return b
}

// appendBacklen is lpEncodeBacklen: an entry's length, stored so it can be
// read backwards.
func appendBacklen(b []byte, l uint64) []byte {
	switch {
	case l <= 127:
		return append(b, byte(l))
	case l < 16383:
		return append(b, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		return append(b, byte(l>>14), byte((l>>7)&127)|128, byte(l&127)|128)
	case l < 268435455:
		return append(b, byte(l>>21), byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
	}
	return append(b, byte(l>>28), byte((l>>21)&127)|128, byte((l>>14)&127)|128, byte((l>>7)&127)|128, byte(l&127)|128)
}

func backlenSize(l uint64) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// listpackEach calls fn with each element of a listpack (integers in decimal
// form); the slices are fresh copies.
func listpackEach(b []byte, fn func(v []byte) error) error {
	if len(b) < 7 {
		return corrupt("listpack too short")
	}
	if binary.LittleEndian.Uint32(b) != uint32(len(b)) {
		return corrupt("listpack size mismatch")
	}
	if b[len(b)-1] != 0xFF {
		return corrupt("listpack not terminated")
	}
	declared := int(binary.LittleEndian.Uint16(b[4:]))
	p, end, count := 6, len(b)-1, 0
	for p < end {
		c := b[p]
		var v []byte
		var hdr, dataLen int
		var ival int64
		isInt := true
		rest := end - p
		need := func(n int) bool { return n <= rest }
		switch {
		case c&0x80 == 0:
			hdr, ival = 1, int64(c)
		case c&0xC0 == 0x80:
			isInt, hdr, dataLen = false, 1, int(c&0x3F)
		case c&0xE0 == 0xC0:
			if !need(2) {
				return corrupt("listpack entry truncated")
			}
			u := int64(c&0x1F)<<8 | int64(b[p+1])
			if u >= 1<<12 {
				u -= 1 << 13
			}
			hdr, ival = 2, u
		case c&0xF0 == 0xE0:
			if !need(2) {
				return corrupt("listpack entry truncated")
			}
			isInt, hdr, dataLen = false, 2, int(c&0x0F)<<8|int(b[p+1])
		case c == 0xF0:
			if !need(5) {
				return corrupt("listpack entry truncated")
			}
			n := binary.LittleEndian.Uint32(b[p+1:])
			if uint64(n) > uint64(rest) {
				return corrupt("listpack string too long")
			}
			isInt, hdr, dataLen = false, 5, int(n)
		case c == 0xF1:
			if !need(3) {
				return corrupt("listpack entry truncated")
			}
			hdr, ival = 3, int64(int16(binary.LittleEndian.Uint16(b[p+1:])))
		case c == 0xF2:
			if !need(4) {
				return corrupt("listpack entry truncated")
			}
			u := uint32(b[p+1]) | uint32(b[p+2])<<8 | uint32(b[p+3])<<16
			hdr, ival = 4, int64(int32(u<<8)>>8)
		case c == 0xF3:
			if !need(5) {
				return corrupt("listpack entry truncated")
			}
			hdr, ival = 5, int64(int32(binary.LittleEndian.Uint32(b[p+1:])))
		case c == 0xF4:
			if !need(9) {
				return corrupt("listpack entry truncated")
			}
			hdr, ival = 9, int64(binary.LittleEndian.Uint64(b[p+1:]))
		default:
			return corrupt("invalid listpack encoding 0x%02x", c)
		}
		entry := hdr + dataLen
		if !need(entry) {
			return corrupt("listpack entry truncated")
		}
		if isInt {
			v = strconv.AppendInt(nil, ival, 10)
		} else {
			v = append(make([]byte, 0, dataLen), b[p+hdr:p+entry]...)
		}
		bl := backlenSize(uint64(entry))
		if !need(entry + bl) {
			return corrupt("listpack backlen truncated")
		}
		p += entry + bl
		count++
		if err := fn(v); err != nil {
			return err
		}
	}
	if declared != 65535 && declared != count {
		return corrupt("listpack count mismatch")
	}
	return nil
}

// ziplistEach calls fn with each element of a ziplist (the pre-7.0 compact
// sequence); the slices are fresh copies.
func ziplistEach(b []byte, fn func(v []byte) error) error {
	if len(b) < 11 {
		return corrupt("ziplist too short")
	}
	if binary.LittleEndian.Uint32(b) != uint32(len(b)) {
		return corrupt("ziplist size mismatch")
	}
	if b[len(b)-1] != 0xFF {
		return corrupt("ziplist not terminated")
	}
	if int(binary.LittleEndian.Uint32(b[4:])) > len(b)-1 {
		return corrupt("ziplist tail out of range")
	}
	p, end := 10, len(b)-1
	for p < end {
		// prevlen
		if b[p] == 0xFF {
			return corrupt("ziplist entry with invalid prevlen")
		}
		if b[p] == 0xFE {
			p += 5
		} else {
			p++
		}
		if p >= end {
			return corrupt("ziplist entry truncated")
		}
		c := b[p]
		rest := end - p
		var hdr, dataLen int
		var ival int64
		isInt := true
		switch c >> 6 {
		case 0:
			isInt, hdr, dataLen = false, 1, int(c&0x3F)
		case 1:
			if rest < 2 {
				return corrupt("ziplist entry truncated")
			}
			isInt, hdr, dataLen = false, 2, int(c&0x3F)<<8|int(b[p+1])
		case 2:
			if c != 0x80 || rest < 5 {
				return corrupt("invalid ziplist string encoding")
			}
			n := binary.BigEndian.Uint32(b[p+1:])
			if uint64(n) > uint64(rest) {
				return corrupt("ziplist string too long")
			}
			isInt, hdr, dataLen = false, 5, int(n)
		default:
			need := func(n int) error {
				if rest < n {
					return corrupt("ziplist entry truncated")
				}
				return nil
			}
			switch {
			case c == 0xC0:
				if err := need(3); err != nil {
					return err
				}
				hdr, ival = 3, int64(int16(binary.LittleEndian.Uint16(b[p+1:])))
			case c == 0xD0:
				if err := need(5); err != nil {
					return err
				}
				hdr, ival = 5, int64(int32(binary.LittleEndian.Uint32(b[p+1:])))
			case c == 0xE0:
				if err := need(9); err != nil {
					return err
				}
				hdr, ival = 9, int64(binary.LittleEndian.Uint64(b[p+1:]))
			case c == 0xF0:
				if err := need(4); err != nil {
					return err
				}
				u := uint32(b[p+1]) | uint32(b[p+2])<<8 | uint32(b[p+3])<<16
				hdr, ival = 4, int64(int32(u<<8)>>8)
			case c == 0xFE:
				if err := need(2); err != nil {
					return err
				}
				hdr, ival = 2, int64(int8(b[p+1]))
			case c >= 0xF1 && c <= 0xFD:
				hdr, ival = 1, int64(c&0x0F)-1
			default:
				return corrupt("invalid ziplist encoding 0x%02x", c)
			}
		}
		if hdr+dataLen > rest {
			return corrupt("ziplist entry truncated")
		}
		var v []byte
		if isInt {
			v = strconv.AppendInt(nil, ival, 10)
		} else {
			v = append(make([]byte, 0, dataLen), b[p+hdr:p+hdr+dataLen]...)
		}
		p += hdr + dataLen
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// intsetValues returns the members of an intset.
func intsetValues(b []byte) ([]int64, error) {
	if len(b) < 8 {
		return nil, corrupt("intset too short")
	}
	width := binary.LittleEndian.Uint32(b)
	if width != 2 && width != 4 && width != 8 {
		return nil, corrupt("invalid intset encoding %d", width)
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if uint64(n)*uint64(width)+8 != uint64(len(b)) {
		return nil, corrupt("intset size mismatch")
	}
	vals := make([]int64, n)
	for i := range vals {
		p := 8 + i*int(width)
		var v int64
		switch width {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(b[p:])))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(b[p:])))
		default:
			v = int64(binary.LittleEndian.Uint64(b[p:]))
		}
		vals[i] = v
	}
	return vals, nil
}

// zipmapEach calls fn with each field and value of a zipmap (the pre-2.6
// small hash encoding).
func zipmapEach(b []byte, fn func(f, v []byte) error) error {
	if len(b) < 2 {
		return corrupt("zipmap too short")
	}
	p := 1
	readLen := func() (int, bool, error) {
		if p >= len(b) {
			return 0, false, corrupt("zipmap truncated")
		}
		switch c := b[p]; {
		case c < 254:
			p++
			return int(c), false, nil
		case c == 254:
			if p+5 > len(b) {
				return 0, false, corrupt("zipmap truncated")
			}
			n := binary.LittleEndian.Uint32(b[p+1:])
			p += 5
			if uint64(n) > uint64(len(b)) {
				return 0, false, corrupt("zipmap length too large")
			}
			return int(n), false, nil
		}
		return 0, true, nil // 255: end
	}
	take := func(n int) ([]byte, error) {
		if n > len(b)-p {
			return nil, corrupt("zipmap truncated")
		}
		v := append(make([]byte, 0, n), b[p:p+n]...)
		p += n
		return v, nil
	}
	for {
		n, end, err := readLen()
		if err != nil {
			return err
		}
		if end {
			if p != len(b)-1 {
				return corrupt("zipmap trailing data")
			}
			return nil
		}
		f, err := take(n)
		if err != nil {
			return err
		}
		n, end, err = readLen()
		if err != nil {
			return err
		}
		if end {
			return corrupt("zipmap field without value")
		}
		if p >= len(b) {
			return corrupt("zipmap truncated")
		}
		free := int(b[p])
		p++
		v, err := take(n)
		if err != nil {
			return err
		}
		if free > len(b)-p {
			return corrupt("zipmap truncated")
		}
		p += free
		if err := fn(f, v); err != nil {
			return err
		}
	}
}
