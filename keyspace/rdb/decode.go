package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/wardenkv/warden/keyspace"
)

var (
	// ErrCorrupt wraps every malformed-input error.
	ErrCorrupt = errors.New("rdb: corrupt data")
	// ErrUnknownType is returned for value types warden cannot load
	// (streams, modules, types newer than it knows).
	ErrUnknownType = errors.New("rdb: unsupported value type")
	// ErrEmptyKey is returned (after the whole value was consumed) for an
	// empty collection: Redis refuses to restore one and skips it when
	// loading an RDB file.
	ErrEmptyKey = errors.New("rdb: empty collection")
)

// decoder reads RDB values from an untrusted source without ever trusting a
// length before the bytes it announces have arrived.
type decoder struct {
	r     io.Reader
	br    io.ByteReader
	sized interface{ Len() int } // bytes remaining, when r knows (bytes.Reader)
	buf   [8]byte
}

func newDecoder(r io.Reader) *decoder {
	d := &decoder{r: r}
	d.br, _ = r.(io.ByteReader)
	d.sized, _ = r.(interface{ Len() int })
	return d
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return corrupt("unexpected end of data")
	}
	return err
}

func (d *decoder) byte() (byte, error) {
	if d.br != nil {
		c, err := d.br.ReadByte()
		return c, truncated(err)
	}
	if _, err := io.ReadFull(d.r, d.buf[:1]); err != nil {
		return 0, truncated(err)
	}
	return d.buf[0], nil
}

func (d *decoder) full(p []byte) error {
	_, err := io.ReadFull(d.r, p)
	return truncated(err)
}

// canHold reports whether n more bytes may still be available.
func (d *decoder) canHold(n uint64) bool {
	return d.sized == nil || n <= uint64(d.sized.Len())
}

// bytes reads n bytes into a fresh slice; when the source size is unknown it
// grows the buffer as data arrives so a forged length cannot force a huge
// allocation.
func (d *decoder) bytes(n uint64) ([]byte, error) {
	if !d.canHold(n) || n > math.MaxInt32*4 {
		return nil, corrupt("length %d exceeds the data", n)
	}
	const chunk = 1 << 20
	if d.sized != nil || n <= chunk {
		b := make([]byte, n)
		return b, d.full(b)
	}
	b := make([]byte, 0, chunk)
	for uint64(len(b)) < n {
		m := min(n-uint64(len(b)), chunk)
		b = append(b, make([]byte, m)...)
		if err := d.full(b[len(b)-int(m):]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// length reads an RDB length; encoded is true for the special string
// encodings (then n is the encoding number).
func (d *decoder) length() (n uint64, encoded bool, err error) {
	c, err := d.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case len6Bit:
		return uint64(c & 0x3F), false, nil
	case len14Bit:
		c2, err := d.byte()
		if err != nil {
			return 0, false, err
		}
		return uint64(c&0x3F)<<8 | uint64(c2), false, nil
	case lenEnc:
		return uint64(c & 0x3F), true, nil
	}
	switch c {
	case len32Bit:
		if err := d.full(d.buf[:4]); err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(d.buf[:4])), false, nil
	case len64Bit:
		if err := d.full(d.buf[:8]); err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(d.buf[:8]), false, nil
	}
	return 0, false, corrupt("unknown length encoding 0x%02x", c)
}

// plainLength reads a length that may not be a string encoding.
func (d *decoder) plainLength() (uint64, error) {
	n, enc, err := d.length()
	if err == nil && enc {
		err = corrupt("unexpected string encoding in a length")
	}
	return n, err
}

// count reads a collection's element count: each element takes at least
// minBytes, so a count the data cannot hold is refused at once.
func (d *decoder) count(minBytes uint64) (int, error) {
	n, err := d.plainLength()
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt32 || !d.canHold(n*minBytes) {
		return 0, corrupt("count %d exceeds the data", n)
	}
	return int(n), nil
}

// String reads an RDB string (raw, integer-encoded or LZF-compressed).
func (d *decoder) string() ([]byte, error) {
	n, enc, err := d.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		return d.bytes(n)
	}
	switch n {
	case encInt8:
		c, err := d.byte()
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int8(c)), 10), nil
	case encInt16:
		if err := d.full(d.buf[:2]); err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(d.buf[:2]))), 10), nil
	case encInt32:
		if err := d.full(d.buf[:4]); err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(d.buf[:4]))), 10), nil
	case encLZF:
		clen, err := d.plainLength()
		if err != nil {
			return nil, err
		}
		ulen, err := d.plainLength()
		if err != nil {
			return nil, err
		}
		// A back reference of 3 bytes expands to at most 264: anything
		// claiming more is corrupt (and must not be allocated).
		if clen == 0 || clen > math.MaxInt32*4 || ulen > clen*88+64 {
			return nil, corrupt("invalid LZF lengths %d/%d", clen, ulen)
		}
		comp, err := d.bytes(clen)
		if err != nil {
			return nil, err
		}
		out := make([]byte, ulen)
		if err := lzfDecompress(comp, out); err != nil {
			return nil, corrupt("%v", err)
		}
		return out, nil
	}
	return nil, corrupt("unknown string encoding %d", n)
}

// textDouble reads a ZSET (type 3) score: a length byte (253 nan, 254 +inf,
// 255 -inf) and that many ASCII characters.
func (d *decoder) textDouble() (float64, error) {
	n, err := d.byte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	var tmp [255]byte
	b := tmp[:n]
	if err := d.full(b); err != nil {
		return 0, err
	}
	f, ok := parseScore(b)
	if !ok {
		return 0, corrupt("invalid double %q", b)
	}
	return f, nil
}

// parseScore reads a score as strtod would (decimal, exponent, inf).
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true // strtod gives ±HUGE_VAL or 0 as well
		}
		return 0, false
	}
	return f, true
}

func (d *decoder) binaryDouble() (float64, error) {
	if err := d.full(d.buf[:8]); err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(d.buf[:8])), nil
}

// DecodeValue reads a value of RDB type typ (the type byte already read).
// Reading from a *bytes.Reader (or anything with Len() int) lets it refuse
// impossible lengths before allocating.
func DecodeValue(r io.Reader, typ byte) (*keyspace.Object, error) {
	return NewDecoder(r).ReadValue(typ)
}

func newObject(t keyspace.Type, v any) *keyspace.Object { return &keyspace.Object{Type: t, Val: v} }

func (d *decoder) value(typ byte) (*keyspace.Object, error) {
	switch typ {
	case TypeString:
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return &keyspace.Object{Type: keyspace.TString, Str: s}, nil

	case TypeList:
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		l := keyspace.NewList()
		for range n {
			v, err := d.string()
			if err != nil {
				return nil, err
			}
			l.PushBack(v)
		}
		return newObject(keyspace.TList, l), nil

	case TypeSet:
		n, err := d.count(1)
		if err != nil {
			return nil, err
		}
		s := make(keyspace.Set, min(n, 1024))
		for range n {
			v, err := d.string()
			if err != nil {
				return nil, err
			}
			if err := setAdd(s, v); err != nil {
				return nil, err
			}
		}
		return newObject(keyspace.TSet, s), nil

	case TypeZSet, TypeZSet2:
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		z := keyspace.NewZSet()
		for range n {
			m, err := d.string()
			if err != nil {
				return nil, err
			}
			var score float64
			if typ == TypeZSet2 {
				score, err = d.binaryDouble()
			} else {
				score, err = d.textDouble()
			}
			if err != nil {
				return nil, err
			}
			if err := zsetAdd(z, m, score); err != nil {
				return nil, err
			}
		}
		return newObject(keyspace.TZSet, z), nil

	case TypeHash:
		n, err := d.count(2)
		if err != nil {
			return nil, err
		}
		h := keyspace.NewHash(min(n, 1024))
		for range n {
			f, err := d.string()
			if err != nil {
				return nil, err
			}
			v, err := d.string()
			if err != nil {
				return nil, err
			}
			if err := hashAdd(h, f, v); err != nil {
				return nil, err
			}
		}
		return newObject(keyspace.THash, h), nil

	case TypeHashZipmap:
		blob, err := d.string()
		if err != nil {
			return nil, err
		}
		h := keyspace.NewHash(0)
		if err := zipmapEach(blob, func(f, v []byte) error { return hashAdd(h, f, v) }); err != nil {
			return nil, err
		}
		return newObject(keyspace.THash, h), nil

	case TypeListZiplist, TypeListQuicklist, TypeListQuicklist2:
		return d.list(typ)

	case TypeSetIntset:
		blob, err := d.string()
		if err != nil {
			return nil, err
		}
		vals, err := intsetValues(blob)
		if err != nil {
			return nil, err
		}
		if len(vals) <= keyspace.IntSetMax { // stays compact, as it was saved
			is := keyspace.IntSetOf(vals)
			if is.Len() != len(vals) {
				return nil, corrupt("duplicate set member")
			}
			return newObject(keyspace.TSet, is), nil
		}
		s := make(keyspace.Set, len(vals))
		for _, v := range vals {
			if err := setAdd(s, strconv.AppendInt(nil, v, 10)); err != nil {
				return nil, err
			}
		}
		return newObject(keyspace.TSet, s), nil

	case TypeSetListpack:
		blob, err := d.string()
		if err != nil {
			return nil, err
		}
		s := keyspace.Set{}
		if err := listpackEach(blob, func(v []byte) error { return setAdd(s, v) }); err != nil {
			return nil, err
		}
		return newObject(keyspace.TSet, s), nil

	case TypeZSetZiplist, TypeZSetListpack:
		blob, err := d.string()
		if err != nil {
			return nil, err
		}
		z := keyspace.NewZSet()
		var member []byte
		odd := false
		each := listpackEach
		if typ == TypeZSetZiplist {
			each = ziplistEach
		}
		err = each(blob, func(v []byte) error {
			odd = !odd
			if odd {
				member = v
				return nil
			}
			score, ok := parseScore(v)
			if !ok {
				return corrupt("invalid zset score %q", v)
			}
			return zsetAdd(z, member, score)
		})
		if err != nil {
			return nil, err
		}
		if odd {
			return nil, corrupt("zset member without score")
		}
		return newObject(keyspace.TZSet, z), nil

	case TypeHashZiplist, TypeHashListpack:
		blob, err := d.string()
		if err != nil {
			return nil, err
		}
		h := keyspace.NewHash(0)
		var field []byte
		odd := false
		each := listpackEach
		if typ == TypeHashZiplist {
			each = ziplistEach
		}
		err = each(blob, func(v []byte) error {
			odd = !odd
			if odd {
				field = v
				return nil
			}
			return hashAdd(h, field, v)
		})
		if err != nil {
			return nil, err
		}
		if odd {
			return nil, corrupt("hash field without value")
		}
		return newObject(keyspace.THash, h), nil

	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3:
		return d.stream(typ)
	}
	return nil, fmt.Errorf("%w %d", ErrUnknownType, typ)
}

func (d *decoder) list(typ byte) (*keyspace.Object, error) {
	l := keyspace.NewList()
	push := func(v []byte) error {
		l.PushBack(v)
		return nil
	}
	if typ == TypeListZiplist {
		blob, err := d.string()
		if err != nil {
			return nil, err
		}
		if err := ziplistEach(blob, push); err != nil {
			return nil, err
		}
		return newObject(keyspace.TList, l), nil
	}
	nodes, err := d.count(1)
	if err != nil {
		return nil, err
	}
	for range nodes {
		container := uint64(quicklistNodePacked)
		if typ == TypeListQuicklist2 {
			if container, err = d.plainLength(); err != nil {
				return nil, err
			}
			if container != quicklistNodePacked && container != quicklistNodePlain {
				return nil, corrupt("invalid quicklist container %d", container)
			}
		}
		blob, err := d.string()
		if err != nil {
			return nil, err
		}
		switch {
		case container == quicklistNodePlain:
			l.PushBack(blob)
		case typ == TypeListQuicklist:
			err = ziplistEach(blob, push)
		default:
			err = listpackEach(blob, push)
		}
		if err != nil {
			return nil, err
		}
	}
	return newObject(keyspace.TList, l), nil
}

func setAdd(s keyspace.Set, v []byte) error {
	if _, dup := s[string(v)]; dup {
		return corrupt("duplicate set member")
	}
	s[string(v)] = struct{}{}
	return nil
}

func hashAdd(h *keyspace.Hash, f, v []byte) error {
	if !h.Set(f, v) {
		return corrupt("duplicate hash field")
	}
	return nil
}

func zsetAdd(z *keyspace.ZSet, m []byte, score float64) error {
	if math.IsNaN(score) {
		return corrupt("zset NaN score")
	}
	if !z.Add(string(m), score) {
		return corrupt("duplicate zset member")
	}
	return nil
}

// Decoder reads RDB primitives and values from one stream (an RDB file or
// a replication transfer), for loaders that parse the surrounding opcodes.
type Decoder struct{ d *decoder }

// NewDecoder returns a Decoder reading from r (wrap files in a bufio.Reader).
func NewDecoder(r io.Reader) *Decoder { return &Decoder{d: newDecoder(r)} }

// ReadByte reads one byte (an opcode or a value type).
func (d *Decoder) ReadByte() (byte, error) { return d.d.byte() }

// ReadFull reads exactly len(p) bytes (fixed-width fields).
func (d *Decoder) ReadFull(p []byte) error { return d.d.full(p) }

// ReadLength reads an RDB length (refusing the string encodings).
func (d *Decoder) ReadLength() (uint64, error) { return d.d.plainLength() }

// ReadString reads an RDB string (raw, integer-encoded or LZF).
func (d *Decoder) ReadString() ([]byte, error) { return d.d.string() }

// ReadValue reads a value of RDB type typ, as DecodeValue.
func (d *Decoder) ReadValue(typ byte) (*keyspace.Object, error) {
	o, err := d.d.value(typ)
	if err != nil {
		return nil, err
	}
	o.LRU = keyspace.LRUClock()
	if o.Type != keyspace.TString && o.Type != keyspace.TStream && o.Len() == 0 {
		return nil, ErrEmptyKey
	}
	return o, nil
}
