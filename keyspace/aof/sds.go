package aof

import (
	"errors"
	"strconv"
)

// Quoting of manifest file names, ported from Redis's sdssplitargs and
// sdscatrepr so names with spaces or odd bytes survive both servers.

var errUnbalanced = errors.New("unbalanced quotes")

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// splitArgs splits a line into arguments as sdssplitargs does: blanks
// separate, "double quotes" take \n \r \t \b \a \xHH escapes, 'single quotes'
// take \'. A closing quote must be followed by a blank or the end.
func splitArgs(s string) ([]string, error) {
	var out []string
	p := 0
	for {
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p >= len(s) {
			return out, nil
		}
		var cur []byte
		inq, insq := false, false
		for done := false; !done; {
			switch {
			case inq:
				if p >= len(s) {
					return nil, errUnbalanced
				}
				c := s[p]
				if c == '\\' && p+3 < len(s) && s[p+1] == 'x' {
					hi, ok1 := hexVal(s[p+2])
					lo, ok2 := hexVal(s[p+3])
					if ok1 && ok2 {
						cur = append(cur, hi<<4|lo)
						p += 3
						break
					}
				}
				if c == '\\' && p+1 < len(s) {
					p++
					switch s[p] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = s[p]
					}
					cur = append(cur, c)
				} else if c == '"' {
					if p+1 < len(s) && !isSpace(s[p+1]) {
						return nil, errUnbalanced
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			case insq:
				if p >= len(s) {
					return nil, errUnbalanced
				}
				c := s[p]
				if c == '\\' && p+1 < len(s) && s[p+1] == '\'' {
					p++
					cur = append(cur, '\'')
				} else if c == '\'' {
					if p+1 < len(s) && !isSpace(s[p+1]) {
						return nil, errUnbalanced
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			default:
				if p >= len(s) {
					done = true
					break
				}
				switch c := s[p]; {
				case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0:
					done = true
				case c == '"':
					inq = true
				case c == '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if p < len(s) {
				p++
			}
		}
		out = append(out, string(cur))
	}
}

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

// needsRepr is sdsneedsrepr: whether a name must be quoted in the manifest.
func needsRepr(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '"' || !isPrint(c) || isSpace(c) {
			return true
		}
	}
	return false
}

// appendRepr appends s raw, or quoted as sdscatrepr does when it needs it.
func appendRepr(b []byte, s string) []byte {
	if !needsRepr(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\a':
			b = append(b, `\a`...)
		case '\b':
			b = append(b, `\b`...)
		default:
			if isPrint(c) {
				b = append(b, c)
			} else {
				b = append(b, `\x`...)
				if c < 16 {
					b = append(b, '0')
				}
				b = strconv.AppendUint(b, uint64(c), 16)
			}
		}
	}
	return append(b, '"')
}
