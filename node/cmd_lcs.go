package node

import (
	"math"

	"github.com/wardenkv/warden/keyspace"
)

func registerLCS(t table) {
	t.add(&Command{Name: "lcs", Arity: -3, Flags: fReadonly, FirstKey: 1, LastKey: 2, Run: cmdLCS, Group: "string"})
}

type lcsRange struct{ aStart, aEnd, bStart, bEnd, n uint32 }

// cmdLCS is Redis 7.0's lcsCommand: the classic dynamic programming table,
// walked back from the end to build the string and the matching ranges.
func cmdLCS(c *Ctx) {
	oa, ob := c.Read(c.Args[1]), c.Read(c.Args[2])
	if oa != nil && oa.Type != keyspace.TString || ob != nil && ob.Type != keyspace.TString {
		c.Err("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if oa != nil {
		a = oa.Str
	}
	if ob != nil {
		b = ob.Str
	}
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(c.Args); j++ {
		opt := c.Args[j]
		more := len(c.Args) - 1 - j
		switch {
		case eq(opt, "idx"):
			getIdx = true
		case eq(opt, "len"):
			getLen = true
		case eq(opt, "withmatchlen"):
			withMatchLen = true
		case eq(opt, "minmatchlen") && more > 0:
			n, ok := c.ParseInt(c.Args[j+1])
			if !ok {
				return
			}
			minMatchLen = max(n, 0)
			j++
		default:
			c.Err(errSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.Err("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if len(a) >= math.MaxUint32-1 || len(b) >= math.MaxUint32-1 {
		c.Err("ERR String too long for LCS")
		return
	}
	alen, blen := uint32(len(a)), uint32(len(b))
	size := uint64(alen+1) * uint64(blen+1)
	if size*4 > uint64(c.maxBulkLen()) {
		c.Err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	lcs := make([]uint32, size)
	at := func(i, j uint32) *uint32 { return &lcs[j+i*(blen+1)] }
	w := int(blen) + 1
	for i := 1; i <= int(alen); i++ {
		prev, row, ai := lcs[(i-1)*w:i*w], lcs[i*w:(i+1)*w], a[i-1]
		for j := 1; j < len(row) && j <= len(b); j++ {
			if ai == b[j-1] {
				row[j] = prev[j-1] + 1
			} else {
				row[j] = max(prev[j], row[j-1])
			}
		}
	}
	idx := *at(alen, blen)
	total := idx
	computeLCS := getIdx || !getLen
	var result []byte
	if computeLCS {
		result = make([]byte, idx)
	}
	var ranges []lcsRange
	aStart, aEnd, bStart, bEnd := alen, uint32(0), uint32(0), uint32(0)
	i, j := alen, blen
	for computeLCS && i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if *at(i-1, j) > *at(i, j-1) {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		matchLen := aEnd - aStart + 1
		if emit {
			if minMatchLen == 0 || int64(matchLen) >= minMatchLen {
				ranges = append(ranges, lcsRange{aStart, aEnd, bStart, bEnd, matchLen})
			}
			aStart = alen
		}
	}
	switch {
	case getIdx:
		c.Map(2)
		c.BulkString("matches")
		c.Array(len(ranges))
		for _, r := range ranges {
			if withMatchLen {
				c.Array(3)
			} else {
				c.Array(2)
			}
			c.Array(2)
			c.Int(int64(r.aStart))
			c.Int(int64(r.aEnd))
			c.Array(2)
			c.Int(int64(r.bStart))
			c.Int(int64(r.bEnd))
			if withMatchLen {
				c.Int(int64(r.n))
			}
		}
		c.BulkString("len")
		c.Int(int64(total))
	case getLen:
		c.Int(int64(idx))
	default:
		c.Bulk(result)
	}
}
