package slotmove

import (
	"bufio"
	"strings"
	"testing"
)

// readReply must find the ack markers in a stream of any replies, count
// only top-level errors as the stream's, and never read past a reply.
func TestReadReply(t *testing.T) {
	in := "+OK\r\n:12\r\n$25\r\nwarden-slotmove-ack:42abc\r\n$-1\r\n" +
		"*3\r\n+OK\r\n-ERR inside exec\r\n*1\r\n$3\r\nfoo\r\n" +
		"$24\r\nwarden-slotmove-ack:1234\r\n-MOVED 1 x:1\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	want := []struct {
		v     string
		isErr bool
	}{{"OK", false}, {"12", false}, {"warden-slotmove-ack:42abc", false}, {"", false}, {"", false},
		{"warden-slotmove-ack:1234", false}, {"MOVED 1 x:1", true}}
	for i, w := range want {
		v, isErr, err := readReply(r, 0)
		if err != nil || v != w.v || isErr != w.isErr {
			t.Fatalf("reply %d = %q %v %v, want %q %v", i, v, isErr, err, w.v, w.isErr)
		}
	}
	if _, _, err := readReply(r, 0); err == nil {
		t.Fatal("read past the end")
	}
	for _, bad := range []string{"?x\r\n", "$zz\r\n", "*q\r\n", "$5\r\nab"} {
		if _, _, err := readReply(bufio.NewReader(strings.NewReader(bad)), 0); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
