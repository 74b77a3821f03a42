package jepsen

import "fmt"

// Class names an anomaly the checkers can report.
type Class string

const (
	// LostWrite: a write acknowledged with WAIT by a majority is gone (a
	// later read, or the final read, shows an older value; or a set misses
	// the element).
	LostWrite Class = "lost-write"
	// StaleRead: a read returned a value already overwritten by an
	// acknowledged write that had completed before the read began, and the
	// newer value shows up again later. Reads are not fenced (a cut-off
	// master answers GET until the record demotes it), so this is allowed.
	StaleRead Class = "stale-read"
	// DirtyRead: a read (or the final state) shows a value that no write
	// produced, or whose write the server refused, or a write begun after
	// the read ended.
	DirtyRead Class = "dirty-read"
	// AsyncRollback: a read saw a write acknowledged only asynchronously
	// (WAIT did not confirm it) that a failover later rolled back: the
	// async window, allowed.
	AsyncRollback Class = "async-rollback"
	// AsyncLost: a set element whose SADD was acknowledged but not
	// confirmed by WAIT is missing at the end: the async window, allowed.
	AsyncLost Class = "async-lost"
	// SplitBrainWrite: a node accepted a write at an older epoch after the
	// master of a newer epoch had already accepted one.
	SplitBrainWrite Class = "split-brain-write"
	// SlotOwnership (cluster mode): a recorded slot table in which a slot
	// has no owner or two, or a write acknowledged by a shard that did not
	// own the key's slot at the time.
	SlotOwnership Class = "slot-ownership"
	// Unclassified: porcupine found the key's history not linearizable and
	// no rule above explains it.
	Unclassified Class = "unclassified"
	// Unchecked: a check could not run (no final read, porcupine timed out).
	Unchecked Class = "unchecked"
)

// Classes in report order.
var Classes = []Class{LostWrite, DirtyRead, SplitBrainWrite, SlotOwnership, Unclassified, Unchecked, StaleRead, AsyncRollback, AsyncLost}

// Forbidden reports whether the guarantees (GUARANTEES.md) rule the class
// out; a run with any forbidden anomaly fails.
func (c Class) Forbidden() bool {
	switch c {
	case StaleRead, AsyncRollback, AsyncLost:
		return false
	}
	return true
}

// Anomaly is one finding with the operations that show it.
type Anomaly struct {
	Class  Class  `json:"class"`
	Key    string `json:"key"`
	Detail string `json:"detail"`
	Ops    []Op   `json:"ops"`
}

func (a Anomaly) String() string {
	return fmt.Sprintf("%s on %s: %s", a.Class, a.Key, a.Detail)
}

// Anomalies is a checker's findings; Count has every one, List at most
// keepPerClass of each class as evidence.
type Anomalies struct {
	Count map[Class]int
	List  []Anomaly
}

const keepPerClass = 20

func (as *Anomalies) add(a Anomaly) {
	if as.Count == nil {
		as.Count = map[Class]int{}
	}
	as.Count[a.Class]++
	if as.Count[a.Class] <= keepPerClass {
		as.List = append(as.List, a)
	}
}

func (as *Anomalies) merge(o Anomalies) {
	for c, n := range o.Count {
		if as.Count == nil {
			as.Count = map[Class]int{}
		}
		as.Count[c] += n
	}
	for _, a := range o.List {
		if countOf(as.List, a.Class) < keepPerClass {
			as.List = append(as.List, a)
		}
	}
}

func countOf(l []Anomaly, c Class) int {
	n := 0
	for _, a := range l {
		if a.Class == c {
			n++
		}
	}
	return n
}

// Forbidden is the number of forbidden anomalies.
func (as Anomalies) Forbidden() int {
	n := 0
	for c, k := range as.Count {
		if c.Forbidden() {
			n += k
		}
	}
	return n
}
