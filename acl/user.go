package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/wardenkv/warden/node/config"
)

// User is one ACL user. Its rules are an immutable state swapped whole, so
// connections authenticated as the user see a change at their next command
// without locking.
type User struct {
	name string
	st   atomic.Pointer[userState]
}

type sanitize uint8

const (
	sanitizeUnset sanitize = iota
	sanitizeOn
	sanitizeSkip
)

type userState struct {
	enabled   bool
	nopass    bool
	sanitize  sanitize
	passwords []string // SHA-256 hex
	sels      []*selector
	// allowAll: the root selector allows every command, key and channel,
	// so the per-command check is skipped (the default user).
	allowAll bool
	deleted  bool
}

// Name returns the user name.
func (u *User) Name() string { return u.name }

func (u *User) state() *userState { return u.st.Load() }

// Enabled reports whether the user may authenticate ("on").
func (u *User) Enabled() bool { st := u.state(); return st.enabled && !st.deleted }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.state().nopass }

// AllowsAll reports whether the user may run anything: the one atomic load
// the common case costs per command.
func (u *User) AllowsAll() bool { return u.state().allowAll }

// Deleted reports whether ACL DELUSER or ACL LOAD removed the user.
func (u *User) Deleted() bool { return u.state().deleted }

// CheckPassword reports whether pass authenticates an enabled user.
func (u *User) CheckPassword(pass []byte) bool {
	st := u.state()
	if !st.enabled || st.deleted {
		return false
	}
	if st.nopass {
		return true
	}
	h := sha256.Sum256(pass)
	var hx [64]byte
	const digits = "0123456789abcdef"
	for i, b := range h {
		hx[2*i], hx[2*i+1] = digits[b>>4], digits[b&15]
	}
	ok := 0
	for _, p := range st.passwords {
		ok |= subtle.ConstantTimeCompare(hx[:], []byte(p))
	}
	return ok == 1
}

func newState(pubsubAll bool) *userState {
	st := &userState{sels: []*selector{{root: true, allChannels: pubsubAll}}}
	st.finish()
	return st
}

func (st *userState) clone() *userState {
	n := *st
	n.passwords = append([]string(nil), st.passwords...)
	n.sels = make([]*selector, len(st.sels))
	for i, s := range st.sels {
		n.sels[i] = s.clone()
	}
	return &n
}

func (st *userState) finish() {
	r := st.sels[0]
	st.allowAll = r.allCommands && r.allKeys && r.allChannels
}

// apply is ACLSetUser: one user rule.
func (st *userState) apply(cat *Catalog, op string, pubsubAll bool) errCode {
	if op == "" {
		return 0
	}
	switch {
	case strings.EqualFold(op, "on"):
		st.enabled = true
	case strings.EqualFold(op, "off"):
		st.enabled = false
	case strings.EqualFold(op, "skip-sanitize-payload"):
		st.sanitize = sanitizeSkip
	case strings.EqualFold(op, "sanitize-payload"):
		st.sanitize = sanitizeOn
	case strings.EqualFold(op, "nopass"):
		st.nopass, st.passwords = true, nil
	case strings.EqualFold(op, "resetpass"):
		st.nopass, st.passwords = false, nil
	case op[0] == '>' || op[0] == '#':
		h, code := passwordHash(op)
		if code != 0 {
			return code
		}
		if !slices.Contains(st.passwords, h) {
			st.passwords = append(st.passwords, h)
		}
		st.nopass = false
	case op[0] == '<' || op[0] == '!':
		h, code := passwordHash(op)
		if code != 0 {
			return code
		}
		i := slices.Index(st.passwords, h)
		if i < 0 {
			return errNoSuchPass
		}
		st.passwords = slices.Delete(st.passwords, i, i+1)
	case op[0] == '(' && op[len(op)-1] == ')':
		s := &selector{allChannels: pubsubAll}
		if len(op) >= 2 {
			args, err := config.SplitArgs(op[1 : len(op)-1])
			if err != nil {
				return errSyntax
			}
			for _, a := range args {
				if a == "" {
					continue
				}
				// A rule ending in ')' inside a selector would end it
				// early when ACL LIST / ACL SAVE output is read back
				// (Redis accepts it and writes a file it cannot load).
				if strings.HasSuffix(a, ")") {
					return errSyntax
				}
				if code := s.apply(cat, a); code != 0 {
					return code
				}
			}
		}
		st.sels = append(st.sels, s)
	case strings.EqualFold(op, "clearselectors"):
		st.sels = st.sels[:1]
	case strings.EqualFold(op, "reset"):
		st.nopass, st.passwords = false, nil
		r := st.sels[0]
		r.allKeys, r.keys = false, nil
		r.allChannels, r.channels = pubsubAll, nil
		st.enabled = false
		st.sanitize = sanitizeOn
		st.sels = st.sels[:1]
		r.apply(cat, "-@all")
	default:
		return st.sels[0].apply(cat, op)
	}
	return 0
}

// passwordHash is the stored hash a password rule names: hashed from a
// clear-text password (> and <) or given as a hash (# and !).
func passwordHash(op string) (string, errCode) {
	if op[0] == '>' || op[0] == '<' {
		return HashPassword([]byte(op[1:])), 0
	}
	if !validHash(op[1:]) {
		return "", errBadHash
	}
	return op[1:], 0
}

// Describe is ACLDescribeUser: the user's rules as ACL LIST and the ACL
// file write them (without "user <name> ").
func (u *User) Describe(cat *Catalog) string {
	st := u.state()
	var b strings.Builder
	for _, f := range st.flags() {
		b.WriteString(f)
		b.WriteByte(' ')
	}
	for _, p := range st.passwords {
		b.WriteByte('#')
		b.WriteString(p)
		b.WriteByte(' ')
	}
	for _, s := range st.sels {
		d := s.describe(cat)
		if s.root {
			b.WriteString(d)
		} else {
			b.WriteString(" (")
			b.WriteString(d)
			b.WriteByte(')')
		}
	}
	return b.String()
}

func (st *userState) flags() []string {
	var out []string
	if st.enabled {
		out = append(out, "on")
	} else {
		out = append(out, "off")
	}
	if st.nopass {
		out = append(out, "nopass")
	}
	switch st.sanitize {
	case sanitizeSkip:
		out = append(out, "skip-sanitize-payload")
	case sanitizeOn:
		out = append(out, "sanitize-payload")
	}
	return out
}

// SelectorInfo is one selector as ACL GETUSER reports it.
type SelectorInfo struct{ Commands, Keys, Channels string }

// Info is ACL GETUSER's reply.
type Info struct {
	Flags     []string
	Passwords []string
	Root      SelectorInfo
	Selectors []SelectorInfo
}

// Info returns what ACL GETUSER reports about the user.
func (u *User) Info(cat *Catalog) Info {
	st := u.state()
	in := Info{Flags: st.flags(), Passwords: append([]string{}, st.passwords...)}
	for _, s := range st.sels {
		si := SelectorInfo{Commands: s.describeCommands(cat), Keys: s.describeKeys(), Channels: s.describeChannels(false)}
		if s.root {
			in.Root = si
		} else {
			in.Selectors = append(in.Selectors, si)
		}
	}
	return in
}

func (s *selector) describeKeys() string {
	if s.allKeys {
		return "~*"
	}
	parts := make([]string, 0, len(s.keys))
	for _, k := range s.keys {
		parts = append(parts, k.String())
	}
	return strings.Join(parts, " ")
}

func (k keyPattern) String() string {
	switch k.perm {
	case PermRead:
		return "%R~" + k.pattern
	case PermWrite:
		return "%W~" + k.pattern
	}
	return "~" + k.pattern
}

func (s *selector) describeChannels(withReset bool) string {
	if s.allChannels {
		return "&*"
	}
	parts := make([]string, 0, len(s.channels)+1)
	if withReset {
		parts = append(parts, "resetchannels")
	}
	for _, c := range s.channels {
		parts = append(parts, "&"+c)
	}
	return strings.Join(parts, " ")
}

// describe is ACLDescribeSelector.
func (s *selector) describe(cat *Catalog) string {
	var parts []string
	if k := s.describeKeys(); k != "" {
		parts = append(parts, k)
	}
	parts = append(parts, s.describeChannels(true), s.describeCommands(cat))
	return strings.Join(parts, " ")
}

// describeCommands is ACLDescribeSelectorCommandRules: +@all or -@all,
// then the categories that best fit the bitmap, then single commands
// (name order here; Redis's dict order is random per process).
func (s *selector) describeCommands(cat *Catalog) string {
	fake := &selector{}
	var rules []string
	additive := !s.bit(futureBit)
	if additive {
		rules = append(rules, "-@all")
		fake.apply(cat, "-@all")
	} else {
		rules = append(rules, "+@all")
		fake.apply(cat, "+@all")
	}
	temp := &selector{allowed: s.allowed}
	applied := make([]bool, len(Categories))
	for {
		best, mindiff, maxsame := -1, int(^uint(0)>>1), 0
		for j := range Categories {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(cat, 1<<j)
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			if same > diff && (diff < mindiff || diff == mindiff && same > maxsame) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		bit := uint32(1) << best
		fake.setCategory(cat, bit, additive)
		temp.setCategory(cat, bit, !additive)
		sign := "+@"
		if !additive {
			sign = "-@"
		}
		rules = append(rules, sign+Categories[best])
		applied[best] = true
	}
	for _, id := range cat.top {
		rules = s.describeSingle(cat, fake, rules, id)
	}
	return strings.Join(rules, " ")
}

func (s *selector) describeSingle(cat *Catalog, fake *selector, rules []string, id int) []string {
	cc := &cat.cmds[id]
	user, f := s.bit(id), fake.bit(id)
	if user != f {
		if user {
			rules = append(rules, "+"+cc.name)
		} else {
			rules = append(rules, "-"+cc.name)
		}
		fake.changePerm(cat, id, user)
	}
	for _, sub := range cc.subs {
		rules = s.describeSingle(cat, fake, rules, sub)
	}
	if !user {
		for _, a := range s.firstArgs[id] {
			rules = append(rules, "+"+cc.name+"|"+a)
		}
	}
	return rules
}

// countCategory is ACLCountCategoryBitsForSelector (hidden commands are
// not counted, so descriptions match Redis 7.0's).
func (s *selector) countCategory(cat *Catalog, bit uint32) (on, off int) {
	for id := range cat.cmds {
		cc := &cat.cmds[id]
		if cc.cats&bit == 0 || cc.hidden {
			continue
		}
		if s.bit(id) {
			on++
		} else {
			off++
		}
	}
	return on, off
}
