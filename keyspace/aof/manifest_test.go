package aof

import (
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	// As Redis 7.0 writes it, plus a comment and CRLF line ends.
	m, err := parseManifest([]byte("# comment\nfile appendonly.aof.2.base.rdb seq 2 type b\r\n" +
		"file appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n" +
		"FILE \"appendonly.aof.3.incr.aof\" SEQ 3 TYPE i future value\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.base == nil || m.base.name != "appendonly.aof.2.base.rdb" || m.baseSeq != 2 || len(m.hist) != 1 ||
		len(m.incr) != 2 || m.incr[1].name != "appendonly.aof.3.incr.aof" || m.incrSeq != 3 {
		t.Fatalf("parsed %+v", m)
	}
	for _, bad := range []string{
		"",
		"\n",
		"file a seq 1 type i",       // no final newline
		"file a seq 1\n",            // too few fields
		"file a seq 1 type i x\n",   // odd count
		"file a seq 0 type i\n",     // seq 0
		"file a seq 1 type x\n",     // unknown type
		"file dir/a seq 1 type i\n", // a path
		"file a seq 1 type b\nfile b seq 2 type b\n",                                 // two bases
		"file a seq 2 type i\nfile b seq 2 type i\n",                                 // not monotonic
		"file \"a seq 1 type i\n",                                                    // unbalanced quote
		"file a seq 1 type i\nfile " + strings.Repeat("x", 1100) + " seq 2 type i\n", // too long
	} {
		if _, err := parseManifest([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestManifestFormatRoundTrip(t *testing.T) {
	m := &manifest{
		base: &fileInfo{name: "my aof\t\"x\"\x01.1.base.rdb", seq: 1, typ: typeBase},
		hist: []fileInfo{{name: "h.aof", seq: 7, typ: typeHist}},
		incr: []fileInfo{{name: "a.1.incr.aof", seq: 1, typ: typeIncr}, {name: "a\nb.2.incr.aof", seq: 2, typ: typeIncr}},
	}
	text := m.format()
	if !strings.HasPrefix(string(text), `file "my aof\t\"x\"\x01.1.base.rdb" seq 1 type b`+"\n") {
		t.Fatalf("formatted %q", text)
	}
	back, err := parseManifest(text)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.format()) != string(text) || back.base.name != m.base.name || back.incr[1].name != m.incr[1].name {
		t.Fatalf("round trip %q -> %q", text, back.format())
	}
}

func TestSplitArgs(t *testing.T) {
	cases := map[string][]string{
		`a b  c`:             {"a", "b", "c"},
		`"x y" 'z w'`:        {"x y", "z w"},
		`"\x41\n\\" 'it\'s'`: {"A\n\\", "it's"},
		`""`:                 {""},
		"  trailing   ":      {"trailing"},
		`"\x4g"`:             {"x4g"},
	}
	for in, want := range cases {
		got, err := splitArgs(in)
		if err != nil || !equalStrings(got, want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"abc`, `"a"b`, `'a'b`, `'abc`} {
		if _, err := splitArgs(bad); err == nil {
			t.Errorf("splitArgs(%q) accepted", bad)
		}
	}
}
