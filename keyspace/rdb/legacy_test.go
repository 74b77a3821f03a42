package rdb

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenkv/warden/keyspace"
)

// Builders for the encodings Redis 7.0 still loads but no longer writes,
// following ziplist.c, zipmap.c and the pre-7 rdb.c. The interop test checks
// them against a real Redis, which validates them deeply on RESTORE.

func buildZiplist(vals []string) []byte {
	b := make([]byte, 10)
	prevLen, tail := 0, 10
	for _, v := range vals {
		tail = len(b)
		start := len(b)
		if prevLen < 254 {
			b = append(b, byte(prevLen))
		} else {
			b = append(b, 0xFE)
			b = binary.LittleEndian.AppendUint32(b, uint32(prevLen))
		}
		if n, ok := parseCanonicalInt([]byte(v)); ok {
			switch {
			case n >= 0 && n <= 12:
				b = append(b, 0xF1+byte(n))
			case n >= math.MinInt8 && n <= math.MaxInt8:
				b = append(b, 0xFE, byte(n))
			case n >= math.MinInt16 && n <= math.MaxInt16:
				b = binary.LittleEndian.AppendUint16(append(b, 0xC0), uint16(n))
			case n >= -1<<23 && n < 1<<23:
				b = append(b, 0xF0, byte(n), byte(n>>8), byte(n>>16))
			case n >= math.MinInt32 && n <= math.MaxInt32:
				b = binary.LittleEndian.AppendUint32(append(b, 0xD0), uint32(n))
			default:
				b = binary.LittleEndian.AppendUint64(append(b, 0xE0), uint64(n))
			}
		} else {
			switch l := len(v); {
			case l <= 63:
				b = append(b, byte(l))
			case l <= 16383:
				b = append(b, 0x40|byte(l>>8), byte(l))
			default:
				b = binary.BigEndian.AppendUint32(append(b, 0x80), uint32(l))
			}
			b = append(b, v...)
		}
		prevLen = len(b) - start
	}
	b = append(b, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(tail))
	binary.LittleEndian.PutUint16(b[8:], uint16(min(len(vals), 65535)))
	return b
}

func buildZipmap(kv []string) []byte {
	n := len(kv) / 2
	b := []byte{byte(min(n, 254))}
	appendLen := func(l int) {
		if l < 254 {
			b = append(b, byte(l))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, 254), uint32(l))
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		appendLen(len(kv[i]))
		b = append(b, kv[i]...)
		appendLen(len(kv[i+1]))
		b = append(b, 0) // free
		b = append(b, kv[i+1]...)
	}
	return append(b, 0xFF)
}

func buildListpack(vals []string) []byte {
	var w listpackWriter
	for _, v := range vals {
		w.add([]byte(v))
	}
	return w.finish()
}

func textDouble(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte{254}
	case math.IsInf(f, -1):
		return []byte{255}
	}
	s := strconv.FormatFloat(f, 'g', 17, 64)
	return append([]byte{byte(len(s))}, s...)
}

type legacyCase struct {
	name string
	typ  byte
	body []byte
	want *keyspace.Object
}

func legacyPayloads() []legacyCase {
	listVals := []string{"a", "0", "12", "13", "-1", "200", "-200", "40000", "9000000", "-9000000", "3000000000", "x" + strings.Repeat("y", 300), "", "007"}
	var cases []legacyCase
	add := func(name string, typ byte, body []byte, want *keyspace.Object) {
		cases = append(cases, legacyCase{name, typ, body, want})
	}
	add("ziplist list", TypeListZiplist, AppendString(nil, buildZiplist(listVals)), list(listVals...))

	// Quicklist (v1): nodes of ziplists.
	ql := AppendLength(nil, 2)
	ql = AppendString(ql, buildZiplist(listVals[:5]))
	ql = AppendString(ql, buildZiplist(listVals[5:]))
	add("quicklist", TypeListQuicklist, ql, list(listVals...))

	// Quicklist 2 with a plain node.
	ql2 := AppendLength(nil, 3)
	ql2 = AppendString(AppendLength(ql2, quicklistNodePacked), buildListpack(listVals[:3]))
	ql2 = AppendString(AppendLength(ql2, quicklistNodePlain), []byte("plain element"))
	ql2 = AppendString(AppendLength(ql2, quicklistNodePacked), buildListpack(listVals[3:]))
	add("quicklist2 with plain node", TypeListQuicklist2, ql2, list(append(append(append([]string{}, listVals[:3]...), "plain element"), listVals[3:]...)...))

	// Plain list (1).
	pl := AppendLength(nil, uint64(len(listVals)))
	for _, v := range listVals {
		pl = AppendString(pl, []byte(v))
	}
	add("plain list", TypeList, pl, list(listVals...))

	hashKV := []string{"f1", "v1", "num", "12345", "neg", "-7", "empty", "", "long", strings.Repeat("L", 300)}
	add("zipmap hash", TypeHashZipmap, AppendString(nil, buildZipmap(hashKV)), hash(hashKV...))
	add("ziplist hash", TypeHashZiplist, AppendString(nil, buildZiplist(hashKV)), hash(hashKV...))
	add("listpack hash", TypeHashListpack, AppendString(nil, buildListpack(hashKV)), hash(hashKV...))

	zs := []keyspace.ZEntry{{Member: "a", Score: -2.5}, {Member: "b", Score: 0}, {Member: "c", Score: 1}, {Member: "100", Score: 3e10}, {Member: "d", Score: math.Inf(1)}}
	var zl []string
	for _, e := range zs {
		zl = append(zl, e.Member, zsetScoreTestString(e.Score))
	}
	add("ziplist zset", TypeZSetZiplist, AppendString(nil, buildZiplist(zl)), zset(zs...))
	add("listpack zset", TypeZSetListpack, AppendString(nil, buildListpack(zl)), zset(zs...))
	z1 := AppendLength(nil, uint64(len(zs)))
	for _, e := range zs {
		z1 = append(AppendString(z1, []byte(e.Member)), textDouble(e.Score)...)
	}
	add("text-score zset", TypeZSet, z1, zset(zs...))

	ints := []string{"-5", "1", "2", "300"}
	is := binary.LittleEndian.AppendUint32(nil, 2)
	is = binary.LittleEndian.AppendUint32(is, uint32(len(ints)))
	for _, v := range ints {
		n, _ := strconv.Atoi(v)
		is = binary.LittleEndian.AppendUint16(is, uint16(n))
	}
	add("intset", TypeSetIntset, AppendString(nil, is), set(ints...))
	is64 := binary.LittleEndian.AppendUint32(nil, 8)
	is64 = binary.LittleEndian.AppendUint32(is64, 2)
	is64 = binary.LittleEndian.AppendUint64(is64, uint64(1<<62))
	is64 = binary.LittleEndian.AppendUint64(is64, uint64(1<<63-1))
	add("intset 64", TypeSetIntset, AppendString(nil, is64), set(strconv.Itoa(1<<62), strconv.Itoa(1<<63-1)))
	return cases
}

func zsetScoreTestString(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func TestLegacyEncodings(t *testing.T) {
	for _, c := range legacyPayloads() {
		got, err := ParsePayload(payload(c.typ, c.body, 9))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if describe(got) != describe(c.want) {
			t.Errorf("%s:\n got %.300s\nwant %.300s", c.name, describe(got), describe(c.want))
		}
	}
	// Optional SET_LISTPACK (Redis 7.2).
	got, err := ParsePayload(payload(TypeSetListpack, AppendString(nil, buildListpack([]string{"a", "1", "b"})), 11))
	if err != nil || describe(got) != describe(set("a", "1", "b")) {
		t.Errorf("set listpack: %v %v", err, got)
	}
}

// TestIntsetDuplicateIsCorrupt: an intset blob that repeats a member is
// refused as corrupt, small (loaded as an IntSet) or past
// set-max-intset-entries (loaded as a hash set).
func TestIntsetDuplicateIsCorrupt(t *testing.T) {
	for _, n := range []int{3, keyspace.IntSetMax + 10} {
		is := binary.LittleEndian.AppendUint32(nil, 2)
		is = binary.LittleEndian.AppendUint32(is, uint32(n))
		for i := range n - 1 {
			is = binary.LittleEndian.AppendUint16(is, uint16(i))
		}
		is = binary.LittleEndian.AppendUint16(is, 0) // the first again
		_, err := DecodeValue(bytes.NewReader(AppendString(nil, is)), TypeSetIntset)
		if err == nil || !strings.Contains(err.Error(), "duplicate set member") {
			t.Errorf("%d members with a duplicate: %v", n, err)
		}
		o, err := DecodeValue(bytes.NewReader(AppendString(nil, is[:len(is)-2])), TypeSetIntset)
		if err == nil {
			t.Errorf("%d members, one short of the header's count: loaded %d", n, o.Len())
		}
	}
}
