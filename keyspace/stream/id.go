// Package stream is the Redis stream value: entries ordered by ID in packed
// blocks (a two-level B+tree: a sorted index of blocks of up to MaxBlock
// entries, each entry's fields packed in one byte slice), and consumer
// groups with their pending entries lists. It knows nothing of RESP or the
// keyspace; node/ parses commands and keyspace/rdb serializes it.
package stream

import (
	"math"
	"strconv"
)

// ID is a stream entry ID, ms-seq.
type ID struct{ Ms, Seq uint64 }

// MaxID is the greatest ID (the "+" of ranges).
var MaxID = ID{math.MaxUint64, math.MaxUint64}

// Compare returns -1, 0 or 1.
func (a ID) Compare(b ID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports a < b.
func (a ID) Less(b ID) bool { return a.Compare(b) < 0 }

// IsZero reports a == 0-0.
func (a ID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Next returns the successor of a; ok is false for MaxID.
func (a ID) Next() (ID, bool) {
	if a.Seq == math.MaxUint64 {
		if a.Ms == math.MaxUint64 {
			return a, false
		}
		return ID{a.Ms + 1, 0}, true
	}
	return ID{a.Ms, a.Seq + 1}, true
}

// Prev returns the predecessor of a; ok is false for 0-0.
func (a ID) Prev() (ID, bool) {
	if a.Seq == 0 {
		if a.Ms == 0 {
			return a, false
		}
		return ID{a.Ms - 1, math.MaxUint64}, true
	}
	return ID{a.Ms, a.Seq - 1}, true
}

// Append appends "ms-seq".
func (a ID) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, a.Ms, 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, a.Seq, 10)
}

func (a ID) String() string { return string(a.Append(nil)) }

// Parse parses "ms[-seq]" as Redis's streamGenericParseIDOrReply: "-" and
// "+" are the extremes (unless strict), a missing seq is missingSeq, and
// "ms-*" (when seqAuto is non-nil) sets *seqAuto. ok is false on bad input.
func Parse(b []byte, missingSeq uint64, strict bool, seqAuto *bool) (ID, bool) {
	if len(b) > 127 {
		return ID{}, false
	}
	if !strict && len(b) == 1 {
		switch b[0] {
		case '-':
			return ID{}, true
		case '+':
			return MaxID, true
		}
	}
	dot := -1
	for i, c := range b {
		if c == '-' {
			dot = i
			break
		}
	}
	if dot < 0 {
		ms, ok := parseU64(b)
		if !ok {
			return ID{}, false
		}
		return ID{ms, missingSeq}, true
	}
	ms, ok := parseU64(b[:dot])
	if !ok {
		return ID{}, false
	}
	rest := b[dot+1:]
	if seqAuto != nil && len(rest) == 1 && rest[0] == '*' {
		*seqAuto = true
		return ID{ms, 0}, true
	}
	seq, ok := parseU64(rest)
	if !ok {
		return ID{}, false
	}
	return ID{ms, seq}, true
}

// parseU64 is Redis's string2ull: a canonical int64 must not be negative;
// anything else goes to strtoull (leading spaces, a sign, leading zeros).
func parseU64(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if v, ok := parseCanonical(b); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseCanonical is string2ll (no spaces, no '+', no leading zeros).
func parseCanonical(b []byte) (int64, bool) {
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != string(b) {
		return 0, false
	}
	return v, true
}
