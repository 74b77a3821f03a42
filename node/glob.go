package node

import "github.com/wardenkv/warden/glob"

// globMatch is Redis's stringmatchlen (package glob).
func globMatch[P, S ~string | ~[]byte](pattern P, s S) bool { return glob.Match(pattern, s) }
