package acl

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Store is the set of users. Reads (AUTH, the per-command check through a
// *User) take no lock; changes take mu.
type Store struct {
	cat       *Catalog
	mu        sync.RWMutex
	users     map[string]*User
	def       *User
	pubsubAll atomic.Bool
}

// NewStore returns a store holding only the default user ("on nopass ~*
// &* +@all").
func NewStore(cat *Catalog) *Store {
	s := &Store{cat: cat, users: map[string]*User{}}
	s.def = &User{name: "default"}
	s.def.st.Store(defaultState(cat))
	s.users["default"] = s.def
	return s
}

func defaultState(cat *Catalog) *userState {
	st := newState(false)
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		st.apply(cat, op, false)
	}
	st.finish()
	return st
}

// Catalog returns the command catalog rules are resolved against.
func (s *Store) Catalog() *Catalog { return s.cat }

// SetPubsubDefault is acl-pubsub-default: whether new users and selectors
// start with allchannels.
func (s *Store) SetPubsubDefault(all bool) { s.pubsubAll.Store(all) }

// Default returns the default user.
func (s *Store) Default() *User { return s.def }

// User returns the named user or nil.
func (s *Store) User(name string) *User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.users[name]
}

// Authenticate is ACLCheckUserCredentials: the user if name/pass are
// valid and the user is enabled, else nil.
func (s *Store) Authenticate(name string, pass []byte) *User {
	u := s.User(name)
	if u == nil || !u.CheckPassword(pass) {
		return nil
	}
	return u
}

// applyRules applies ACL SETUSER's arguments to a copy of st.
func (s *Store) applyRules(st *userState, rules []string) (*userState, error) {
	merged, bad, ok := MergeSelectorArgs(rules)
	if !ok {
		return nil, &RuleError{Op: bad, code: errUnmatched}
	}
	n := st.clone()
	all := s.pubsubAll.Load()
	for _, op := range merged {
		if code := n.apply(s.cat, op, all); code != 0 {
			return nil, &RuleError{Op: op, code: code}
		}
	}
	n.finish()
	return n, nil
}

// SetUser is ACL SETUSER: creates the user if needed and applies rules,
// all or nothing. Errors are *RuleError.
func (s *Store) SetUser(name string, rules []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[name]
	base := newState(s.pubsubAll.Load())
	if u != nil {
		base = u.state()
	}
	st, err := s.applyRules(base, rules)
	if err != nil {
		return err
	}
	if u == nil {
		u = &User{name: name}
		s.users[name] = u
	}
	u.st.Store(st)
	return nil
}

// ErrDeleteDefault is ACL DELUSER default's refusal.
var ErrDeleteDefault = errors.New("ERR The 'default' user cannot be removed")

// DelUser removes users; it returns the removed ones (their connections
// must be closed, as Redis does).
func (s *Store) DelUser(names ...string) ([]*User, error) {
	for _, n := range names {
		if n == "default" {
			return nil, ErrDeleteDefault
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*User
	for _, n := range names {
		if u := s.users[n]; u != nil {
			delete(s.users, n)
			u.markDeleted()
			out = append(out, u)
		}
	}
	return out, nil
}

// markDeleted leaves the user object (connections may still hold it)
// refusing everything.
func (u *User) markDeleted() {
	st := &userState{sels: []*selector{{root: true}}, deleted: true}
	u.st.Store(st)
}

// Names returns the user names in Redis's (byte) order.
func (s *Store) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.users))
	for n := range s.users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// List is ACL LIST: one "user <name> <rules>" line per user.
func (s *Store) List() []string {
	names := s.Names()
	out := make([]string, 0, len(names))
	for _, n := range names {
		if u := s.User(n); u != nil {
			out = append(out, "user "+n+" "+u.Describe(s.cat))
		}
	}
	return out
}

// Save is the ACL file content (ACL SAVE).
func (s *Store) Save() []byte {
	var b strings.Builder
	for _, l := range s.List() {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// SetDefaultPassword is CONFIG SET requirepass: the default user's
// passwords become exactly pass ("" = nopass).
func (s *Store) SetDefaultPassword(pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op := "nopass"
	if pass != "" {
		op = ">" + pass
	}
	st, err := s.applyRules(s.def.state(), []string{"resetpass", op})
	if err == nil {
		s.def.st.Store(st)
	}
}

// parsedUser is one user line of an ACL file or a "user" directive.
type parsedUser struct {
	name string
	st   *userState
}

// parseLines is ACLLoadFromFile's parsing: every error is collected (with
// file:line), and any error means nothing is applied.
func (s *Store) parseLines(file string, lines []string) ([]parsedUser, string) {
	var errs strings.Builder
	seen := map[string]bool{}
	var out []parsedUser
	all := s.pubsubAll.Load()
	for i, line := range lines {
		num := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", file, num)
			continue
		}
		name := argv[1]
		if hasSpace(name) || name == "" {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", file, num, name)
			continue
		}
		if seen[name] {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", name, num)
			continue
		}
		seen[name] = true
		ops, _, ok := MergeSelectorArgs(argv[2:])
		if !ok {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", file, num)
			continue
		}
		st := newState(all)
		syntaxErr := false
		for _, op := range ops {
			op = strings.Trim(op, "\t\r\n")
			if code := st.apply(s.cat, op, all); code != 0 {
				re := &RuleError{Op: op, code: code}
				if re.UnknownName() {
					fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", file, num, op, re.Reason())
				} else if !syntaxErr {
					fmt.Fprintf(&errs, "%s:%d: %s. ", file, num, re.Reason())
					syntaxErr = true
				}
			}
		}
		st.finish()
		out = append(out, parsedUser{name: name, st: st})
	}
	return out, errs.String()
}

// LoadError is a refused ACL file or user directives: Msg is Redis's text
// (without "ERR ").
type LoadError struct{ Msg string }

func (e *LoadError) Error() string { return e.Msg }

const loadAbort = "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"

// Load replaces every user with those in data (ACL LOAD, aclfile at
// start). The default user keeps its identity: it takes the file's rules,
// or the initial ones if the file has none. Every other previous user
// object is retired (returned), as Redis 7.0 frees them and closes their
// connections.
func (s *Store) Load(file string, data []byte) ([]*User, error) {
	lines := strings.Split(string(data), "\n")
	parsed, errs := s.parseLines(file, lines)
	if errs != "" {
		return nil, &LoadError{Msg: errs + loadAbort}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var retired []*User
	for n, u := range s.users {
		if n != "default" {
			u.markDeleted()
			retired = append(retired, u)
		}
	}
	s.users = map[string]*User{"default": s.def}
	defSet := false
	for _, p := range parsed {
		if p.name == "default" {
			s.def.st.Store(p.st)
			defSet = true
			continue
		}
		u := &User{name: p.name}
		u.st.Store(p.st)
		s.users[p.name] = u
	}
	if !defSet {
		s.def.st.Store(defaultState(s.cat))
	}
	return retired, nil
}

// ConfigUsers applies "user" directives of the config file (name then
// rules, one string each), adding to the current users. Errors are
// reported like Redis's startup errors.
func (s *Store) ConfigUsers(directives []string) error {
	lines := make([]string, len(directives))
	for i, d := range directives {
		lines[i] = "user " + d
	}
	parsed, errs := s.parseLines("config", lines)
	if errs != "" {
		return &LoadError{Msg: errs}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range parsed {
		if p.name == "default" {
			s.def.st.Store(p.st)
			continue
		}
		u := &User{name: p.name}
		u.st.Store(p.st)
		s.users[p.name] = u
	}
	return nil
}
