package slotmove

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
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

// A reserved place holds the stream: what follows it (a write to the big
// key it copies, say) reaches the target only after the copy is filled in.
func TestReservedChunkKeepsOrder(t *testing.T) {
	s := New(nil, Config{Target: "test"})
	near, far := net.Pipe()
	defer near.Close()
	defer far.Close()
	s.Snapshot(0, 1, []byte("*1\r\n$5\r\nfirst\r\n"))
	fill := s.Reserve(0)
	s.Write(0, []byte("*1\r\n$5\r\nafter\r\n"))
	go s.send(near)
	got := make(chan string, 16)
	go func() {
		r := bufio.NewReader(far)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			if !strings.HasPrefix(line, "*") && !strings.HasPrefix(line, "$") {
				got <- strings.TrimSpace(line)
			}
		}
	}()
	if v := <-got; v != "first" {
		t.Fatalf("first command %q", v)
	}
	select {
	case v := <-got:
		t.Fatalf("%q sent before the reserved copy was filled", v)
	case <-time.After(200 * time.Millisecond):
	}
	fill([]byte("*1\r\n$4\r\nbig1\r\n*1\r\n$4\r\nbig2\r\n"))
	for _, want := range []string{"big1", "big2", "after"} {
		select {
		case v := <-got:
			if v != want {
				t.Fatalf("got %q, want %q", v, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%q never arrived", want)
		}
	}
	if k := s.keys.Load(); k != 2 {
		t.Fatalf("keys counted %d, want 2", k)
	}
	s.fail(errors.New("done"))
}
