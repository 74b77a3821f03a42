package aof

import (
	"strconv"

	"github.com/wardenkv/warden/keyspace/stream"
)

// appendStreamCommands is Redis's rewriteStreamObject: an XADD per entry
// (XADD MAXLEN 0 of a dummy entry for an empty stream), XSETID for the last
// ID and counters, then per group XGROUP CREATE, an XCLAIM ... JUSTID FORCE
// per pending entry and XGROUP CREATECONSUMER for consumers without any.
func appendStreamCommands(dst []byte, key []byte, s *stream.Stream) []byte {
	id := func(x stream.ID) []byte { return x.Append(nil) }
	if s.Len() > 0 {
		s.Range(stream.ID{}, stream.MaxID, false, func(eid stream.ID, fv [][]byte) bool {
			dst = appendHeader(dst, '*', 3+len(fv))
			dst = appendBulkString(dst, "XADD")
			dst = appendBulk(dst, key)
			dst = appendBulk(dst, id(eid))
			for _, x := range fv {
				dst = appendBulk(dst, x)
			}
			return true
		})
	} else {
		dst = appendHeader(dst, '*', 7)
		dst = appendBulkString(dst, "XADD")
		dst = appendBulk(dst, key)
		dst = appendBulkString(dst, "MAXLEN")
		dst = appendBulkString(dst, "0")
		dst = appendBulkString(dst, "0-1")
		dst = appendBulkString(dst, "x")
		dst = appendBulkString(dst, "y")
	}
	dst = appendHeader(dst, '*', 7)
	dst = appendBulkString(dst, "XSETID")
	dst = appendBulk(dst, key)
	dst = appendBulk(dst, id(s.LastID))
	dst = appendBulkString(dst, "ENTRIESADDED")
	dst = appendBulk(dst, strconv.AppendUint(nil, s.EntriesAdded, 10))
	dst = appendBulkString(dst, "MAXDELETEDID")
	dst = appendBulk(dst, id(s.MaxDeletedID))
	for _, g := range s.Groups() {
		dst = appendHeader(dst, '*', 7)
		dst = appendBulkString(dst, "XGROUP")
		dst = appendBulkString(dst, "CREATE")
		dst = appendBulk(dst, key)
		dst = appendBulkString(dst, g.Name)
		dst = appendBulk(dst, id(g.LastID))
		dst = appendBulkString(dst, "ENTRIESREAD")
		dst = appendBulkInt(dst, g.EntriesRead)
		for _, c := range g.Consumers() {
			if c.PEL.Len() == 0 {
				dst = appendHeader(dst, '*', 5)
				dst = appendBulkString(dst, "XGROUP")
				dst = appendBulkString(dst, "CREATECONSUMER")
				dst = appendBulk(dst, key)
				dst = appendBulkString(dst, g.Name)
				dst = appendBulkString(dst, c.Name)
				continue
			}
			c.PEL.Range(stream.ID{}, stream.MaxID, func(pid stream.ID, n *stream.NACK) bool {
				dst = appendHeader(dst, '*', 12)
				dst = appendBulkString(dst, "XCLAIM")
				dst = appendBulk(dst, key)
				dst = appendBulkString(dst, g.Name)
				dst = appendBulkString(dst, c.Name)
				dst = appendBulkString(dst, "0")
				dst = appendBulk(dst, id(pid))
				dst = appendBulkString(dst, "TIME")
				dst = appendBulkInt(dst, n.DeliveryTime)
				dst = appendBulkString(dst, "RETRYCOUNT")
				dst = appendBulk(dst, strconv.AppendUint(nil, n.DeliveryCount, 10))
				dst = appendBulkString(dst, "JUSTID")
				dst = appendBulkString(dst, "FORCE")
				return true
			})
		}
	}
	return dst
}
