package stream

import (
	"encoding/binary"
	"math"

	"github.com/wardenkv/warden/keyspace"
)

// Node limits, Redis's stream-node-max-bytes and stream-node-max-entries
// defaults. Blocks split where Redis's listpack nodes split, so approximate
// trimming (which only drops whole nodes) removes what Redis removes.
const (
	NodeMaxBytes   = 4096
	NodeMaxEntries = 100
)

// block is one node: the entries added while it was the tail, deleted ones
// kept (flagged) as Redis keeps them in its listpack until the whole node
// goes. The entries' field/value pairs are packed back to back in buf, so
// a node is a handful of pointer-free allocations however many entries it
// has (the garbage collector scans none of them).
type block struct {
	master       ID       // the first entry's ID (the node's key)
	masterFields []byte   // packed fields of the first entry
	mf           [][]byte // the same, unpacked (sharing masterFields)
	nMaster      int
	masterBytes  int // listpack bytes of the master fields
	ids          []ID
	off          []uint32 // where entry i starts in buf
	buf          []byte   // packed field/value pairs, entry after entry
	deleted      []bool
	live         int
	entryBytes   int // listpack bytes of the entries after the master entry
}

// pack appends field/value pairs to out: uvarint count, then uvarint
// length + bytes.
func pack(out []byte, fv [][]byte) []byte {
	out = binary.AppendUvarint(out, uint64(len(fv)))
	for _, b := range fv {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

// add appends an entry to b.
func (b *block) add(id ID, fv [][]byte, deleted bool) {
	b.entryBytes += b.entrySize(id, fv)
	b.ids = append(b.ids, id)
	b.off = append(b.off, uint32(len(b.buf)))
	b.buf = pack(b.buf, fv)
	b.deleted = append(b.deleted, deleted)
	if !deleted {
		b.live++
	}
}

// fields returns entry i's field/value pairs (sharing b's memory: entries
// are never changed in place, and buf only grows).
func (b *block) fields(i int) [][]byte {
	end := len(b.buf)
	if i+1 < len(b.off) {
		end = int(b.off[i+1])
	}
	return unpack(b.buf[b.off[i]:end:end])
}

// newBlock starts a node at master; prev (the node before it, or nil)
// sizes it: a stream that filled one node will likely fill the next (up
// to a bound: the limits may have been lowered since).
func newBlock(master ID, masterFields [][]byte, prev *block) *block {
	b := &block{master: master}
	b.setMaster(masterFields)
	if prev != nil {
		n := min(len(prev.ids), 1024)
		b.ids = make([]ID, 0, n)
		b.off = make([]uint32, 0, n)
		b.deleted = make([]bool, 0, n)
		b.buf = make([]byte, 0, min(len(prev.buf), 64<<10))
	}
	return b
}

// full reports whether b's buffer can take no more entries: offsets are
// 32-bit (Append's node limit keeps far below; a loaded node could not).
func (b *block) full() bool { return len(b.buf) > math.MaxUint32 }

// unpack returns the pairs of a packed slice (sharing its memory).
func unpack(p []byte) [][]byte {
	n, k := binary.Uvarint(p)
	p = p[k:]
	out := make([][]byte, n)
	for i := range out {
		l, k := binary.Uvarint(p)
		p = p[k:]
		out[i] = p[:l:l]
		p = p[l:]
	}
	return out
}

// sameFields reports whether the entry's fields are the master's (Redis's
// STREAM_ITEM_FLAG_SAMEFIELDS compression).
func (b *block) sameFields(fv [][]byte) bool {
	if len(fv)/2 != b.nMaster {
		return false
	}
	for i, f := range b.mf {
		if string(f) != string(fv[2*i]) {
			return false
		}
	}
	return true
}

// lpBytes is the size of the node's listpack as Redis would have it.
func (b *block) lpBytes() int {
	n := 6 + 1 // header, terminator
	n += lpIntSize(int64(b.live)) + lpIntSize(int64(len(b.ids)-b.live)) + lpIntSize(int64(b.nMaster))
	n += b.masterBytes
	n += lpIntSize(0)
	return n + b.entryBytes
}

// entrySize is the listpack size of one entry appended to b.
func (b *block) entrySize(id ID, fv [][]byte) int {
	same := b.sameFields(fv)
	nf := len(fv) / 2
	flags := int64(0)
	if same {
		flags = 2
	}
	n := lpIntSize(flags) + lpIntSize(int64(id.Ms-b.master.Ms)) + lpIntSize(int64(id.Seq-b.master.Seq))
	cnt := int64(nf + 3)
	if same {
		for i := 1; i < len(fv); i += 2 {
			n += lpStrSize(fv[i])
		}
	} else {
		n += lpIntSize(int64(nf))
		for _, x := range fv {
			n += lpStrSize(x)
		}
		cnt += int64(nf + 1)
	}
	return n + lpIntSize(cnt)
}

// lpEncodedSize is an element's encoding size without its backlen.
func lpIntEnc(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 1
	case v >= -4096 && v <= 4095:
		return 2
	case v >= -32768 && v <= 32767:
		return 3
	case v >= -8388608 && v <= 8388607:
		return 4
	case v >= -2147483648 && v <= 2147483647:
		return 5
	}
	return 9
}

func backlen(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

func lpIntSize(v int64) int { e := lpIntEnc(v); return e + backlen(e) }

func lpStrSize(s []byte) int {
	if v, ok := keyspace.ParseInt(s); ok {
		return lpIntSize(v)
	}
	var e int
	switch {
	case len(s) < 64:
		e = 1 + len(s)
	case len(s) < 4096:
		e = 2 + len(s)
	default:
		e = 5 + len(s)
	}
	return e + backlen(e)
}

// setMaster records the node's master fields.
func (b *block) setMaster(mf [][]byte) {
	b.masterFields = pack(nil, mf)
	b.mf = unpack(b.masterFields)
	b.nMaster = len(mf)
	b.masterBytes = 0
	for _, f := range mf {
		b.masterBytes += lpStrSize(f)
	}
}

// seek returns the index of the first entry >= id in b.
func (b *block) seek(id ID) int {
	lo, hi := 0, len(b.ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.ids[m].Less(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
