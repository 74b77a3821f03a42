package node

import (
	"sort"
	"strings"
	"testing"
)

// TestGetKeysAndFlagsSideBySide asks COMMAND GETKEYS and GETKEYSANDFLAGS
// about every argument vector of multiCases (each registered command with
// realistic and wrong arguments) on warden and Redis 7.0: keys, key flags
// and errors must be the same.
func TestGetKeysAndFlagsSideBySide(t *testing.T) {
	p := newPair(t)
	var names []string
	for name := range multiCases {
		names = append(names, name)
	}
	sort.Strings(names)
	extra := [][]string{
		{"SET", "k", "v"}, {"SET", "k", "v", "GET"}, {"SET", "k", "v", "NX", "get"}, {"SET", "k", "v", "getx"},
		{"BITFIELD", "k", "GET", "u8", "0"}, {"BITFIELD", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1"},
		{"BITFIELD", "k", "GET", "u8"}, {"BITFIELD", "k", "OVERFLOW", "SAT"}, {"BITFIELD", "k"},
		{"SORT", "k", "BY", "x", "STORE", "d"}, {"SORT", "k", "store", "d", "GET", "#"},
		{"GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d", "STOREDIST", "e"},
		{"GEORADIUSBYMEMBER", "k", "m", "1", "km", "STOREDIST", "e"},
		{"ZUNIONSTORE", "d", "2", "a", "b"}, {"LMPOP", "2", "a", "b", "LEFT"}, {"XREAD", "STREAMS", "a", "b", "0", "0"},
		{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", "0", "0"}, {"LMOVE", "a", "b", "LEFT", "RIGHT"},
		{"SMOVE", "a", "b", "m"}, {"RENAME", "a", "b"}, {"COPY", "a", "b"}, {"MSET", "a", "1", "b", "2"},
		{"EVAL", "s", "2", "a", "b"}, {"FCALL", "f", "1", "a"}, {"SINTERCARD", "2", "a", "b"}, {"ZDIFFSTORE", "d", "2", "a", "b"},
	}
	check := func(argv []string) {
		for _, sub := range []string{"GETKEYSANDFLAGS", "GETKEYS"} {
			args := append([]string{"COMMAND", sub}, argv...)
			got, want := p.w.mustDo(t, args...), p.r.mustDo(t, args...)
			if got.String() != want.String() {
				t.Errorf("%s:\n warden %.300s\n redis  %.300s", strings.Join(args, " "), got, want)
			}
		}
	}
	for _, name := range names {
		for _, argv := range multiCases[name] {
			if multiRedisLacks[strings.Join(argv, " ")] {
				continue // a command newer than Redis 7.0
			}
			check(argv)
		}
	}
	for _, argv := range extra {
		check(argv)
	}
}

// docsCanonical renders a COMMAND DOCS entry (RESP2: flat key/value
// arrays) with subcommands sorted by name (Redis lists them in its dict's
// random order), keeping those keep accepts.
func docsCanonical(v respVal, keep func(string) bool) string {
	var parts []string
	for i := 0; i+1 < len(v.Elems); i += 2 {
		k, val := v.Elems[i].Str, v.Elems[i+1]
		switch k {
		case "subcommands":
			var subs []string
			for j := 0; j+1 < len(val.Elems); j += 2 {
				if keep(val.Elems[j].Str) {
					subs = append(subs, val.Elems[j].Str+"="+docsCanonical(val.Elems[j+1], keep))
				}
			}
			sort.Strings(subs)
			parts = append(parts, k+"=["+strings.Join(subs, " ")+"]")
			continue
		}
		parts = append(parts, k+"="+val.String())
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// TestCommandDocsSideBySide compares COMMAND DOCS of every command Redis
// 7.0 has (with its subcommands) between warden and Redis: summary, since,
// group, complexity, history, deprecation, doc flags, argument trees and
// subcommands. Commands and subcommands warden lacks are logged.
func TestCommandDocsSideBySide(t *testing.T) {
	p := newPair(t)
	names := p.r.mustDo(t, "COMMAND", "LIST")
	if len(names.Elems) < 200 {
		t.Fatalf("COMMAND LIST on Redis: %d names", len(names.Elems))
	}
	var missing []string
	for _, n := range names.Elems {
		got, want := p.w.mustDo(t, "COMMAND", "DOCS", n.Str), p.r.mustDo(t, "COMMAND", "DOCS", n.Str)
		if len(got.Elems) == 0 {
			missing = append(missing, n.Str) // not implemented in warden: listed, not compared
			continue
		}
		if len(got.Elems) != 2 || len(want.Elems) != 2 || got.Elems[0].Str != want.Elems[0].Str {
			t.Errorf("COMMAND DOCS %s: warden %.300s redis %.300s", n.Str, got, want)
			continue
		}
		// Subcommands one of them lacks are listed below, not compared.
		has := func(name string) bool {
			return len(p.w.mustDo(t, "COMMAND", "DOCS", name).Elems) > 0 && len(p.r.mustDo(t, "COMMAND", "DOCS", name).Elems) > 0
		}
		if g, w := docsCanonical(got.Elems[1], has), docsCanonical(want.Elems[1], has); g != w {
			t.Errorf("COMMAND DOCS %s:\n warden %.600s\n redis  %.600s", n.Str, g, w)
		}
	}
	t.Logf("commands warden does not have (%d): %s", len(missing), strings.Join(missing, " "))
}
