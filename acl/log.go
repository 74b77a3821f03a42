package acl

import (
	"sync"
	"time"
)

// LogEntry is one ACL LOG entry, with Redis 7.0's fields.
type LogEntry struct {
	Count      int
	Reason     Reason
	Context    string // toplevel, multi, lua
	Object     string
	Username   string
	Created    time.Time
	ClientInfo string
}

// Log is ACL LOG: newest first, similar refusals within 60s merged.
type Log struct {
	mu      sync.Mutex
	entries []*LogEntry
}

// logMergeWindow is Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA.
const logMergeWindow = 60 * time.Second

// Add records a refusal, keeping at most max entries.
func (l *Log) Add(e LogEntry, max int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Redis scans only the 10 newest entries for one to merge with.
	for i := 0; i < len(l.entries) && i < 10; i++ {
		o := l.entries[i]
		if o.Reason == e.Reason && o.Context == e.Context && o.Object == e.Object &&
			o.Username == e.Username && e.Created.Sub(o.Created) < logMergeWindow {
			o.Count++
			o.Created, o.ClientInfo = e.Created, e.ClientInfo
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = o
			return
		}
	}
	e.Count = 1
	l.entries = append([]*LogEntry{&e}, l.entries...)
	if max >= 0 && len(l.entries) > max {
		l.entries = l.entries[:max]
	}
}

// Entries returns up to n entries (n < 0: all), newest first.
func (l *Log) Entries(n int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	out := make([]LogEntry, n)
	for i := range out {
		out[i] = *l.entries[i]
	}
	return out
}

// Reset empties the log.
func (l *Log) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
