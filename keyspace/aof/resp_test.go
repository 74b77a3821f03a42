package aof

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/wardenkv/warden/keyspace"
)

// parseAll decodes RESP commands with the loader's parser.
func parseAll(t *testing.T, b []byte) [][]string {
	t.Helper()
	p := newParser(bytes.NewReader(b), int64(len(b)))
	var out [][]string
	for {
		argv, err := p.next(false)
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("parse: %v", err)
			}
			return out
		}
		var c []string
		for _, a := range argv {
			c = append(c, string(a))
		}
		out = append(out, c)
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(AppendCommand([]byte("x"), []byte("SET"), []byte("k"), []byte("")))
	if got != "x*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n" {
		t.Fatalf("%q", got)
	}
	if got := string(AppendSelect(nil, 12)); got != "*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n" {
		t.Fatalf("%q", got)
	}
}

func TestAppendEntryCommands(t *testing.T) {
	l := keyspace.NewList()
	for i := 0; i < 130; i++ {
		l.PushBack([]byte(fmt.Sprint("e", i)))
	}
	s := keyspace.Set{}
	for i := 0; i < 65; i++ {
		s[fmt.Sprint(i)] = struct{}{}
	}
	h := keyspace.NewHash(0)
	for i := 0; i < 64; i++ {
		h.Set([]byte(fmt.Sprint("f", i)), []byte(fmt.Sprint(i)))
	}
	z := keyspace.NewZSet()
	z.Add("a", 1.5)
	z.Add("b", math.Inf(-1))
	z.Add("c", 0.1)
	z.Add("d", math.Inf(1))
	cases := []struct {
		o      *keyspace.Object
		expire int64
		sizes  []int // args per command
		cmd    string
	}{
		{&keyspace.Object{Type: keyspace.TString, Str: []byte("v\r\n")}, 0, []int{3}, "SET"},
		{&keyspace.Object{Type: keyspace.TList, Val: l}, 1700000000123, []int{66, 66, 4, 3}, "RPUSH"},
		{&keyspace.Object{Type: keyspace.TSet, Val: s}, 0, []int{66, 3}, "SADD"},
		{&keyspace.Object{Type: keyspace.THash, Val: h}, 0, []int{130}, "HSET"},
		{&keyspace.Object{Type: keyspace.TZSet, Val: z}, 0, []int{10}, "ZADD"},
		{&keyspace.Object{Type: keyspace.TList, Val: keyspace.NewList()}, 5, nil, ""},
	}
	for _, c := range cases {
		c.o.Expire = c.expire
		cmds := parseAll(t, AppendEntryCommands(nil, []byte("key"), c.o))
		var sizes []int
		for i, cmd := range cmds {
			sizes = append(sizes, len(cmd))
			if cmd[1] != "key" {
				t.Fatalf("%s: command %d is on %q", c.cmd, i, cmd[1])
			}
			if i < len(cmds)-1 || c.expire == 0 {
				if cmd[0] != c.cmd {
					t.Fatalf("%s: command %q", c.cmd, cmd[0])
				}
			} else if cmd[0] != "PEXPIREAT" || cmd[2] != fmt.Sprint(c.expire) {
				t.Fatalf("%s: last command %q", c.cmd, cmd)
			}
		}
		if fmt.Sprint(sizes) != fmt.Sprint(c.sizes) {
			t.Fatalf("%s: command sizes %v, want %v", c.cmd, sizes, c.sizes)
		}
		if c.cmd == "ZADD" {
			if got := strings.Join(cmds[0][2:], " "); got != "-inf b 0.1 c 1.5 a inf d" {
				t.Fatalf("ZADD args %q", got)
			}
		}
		if c.cmd == "RPUSH" && (cmds[0][2] != "e0" || cmds[2][3] != "e129") {
			t.Fatalf("list order: %q ... %q", cmds[0][2], cmds[2])
		}
	}
}
