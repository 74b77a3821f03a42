// Package jepsen is a Jepsen-style fault suite for warden: a nemesis that
// injects faults from a seed, workloads that record every operation, and
// checkers that classify what the history shows (porcupine for the
// register, set membership for appends, a split-brain detector over the
// Raft record, a convergence check after healing).
package jepsen

import (
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"
)

// Outcome of an operation, as Jepsen names them.
type Outcome string

const (
	// OK: the operation took effect (for a write: SET/SADD answered OK and
	// WAIT reported enough replicas, or no WAIT was asked for).
	OK Outcome = "ok"
	// Async: a write the master acknowledged but WAIT did not confirm on a
	// majority (it may be lost on failover: the async window).
	Async Outcome = "async"
	// Fail: the server refused it (a RESP error reply): it did not happen.
	Fail Outcome = "fail"
	// Info: indeterminate (timeout, connection lost): it may or may not
	// have happened.
	Info Outcome = "info"
)

// Op is one client operation, or a nemesis/monitor event, of the history.
// Times are nanoseconds since the run started (one monotonic clock).
type Op struct {
	Process int      `json:"process"` // client lane; a lane is retired after an Info op
	Type    string   `json:"type"`    // "write", "read", "add", "read-set", "nemesis", "record", "slots"
	Key     string   `json:"key,omitempty"`
	Value   string   `json:"value,omitempty"`  // the value written, or read
	Values  []string `json:"values,omitempty"` // read-set result
	Outcome Outcome  `json:"outcome,omitempty"`
	Start   int64    `json:"start"`
	End     int64    `json:"end"`
	Node    string   `json:"node,omitempty"` // the node that answered (host:port)
	Acks    int      `json:"acks,omitempty"` // WAIT's answer
	// Acked is when SET/SADD itself was answered OK, before WAIT: the
	// master accepted the write between Start and Acked.
	Acked int64  `json:"acked,omitempty"`
	Err   string `json:"err,omitempty"`
	Final bool   `json:"final,omitempty"` // read after the run, once healed and converged
	Epoch uint64 `json:"epoch,omitempty"` // "record": the shard epoch first seen at Start
	Shard int    `json:"shard,omitempty"` // "record": the shard whose epoch it is
	// Slots is the slot table a "slots" op saw at Start (cluster mode):
	// each shard's ranges, as "shard:a-b c-d" joined by ";".
	Slots string `json:"slots,omitempty"`
	Info  string `json:"info,omitempty"` // nemesis: what was done
}

// Recorder collects a run's history from many goroutines.
type Recorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []Op
}

// NewRecorder starts the run's clock.
func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// Now is the run's clock.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Add appends an op.
func (r *Recorder) Add(op Op) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// Ops returns a copy of the history ordered by start time.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	ops := append([]Op(nil), r.ops...)
	r.mu.Unlock()
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Start < ops[j].Start })
	return ops
}

// WriteJSONL writes ops as JSON lines.
func WriteJSONL(w io.Writer, ops []Op) error {
	enc := json.NewEncoder(w)
	for i := range ops {
		if err := enc.Encode(&ops[i]); err != nil {
			return err
		}
	}
	return nil
}
