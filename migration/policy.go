// Package migration moves hash slots between shards. This file is the
// Raft leader's policy for migrations in the record, as a pure function of
// (record, reports, now): which migrations to flip (the target has every
// write of the slots) and which to roll back (an end is gone, or the move
// stalled). The data mover (snapshot + write stream from source to
// target) reports progress; the leader commits what Decide returns.
package migration

import (
	"time"

	"github.com/wardenkv/warden/raftfsm"
)

// Report is what the movers say about one migration.
type Report struct {
	// Paused: the source has stopped writes to the slots and reported
	// its final offset of their stream.
	Paused bool
	// CaughtUp: the target applied that stream up to the source's final
	// offset (and so did its replicas' stream).
	CaughtUp bool
	// Progress is the last time a mover reported bytes moved.
	Progress time.Time
	// Keys and Bytes moved so far.
	Keys, Bytes int64
}

// Health reports whether a node (by its name) is failed.
type Health func(name string) bool

// Policy bounds a migration.
type Policy struct {
	// Stall rolls back a migration without progress for this long.
	Stall time.Duration
}

// Decision is one command for the leader to commit, and why.
type Decision struct {
	Command raftfsm.Command
	Why     string
}

// Decide returns the commands the leader should commit for st's active
// migrations, oldest first. A migration flips only when its source has
// paused the slots' writes and its target caught up; it rolls back when
// either shard has no live master (a failover moves the ends: the new
// master would have to start over) or nothing moved for Policy.Stall.
func Decide(st *raftfsm.State, reports map[uint64]Report, failed Health, now time.Time, p Policy) []Decision {
	var out []Decision
	for _, m := range st.Migrations {
		if !m.Active() {
			continue
		}
		cancel := func(why string) {
			c, err := raftfsm.WithPayload(raftfsm.OpMigrationCancel, raftfsm.MigrationCancel{ID: m.ID, Reason: why, At: now.UnixMilli()})
			if err == nil {
				out = append(out, Decision{Command: c, Why: why})
			}
		}
		if why := endGone(st, m.From, failed); why != "" {
			cancel("source " + why)
			continue
		}
		if why := endGone(st, m.To, failed); why != "" {
			cancel("target " + why)
			continue
		}
		r := reports[m.ID]
		if r.Paused && r.CaughtUp {
			c, err := raftfsm.WithPayload(raftfsm.OpMigrationFlip, raftfsm.MigrationFlip{ID: m.ID, At: now.UnixMilli(), Keys: r.Keys, Bytes: r.Bytes})
			if err == nil {
				out = append(out, Decision{Command: c, Why: "target caught up with the paused source"})
			}
			continue
		}
		last := r.Progress
		if started := time.UnixMilli(m.Started); last.Before(started) {
			last = started
		}
		if p.Stall > 0 && now.Sub(last) > p.Stall {
			cancel("no progress for " + now.Sub(last).Round(time.Millisecond).String())
		}
	}
	return out
}

// endGone says why shard id cannot take part in a migration, or "".
func endGone(st *raftfsm.State, id int, failed Health) string {
	sh := st.Shard(id)
	switch {
	case sh == nil:
		return "shard is gone"
	case sh.Master == "":
		return "shard has no master"
	case failed(sh.Master):
		return "master " + sh.Master + " failed"
	}
	return ""
}
