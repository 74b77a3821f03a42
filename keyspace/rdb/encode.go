// Package rdb implements Redis's RDB value serialization (as written by
// Redis 7.0, RDB version 10): the DUMP/RESTORE payload format, and the
// building blocks of RDB files (length and string encodings, LZF, CRC64).
package rdb

import (
	"encoding/binary"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

// RDB value types (the byte that precedes a key in an RDB file and starts a
// DUMP payload).
const (
	TypeString           = 0
	TypeList             = 1
	TypeSet              = 2
	TypeZSet             = 3
	TypeHash             = 4
	TypeZSet2            = 5
	TypeModulePreGA      = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZSetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZSetListpack     = 17
	TypeListQuicklist2   = 18
	TypeStreamListpacks2 = 19
	TypeSetListpack      = 20
	TypeStreamListpacks3 = 21
)

// Version is the RDB version written (Redis 7.0's: older Redis 7.0 builds
// refuse payloads of newer versions); MaxVersion is the newest accepted.
const (
	Version    = 10
	MaxVersion = 11
)

// Length encoding prefixes and special string encodings.
const (
	len6Bit  = 0
	len14Bit = 1
	len32Bit = 0x80
	len64Bit = 0x81
	lenEnc   = 3

	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3

	quicklistNodePlain  = 1
	quicklistNodePacked = 2
)

// Redis 7.0's default thresholds for the compact encodings it writes.
const (
	maxHashListpackEntries = 512  // hash-max-listpack-entries
	maxZSetListpackEntries = 128  // zset-max-listpack-entries
	maxListpackValue       = 64   // hash/zset-max-listpack-value
	maxIntsetEntries       = 512  // set-max-intset-entries
	listNodeMaxBytes       = 8192 // list-max-listpack-size -2
)

// AppendLength appends n in RDB length encoding.
func AppendLength(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|len14Bit<<6, byte(n))
	case n <= math.MaxUint32:
		dst = append(dst, len32Bit)
		return binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	dst = append(dst, len64Bit)
	return binary.BigEndian.AppendUint64(dst, n)
}

// parseCanonicalInt is Redis's string2ll (the canonical decimal form of an
// int64), shared with keyspace so encodings agree with OBJECT ENCODING.
func parseCanonicalInt(s []byte) (int64, bool) { return keyspace.ParseInt(s) }

// AppendString appends s as an RDB string: integer-encoded when Redis would
// (canonical integers of up to 11 characters fitting 32 bits), LZF-compressed
// when longer than 20 bytes and compression saves at least 4 bytes, else raw.
func AppendString(dst []byte, s []byte) []byte { return appendString(dst, s, true) }

// appendString is AppendString with LZF optional: compress false is Redis's
// "rdbcompression no" (integer encodings are kept, as Redis does).
func appendString(dst []byte, s []byte, compress bool) []byte {
	if len(s) <= 11 {
		if v, ok := parseCanonicalInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				return append(dst, lenEnc<<6|encInt8, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				dst = append(dst, lenEnc<<6|encInt16)
				return binary.LittleEndian.AppendUint16(dst, uint16(v))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				dst = append(dst, lenEnc<<6|encInt32)
				return binary.LittleEndian.AppendUint32(dst, uint32(v))
			}
		}
	}
	if compress && len(s) > 20 {
		var ok bool
		if dst, ok = appendLZF(dst, s); ok {
			return dst
		}
	}
	dst = AppendLength(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendLZF appends s LZF-compressed, or returns dst unchanged (perhaps
// grown) and false when that does not save space (compressed size must be
// at most len(s)-4, as in Redis).
//
// It compresses straight into dst's spare room, after space for the
// longest header, and moves the result down behind the real header: no
// buffer per string (a snapshot compresses every value).
func appendLZF(dst []byte, s []byte) ([]byte, bool) {
	const maxHeader = 1 + 2*9 // type byte, two lengths
	at := len(dst)
	dst = slices.Grow(dst, maxHeader+len(s)-4)
	room := dst[at+maxHeader : at+maxHeader+len(s)-4]
	n := lzfCompress(s, room)
	if n == 0 {
		return dst, false
	}
	dst = append(dst, lenEnc<<6|encLZF)
	dst = AppendLength(dst, uint64(n))
	dst = AppendLength(dst, uint64(len(s)))
	return append(dst, room[:n]...), true // overlapping is fine: append copies with memmove
}

// AppendBinaryDouble appends a double as ZSET_2 stores scores.
func AppendBinaryDouble(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// Encode returns the RDB type and serialized value of o, choosing the
// encodings Redis 7.0 would write for it.
func Encode(o *keyspace.Object) (byte, []byte) {
	return AppendValue(nil, o)
}

// AppendValue appends o's serialized value (without the type byte) to dst
// and returns its RDB type with the extended buffer.
func AppendValue(dst []byte, o *keyspace.Object) (byte, []byte) {
	return appendValue(dst, o, true)
}

// appendValue is AppendValue with string compression optional (RDB files
// written with rdbcompression no).
func appendValue(dst []byte, o *keyspace.Object, compress bool) (byte, []byte) {
	switch o.Type {
	case keyspace.TString:
		return TypeString, appendString(dst, o.Str, compress)
	case keyspace.TList:
		return TypeListQuicklist2, appendList(dst, o.List(), compress)
	case keyspace.TSet:
		if is, ok := o.IntSet(); ok { // sorted integers: an intset as it is
			return TypeSetIntset, appendString(dst, encodeIntset(is.Values()), compress)
		}
		return appendSet(dst, o.Set(), compress)
	case keyspace.THash:
		return appendHash(dst, o.Hash(), compress)
	case keyspace.TZSet:
		return appendZSet(dst, o.ZSet(), compress)
	case keyspace.TStream:
		return TypeStreamListpacks2, appendStream(dst, o.Val.(*stream.Stream), compress)
	}
	panic("rdb: unknown object type")
}

// EncodeValue writes the type byte followed by o's serialized value.
func EncodeValue(w io.Writer, o *keyspace.Object) error {
	typ, b := AppendValue([]byte{0}, o)
	b[0] = typ
	_, err := w.Write(b)
	return err
}

// appendList writes a QUICKLIST_2 of packed listpack nodes of at most
// listNodeMaxBytes each (a larger element gets a node of its own).
func appendList(dst []byte, l *keyspace.List, compress bool) []byte {
	n := l.Len()
	var nodes [][]byte
	var lp listpackWriter
	for i := 0; i < n; i++ {
		v := l.Index(i)
		if lp.count > 0 && lp.size()+len(v)+11 > listNodeMaxBytes {
			nodes = append(nodes, lp.finish())
			lp = listpackWriter{}
		}
		lp.add(v)
	}
	if lp.count > 0 {
		nodes = append(nodes, lp.finish())
	}
	dst = AppendLength(dst, uint64(len(nodes)))
	for _, node := range nodes {
		dst = AppendLength(dst, quicklistNodePacked)
		dst = appendString(dst, node, compress)
	}
	return dst
}

func appendSet(dst []byte, s keyspace.Set, compress bool) (byte, []byte) {
	if len(s) <= maxIntsetEntries {
		if b, ok := buildIntset(s); ok {
			return TypeSetIntset, appendString(dst, b, compress)
		}
	}
	dst = AppendLength(dst, uint64(len(s)))
	for m := range s {
		dst = appendString(dst, []byte(m), compress)
	}
	return TypeSet, dst
}

// buildIntset encodes s as an intset when every member is a canonical
// integer.
func buildIntset(s keyspace.Set) ([]byte, bool) {
	vals := make([]int64, 0, len(s))
	for m := range s {
		v, ok := parseCanonicalInt([]byte(m))
		if !ok {
			return nil, false
		}
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return encodeIntset(vals), true
}

// encodeIntset encodes ascending vals as Redis's intset, in the narrowest
// width that holds them all.
func encodeIntset(vals []int64) []byte {
	width := 2
	for _, v := range vals {
		switch {
		case v < math.MinInt32 || v > math.MaxInt32:
			width = 8
		case (v < math.MinInt16 || v > math.MaxInt16) && width < 4:
			width = 4
		}
	}
	b := make([]byte, 8, 8+width*len(vals))
	binary.LittleEndian.PutUint32(b, uint32(width))
	binary.LittleEndian.PutUint32(b[4:], uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

func appendHash(dst []byte, h *keyspace.Hash, compress bool) (byte, []byte) {
	small := h.Len() <= maxHashListpackEntries
	if small {
		h.Range(func(f string, v []byte) bool {
			small = len(f) <= maxListpackValue && len(v) <= maxListpackValue
			return small
		})
	}
	if small {
		var lp listpackWriter
		h.Range(func(f string, v []byte) bool {
			lp.add([]byte(f))
			lp.add(v)
			return true
		})
		return TypeHashListpack, appendString(dst, lp.finish(), compress)
	}
	dst = AppendLength(dst, uint64(h.Len()))
	h.Range(func(f string, v []byte) bool {
		dst = appendString(dst, []byte(f), compress)
		dst = appendString(dst, v, compress)
		return true
	})
	return TypeHash, dst
}

func appendZSet(dst []byte, z *keyspace.ZSet, compress bool) (byte, []byte) {
	entries := z.All()
	small := len(entries) <= maxZSetListpackEntries
	if small {
		for _, e := range entries {
			if len(e.Member) > maxListpackValue {
				small = false
				break
			}
		}
	}
	if small {
		var lp listpackWriter
		var buf [32]byte
		for _, e := range entries {
			lp.add([]byte(e.Member))
			lp.add(zsetScoreString(buf[:0], e.Score))
		}
		return TypeZSetListpack, appendString(dst, lp.finish(), compress)
	}
	dst = AppendLength(dst, uint64(len(entries)))
	// Redis writes from the highest rank down so loading appends at the head.
	for i := len(entries) - 1; i >= 0; i-- {
		dst = appendString(dst, []byte(entries[i].Member), compress)
		dst = AppendBinaryDouble(dst, entries[i].Score)
	}
	return TypeZSet2, dst
}

// zsetScoreString formats a score as Redis's d2string does for listpacks:
// integral values as integers, others in a form strtod reads back exactly.
func zsetScoreString(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	case f > -4503599627370495 && f < 4503599627370496 && f == math.Trunc(f):
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}
