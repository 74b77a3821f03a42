package node

import (
	"math"
	"strconv"
	"strings"
)

// parseFloat parses a float the way Redis's strtod-based parsing accepts it:
// "inf"/"-inf" allowed, NaN and surrounding spaces refused.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// ParseFloat reports out-of-range values with ±Inf and an error;
		// strtod would give ±HUGE_VAL, which Redis refuses too.
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// eq reports whether an argument equals word, ignoring ASCII case.
func eq(arg []byte, word string) bool {
	return len(arg) == len(word) && strings.EqualFold(string(arg), word)
}

// clampRange turns Redis start/stop indexes (negative from the end) into a
// valid inclusive range of [0, n); ok is false when the range is empty.
func clampRange(start, stop, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}
