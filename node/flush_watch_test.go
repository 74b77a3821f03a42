package node

import "testing"

// FLUSHDB and FLUSHALL make EXEC fail only for clients watching a key that
// existed (Redis 7), compared with redis-server on the same sequences.
func TestFlushWatchSideBySide(t *testing.T) {
	p := newPair(t)
	for _, flush := range []string{"flushdb", "flushall"} {
		for _, watched := range []string{"present", "absent", "present absent", "expired"} {
			p.both(t, "flushall")
			p.both(t, "set", "present", "1")
			p.both(t, "set", "expired", "1", "px", "1")
			p.both(t, "debug", "sleep", "0.01") // expired before WATCH on both
			args := append([]string{"watch"}, cmds(watched)[0]...)
			p.same(t, args)
			p.same(t, []string{flush}, []string{"multi"}, []string{"ping"}, []string{"exec"})
		}
		// Another database's flush leaves this one's watch alone.
		p.both(t, "flushall")
		p.both(t, "set", "present", "1")
		p.same(t, []string{"watch", "present"}, []string{"select", "1"}, []string{"flushdb"}, []string{"select", "0"},
			[]string{"multi"}, []string{"ping"}, []string{"exec"})
	}
}
