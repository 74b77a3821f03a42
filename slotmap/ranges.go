package slotmap

import (
	"fmt"
	"strconv"
	"strings"
)

// Range is an inclusive range of slots, as CLUSTER SLOTS reports them.
type Range struct{ Start, End int }

func (r Range) String() string {
	if r.Start == r.End {
		return strconv.Itoa(r.Start)
	}
	return fmt.Sprintf("%d-%d", r.Start, r.End)
}

// Ranges compresses a sorted list of slots into contiguous ranges.
func Ranges(slots []int) []Range {
	var out []Range
	for _, s := range slots {
		if n := len(out); n > 0 && out[n-1].End+1 == s {
			out[n-1].End = s
			continue
		}
		out = append(out, Range{s, s})
	}
	return out
}

// ParseRange parses "N" or "A-B" as CLUSTER NODES prints slots.
func ParseRange(s string) (Range, error) {
	a, b, found := strings.Cut(s, "-")
	start, err := strconv.Atoi(a)
	if err != nil {
		return Range{}, fmt.Errorf("parse slot range %q: %w", s, err)
	}
	end := start
	if found {
		if end, err = strconv.Atoi(b); err != nil {
			return Range{}, fmt.Errorf("parse slot range %q: %w", s, err)
		}
	}
	if start < 0 || end >= NumSlots || start > end {
		return Range{}, fmt.Errorf("slot range %q out of 0-%d", s, NumSlots-1)
	}
	return Range{start, end}, nil
}
