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
func porcupineOps(ops []Op) []porcupine.Operation {
	var last int64
	for _, op := range ops {
		last = max(last, op.End)
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
		case op.Type == "write" && (op.Outcome == Async || op.Outcome == Info):
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
	var bad []porcupine.Operation
	for _, k := range keys {
		kops := byKey[k]
		found := classify(k, kops)
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
func classify(key string, ops []Op) Anomalies {
	var found Anomalies
	lost := map[string]bool{} // each lost write is reported once
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
	// olderThan: the write of value v surely took effect before w began
	// ("" is the initial value, older than everything).
	olderThan := func(v string, w Op) bool {
		if v == "" {
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
			// Rolled back: a later read sees a value older than this one.
			for _, r3 := range later {
				if r3.Value != r.Value && olderThan(r3.Value, w) {
					c, why := AsyncRollback, "acknowledged only asynchronously"
					if w.Outcome == OK {
						c, why = LostWrite, "acknowledged by WAIT"
						if lost[w.Value] {
							break
						}
						lost[w.Value] = true
					}
					if w.Outcome == Info {
						why = "indeterminate"
					}
					found.add(Anomaly{Class: c, Key: key, Detail: fmt.Sprintf("read %q (%s), then a later read saw the older %q", r.Value, why, r3.Value), Ops: []Op{w, r, r3}})
					break
				}
			}
		}
		// Overwritten: a WAIT-acknowledged write newer than the value read
		// had completed before the read began.
		var newest *Op
		for j := range acked {
			w2 := acked[j]
			if w2.Value != r.Value && w2.End < r.Start && olderThan(r.Value, w2) && (newest == nil || w2.End > newest.End) {
				newest = &acked[j]
			}
		}
		if newest == nil {
			continue
		}
		w2 := *newest
		var seen *Op
		for j, r3 := range later {
			if r3.Value == w2.Value || (r3.Value != "" && !olderThan(r3.Value, w2)) {
				seen = &later[j]
				break
			}
		}
		if seen != nil {
			found.add(Anomaly{Class: StaleRead, Key: key, Detail: fmt.Sprintf("read %q after %q was acknowledged; a later read saw %q", r.Value, w2.Value, seen.Value), Ops: []Op{w2, r, *seen}})
			continue
		}
		if lost[w2.Value] {
			continue
		}
		if len(later) == 0 && !r.Final {
			found.add(Anomaly{Class: StaleRead, Key: key, Detail: fmt.Sprintf("read %q after %q was acknowledged; no later read to tell stale from lost", r.Value, w2.Value), Ops: []Op{w2, r}})
			continue
		}
		// No later read sees it (or this is the read after the heal): lost.
		last := r
		if len(later) > 0 {
			last = later[len(later)-1]
		}
		lost[w2.Value] = true
		found.add(Anomaly{Class: LostWrite, Key: key, Detail: fmt.Sprintf("%q was acknowledged by WAIT (%d replicas) but reads after it, to the last, see %q", w2.Value, w2.Acks, last.Value), Ops: []Op{w2, r, last}})
	}
	return found
}
