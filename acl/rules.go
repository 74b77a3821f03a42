package acl

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// KeyPerm is what a key pattern (or a key access) allows (needs).
type KeyPerm uint8

const (
	PermRead  KeyPerm = 1
	PermWrite KeyPerm = 2
	PermAll           = PermRead | PermWrite
)

type keyPattern struct {
	perm    KeyPerm
	pattern string
}

// selector is Redis's aclSelector: commands, keys and channels a user may
// use. A user has a root selector plus any number of "(...)" ones.
type selector struct {
	root        bool
	allowed     [words]uint64
	allCommands bool // SELECTOR_FLAG_ALLCOMMANDS: skip the bitmap
	firstArgs   map[int][]string
	allKeys     bool
	allChannels bool
	keys        []keyPattern
	channels    []string
}

func (s *selector) clone() *selector {
	n := *s
	n.keys = append([]keyPattern(nil), s.keys...)
	n.channels = append([]string(nil), s.channels...)
	if s.firstArgs != nil {
		n.firstArgs = make(map[int][]string, len(s.firstArgs))
		for k, v := range s.firstArgs {
			n.firstArgs[k] = append([]string(nil), v...)
		}
	}
	return &n
}

func (s *selector) bit(id int) bool { return s.allowed[id/64]&(1<<(id%64)) != 0 }

func (s *selector) setBit(id int, v bool) {
	if v {
		s.allowed[id/64] |= 1 << (id % 64)
	} else {
		s.allowed[id/64] &^= 1 << (id % 64)
		s.allCommands = false
	}
}

// changePerm is ACLChangeSelectorPerm: a container's subcommands follow it.
func (s *selector) changePerm(cat *Catalog, id int, allow bool) {
	s.setBit(id, allow)
	delete(s.firstArgs, id)
	for _, sub := range cat.cmds[id].subs {
		s.setBit(sub, allow)
	}
}

func (s *selector) setCategory(cat *Catalog, bit uint32, allow bool) {
	for _, id := range cat.top {
		s.setCategoryIn(cat, id, bit, allow)
	}
}

func (s *selector) setCategoryIn(cat *Catalog, id int, bit uint32, allow bool) {
	if cat.cmds[id].cats&bit != 0 {
		s.changePerm(cat, id, allow)
	}
	for _, sub := range cat.cmds[id].subs {
		s.setCategoryIn(cat, sub, bit, allow)
	}
}

// errCode names Redis's errno-based rule errors.
type errCode int

const (
	errSyntax      errCode = iota + 1 // EINVAL
	errUnknown                        // ENOENT
	errAfterAllKey                    // EEXIST
	errAfterAllCh                     // EISDIR
	errNoSuchPass                     // ENODEV
	errBadHash                        // EBADMSG
	errFirstArgSub                    // ECHILD
	errUnmatched                      // unmatched parenthesis
)

var errTexts = map[errCode]string{
	errSyntax:      "Syntax error",
	errUnknown:     "Unknown command or category name in ACL",
	errAfterAllKey: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
	errAfterAllCh:  "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
	errNoSuchPass:  "The password you are trying to remove from the user does not exist",
	errBadHash:     "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
	errFirstArgSub: "Allowing first-arg of a subcommand is not supported",
	errUnmatched:   "Unmatched parenthesis",
}

// RuleError is a rule ACL SETUSER (or the ACL file) could not apply.
type RuleError struct {
	Op   string
	code errCode
}

// Reason is Redis's description of the failure (ACLSetUserStringError).
func (e *RuleError) Reason() string { return errTexts[e.code] }

// UnknownName reports an unknown command or category (the ACL file
// names the operation only for those).
func (e *RuleError) UnknownName() bool { return e.code == errUnknown }

func (e *RuleError) Error() string {
	if e.code == errUnmatched {
		return "Unmatched parenthesis in acl selector starting at '" + e.Op + "'."
	}
	return "Error in ACL SETUSER modifier '" + e.Op + "': " + e.Reason()
}

func hasSpace(s string) bool { return strings.ContainsAny(s, " \t\r\n") }

// apply is ACLSetSelector: one rule on one selector.
func (s *selector) apply(cat *Catalog, op string) errCode {
	switch {
	case strings.EqualFold(op, "allkeys") || op == "~*":
		s.allKeys, s.keys = true, nil
	case strings.EqualFold(op, "resetkeys"):
		s.allKeys, s.keys = false, nil
	case strings.EqualFold(op, "allchannels") || op == "&*":
		s.allChannels, s.channels = true, nil
	case strings.EqualFold(op, "resetchannels"):
		s.allChannels, s.channels = false, nil
	case strings.EqualFold(op, "allcommands") || strings.EqualFold(op, "+@all"):
		for i := range s.allowed {
			s.allowed[i] = ^uint64(0)
		}
		s.allCommands, s.firstArgs = true, nil
	case strings.EqualFold(op, "nocommands") || strings.EqualFold(op, "-@all"):
		s.allowed = [words]uint64{}
		s.allCommands, s.firstArgs = false, nil
	case op[0] == '~' || op[0] == '%':
		if s.allKeys {
			return errAfterAllKey
		}
		perm, off := PermAll, 1
		if op[0] == '%' {
			perm = 0
			for ; off < len(op); off++ {
				switch c := op[off]; {
				case (c == 'R' || c == 'r') && perm&PermRead == 0:
					perm |= PermRead
				case (c == 'W' || c == 'w') && perm&PermWrite == 0:
					perm |= PermWrite
				case c == '~':
					off++
					goto done
				default:
					return errSyntax
				}
			}
		done:
			// Redis 7.0 accepts "%~p" (no permission) and then panics
			// describing it; warden refuses it.
			if perm == 0 {
				return errSyntax
			}
		}
		if off > len(op) {
			off = len(op)
		}
		pat := op[off:]
		if hasSpace(pat) {
			return errSyntax
		}
		for i := range s.keys {
			if s.keys[i].pattern == pat {
				s.keys[i].perm |= perm
				return 0
			}
		}
		s.keys = append(s.keys, keyPattern{perm: perm, pattern: pat})
	case op[0] == '&':
		if s.allChannels {
			return errAfterAllCh
		}
		pat := op[1:]
		if hasSpace(pat) {
			return errSyntax
		}
		for _, c := range s.channels {
			if c == pat {
				return 0
			}
		}
		s.channels = append(s.channels, pat)
	case len(op) > 1 && op[0] == '+' && op[1] != '@':
		name := op[1:]
		i := strings.LastIndexByte(name, '|')
		if i < 0 {
			id, ok := lookup(cat, name)
			if !ok {
				return errUnknown
			}
			s.changePerm(cat, id, true)
			return 0
		}
		base, sub := name[:i], name[i+1:]
		id, ok := lookup(cat, base)
		if !ok {
			return errUnknown
		}
		if cat.cmds[id].parent >= 0 {
			return errFirstArgSub
		}
		if sub == "" {
			return errSyntax
		}
		if len(cat.cmds[id].subs) > 0 {
			sid, ok := lookup(cat, name)
			if !ok {
				return errUnknown
			}
			s.changePerm(cat, sid, true)
			return 0
		}
		if s.firstArgs == nil {
			s.firstArgs = map[int][]string{}
		}
		for _, a := range s.firstArgs[id] {
			if strings.EqualFold(a, sub) {
				return 0
			}
		}
		s.firstArgs[id] = append(s.firstArgs[id], sub)
	case len(op) > 1 && op[0] == '-' && op[1] != '@':
		id, ok := lookup(cat, op[1:])
		if !ok {
			return errUnknown
		}
		s.changePerm(cat, id, false)
	case len(op) > 1 && (op[0] == '+' || op[0] == '-') && op[1] == '@':
		bit, ok := categoryBit(op[2:])
		if !ok || op[2:] == "" {
			return errUnknown
		}
		s.setCategory(cat, bit, op[0] == '+')
	default:
		return errSyntax
	}
	return 0
}

// lookup is ACLLookupCommand: "name" or "container|sub", any case.
func lookup(cat *Catalog, name string) (int, bool) {
	if strings.Count(name, "|") > 1 {
		return 0, false
	}
	return cat.ID(name)
}

// HashPassword is the stored form of a password: SHA-256, lower-case hex.
func HashPassword(pass []byte) string {
	h := sha256.Sum256(pass)
	return hex.EncodeToString(h[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// MergeSelectorArgs is ACLMergeSelectorArguments: arguments from "(" to
// the one ending in ")" become one "(...)" rule, joined by spaces. On an
// unmatched parenthesis it returns the argument that opened it.
func MergeSelectorArgs(args []string) (out []string, unmatched string, ok bool) {
	open := -1
	var acc strings.Builder
	for i, a := range args {
		if len(a) > 0 && a[0] == '(' && a[len(a)-1] != ')' {
			open = i
			acc.Reset()
			acc.WriteString(a)
			continue
		}
		if open >= 0 {
			acc.WriteByte(' ')
			acc.WriteString(a)
			if len(a) > 0 && a[len(a)-1] == ')' {
				out = append(out, acc.String())
				open = -1
			}
			continue
		}
		out = append(out, a)
	}
	if open >= 0 {
		return nil, args[open], false
	}
	return out, "", true
}
