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

// randRepliesTooBig guards SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with a
// negative count (repeats allowed): their reply grows with the count, not
// with the key, and is built whole before a byte is sent, so Redis, which
// has no bound here, grows until the OOM killer stops it for a count like
// -9223372036854775807. Warden estimates the reply from a sample of the
// draws (sample returns one draw's payload bytes; bulks is the number of
// bulk strings per draw) and refuses, with the error Redis gives for a
// WITHVALUES count too large, a reply past proto-max-bulk-len.
func (c *Ctx) randRepliesTooBig(draws int64, bulks int, sample func() int) bool {
	const samples = 16
	const framing = 8 // "$<len>\r\n...\r\n" for short lengths
	total := 0
	for range samples {
		total += sample()
	}
	perDraw := float64(total)/samples + float64(bulks*framing)
	if float64(draws)*perDraw > float64(c.maxBulkLen()) {
		c.Err("ERR value is out of range")
		return true
	}
	return false
}
