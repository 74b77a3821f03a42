package aof

import (
	"math"
	"strconv"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

// itemsPerCmd is Redis's AOF_REWRITE_ITEMS_PER_CMD: collections are rebuilt
// in commands of at most this many elements, so no single command (and no
// loader buffer) grows with the collection.
const itemsPerCmd = 64

func appendHeader(dst []byte, prefix byte, n int) []byte {
	dst = append(dst, prefix)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

func appendBulk(dst []byte, s []byte) []byte {
	dst = appendHeader(dst, '$', len(s))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

func appendBulkString(dst []byte, s string) []byte {
	dst = appendHeader(dst, '$', len(s))
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

func appendBulkInt(dst []byte, n int64) []byte {
	var tmp [20]byte
	return appendBulk(dst, strconv.AppendInt(tmp[:0], n, 10))
}

// AppendCommand appends argv as a RESP multibulk, the AOF's record format.
func AppendCommand(dst []byte, argv ...[]byte) []byte {
	dst = appendHeader(dst, '*', len(argv))
	for _, a := range argv {
		dst = appendBulk(dst, a)
	}
	return dst
}

// AppendSelect appends SELECT db.
func AppendSelect(dst []byte, db int) []byte {
	dst = append(dst, "*2\r\n$6\r\nSELECT\r\n"...)
	return appendBulkInt(dst, int64(db))
}

// appendScore formats a sorted-set score so ZADD parses it back exactly
// (shortest round-trip form; inf spelled as strtod reads it).
func appendScore(dst []byte, f float64) []byte {
	var tmp [32]byte
	switch {
	case math.IsInf(f, 1):
		return appendBulkString(dst, "inf")
	case math.IsInf(f, -1):
		return appendBulkString(dst, "-inf")
	}
	return appendBulk(dst, strconv.AppendFloat(tmp[:0], f, 'g', -1, 64))
}

// AppendEntryCommands appends the commands that recreate key as o holds it,
// as Redis's rewriteAppendOnlyFileRio does: SET for strings; RPUSH, SADD,
// HSET and ZADD in batches of at most 64 elements; then PEXPIREAT when the key
// has a TTL. Empty collections produce nothing (Redis never stores them).
func AppendEntryCommands(dst []byte, key []byte, o *keyspace.Object) []byte {
	n := 0
	switch o.Type {
	case keyspace.TString:
		dst = append(dst, "*3\r\n$3\r\nSET\r\n"...)
		dst = appendBulk(dst, key)
		dst = appendBulk(dst, o.Str)
		n = 1
	case keyspace.TList:
		l := o.List()
		n = l.Len()
		for i := 0; i < n; i++ {
			if i%itemsPerCmd == 0 {
				dst = batchHeader(dst, "RPUSH", key, min(itemsPerCmd, n-i), 1)
			}
			dst = appendBulk(dst, l.Index(i))
		}
	case keyspace.TSet:
		if is, ok := o.IntSet(); ok {
			n = is.Len()
			i := 0
			is.Each(func(m []byte) {
				if i%itemsPerCmd == 0 {
					dst = batchHeader(dst, "SADD", key, min(itemsPerCmd, n-i), 1)
				}
				dst = appendBulk(dst, m)
				i++
			})
			break
		}
		s := o.Set()
		n = len(s)
		i := 0
		for m := range s {
			if i%itemsPerCmd == 0 {
				dst = batchHeader(dst, "SADD", key, min(itemsPerCmd, n-i), 1)
			}
			dst = appendBulkString(dst, m)
			i++
		}
	case keyspace.THash:
		h := o.Hash()
		n = h.Len()
		i := 0
		h.Range(func(f string, v []byte) bool {
			if i%itemsPerCmd == 0 {
				dst = batchHeader(dst, "HSET", key, min(itemsPerCmd, n-i), 2)
			}
			dst = appendBulkString(dst, f)
			dst = appendBulk(dst, v)
			i++
			return true
		})
	case keyspace.TZSet:
		z := o.ZSet()
		n = z.Len()
		i := 0
		for it := z.IterAt(0, false); it.Valid() && i < n; it.Next() {
			if i%itemsPerCmd == 0 {
				dst = batchHeader(dst, "ZADD", key, min(itemsPerCmd, n-i), 2)
			}
			dst = appendScore(dst, it.Score())
			dst = appendBulkString(dst, it.Member())
			i++
		}
	case keyspace.TStream:
		dst = appendStreamCommands(dst, key, o.Val.(*stream.Stream))
		n = 1 // an empty stream is still a key
	}
	if n > 0 && o.Expire != 0 {
		dst = append(dst, "*3\r\n$9\r\nPEXPIREAT\r\n"...)
		dst = appendBulk(dst, key)
		dst = appendBulkInt(dst, o.Expire)
	}
	return dst
}

// batchHeader starts "<cmd> key" followed by items elements of width args.
func batchHeader(dst []byte, cmd string, key []byte, items, width int) []byte {
	dst = appendHeader(dst, '*', 2+items*width)
	dst = appendBulkString(dst, cmd)
	return appendBulk(dst, key)
}
