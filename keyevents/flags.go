// Package keyevents holds the keyspace-notification classes of Redis's
// notify-keyspace-events setting: parsing the flag letters and printing them
// back in Redis's canonical form.
package keyevents

import (
	"errors"
	"strings"
)

// Class is a set of notification flags, with Redis's bit values.
type Class uint32

const (
	Keyspace Class = 1 << 0  // K: publish on __keyspace@<db>__:<key>
	Keyevent Class = 1 << 1  // E: publish on __keyevent@<db>__:<event>
	Generic  Class = 1 << 2  // g: del, expire, rename...
	String   Class = 1 << 3  // $
	List     Class = 1 << 4  // l
	Set      Class = 1 << 5  // s
	Hash     Class = 1 << 6  // h
	ZSet     Class = 1 << 7  // z
	Expired  Class = 1 << 8  // x
	Evicted  Class = 1 << 9  // e
	Stream   Class = 1 << 10 // t
	KeyMiss  Class = 1 << 11 // m (not part of A, as in Redis)
	Module   Class = 1 << 13 // d
	New      Class = 1 << 14 // n (not part of A, as in Redis)

	// All is the A alias.
	All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module
)

// ErrBadClass is Redis's text for an unknown flag letter.
var ErrBadClass = errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")

// Parse reads flag letters as Redis's keyspaceEventsStringToFlags does.
func Parse(s string) (Class, error) {
	var c Class
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			c |= All
		case 'g':
			c |= Generic
		case '$':
			c |= String
		case 'l':
			c |= List
		case 's':
			c |= Set
		case 'h':
			c |= Hash
		case 'z':
			c |= ZSet
		case 'x':
			c |= Expired
		case 'e':
			c |= Evicted
		case 'K':
			c |= Keyspace
		case 'E':
			c |= Keyevent
		case 't':
			c |= Stream
		case 'm':
			c |= KeyMiss
		case 'd':
			c |= Module
		case 'n':
			c |= New
		default:
			return 0, ErrBadClass
		}
	}
	return c, nil
}

// Format prints c as Redis 7.0's keyspaceEventsFlagsToString does, with
// one exception: Redis 7.0 prints A alone and hides 'n' (which stays on
// inside Redis); here 'n' is then printed last, because the printed form is
// what is stored and parsed again, and 'n' must survive it.
// A known, deliberate difference: CONFIG GET shows "AKEn" where 7.0 shows "AKE".
func (c Class) Format() string {
	var b strings.Builder
	if c&All == All {
		b.WriteByte('A')
	} else {
		for _, f := range []struct {
			c  Class
			ch byte
		}{{Generic, 'g'}, {String, '$'}, {List, 'l'}, {Set, 's'}, {Hash, 'h'}, {ZSet, 'z'}, {Expired, 'x'}, {Evicted, 'e'}, {Stream, 't'}, {Module, 'd'}, {New, 'n'}} {
			if c&f.c != 0 {
				b.WriteByte(f.ch)
			}
		}
	}
	if c&Keyspace != 0 {
		b.WriteByte('K')
	}
	if c&Keyevent != 0 {
		b.WriteByte('E')
	}
	if c&KeyMiss != 0 {
		b.WriteByte('m')
	}
	if c&All == All && c&New != 0 {
		b.WriteByte('n')
	}
	return b.String()
}

// Canonical validates s and returns the form CONFIG GET shows.
func Canonical(s string) (string, error) {
	c, err := Parse(s)
	if err != nil {
		return "", err
	}
	return c.Format(), nil
}
