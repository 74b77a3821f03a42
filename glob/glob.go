// Package glob is Redis's stringmatchlen, shared by the keyspace commands and ACL patterns.
package glob

// Match is Redis's stringmatchlen: case-sensitive glob matching with
// * ? [abc] [^a] [a-z] and \ escapes, including its quirks (a class left
// open at the end of the pattern, ranges compared as signed chars) and its
// early exit that keeps patterns with many '*' from taking exponential time.
// KEYS, SCAN MATCH, the collection SCANs, PSUBSCRIBE and COMMAND LIST share
// it.
func Match[P, S ~string | ~[]byte](pattern P, s S) bool {
	skip := false
	return globMatchImpl(pattern, s, &skip)
}

func globMatchImpl[P, S ~string | ~[]byte](p P, s S, skipLonger *bool) bool {
	for len(p) > 0 && len(s) > 0 {
		advance := true
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if globMatchImpl(p[1:], s, skipLonger) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			// No match for the rest anywhere: longer matches of an
			// earlier '*' cannot help either.
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) >= 2 && p[0] == '\\' {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if len(p) == 0 {
					advance = false // the pattern ended inside the class
					break
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					// C compares (signed) chars.
					start, end, ch := int8(p[0]), int8(p[2]), int8(s[0])
					if start > end {
						start, end = end, start
					}
					p = p[2:]
					if ch >= start && ch <= end {
						match = true
					}
				} else if p[0] == s[0] {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		if advance {
			p = p[1:]
		}
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
