package rdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/wardenkv/warden/keyspace"
)

var (
	// ErrChecksum is returned when a file's CRC64 trailer does not match
	// its contents.
	ErrChecksum = errors.New("rdb: checksum mismatch")
	// ErrUnsupported is returned for content warden cannot hold: module
	// data, function libraries, streams, RDB versions newer than it knows.
	ErrUnsupported = errors.New("rdb: unsupported content")
)

// LoadedEntry is one key read from a file; Obj.Expire carries its absolute
// expiry (ms).
type LoadedEntry struct {
	DB  int
	Key []byte
	Obj *keyspace.Object
}

// FileInfo describes a loaded file.
type FileInfo struct {
	Version int
	Aux     map[string]string
	Keys    int // keys passed to fn (empty collections skipped are not counted)
	// Functions are the function libraries' code (RDB_OPCODE_FUNCTION2).
	Functions []string
}

// Load reads a whole RDB file from r, calling fn for each key in file order
// (already expired keys included: dropping them is the caller's policy, as
// it depends on the role and on whether the file is an AOF preamble).
//
// Keys are delivered before the trailer is verified, as Redis loads: on any
// error the caller must discard what it loaded. The CRC64 trailer is
// checked when non-zero (zero means it was written with rdbchecksum no).
// Load consumes exactly the file from r: whatever follows the trailer (the
// commands of an AOF with an RDB preamble) stays buffered in r.
//
// Errors carry the byte offset where the problem was found and wrap
// ErrCorrupt, ErrChecksum, ErrUnsupported, an I/O error, or fn's error.
func Load(r *bufio.Reader, fn func(e LoadedEntry) error) (FileInfo, error) {
	src := &source{br: r}
	l := loader{src: src, dec: NewDecoder(src), fn: fn, info: FileInfo{Aux: map[string]string{}}}
	err := l.run()
	src.commit() // leave r positioned right after what was consumed
	return l.info, err
}

type loader struct {
	src  *source
	dec  *Decoder
	fn   func(LoadedEntry) error
	info FileInfo
}

// fail formats an error at the current offset.
func (l *loader) fail(err error, format string, args ...any) error {
	return fmt.Errorf("rdb: offset %d: %s: %w", l.src.offset(), fmt.Sprintf(format, args...), err)
}

func (l *loader) run() error {
	if err := l.header(); err != nil {
		return err
	}
	var (
		db     int
		expire int64
		idle   int64 = -1 // seconds, from an IDLE opcode for the next key
	)
	for {
		op, err := l.dec.ReadByte()
		if err != nil {
			return l.fail(err, "reading an opcode")
		}
		switch op {
		case opEOF:
			return l.trailer()
		case opSelectDB:
			n, err := l.dec.ReadLength()
			if err != nil {
				return l.fail(err, "reading SELECTDB")
			}
			if n > math.MaxInt32 {
				return l.fail(ErrCorrupt, "SELECTDB %d out of range", n)
			}
			db = int(n)
		case opResizeDB:
			// Sizing hints only: the loader's caller grows as keys arrive.
			for range 2 {
				if _, err := l.dec.ReadLength(); err != nil {
					return l.fail(err, "reading RESIZEDB")
				}
			}
		case opExpireMs:
			var b [8]byte
			if err := l.dec.ReadFull(b[:]); err != nil {
				return l.fail(err, "reading EXPIRETIME_MS")
			}
			expire = int64(binary.LittleEndian.Uint64(b[:]))
		case opExpireSec:
			var b [4]byte
			if err := l.dec.ReadFull(b[:]); err != nil {
				return l.fail(err, "reading EXPIRETIME")
			}
			expire = int64(int32(binary.LittleEndian.Uint32(b[:]))) * 1000
		case opIdle:
			n, err := l.dec.ReadLength()
			if err != nil {
				return l.fail(err, "reading IDLE")
			}
			idle = int64(min(n, math.MaxUint32))
		case opFreq:
			// warden keeps no LFU counters: the value is read and dropped.
			if _, err := l.dec.ReadByte(); err != nil {
				return l.fail(err, "reading FREQ")
			}
		case opAux:
			k, err := l.dec.ReadString()
			if err != nil {
				return l.fail(err, "reading an aux field name")
			}
			v, err := l.dec.ReadString()
			if err != nil {
				return l.fail(err, "reading aux field %s", quoteKey(k))
			}
			l.info.Aux[string(k)] = string(v)
		case opModuleAux:
			return l.fail(ErrUnsupported, "module auxiliary data (MODULE_AUX opcode) cannot be loaded")
		case opFunction2:
			code, err := l.dec.ReadString()
			if err != nil {
				return l.fail(err, "reading a function library")
			}
			l.info.Functions = append(l.info.Functions, string(code))
		case opFunction:
			return l.fail(ErrUnsupported, "function libraries of Redis 7.0 release candidates (FUNCTION opcode %d) cannot be loaded", op)
		default:
			if err := l.entry(db, op, expire, idle); err != nil {
				return err
			}
			expire, idle = 0, -1
		}
	}
}

// header reads "REDIS" and the 4-digit version.
func (l *loader) header() error {
	var h [9]byte
	if err := l.dec.ReadFull(h[:]); err != nil {
		return l.fail(err, "reading the header")
	}
	if string(h[:5]) != "REDIS" {
		return l.fail(ErrCorrupt, "not an RDB file (header %q)", h[:])
	}
	v := 0
	for _, c := range h[5:] {
		if c < '0' || c > '9' {
			return l.fail(ErrCorrupt, "invalid RDB version %q", h[5:])
		}
		v = v*10 + int(c-'0')
	}
	if v < 1 || v > MaxVersion {
		return l.fail(ErrUnsupported, "RDB format version %d (this server reads 1 to %d)", v, MaxVersion)
	}
	l.info.Version = v
	return nil
}

// entry reads one key and its value of type typ and hands it to fn.
func (l *loader) entry(db int, typ byte, expire, idle int64) error {
	if !isValueType(typ) {
		return l.fail(ErrCorrupt, "unknown opcode or value type %d", typ)
	}
	key, err := l.dec.ReadString()
	if err != nil {
		return l.fail(err, "reading a key (db %d, type %d)", db, typ)
	}
	if name := unsupportedType(typ); name != "" {
		return l.fail(ErrUnsupported, "key %s in db %d is a %s (type %d), which cannot be loaded", quoteKey(key), db, name, typ)
	}
	o, err := l.dec.ReadValue(typ)
	if errors.Is(err, ErrEmptyKey) {
		return nil // Redis skips empty collections when loading a file
	}
	if err != nil {
		return l.fail(err, "reading the value of key %s (db %d, type %d)", quoteKey(key), db, typ)
	}
	o.Expire = expire
	if idle >= 0 {
		o.LRU -= uint32(idle) * keyspace.LRUTicksPerSecond // wraps like the clock: IdleSeconds gives idle back
	}
	if err := l.fn(LoadedEntry{DB: db, Key: key, Obj: o}); err != nil {
		return l.fail(err, "loading key %s (db %d)", quoteKey(key), db)
	}
	l.info.Keys++
	return nil
}

// trailer verifies the CRC64 that follows EOF (RDB 5 and later).
func (l *loader) trailer() error {
	if l.info.Version < 5 {
		return nil
	}
	want := l.src.sum()
	var b [8]byte
	if err := l.dec.ReadFull(b[:]); err != nil {
		return l.fail(err, "reading the checksum")
	}
	got := binary.LittleEndian.Uint64(b[:])
	if got != 0 && got != want {
		return l.fail(ErrChecksum, "the file's trailer says %016x but its contents hash to %016x", got, want)
	}
	return nil
}

// isValueType is Redis's rdbIsObjectType.
func isValueType(t byte) bool {
	return t <= TypeModule2 || (t >= TypeHashZipmap && t <= TypeStreamListpacks3)
}

func unsupportedType(t byte) string {
	switch t {
	case TypeModulePreGA, TypeModule2:
		return "module value"
	}
	return ""
}

// quoteKey renders a (possibly binary, possibly huge) key for messages.
func quoteKey(k []byte) string {
	const limit = 64
	if len(k) > limit {
		return strconv.Quote(string(k[:limit])) + "..."
	}
	return strconv.Quote(string(k))
}

// source reads the file from a bufio.Reader without over-reading it: it
// works on the reader's buffered bytes (Peek) and only discards, and adds
// to the checksum, what was consumed.
type source struct {
	br   *bufio.Reader
	buf  []byte // peeked bytes; buf[:pos] consumed but not yet discarded
	pos  int
	base int64 // offset of buf[0] in the file
	crc  uint64
}

// commit checksums and discards the consumed bytes.
func (s *source) commit() {
	if s.pos == 0 {
		return
	}
	s.crc = CRC64(s.crc, s.buf[:s.pos])
	s.br.Discard(s.pos) // cannot fail: the bytes are buffered
	s.base += int64(s.pos)
	s.buf, s.pos = s.buf[s.pos:], 0
}

// fill makes at least one unconsumed byte available.
func (s *source) fill() error {
	s.commit()
	if _, err := s.br.Peek(1); err != nil {
		return err
	}
	s.buf, _ = s.br.Peek(s.br.Buffered())
	return nil
}

func (s *source) offset() int64 { return s.base + int64(s.pos) }

// sum is the CRC64 of everything consumed so far.
func (s *source) sum() uint64 {
	s.commit()
	return s.crc
}

func (s *source) ReadByte() (byte, error) {
	if s.pos == len(s.buf) {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	c := s.buf[s.pos]
	s.pos++
	return c, nil
}

func (s *source) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.pos == len(s.buf) {
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf[s.pos:])
	s.pos += n
	return n, nil
}

var _ io.ByteReader = (*source)(nil)
