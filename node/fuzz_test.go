package node

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readReply reads one RESP2/RESP3 reply and fails on anything malformed.
func readReply(r *bufio.Reader) error {
	_, err := readRaw(r, nil)
	return err
}

// readRaw reads one reply, appending its raw bytes to dst.
func readRaw(r *bufio.Reader, dst []byte) ([]byte, error) {
	line, err := r.ReadString('\n')
	dst = append(dst, line...)
	if err != nil {
		return dst, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return dst, fmt.Errorf("malformed line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', ',', '#', '_', '(':
		return dst, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return dst, fmt.Errorf("bad bulk length %q", line)
		}
		if n == -1 {
			return dst, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return dst, err
		}
		dst = append(dst, buf...)
		if !bytes.HasSuffix(buf, []byte("\r\n")) {
			return dst, fmt.Errorf("bulk not terminated by CRLF")
		}
		return dst, nil
	case '*', '~', '>', '%':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return dst, fmt.Errorf("bad aggregate length %q", line)
		}
		if line[0] == '%' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if dst, err = readRaw(r, dst); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	return dst, fmt.Errorf("unknown reply type %q", line)
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Commands the fuzzer must not send: they stop the server, block the
// connection for long, change the connection's mode, or (the unsubscribe
// family, as in Redis) answer with one frame per argument.
var fuzzSkip = map[string]bool{
	"unsubscribe": true, "punsubscribe": true, "sunsubscribe": true,
	"shutdown": true, "debug": true, "quit": true, "subscribe": true, "psubscribe": true,
	"ssubscribe": true, "monitor": true, "client": true, "sync": true, "psync": true,
	"replicaof": true, "slaveof": true, "wait": true, "blpop": true, "brpop": true,
	"blmove": true, "brpoplpush": true, "blmpop": true, "bzpopmin": true, "bzpopmax": true,
	"bzmpop": true, "hello": true, "reset": true, "save": true, "bgsave": true,
	"bgrewriteaof": true, "failover": true, "cluster": true, "replconf": true,
}

func encodeCommand(args []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

// FuzzCommands sends random argument vectors for real command names and
// checks that every reply is well-formed and the server keeps answering.
func FuzzCommands(f *testing.F) {
	s, addr := startServer(f)
	names := make([]string, 0, len(s.cmds))
	for _, c := range s.sortedCommands() {
		if !fuzzSkip[c.Name] {
			names = append(names, c.Name)
		}
	}
	seeds := []string{
		"set\x00k\x00v", "get\x00k", "lpush\x00l\x00a\x00b", "lrange\x00l\x00-100\x00100",
		"zadd\x00z\x00nan\x00m", "zrangebyscore\x00z\x00(1\x00+inf\x00limit\x000\x00-1",
		"incrbyfloat\x00k\x001e308", "setrange\x00k\x00536870912\x00x", "hincrby\x00h\x00f\x009223372036854775807",
		"sintercard\x00-5\x00a", "object\x00encoding\x00k", "restore\x00k\x000\x00garbage",
		"bitpos\x00k\x001\x002\x00-1\x00bit", "multi", "exec", "scan\x00999999999999", "expire\x00k\x009223372036854775807",
		"xadd\x00x\x00maxlen\x00~\x001\x00*\x00f\x00v", "xgroup\x00create\x00x\x00g\x00$\x00mkstream",
		"xreadgroup\x00group\x00g\x00c\x00count\x001\x00streams\x00x\x00>", "xautoclaim\x00x\x00g\x00c\x000\x00-",
		"xinfo\x00stream\x00x\x00full", "xclaim\x00x\x00g\x00c\x000\x000-1\x00force",
	}
	for _, sd := range seeds {
		f.Add(sd)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		f.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\x00")
		if len(args) == 0 || len(args) > 64 {
			return
		}
		name := strings.ToLower(args[0])
		if fuzzSkip[name] {
			return
		}
		if s.cmds[name] == nil && len(names) > 0 && len(args[0]) > 0 {
			// Map arbitrary bytes to a real command so the fuzzer explores handlers.
			args[0] = names[int(args[0][0])%len(names)]
			if fuzzSkip[args[0]] {
				return
			}
		}
		if n := strings.ToLower(args[0]); n == "xread" || n == "xreadgroup" {
			// BLOCK could wait forever; the rest of the parsing is fuzzed.
			for i, a := range args {
				if strings.EqualFold(a, "block") {
					args[i] = "COUNT"
				}
			}
		}
		// Each command must produce exactly one well-formed reply: an ECHO
		// marker sent behind it must come back as the very next reply
		// (or be QUEUED inside MULTI).
		marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(append(encodeCommand(args), encodeCommand([]string{"ECHO", marker})...)); err != nil {
			t.Fatalf("write %q: %v", args, err)
		}
		first, err := readRaw(r, nil)
		if err != nil {
			t.Fatalf("reply to %q: %v (%q)", args, err, first)
		}
		if string(first) == fmt.Sprintf("$%d\r\n%s\r\n", len(marker), marker) {
			t.Fatalf("%q produced no reply", args)
		}
		second, err := readRaw(r, nil)
		if err != nil {
			t.Fatalf("reading the marker after %q: %v", args, err)
		}
		if string(second) != fmt.Sprintf("$%d\r\n%s\r\n", len(marker), marker) && string(second) != "+QUEUED\r\n" {
			t.Fatalf("%q produced more than one reply: first %q, then %q", args, first, second)
		}
	})
}
