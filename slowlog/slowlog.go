// Package slowlog keeps Redis's slow log: the latest commands that ran at
// least slowlog-log-slower-than microseconds, newest first, with their
// arguments shortened as Redis shortens them.
package slowlog

import (
	"fmt"
	"sync"
	"time"
)

const (
	maxArgc   = 32  // SLOWLOG_ENTRY_MAX_ARGC
	maxString = 128 // SLOWLOG_ENTRY_MAX_STRING
)

// Entry is one logged command.
type Entry struct {
	ID       int64
	Time     int64 // unix seconds
	Duration int64 // microseconds
	Args     [][]byte
	Peer     string // ip:port
	Name     string // client name
}

// Log is the slow log; its zero value is empty and ready.
type Log struct {
	mu      sync.Mutex
	entries []Entry // newest first
	nextID  int64
}

// Shorten copies argv as Redis stores it: at most 32 arguments (the last
// then says how many more there were), each at most 128 bytes (then
// followed by how many more bytes there were).
func Shorten(argv [][]byte) [][]byte {
	n := min(len(argv), maxArgc)
	out := make([][]byte, n)
	for j := range n {
		a := argv[j]
		switch {
		case n != len(argv) && j == n-1:
			out[j] = fmt.Appendf(nil, "... (%d more arguments)", len(argv)-n+1)
		case len(a) > maxString:
			out[j] = fmt.Appendf(append([]byte(nil), a[:maxString]...), "... (%d more bytes)", len(a)-maxString)
		default:
			out[j] = append(make([]byte, 0, len(a)), a...) // never nil: an empty argument stays a bulk
		}
	}
	return out
}

// Add logs a command (argv already shortened and redacted) that took d,
// keeping at most maxLen entries.
func (l *Log) Add(argv [][]byte, d time.Duration, peer, name string, now time.Time, maxLen int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := Entry{ID: l.nextID, Time: now.Unix(), Duration: d.Microseconds(), Args: argv, Peer: peer, Name: name}
	l.nextID++
	l.entries = append(l.entries, Entry{})
	copy(l.entries[1:], l.entries)
	l.entries[0] = e
	if len(l.entries) > maxLen {
		clear(l.entries[maxLen:])
		l.entries = l.entries[:maxLen]
	}
}

// Get returns the newest n entries (all when n exceeds the length).
func (l *Log) Get(n int) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(n, len(l.entries))
	return append([]Entry(nil), l.entries[:n]...)
}

// Len returns the number of entries.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Reset empties the log (ids keep counting, as in Redis).
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}
