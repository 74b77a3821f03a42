package slowlog

import (
	"strings"
	"testing"
	"time"
)

func TestShorten(t *testing.T) {
	var argv [][]byte
	for range 40 {
		argv = append(argv, []byte("x"))
	}
	argv[1] = []byte(strings.Repeat("a", 130))
	got := Shorten(argv)
	if len(got) != 32 || string(got[31]) != "... (9 more arguments)" {
		t.Fatalf("%d args, last %q", len(got), got[len(got)-1])
	}
	if want := strings.Repeat("a", 128) + "... (2 more bytes)"; string(got[1]) != want {
		t.Fatalf("long arg %q", got[1])
	}
	if got := Shorten(argv[:32]); len(got) != 32 || string(got[31]) != "x" {
		t.Fatalf("32 args shortened: %q", got[31])
	}
}

func TestAddTrimReset(t *testing.T) {
	var l Log
	now := time.Unix(1000, 0)
	for i := range 5 {
		l.Add([][]byte{[]byte("cmd")}, time.Duration(i)*time.Microsecond, "1.2.3.4:5", "", now, 3)
	}
	es := l.Get(10)
	if len(es) != 3 || es[0].ID != 4 || es[2].ID != 2 || es[0].Duration != 4 {
		t.Fatalf("entries %+v", es)
	}
	l.Reset()
	l.Add(nil, 0, "", "", now, 3)
	if es := l.Get(1); l.Len() != 1 || es[0].ID != 5 {
		t.Fatalf("after reset %+v", es)
	}
}
