package node

import (
	"io"
	"net"

	"github.com/tidwall/redcon"
)

// nullConn is a redcon.Conn without a network connection: replies are
// encoded and dropped. AOF replay runs commands through it (and benchmarks
// measure dispatch with it).
type nullConn struct {
	w       *redcon.Writer
	ctx     any
	lastErr string // the last error reply, for callers that check
	writes  int
}

func newNullConn() *nullConn { return &nullConn{w: redcon.NewWriter(io.Discard)} }

func (b *nullConn) RemoteAddr() string          { return "internal" }
func (b *nullConn) Close() error                { return nil }
func (b *nullConn) WriteError(msg string)       { b.lastErr = msg; b.w.WriteError(msg); b.drain() }
func (b *nullConn) WriteString(str string)      { b.w.WriteString(str); b.drain() }
func (b *nullConn) WriteBulk(bulk []byte)       { b.w.WriteBulk(bulk); b.drain() }
func (b *nullConn) WriteBulkString(bulk string) { b.w.WriteBulkString(bulk); b.drain() }
func (b *nullConn) WriteInt(num int)            { b.w.WriteInt(num); b.drain() }
func (b *nullConn) WriteInt64(num int64)        { b.w.WriteInt64(num); b.drain() }
func (b *nullConn) WriteUint64(num uint64)      { b.w.WriteUint64(num); b.drain() }
func (b *nullConn) WriteArray(count int)        { b.w.WriteArray(count); b.drain() }
func (b *nullConn) WriteNull()                  { b.w.WriteNull(); b.drain() }
func (b *nullConn) WriteRaw(data []byte)        { b.w.WriteRaw(data); b.drain() }
func (b *nullConn) WriteAny(v any)              { b.w.WriteAny(v); b.drain() }
func (b *nullConn) Context() any                { return b.ctx }
func (b *nullConn) SetContext(v any)            { b.ctx = v }
func (b *nullConn) SetReadBuffer(int)           {}
func (b *nullConn) Detach() redcon.DetachedConn { return nil }
func (b *nullConn) ReadPipeline() []redcon.Command {
	return nil
}
func (b *nullConn) PeekPipeline() []redcon.Command { return nil }
func (b *nullConn) NetConn() net.Conn              { return nil }
func (b *nullConn) WriteBulkFrom(int64, io.Reader) {}

// drain drops encoded replies now and then, keeping memory flat.
func (b *nullConn) drain() {
	if b.writes++; b.writes%256 == 0 {
		b.w.Flush()
	}
}
