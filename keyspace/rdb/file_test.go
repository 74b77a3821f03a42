package rdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

// fileKey is one key of a test file.
type fileKey struct {
	db  int
	key string
	o   *keyspace.Object
}

// fileFixture returns keys of every type and encoding warden writes, with
// and without TTLs, in dbs 0 and 3 (and 15 when many is set).
func fileFixture(now int64, many bool) []fileKey {
	ints := append(seq("", 100), "-1", "70000", "-9223372036854775808", "9223372036854775807")
	zsmall := zset(keyspace.ZEntry{Member: "a", Score: 1.5}, keyspace.ZEntry{Member: "b", Score: -2},
		keyspace.ZEntry{Member: "c", Score: math.Inf(1)}, keyspace.ZEntry{Member: "d", Score: math.Inf(-1)},
		keyspace.ZEntry{Member: "e", Score: 0.1}, keyspace.ZEntry{Member: "42", Score: 1e-7})
	objs := []fileKey{
		{0, "str:int", str("12345")},
		{0, "str:neg", str("-70000")},
		{0, "str:bigint", str("9223372036854775807")},
		{0, "str:empty", str("")},
		{0, "str:embstr", str("hello world")},
		{0, "str:long", str(strings.Repeat("compressible ", 200))},
		{0, "str:random", str(string(randBytes(3000)))},
		{0, "\x00bin\xffkey\r\n", str("binary key")},
		{0, "", str("empty key")},
		{0, "list:small", list("a", "1", "-5", "", "9223372036854775807", "007")},
		{0, "list:big", list(seq("element-", 5000)...)},
		{0, "list:huge-elem", list("a", strings.Repeat("h", 20000), "b")},
		{0, "set:intset", set("1", "2", "-3", "32767", "70000")},
		{0, "set:intset64", set("1", "9223372036854775807", "-9223372036854775808")},
		{0, "set:strings", set("a", "b", "c", "01")},
		{0, "set:bigints", set(seq("", 600)...)},
		{0, "hash:small", hash("f", "v", "n", "12", "e", "", "-0", "-1")},
		{0, "hash:longval", hash("f", strings.Repeat("x", 65), "g", "1")},
		{0, "hash:big", hash(seq("f", 1100)...)},
		{0, "zset:small", zsmall},
		{0, "zset:big", bigZSet(300)},
		{0, "zset:longmember", zset(keyspace.ZEntry{Member: strings.Repeat("m", 65), Score: 2}, keyspace.ZEntry{Member: "s", Score: 3})},
		{3, "str:int", str("7")},
		{3, "list:ints", list(ints...)},
		{3, "set:mixed", set(seq("m", 50)...)},
		{3, "hash:small", hash("a", "1")},
		{3, "zset:small", zset(keyspace.ZEntry{Member: "x", Score: 10})},
	}
	if many {
		objs = append(objs, fileKey{15, "last", str("in db 15")})
	}
	// TTLs on about a third of the keys, at distinct absolute times.
	for i := range objs {
		if i%3 == 1 {
			objs[i].o.Expire = now + 3_600_000 + int64(i)*1000
		}
	}
	return objs
}

// writeFile writes keys (ordered by db) as an RDB file.
func writeFile(t testing.TB, keys []fileKey, opts FileOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	writeFileTo(t, &out, keys, opts)
	return out.Bytes()
}

// writeFileTo writes keys (ordered by db) as an RDB file to dst.
func writeFileTo(t testing.TB, dst io.Writer, keys []fileKey, opts FileOptions) {
	t.Helper()
	w, err := NewFileWriter(dst, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(keys); {
		db := keys[i].db
		j := i
		var expires uint64
		for j < len(keys) && keys[j].db == db {
			if keys[j].o.Expire != 0 {
				expires++
			}
			j++
		}
		if err := w.ResizeDB(db, uint64(j-i), expires); err != nil {
			t.Fatal(err)
		}
		// Chunks of a few keys, the first repeating SELECTDB as a
		// snapshot's partition chunks may.
		var chunk []byte
		chunk = AppendSelectDB(chunk, db)
		for k := i; k < j; k++ {
			chunk = AppendEntry(chunk, []byte(keys[k].key), keys[k].o, opts.Compress)
			if k%4 == 3 {
				if err := w.Write(chunk); err != nil {
					t.Fatal(err)
				}
				chunk = chunk[:0]
			}
		}
		if err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		i = j
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// loadAll loads a file from memory.
func loadAll(b []byte) ([]LoadedEntry, FileInfo, error) {
	var got []LoadedEntry
	info, err := Load(bufio.NewReader(bytes.NewReader(b)), func(e LoadedEntry) error {
		got = append(got, e)
		return nil
	})
	return got, info, err
}

func checkLoaded(t *testing.T, got []LoadedEntry, want []fileKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("loaded %d keys, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.DB != w.db || string(g.Key) != w.key {
			t.Errorf("key %d: db %d %q, want db %d %q", i, g.DB, g.Key, w.db, w.key)
			continue
		}
		if describe(g.Obj) != describe(w.o) {
			t.Errorf("%q: loaded %.200s\nwant %.200s", w.key, describe(g.Obj), describe(w.o))
		}
		if g.Obj.Expire != w.o.Expire {
			t.Errorf("%q: expire %d, want %d", w.key, g.Obj.Expire, w.o.Expire)
		}
	}
}

func TestFileRoundTrip(t *testing.T) {
	now := time.Now().UnixMilli()
	keys := fileFixture(now, true)
	sizes := map[bool]int{}
	for _, opts := range []FileOptions{
		{Compress: true, Checksum: true, UsedMem: 123456789012},
		{Compress: false, Checksum: false, AOFBase: true},
		{Compress: true, Checksum: false},
		{Compress: false, Checksum: true, UsedMem: 1},
	} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			b := writeFile(t, keys, opts)
			sizes[opts.Compress] = len(b)
			if !bytes.HasPrefix(b, []byte("REDIS0010")) {
				t.Fatalf("header %q", b[:9])
			}
			trailer := binary.LittleEndian.Uint64(b[len(b)-8:])
			if opts.Checksum && trailer != CRC64(0, b[:len(b)-8]) {
				t.Fatalf("trailer %x is not the file's CRC64", trailer)
			}
			if !opts.Checksum && trailer != 0 {
				t.Fatalf("checksum off but trailer %x", trailer)
			}
			// Uncompressed files hold long strings verbatim.
			if raw := bytes.Contains(b, []byte(strings.Repeat("compressible ", 200))); raw == opts.Compress {
				t.Fatalf("long string stored verbatim: %v with compression %v", raw, opts.Compress)
			}
			got, info, err := loadAll(b)
			if err != nil {
				t.Fatal(err)
			}
			checkLoaded(t, got, keys)
			aofBase := "0"
			if opts.AOFBase {
				aofBase = "1"
			}
			wantAux := map[string]string{"redis-ver": "7.0.15", "redis-bits": "64", "used-mem": strconv.FormatInt(opts.UsedMem, 10), "aof-base": aofBase}
			for k, v := range wantAux {
				if info.Aux[k] != v {
					t.Errorf("aux %s = %q, want %q", k, info.Aux[k], v)
				}
			}
			if ct, err := strconv.ParseInt(info.Aux["ctime"], 10, 64); err != nil || math.Abs(float64(ct-now/1000)) > 60 {
				t.Errorf("aux ctime %q", info.Aux["ctime"])
			}
			if info.Version != 10 || info.Keys != len(keys) {
				t.Errorf("info %+v", info)
			}
		})
	}
	if sizes[true] >= sizes[false] {
		t.Errorf("compressed file %d bytes, uncompressed %d", sizes[true], sizes[false])
	}
}

// The aux integers are written as Redis writes them (integer-encoded when
// they fit), so the header is byte-identical to Redis's apart from ctime.
func TestFileHeaderBytes(t *testing.T) {
	var out bytes.Buffer
	w, err := NewFileWriter(&out, FileOptions{Checksum: true, UsedMem: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	want := []byte("REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40\xfa\x05ctime\xc2")
	if !bytes.HasPrefix(b, want) {
		t.Fatalf("header\n%q\nwant prefix\n%q", b, want)
	}
	rest := b[len(want)+4:]
	wantRest := []byte("\xfa\x08used-mem\xc1\xe8\x03\xfa\x08aof-base\xc0\x00\xff")
	if !bytes.HasPrefix(rest, wantRest) || len(rest) != len(wantRest)+8 {
		t.Fatalf("after ctime %q, want %q + checksum", rest, wantRest)
	}
	got, info, err := loadAll(b)
	if err != nil || len(got) != 0 || info.Keys != 0 {
		t.Fatalf("empty file: %v %v", got, err)
	}
}

// Load consumes exactly the file: what follows (an AOF tail after an RDB
// preamble) is left in the reader, whatever the buffer size.
func TestLoadLeavesRest(t *testing.T) {
	keys := fileFixture(time.Now().UnixMilli(), false)
	file := writeFile(t, keys, FileOptions{Compress: true, Checksum: true})
	tail := "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
	for _, size := range []int{16, 100, 4096, 1 << 20} {
		r := bufio.NewReaderSize(bytes.NewReader(append(slices.Clone(file), tail...)), size)
		var got []LoadedEntry
		if _, err := Load(r, func(e LoadedEntry) error { got = append(got, e); return nil }); err != nil {
			t.Fatalf("buffer %d: %v", size, err)
		}
		checkLoaded(t, got, keys)
		rest, err := io.ReadAll(r)
		if err != nil || string(rest) != tail {
			t.Fatalf("buffer %d: rest %q, %v", size, rest, err)
		}
	}
}

func TestLoadChecksum(t *testing.T) {
	keys := []fileKey{{0, "k", str("a fairly long value without repeats 0123456789")}, {2, "h", hash("f", "v")}}
	file := writeFile(t, keys, FileOptions{Checksum: true})
	// A flipped byte inside a string value still parses: only the
	// checksum can tell.
	at := bytes.Index(file, []byte("fairly"))
	bad := slices.Clone(file)
	bad[at] ^= 0x20
	_, _, err := loadAll(bad)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("flipped value byte: %v", err)
	}
	sum := fmt.Sprintf("%016x", CRC64(0, bad[:len(bad)-8]))
	stored := fmt.Sprintf("%016x", binary.LittleEndian.Uint64(bad[len(bad)-8:]))
	if !strings.Contains(err.Error(), sum) || !strings.Contains(err.Error(), stored) || !strings.Contains(err.Error(), "offset") {
		t.Errorf("message should name both values and the offset: %v", err)
	}
	// A flipped trailer byte.
	bad = slices.Clone(file)
	bad[len(bad)-3] ^= 1
	if _, _, err := loadAll(bad); !errors.Is(err, ErrChecksum) {
		t.Fatalf("flipped trailer byte: %v", err)
	}
	// Every single-byte change is refused (corrupt or checksum), never
	// accepted and never a panic.
	for i := range file {
		for _, x := range []byte{0x01, 0x80, 0xFF} {
			bad := slices.Clone(file)
			bad[i] ^= x
			if _, _, err := loadAll(bad); err == nil {
				t.Fatalf("byte %d ^ %#x accepted", i, x)
			}
		}
	}
	// Without a checksum (zero trailer) nothing is verified, as Redis.
	off := writeFile(t, keys, FileOptions{Checksum: false})
	off[bytes.Index(off, []byte("fairly"))] ^= 0x20
	got, _, err := loadAll(off)
	if err != nil || len(got) != 2 || string(got[0].Obj.Str) != "a Fairly long value without repeats 0123456789" {
		t.Fatalf("unchecked file: %v", err)
	}
}

// Every truncation of a file is a clean error naming an offset.
func TestLoadTruncated(t *testing.T) {
	keys := []fileKey{
		{0, "s", str("value")}, {0, "i", str("100000")}, {0, "l", list("a", "b", "1")},
		{1, "z", bigZSet(3)}, {1, "h", hash(seq("f", 200)...)}, {1, "long", str(strings.Repeat("ab", 40))},
		{1, "set", set("x", "y")},
	}
	keys[1].o.Expire = 1 << 41
	file := writeFile(t, keys, FileOptions{Compress: true, Checksum: true})
	for n := 0; n < len(file); n++ {
		_, _, err := loadAll(file[:n])
		if err == nil {
			t.Fatalf("file cut at %d of %d accepted", n, len(file))
		}
		if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "rdb: offset ") {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
}

// rawFile builds a file by hand: header, body, EOF, and a valid checksum.
func rawFile(version int, body []byte) []byte {
	b := fmt.Appendf(nil, "REDIS%04d", version)
	b = append(b, body...)
	b = append(b, opEOF)
	if version >= 5 {
		b = binary.LittleEndian.AppendUint64(b, CRC64(0, b))
	}
	return b
}

func TestLoadOpcodes(t *testing.T) {
	// Older files: second expiries, IDLE/FREQ, aux, RESIZEDB, empty
	// collections (skipped as Redis does).
	var body []byte
	body = append(body, opAux)
	body = AppendString(AppendString(body, []byte("redis-ver")), []byte("6.2.0"))
	body = AppendSelectDB(body, 2)
	body = append(body, opResizeDB, 3, 1)
	body = append(body, opExpireSec)
	body = binary.LittleEndian.AppendUint32(body, 2_000_000_000)
	body = append(body, opIdle)
	body = AppendLength(body, 3600)
	body = append(body, TypeString)
	body = AppendString(AppendString(body, []byte("old")), []byte("v"))
	body = append(body, opFreq, 5, TypeSet)
	body = AppendString(body, []byte("empty"))
	body = AppendLength(body, 0)
	body = append(body, TypeList)
	body = AppendString(body, []byte("list"))
	body = AppendString(AppendLength(body, 1), []byte("x"))
	for _, version := range []int{4, 9, 11} {
		got, info, err := loadAll(rawFile(version, body))
		if err != nil {
			t.Fatalf("version %d: %v", version, err)
		}
		if info.Version != version || info.Keys != 2 || info.Aux["redis-ver"] != "6.2.0" || len(got) != 2 {
			t.Fatalf("version %d: info %+v, %d keys", version, info, len(got))
		}
		if got[0].DB != 2 || string(got[0].Key) != "old" || got[0].Obj.Expire != 2_000_000_000_000 {
			t.Errorf("first key %+v", got[0])
		}
		if idle := got[0].Obj.IdleSeconds(); idle < 3600 || idle > 3602 {
			t.Errorf("idle %d, want 3600", idle)
		}
		if string(got[1].Key) != "list" || got[1].Obj.Expire != 0 || got[1].Obj.IdleSeconds() > 2 {
			t.Errorf("expiry or idle time leaked to the next key: %+v", got[1].Obj)
		}
	}

	key := func(typ byte, name string, rest ...byte) []byte {
		return append(AppendString([]byte{typ}, []byte(name)), rest...)
	}
	for _, c := range []struct {
		name string
		file []byte
		is   error
		say  string
	}{
		{"module aux", rawFile(10, []byte{opModuleAux, 1, 2, 3}), ErrUnsupported, "MODULE_AUX"},
		{"function rc", rawFile(10, []byte{opFunction, 1, 2}), ErrUnsupported, "FUNCTION"},
		{"truncated stream", rawFile(10, key(TypeStreamListpacks2, "mystream", 1, 2)), ErrCorrupt, `key "mystream"`},
		{"truncated stream 7.2", rawFile(11, key(TypeStreamListpacks3, "s")), ErrCorrupt, `key "s"`},
		{"module", rawFile(10, key(TypeModule2, "m", 1)), ErrUnsupported, "module"},
		{"unknown type", rawFile(10, key(8, "k")), ErrCorrupt, "type 8"},
		{"unknown type 22", rawFile(10, key(22, "k")), ErrCorrupt, "type 22"},
		{"version 12", rawFile(12, nil), ErrUnsupported, "version 12"},
		{"version 0", rawFile(0, nil), ErrUnsupported, "version 0"},
		{"bad magic", []byte("REDIX0010\xff"), ErrCorrupt, "not an RDB file"},
		{"bad version", []byte("REDIS00a0\xff"), ErrCorrupt, "version"},
		{"empty", nil, ErrCorrupt, "offset 0"},
		{"huge db", rawFile(10, AppendSelectDB(nil, 1<<40)), ErrCorrupt, "SELECTDB"},
		{"corrupt value", rawFile(10, key(TypeHashListpack, "h", 2, 0, 0)), ErrCorrupt, `key "h"`},
		{"no EOF", []byte("REDIS0010"), ErrCorrupt, "offset 9"},
	} {
		_, _, err := loadAll(c.file)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s: %v (want %v mentioning %q)", c.name, err, c.is, c.say)
		}
	}
	// Function libraries (Redis 7.0's FUNCTION2 opcode) come back as code.
	lib := "#!lua name=l\nredis.register_function('f', function() return 1 end)"
	_, info, err := loadAll(rawFile(10, append([]byte{opFunction2}, AppendString(nil, []byte(lib))...)))
	if err != nil || len(info.Functions) != 1 || info.Functions[0] != lib {
		t.Errorf("function library: %q, %v", info.Functions, err)
	}
	// The offset is where the problem was found: the module key's type
	// byte is at 9, its key ends at 9+1+1+8.
	_, _, err = loadAll(rawFile(10, key(TypeModule2, "mystream")))
	if !strings.HasPrefix(fmt.Sprint(err), "rdb: offset 19:") {
		t.Errorf("offset: %v", err)
	}
}

// fn's error stops the load and is returned wrapped.
func TestLoadCallbackError(t *testing.T) {
	file := writeFile(t, fileFixture(time.Now().UnixMilli(), false), FileOptions{Checksum: true})
	stop := errors.New("duplicate key")
	n := 0
	info, err := Load(bufio.NewReader(bytes.NewReader(file)), func(e LoadedEntry) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || info.Keys != 2 {
		t.Fatalf("%v, %d keys", err, info.Keys)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestFileWriterErrors(t *testing.T) {
	if _, err := NewFileWriter(&failWriter{}, FileOptions{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("header write: %v", err)
	}
	fw := &failWriter{after: 1000}
	w, err := NewFileWriter(fw, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	big := AppendEntry(nil, []byte("k"), str(string(randBytes(fileBufSize))), false)
	if err := w.Write(big); err == nil {
		t.Fatal("write past the failure accepted")
	}
	if err := w.Write([]byte{1}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("the error is sticky: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failed write succeeded")
	}
	// Writing after Close is refused.
	w, _ = NewFileWriter(io.Discard, FileOptions{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte{1}); !errors.Is(err, errWriterClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// A chunk larger than the buffer goes straight through and is
// checksummed like the rest.
func TestFileWriterLargeChunks(t *testing.T) {
	keys := []fileKey{{0, "a", str("x")}, {0, "big", str(string(randBytes(3 * fileBufSize)))}, {0, "b", list(seq("e", 20000)...)}}
	b := writeFile(t, keys, FileOptions{Checksum: true})
	got, _, err := loadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	checkLoaded(t, got, keys)
}

// benchFile is a file of n keys shaped like a cache: mostly short strings,
// some with TTLs, and a few small hashes, lists and sets.
func benchFile(b *testing.B, n int) []byte {
	var out bytes.Buffer
	w, err := NewFileWriter(&out, FileOptions{Compress: true, Checksum: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := w.ResizeDB(0, uint64(n), uint64(n/4)); err != nil {
		b.Fatal(err)
	}
	small := []*keyspace.Object{hash("name", "x", "n", "1"), list("a", "b", "c"), set("1", "2", "3")}
	var chunk []byte
	for i := range n {
		var o *keyspace.Object
		if i%10 == 9 {
			o = small[i%3]
		} else {
			o = str("value:" + strconv.Itoa(i))
		}
		if i%4 == 0 {
			o.Expire = 1 << 42
		} else {
			o.Expire = 0
		}
		chunk = AppendEntry(chunk, []byte("key:"+strconv.Itoa(i)), o, true)
		if len(chunk) > 16<<10 {
			if err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
			chunk = chunk[:0]
		}
	}
	if err := w.Write(chunk); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

func BenchmarkLoad(b *testing.B) {
	const n = 1_000_000
	file := benchFile(b, n)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		keys := 0
		_, err := Load(bufio.NewReaderSize(bytes.NewReader(file), 64<<10), func(e LoadedEntry) error {
			keys++
			return nil
		})
		if err != nil || keys != n {
			b.Fatal(keys, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

func BenchmarkWrite(b *testing.B) {
	const n = 100_000
	objs := make([]*keyspace.Object, n)
	keys := make([][]byte, n)
	for i := range objs {
		objs[i] = str("value:" + strconv.Itoa(i))
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		w, _ := NewFileWriter(io.Discard, FileOptions{Compress: true, Checksum: true})
		var chunk []byte
		for i, o := range objs {
			chunk = AppendEntry(chunk[:0], keys[i], o, true)
			if err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkWriteCompressed writes 100-byte values with rdbcompression on:
// every value goes through LZF.
func BenchmarkWriteCompressed(b *testing.B) {
	const n = 10_000
	objs := make([]*keyspace.Object, n)
	for i := range objs {
		objs[i] = str(strings.Repeat("value:"+strconv.Itoa(i)+" ", 20)[:100])
	}
	b.ReportAllocs()
	for b.Loop() {
		w, _ := NewFileWriter(io.Discard, FileOptions{Compress: true, Checksum: true})
		var chunk []byte
		for i, o := range objs {
			chunk = AppendEntry(chunk[:0], []byte("key:"+strconv.Itoa(i)), o, true)
			if err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// The replication position is written where Redis 7 writes it (after
// used-mem, before aof-base) and read back.
func TestFileReplInfo(t *testing.T) {
	var out bytes.Buffer
	repl := ReplInfo{ID: strings.Repeat("ab", 20), Offset: 123456789, StreamDB: 3}
	w, err := NewFileWriter(&out, FileOptions{Checksum: true, UsedMem: 1000, Repl: &repl})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	want := []byte("\xfa\x08used-mem\xc1\xe8\x03" +
		"\xfa\x0erepl-stream-db\xc0\x03" +
		"\xfa\x07repl-id\x28" + repl.ID +
		"\xfa\x0brepl-offset\xc2\x15\xcd\x5b\x07" +
		"\xfa\x08aof-base\xc0\x00\xff")
	if !bytes.Contains(b, want) {
		t.Fatalf("file\n%q\nlacks\n%q", b, want)
	}
	_, info, err := loadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := ReplInfoFromAux(info.Aux)
	if !ok || got != repl {
		t.Fatalf("ReplInfoFromAux = %+v %v, want %+v", got, ok, repl)
	}
}

func TestReplInfoFromAux(t *testing.T) {
	id := strings.Repeat("0f", 20)
	for _, tc := range []struct {
		name string
		aux  map[string]string
		want ReplInfo
		ok   bool
	}{
		{"all", map[string]string{"repl-id": id, "repl-offset": "42", "repl-stream-db": "2"}, ReplInfo{ID: id, Offset: 42, StreamDB: 2}, true},
		{"no stream db", map[string]string{"repl-id": id, "repl-offset": "0"}, ReplInfo{ID: id}, true},
		{"none", map[string]string{"redis-ver": "7.0.15"}, ReplInfo{}, false},
		{"short id", map[string]string{"repl-id": "abc", "repl-offset": "1"}, ReplInfo{}, false},
		{"no offset", map[string]string{"repl-id": id}, ReplInfo{}, false},
		{"negative offset", map[string]string{"repl-id": id, "repl-offset": "-1"}, ReplInfo{}, false},
		{"bad db", map[string]string{"repl-id": id, "repl-offset": "1", "repl-stream-db": "x"}, ReplInfo{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ReplInfoFromAux(tc.aux)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
