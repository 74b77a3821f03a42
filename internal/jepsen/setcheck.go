package jepsen

import (
	"fmt"
	"sort"
	"time"
)

// SetResult is what CheckSet found.
type SetResult struct {
	Attempted, WaitAcked, AsyncAcked, Failed, Indeterminate int
	LostWaitAcked, LostAsync                                int
	// AsyncLossAfterFault is, over the lost async-acknowledged adds
	// accepted while a fault was in force, the longest time from the
	// moment the fault was fully in (the nemesis had returned: every rule
	// in) to the SADD's reply (the master accepted it no later): a cut-off
	// master must stop within the lease. -1 if there was none.
	AsyncLossAfterFault time.Duration
	// AsyncLossAfterBegin is the same from when the nemesis began the
	// fault (it first asks the nodes who masters, then puts the rules in
	// one by one: under load that takes a few hundred ms).
	AsyncLossAfterBegin time.Duration
	// AsyncLossBeforeFault is, over the other lost async adds, the longest
	// time from the SADD's reply to the next fault (a kill, a pause): how
	// far back the crash's async window reached. -1 if there was none.
	AsyncLossBeforeFault time.Duration
	Anomalies            Anomalies
}

// CheckSet checks the "add" ops (SADD of unique values) against each
// key's final "read-set": every add acknowledged with WAIT must be
// present; a refused add, or a value no one added, must not be.
// Asynchronously acknowledged adds that are missing are counted apart
// (AsyncLost, allowed).
func CheckSet(ops []Op) SetResult {
	res := SetResult{AsyncLossAfterFault: -1, AsyncLossAfterBegin: -1, AsyncLossBeforeFault: -1}
	final := map[string]map[string]bool{}
	type window struct{ start, in, end int64 } // end -1: never healed
	var faults []window
	var stops []int64
	for _, op := range ops {
		switch {
		case op.Type == "read-set" && op.Final && op.Outcome == OK:
			m := map[string]bool{}
			for _, v := range op.Values {
				m[v] = true
			}
			final[op.Key] = m
		case op.Type == "nemesis" && op.Value == "start":
			faults = append(faults, window{start: op.Start, in: op.End, end: -1})
		case op.Type == "nemesis" && op.Value == "stop":
			stops = append(stops, op.Start)
		}
	}
	sort.Slice(faults, func(i, j int) bool { return faults[i].start < faults[j].start })
	sort.Slice(stops, func(i, j int) bool { return stops[i] < stops[j] })
	for i := range faults { // faults do not overlap: each one's stop is the first after its start
		if k := sort.Search(len(stops), func(k int) bool { return stops[k] >= faults[i].start }); k < len(stops) {
			faults[i].end = stops[k]
		}
	}
	added := map[string]map[string]Op{}
	for _, op := range ops {
		if op.Type != "add" {
			continue
		}
		res.Attempted++
		if added[op.Key] == nil {
			added[op.Key] = map[string]Op{}
		}
		added[op.Key][op.Value] = op
		present, checked := final[op.Key]
		if !checked {
			continue
		}
		switch op.Outcome {
		case OK:
			res.WaitAcked++
			if !present[op.Value] {
				res.LostWaitAcked++
				res.Anomalies.add(Anomaly{Class: LostWrite, Key: op.Key, Detail: fmt.Sprintf("SADD %s was acknowledged by WAIT (%d replicas) and is not in the final set", op.Value, op.Acks), Ops: []Op{op}})
			}
		case Async:
			res.AsyncAcked++
			if !present[op.Value] {
				res.LostAsync++
				res.Anomalies.add(Anomaly{Class: AsyncLost, Key: op.Key, Detail: fmt.Sprintf("SADD %s acknowledged, WAIT answered %d, not in the final set", op.Value, op.Acks), Ops: []Op{op}})
				acked := op.Acked
				if acked == 0 {
					acked = op.End
				}
				i := sort.Search(len(faults), func(i int) bool { return faults[i].start > acked })
				switch {
				case i > 0 && (faults[i-1].end < 0 || acked <= faults[i-1].end):
					res.AsyncLossAfterFault = max(res.AsyncLossAfterFault, time.Duration(max(0, acked-faults[i-1].in)))
					res.AsyncLossAfterBegin = max(res.AsyncLossAfterBegin, time.Duration(acked-faults[i-1].start))
				case i < len(faults):
					res.AsyncLossBeforeFault = max(res.AsyncLossBeforeFault, time.Duration(faults[i].start-acked))
				}
			}
		case Fail:
			res.Failed++
			if present[op.Value] {
				res.Anomalies.add(Anomaly{Class: DirtyRead, Key: op.Key, Detail: fmt.Sprintf("SADD %s was refused (%s) yet is in the final set", op.Value, op.Err), Ops: []Op{op}})
			}
		case Info:
			res.Indeterminate++
		}
	}
	keys := make([]string, 0, len(added))
	for k := range added {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		present, ok := final[k]
		if !ok {
			res.Anomalies.add(Anomaly{Class: Unchecked, Key: k, Detail: "no final read of the set"})
			continue
		}
		var extra []string
		for v := range present {
			if _, ok := added[k][v]; !ok {
				extra = append(extra, v)
			}
		}
		sort.Strings(extra)
		for _, v := range extra {
			res.Anomalies.add(Anomaly{Class: DirtyRead, Key: k, Detail: fmt.Sprintf("%s is in the final set but no client added it", v)})
		}
	}
	return res
}
