package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/wardenkv/warden/keyspace"
)

// RDB file opcodes (Redis's rdb.h).
const (
	opFunction2 = 245 // a function library (Redis 7.0 GA)
	opFunction  = 246 // a function library (7.0 release candidates)
	opModuleAux = 247
	opIdle      = 248 // LRU idle time of the next key
	opFreq      = 249 // LFU counter of the next key
	opAux       = 250
	opResizeDB  = 251
	opExpireMs  = 252
	opExpireSec = 253
	opSelectDB  = 254
	opEOF       = 255
)

// redisVersion is the "redis-ver" aux field: the Redis release whose format
// and behaviour warden follows.
const redisVersion = "7.0.15"

// FileOptions configure a written RDB file.
type FileOptions struct {
	Compress bool  // rdbcompression: LZF-compress strings when it saves space
	Checksum bool  // rdbchecksum: write the CRC64 trailer (else 8 zero bytes, as Redis)
	AOFBase  bool  // aux "aof-base" 1 when the file is an AOF base
	UsedMem  int64 // aux "used-mem"
	// Repl, when set, is written as the aux fields repl-stream-db, repl-id
	// and repl-offset (Redis 7's rdbSaveInfo): the replication history the
	// data set is a point of, so a restarted replica can partial-resync.
	Repl *ReplInfo
	// Functions are the function libraries' code, written after the aux
	// fields as Redis 7.0 does (RDB_OPCODE_FUNCTION2, then the code).
	Functions []string
}

// ReplInfo is the replication position of a snapshot.
type ReplInfo struct {
	ID       string // the 40-character replication id
	Offset   int64  // master_repl_offset at the snapshot
	StreamDB int    // the database the replication stream had selected
}

// ReplInfoFromAux reads the repl-id, repl-offset and repl-stream-db aux
// fields of a loaded file, as Redis 7 writes them; false when they are
// missing or malformed.
func ReplInfoFromAux(aux map[string]string) (ReplInfo, bool) {
	id, ok := aux["repl-id"]
	if !ok || len(id) != 40 {
		return ReplInfo{}, false
	}
	off, err := strconv.ParseInt(aux["repl-offset"], 10, 64)
	if err != nil || off < 0 {
		return ReplInfo{}, false
	}
	db := 0
	if v, ok := aux["repl-stream-db"]; ok {
		if db, err = strconv.Atoi(v); err != nil || db < 0 {
			return ReplInfo{}, false
		}
	}
	return ReplInfo{ID: id, Offset: off, StreamDB: db}, true
}

// fileBufSize is how much FileWriter gathers before writing: chunks are
// often one key, and the CRC is much faster over large slices.
const fileBufSize = 64 << 10

var errWriterClosed = errors.New("rdb: write to a closed FileWriter")

// FileWriter writes an RDB file (version 10: "REDIS0010") incrementally; it
// computes the CRC64 over everything written. It buffers: Close writes the
// rest (it does not flush, sync or close the underlying writer). Safe for
// one goroutine at a time (the caller serializes).
type FileWriter struct {
	w      io.Writer
	opts   FileOptions
	buf    []byte
	crc    uint64
	err    error // first write error, returned by every later call
	closed bool
}

// NewFileWriter writes the header and aux fields (redis-ver, redis-bits,
// ctime, used-mem, the replication position, aof-base, in Redis's order)
// to w.
func NewFileWriter(w io.Writer, opts FileOptions) (*FileWriter, error) {
	fw := &FileWriter{w: w, opts: opts, buf: make([]byte, 0, fileBufSize)}
	b := fmt.Appendf(fw.buf, "REDIS%04d", Version)
	b = fw.appendAux(b, "redis-ver", redisVersion)
	b = fw.appendAux(b, "redis-bits", "64")
	b = fw.appendAux(b, "ctime", strconv.FormatInt(time.Now().Unix(), 10))
	b = fw.appendAux(b, "used-mem", strconv.FormatInt(opts.UsedMem, 10))
	if r := opts.Repl; r != nil {
		b = fw.appendAux(b, "repl-stream-db", strconv.Itoa(r.StreamDB))
		b = fw.appendAux(b, "repl-id", r.ID)
		b = fw.appendAux(b, "repl-offset", strconv.FormatInt(r.Offset, 10))
	}
	aofBase := "0"
	if opts.AOFBase {
		aofBase = "1"
	}
	b = fw.appendAux(b, "aof-base", aofBase)
	for _, code := range opts.Functions {
		b = append(b, opFunction2)
		b = appendString(b, []byte(code), opts.Compress)
	}
	fw.buf = b
	// Write the header now so an unusable destination fails early.
	if err := fw.flush(); err != nil {
		return nil, err
	}
	return fw, nil
}

func (w *FileWriter) appendAux(b []byte, key, val string) []byte {
	b = append(b, opAux)
	b = appendString(b, []byte(key), w.opts.Compress)
	return appendString(b, []byte(val), w.opts.Compress)
}

// ResizeDB starts database db: SELECTDB, then RESIZEDB with the sizes of
// its main and expires tables (hints a loader may use to presize).
func (w *FileWriter) ResizeDB(db int, keys, expires uint64) error {
	var tmp [32]byte
	b := AppendSelectDB(tmp[:0], db)
	b = append(b, opResizeDB)
	b = AppendLength(b, keys)
	b = AppendLength(b, expires)
	return w.Write(b)
}

// Write adds raw file bytes, as produced by AppendSelectDB and AppendEntry.
func (w *FileWriter) Write(chunk []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errWriterClosed
	}
	if len(w.buf)+len(chunk) > cap(w.buf) {
		if err := w.flush(); err != nil {
			return err
		}
		if len(chunk) >= cap(w.buf) {
			w.sum(chunk)
			return w.write(chunk)
		}
	}
	w.buf = append(w.buf, chunk...)
	return nil
}

// Close ends the file: EOF opcode and the CRC64 trailer (little endian;
// zero when checksums are off, which loaders take as "not computed").
func (w *FileWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errWriterClosed
	}
	w.buf = append(w.buf, opEOF)
	w.sum(w.buf)
	w.buf = binary.LittleEndian.AppendUint64(w.buf, w.crc)
	w.closed = true
	return w.write(w.buf)
}

// flush writes the buffered bytes (checksummed first).
func (w *FileWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	w.sum(w.buf)
	err := w.write(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *FileWriter) sum(p []byte) {
	if w.opts.Checksum {
		w.crc = CRC64(w.crc, p)
	}
}

func (w *FileWriter) write(p []byte) error {
	if _, err := w.w.Write(p); err != nil {
		w.err = fmt.Errorf("rdb: writing file: %w", err)
		return w.err
	}
	return nil
}

// AppendSelectDB appends the SELECTDB opcode for db (a chunk may start with
// it).
func AppendSelectDB(dst []byte, db int) []byte {
	return AppendLength(append(dst, opSelectDB), uint64(db))
}

// AppendEntry appends one key: EXPIRETIME_MS (when o.Expire != 0), type
// byte, key, value. compress false writes strings without LZF, as Redis
// with rdbcompression no.
func AppendEntry(dst []byte, key []byte, o *keyspace.Object, compress bool) []byte {
	if o.Expire != 0 {
		dst = append(dst, opExpireMs)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(o.Expire))
	}
	at := len(dst)
	dst = append(dst, 0) // the type, known once the value is encoded
	dst = appendString(dst, key, compress)
	typ, dst := appendValue(dst, o, compress)
	dst[at] = typ
	return dst
}
