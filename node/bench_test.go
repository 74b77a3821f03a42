package node

import (
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/wardenkv/warden/node/config"
)

func benchServer(b *testing.B) (*Server, *Client) {
	cfg := config.New()
	cfg.Set("dir", b.TempDir(), false)
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	conn := newNullConn()
	cl := &Client{ID: 1, conn: conn, proto: 2, authed: true, killed: make(chan struct{})}
	cl.ctx = Ctx{s: s, cl: cl, conn: conn}
	return s, cl
}

func benchCommand(b *testing.B, name string, gen func(i int) [][]byte) {
	s, cl := benchServer(b)
	w := cl.conn.(*nullConn).w
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.call(cl, gen(i))
		if i%64 == 0 {
			w.Flush()
		}
	}
}

func keyArg(i int) []byte { return strconv.AppendInt([]byte("key:"), int64(i&0xffff), 10) }

func BenchmarkDispatchSet(b *testing.B) {
	val := []byte("xxx")
	args := make([][]byte, 3)
	benchCommand(b, "set", func(i int) [][]byte {
		args[0], args[1], args[2] = []byte("SET"), keyArg(i), val
		return args
	})
}

func BenchmarkDispatchGet(b *testing.B) {
	args := make([][]byte, 2)
	benchCommand(b, "get", func(i int) [][]byte {
		args[0], args[1] = []byte("GET"), keyArg(i)
		return args
	})
}

func BenchmarkDispatchIncr(b *testing.B) {
	args := make([][]byte, 2)
	benchCommand(b, "incr", func(i int) [][]byte {
		args[0], args[1] = []byte("INCR"), keyArg(i)
		return args
	})
}

func BenchmarkDispatchLPushRPop(b *testing.B) {
	args := make([][]byte, 3)
	benchCommand(b, "lpush", func(i int) [][]byte {
		if i%2 == 0 {
			args = append(args[:0], []byte("LPUSH"), []byte("list"), []byte("xxx"))
		} else {
			args = append(args[:0], []byte("RPOP"), []byte("list"))
		}
		return args
	})
}

func BenchmarkDispatchZAdd(b *testing.B) {
	args := make([][]byte, 4)
	benchCommand(b, "zadd", func(i int) [][]byte {
		args[0], args[1], args[2], args[3] = []byte("ZADD"), []byte("zset"), strconv.AppendInt(nil, int64(i%1000), 10), keyArg(i)
		return args
	})
}

func BenchmarkDispatchMSet(b *testing.B) {
	args := make([][]byte, 21)
	val := []byte("xxx")
	keys := make([][]byte, 1<<12)
	for i := range keys {
		keys[i] = keyArg(i)
	}
	benchCommand(b, "mset", func(i int) [][]byte {
		args[0] = []byte("MSET")
		for k := 0; k < 10; k++ {
			args[1+2*k], args[2+2*k] = keys[(i*10+k)&(len(keys)-1)], val
		}
		return args
	})
}

// BenchmarkDispatchEvalsha is bench/evalsha.sh's script through dispatch.
func BenchmarkDispatchEvalsha(b *testing.B) {
	const script = "redis.call('incr', KEYS[1]); redis.call('set', KEYS[1] .. ':v', ARGV[1]); return redis.call('get', KEYS[1])"
	s, cl := benchServer(b)
	s.call(cl, [][]byte{[]byte("SCRIPT"), []byte("LOAD"), []byte(script)})
	sha := []byte(scriptSHA(script))
	args := make([][]byte, 5)
	w := cl.conn.(*nullConn).w
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		args[0], args[1], args[2], args[3], args[4] = []byte("EVALSHA"), sha, []byte("1"), keyArg(i), []byte("value")
		s.call(cl, args)
		if i%64 == 0 {
			w.Flush()
		}
	}
	if e := cl.conn.(*nullConn).lastErr; e != "" {
		b.Fatal(e)
	}
}

func BenchmarkDispatchXAdd(b *testing.B) {
	args := [][]byte{[]byte("XADD"), []byte("stream"), []byte("*"), []byte("field"), []byte("value")}
	benchCommand(b, "xadd", func(int) [][]byte { return args })
}

func BenchmarkDispatchXReadGroup(b *testing.B) {
	add := [][]byte{[]byte("XADD"), []byte("rg"), []byte("*"), []byte("field"), []byte("value")}
	read := [][]byte{[]byte("XREADGROUP"), []byte("GROUP"), []byte("g"), []byte("c"), []byte("COUNT"), []byte("1"), []byte("STREAMS"), []byte("rg"), []byte(">")}
	n := 0
	benchCommand(b, "xreadgroup", func(i int) [][]byte {
		if n == 0 {
			n++
			return [][]byte{[]byte("XGROUP"), []byte("CREATE"), []byte("rg"), []byte("g"), []byte("$"), []byte("MKSTREAM")}
		}
		if i%2 == 0 {
			return add
		}
		return read
	})
}
