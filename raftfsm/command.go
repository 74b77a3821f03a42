package raftfsm

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the command encoding this build writes and the newest it reads.
const Version = 1

// Op names a command.
type Op string

const (
	OpInit         Op = "init"          // topology: shard count, names, slots (first leader, once)
	OpAddNode      Op = "add_node"      // register or update a node; places new ones
	OpRemoveNode   Op = "remove_node"   // forget a node
	OpSetMaster    Op = "set_master"    // name a shard's master at epoch+1
	OpBeginHandoff Op = "begin_handoff" // manual failover: freeze the master
	OpEndHandoff   Op = "end_handoff"   // manual failover aborted
	// OpMark changes nothing: a leader appends it when the last committed
	// entry is not a command (a no-op after an election), so every FSM's
	// applied index can catch up with the commit index and leases resume.
	OpMark Op = "mark"
)

// Command is one Raft log entry.
type Command struct {
	V  int `json:"v"`
	Op Op  `json:"op"`

	Name             string `json:"name,omitempty"`
	Shards           int    `json:"shards,omitempty"`
	ReplicasPerShard int    `json:"replicas_per_shard,omitempty"`

	Node *Node  `json:"node,omitempty"`
	ID   string `json:"id,omitempty"`

	Shard     int    `json:"shard"`
	PrevEpoch uint64 `json:"prev_epoch,omitempty"` // compare-and-set guard
	Deadline  int64  `json:"deadline,omitempty"`
	Manual    bool   `json:"manual,omitempty"`
	// Unsynced (set_master): the new master never synced from the one it
	// replaces, so whatever that one took alone is lost.
	Unsynced bool `json:"unsynced,omitempty"`
	// Data is the typed payload of the newer operations (one type per
	// operation, as MigrationStart), instead of more fields here.
	Data json.RawMessage `json:"data,omitempty"`
}

// Encode serializes c at the current Version.
func Encode(c Command) ([]byte, error) {
	c.V = Version
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode %s command: %w", c.Op, err)
	}
	return b, nil
}

// Decode parses a log entry, refusing versions this build does not know.
func Decode(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode command: %w", err)
	}
	if c.V < 1 || c.V > Version {
		return c, fmt.Errorf("command version %d not supported (this build reads up to %d)", c.V, Version)
	}
	return c, nil
}

// Errors Apply returns; they are deterministic, so every node agrees.
var (
	ErrStaleEpoch  = errors.New("shard epoch changed since the decision")
	ErrUnknownNode = errors.New("unknown node")
	ErrNotReplica  = errors.New("node is not a replica of that shard")
	ErrNoShard     = errors.New("no such shard")
)
