package redcon

// warden: the command reader is rewritten after Redis 7.0's
// processMultibulkBuffer / processInlineBuffer (networking.c) so that what a
// client declares never costs more than what it sends:
//
//   - a partial multibulk command is parsed once: the parse state (arguments
//     still expected, the bulk length awaited, the argument marks) survives
//     between reads instead of the whole command being rescanned, and the
//     declared argument count is never looped over or preallocated;
//   - lines are bounded (64 KB inline requests and count lines), the unread
//     input is bounded (client-query-buffer-limit), and unauthenticated
//     clients get Redis's smaller limits (10 arguments, 16 KB bulks);
//   - errors, numbers and the inline splitting follow Redis's texts and rules
//     (string2ll, sdssplitargs; "*0" and "*-1" are ignored).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
)

const (
	// inlineMax is Redis's PROTO_INLINE_MAX_SIZE: the longest inline request
	// and the longest multibulk count or bulk length line.
	inlineMax = 64 << 10
	// Redis's limits while a client that must authenticate has not.
	unauthMaxArgs = 10
	unauthMaxBulk = 16 << 10
	// initialBuf is a connection's read buffer; a buffer that grew past
	// keepBuf is released when the connection goes idle.
	initialBuf = 4096
	keepBuf    = 64 << 10
	// readMax bounds how far the read size adapts (Reader.rsize): Redis
	// reads 16 KB at a time (PROTO_IOBUF_LEN).
	readMax = 16 << 10
	// smallReads: see Reader.rsize.
	smallReads = 64
	// markCost is what one argument mark (an int; two per argument) counts
	// when a command's input is measured against the query buffer limit.
	markCost = 8
)

var (
	errTooBigInline          = &errProtocol{"too big inline request"}
	errTooBigMbulkCount      = &errProtocol{"too big mbulk count string"}
	errTooBigBulkCount       = &errProtocol{"too big bulk count string"}
	errUnauthMultiBulkLength = &errProtocol{"unauthenticated multibulk length"}
	errUnauthBulkLength      = &errProtocol{"unauthenticated bulk length"}
)

// ErrQueryBufferLimit is matched (errors.Is) by the error a connection ends
// with when its unprocessed input passed client-query-buffer-limit. As
// Redis, the client gets no reply: the connection is closed. (warden
// addition.)
var ErrQueryBufferLimit = errors.New("reached max query buffer length")

// QueryBufferError is that error: Len is the unprocessed input held, Head
// its first bytes (Redis logs them as "qbuf initial bytes").
type QueryBufferError struct {
	Len  int64
	Head []byte
}

func (e *QueryBufferError) Error() string {
	return fmt.Sprintf("%v: %d bytes, initial bytes %q", ErrQueryBufferLimit, e.Len, e.Head)
}

// Is makes errors.Is(err, ErrQueryBufferLimit) true.
func (e *QueryBufferError) Is(target error) bool { return target == ErrQueryBufferLimit }

// IsProtocolError reports whether err is a protocol error (the client was
// sent "-ERR Protocol error: ..." and disconnected). (warden addition.)
func IsProtocolError(err error) bool {
	var pe *errProtocol
	return errors.As(err, &pe)
}

// queryBufLimit bounds the unprocessed input of one connection (Redis's
// client-query-buffer-limit). (warden addition.)
var queryBufLimit atomic.Int64

func init() { queryBufLimit.Store(1 << 30) }

// SetQueryBufferLimit sets client-query-buffer-limit. (warden addition.)
func SetQueryBufferLimit(n int64) { queryBufLimit.Store(n) }

// SetAuthenticated tells c's reader whether its client has authenticated.
// Until it has (false), the reader applies Redis's limits for clients that
// must authenticate first (a multibulk above 10 arguments is "Protocol
// error: unauthenticated multibulk length", a bulk above 16 KB
// "unauthenticated bulk length") and parses one command per batch, so a
// pipelined AUTH lifts the limits for the commands after it. Connections
// start authenticated: a listener with a password calls SetAuthenticated(c,
// false) when it accepts c, and SetAuthenticated(c, true) once AUTH
// succeeds. It must be called from c's handler (or accept) callback.
// (warden addition.)
func SetAuthenticated(c Conn, ok bool) {
	switch c := c.(type) {
	case *conn:
		c.rd.setAuthRequired(!ok)
	case *detachedConn:
		c.rd.setAuthRequired(!ok)
	}
}

func (rd *Reader) setAuthRequired(required bool) {
	if rd.authRequired == required {
		return
	}
	rd.authRequired = required
	// A command already begun (or refused) after the one that changed it
	// (RESET in a pipeline) is parsed again from its start under the new
	// limits, as Redis parses it only after running the previous command.
	rd.left, rd.bulk, rd.pos, rd.scan, rd.need = 0, -1, 0, 0, 0
	rd.marks = rd.marks[:0]
	rd.err = nil
}

// Reader represent a reader for RESP or telnet commands.
type Reader struct {
	rd    *bufio.Reader
	buf   []byte
	start int
	end   int
	cmds  []Command

	// warden: with zeroCopy a batch's commands reference the read buffer
	// and share reused slices instead of being copied one by one; they are
	// valid until the next read, which the server loop only starts after
	// the whole batch was handled.
	zeroCopy bool
	batch    []Command
	arena    [][]byte

	// warden: the state of the partial command at buf[start:], offsets
	// relative to start. left is the number of arguments still expected
	// (0: no multibulk command begun), bulk the length of the argument
	// being read (-1: its length line is next), pos where parsing resumes,
	// marks the [from, to) offsets of the arguments read so far, scan
	// where the search for the end of the current line resumes and need
	// the bytes the command needs at least (0 when unknown).
	left  int
	bulk  int
	pos   int
	marks []int
	scan  int
	need  int

	// warden: rsize is the buffer size reads start from: it doubles (to
	// readMax) when a read fills the buffer, so a client's next pipeline
	// arrives in one read and its replies leave in one write, and halves
	// after smallReads reads that used a quarter of it or less.
	rsize int
	small int

	authRequired bool  // see SetAuthenticated
	err          error // a protocol error met after the commands returned with it

	// warden: the unparsed input held and the buffer's size, published
	// after each read for other goroutines (CLIENT LIST's qbuf of another
	// client, QueryBuffer).
	held, size atomic.Int64
}

// QueryBuffer reports the input c's reader holds that is not yet a whole
// command, and its buffer's size, as of its last read: what Redis's
// CLIENT LIST shows as qbuf and qbuf + qbuf-free. Safe from any goroutine.
// (warden addition.)
func QueryBuffer(c Conn) (held, size int64) {
	var rd *Reader
	switch c := c.(type) {
	case *conn:
		rd = c.rd
	case *detachedConn:
		rd = c.rd
	}
	if rd == nil {
		return 0, 0
	}
	return rd.held.Load(), rd.size.Load()
}

// publish makes the buffer's state visible to QueryBuffer.
func (rd *Reader) publish() {
	rd.held.Store(int64(rd.end - rd.start))
	rd.size.Store(int64(len(rd.buf)))
}

// NewReader returns a command reader which will read RESP or telnet commands.
func NewReader(rd io.Reader) *Reader {
	return &Reader{
		rd:    bufio.NewReader(rd),
		buf:   make([]byte, initialBuf),
		bulk:  -1,
		rsize: initialBuf,
	}
}

// string2ll parses a decimal integer as Redis's string2ll does: no sign but
// '-', no leading zeros or spaces, at most 20 characters, within int64.
func string2ll(b []byte) (int64, bool) {
	if len(b) > 0 && len(b) <= 18 && '1' <= b[0] && b[0] <= '9' {
		// The common case: positive, and too short to overflow.
		v := int64(b[0] - '0')
		for _, c := range b[1:] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // -(1<<63) wraps to itself: MinInt64
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// shortLine finds the '\r' of a short line starting at from in b, with the
// byte after it present; -1 otherwise (then line decides). RESP length
// lines are a few bytes: a loop beats the call to bytes.IndexByte.
func shortLine(b []byte, from int) int {
	for i, e := from, min(len(b)-1, from+24); i < e; i++ {
		if b[i] == '\r' {
			return i
		}
	}
	return -1
}

// line finds the '\r' ending the line that starts at from in b, searching
// at most inlineMax+1 bytes; Redis then needs one more byte (the '\n',
// which it does not check). It returns the index of '\r', -1 while the line
// is incomplete and -2 when it is longer than Redis allows.
func (rd *Reader) line(b []byte, from int) int {
	lim := min(len(b), from+inlineMax+1)
	s := max(from, rd.scan)
	if s < lim {
		if i := bytes.IndexByte(b[s:lim], '\r'); i >= 0 {
			if s+i+1 >= len(b) {
				rd.scan = s + i
				return -1
			}
			return s + i
		}
	}
	rd.scan = lim
	if len(b)-from > inlineMax {
		return -2
	}
	return -1
}

// parseMultibulk continues the multibulk command at the front of b. It
// returns the bytes the command took when it is complete (its arguments in
// rd.marks), 0 while it is incomplete, and ignored for an empty command
// ("*0", "*-1": Redis reads and ignores them). The state lives in locals
// while parsing and goes back to rd when the command is incomplete.
func (rd *Reader) parseMultibulk(b []byte) (n int, ignored bool, err error) {
	pos, left, bulk, marks := rd.pos, rd.left, rd.bulk, rd.marks
	if left == 0 {
		nl := shortLine(b, 1)
		if nl < 0 {
			switch nl = rd.line(b, 1); nl {
			case -1:
				return 0, false, nil
			case -2:
				return 0, false, errTooBigMbulkCount
			}
		}
		count, ok := string2ll(b[1:nl])
		if !ok || count > math.MaxInt32 {
			return 0, false, errInvalidMultiBulkLength
		}
		if count > unauthMaxArgs && rd.authRequired {
			return 0, false, errUnauthMultiBulkLength
		}
		pos = nl + 2
		if count <= 0 {
			return pos, true, nil
		}
		left, bulk, marks = int(count), -1, marks[:0]
	}
	limit := queryBufLimit.Load()
	for left > 0 {
		if bulk < 0 {
			nl := shortLine(b, pos)
			if nl < 0 {
				switch nl = rd.line(b, pos); nl {
				case -1:
					rd.pos, rd.left, rd.bulk, rd.marks, rd.need = pos, left, bulk, marks, 0
					return 0, false, nil
				case -2:
					return 0, false, errTooBigBulkCount
				}
			}
			if b[pos] != '$' {
				return 0, false, &errProtocol{"expected '$', got '" + string(b[pos]) + "'"}
			}
			size, ok := string2ll(b[pos+1 : nl])
			if !ok || size < 0 || size > maxBulkLen.Load() {
				return 0, false, errInvalidBulkLength
			}
			if size > unauthMaxBulk && rd.authRequired {
				return 0, false, errUnauthBulkLength
			}
			bulk, pos = int(size), nl+2
		}
		// Like Redis, the two bytes after the argument (its "\r\n") are
		// skipped unchecked.
		if len(b)-pos < bulk+2 {
			rd.pos, rd.left, rd.bulk, rd.marks, rd.need = pos, left, bulk, marks, pos+bulk+2
			return 0, false, nil
		}
		marks = append(marks, pos, pos+bulk)
		pos += bulk + 2
		bulk = -1
		left--
		// Many small arguments cost more in marks than in bytes: count
		// both, so the marks cannot outgrow the limit either.
		if held := int64(pos) + int64(len(marks))*markCost; held > limit {
			rd.marks = marks
			return 0, false, rd.queryBufferError(held)
		}
	}
	rd.marks = marks
	return pos, false, nil
}

// parseInline reads the inline command at the front of b: its length (0
// while its line is incomplete) and arguments (none for a blank line).
func (rd *Reader) parseInline(b []byte) (n int, args [][]byte, err error) {
	lim := min(len(b), inlineMax+1)
	s := rd.scan
	i := -1
	if s < lim {
		if i = bytes.IndexByte(b[s:lim], '\n'); i >= 0 {
			i += s
		}
	}
	if i < 0 {
		rd.scan = lim
		if len(b) > inlineMax {
			return 0, nil, errTooBigInline
		}
		return 0, nil, nil
	}
	line := b[:i]
	if i > 0 && b[i-1] == '\r' {
		line = b[:i-1]
	}
	args, ok := splitArgs(line)
	if !ok {
		return 0, nil, errUnbalancedQuotes
	}
	return i + 1, args, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// splitArgs splits an inline request as Redis's sdssplitargs does: blanks
// separate arguments; "double quotes" take \n \r \t \b \a \xHH and \<any>
// escapes, 'single quotes' only \'; a closing quote must be followed by a
// blank or the end; a quote inside a word opens a quoted part. Redis works
// on a C string, so a NUL byte ends the line. The arguments share one
// allocation.
func splitArgs(line []byte) ([][]byte, bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	at := func(p int) byte {
		if p < len(line) {
			return line[p]
		}
		return 0
	}
	var args [][]byte
	out := make([]byte, 0, len(line)) // arguments never outgrow the line
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return args, true
		}
		from := len(out)
		inq, insq := false, false
		for done := false; !done; {
			c := at(p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					out = append(out, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch e := line[p]; e {
					case 'n':
						out = append(out, '\n')
					case 'r':
						out = append(out, '\r')
					case 't':
						out = append(out, '\t')
					case 'b':
						out = append(out, '\b')
					case 'a':
						out = append(out, '\a')
					default:
						out = append(out, e)
					}
				case c == '"':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false // unterminated
				default:
					out = append(out, c)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					out = append(out, '\'')
				case c == '\'':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					out = append(out, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					out = append(out, c)
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		args = append(args, out[from:len(out):len(out)])
	}
}

// parse takes the complete commands at buf[start:end] onto cmds. It stops
// after the first one while the client must authenticate, so a pipelined
// AUTH is run before the rest is parsed under the limits.
func (rd *Reader) parse(cmds []Command) ([]Command, error) {
	for rd.start < rd.end {
		if rd.authRequired && len(cmds) > 0 {
			break
		}
		b := rd.buf[rd.start:rd.end]
		if b[0] != '*' {
			n, args, err := rd.parseInline(b)
			if err != nil || n == 0 {
				return cmds, err
			}
			if len(args) > 0 {
				// convert this to resp command syntax
				var wr Writer
				wr.WriteArray(len(args))
				for _, a := range args {
					wr.WriteBulk(a)
				}
				cmds = append(cmds, Command{Raw: wr.b, Args: args})
			}
			rd.consumed(n)
			continue
		}
		n, ignored, err := rd.parseMultibulk(b)
		if err != nil || n == 0 {
			return cmds, err
		}
		if !ignored {
			cmds = rd.appendCommand(cmds, b[:n])
		}
		rd.consumed(n)
	}
	return cmds, nil
}

// consumed drops the n bytes of the command just parsed and resets the
// partial-command state.
func (rd *Reader) consumed(n int) {
	rd.start += n
	rd.left, rd.bulk, rd.pos, rd.scan, rd.need = 0, -1, 0, 0, 0
	rd.marks = rd.marks[:0]
}

// appendCommand appends the complete multibulk command raw, its arguments
// at rd.marks, to cmds.
func (rd *Reader) appendCommand(cmds []Command, raw []byte) []Command {
	marks := rd.marks
	n := len(marks) / 2
	var args [][]byte
	if rd.zeroCopy {
		if cap(rd.arena)-len(rd.arena) < n {
			rd.arena = make([][]byte, 0, max(n, 2*cap(rd.arena), 64))
		}
		l := len(rd.arena)
		args = rd.arena[l : l+n : l+n]
		rd.arena = rd.arena[:l+n]
	} else {
		if rd.rd != nil {
			// make a raw copy of the entire command when
			// there's a underlying reader.
			raw = append([]byte(nil), raw...)
		}
		args = make([][]byte, n)
	}
	for i := range args {
		args[i] = raw[marks[2*i]:marks[2*i+1]]
	}
	return append(cmds, Command{Raw: raw, Args: args})
}

func (rd *Reader) queryBufferError(held int64) error {
	return &QueryBufferError{Len: held, Head: append([]byte(nil), rd.buf[rd.start:min(rd.end, rd.start+64)]...)}
}

// fill reads more input, making room first: the partial command moves to
// the front of the buffer, and only a full buffer grows (doubling, or to
// what the awaited argument needs when that is less), never past the query
// buffer limit.
func (rd *Reader) fill() error {
	limit := queryBufLimit.Load()
	if held := int64(rd.end-rd.start) + int64(len(rd.marks))*markCost; held > limit {
		return rd.queryBufferError(held)
	}
	if rd.start == rd.end {
		rd.start, rd.end = 0, 0
	}
	if rd.end == len(rd.buf) {
		if rd.start > 0 {
			n := copy(rd.buf, rd.buf[rd.start:rd.end])
			rd.start, rd.end = 0, n
		} else {
			size := 2 * len(rd.buf)
			if rd.need > len(rd.buf) && rd.need < size {
				size = rd.need
			}
			// One byte past the limit is enough to learn it was passed.
			if lim := limit + 1; int64(size) > lim {
				size = int(max(lim, int64(len(rd.buf)+1)))
			}
			buf := make([]byte, size)
			copy(buf, rd.buf[:rd.end])
			rd.buf = buf
		}
	}
	free := len(rd.buf) - rd.end
	n, err := rd.rd.Read(rd.buf[rd.end:])
	rd.end += n
	rd.publish()
	switch {
	case n == free && rd.rsize < readMax:
		rd.rsize, rd.small = min(2*rd.rsize, readMax), 0
	case n <= rd.rsize/4 && rd.rsize > initialBuf:
		if rd.small++; rd.small >= smallReads {
			rd.rsize, rd.small = max(rd.rsize/2, initialBuf), 0
		}
	default:
		rd.small = 0
	}
	return err
}

func (rd *Reader) readCommands(leftover *int) ([]Command, error) {
	var cmds []Command
	if rd.zeroCopy {
		cmds = rd.batch[:0]
		clear(rd.arena)
		rd.arena = rd.arena[:0]
	}
	if rd.err != nil {
		return nil, rd.err
	}
	if size := max(rd.rsize, initialBuf); rd.start == rd.end && len(rd.buf) != size {
		// warden: release a buffer that grew for a big pipeline instead of
		// keeping its whole capacity for the connection's lifetime, and
		// read at the adapted size (rsize).
		if cap(rd.buf) > keepBuf || cap(rd.buf) < size {
			rd.buf = make([]byte, size)
		} else {
			rd.buf = rd.buf[:size]
		}
		rd.start, rd.end = 0, 0
	}
	for {
		var err error
		cmds, err = rd.parse(cmds)
		if rd.zeroCopy {
			rd.batch = cmds
		}
		if err != nil {
			if len(cmds) == 0 {
				return nil, err
			}
			// Run what came before the bad command first, as Redis does.
			rd.err = err
			break
		}
		if len(cmds) > 0 || rd.rd == nil {
			break
		}
		if err := rd.fill(); err != nil {
			return nil, err
		}
	}
	if leftover != nil {
		*leftover = rd.end - rd.start
	}
	rd.publish()
	if len(cmds) > 0 {
		return cmds, nil
	}
	return nil, errIncompleteCommand
}

// ReadCommands reads the next pipeline commands.
func (rd *Reader) ReadCommands() ([]Command, error) {
	for {
		if len(rd.cmds) > 0 {
			cmds := rd.cmds
			rd.cmds = nil
			return cmds, nil
		}
		cmds, err := rd.readCommands(nil)
		if err != nil {
			return []Command{}, err
		}
		rd.cmds = cmds
	}
}

// ReadCommand reads the next command.
func (rd *Reader) ReadCommand() (Command, error) {
	if len(rd.cmds) > 0 {
		cmd := rd.cmds[0]
		rd.cmds = rd.cmds[1:]
		return cmd, nil
	}
	cmds, err := rd.readCommands(nil)
	if err != nil {
		return Command{}, err
	}
	rd.cmds = cmds
	return rd.ReadCommand()
}

// Parse parses a raw RESP message and returns a command.
func Parse(raw []byte) (Command, error) {
	rd := Reader{buf: raw, end: len(raw), bulk: -1}
	var leftover int
	cmds, err := rd.readCommands(&leftover)
	if err != nil {
		return Command{}, err
	}
	if leftover > 0 {
		return Command{}, errTooMuchData
	}
	return cmds[0], nil
}
