// Package memusage estimates the bytes a key and its value take in
// warden's Go data structures, for MEMORY USAGE and MEMORY STATS.
//
// How: each allocation is rounded up to the Go allocator's size class, and
// fixed per-structure overheads are counted from the structures' layouts
// (string and slice headers, map entries, skiplist nodes). Collections are
// sampled as Redis samples them: the first `samples` elements are sized
// and their average is multiplied by the element count (samples 0: all).
// Map entry overhead is an average over Go's swiss-table groups
// (mapEntryOverhead), so results are estimates, as Redis's are.
package memusage

import (
	"unsafe"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

const (
	ptrSize    = 8
	strHeader  = 16 // Go string header
	sliceHdr   = 24 // Go slice header
	objectSize = 48 // keyspace.Object
	// streamBlock is a stream node's header (stream.block: IDs, slice
	// headers, counters).
	streamBlock = 200
	// mapEntryOverhead is a map slot's control byte and the free slots a
	// swiss table keeps (7/8 load), averaged per entry.
	mapEntryOverhead = 8
	// DictEntry is what one key costs in a database's map besides its
	// bytes: the key's string header, the *Object and the slot overhead.
	DictEntry = strHeader + ptrSize + mapEntryOverhead
	// DefaultSamples is MEMORY USAGE's default SAMPLES.
	DefaultSamples = 5
)

// sizeClasses are the Go runtime's small allocation size classes.
var sizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
	2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240,
	10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// smallClass[(n+7)/8] is the size class of an n-byte request, n <= 1024
// (as the runtime's own size_to_class8 table).
var smallClass = func() (t [1024/8 + 1]int32) {
	c := 0
	for i := 1; i < len(t); i++ {
		for sizeClasses[c] < i*8 {
			c++
		}
		t[i] = int32(sizeClasses[c])
	}
	return t
}()

// Alloc is the bytes the Go allocator hands out for a request of n bytes.
func Alloc(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n <= 1024 {
		return int64(smallClass[(n+7)/8])
	}
	if n <= sizeClasses[len(sizeClasses)-1] {
		lo, hi := 0, len(sizeClasses)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if sizeClasses[mid] >= n {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return int64(sizeClasses[lo])
	}
	const page = 8192 // large objects take whole pages
	return int64((n + page - 1) / page * page)
}

// Key estimates MEMORY USAGE of key holding o: the value, the object
// header, the key's bytes and its database map entry. samples <= 0 sizes
// every element.
func Key(key string, o *keyspace.Object, samples int) int64 {
	return Alloc(len(key)) + DictEntry + Value(o, samples)
}

// Value estimates the object and its payload.
func Value(o *keyspace.Object, samples int) int64 {
	n := objectSize
	size := int64(n)
	if samples <= 0 {
		samples = int(^uint(0) >> 1)
	}
	// scale extrapolates the sampled elements' bytes to all of them.
	scale := func(sum int64, seen, total int) int64 {
		if seen == 0 {
			return 0
		}
		return sum * int64(total) / int64(seen)
	}
	switch o.Type {
	case keyspace.TString:
		size += Alloc(cap(o.Str))
	case keyspace.TList:
		l := o.List()
		size += ptrSize*3 + Alloc(l.Len()*sliceHdr) // the ring buffer of slice headers (at least)
		var sum int64
		seen := min(samples, l.Len())
		for i := range seen {
			sum += Alloc(cap(l.Index(i)))
		}
		size += scale(sum, seen, l.Len())
	case keyspace.THash:
		h := o.Hash()
		if packed, n := h.Packed(); packed {
			size += Alloc(int(unsafe.Sizeof(keyspace.Hash{}))) + Alloc(n) // the Hash and its one packed slice
			break
		}
		// Per field: an entry in the ordered slice (string + slice
		// headers) and one in the index map (string header, int32, slot).
		size += int64(h.Len()) * (strHeader + sliceHdr + strHeader + 4 + mapEntryOverhead)
		var sum int64
		seen := 0
		h.Range(func(f string, v []byte) bool {
			if seen >= samples {
				return false
			}
			sum += Alloc(len(f)) + Alloc(cap(v))
			seen++
			return true
		})
		size += scale(sum, seen, h.Len())
	case keyspace.TSet:
		if is, ok := o.IntSet(); ok {
			size += Alloc(int(unsafe.Sizeof(keyspace.IntSet{}))) + Alloc(is.Bytes())
			break
		}
		s := o.Set()
		size += int64(len(s)) * (strHeader + mapEntryOverhead)
		var sum int64
		seen := 0
		for m := range s {
			if seen >= samples {
				break
			}
			sum += Alloc(len(m))
			seen++
		}
		size += scale(sum, seen, len(s))
	case keyspace.TZSet:
		z := o.ZSet()
		if packed, n := z.Packed(); packed {
			size += Alloc(int(unsafe.Sizeof(keyspace.ZSet{}))) + Alloc(n) // the ZSet and its one packed slice
			break
		}
		// Per member: the dict entry (string header, score, slot) and a
		// skiplist node (member header, score, backward pointer, level
		// slice of 1.33 levels on average at p=1/4).
		node := Alloc(strHeader+8+ptrSize+sliceHdr) + Alloc(2*16)
		size += int64(z.Len()) * (strHeader + 8 + mapEntryOverhead + node)
		var sum int64
		seen := 0
		// An iterator, not ByRank: no allocation (used_memory re-sizes a
		// set after every write to it).
		for it := z.IterAt(0, false); it.Valid() && seen < samples; it.Next() {
			sum += Alloc(len(it.Member()))
			seen++
		}
		size += scale(sum, seen, z.Len())
	case keyspace.TStream:
		s := o.Val.(*stream.Stream)
		// Per node: the block header, and per entry an ID, an offset and
		// a deleted flag in slices grown by appending (a quarter spare on
		// average), and its packed fields in the node's buffer (about
		// what Redis's listpack takes, and a quarter spare). O(1): this
		// runs after every write to the stream.
		nodes, entries, lp := s.Footprint()
		size += int64(nodes)*Alloc(streamBlock) + int64(lp)*5/4 + int64(entries)*(16+4+1)*5/4
		// A pending entry: its ID and NACK in the group's PEL, and its
		// ID and pointer again in its consumer's.
		size += int64(s.PendingEntries()) * (16 + ptrSize + Alloc(32) + 16 + ptrSize)
		size += int64(s.NumGroups()) * 256 // a group's header and its maps' roots

	}
	return size
}
