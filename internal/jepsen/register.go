package jepsen

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// regInput is a register operation for porcupine: a write of Value, or a
// read.
type regInput struct {
	Write bool
	Value string
}

// registerModel is a single register per partition (one key); the
// initial value is "" (the key does not exist).
var registerModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Metadata.(string)
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.Write {
			return true, in.Value
		}
		return output.(string) == state.(string), state
	},
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.Write {
			return fmt.Sprintf("set(%q)", in.Value)
		}
		return fmt.Sprintf("get() -> %q", output.(string))
	},
	DescribeState:             func(s any) string { return fmt.Sprintf("%q", s) },
	DescribeOperationMetadata: func(m any) string { return fmt.Sprint(m) },
}

// porcupineOps turns a register history into porcupine operations. An
// acknowledged write (OK) lasts from call to reply; an asynchronously
// acknowledged or indeterminate one may take effect at any later time, or
// never, so it never returns (the end of the history); a refused write and
// failed reads are left out.
//
// Such an open-ended write that no read returned is left out too: it
// changes no verdict (values are unique, so in any linearization no read
// sits between it and the next write, and without it the rest stays
// valid; placed last, it fits any history), while each one left in stays
// concurrent with everything after its call, and a few dozen of them on
// one key made porcupine's search run out of time.
func porcupineOps(ops []Op) []porcupine.Operation {
	var last int64
	seen := map[string]bool{}
	for _, op := range ops {
		last = max(last, op.End)
		if op.Type == "read" && op.Outcome == OK {
			seen[op.Value] = true
		}
	}
	lanes := map[int]int{}
	lane := func(p int) int {
		if id, ok := lanes[p]; ok {
			return id
		}
		lanes[p] = len(lanes)
		return lanes[p]
	}
	var out []porcupine.Operation
	for _, op := range ops {
		switch {
		case op.Type == "write" && op.Outcome == OK:
			out = append(out, porcupine.Operation{ClientId: lane(op.Process), Input: regInput{Write: true, Value: op.Value},
				Call: op.Start, Output: "", Return: op.End, Metadata: op.Key})
		case op.Type == "write" && (op.Outcome == Async || op.Outcome == Info) && seen[op.Value]:
			out = append(out, porcupine.Operation{ClientId: lane(op.Process), Input: regInput{Write: true, Value: op.Value},
				Call: op.Start, Output: "", Return: last + 1, Metadata: op.Key})
		case op.Type == "read" && op.Outcome == OK:
			out = append(out, porcupine.Operation{ClientId: lane(op.Process), Input: regInput{}, Call: op.Start,
				Output: op.Value, Return: op.End, Metadata: op.Key})
		}
	}
	return out
}

// RegisterResult is what CheckRegister found.
type RegisterResult struct {
	Keys            int
	NonLinearizable []string // keys porcupine rejected
	Anomalies       Anomalies
	// Porcupine's verdict over the rejected keys' operations, for
	// VisualizePath; nil when every key is linearizable.
	info  *porcupine.LinearizationInfo
	model porcupine.Model
}

// CheckRegister checks the "write"/"read" ops of a history: porcupine
// decides linearizability key by key (within timeout per key; a key it
// cannot decide is Unchecked), and classify names what went wrong. The
// rules run on every key, so an anomaly is reported even where porcupine
// finds a linearization (a lost write is legal for an async write).
func CheckRegister(ops []Op, timeout time.Duration) RegisterResult {
	byKey := map[string][]Op{}
	var keys []string
	for _, op := range ops {
		if op.Type != "write" && op.Type != "read" {
			continue
		}
		if _, ok := byKey[op.Key]; !ok {
			keys = append(keys, op.Key)
		}
		byKey[op.Key] = append(byKey[op.Key], op)
	}
	sort.Strings(keys)
	res := RegisterResult{Keys: len(keys), model: registerModel}
	tl := newTimeline(ops)
	var bad []porcupine.Operation
	for _, k := range keys {
		kops := byKey[k]
		found := classify(k, kops, tl)
		pops := porcupineOps(kops)
		verdict := porcupine.CheckOperationsTimeout(registerModel, pops, timeout)
		switch verdict {
		case porcupine.Illegal:
			res.NonLinearizable = append(res.NonLinearizable, k)
			bad = append(bad, pops...)
			if len(found.List) == 0 {
				found.add(Anomaly{Class: Unclassified, Key: k, Detail: "porcupine: not linearizable, no rule names why"})
			}
		case porcupine.Unknown:
			found.add(Anomaly{Class: Unchecked, Key: k, Detail: fmt.Sprintf("porcupine could not decide within %v (%d ops)", timeout, len(pops))})
		case porcupine.Ok:
			// A linearizable key has no stale read: a read the rules
			// suspect (a deposed master's value overlapping a newer
			// write) has an order that explains it. Forbidden findings
			// stay: they do not depend on an order.
			found = withoutClass(found, StaleRead)
		}
		res.Anomalies.merge(found)
	}
	if len(bad) > 0 {
		_, info := porcupine.CheckOperationsVerbose(registerModel, bad, timeout)
		res.info = &info
	}
	return res
}

// Visualize writes porcupine's HTML view of the non-linearizable keys.
func (r RegisterResult) Visualize(path string) error {
	if r.info == nil {
		return nil
	}
	return porcupine.VisualizePath(r.model, *r.info, path)
}

// effectEnd is the latest time a write can have taken effect: its reply
// for a write the master acknowledged, never known for an indeterminate
// one.
func effectEnd(w Op) int64 {
	if w.Outcome == OK || w.Outcome == Async {
		return w.End
	}
	return math.MaxInt64
}

// classify applies the anomaly rules to one key's ops. Values are unique
// per write, so a read names the write it saw.
func classify(key string, ops []Op, tl timeline) Anomalies {
	var found Anomalies
	lost := map[string]bool{} // each lost write is reported once
	flagged := map[int]bool{} // reads already explained, by index in reads
	writes := map[string]Op{}
	var acked, reads []Op
	for _, op := range ops {
		switch {
		case op.Type == "write":
			writes[op.Value] = op
			if op.Outcome == OK {
				acked = append(acked, op)
			}
		case op.Type == "read" && op.Outcome == OK:
			reads = append(reads, op)
		}
	}
	sort.Slice(reads, func(i, j int) bool { return reads[i].Start < reads[j].Start })
	firstSeen := map[string]int64{} // the earliest end of a read of each value
	for _, r := range reads {
		if t, ok := firstSeen[r.Value]; !ok || r.End < t {
			firstSeen[r.Value] = r.End
		}
	}
	// olderThan: the write of value v surely took effect before w began
	// ("" is the initial value, older than everything): it ended before,
	// or a read that ended before w began saw v (an asynchronous write
	// whose WAIT ran on past w's start: seed 1796650483908971049's r:64).
	olderThan := func(v string, w Op) bool {
		if v == "" {
			return true
		}
		if t, ok := firstSeen[v]; ok && t < w.Start {
			return true
		}
		wv, ok := writes[v]
		return ok && effectEnd(wv) < w.Start
	}
	for i, r := range reads {
		later := reads[i+1:]
		for len(later) > 0 && later[0].Start <= r.End {
			later = later[1:]
		}
		if r.Value != "" {
			w, ok := writes[r.Value]
			switch {
			case !ok:
				found.add(Anomaly{Class: DirtyRead, Key: key, Detail: fmt.Sprintf("read %q, which no client wrote", r.Value), Ops: []Op{r}})
				continue
			case w.Outcome == Fail:
				found.add(Anomaly{Class: DirtyRead, Key: key, Detail: fmt.Sprintf("read %q, whose write was refused (%s)", r.Value, w.Err), Ops: []Op{w, r}})
				continue
			case w.Start > r.End:
				found.add(Anomaly{Class: DirtyRead, Key: key, Detail: fmt.Sprintf("read %q before its write began", r.Value), Ops: []Op{w, r}})
				continue
			}
			// A read from a node the record had already replaced (seen
			// before the read began) may be stale itself: what other reads
			// saw before it says nothing about the order, only writes do.
			// A node the monitor sees named master within recordSlack
			// after the read was already the new master (the monitor polls:
			// seed 104's r:553 was read on the promoted n2 133 ms before
			// the monitor saw its epoch).
			replaced := tl.replacedBefore(r.Node, r.Start) && !tl.master(r.Node, r.Start, r.End)
			// Rolled back: a later read sees a value older than this one.
			// From a node the record no longer named master, that is a
			// deposed master's stale read; from the master, the write is
			// gone (lost if WAIT acknowledged it, else the async window).
			for k := len(reads) - len(later); k < len(reads); k++ {
				r3 := reads[k]
				// Older: its write surely preceded w, or a read that ended
				// before r began saw it (so it preceded v in any order).
				fs, seenBefore := firstSeen[r3.Value]
				if flagged[k] || r3.Value == r.Value || !(olderThan(r3.Value, w) || (!replaced && seenBefore && fs < r.Start)) {
					continue
				}
				// Unless the writes say otherwise: r3's write began after
				// r's had taken effect, so r3's value is newer and r was
				// the stale one (an asynchronous write rolled back, then
				// back again: seed 104's r:1573, a master named in the
				// record still applying its deposed predecessor's stream).
				if w3, ok := writes[r3.Value]; ok && olderThan(r.Value, w3) {
					continue
				}
				flagged[k] = true
				if tl.deposed(r3.Node, r3.Start, r3.End) {
					found.add(Anomaly{Class: StaleRead, Key: key, Detail: fmt.Sprintf("read %q, then the older %q from %s, which the record no longer named master", r.Value, r3.Value, r3.Node), Ops: []Op{w, r, r3}})
					break
				}
				c, why := AsyncRollback, "acknowledged only asynchronously"
				switch w.Outcome {
				case OK:
					c, why = LostWrite, "acknowledged by WAIT"
				case Info:
					why = "indeterminate"
				}
				if c != LostWrite || !lost[w.Value] {
					lost[w.Value] = c == LostWrite
					found.add(Anomaly{Class: c, Key: key, Detail: fmt.Sprintf("read %q (%s), then the master %s answered the older %q", r.Value, why, r3.Node, r3.Value), Ops: []Op{w, r, r3}})
				}
				break
			}
		}
		if flagged[i] {
			continue
		}
		// Overwritten: a WAIT-acknowledged write newer than the value read
		// had completed before the read began.
		// From a deposed master, a value whose write merely overlapped the
		// acknowledged one is stale too: the acknowledged write was on the
		// new master before the read began.
		deposed := tl.deposed(r.Node, r.Start, r.End)
		wr, hasW := writes[r.Value]
		var newest *Op
		for j := range acked {
			w2 := acked[j]
			if w2.Value == r.Value || w2.End >= r.Start {
				continue
			}
			if (olderThan(r.Value, w2) || (deposed && hasW && !olderThan(w2.Value, wr))) && (newest == nil || w2.End > newest.End) {
				newest = &acked[j]
			}
		}
		if newest == nil {
			continue
		}
		w2 := *newest
		if deposed {
			found.add(Anomaly{Class: StaleRead, Key: key, Detail: fmt.Sprintf("read %q after %q was acknowledged, from %s, which the record no longer named master", r.Value, w2.Value, r.Node), Ops: []Op{w2, r}})
			continue
		}
		seen := -1
		for j, r3 := range later {
			if r3.Value == w2.Value {
				seen = j
				break
			}
		}
		if seen >= 0 {
			found.add(Anomaly{Class: StaleRead, Key: key, Detail: fmt.Sprintf("read %q after %q was acknowledged; a later read saw %q again", r.Value, w2.Value, w2.Value), Ops: []Op{w2, r, later[seen]}})
			continue
		}
		if lost[w2.Value] {
			continue
		}
		// The master answered a value older than a WAIT-acknowledged
		// write, and no later read sees that write: lost.
		last := r
		if len(later) > 0 {
			last = later[len(later)-1]
		}
		lost[w2.Value] = true
		found.add(Anomaly{Class: LostWrite, Key: key, Detail: fmt.Sprintf("%q was acknowledged by WAIT (%d replicas); the master %s then answered %q and no later read sees it (last: %q)", w2.Value, w2.Acks, r.Node, r.Value, last.Value), Ops: []Op{w2, r, last}})
	}
	return found
}

// timeline is the record's masters as the monitor saw them: for telling a
// deposed master's stale read from a rollback on the real master.
type timeline struct {
	seen  []int64  // when each epoch was first seen, ascending
	addrs []string // its master's address
}

func newTimeline(ops []Op) timeline {
	var recs []Op
	for _, op := range ops {
		if op.Type == "record" {
			recs = append(recs, op)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Epoch < recs[j].Epoch })
	var tl timeline
	for _, r := range recs {
		tl.seen = append(tl.seen, r.Start)
		tl.addrs = append(tl.addrs, r.Node)
	}
	return tl
}

// recordSlack is how late the monitor may see a new epoch (it polls every
// 100 ms, each /status may take a while under load).
const recordSlack = int64(time.Second)

// replacedBefore reports whether, by t, the monitor had seen the record
// name a master other than node.
func (tl timeline) replacedBefore(node string, t int64) bool {
	i := sort.Search(len(tl.seen), func(i int) bool { return tl.seen[i] > t }) - 1
	return i >= 0 && tl.addrs[i] != node
}

// deposed reports whether node served [t0, t1] as a master the record no
// longer named: not master then, or replaced by another node's epoch seen
// within recordSlack (a stale read so close to the change is the deposed
// master's, since the new one had just been named).
func (tl timeline) deposed(node string, t0, t1 int64) bool {
	if !tl.master(node, t0, t1) {
		return true
	}
	i := sort.Search(len(tl.seen), func(i int) bool { return tl.seen[i] > t0 }) - 1
	if i < 0 || tl.addrs[i] != node {
		return false // it became master within the window
	}
	for j := i + 1; j < len(tl.seen) && tl.seen[j] <= t1+recordSlack; j++ {
		if tl.addrs[j] != node {
			return true
		}
	}
	return false
}

// master reports whether the record named node master at some time in
// [t0, t1+recordSlack]. With no record at all it answers true: without
// evidence a read is not excused.
func (tl timeline) master(node string, t0, t1 int64) bool {
	if len(tl.seen) == 0 {
		return true
	}
	i := sort.Search(len(tl.seen), func(i int) bool { return tl.seen[i] > t0 }) - 1
	if i >= 0 && tl.addrs[i] == node {
		return true
	}
	for j := i + 1; j < len(tl.seen) && tl.seen[j] <= t1+recordSlack; j++ {
		if tl.addrs[j] == node {
			return true
		}
	}
	return false
}

func withoutClass(as Anomalies, c Class) Anomalies {
	out := Anomalies{Count: map[Class]int{}}
	for _, a := range as.List {
		if a.Class != c {
			out.add(a)
		}
	}
	for k, n := range as.Count {
		if k != c && n > countOf(out.List, k) {
			out.Count[k] = n
		}
	}
	return out
}
