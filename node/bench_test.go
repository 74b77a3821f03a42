package node

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/node/config"
)

// benchConn is a redcon.Conn that discards replies, so benchmarks measure
// dispatch and keyspace work without the network.
type benchConn struct {
	w   *redcon.Writer
	ctx any
}

func (b *benchConn) RemoteAddr() string                 { return "127.0.0.1:1" }
func (b *benchConn) Close() error                       { return nil }
func (b *benchConn) WriteError(msg string)              { b.w.WriteError(msg) }
func (b *benchConn) WriteString(str string)             { b.w.WriteString(str) }
func (b *benchConn) WriteBulk(bulk []byte)              { b.w.WriteBulk(bulk) }
func (b *benchConn) WriteBulkString(bulk string)        { b.w.WriteBulkString(bulk) }
func (b *benchConn) WriteInt(num int)                   { b.w.WriteInt(num) }
func (b *benchConn) WriteInt64(num int64)               { b.w.WriteInt64(num) }
func (b *benchConn) WriteUint64(num uint64)             { b.w.WriteUint64(num) }
func (b *benchConn) WriteArray(count int)               { b.w.WriteArray(count) }
func (b *benchConn) WriteNull()                         { b.w.WriteNull() }
func (b *benchConn) WriteRaw(data []byte)               { b.w.WriteRaw(data) }
func (b *benchConn) WriteAny(any any)                   { b.w.WriteAny(any) }
func (b *benchConn) Context() any                       { return b.ctx }
func (b *benchConn) SetContext(v any)                   { b.ctx = v }
func (b *benchConn) SetReadBuffer(bytes int)            {}
func (b *benchConn) Detach() redcon.DetachedConn        { return nil }
func (b *benchConn) ReadPipeline() []redcon.Command     { return nil }
func (b *benchConn) PeekPipeline() []redcon.Command     { return nil }
func (b *benchConn) NetConn() net.Conn                  { return nil }
func (b *benchConn) WriteBulkFrom(n int64, r io.Reader) {}

func benchServer(b *testing.B) (*Server, *Client) {
	cfg := config.New()
	cfg.Set("dir", b.TempDir(), false)
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	conn := &benchConn{w: redcon.NewWriter(io.Discard)}
	cl := &Client{ID: 1, conn: conn, proto: 2, authed: true, killed: make(chan struct{})}
	cl.ctx = Ctx{s: s, cl: cl, conn: conn}
	return s, cl
}

func benchCommand(b *testing.B, name string, gen func(i int) [][]byte) {
	s, cl := benchServer(b)
	w := cl.conn.(*benchConn).w
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
