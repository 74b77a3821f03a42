package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wardenkv/warden/keyspace/rdb"
)

// The replication position saved with a snapshot (Redis 7's rdbSaveInfo:
// the repl-id, repl-offset and repl-stream-db aux fields), so a replica
// restarted from its own RDB partial-resyncs instead of copying the whole
// data set again.

// replPos is a replica's position at a command boundary: the offset of
// the stream applied so far and the database the stream had selected.
// valid is false while a full resync replaces the data set.
type replPos struct {
	off   int64
	db    int
	valid bool
}

// lockReplApply holds the replica's apply loop between two commands (a
// snapshot taken meanwhile matches replica.applied); the returned function
// releases it. Take it before any partition lock: the apply loop holds it
// while it locks partitions.
func (s *Server) lockReplApply() func() {
	s.replica.applyMu.Lock()
	return s.replica.applyMu.Unlock
}

// snapshotReplInfo is the replication position of a snapshot begun now,
// or nil when there is none worth saving. Callers hold every partition and
// lockReplApply.
func (s *Server) snapshotReplInfo() *rdb.ReplInfo {
	l := &s.repl
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.replica.active.Load() {
		a := s.replica.applied
		if !a.valid {
			return nil // mid full resync: the data set is no point of any history
		}
		return &rdb.ReplInfo{ID: l.id, Offset: a.off, StreamDB: a.db}
	}
	if !l.active.Load() {
		return nil // no replica ever attached: no history to continue (as Redis)
	}
	// The next write must SELECT when lastDB is -1, so 0 is as good.
	return &rdb.ReplInfo{ID: l.id, Offset: l.offset, StreamDB: max(l.lastDB, 0)}
}

// restoreReplInfo adopts the replication position of the RDB loaded at
// startup. The data set is history ri.ID up to ri.Offset, but writes that
// followed the save may be lost: continuing ri.ID as a master could hand
// a replica that has them a different history under the same offsets. So
// it becomes replid2 (as after a promotion), with a fresh replid; a
// replica asks its master for ri.ID while it has applied nothing since
// (psyncTarget), which is exactly what it holds.
func (s *Server) restoreReplInfo(ri rdb.ReplInfo) {
	l := &s.repl
	l.mu.Lock()
	l.id2, l.secondOff = ri.ID, ri.Offset+1
	l.id = newReplID()
	l.offset = ri.Offset
	l.offsetA.Store(ri.Offset)
	l.mu.Unlock()
	s.replica.applyMu.Lock()
	s.replica.applied = replPos{off: ri.Offset, db: ri.StreamDB, valid: true}
	s.replica.applyMu.Unlock()
	s.log.Info("replication position loaded from the RDB", "replid", ri.ID, "offset", ri.Offset, "stream_db", ri.StreamDB)
}

// psyncTarget is what PSYNC asks for: this history from the next byte,
// or the previous one when nothing was applied since it ended (a restart
// from an RDB, a promotion that took no write).
func (l *replLog) psyncTarget() (id string, next int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.secondOff == l.offset+1 && l.id2 != noReplID {
		return l.id2, l.offset + 1
	}
	return l.id, l.offset + 1
}

// noReplID is replid2 when there is no previous history.
var noReplID = strings.Repeat("0", 40)

// rewriteAOFAfterSync makes the AOF the data set a full sync just loaded,
// as Redis's restartAOFAfterSYNC does: the load is not in the AOF, which
// still holds the data set from before the sync, so a restart would bring
// that back, with the stream applied after the sync on top, and without
// the master's snapshot. It waits for a snapshot in progress (a rewrite
// begun before the sync captured the old data set) and rewrites before
// the stream is applied, so nothing is acknowledged to the master before
// the AOF holds what is acknowledged. A rewrite that fails fails the link:
// the next attempt syncs again.
func (s *Server) rewriteAOFAfterSync(ctx context.Context) error {
	p := &s.persist
	for {
		p.mu.Lock()
		a, busy := p.aof, p.childDone
		p.mu.Unlock()
		if a == nil {
			return nil // appendonly no: nothing on disk claims a data set
		}
		if busy != nil {
			select {
			case <-busy:
			case <-ctx.Done():
				return ctx.Err()
			case <-s.done:
				return errShuttingDown
			}
			continue
		}
		err := s.rewriteAOF(true)
		var cb *childBusyError
		if errors.As(err, &cb) {
			continue // a snapshot began in between: wait for it
		}
		if err != nil {
			return fmt.Errorf("rewrite the AOF after the full sync: %w", err)
		}
		s.log.Info("AOF rewritten from the data set of the full sync")
		return nil
	}
}
