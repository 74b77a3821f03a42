package jepsen

import (
	"fmt"
	"sort"
	"time"
)

// CheckSplitBrain looks for a write accepted at an older epoch after the
// master of a newer epoch had already accepted one.
//
// The evidence: the monitor's "record" ops (each shard epoch of the Raft
// record, its master's address, and when the monitor first saw it, polling
// every node's /status), and every write a node acknowledged (OK or Async,
// with the address that answered). A write on node A is put in the newest
// epoch that named A master and was seen no later than slack after the
// write's reply (the monitor sees a change late, never early). A split
// brain is a write on A at epoch e that began after a write at an epoch
// newer than e had been acknowledged: warden promotes only after the old
// master's lease has run out, so A must have stopped taking writes before
// any newer master took one. A write on a node the record never named
// master (within the slack) is reported too.
func CheckSplitBrain(ops []Op, slack time.Duration) Anomalies {
	type tenure struct {
		epoch uint64
		node  string
		seen  int64
	}
	var ts []tenure
	for _, op := range ops {
		if op.Type == "record" {
			ts = append(ts, tenure{op.Epoch, op.Node, op.Start})
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].epoch < ts[j].epoch })
	var found Anomalies
	if len(ts) == 0 {
		return found
	}
	type acked struct {
		op    Op
		epoch uint64
	}
	var ws []acked
	for _, op := range ops {
		if (op.Type != "write" && op.Type != "add") || (op.Outcome != OK && op.Outcome != Async) || op.Final {
			continue
		}
		var e uint64
		ok := false
		for _, t := range ts {
			if t.node == op.Node && t.seen <= op.End+int64(slack) {
				e, ok = t.epoch, true
			}
		}
		if !ok {
			found.add(Anomaly{Class: SplitBrainWrite, Key: op.Key, Detail: fmt.Sprintf("%s acknowledged by %s, which the record never named master", op.Value, op.Node), Ops: []Op{op}})
			continue
		}
		ws = append(ws, acked{op, e})
	}
	// firstAck[e]: the earliest reply to a write accepted at epoch e.
	firstAck := map[uint64]Op{}
	for _, a := range ws {
		if f, ok := firstAck[a.epoch]; !ok || a.op.End < f.End {
			firstAck[a.epoch] = a.op
		}
	}
	epochs := make([]uint64, 0, len(firstAck))
	for e := range firstAck {
		epochs = append(epochs, e)
	}
	sort.Slice(epochs, func(i, j int) bool { return epochs[i] < epochs[j] })
	// newer[i]: the earliest first ack over epochs[i+1:].
	newer := make([]Op, len(epochs))
	for i := len(epochs) - 1; i >= 0; i-- {
		if i+1 < len(epochs) {
			newer[i] = newer[i+1]
			if f := firstAck[epochs[i+1]]; newer[i].End == 0 || f.End < newer[i].End {
				newer[i] = f
			}
		}
	}
	for _, a := range ws {
		i := sort.Search(len(epochs), func(i int) bool { return epochs[i] >= a.epoch })
		if n := newer[i]; n.End != 0 && n.End < a.op.Start {
			found.add(Anomaly{Class: SplitBrainWrite, Key: a.op.Key,
				Detail: fmt.Sprintf("%s accepted %s at epoch %d, %v after %s had accepted %s at a newer epoch", a.op.Node, a.op.Value, a.epoch, time.Duration(a.op.Start-n.End).Round(time.Millisecond), n.Node, n.Value),
				Ops:    []Op{n, a.op}})
		}
	}
	return found
}
