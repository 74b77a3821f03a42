package node

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// clientFields picks CLIENT LIST fields that must equal Redis's, per line.
func clientFields(list string) []string {
	keep := map[string]bool{"flags": true, "db": true, "sub": true, "psub": true, "ssub": true, "multi": true,
		"qbuf": true, "argv-mem": true, "cmd": true, "resp": true, "omem": true, "obl": true, "oll": true}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		var fs []string
		for _, f := range strings.Fields(line) {
			if k, _, _ := strings.Cut(f, "="); keep[k] {
				fs = append(fs, f)
			}
		}
		out = append(out, strings.Join(fs, " "))
	}
	return out
}

// TestClientListFieldsSideBySide puts clients in MULTI (two queued), in
// pub/sub (two channels, one pattern) and after a SET, then compares
// CLIENT LIST's flags, multi, sub, psub, cmd, qbuf and argv-mem with Redis
// 7.0's for the same clients.
func TestClientListFieldsSideBySide(t *testing.T) {
	p := newPair(t)
	var lists [2]string
	for i, c := range []*respClient{p.w, p.r} {
		addr := c.c.RemoteAddr().String()
		var others []*respClient
		for _, script := range [][][]string{
			{{"multi"}, {"set", "a", "1"}, {"get", "a"}},
			{{"psubscribe", "p*"}, {"subscribe", "a", "b"}},
			{{"set", "x", strings.Repeat("y", 1000)}},
		} {
			o := dialResp(t, addr)
			others = append(others, o)
			for _, args := range script {
				o.c.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := o.c.Write(respCommand(args...)); err != nil {
					t.Fatal(err)
				}
				n := 1
				if args[0] == "subscribe" {
					n = 2
				}
				for range n {
					if _, err := readResp(o.r); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		lists[i] = c.mustDo(t, "client", "list").Str
		// The caller's own line is the last (highest id).
		for _, o := range others {
			o.close()
		}
	}
	g, w := clientFields(lists[0]), clientFields(lists[1])
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("CLIENT LIST fields:\nwarden\n%s\nredis\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	if len(g) != 4 {
		t.Errorf("%d clients listed: %v", len(g), g)
	}
}

// TestClientListQbufOfAnUploadInProgress: a client halfway through sending
// a large argument shows those bytes as qbuf in another client's CLIENT
// LIST (and in its tot-mem), as in Redis; once the command is whole and
// has run, qbuf is 0 again.
func TestClientListQbufOfAnUploadInProgress(t *testing.T) {
	_, addr := startServer(t)
	up := dialResp(t, addr)
	const size, sent = 1 << 20, 600_000
	head := "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + strconv.Itoa(size) + "\r\n"
	if _, err := up.c.Write([]byte(head + strings.Repeat("x", sent))); err != nil {
		t.Fatal(err)
	}
	watcher := dialResp(t, addr)
	field := func(line, name string) int64 {
		for _, f := range strings.Fields(line) {
			if k, v, _ := strings.Cut(f, "="); k == name {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return -1
	}
	uploader := func() string {
		for _, line := range strings.Split(watcher.mustDo(t, "client", "list").Str, "\n") {
			if strings.Contains(line, "addr="+up.c.LocalAddr().String()) {
				return line
			}
		}
		return ""
	}
	waitFor(t, func() bool { return field(uploader(), "qbuf") >= sent }, "the uploader's qbuf to hold what it sent")
	if line := uploader(); field(line, "tot-mem") < sent {
		t.Fatalf("tot-mem below the held input: %s", line)
	}
	if _, err := up.c.Write([]byte(strings.Repeat("x", size-sent) + "\r\n")); err != nil {
		t.Fatal(err)
	}
	if v, err := readResp(up.r); err != nil || v.String() != "+OK" {
		t.Fatalf("SET after the upload: %v %v", v, err)
	}
	waitFor(t, func() bool { return field(uploader(), "qbuf") == 0 }, "qbuf back to 0 after the command ran")
}
