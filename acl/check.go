package acl

import (
	"strings"

	"github.com/wardenkv/warden/glob"
)

// Reason is why a command was refused, in Redis's order of relevance
// (ACL_DENIED_CMD < KEY < AUTH < CHANNEL).
type Reason int

const (
	OK Reason = iota
	DeniedCommand
	DeniedKey
	DeniedAuth
	DeniedChannel
)

// String is the reason as ACL LOG reports it.
func (r Reason) String() string {
	switch r {
	case DeniedCommand:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedAuth:
		return "auth"
	case DeniedChannel:
		return "channel"
	}
	return "ok"
}

// KeyRef is one key argument and what the command does with it.
type KeyRef struct {
	Pos  int // index in the argument vector
	Perm KeyPerm
}

// ChannelRef is one channel argument; Pattern for PSUBSCRIBE's, which must
// equal an allowed pattern literally.
type ChannelRef struct {
	Pos     int
	Pattern bool
}

// Request is one command invocation to check.
type Request struct {
	ID  int  // catalog ID of the command (or subcommand)
	Sub bool // ID is a subcommand: its first argument is Args[2]
	// NoAuth commands (AUTH, HELLO, QUIT) pass the command check.
	NoAuth bool
	Args   [][]byte // the whole argument vector
	// Keys and Channels are the key and channel arguments; callers fill
	// them only when the user restricts keys (channels): see
	// RestrictsKeys, RestrictsChannels.
	Keys     []KeyRef
	Channels []ChannelRef
}

// Check is ACLCheckAllUserCommandPerm: OK if any selector allows the
// command, else the most relevant refusal and the argument it concerns.
func (u *User) Check(cat *Catalog, r *Request) (Reason, int) {
	st := u.state()
	if st.allowAll {
		return OK, 0
	}
	best, bestPos := DeniedCommand, 0
	for _, s := range st.sels {
		res, pos := s.check(r)
		if res == OK {
			return OK, 0
		}
		if res > best || res == best && pos > bestPos {
			best, bestPos = res, pos
		}
	}
	return best, bestPos
}

func (s *selector) check(r *Request) (Reason, int) {
	if !s.allCommands && !r.NoAuth && !s.bit(r.ID) {
		idx := 1
		if r.Sub {
			idx = 2
		}
		args := s.firstArgs[r.ID]
		if len(args) == 0 || len(r.Args) <= idx {
			return DeniedCommand, 0
		}
		found := false
		for _, a := range args {
			if strings.EqualFold(a, string(r.Args[idx])) {
				found = true
				break
			}
		}
		if !found {
			return DeniedCommand, 0
		}
	}
	if !s.allKeys {
		for _, k := range r.Keys {
			if !s.keyAllowed(r.Args[k.Pos], k.Perm) {
				return DeniedKey, k.Pos
			}
		}
	}
	if !s.allChannels {
		for _, c := range r.Channels {
			if !s.channelAllowed(r.Args[c.Pos], c.Pattern) {
				return DeniedChannel, c.Pos
			}
		}
	}
	return OK, 0
}

// keyAllowed is ACLSelectorCheckKey.
func (s *selector) keyAllowed(key []byte, need KeyPerm) bool {
	if s.allKeys {
		return true
	}
	for _, p := range s.keys {
		if p.perm&need != need {
			continue
		}
		if glob.Match(p.pattern, key) {
			return true
		}
	}
	return false
}

// channelAllowed is ACLCheckChannelAgainstList.
func (s *selector) channelAllowed(ch []byte, literal bool) bool {
	if s.allChannels {
		return true
	}
	for _, p := range s.channels {
		if literal && p == string(ch) || !literal && glob.Match(p, ch) {
			return true
		}
	}
	return false
}

// CheckKey reports whether any selector lets the user touch key with perm
// (scripts and DRYRUN-like callers).
func (u *User) CheckKey(key []byte, perm KeyPerm) bool {
	for _, s := range u.state().sels {
		if s.keyAllowed(key, perm) {
			return true
		}
	}
	return false
}

// ChannelsAllowed reports whether the user may use channel (or pattern,
// literal) in every selector sense Redis checks on SUBSCRIBE.
func (u *User) ChannelAllowed(ch []byte, literal bool) bool {
	for _, s := range u.state().sels {
		if s.channelAllowed(ch, literal) {
			return true
		}
	}
	return false
}

// AllowsCommand reports whether some selector lets the user run the named
// command regardless of arguments; a name outside the catalog needs a
// selector that allows future commands (+@all).
func (u *User) AllowsCommand(cat *Catalog, name string) bool {
	st := u.state()
	if st.deleted {
		return false
	}
	id, known := cat.ID(name)
	for _, s := range st.sels {
		if s.allCommands || known && s.bit(id) || !known && s.bit(futureBit) {
			return true
		}
	}
	return false
}

// RestrictsKeys reports whether some selector limits keys (the caller
// must then fill Request.Keys).
func (u *User) RestrictsKeys() bool {
	for _, s := range u.state().sels {
		if !s.allKeys {
			return true
		}
	}
	return false
}

// RestrictsChannels is RestrictsKeys for channels.
func (u *User) RestrictsChannels() bool {
	for _, s := range u.state().sels {
		if !s.allChannels {
			return true
		}
	}
	return false
}
