package node

import (
	"math"
	"strconv"
)

// Reply helpers: handlers write through these so RESP2 and RESP3 (HELLO 3)
// clients each get the types they expect.

// Redis's own error texts; clients match on them.
const (
	errSyntax      = "ERR syntax error"
	errWrongType   = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errNotInt      = "ERR value is not an integer or out of range"
	errNotFloat    = "ERR value is not a valid float"
	errOverflow    = "ERR increment or decrement would overflow"
	errNoSuchKey   = "ERR no such key"
	errDBIndex     = "ERR DB index is out of range"
	errNoAuth      = "NOAUTH Authentication required."
	errTimeout     = "ERR timeout is not a float or out of range"
	errNegTimeout  = "ERR timeout is negative"
	errNotPositive = "ERR value is out of range, must be positive"
)

func (c *Ctx) resp3() bool { return c.cl.proto == 3 }

// OK writes +OK.
func (c *Ctx) OK() { c.conn.WriteString("OK") }

// Status writes a simple string.
func (c *Ctx) Status(s string) { c.conn.WriteString(s) }

// Err writes an error; msg starts with its code (ERR, WRONGTYPE, ...).
func (c *Ctx) Err(msg string) {
	c.failed = true
	c.s.stats.countError(msg)
	c.conn.WriteError(msg)
}

// Int writes an integer.
func (c *Ctx) Int(n int64) { c.conn.WriteInt64(n) }

// Bulk writes a bulk string.
func (c *Ctx) Bulk(b []byte) { c.conn.WriteBulk(b) }

// BulkString writes a bulk string.
func (c *Ctx) BulkString(s string) { c.conn.WriteBulkString(s) }

// Null writes a null bulk string (RESP3 null).
func (c *Ctx) Null() {
	if c.resp3() {
		c.conn.WriteRaw([]byte("_\r\n"))
		return
	}
	c.conn.WriteNull()
}

// NullArray writes a null array (RESP3 null).
func (c *Ctx) NullArray() {
	if c.resp3() {
		c.conn.WriteRaw([]byte("_\r\n"))
		return
	}
	c.conn.WriteRaw([]byte("*-1\r\n"))
}

// Array writes an array header of n elements.
func (c *Ctx) Array(n int) { c.conn.WriteArray(n) }

// Map writes a map header of n pairs (a flat array of 2n in RESP2).
func (c *Ctx) Map(n int) {
	if c.resp3() {
		c.conn.WriteRaw([]byte("%" + strconv.Itoa(n) + "\r\n"))
		return
	}
	c.conn.WriteArray(2 * n)
}

// SetHeader writes a set header (an array in RESP2).
func (c *Ctx) SetHeader(n int) {
	if c.resp3() {
		c.conn.WriteRaw([]byte("~" + strconv.Itoa(n) + "\r\n"))
		return
	}
	c.conn.WriteArray(n)
}

// Double writes a float (a bulk string in RESP2), formatted as Redis 7.0
// formats doubles.
func (c *Ctx) Double(f float64) {
	var buf [40]byte
	if c.resp3() {
		b := appendDouble(append(buf[:0], ','), f)
		c.conn.WriteRaw(append(b, '\r', '\n'))
		return
	}
	c.conn.WriteBulk(appendDouble(buf[:0], f))
}

// Bool writes a boolean (an integer 1/0 in RESP2).
func (c *Ctx) Bool(b bool) {
	if c.resp3() {
		if b {
			c.conn.WriteRaw([]byte("#t\r\n"))
		} else {
			c.conn.WriteRaw([]byte("#f\r\n"))
		}
		return
	}
	if b {
		c.conn.WriteInt(1)
	} else {
		c.conn.WriteInt(0)
	}
}

// Verbatim writes a verbatim string (a bulk string in RESP2), used by INFO.
func (c *Ctx) Verbatim(s string) {
	if c.resp3() {
		c.conn.WriteRaw([]byte("=" + strconv.Itoa(len(s)+4) + "\r\ntxt:" + s + "\r\n"))
		return
	}
	c.conn.WriteBulkString(s)
}

// BulkStrings writes an array of bulk strings.
func (c *Ctx) BulkStrings(ss []string) {
	c.conn.WriteArray(len(ss))
	for _, s := range ss {
		c.conn.WriteBulkString(s)
	}
}

// Bulks writes an array of bulk byte strings (nil elements as nulls).
func (c *Ctx) Bulks(bs [][]byte) {
	c.conn.WriteArray(len(bs))
	for _, b := range bs {
		if b == nil {
			c.Null()
		} else {
			c.conn.WriteBulk(b)
		}
	}
}

// appendDouble formats f as Redis 7.0 replies with doubles: C's "%.17g"
// (1.1 is "1.1000000000000001", 3.0 is "3") and inf/-inf.
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// FormatFloat is appendDouble as a string.
func FormatFloat(f float64) string { return string(appendDouble(nil, f)) }
