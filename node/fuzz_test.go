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
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("malformed line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', ':', ',', '#', '_', '(':
		return nil
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return fmt.Errorf("bad bulk length %q", line)
		}
		if n == -1 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return err
		}
		if !bytes.HasSuffix(buf, []byte("\r\n")) {
			return fmt.Errorf("bulk not terminated by CRLF")
		}
		return nil
	case '*', '~', '>', '%':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return fmt.Errorf("bad aggregate length %q", line)
		}
		if line[0] == '%' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := readReply(r); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q", line)
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
// connection for long, or change the connection's mode.
var fuzzSkip = map[string]bool{
	"shutdown": true, "debug": true, "quit": true, "subscribe": true, "psubscribe": true,
	"ssubscribe": true, "monitor": true, "client": true, "sync": true, "psync": true,
	"replicaof": true, "slaveof": true, "wait": true, "blpop": true, "brpop": true,
	"blmove": true, "brpoplpush": true, "blmpop": true, "bzpopmin": true, "bzpopmax": true,
	"bzmpop": true, "hello": true, "reset": true, "save": true, "bgsave": true,
	"bgrewriteaof": true, "failover": true, "cluster": true,
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
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(encodeCommand(args)); err != nil {
			t.Fatalf("write %q: %v", args, err)
		}
		if err := readReply(r); err != nil {
			t.Fatalf("reply to %q: %v", args, err)
		}
		if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		if err != nil || (line != "+PONG\r\n" && !strings.HasPrefix(line, "*")) {
			// In MULTI, PING is QUEUED; that is fine too.
			if line != "+QUEUED\r\n" {
				t.Fatalf("server unhealthy after %q: %q %v", args, line, err)
			}
		}
		if strings.HasPrefix(line, "*") {
			t.Fatalf("unexpected aggregate for PING after %q", args)
		}
	})
}
