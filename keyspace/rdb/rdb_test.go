package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenkv/warden/keyspace"
)

func TestCRC64(t *testing.T) {
	// The check value of Redis's crc64.c self test.
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 = %#x", got)
	}
	// Incremental use gives the same result.
	if got := CRC64(CRC64(0, []byte("1234")), []byte("56789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("incremental crc64 = %#x", got)
	}
}

func TestDumpPayloadMatchesRedis(t *testing.T) {
	// redis-cli DUMP of SET a 100 on Redis 7.0.15.
	want := []byte{0x00, 0xc0, 0x64, 0x0a, 0x00, 0x87, 0x29, 0x95, 0x31, 0x60, 0x0e, 0x8d, 0xb3}
	if got := DumpPayload(keyspace.NewString([]byte("100"))); !bytes.Equal(got, want) {
		t.Fatalf("payload % x, want % x", got, want)
	}
}

func TestLZF(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := [][]byte{
		[]byte(strings.Repeat("a", 1000)),
		[]byte(strings.Repeat("hello world ", 500)),
		[]byte("abcabcabcabcabcabcabcabcabcabcabcabc"),
	}
	for n := 1; n < 3000; n = n*3/2 + 1 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(4)) + 'a' // compressible
		}
		inputs = append(inputs, b)
		r := make([]byte, n)
		for i := range r {
			r[i] = byte(rng.Uint32())
		}
		inputs = append(inputs, r)
	}
	compressed := 0
	for _, in := range inputs {
		for _, room := range []int{len(in) - 4, len(in) + 64} {
			if room <= 0 {
				continue
			}
			out := make([]byte, room)
			n := lzfCompress(in, out)
			if n == 0 {
				continue
			}
			compressed++
			got := make([]byte, len(in))
			if err := lzfDecompress(out[:n], got); err != nil || !bytes.Equal(got, in) {
				t.Fatalf("round trip of %d bytes failed: %v", len(in), err)
			}
			// A wrong expected size is an error, never a panic.
			if err := lzfDecompress(out[:n], make([]byte, len(in)-1)); err == nil {
				t.Fatalf("short output accepted")
			}
			if err := lzfDecompress(out[:n], make([]byte, len(in)+1)); err == nil {
				t.Fatalf("long output accepted")
			}
			for cut := 0; cut < n; cut += 1 + n/50 {
				_ = lzfDecompress(out[:cut], got)
			}
		}
	}
	if compressed < len(inputs)/2 {
		t.Fatalf("only %d of %d inputs compressed", compressed, len(inputs))
	}
	// 1000 identical bytes must shrink a lot.
	out := make([]byte, 996)
	if n := lzfCompress(inputs[0], out); n == 0 || n > 40 {
		t.Fatalf("1000 x 'a' compressed to %d bytes", n)
	}
}

func TestStringEncodings(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []byte
	}{
		{"0", []byte{0xC0, 0}},
		{"-128", []byte{0xC0, 0x80}},
		{"127", []byte{0xC0, 0x7F}},
		{"128", []byte{0xC1, 0x80, 0}},
		{"-32768", []byte{0xC1, 0x00, 0x80}},
		{"32768", []byte{0xC2, 0, 0x80, 0, 0}},
		{"2147483647", []byte{0xC2, 0xFF, 0xFF, 0xFF, 0x7F}},
		{"2147483648", append([]byte{10}, "2147483648"...)},
		{"007", []byte{3, '0', '0', '7'}},
		{"-0", []byte{2, '-', '0'}},
		{"+1", []byte{2, '+', '1'}},
		{"", []byte{0}},
	} {
		if got := AppendString(nil, []byte(c.in)); !bytes.Equal(got, c.want) {
			t.Errorf("%q: % x, want % x", c.in, got, c.want)
		}
	}
	for _, n := range []uint64{0, 63, 64, 16383, 16384, math.MaxUint32, math.MaxUint32 + 1} {
		b := AppendLength(nil, n)
		d := newDecoder(bytes.NewReader(b))
		got, enc, err := d.length()
		if err != nil || enc || got != n {
			t.Errorf("length %d: got %d %v %v", n, got, enc, err)
		}
	}
	long := strings.Repeat("x", 100)
	b := AppendString(nil, []byte(long))
	if b[0] != 0xC3 {
		t.Fatalf("long repetitive string not LZF-compressed: % x", b[:4])
	}
	d := newDecoder(bytes.NewReader(b))
	if s, err := d.string(); err != nil || string(s) != long {
		t.Fatalf("LZF string read back as %q, %v", s, err)
	}
}

// Test object constructors.

func str(s string) *keyspace.Object { return keyspace.NewString([]byte(s)) }

func list(vals ...string) *keyspace.Object {
	l := keyspace.NewList()
	for _, v := range vals {
		l.PushBack([]byte(v))
	}
	return &keyspace.Object{Type: keyspace.TList, Val: l}
}

func set(vals ...string) *keyspace.Object {
	s := keyspace.Set{}
	for _, v := range vals {
		s[v] = struct{}{}
	}
	return &keyspace.Object{Type: keyspace.TSet, Val: s}
}

func hash(kv ...string) *keyspace.Object {
	h := keyspace.NewHash(0)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set([]byte(kv[i]), []byte(kv[i+1]))
	}
	return &keyspace.Object{Type: keyspace.THash, Val: h}
}

func zset(entries ...keyspace.ZEntry) *keyspace.Object {
	z := keyspace.NewZSet()
	for _, e := range entries {
		z.Add(e.Member, e.Score)
	}
	return &keyspace.Object{Type: keyspace.TZSet, Val: z}
}

func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// describe renders an object's contents canonically for comparisons.
func describe(o *keyspace.Object) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", o.Type.Name())
	switch o.Type {
	case keyspace.TString:
		fmt.Fprintf(&b, "%q", o.Str)
	case keyspace.TList:
		l := o.List()
		for i := 0; i < l.Len(); i++ {
			fmt.Fprintf(&b, "%q,", l.Index(i))
		}
	case keyspace.TSet:
		ms := make([]string, 0, len(o.Set()))
		for m := range o.Set() {
			ms = append(ms, strconv.Quote(m))
		}
		slices.Sort(ms)
		b.WriteString(strings.Join(ms, ","))
	case keyspace.THash:
		fs := make([]string, 0, o.Hash().Len())
		o.Hash().Range(func(f string, v []byte) bool {
			fs = append(fs, strconv.Quote(f)+"="+strconv.Quote(string(v)))
			return true
		})
		slices.Sort(fs)
		b.WriteString(strings.Join(fs, ","))
	case keyspace.TZSet:
		for _, e := range o.ZSet().All() {
			fmt.Fprintf(&b, "%q=%v/%v,", e.Member, e.Score, math.Signbit(e.Score))
		}
	}
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	bigVal := strings.Repeat("v", 10000)
	ints := append(seq("", 200), "-1", "-32769", "70000", "-2147483649", "9223372036854775807", "-9223372036854775808")
	cases := []struct {
		name string
		o    *keyspace.Object
		typ  byte
	}{
		{"int string", str("12345"), TypeString},
		{"empty string", str(""), TypeString},
		{"binary string", str("\x00\xff\r\n"), TypeString},
		{"long string", str(strings.Repeat("abcdefgh", 100)), TypeString},
		{"random string", str(string(randBytes(5000))), TypeString},
		{"small list", list("a", "1", "-5", "", "9223372036854775807", "007"), TypeListQuicklist2},
		{"big list", list(seq("element-", 5000)...), TypeListQuicklist2},
		{"list with huge element", list("a", bigVal, "b", bigVal+"x"), TypeListQuicklist2},
		{"list of ints", list(ints...), TypeListQuicklist2},
		{"intset 16", set("1", "2", "-3", "32767"), TypeSetIntset},
		{"intset 32", set("1", "70000", "-70000"), TypeSetIntset},
		{"intset 64", set("1", "9223372036854775807", "-9223372036854775808"), TypeSetIntset},
		{"non-canonical ints set", set("1", "01"), TypeSet},
		{"string set", set("a", "b", "c"), TypeSet},
		{"big int set", set(seq("", 600)...), TypeSet},
		{"small hash", hash("f", "v", "n", "12", "e", "", "-0", "-1"), TypeHashListpack},
		{"hash long value", hash("f", strings.Repeat("x", 65)), TypeHash},
		{"listpack hash of 512", hash(seq("f", 1024)...), TypeHashListpack},
		{"big hash", hash(seq("f", 1026)...), TypeHash},
		{"small zset", zset(keyspace.ZEntry{Member: "a", Score: 1}, keyspace.ZEntry{Member: "b", Score: 1.5},
			keyspace.ZEntry{Member: "c", Score: math.Inf(1)}, keyspace.ZEntry{Member: "d", Score: math.Inf(-1)},
			keyspace.ZEntry{Member: "e", Score: math.Copysign(0, -1)}, keyspace.ZEntry{Member: "f", Score: 1e300},
			keyspace.ZEntry{Member: "g", Score: -123456789012}, keyspace.ZEntry{Member: "h", Score: 0.1},
			keyspace.ZEntry{Member: "42", Score: 4503599627370497}), TypeZSetListpack},
		{"big zset", bigZSet(500), TypeZSet2},
		{"zset long member", zset(keyspace.ZEntry{Member: strings.Repeat("m", 65), Score: 2}), TypeZSet2},
	}
	for _, c := range cases {
		p := DumpPayload(c.o)
		if p[0] != c.typ {
			t.Errorf("%s: type %d, want %d", c.name, p[0], c.typ)
		}
		got, err := ParsePayload(p)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if describe(got) != describe(c.o) {
			t.Errorf("%s: round trip changed the value:\n got %.300s\nwant %.300s", c.name, describe(got), describe(c.o))
		}
		// EncodeValue writes the same type byte and an equivalent value
		// (map iteration order may differ).
		var buf bytes.Buffer
		if err := EncodeValue(&buf, c.o); err != nil || buf.Bytes()[0] != c.typ {
			t.Errorf("%s: EncodeValue differs from DumpPayload body", c.name)
		} else if o, err := DecodeValue(bytes.NewReader(buf.Bytes()[1:]), c.typ); err != nil || describe(o) != describe(c.o) {
			t.Errorf("%s: EncodeValue output decodes to a different value: %v", c.name, err)
		}
		// Decoding from a plain io.Reader (no Len) works too.
		if o, err := DecodeValue(onlyReader{bytes.NewReader(p[1 : len(p)-10])}, p[0]); err != nil || describe(o) != describe(c.o) {
			t.Errorf("%s: decoding from an unsized reader: %v", c.name, err)
		}
	}
}

type onlyReader struct{ r *bytes.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func randBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func bigZSet(n int) *keyspace.Object {
	es := make([]keyspace.ZEntry, n)
	for i := range es {
		es[i] = keyspace.ZEntry{Member: "m" + strconv.Itoa(i), Score: float64(i) / 3}
	}
	return zset(es...)
}

// payload wraps a type byte and body in a valid DUMP footer.
func payload(typ byte, body []byte, version uint16) []byte {
	b := append([]byte{typ}, body...)
	b = binary.LittleEndian.AppendUint16(b, version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

func TestPayloadFooter(t *testing.T) {
	good := DumpPayload(str("hello"))
	if _, err := ParsePayload(good); err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(good)
	bad[len(bad)-1] ^= 1
	if _, err := ParsePayload(bad); !errors.Is(err, ErrPayload) {
		t.Errorf("bad crc: %v", err)
	}
	bad = slices.Clone(good)
	bad[1] ^= 1
	if _, err := ParsePayload(bad); !errors.Is(err, ErrPayload) {
		t.Errorf("bad body: %v", err)
	}
	body := AppendString(nil, []byte("hello"))
	if _, err := ParsePayload(payload(TypeString, body, 11)); err != nil {
		t.Errorf("version 11 refused: %v", err)
	}
	if _, err := ParsePayload(payload(TypeString, body, 12)); !errors.Is(err, ErrPayload) {
		t.Errorf("version 12: %v", err)
	}
	for _, p := range [][]byte{nil, {1, 2, 3}, good[:9]} {
		if _, err := ParsePayload(p); !errors.Is(err, ErrPayload) {
			t.Errorf("short payload %x: %v", p, err)
		}
	}
	for _, typ := range []byte{6, 7, 8, 22, 200} {
		if _, err := ParsePayload(payload(typ, []byte{1, 2, 3}, 10)); !errors.Is(err, ErrUnknownType) {
			t.Errorf("type %d: %v", typ, err)
		}
	}
	// Empty collections are refused after being read.
	if _, err := ParsePayload(payload(TypeList, []byte{0}, 10)); !errors.Is(err, ErrEmptyKey) {
		t.Errorf("empty list: %v", err)
	}
	// Duplicates and NaN scores are corrupt.
	dupSet := AppendLength(nil, 2)
	dupSet = AppendString(AppendString(dupSet, []byte("a")), []byte("a"))
	if _, err := ParsePayload(payload(TypeSet, dupSet, 10)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("duplicate set member: %v", err)
	}
	nan := AppendBinaryDouble(AppendString(AppendLength(nil, 1), []byte("m")), math.NaN())
	if _, err := ParsePayload(payload(TypeZSet2, nan, 10)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("NaN score: %v", err)
	}
	// Forged huge lengths fail fast without allocating.
	huge := []byte{len64Bit, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, typ := range []byte{TypeString, TypeList, TypeSet, TypeHash, TypeZSet2, TypeListQuicklist2} {
		if _, err := ParsePayload(payload(typ, huge, 10)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("type %d with huge length: %v", typ, err)
		}
	}
	lzfBomb := append([]byte{0xC3}, AppendLength(AppendLength(nil, 2), 1<<40)...)
	lzfBomb = append(lzfBomb, 0, 'a')
	if _, err := ParsePayload(payload(TypeString, lzfBomb, 10)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("LZF bomb: %v", err)
	}
}

// Every truncation and every single-byte corruption of valid payloads (with
// a recomputed checksum) is refused or decoded, never a panic.
func TestCorruptPayloadsNeverPanic(t *testing.T) {
	objs := []*keyspace.Object{
		str("12"), str(strings.Repeat("ab", 50)), list("a", "1", "bb"), set("1", "2"), set("a", "b"),
		hash("f", "v", "g", "1"), hash("x", strings.Repeat("y", 70)),
		zset(keyspace.ZEntry{Member: "a", Score: 1.5}, keyspace.ZEntry{Member: "b", Score: 2}), bigZSet(130),
	}
	for _, o := range objs {
		p := DumpPayload(o)
		body := p[:len(p)-10]
		for cut := 1; cut < len(body); cut++ {
			_, _ = ParsePayload(payload(body[0], body[1:cut], 10))
		}
		for i := 1; i < len(body) && i < 400; i++ {
			for _, x := range []byte{0x01, 0x80, 0xFF} {
				c := slices.Clone(body)
				c[i] ^= x
				_, _ = ParsePayload(payload(c[0], c[1:], 10))
			}
		}
	}
}

// A Decoder reads several keys in sequence from one stream, as an RDB
// loader will.
func TestDecoderStream(t *testing.T) {
	objs := []*keyspace.Object{str("v"), list("a", "b"), set("1", "x"), hash("f", "v"), bigZSet(3)}
	var b []byte
	for i, o := range objs {
		typ, val := Encode(o)
		b = append(b, typ)
		b = AppendString(b, []byte("key"+strconv.Itoa(i)))
		b = append(b, val...)
	}
	b = append(b, 0xFF)
	d := NewDecoder(onlyReader{bytes.NewReader(b)})
	for i, o := range objs {
		typ, err := d.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		key, err := d.ReadString()
		if err != nil || string(key) != "key"+strconv.Itoa(i) {
			t.Fatalf("key %d: %q %v", i, key, err)
		}
		got, err := d.ReadValue(typ)
		if err != nil || describe(got) != describe(o) {
			t.Fatalf("value %d: %v", i, err)
		}
	}
	if c, err := d.ReadByte(); err != nil || c != 0xFF {
		t.Fatalf("trailer: %x %v", c, err)
	}
	if _, err := d.ReadByte(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read past the end: %v", err)
	}
}
